"""Creation flows over the API, read only: list and read, each with its steps (the questions a new ticket answers).

Every employee reads the active flows, as the ticket creation page offers them; moderators and administrators
read inactive flows and the flows' routing groups too. Step ids are what POST /tickets answers by. Flows are
changed on the administration pages.
"""
import sqlalchemy as sa
from flask_babel import gettext as _
from marshmallow import Schema, fields
from sqlalchemy.orm import selectinload

from app import policy
from app.blueprints.api import core
from app.blueprints.api.resources import ID, catalog_view, id_listing, row_or_404
from app.blueprints.api.schemas import ListArgs, cursor_page, enum_field
from app.enums import StepType
from app.models import Flow

blp = core.resource("flows", "Creation flows with their steps: list and read.")

EVERYONES_FIELDS = ("id", "template_id", "title", "description", "position", "active", "steps")


class StepSchema(Schema):
    """One question of a flow."""

    id = fields.Integer(required=True)
    position = fields.Integer(required=True)
    type = enum_field(StepType, required=True)
    question = fields.String(required=True)
    help_text = fields.String(required=True)
    required = fields.Boolean(required=True)
    options = fields.List(fields.String(), required=True,
                          metadata={"description": "The choices of a single or multiple choice step."})
    is_title = fields.Boolean(required=True, metadata={"description": "The answer becomes the ticket's title."})


class FlowSchema(Schema):
    """A creation flow with its steps in order."""

    id = fields.Integer(required=True)
    template_id = fields.Integer(required=True)
    title = fields.String(required=True)
    description = fields.String(required=True)
    position = fields.Integer(required=True, metadata={"description": "The order flows are offered in."})
    active = fields.Boolean(required=True)
    steps = fields.List(fields.Nested(StepSchema), required=True)
    fleet_group_id = fields.Integer(allow_none=True, metadata={
        "description": "Moderators and administrators only: the group offers go to (null: the template's default)."})
    notify_group_id = fields.Integer(allow_none=True, metadata={
        "description": "Moderators and administrators only: the group told of new tickets (null: the default)."})


FlowPageSchema = cursor_page(FlowSchema, "One page of flows, by id.")


class FlowListArgs(ListArgs):
    """Filters of the flow list."""

    template = fields.Integer(validate=ID, metadata={"description": "Only flows of this template."})
    active = fields.Boolean(metadata={"description": "Moderators and administrators: only active (true) or "
                                                     "inactive (false) flows. Others see active ones only."})


def _view(flow):
    """The flow as the token's employee may see it."""
    return catalog_view(flow, EVERYONES_FIELDS)


@blp.get("")
@core.require_scope("read")
@blp.arguments(FlowListArgs, location="query", as_kwargs=True)
@blp.response(200, FlowPageSchema)
@core.documented("The flows the employee may see, by id, each with its steps.", 400, 422)
def list_flows(cursor=None, limit=50, template=None, active=None):
    query = sa.select(Flow).options(selectinload(Flow.steps))
    if not policy.can_manage_catalog(core.actor()):
        active = True  # the flows tickets can be created with (policy.can_view_flow)
    if active is not None:
        query = query.where(Flow.active.is_(active))
    if template is not None:
        query = query.where(Flow.template_id == template)
    return id_listing(query, Flow.id, cursor, limit, _view)


@blp.get("/<int:flow_id>")
@core.require_scope("read")
@blp.response(200, FlowSchema)
@core.documented("One flow with its steps.", 404)
def get_flow(flow_id):
    flow = row_or_404(Flow, flow_id, lambda row: policy.can_view_flow(core.actor(), row),
                      _("This flow does not exist or is not available to you."))
    return _view(flow)
