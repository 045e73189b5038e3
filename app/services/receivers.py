"""Code users who hear back about a PUBLIC ticket: their TicketReceiver rows, made on submit or on opt-in."""
import sqlalchemy as sa
from flask import current_app, has_request_context
from flask_babel import get_locale

from app import policy
from app.enums import StepType
from app.extensions import db
from app.models import TicketReceiver
from app.services import receiver_emails


def code_user_receivers(event, ticket, *, actor, update=None, internal=False):
    """The ticket's receivers (oldest first) whom policy lets hear of `event`."""
    receivers = db.session.scalars(sa.select(TicketReceiver).filter_by(ticket_id=ticket.id).order_by(TicketReceiver.id))
    return [
        receiver
        for receiver in receivers
        if policy.can_receive(receiver, ticket, event, update=update, internal=internal, actor=actor)
    ]


def register_receiver(ticket, code_user, *, email=None, language=None):
    """Make a code user a receiver of a PUBLIC ticket (idempotent); the caller commits; None for other tickets."""
    if code_user is None or not policy.can_receive(_Prospect(code_user.id), ticket):
        return None
    receiver = db.session.scalar(sa.select(TicketReceiver).filter_by(ticket_id=ticket.id, code_user_id=code_user.id))
    if receiver is None:
        receiver = TicketReceiver(ticket_id=ticket.id, code_user_id=code_user.id)
        receiver.ticket = ticket
        db.session.add(receiver)
    if email:
        receiver_emails.set_email(receiver, email)  # unconfirmed until its link is opened
    receiver.language = language or code_user.language or receiver.language or current_app.config["BABEL_DEFAULT_LOCALE"]
    return receiver


class _Prospect:
    """A code user about to become a receiver, as policy sees a receiver row."""

    def __init__(self, code_user_id):
        self.code_user_id = code_user_id


def requester_email(ticket):
    """The e-mail address the code user left in the requester step, if any."""
    for answer in ticket.answers:
        if answer.type == StepType.REQUESTER and isinstance(answer.value, dict) and answer.value.get("email"):
            return answer.value["email"]
    return None


def register_creator_receiver(ticket, *, actor):
    """On submit: a code user who left an e-mail address hears back about their PUBLIC ticket."""
    if not policy.is_code_user(actor):
        return None
    email = requester_email(ticket)
    if not email:
        return None
    code_user = getattr(actor, "code_user", actor)
    return register_receiver(ticket, code_user, email=email, language=request_language())


def request_language():
    """The current request's language, else the default."""
    locale = get_locale() if has_request_context() else None
    return str(locale) if locale else current_app.config["BABEL_DEFAULT_LOCALE"]
