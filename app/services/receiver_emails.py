"""A code user's e-mail address for ticket news is confirmed by a link before any news goes to it.

Leaving an address (in the requester step or on the ticket page) stores it unconfirmed and sends a mail through
the outbox (a Notification of EMAIL_CONFIRMATION with one e-mail Delivery) holding a signed link (itsdangerous,
salt "receiver-email", naming the receiver and a fingerprint of the address); opening it and pressing the button
confirms the address. The link stops working after RECEIVER_EMAIL_CONFIRMATION_HOURS, and when the address is
changed. Until confirmed the dispatcher cancels every news mail to the receiver ("the e-mail address is not
confirmed yet"); web push is not affected. An address the same code user already confirmed on another ticket
counts as confirmed at once.
"""
import hashlib
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from itsdangerous import (
    BadData,
    SignatureExpired,
)

from app.enums import Channel, NotificationEvent
from app.extensions import db
from app.models import Delivery, Notification, TicketReceiver
from app.models._types import utcnow
from app.services import signed_links
from app.services.errors import NotFound
from app.services.notification_preferences import mail_configured

SALT = "receiver-email"
CONFIRM_PATH = "/receivers/confirm/"  # the notifications blueprint serves CONFIRM_PATH + token


LinkExpired = signed_links.LinkExpired
now_seconds = signed_links.now_seconds  # the module's clock: tests move it


def _serializer(issued_at=None):
    """Signs and checks confirmation tokens with the app secret."""
    return signed_links.serializer(SALT, lambda: now_seconds(), issued_at)


def _fingerprint(email):
    """A short digest of the address (compared case-insensitively): a changed address voids earlier links."""
    return hashlib.sha256((email or "").strip().lower().encode()).hexdigest()[:20]


def lifetime_hours():
    """How long a confirmation link works (RECEIVER_EMAIL_CONFIRMATION_HOURS, default 72)."""
    return int(current_app.config.get("RECEIVER_EMAIL_CONFIRMATION_HOURS") or 72)


def is_confirmed(receiver):
    """Whether news may go to the receiver's e-mail address."""
    return bool(receiver.email) and receiver.email_confirmed_at is not None


def confirmation_url(receiver, issued_at=None):
    """The absolute confirmation link for the receiver's current address; `issued_at` in epoch seconds."""
    from app.services.notification_links import base_url

    token = _serializer(issued_at).dumps({"r": receiver.id, "e": _fingerprint(receiver.email)})
    return base_url() + CONFIRM_PATH + token


def set_email(receiver, email):
    """Store `email` (None or "" removes it) on the receiver; a new or changed address is unconfirmed and gets a
    confirmation mail through the outbox, unless the same code user confirmed it on another ticket already.
    Leaving the same unconfirmed address again sends the link again. The caller commits."""
    email = (email or "").strip() or None
    same = email is not None and _fingerprint(email) == _fingerprint(receiver.email)
    receiver.email = email
    if email is None or not same:
        receiver.email_confirmed_at = None
    if email is None or receiver.email_confirmed_at is not None:
        return receiver
    receiver.email_confirmed_at = _confirmed_elsewhere(receiver)
    if receiver.email_confirmed_at is None and mail_configured():
        _ask_to_confirm(receiver)
    return receiver


def _confirmed_elsewhere(receiver):
    """When the receiver's code user confirmed this address on another ticket, else None."""
    if receiver.code_user_id is None:
        return None
    others = db.session.scalars(
        sa.select(TicketReceiver).where(
            TicketReceiver.code_user_id == receiver.code_user_id,
            TicketReceiver.email_confirmed_at.is_not(None),
            sa.func.lower(TicketReceiver.email) == receiver.email.lower(),
        )
    ).all()
    return next((other.email_confirmed_at for other in others if other is not receiver), None)


def _ask_to_confirm(receiver):
    """Queue the confirmation mail for the receiver's current address (sent by the dispatcher)."""
    notification = Notification(
        receiver=receiver, ticket=receiver.ticket, event=NotificationEvent.EMAIL_CONFIRMATION,
        detail={"email_fingerprint": _fingerprint(receiver.email)},
    )
    notification.deliveries.append(Delivery(channel=Channel.EMAIL, position=0, next_attempt_at=utcnow()))
    db.session.add(notification)


def receiver_for_token(token):
    """The receiver whose current address a confirmation token names.

    Raises LinkExpired (410) after RECEIVER_EMAIL_CONFIRMATION_HOURS and NotFound (404) for a tampered token, a
    changed or removed address or a receiver that is gone.
    """
    unknown = NotFound(_("This link is not valid (any more). Please enter your e-mail address on the ticket page again."))
    try:
        data = _serializer().loads(token or "", max_age=lifetime_hours() * 3600)
    except SignatureExpired:
        raise LinkExpired(_("This link has expired. Please enter your e-mail address on the ticket page again.")) from None
    except BadData:
        raise unknown from None
    receiver_id = data.get("r") if isinstance(data, dict) else None
    receiver = db.session.get(TicketReceiver, receiver_id) if isinstance(receiver_id, int) else None
    if receiver is None or not receiver.email or _fingerprint(receiver.email) != data.get("e"):
        raise unknown
    return receiver


def confirm_email(token):
    """Confirm the address a valid link names (again: nothing changes); returns the receiver.

    Raises what `receiver_for_token` raises.
    """
    receiver = receiver_for_token(token)
    if receiver.email_confirmed_at is None:
        receiver.email_confirmed_at = utcnow()
        db.session.commit()
    return receiver


def cancel_reason(notification, now=None):
    """Why a confirmation mail must not go out (None: it may): the address changed, was confirmed already, or
    the link would have expired."""
    receiver = notification.receiver
    if receiver is None or not receiver.email:
        return "the e-mail address was removed"
    if _fingerprint(receiver.email) != (notification.detail or {}).get("email_fingerprint"):
        return "the e-mail address was changed"
    if receiver.email_confirmed_at is not None:
        return "the e-mail address is confirmed already"
    if (now or utcnow()) - notification.created_at > timedelta(hours=lifetime_hours()):
        return "the link would have expired already"
    return None
