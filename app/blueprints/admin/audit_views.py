"""The security audit log for administrators: newest first, filtered by kind, employee, dates and client address."""
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from flask import abort, render_template, request
from flask_babel import gettext as _
from flask_login import current_user

from app import labels, policy, time_zones
from app.blueprints.admin import bp
from app.enums import AuditKind, Role
from app.extensions import db
from app.ids import parse_date, parse_id
from app.models import Employee
from app.services import audit

USER_AGENT_SHOWN = 60  # characters of the User-Agent in the table; the full text is the cell's title




@dataclass
class AuditFilters:
    """What the administrator filters by; days are the reader's local days, `end` inclusive."""

    kind: AuditKind | None = None
    employee_id: int | None = None
    start: date | None = None
    end: date | None = None
    address: str = ""
    before: int | None = None

    @classmethod
    def from_args(cls, args):
        """Read the filters from request.args, ignoring what does not fit."""
        kind = args.get("kind", "")
        return cls(
            kind=AuditKind(kind) if kind in {k.value for k in AuditKind} else None,
            employee_id=parse_id(args.get("employee")),
            start=parse_date(args.get("start")),
            end=parse_date(args.get("end")),
            address=(args.get("address") or "").strip()[:64],
            before=parse_id(args.get("before")),
        )

    def to_args(self, **changes):
        """The URL query for these filters (with `changes`), leaving empty ones out."""
        values = {
            "kind": self.kind.value if self.kind else "",
            "employee": self.employee_id or "",
            "start": self.start.isoformat() if self.start else "",
            "end": self.end.isoformat() if self.end else "",
            "address": self.address,
            "before": self.before or "",
        }
        values.update(changes)
        return {key: value for key, value in values.items() if value not in ("", None)}

    def query(self):
        """The SELECT of matching events, newest first."""
        start, end = time_zones.local_days(self.start, self.end)
        return audit.filtered(
            kind=self.kind,
            employee_id=self.employee_id,
            start=start,
            end=end,
            address=self.address,
        )


def detail_lines(event):
    """The event's detail as (label, text) pairs in the reader's language."""
    reasons = {
        "unknown_email": _("no account has this address"),
        "wrong_password": _("wrong password"),
        "deactivated": _("account deactivated"),
    }
    lines = []
    for key, value in (event.detail or {}).items():
        if key in ("from", "to") and value in {r.value for r in Role}:
            lines.append((_("from") if key == "from" else _("to"), str(labels.ROLE[Role(value)])))
        elif key == "reason":
            lines.append((_("Reason"), reasons.get(value, str(value))))
        elif key == "email":
            lines.append((_("E-mail"), str(value)))
        elif key == "sent":
            lines.append((_("Reset e-mail queued"), _("yes") if value else _("no")))
        else:
            lines.append((str(key), str(value)))
    return lines


def short_user_agent(text):
    """The User-Agent cut to USER_AGENT_SHOWN characters, with an ellipsis when cut."""
    text = text or ""
    return text if len(text) <= USER_AGENT_SHOWN else text[: USER_AGENT_SHOWN - 1] + "…"


@bp.get("/audit")
def audit_log():
    """The audit log: one page of events (keyset pagination on the id) and the filter form. Administrators only."""
    if not policy.can_read_audit_log(current_user):
        abort(403)
    filters = AuditFilters.from_args(request.args)
    events, next_before = audit.page(filters.query(), before=filters.before)
    employees = db.session.execute(sa.select(Employee.id, Employee.name).order_by(Employee.name)).all()
    return render_template(
        "admin/audit.html",
        filters=filters,
        events=events,
        next_before=next_before,
        employees=employees,
        kinds=list(AuditKind),
        detail_lines=detail_lines,
        short_user_agent=short_user_agent,
    )
