"""Who hears of what (DESIGN.md §5): in-app rows written in the caller's transaction, rings after commit."""
from app import realtime
from app.enums import GroupKind, NotificationEvent, OfferState, Origin, Visibility
from app.extensions import db
from app.models import Notification, NotificationPreference
from app.services._common import actor_name

PENDING_BELLS = "ticketwerk_pending_bells"


def recipients(event, ticket, *, actor, recipient=None, subject=None):
    """Employees to tell about `event` on `ticket`, before the origin filter."""
    if event == NotificationEvent.OFFER_RECEIVED:
        return [recipient] if recipient is not None else []
    if event == NotificationEvent.TICKET_CREATED:
        group = ticket.flow.effective_group(GroupKind.NOTIFY) if ticket.flow else None
        return group.all_employees() if group else []
    people = {}
    for offer in ticket.offers:
        if offer.state in (OfferState.PENDING, OfferState.ACCEPTED, OfferState.ASSIGNED) and offer.employee.active:
            people.setdefault(offer.employee_id, offer.employee)
    if subject is not None and getattr(subject, "is_employee", False):
        people.setdefault(subject.id, subject)
    return list(people.values())


def _wants_own(employee, event):
    """Whether the employee asked to hear of their own actions for this event."""
    preference = db.session.scalar(
        db.select(NotificationPreference).filter_by(employee_id=employee.id, event=event)
    )
    return preference is not None and preference.origin == Origin.ALL


def record(event, ticket, *, actor, recipient=None, subject=None, update=None, **detail):
    """Write the in-app notifications for `event` in the current transaction (the outbox)."""
    if update is not None and update.visibility == Visibility.INTERNAL:
        detail["internal"] = True
    actor_id = actor.id if getattr(actor, "is_employee", False) else None
    written = []
    for employee in recipients(event, ticket, actor=actor, recipient=recipient, subject=subject):
        if employee.id == actor_id and not _wants_own(employee, event):
            continue
        notification = Notification(
            employee=employee,
            ticket=ticket,
            event=event,
            actor_name=str(actor_name(actor)),
            detail={key: _plain(value) for key, value in detail.items()}
            | ({"subject": subject.name} if subject is not None and hasattr(subject, "name") else {}),
        )
        db.session.add(notification)
        written.append(notification)
        db.session.info.setdefault(PENDING_BELLS, set()).add(employee.id)
    return written


def _plain(value):
    """JSON-friendly detail values."""
    return value if isinstance(value, str | int | float | bool | type(None)) else str(value)


def after_commit(ticket, **changes):
    """Ring the ticket's rooms and the bells of everyone notified in the committed transaction."""
    bells = db.session.info.pop(PENDING_BELLS, set())
    realtime.ticket_changed(ticket, **changes)
    for employee_id in bells:
        realtime.ring_bell(employee_id)


def after_commit_deleted(ticket_id):
    """Tell open pages a ticket is gone."""
    db.session.info.pop(PENDING_BELLS, None)
    realtime.ticket_deleted(ticket_id)
