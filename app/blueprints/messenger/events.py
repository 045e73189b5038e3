"""Messenger over Socket.IO: join a ticket's room, typing indicator, sending; policy checked on every event."""
import functools

from flask import current_app, request
from flask_socketio import emit

from app import policy, realtime, socket_guard
from app.extensions import db, socketio
from app.ids import parse_id
from app.models import Ticket
from app.services import messenger
from app.services.errors import ServiceError


def _ticket_and_actor(data):
    """The ticket named in an event and the actor behind the socket, both fresh from the database."""
    data = data if isinstance(data, dict) else {}
    actor = realtime.socket_actor(as_code=data.get("as") == "code")
    raw = data.get("ticket")
    number = parse_id(raw if isinstance(raw, int) else str(raw) if raw is not None else None)
    ticket = db.session.get(Ticket, number, populate_existing=True) if number is not None else None
    return ticket, actor, data


def _refusal_in_ack(handler):
    """Answer a refused service call in the event's ack (a socket has no error page): the session rolled back,
    `{"ok": False, "status": 403/404/409/422, "error": reason}`."""

    @functools.wraps(handler)
    def answering(*args):
        """Run the handler; a ServiceError becomes its ack."""
        try:
            return handler(*args)
        except ServiceError as error:
            db.session.rollback()
            current_app.logger.info("refused socket %s (%s): %s", handler.__name__, type(error).__name__, error.message)
            return {"ok": False, "status": error.status_code, "error": str(error.message)}

    return answering


def _actor_name(actor):
    """How the typing indicator names someone."""
    from app.services.ticket_changes import actor_name

    return str(actor_name(actor))


def register():
    """Attach the event handlers to the Socket.IO server."""

    @socketio.on("join_ticket")
    @socket_guard.guarded_event
    def on_join_ticket(data=None, *_extra):
        """Join the ticket's room when the actor may read its thread; answer with `joined` or `join-refused`."""
        ticket, actor, _data = _ticket_and_actor(data)
        if ticket is None or not policy.can_read_messages(actor, ticket):
            emit("join-refused", {"ticket": getattr(ticket, "id", None)})
            return {"ok": False}
        try:
            if not policy.is_employee(actor):
                realtime.join_code_rooms(realtime.valid_code_ids(actor.code_user))
            realtime.join_ticket_room(ticket.id, actor)
        except (ValueError, KeyError):  # the socket went away while it asked (a phone losing its connection)
            return {"ok": False}
        emit("joined", {"ticket": ticket.id, "me": realtime.actor_key(actor)})
        return {"ok": True, "ticket": ticket.id}

    @socketio.on("typing")
    @socket_guard.guarded_event
    def on_typing(data=None, *_extra):
        """Tell the others on the ticket that someone is typing."""
        ticket, actor, _data = _ticket_and_actor(data)
        if ticket is None or not policy.can_post_message(actor, ticket):
            return {"ok": False}
        payload = {"ticket": ticket.id, "author": realtime.actor_key(actor), "name": _actor_name(actor)}
        socketio.emit("typing", payload, to=realtime._viewers(ticket), skip_sid=request.sid)
        return {"ok": True}

    @socketio.on("send_message")
    @socket_guard.guarded_event
    @_refusal_in_ack
    def on_send_message(data=None, *_extra):
        """Post a text message through the same service as the HTTP form (`client_id` makes a repeat harmless)."""
        ticket, actor, data = _ticket_and_actor(data)
        messenger.require_reader(actor, ticket)
        client_id = data.get("client_id")
        message = messenger.post_message(
            ticket, str(data.get("body") or ""), actor=actor, client_id=str(client_id) if client_id else None
        )
        return {"ok": True, "id": message.id}

    @socketio.on("mark_read")
    @socket_guard.guarded_event
    @_refusal_in_ack
    def on_mark_read(data=None, *_extra):
        """Move the reader's marker forward."""
        ticket, actor, data = _ticket_and_actor(data)
        message_id = data.get("message")
        if message_id is not None:
            message_id = parse_id(message_id if isinstance(message_id, int) else str(message_id))
            if message_id is None:
                return {"ok": False}
        messenger.require_reader(actor, ticket)
        newest = messenger.mark_read(ticket, actor=actor, message_id=message_id)
        return {"ok": True, "message": newest}
