"""Who hears of what (DESIGN.md §5): notifications and their outbox deliveries, written in the caller's transaction.

Rules:
- In-app rows always; extra channels per the employee's preference (or the defaults below).
- WEBSOCKET (the live toast) is sent right after the commit by `after_commit`; PUSH and EMAIL wait in the
  outbox for the dispatcher (app/services/dispatcher.py), never inside the web request.
- Strategy ALL: every channel on its own, each with its retries. Strategy FIRST_SUCCESS: a chain over the outbox
  channels in CHAIN_ORDER (e-mail, then web push); the next link becomes due only when the previous one failed
  for good (CHAIN_ATTEMPTS attempts, or at once when it cannot be sent at all, e.g. no subscription). The live
  toast is not part of the chain: it only reaches tabs that happen to be open.
- Code users (TicketReceiver rows) hear only of PUBLIC tickets, never of internal updates, and not of their own
  actions.
"""
import os
from datetime import UTC, datetime

import sqlalchemy as sa
from flask import current_app, has_request_context, request
from flask_babel import force_locale
from flask_babel import gettext as _

from app import policy, realtime
from app.enums import (
    RESPONSIBLE_STATES,
    Channel,
    DeliveryStatus,
    GroupKind,
    NotificationEvent,
    OfferState,
    Origin,
    Strategy,
    Visibility,
)
from app.extensions import db
from app.models import (
    Delivery,
    Notification,
    NotificationPreference,
    PushSubscription,
    TicketReceiver,
)
from app.models._types import utcnow
from app.services.errors import NotFound, require
from app.services.ticket_changes import actor_name

PENDING_LIVE = "ticketwerk_pending_live"
CHAIN_ORDER = (Channel.EMAIL, Channel.PUSH)
CHAIN_ATTEMPTS = 3
WAITING = datetime(2999, 1, 1, tzinfo=UTC)  # next_attempt_at of a chain link that waits for its predecessor
DEFAULT_EMAIL_EVENTS = frozenset(
    {NotificationEvent.OFFER_RECEIVED, NotificationEvent.TICKET_CREATED, NotificationEvent.MESSAGE_POSTED}
)
CODE_USER_EVENTS = frozenset(
    {
        NotificationEvent.OFFER_ACCEPTED,
        NotificationEvent.ASSIGNED,
        NotificationEvent.STATUS_CHANGED,
        NotificationEvent.REOPENED,
        NotificationEvent.MESSAGE_POSTED,
        NotificationEvent.UPDATE_POSTED,
    }
)
SUBJECT_EVENTS = frozenset({NotificationEvent.ASSIGNED, NotificationEvent.WITHDRAWN})


# ---------------------------------------------------------------- preferences


class Preference:
    """An employee's effective choice for one event: channels, origin and strategy."""

    def __init__(self, channels, origin=Origin.OTHERS, strategy=Strategy.ALL, stored=False):
        self.channels = set(channels)
        self.origin = origin
        self.strategy = strategy
        self.stored = stored


def mail_configured():
    """Whether an SMTP server is configured."""
    return bool(current_app.config.get("MAIL_SERVER"))


def has_push_subscription(employee_id=None, receiver_id=None):
    """Whether the employee (or code-user receiver) has at least one subscribed browser."""
    query = sa.select(PushSubscription.id)
    query = query.filter_by(employee_id=employee_id) if employee_id else query.filter_by(receiver_id=receiver_id)
    return db.session.scalar(query.limit(1)) is not None


def default_preference(employee, event):
    """The preference an employee has without a stored row."""
    channels = {Channel.WEBSOCKET}
    if event in DEFAULT_EMAIL_EVENTS and mail_configured():
        channels.add(Channel.EMAIL)
    if has_push_subscription(employee_id=employee.id):
        channels.add(Channel.PUSH)
    return Preference(channels)


def stored_preferences(employee):
    """The employee's stored rows by event."""
    rows = db.session.scalars(sa.select(NotificationPreference).filter_by(employee_id=employee.id))
    return {row.event: row for row in rows}


def preference_for(employee, event, stored=None):
    """The effective preference: the stored row, else the defaults."""
    stored = stored_preferences(employee) if stored is None else stored
    row = stored.get(event)
    if row is None:
        return default_preference(employee, event)
    return Preference(row.channel_set, row.origin, row.strategy, stored=True)


def save_preferences(employee, choices):
    """Store {event: (channels, origin, strategy)} for the employee; the caller commits."""
    existing = stored_preferences(employee)
    for event, (channels, origin, strategy) in choices.items():
        row = existing.get(event) or NotificationPreference(employee_id=employee.id, event=event)
        row.channels = [channel.name for channel in Channel if channel in channels]
        row.origin = origin
        row.strategy = strategy
        db.session.add(row)


def update_preferences(choices, *, actor):
    """Store the employee's own {event: (channels, origin, strategy)} choices."""
    require(policy.is_employee(actor))
    save_preferences(actor, choices)
    db.session.commit()


# ---------------------------------------------------------------- recipients


def recipients(event, ticket, *, actor, recipient=None, subject=None):
    """Employees to tell about `event` on `ticket`, before the origin filter."""
    if event == NotificationEvent.OFFER_RECEIVED:
        return [recipient] if recipient is not None and recipient.active else []
    if event == NotificationEvent.TICKET_CREATED:
        group = ticket.flow.effective_group(GroupKind.NOTIFY) if ticket.flow else None
        offered = {offer.employee_id for offer in ticket.offers}
        return [e for e in (group.all_employees() if group else []) if e.id not in offered]
    people = {}
    for offer in ticket.offers:
        if (offer.state == OfferState.PENDING or offer.state in RESPONSIBLE_STATES) and offer.employee.active:
            people.setdefault(offer.employee_id, offer.employee)
    if event in SUBJECT_EVENTS and getattr(subject, "is_employee", False) and subject.active:
        people.setdefault(subject.id, subject)
    return list(people.values())


def code_user_receivers(event, ticket, *, actor, update=None, detail=None):
    """Code users registered for this ticket who may hear of `event` (PUBLIC only, never INTERNAL content)."""
    if event not in CODE_USER_EVENTS or ticket.visibility != Visibility.PUBLIC:
        return []
    if update is not None and update.visibility != Visibility.PUBLIC:
        return []
    if detail and detail.get("internal"):
        return []
    own_id = actor.id if getattr(actor, "is_code_user", False) else None
    receivers = db.session.scalars(sa.select(TicketReceiver).filter_by(ticket_id=ticket.id).order_by(TicketReceiver.id))
    return [receiver for receiver in receivers if receiver.code_user_id != own_id]


# ---------------------------------------------------------------- record


def record(event, ticket, *, actor, recipient=None, subject=None, update=None, **detail):
    """Write the notifications and their deliveries for `event` in the current transaction (the outbox)."""
    if update is not None:
        detail.setdefault("update_id", update.id)
        detail["excerpt"] = _excerpt(update.body)
        if update.visibility == Visibility.INTERNAL:
            detail["internal"] = True
    message = detail.pop("message", None)
    if message is not None:
        detail["excerpt"] = _excerpt(getattr(message, "body", "") or "")
    detail = {key: _plain(value) for key, value in detail.items()}
    if subject is not None and hasattr(subject, "name"):
        detail["subject"] = subject.name
    name = str(actor_name(actor))
    actor_id = actor.id if getattr(actor, "is_employee", False) else None
    written = []
    for employee in recipients(event, ticket, actor=actor, recipient=recipient, subject=subject):
        preference = preference_for(employee, event)
        if employee.id == actor_id and preference.origin != Origin.ALL:
            continue
        notification = Notification(employee=employee, ticket=ticket, event=event, actor_name=name, detail=dict(detail))
        db.session.add(notification)
        _add_deliveries(notification, preference)
        written.append(notification)
    for receiver in code_user_receivers(event, ticket, actor=actor, update=update, detail=detail):
        channels = set()
        if has_push_subscription(receiver_id=receiver.id):
            channels.add(Channel.PUSH)
        if receiver.email and mail_configured():
            channels.add(Channel.EMAIL)
        if not channels:
            continue
        notification = Notification(receiver=receiver, ticket=ticket, event=event, actor_name=name, detail=dict(detail))
        db.session.add(notification)
        _add_deliveries(notification, Preference(channels))
        written.append(notification)
    db.session.info.setdefault(PENDING_LIVE, []).extend(written)
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


# ---------------------------------------------------------------- after commit


def after_commit(ticket, **changes):
    """Ring the ticket's rooms, then send the live toasts and bells of the committed notifications."""
    written = db.session.info.pop(PENDING_LIVE, [])
    realtime.ticket_changed(ticket, **changes)
    send_live(written)


def after_commit_deleted(ticket_id):
    """Tell open pages a ticket is gone."""
    db.session.info.pop(PENDING_LIVE, None)
    realtime.ticket_deleted(ticket_id)


def send_live(notifications):
    """Ring the bells of notified employees and mark their websocket deliveries sent (each exactly once)."""
    employees = {}
    toasts = []
    for notification in notifications:
        if notification.id is None or notification.employee_id is None:
            continue
        employees.setdefault(notification.employee_id, notification.employee)
        for delivery in notification.deliveries:
            if delivery.channel == Channel.WEBSOCKET and claim_live(delivery.id):
                toasts.append(notification)
    if toasts:
        db.session.commit()
    toast_ids = {notification.id for notification in toasts}
    for employee_id, employee in employees.items():
        mine = [n for n in notifications if n.employee_id == employee_id and n.id in toast_ids]
        emit_live(employee, mine)


def claim_live(delivery_id):
    """Mark one pending websocket delivery sent; False when someone else already did."""
    now = utcnow()
    result = db.session.execute(
        sa.update(Delivery)
        .where(Delivery.id == delivery_id, Delivery.status == DeliveryStatus.PENDING)
        .where(sa.or_(Delivery.claimed_until.is_(None), Delivery.claimed_until < now))
        .values(status=DeliveryStatus.SENT, attempts=Delivery.attempts + 1, sent_at=now, last_error="")
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def emit_live(employee, notifications):
    """One `notification-added` ring to every open tab of the employee, with toasts for `notifications`."""
    if current_app.config.get("SOCKETIO_DISABLED"):
        return
    from app.extensions import socketio

    with force_locale(employee.language or current_app.config["BABEL_DEFAULT_LOCALE"]):
        toasts = [describe(n) | {"id": n.id} for n in notifications]
    payload = {"unread": unread_count(employee.id), "toasts": toasts}
    socketio.emit("notification-added", payload, to=realtime.user_room(employee.id))


# ---------------------------------------------------------------- reading


def unread_count(employee_id):
    """How many notifications the employee has not read."""
    query = sa.select(sa.func.count(Notification.id)).filter_by(employee_id=employee_id, read_at=None)
    return db.session.scalar(query) or 0


def mark_stack_read(notification, *, actor):
    """Mark the employee's stack of `notification` (every unread one of that ticket and event) read."""
    if notification is None or not policy.is_employee(actor) or notification.employee_id != actor.id:
        raise NotFound(_("This page does not exist or is not available to you."))
    ids = db.session.scalars(
        sa.select(Notification.id).filter_by(
            employee_id=actor.id, ticket_id=notification.ticket_id, event=notification.event, read_at=None
        )
    ).all()
    _mark_read(actor, Notification.id.in_(list(ids) + [notification.id]))


def mark_all_read(*, actor):
    """Mark every notification of the employee read."""
    require(policy.is_employee(actor))
    _mark_read(actor, sa.true())


def _mark_read(employee, condition):
    """Set read_at on the employee's unread notifications matching `condition`, and commit."""
    db.session.execute(
        sa.update(Notification)
        .where(condition, Notification.employee_id == employee.id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def ticket_path(notification):
    """The in-app path of the notification's ticket."""
    return f"/tickets/{notification.ticket_id}" if notification.ticket_id else "/notifications"


def base_url():
    """The external base URL for links in e-mails and pushes."""
    configured = current_app.config.get("PUBLIC_BASE_URL")
    if configured:
        return configured.rstrip("/")
    from app.models import Organisation

    organisation = db.session.get(Organisation, 1)
    if organisation is not None and organisation.public_base_url:
        return organisation.public_base_url.rstrip("/")
    if has_request_context():
        return request.host_url.rstrip("/")
    return f"http://127.0.0.1:{os.environ.get('PORT', '5000')}"


def external_url(notification):
    """Where the notification leads: the back-office ticket, or the signed ticket link for a code user."""
    if notification.receiver_id is not None:
        return code_user_ticket_url(notification.receiver)
    return base_url() + ticket_path(notification)


def describe(notification):
    """Title, body and path of a notification in the current locale (force_locale for someone else's)."""
    ticket = notification.ticket
    detail = notification.detail or {}
    number = ticket.display_number if ticket else ""
    title = ticket.title if ticket else ""
    who = notification.actor_name or _("System")
    event = notification.event
    if event == NotificationEvent.OFFER_RECEIVED:
        headline = _("New ticket offered to you: %(number)s", number=number)
    elif event == NotificationEvent.TICKET_CREATED:
        headline = _("New ticket %(number)s", number=number)
    elif event == NotificationEvent.OFFER_ACCEPTED:
        headline = _("%(name)s took on %(number)s", name=detail.get("subject", who), number=number)
    elif event == NotificationEvent.OFFER_DECLINED:
        headline = _("%(name)s declined %(number)s", name=detail.get("subject", who), number=number)
    elif event == NotificationEvent.ASSIGNED:
        headline = _("%(name)s was assigned to %(number)s", name=detail.get("subject", ""), number=number)
    elif event == NotificationEvent.WITHDRAWN:
        headline = _("%(name)s was withdrawn from %(number)s", name=detail.get("subject", ""), number=number)
    elif event == NotificationEvent.STATUS_CHANGED:
        headline = _("%(number)s is now %(status)s", number=number, status=_status_label(detail.get("after")))
    elif event == NotificationEvent.REOPENED:
        headline = _("%(number)s was reopened", number=number)
    elif event == NotificationEvent.MESSAGE_POSTED:
        headline = _("New message from %(name)s on %(number)s", name=who, number=number)
    elif event == NotificationEvent.UPDATE_POSTED:
        if detail.get("internal"):
            headline = _("New internal update on %(number)s", number=number)
        else:
            headline = _("New update on %(number)s", number=number)
    elif event == NotificationEvent.RATED:
        headline = _("%(number)s was rated %(score)s of 5", number=number, score=detail.get("score", "?"))
    else:
        headline = number
    body = title
    if detail.get("excerpt"):
        body = f"{title} — {detail['excerpt']}" if title else detail["excerpt"]
    return {"title": headline, "body": body, "url": ticket_path(notification), "by": who}


def _status_label(name):
    """Translated status label for a stored status name."""
    from app.labels import STATUS as STATUS_LABELS
    from app.workflow import TicketStatus

    try:
        return str(STATUS_LABELS[TicketStatus[name]])
    except (KeyError, TypeError):
        return name or ""


# ---------------------------------------------------------------- code-user receivers and their signed link


def _link_signer():
    """Signs code-user ticket links with the app secret."""
    from itsdangerous import URLSafeTimedSerializer

    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="code-user-ticket-link")


def sign_receiver_link(receiver):
    """The token of a receiver's ticket link; it names the ticket and the code's session epoch."""
    code = ticket_code(receiver.ticket)
    return _link_signer().dumps({"r": receiver.id, "t": receiver.ticket_id, "e": code.session_epoch if code else 0})


def read_receiver_link(token, max_age_days=None):
    """(receiver id, ticket id, epoch) from a token, or None when forged or older than CODE_USER_LINK_DAYS."""
    from itsdangerous import BadData

    days = current_app.config["CODE_USER_LINK_DAYS"] if max_age_days is None else max_age_days
    try:
        data = _link_signer().loads(token, max_age=int(days * 86400))
    except BadData:
        return None
    if not isinstance(data, dict) or not all(isinstance(data.get(key), int) for key in ("r", "t", "e")):
        return None
    return data["r"], data["t"], data["e"]


def code_user_ticket_url(receiver):
    """The signed link that reopens the receiver's ticket on any device."""
    return f"{base_url()}/r/{sign_receiver_link(receiver)}"


def ticket_code(ticket):
    """The usable code of the ticket's device (the first one), or None."""
    from app.models import Code

    if ticket is None:
        return None
    codes = db.session.scalars(sa.select(Code).filter_by(device_id=ticket.device_id).order_by(Code.id))
    return next((code for code in codes if code.is_usable), None)


def register_receiver(ticket, code_user, *, email=None, language=None):
    """Make a code user a receiver of a PUBLIC ticket (idempotent); the caller commits."""
    if ticket.visibility != Visibility.PUBLIC or code_user is None:
        return None
    receiver = db.session.scalar(sa.select(TicketReceiver).filter_by(ticket_id=ticket.id, code_user_id=code_user.id))
    if receiver is None:
        receiver = TicketReceiver(ticket_id=ticket.id, code_user_id=code_user.id)
        receiver.ticket = ticket
        db.session.add(receiver)
    if email:
        receiver.email = email
    receiver.language = language or code_user.language or receiver.language or current_app.config["BABEL_DEFAULT_LOCALE"]
    return receiver


def requester_email(ticket):
    """The e-mail address the code user left in the requester step, if any."""
    from app.enums import StepType

    for answer in ticket.answers:
        if answer.type == StepType.REQUESTER and isinstance(answer.value, dict) and answer.value.get("email"):
            return answer.value["email"]
    return None


def register_creator_receiver(ticket, *, actor):
    """On submit: a code user who left an e-mail address hears back about their PUBLIC ticket."""
    if not getattr(actor, "is_code_user", False):
        return None
    email = requester_email(ticket)
    if not email:
        return None
    code_user = getattr(actor, "code_user", actor)
    language = str(get_locale_or_default())
    return register_receiver(ticket, code_user, email=email, language=language)


def get_locale_or_default():
    """The current request's language, else the default."""
    from flask_babel import get_locale

    locale = get_locale() if has_request_context() else None
    return str(locale) if locale else current_app.config["BABEL_DEFAULT_LOCALE"]
