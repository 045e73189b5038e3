"""How people hear back outside the app: employees' web-push browsers, code users following a ticket by push or e-mail."""
import sqlalchemy as sa
from flask_babel import gettext as _

from app import policy
from app.extensions import db
from app.models import TicketReceiver
from app.services import push, receiver_emails, receivers
from app.services.answers import EMAIL
from app.services.errors import NotFound, ValidationError, require


def _incomplete():
    """The error for a push subscription without endpoint or keys."""
    return ValidationError(_("This browser sent an incomplete push subscription."), field="endpoint")


def subscribe_push(endpoint, p256dh, auth, *, actor):
    """Send the employee's web pushes to this browser."""
    require(policy.is_employee(actor))
    if push.subscribe(endpoint, p256dh, auth, employee_id=actor.id) is None:
        raise _incomplete()
    db.session.commit()


def unsubscribe_push(endpoint, *, actor):
    """Stop the employee's web pushes to this browser; whether a subscription was removed."""
    require(policy.is_employee(actor))
    removed = push.unsubscribe(endpoint, employee_id=actor.id)
    db.session.commit()
    return removed


def receiver_for(ticket, visitor):
    """The visitor's receiver row for the ticket, or None."""
    return db.session.scalar(sa.select(TicketReceiver).filter_by(ticket_id=ticket.id, code_user_id=visitor.id))


def _require_follower(ticket, actor):
    """Code users hear back only about submitted PUBLIC tickets they see; anything else does not exist."""
    if not policy.can_follow_ticket(actor, ticket):
        raise NotFound(_("This ticket does not exist or is not available to you."))


def _register(ticket, actor):
    """The actor's receiver row for the ticket, created on first opt-in."""
    return receivers.register_receiver(ticket, actor.code_user, language=receivers.request_language())


def follow_by_push(ticket, endpoint, p256dh, auth, *, actor):
    """A code user's browser hears back about one ticket by web push."""
    _require_follower(ticket, actor)
    receiver = _register(ticket, actor)
    db.session.flush()
    try:
        subscription = push.subscribe(endpoint, p256dh, auth, receiver_id=receiver.id)
    except ValidationError:
        db.session.rollback()
        raise
    if subscription is None:
        db.session.rollback()
        raise _incomplete()
    db.session.commit()
    return receiver


def unfollow_by_push(ticket, endpoint, *, actor):
    """Stop web pushes about one ticket to this browser; whether a subscription was removed."""
    _require_follower(ticket, actor)
    receiver = receiver_for(ticket, actor)
    removed = push.unsubscribe(endpoint, receiver_id=receiver.id) if receiver else False
    db.session.commit()
    return removed


def set_follow_email(ticket, email, *, actor):
    """A code user leaves (or, with an empty address, removes) an e-mail address to hear back about one ticket;
    news goes to it once it is confirmed through the link mailed to it (`receiver_emails`)."""
    _require_follower(ticket, actor)
    email = (email or "").strip()
    if email and (len(email) > 254 or not EMAIL.match(email)):
        raise ValidationError(_("Please enter a valid e-mail address or leave it empty."), field="email")
    receiver = _register(ticket, actor)
    receiver_emails.set_email(receiver, email)  # a new address gets a confirmation link first
    db.session.commit()
    return receiver
