"""Templates (device types) over the API, read only: list and read, with the creation flows the employee may see.

Every employee reads templates' names, as the tickets overview's filter shows them, and the active creation flows
they can create tickets with; moderators and administrators also read the description, the ratings switch, the
archived flag and the inactive flows. Templates are changed on the administration pages.
"""
import sqlalchemy as sa
from flask_babel import gettext as _
from marshmallow import Schema, fields

from app import policy
from app.blueprints.api import core
from app.blueprints.api.resources import (
    MANAGERS_ONLY,
    catalog_view,
    id_listing,
    row_or_404,
)
from app.blueprints.api.schemas import ListArgs, cursor_page
from app.models import Template

blp = core.resource("templates", "Templates (device types) with their creation flows: list and read.")

EVERYONES_FIELDS = ("id", "name", "flows")


class TemplateFlowRef(Schema):
    """A creation flow of the template; its steps are at /flows/{id}."""

    id = fields.Integer(required=True)
    title = fields.String(required=True)
    active = fields.Boolean(required=True)


class TemplateSchema(Schema):
    """A template with the creation flows the employee may see, in the order they are offered."""

    id = fields.Integer(required=True)
    name = fields.String(required=True)
    flows = fields.List(fields.Nested(TemplateFlowRef), required=True)
    description = fields.String(**MANAGERS_ONLY)
    ratings_enabled = fields.Boolean(**MANAGERS_ONLY)
    archived = fields.Boolean(**MANAGERS_ONLY)
    created_at = fields.AwareDateTime(**MANAGERS_ONLY)


TemplatePageSchema = cursor_page(TemplateSchema, "One page of templates, by id.")


class TemplateView:
    """A template with only the flows the token's employee may see."""

    def __init__(self, template):
        self.template = template
        self.flows = [flow for flow in template.flows if policy.can_view_flow(core.actor(), flow)]

    def __getattr__(self, name):
        """Every other field is the template's own."""
        return getattr(self.template, name)


def _view(template):
    """The template as the token's employee may see it."""
    return catalog_view(TemplateView(template), EVERYONES_FIELDS)


@blp.get("")
@core.require_scope("read")
@blp.arguments(ListArgs, location="query", as_kwargs=True)
@blp.response(200, TemplatePageSchema)
@core.documented("Every template, by id.", 400, 422)
def list_templates(cursor=None, limit=50):
    return id_listing(sa.select(Template), Template.id, cursor, limit, _view)


@blp.get("/<int:template_id>")
@core.require_scope("read")
@blp.response(200, TemplateSchema)
@core.documented("One template.", 404)
def get_template(template_id):
    template = row_or_404(Template, template_id, lambda row: policy.can_use_back_office(core.actor()),
                          _("This template does not exist."))
    return _view(template)
