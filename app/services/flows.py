"""Ticket creation flows of a template and their steps: the questions code users and employees answer."""
import sqlalchemy as sa
from flask_babel import gettext as _

from app import policy
from app.enums import SYSTEM_STEP_TYPES, GroupKind, StepType
from app.extensions import db
from app.models import ActionButton, Flow, Group, Step
from app.services.errors import ValidationError, require
from app.services.input_checks import optional_row, text
from app.services.ordering import move, remove, renumber
from app.services.ticket_counts import ticket_count

EDITABLE_STEP_TYPES = [kind for kind in StepType if kind not in SYSTEM_STEP_TYPES]
CHOICE_STEP_TYPES = frozenset({StepType.SINGLE_CHOICE, StepType.MULTI_CHOICE})


def _template_group(template, value, kind, field):
    """An optional group id that must belong to `template` and be of `kind`."""
    group = optional_row(Group, value, field, _("Please choose a group of this template."))
    if group is not None and (group.template_id != template.id or group.kind != kind):
        raise ValidationError(_("Please choose a group of this template."), field=field)
    return group


def save_flow(flow, *, template=None, title, description="", fleet_group_id=None, notify_group_id=None, actor):
    """Create (flow=None, with template; inactive) or edit a flow's title, description and groups.

    Raises ValidationError.
    """
    require(policy.can_manage_catalog(actor))
    template = template or flow.template
    title = text(title, "title", max_length=120, required=True)
    description = text(description, "description", max_length=5000)
    fleet = _template_group(template, fleet_group_id, GroupKind.FLEET, "fleet_group_id")
    notify = _template_group(template, notify_group_id, GroupKind.NOTIFY, "notify_group_id")
    if flow is None:
        flow = Flow(template=template, position=len(template.flows), active=False)
        db.session.add(flow)
    flow.title, flow.description, flow.fleet_group, flow.notify_group = title, description, fleet, notify
    db.session.commit()
    return flow


def set_flow_active(flow, active, *, actor):
    """Offer the flow to code users and employees, or stop; ValidationError when a flow without steps should go live."""
    require(policy.can_manage_catalog(actor))
    if active and not flow.steps:
        raise ValidationError(_("Add at least one step before activating the flow."), field="active")
    flow.active = bool(active)
    db.session.commit()
    return flow


def delete_flow(flow, *, actor):
    """Delete a flow without tickets; one with tickets is deactivated instead. Returns 'deleted' or 'deactivated'."""
    require(policy.can_manage_catalog(actor))
    if ticket_count(flow_id=flow.id):
        flow.active = False
        db.session.commit()
        return "deactivated"
    template = flow.template
    db.session.execute(sa.update(ActionButton).where(ActionButton.target_flow_id == flow.id).values(target_flow_id=None))
    db.session.delete(flow)
    db.session.flush()
    db.session.expire(template, ["flows"])
    renumber(template.flows)
    db.session.commit()
    return "deleted"


def move_flow(flow, direction, *, actor):
    """Change the order flows are offered in: up (-1) or down (+1)."""
    require(policy.can_manage_catalog(actor))
    move(flow.template.flows, flow, direction)
    db.session.commit()


def parse_options(text_value):
    """One option per non-empty line, duplicates dropped, order kept: a list of strings."""
    seen = []
    for line in (text_value or "").splitlines():
        line = line.strip()
        if line and line not in seen:
            seen.append(line)
    return seen


def save_step(step, *, flow=None, type, question, help_text="", required=False, options="", is_title=False, actor):
    """Create (step=None, with flow) or edit a step; checks type, options and the single title step.

    Raises ValidationError.
    """
    require(policy.can_manage_catalog(actor))
    flow = flow or step.flow
    try:
        kind = type if isinstance(type, StepType) else StepType(type)
    except ValueError:
        kind = None
    if kind is None or kind in SYSTEM_STEP_TYPES:
        raise ValidationError(_("Please choose a step type."), field="type")
    question = text(question, "question", max_length=255, required=True)
    help_text = text(help_text, "help_text", max_length=2000)
    option_list = parse_options(options) if not isinstance(options, list) else options
    if kind in CHOICE_STEP_TYPES:
        if len(option_list) < 2:
            raise ValidationError(_("A choice step needs at least two options, one per line."), field="options")
        if any(len(option) > 120 for option in option_list):
            raise ValidationError(_("Each option may have at most 120 characters."), field="options")
    else:
        option_list = []
    is_title = bool(is_title)
    if is_title and kind != StepType.TEXT_SHORT:
        raise ValidationError(_("Only a short text step can be the ticket title."), field="is_title")
    if is_title and any(other.is_title and other is not step for other in flow.steps):
        raise ValidationError(_("Another step of this flow is already the ticket title."), field="is_title")
    if step is None:
        step = Step(flow=flow, position=len(flow.steps))
        db.session.add(step)
    step.type, step.question, step.help_text = kind, question, help_text
    step.required, step.options, step.is_title = bool(required), option_list, is_title
    db.session.commit()
    return step


def move_step(step, direction, *, actor):
    """Move a step one place up (-1) or down (+1)."""
    require(policy.can_manage_catalog(actor))
    move(step.flow.steps, step, direction)
    db.session.commit()


def delete_step(step, *, actor):
    """Remove a step (a flow left without steps is deactivated); tickets made earlier keep their copied answers."""
    require(policy.can_manage_catalog(actor))
    flow = step.flow
    remove(flow.steps, step)
    if not flow.steps:
        flow.active = False
    db.session.commit()
