"""Templates (device types) moderators maintain: create, edit, archive, delete."""
import sqlalchemy as sa
from flask_babel import gettext as _

from app import policy
from app.enums import GroupKind
from app.extensions import db
from app.models import Device, Group, Template
from app.services.errors import ValidationError, require
from app.services.input_checks import text
from app.services.ticket_counts import ticket_count


def save_template(template, *, name, description="", ratings_enabled=True, actor):
    """Create (template=None) or edit a template; a new one gets a default fleet group. Raises ValidationError."""
    require(policy.can_manage_catalog(actor))
    name = text(name, "name", max_length=120, required=True)
    description = text(description, "description", max_length=5000)
    clash = db.session.scalar(sa.select(Template).filter_by(name=name))
    if clash is not None and clash is not template:
        raise ValidationError(_("A template with this name exists already."), field="name")
    created = template is None
    if created:
        template = Template()
        db.session.add(template)
    template.name, template.description, template.ratings_enabled = name, description, bool(ratings_enabled)
    if created:
        db.session.flush()
        db.session.add(Group(template=template, kind=GroupKind.FLEET, name=_("Fleet"), position=0))
    db.session.commit()
    return template


def set_template_archived(template, archived, *, actor):
    """Archive or restore a template."""
    require(policy.can_manage_catalog(actor))
    template.archived = bool(archived)
    db.session.commit()
    return template


def delete_template(template, *, actor):
    """Delete an unused template; one with devices or tickets is archived instead. Returns 'deleted' or 'archived'."""
    require(policy.can_manage_catalog(actor))
    has_devices = db.session.scalar(sa.select(sa.func.count()).select_from(Device).filter_by(template_id=template.id))
    if has_devices or ticket_count(template_id=template.id):
        template.archived = True
        db.session.commit()
        return "archived"
    for element in list(template.elements):
        for button in list(element.buttons):
            db.session.delete(button)
    db.session.flush()
    for row in list(template.flows) + list(template.elements) + list(template.groups):
        db.session.delete(row)
    db.session.flush()
    db.session.delete(template)
    db.session.commit()
    return "deleted"
