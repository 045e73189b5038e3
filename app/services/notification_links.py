"""Where news leads outside the app: the external base URL, and the signed ticket link a code user receives."""
import os

import sqlalchemy as sa
from flask import current_app, has_request_context, request
from flask_babel import gettext as _
from itsdangerous import BadData, SignatureExpired, URLSafeTimedSerializer

from app import policy
from app.extensions import db
from app.models import Code, Organisation, Ticket, TicketReceiver
from app.services.errors import NotFound, ServiceError
from app.services.notification_wording import ticket_path


class LinkGone(ServiceError):
    """A receiver's link is older than CODE_USER_LINK_DAYS, or its code was reset since it was sent."""

    status_code = 410


def base_url():
    """The external base URL for links in e-mails and pushes."""
    configured = current_app.config.get("PUBLIC_BASE_URL")
    if configured:
        return configured.rstrip("/")
    organisation = Organisation.settings()
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


def _link_signer():
    """Signs code-user ticket links with the app secret."""
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="code-user-ticket-link")


def sign_receiver_link(receiver):
    """The token of a receiver's ticket link; it names the ticket and the code's session epoch."""
    code = ticket_code(receiver.ticket)
    return _link_signer().dumps({"r": receiver.id, "t": receiver.ticket_id, "e": code.session_epoch if code else 0})


def code_user_ticket_url(receiver):
    """The signed link that reopens the receiver's ticket on any device."""
    return f"{base_url()}/r/{sign_receiver_link(receiver)}"


def resolve_receiver_link(token):
    """(code, ticket) a receiver's link opens; NotFound when forged or no longer receivable, LinkGone when stale."""
    missing = NotFound(_("This page does not exist or is not available to you."))
    try:
        data = _link_signer().loads(token, max_age=int(current_app.config["CODE_USER_LINK_DAYS"] * 86400))
    except SignatureExpired:
        raise _gone() from None
    except BadData:
        raise missing from None
    if not isinstance(data, dict) or not all(isinstance(data.get(key), int) for key in ("r", "t", "e")):
        raise missing
    receiver = db.session.get(TicketReceiver, data["r"])
    ticket = db.session.get(Ticket, data["t"])
    if receiver is None or ticket is None or receiver.ticket_id != ticket.id or not policy.can_receive(receiver, ticket):
        raise missing
    code = ticket_code(ticket)
    if code is None or code.session_epoch != data["e"]:
        raise _gone()
    return code, ticket


def _gone():
    """The refusal of a stale link."""
    return LinkGone(_("Please scan the code on the device again to open your ticket."))


def ticket_code(ticket):
    """The usable code of the ticket's device (the first one), or None."""
    if ticket is None:
        return None
    codes = db.session.scalars(sa.select(Code).filter_by(device_id=ticket.device_id).order_by(Code.id))
    return next((code for code in codes if code.is_usable), None)
