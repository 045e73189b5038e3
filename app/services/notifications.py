"""Who hears of what (DESIGN.md §5): notifications and their outbox deliveries, written in the caller's transaction.

Rules:
- In-app rows always; extra channels per the employee's preference (services/notification_preferences.py).
- Whether someone may hear of a ticket at all is `policy.can_receive`; here only who is concerned by an event.
- WEBSOCKET (the live toast) is sent right after the commit by `after_commit` (services/live.py); PUSH and EMAIL
  wait in the outbox for the dispatcher (app/services/dispatcher.py), never inside the web request.
- Reading them (unread count, list, marking read) is services/inbox.py; their wording services/notification_wording.py.
- Webhook events are recorded here too (`webhooks.record`), in the same transaction: one place knows every event.
- Strategy ALL: every channel on its own, each with its retries. Strategy FIRST_SUCCESS: a chain over the outbox
  channels in CHAIN_ORDER (e-mail, then web push); the next link becomes due only when the previous one failed
  for good (CHAIN_ATTEMPTS attempts, or at once when it cannot be sent at all, e.g. no subscription). The live
  toast is not part of the chain: it only reaches tabs that happen to be open.
"""
from datetime import UTC, datetime

from app import policy, realtime
from app.enums import (
    RESPONSIBLE_STATES,
    Channel,
    GroupKind,
    NotificationEvent,
    OfferState,
    Origin,
    Strategy,
    Visibility,
)
from app.extensions import db
from app.models import Delivery, Notification
from app.models._types import utcnow
from app.services import live, webhooks
from app.services.notification_preferences import code_user_preference, preference_for
from app.services.receivers import code_user_receivers
from app.services.ticket_changes import actor_name

CHAIN_ORDER = (Channel.EMAIL, Channel.PUSH)
CHAIN_ATTEMPTS = 3
WAITING = datetime(2999, 1, 1, tzinfo=UTC)  # next_attempt_at of a chain link that waits for its predecessor
SUBJECT_EVENTS = policy.SUBJECT_EVENTS


def concerned_employees(event, ticket, *, actor, recipient=None, subject=None):
    """Employees concerned by `event` on `ticket` whom policy lets hear of it, before the origin filter."""
    if event == NotificationEvent.OFFER_RECEIVED:
        candidates = [recipient] if recipient is not None else []
    elif event == NotificationEvent.TICKET_CREATED:
        group = ticket.flow.effective_group(GroupKind.NOTIFY) if ticket.flow else None
        offered = {offer.employee_id for offer in ticket.offers}
        candidates = [e for e in (group.all_employees() if group else []) if e.id not in offered]
    elif event in policy.SLA_EVENTS:
        group = ticket.flow.effective_group(GroupKind.NOTIFY) if ticket.flow else ticket.template.default_group(GroupKind.NOTIFY)
        people = {offer.employee_id: offer.employee for offer in ticket.offers if offer.state in RESPONSIBLE_STATES}
        for employee in group.all_employees() if group else []:
            people.setdefault(employee.id, employee)
        candidates = list(people.values())
    else:
        people = {}
        for offer in ticket.offers:
            if offer.state == OfferState.PENDING or offer.state in RESPONSIBLE_STATES:
                people.setdefault(offer.employee_id, offer.employee)
        if event in SUBJECT_EVENTS and policy.is_employee(subject):
            people.setdefault(subject.id, subject)
        candidates = list(people.values())
    subject_id = subject.id if policy.is_employee(subject) else None
    return [
        employee
        for employee in candidates
        if policy.can_receive(employee, ticket, event, actor=actor)
        and policy.is_concerned(employee, ticket, event, subject_id=subject_id)
    ]


def record(event, ticket, *, actor, recipient=None, subject=None, update=None, **detail):
    """Write the notifications and their deliveries for `event` in the current transaction (the outbox)."""
    if update is not None:
        detail.setdefault("update_id", update.id)
        detail["excerpt"] = _excerpt(update.body)
        if update.visibility == Visibility.INTERNAL:
            detail["internal"] = True
    message = detail.pop("message", None)
    webhooks.record(event, ticket, actor=actor, subject=subject, update=update, message=message, detail=detail)
    if message is not None:
        detail["excerpt"] = _excerpt(getattr(message, "body", "") or "")
    detail = {key: _plain(value) for key, value in detail.items()}
    if subject is not None and hasattr(subject, "name"):
        detail["subject"] = subject.name
    if policy.is_employee(subject):
        detail["subject_id"] = subject.id  # the dispatcher asks policy.is_concerned again before sending
    name = str(actor_name(actor))
    actor_id = actor.id if policy.is_employee(actor) else None
    written = []
    for employee in concerned_employees(event, ticket, actor=actor, recipient=recipient, subject=subject):
        preference = preference_for(employee, event)
        if employee.id == actor_id and preference.origin != Origin.ALL:
            continue
        notification = Notification(employee=employee, ticket=ticket, event=event, actor_name=name, detail=dict(detail))
        db.session.add(notification)
        _add_deliveries(notification, preference)
        written.append(notification)
    internal = bool(detail.get("internal"))
    for receiver in code_user_receivers(event, ticket, actor=actor, update=update, internal=internal):
        preference = code_user_preference(receiver)
        if not preference.channels:
            continue
        notification = Notification(receiver=receiver, ticket=ticket, event=event, actor_name=name, detail=dict(detail))
        db.session.add(notification)
        _add_deliveries(notification, preference)
        written.append(notification)
    live.hold(written)
    return written


def _add_deliveries(notification, preference):
    """One delivery per chosen channel; a FIRST_SUCCESS chain waits link by link."""
    now = utcnow()
    if Channel.WEBSOCKET in preference.channels and notification.employee is not None:
        notification.deliveries.append(Delivery(channel=Channel.WEBSOCKET, position=0, next_attempt_at=now))
    outbox = [channel for channel in CHAIN_ORDER if channel in preference.channels]
    chained = preference.strategy == Strategy.FIRST_SUCCESS and len(outbox) > 1
    for position, channel in enumerate(outbox):
        notification.deliveries.append(
            Delivery(
                channel=channel,
                position=position + 1,
                first_success_only=chained,
                next_attempt_at=WAITING if chained and position > 0 else now,
            )
        )


def _excerpt(text, length=140):
    """A short single-line preview."""
    text = " ".join((text or "").split())
    return text if len(text) <= length else text[: length - 1] + "…"


def _plain(value):
    """JSON-friendly detail values."""
    return value if isinstance(value, str | int | float | bool | type(None)) else str(value)


def after_commit(ticket, **changes):
    """Ring the ticket's rooms, then send the live toasts and bells of the notifications just committed."""
    held = live.release()
    realtime.ticket_changed(ticket, **changes)
    live.send_live(held)


def after_commit_deleted(ticket_id):
    """Tell open pages a ticket is gone (its notifications went with it)."""
    live.release()
    realtime.ticket_deleted(ticket_id)
