"""Socket.IO: connection, rooms (user:<id>, ticket:<id>, staff) and the rings services send after commit."""
from flask import current_app
from flask_login import current_user

from app.extensions import socketio

STAFF_ROOM = "staff"


def ticket_room(ticket_id):
    """Room of everyone looking at one ticket."""
    return f"ticket:{ticket_id}"


def user_room(employee_id):
    """Room of every open tab of one employee."""
    return f"user:{employee_id}"


def _emit(event, payload, room):
    """Emit unless sockets are switched off (some CLI runs)."""
    if current_app.config.get("SOCKETIO_DISABLED"):
        return
    socketio.emit(event, payload, to=room)


def ticket_changed(ticket, **changes):
    """Ring: the ticket changed; pages refetch what they show through permission-checked views."""
    payload = {"ticket": ticket.id, "version": ticket.version}
    _emit("ticket-updated", payload, ticket_room(ticket.id))
    _emit("ticket-updated", payload, STAFF_ROOM)


def ticket_deleted(ticket_id):
    """Ring: the ticket is gone."""
    _emit("ticket-deleted", {"ticket": ticket_id}, ticket_room(ticket_id))
    _emit("ticket-updated", {"ticket": ticket_id}, STAFF_ROOM)


def ring_bell(employee_id):
    """Ring: an employee has new notifications."""
    _emit("notification-added", {}, user_room(employee_id))


def register(app):
    """Connection handling: employees join their own room and the staff room."""

    @socketio.on("connect")
    def on_connect(auth=None):
        """Refuse anonymous sockets; employees join user and staff rooms."""
        from flask_socketio import join_room

        if current_user.is_authenticated:
            join_room(user_room(current_user.id))
            join_room(STAFF_ROOM)
            return True
        return False


def code_access_changed(code_id):
    """Ring: access through a code ended; sockets of its code users re-check and leave."""
    _emit("code-access-changed", {"code": code_id}, f"code:{code_id}")
