"""Routing groups of a template: fleet groups receive offers, notify groups hear of new tickets."""
from flask_babel import gettext as _

from app import policy
from app.enums import GroupKind
from app.extensions import db
from app.ids import parse_ids
from app.models import Employee, Group, Team
from app.services.errors import ValidationError, require
from app.services.input_checks import text
from app.services.ordering import move, renumber


def _members(employee_ids, team_ids):
    """Employees and teams named by id lists from a form; unknown ids are skipped."""
    employees = [db.session.get(Employee, i) for i in parse_ids(employee_ids)]
    teams = [db.session.get(Team, i) for i in parse_ids(team_ids)]
    return [e for e in employees if e is not None], [t for t in teams if t is not None]


def save_group(group, *, template=None, kind=None, name, employee_ids=(), team_ids=(), actor):
    """Create (group=None, with template and kind) or edit a routing group and its members. Raises ValidationError."""
    require(policy.can_manage_catalog(actor))
    name = text(name, "name", max_length=120, required=True)
    employees, teams = _members(employee_ids, team_ids)
    if group is None:
        try:
            kind = kind if isinstance(kind, GroupKind) else GroupKind(kind)
        except ValueError:
            raise ValidationError(_("Please choose fleet or notify."), field="kind") from None
        group = Group(template=template, kind=kind, position=len(template.groups))
        db.session.add(group)
    group.name, group.employees, group.teams = name, employees, teams
    db.session.commit()
    return group


def move_group(group, direction, *, actor):
    """Move a group up (-1) or down (+1); the first group of each kind is the template's default."""
    require(policy.can_manage_catalog(actor))
    same_kind = [g for g in group.template.groups if g.kind == group.kind]
    others = [g for g in group.template.groups if g.kind != group.kind]
    same_kind = move(same_kind, group, direction)
    renumber(same_kind + others if group.kind == GroupKind.FLEET else others + same_kind)
    db.session.commit()
    return group


def delete_group(group, *, actor):
    """Delete a group; flows that used it fall back to the template's default group."""
    require(policy.can_manage_catalog(actor))
    template = group.template
    for flow in template.flows:
        if flow.fleet_group_id == group.id:
            flow.fleet_group = None
        if flow.notify_group_id == group.id:
            flow.notify_group = None
    db.session.delete(group)
    db.session.flush()
    db.session.expire(template, ["groups"])
    renumber(template.groups)
    db.session.commit()
