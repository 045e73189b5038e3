"""What an employee chose to hear, and how: channels, origin and strategy per event, or the defaults."""
import sqlalchemy as sa
from flask import current_app

from app import policy
from app.enums import Channel, NotificationEvent, Origin, Strategy
from app.extensions import db
from app.models import NotificationPreference, PushSubscription
from app.services.errors import require

DEFAULT_EMAIL_EVENTS = frozenset(
    {NotificationEvent.OFFER_RECEIVED, NotificationEvent.TICKET_CREATED, NotificationEvent.MESSAGE_POSTED}
)


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


def code_user_preference(receiver):
    """A code user's channels: web push when a browser follows the ticket, e-mail when an address was left."""
    channels = set()
    if has_push_subscription(receiver_id=receiver.id):
        channels.add(Channel.PUSH)
    if receiver.email and mail_configured():
        channels.add(Channel.EMAIL)
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
    """Store the employee's own {event: (channels, origin, strategy)} choices; NotAllowed for anyone else."""
    require(policy.is_employee(actor))
    save_preferences(actor, choices)
    db.session.commit()
