"""Self-service password reset by e-mail: a signed link that expires and works once.

The link carries a token signed with the app secret (itsdangerous, salt "password-reset") naming the employee and a
fingerprint of their current password hash. Setting a password changes the hash, so a used link (and every other
link sent before) stops working; after PASSWORD_RESET_MINUTES the signature's timestamp refuses it too. The mail
goes through the outbox (a Notification without an in-app reader plus one e-mail Delivery), so a slow or absent
SMTP server never slows the form down and a failed send is retried like every other mail.
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

from app.enums import AuditKind, Channel, DeliveryStatus, NotificationEvent
from app.extensions import db
from app.models import Delivery, Employee, Notification
from app.models._types import utcnow
from app.services import accounts, audit, signed_links
from app.services.errors import NotFound, ValidationError

SALT = "password-reset"
RESET_PATH = "/password/reset/"  # the auth blueprint serves RESET_PATH + token; mails are built outside requests
_STAND_IN_HASH = "scrypt:32768:8:1$stand-in$" + "0" * 128  # signed instead when no employee gets a mail


LinkExpired = signed_links.LinkExpired
now_seconds = signed_links.now_seconds  # the module's clock: tests move it


def _serializer(issued_at=None):
    """Signs and checks reset tokens with the app secret."""
    return signed_links.serializer(SALT, lambda: now_seconds(), issued_at)


def _fingerprint(password_hash):
    """A short digest of the password hash: changes whenever the password does, reveals nothing of it."""
    return hashlib.sha256((password_hash or "").encode()).hexdigest()[:20]


def lifetime_minutes():
    """How long a reset link works (PASSWORD_RESET_MINUTES, default 60)."""
    return int(current_app.config.get("PASSWORD_RESET_MINUTES") or 60)


def token_for(employee, issued_at=None):
    """The signed reset token for `employee` (None signs a stand-in, the same work); `issued_at` in epoch seconds."""
    employee_id = employee.id if employee is not None else 0
    password_hash = employee.password_hash if employee is not None else _STAND_IN_HASH
    return _serializer(issued_at).dumps({"id": employee_id, "pw": _fingerprint(password_hash)})


def reset_url(employee, issued_at=None):
    """The absolute reset link for `employee` under the public base URL."""
    from app.services.notification_links import base_url

    return base_url() + RESET_PATH + token_for(employee, issued_at)


def request_reset(email):
    """Send a reset link to the active employee with this address; nothing else, and no answer that tells.

    Both outcomes do the same work in the request, so its timing tells nothing either: one lookup, one signed
    token (for a stand-in when nobody gets a mail), one outbox entry (due, or already skipped), one audit event,
    one commit. The mail itself is built and sent by the dispatcher. Returns None whatever happened.
    """
    typed = accounts.normalise_email(email)
    employee = db.session.scalar(sa.select(Employee).filter_by(email=typed)) if typed else None
    recipient = employee if employee is not None and employee.active else None
    token_for(recipient)
    # The same rows either way: an outbox entry that is due for a recipient, or one already skipped.
    notification = Notification(
        employee_id=None,
        event=NotificationEvent.PASSWORD_RESET,
        detail={"employee_id": recipient.id if recipient is not None else None},
    )
    delivery = Delivery(channel=Channel.EMAIL, position=0, next_attempt_at=utcnow())
    if recipient is None:
        delivery.status, delivery.last_error = DeliveryStatus.SKIPPED, "no active account has this address"
    notification.deliveries.append(delivery)
    db.session.add(notification)
    detail = {"sent": recipient is not None, "email": typed if employee is None else None}
    if employee is not None and recipient is None:
        detail["reason"] = "deactivated"
    audit.record(AuditKind.PASSWORD_RESET_REQUESTED, subject=employee, detail=detail)


def employee_for_token(token):
    """The active employee a valid, unused, unexpired reset token names.

    Raises LinkExpired (410) after PASSWORD_RESET_MINUTES and NotFound (404) for a tampered, used or foreign token.
    """
    used_or_unknown = NotFound(_("This link is not valid or was used already. Please ask for a new one."))
    try:
        data = _serializer().loads(token or "", max_age=lifetime_minutes() * 60)
    except SignatureExpired:
        raise LinkExpired(_("This link has expired. Please ask for a new one.")) from None
    except BadData:
        raise used_or_unknown from None
    employee = db.session.get(Employee, data.get("id")) if isinstance(data, dict) and isinstance(data.get("id"), int) else None
    if employee is None or not employee.active or _fingerprint(employee.password_hash) != data.get("pw"):
        raise used_or_unknown
    return employee


def reset_password(token, password, confirmation):
    """Set a new password through a reset link (twice, the account rules); the link then stops working.

    Raises what `employee_for_token` raises, ValidationError for passwords that differ or break the rules.
    Returns the employee.
    """
    employee = employee_for_token(token)
    if password != confirmation:
        raise ValidationError(_("The two passwords differ."), field="confirmation")
    accounts.validate_password(password)
    employee.set_password(password)
    accounts.end_sessions_later(employee)  # a reset ends every sign-in, as a password change does
    audit.record(AuditKind.PASSWORD_RESET, actor=employee, subject=employee)  # commits
    accounts.sessions_ended(employee)
    return employee


def mail_is_due(notification, now=None):
    """Whether a reset mail still makes sense: its link would outlive the request by less than its lifetime."""
    now = now or utcnow()
    return now - notification.created_at <= timedelta(minutes=lifetime_minutes())


def recipient_of(notification):
    """The active employee a reset notification is for, or None."""
    employee = db.session.get(Employee, (notification.detail or {}).get("employee_id"))
    return employee if employee is not None and employee.active else None
