"""How services record a change to a ticket: who acted, the audit trail, the optimistic lock and the append lock."""
import functools

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm.exc import StaleDataError

from app import policy
from app.extensions import db
from app.ids import parse_id
from app.models import Employee, Ticket, TicketEvent
from app.models._types import utcnow
from app.services import reports
from app.services.errors import ConflictError, NotFound


def actor_fields(actor, prefix):
    """Column values naming the actor: {prefix}_employee_id or {prefix}_code_user_id."""
    if actor is None:
        return {}
    if policy.is_employee(actor):
        return {f"{prefix}_employee_id": actor.id}
    return {f"{prefix}_code_user_id": actor.id}


def actor_name(actor):
    """How the actor appears in timelines and notifications."""
    if actor is None:
        return _("System")
    if policy.is_employee(actor):
        return actor.name
    return _("Code user")


def record_event(ticket, kind, *, actor, before=None, after=None, subject=None):
    """Write one audit-trail entry and mark the ticket as changed (bumps its version)."""
    event = TicketEvent(
        ticket=ticket,
        kind=kind,
        before=None if before is None else str(before),
        after=None if after is None else str(after),
        subject_employee_id=subject.id if subject is not None else None,
        **actor_fields(actor, "actor"),
    )
    db.session.add(event)
    touch(ticket)
    return event


def touch(ticket):
    """Record activity; the row update also moves the optimistic-lock version."""
    ticket.last_activity_at = utcnow()


def lock_for_append(ticket, *, activity=True):
    """Take the ticket's row lock for an append and reload the ticket as committed now; never moves its version.

    Appending a message, an update or a read marker is not an edit of the ticket (DESIGN.md §7): it must not
    fail because someone else wrote at the same moment. A plain UPDATE of `last_activity_at` (Core, so the
    optimistic-lock version stays) waits for a concurrent writer on PostgreSQL and takes SQLite's write lock;
    the reload then shows the status and visibility the policy must be checked against. With `activity=False`
    the row is locked without changing it (read markers). Raises NotFound when the ticket was deleted meanwhile.
    """
    table = Ticket.__table__
    value = utcnow() if activity else table.c.last_activity_at
    result = db.session.execute(sa.update(table).where(table.c.id == ticket.id).values(last_activity_at=value))
    if result.rowcount == 0:
        raise NotFound(_("This ticket does not exist or is not available to you."))
    db.session.refresh(ticket)
    return ticket


def check_version(ticket, expected_version):
    """Refuse a change made on an outdated view of the ticket.

    `expected_version`: the version the person saw (int, or the form's str); None or blank skips the check. A
    value that names no version (not ASCII digits, out of range) is an outdated view too: ConflictError (409),
    like a version that moved on, never a ValueError."""
    if expected_version is None or (isinstance(expected_version, str) and not expected_version.strip()):
        return
    if parse_id(expected_version) != ticket.version:
        raise ConflictError(conflict_message(ticket), ticket_id=ticket.id)


def conflict_message(ticket):
    """'The ticket changed meanwhile (by X).' with the latest actor where known."""
    latest = db.session.scalar(
        db.select(TicketEvent).where(TicketEvent.ticket_id == ticket.id).order_by(TicketEvent.id.desc()).limit(1)
    )
    who = None
    if latest is not None and latest.actor_employee_id:
        employee = db.session.get(Employee, latest.actor_employee_id)
        who = employee.name if employee else None
    if who:
        return _("The ticket was changed meanwhile by %(name)s. Nothing was saved; please check and try again.", name=who)
    return _("The ticket was changed meanwhile. Nothing was saved; please check and try again.")


def commit_ticket(ticket):
    """Commit the change with the report data brought up to date in the same transaction; a lost race surfaces as
    StaleDataError, which `guards_conflicts` turns into ConflictError."""
    reports.sync_ticket(ticket)
    db.session.commit()


def guards_conflicts(operation):
    """Wrap a service taking the ticket first: a lost optimistic-lock race rolls back and raises ConflictError."""

    @functools.wraps(operation)
    def guarded(ticket, *args, **kwargs):
        """Run the operation; convert a stale write into a clear conflict."""
        ticket_id = sa.inspect(ticket).identity[0] if sa.inspect(ticket).identity else None
        try:
            return operation(ticket, *args, **kwargs)
        except StaleDataError as error:
            db.session.rollback()
            fresh = db.session.get(type(ticket), ticket_id, populate_existing=True) if ticket_id else None
            message = conflict_message(fresh) if fresh is not None else _("The ticket was deleted meanwhile.")
            raise ConflictError(message, ticket_id=ticket_id) from error

    return guarded
