"""Socket.IO: connection, rooms and the rings services send after commit.

Rooms: ``user:<id>`` (an employee's tabs), ``staff`` (every employee), ``code:<code_id>`` (code users reaching a
device through that code), ``ticket:<id>`` (employees viewing a ticket) and ``ticket:<id>:code`` (code users
viewing a PUBLIC ticket; closed at once when the ticket turns INTERNAL).

Events to browsers: ``ticket-updated``, ``ticket-deleted``, ``ticket-hidden``, ``notification-added``,
``code-access-changed``, ``message-posted``, ``typing``, ``joined``, ``join-refused``, ``session-ended`` (every
socket of the employee is then disconnected, on every server: see `SessionEndingManager`).
"""
from typing import NamedTuple

from flask import current_app, g, has_request_context, render_template
from flask_login import current_user

from app import policy
from app.extensions import socketio

STAFF_ROOM = "staff"
SESSION_ENDED = "session-ended"
CODE_ACCESS_CHANGED = "code-access-changed"
CLOSING_RINGS = frozenset({SESSION_ENDED, CODE_ACCESS_CHANGED})  # rings after which every server closes the room's sockets


class Audience(NamedTuple):
    """The sockets of one room as policy sees a receiver: each socket's access was checked when it joined."""

    room: str
    is_employee: bool
    is_code_user: bool
    active: bool = True


STAFF = Audience(STAFF_ROOM, is_employee=True, is_code_user=False)


def ticket_room(ticket_id):
    """Room of the employees looking at one ticket."""
    return f"ticket:{ticket_id}"


def ticket_code_room(ticket_id):
    """Room of the code users looking at one (PUBLIC) ticket."""
    return f"ticket:{ticket_id}:code"


def ticket_rooms(ticket_id):
    """Both rooms of a ticket: everyone looking at it."""
    return [ticket_room(ticket_id), ticket_code_room(ticket_id)]


def user_room(employee_id):
    """Room of every open tab of one employee."""
    return f"user:{employee_id}"


def code_room(code_id):
    """Room of every socket of the code users who reach a device through this code."""
    return f"code:{code_id}"


def _disabled():
    """Sockets are switched off (some CLI runs)."""
    return bool(current_app.config.get("SOCKETIO_DISABLED"))


def _emit(event, payload, room, **kwargs):
    """Emit unless sockets are switched off."""
    if _disabled():
        return
    socketio.emit(event, payload, to=room, **kwargs)


def _employees_on(ticket_id):
    """The employees looking at one ticket."""
    return Audience(ticket_room(ticket_id), is_employee=True, is_code_user=False)


def _code_users_on(ticket_id):
    """The code users looking at one ticket."""
    return Audience(ticket_code_room(ticket_id), is_employee=False, is_code_user=True)


def _rooms_hearing(ticket, *audiences):
    """The rooms among `audiences` that policy lets hear about `ticket` right now."""
    return [audience.room for audience in audiences if policy.can_receive(audience, ticket)]


def _viewers(ticket):
    """The rooms of the people looking at the ticket that may hear about it right now."""
    return _rooms_hearing(ticket, _employees_on(ticket.id), _code_users_on(ticket.id))


def ticket_changed(ticket, *, update=None, internal=False, visibility_changed=False):
    """Ring: the ticket changed; pages refetch what they show through permission-checked views.

    Staff rooms hear of every change. The code users' room hears only of changes their page shows
    (`policy.can_receive`): never of an INTERNAL `update`, nor of a change the service marks `internal` (one only
    staff see: priority, an offer that leaves the status as it was), so the timing of internal work stays unknown.
    """
    payload = {"ticket": ticket.id, "version": ticket.version}
    code_users = _code_users_on(ticket.id)
    if visibility_changed and not policy.can_receive(code_users, ticket):
        ticket_hidden(ticket.id)
    rooms = _rooms_hearing(ticket, _employees_on(ticket.id), STAFF)
    if policy.can_receive(code_users, ticket, update=update, internal=internal):
        rooms.insert(1, code_users.room)
    _emit("ticket-updated", payload, rooms)


def ticket_hidden(ticket_id):
    """Code users lose a ticket (it became INTERNAL): tell them, then empty their room on every server."""
    _emit("ticket-hidden", {"ticket": ticket_id}, ticket_code_room(ticket_id))
    if not _disabled():
        socketio.close_room(ticket_code_room(ticket_id))


def ticket_deleted(ticket_id):
    """Ring: the ticket is gone."""
    _emit("ticket-deleted", {"ticket": ticket_id}, ticket_rooms(ticket_id))
    _emit("ticket-updated", {"ticket": ticket_id}, STAFF_ROOM)
    if not _disabled():
        socketio.close_room(ticket_code_room(ticket_id))


def notification_added(employee_id, html):
    """Ring an employee's tabs with their rendered bell count and toasts (`render_fragment`)."""
    _emit("notification-added", {"html": html}, user_room(employee_id))


def render_fragment(template, **context):
    """Render a fragment for a socket frame, inside a request or not (the dispatcher's thread). Outside a request
    it renders in a fresh context that keeps the language and time zone the caller forced."""
    from flask_babel import force_locale, get_locale

    from app import time_zones

    if has_request_context():
        return render_template(template, **context)
    language, zone = str(get_locale()), g.get("forced_timezone")
    with current_app.app_context(), current_app.test_request_context("/"), force_locale(language):
        if zone:
            with time_zones.force_timezone(zone):
                return render_template(template, **context)
        return render_template(template, **context)


def author_key(message):
    """'e:<id>' or 'c:<id>': who wrote a message, for the browser's 'mine' styling."""
    if message.author_employee_id:
        return f"e:{message.author_employee_id}"
    if message.author_code_user_id:
        return f"c:{message.author_code_user_id}"
    return ""


def actor_key(actor):
    """The author key of an actor (matches author_key of their messages)."""
    if actor is None:
        return ""
    return f"e:{actor.id}" if policy.is_employee(actor) else f"c:{actor.id}"


def zone_room(room, zone):
    """The part of `room` whose readers see times in `zone` (an IANA name): pushed fragments show their times."""
    return f"{room}@{zone}"


def join_ticket_room(ticket_id, actor):
    """Put this socket in the ticket's room for `actor` (staff or code side) and, for staff, in that room's part
    for the employee's time zone (code users read the organisation's zone)."""
    from flask_socketio import join_room

    from app import time_zones

    if policy.is_employee(actor):
        join_room(ticket_room(ticket_id))
        join_room(zone_room(ticket_room(ticket_id), time_zones.zone_of(actor)))
    else:
        join_room(ticket_code_room(ticket_id))


def message_posted(ticket, message):
    """Deliver a new message to everyone looking at the ticket, rendered once per time zone its readers use:
    employees get it in their room's part for their zone, code users in the organisation's zone."""
    from app import time_zones

    if _disabled():
        return
    payload = {"ticket": ticket.id, "id": message.id, "author": author_key(message)}
    for room in _viewers(ticket):
        if room == ticket_room(ticket.id):
            targets = [(zone_room(room, zone), zone) for zone in time_zones.staff_zones()]
        else:
            targets = [(room, time_zones.organisation_zone())]
        for target, zone in targets:
            with time_zones.force_timezone(zone):
                html = render_fragment("messenger/_message.html", message=message, me="")
            _emit("message-posted", {**payload, "html": html}, target)


def code_access_changed(code_id):
    """Ring: access through a code ended; its code users' sockets are told and disconnected at once on every server
    (with a message queue each process's `SessionEndingManager` closes its own sockets of the code's room)."""
    _emit(CODE_ACCESS_CHANGED, {"code": code_id}, code_room(code_id))
    if not _disabled():
        _disconnect_local(code_room(code_id))


def _disconnect_local(room, namespace="/"):
    """Disconnect this server's sockets in `room` (other servers do theirs when the ring reaches them)."""
    server = getattr(socketio, "server", None)
    if server is None:
        return
    for sid, _eio_sid in list(server.manager.get_participants(namespace, room)):
        server.disconnect(sid, namespace=namespace, ignore_queue=True)


def sessions_ended(employee_id):
    """Every sign-in of the employee ended: tell their sockets, then disconnect them at once on every server.

    With a message queue the ring travels to every app process, whose `SessionEndingManager` disconnects its
    own sockets of the room; without one this process holds them all.
    """
    _emit(SESSION_ENDED, {}, user_room(employee_id))
    if not _disabled():
        _disconnect_local(user_room(employee_id))


def session_ending_manager(manager_class):
    """A pub/sub client manager class (python-socketio's RedisManager, KombuManager, ...) whose every process
    disconnects its sockets of a room when a closing ring (CLOSING_RINGS: an employee's sessions ended, a code's
    access ended) for that room arrives."""

    class SessionEndingManager(manager_class):
        """Disconnects the room's local sockets after delivering a closing ring, for rings from any process."""

        def _handle_emit(self, message):
            """Deliver as usual; a closing ring then closes this process's sockets in its room."""
            super()._handle_emit(message)
            room = message.get("room")
            if message.get("event") in CLOSING_RINGS and isinstance(room, str) and self.server is not None:
                namespace = message.get("namespace") or "/"
                for sid, _eio_sid in list(self.get_participants(namespace, room)):
                    self.server.disconnect(sid, namespace=namespace, ignore_queue=True)

    SessionEndingManager.__name__ = f"SessionEnding{manager_class.__name__}"
    return SessionEndingManager


def client_manager(url, channel="flask-socketio", write_only=False):
    """The Socket.IO client manager for a message-queue URL and channel (None without a URL), as Flask-SocketIO
    would choose it, made to end an employee's sockets on every process (see `sessions_ended`)."""
    import socketio as engine

    if not url:
        return None
    if url.startswith(("redis://", "rediss://")):
        base = engine.RedisManager
    elif url.startswith("kafka://"):
        base = engine.KafkaManager
    elif url.startswith("zmq"):
        base = engine.ZmqManager
    else:
        base = engine.KombuManager
    return session_ending_manager(base)(url, channel=channel, write_only=write_only)


def forget_identity():
    """Drop identities cached in `g`: a socket outlives the page, so every event looks again."""
    for name in ("_login_user", "code_user", "code_visitor"):
        g.pop(name, None)


def socket_actor(as_code=False):
    """The actor behind this socket event, rebuilt from the database; code side when asked or not logged in."""
    from app import identity

    forget_identity()
    if not as_code and policy.is_employee(current_user):
        return current_user._get_current_object()
    visitor = identity.current_code_visitor()
    if visitor is None or not visitor.device_ids:
        return None
    return visitor


def valid_code_ids(code_user):
    """Codes through which this code user currently reaches a device."""
    from app.identity import valid_codes

    return {code_id for code_id, _ in valid_codes(code_user)}


def join_code_rooms(code_ids):
    """Put this socket in the room of every code it holds access through, so ending that access (disabling,
    a new PIN, unpairing, "log out code users") disconnects it whenever it joined a ticket."""
    from flask_socketio import join_room

    for code_id in code_ids:
        join_room(code_room(code_id))


def register(app):
    """Connection handling: employees join user and staff rooms, code users their code rooms; others are refused,
    and so are foreign origins and addresses over their number of open sockets (`app.socket_guard`)."""

    @socketio.on("connect")
    def on_connect(auth=None):
        """Refuse foreign origins, anonymous sockets and one address's sockets past its limit."""
        from flask import request
        from flask_socketio import join_room

        from app import identity, socket_guard

        forget_identity()
        try:
            if not socket_guard.handshake_origin_allowed():
                return False
            is_employee = policy.is_employee(current_user)
            code_user = identity.current_code_user()
            code_ids = valid_code_ids(code_user) if code_user is not None else set()
            if not (is_employee or code_ids) or not socket_guard.admit_connection(request.sid):
                return False
            if is_employee:
                join_room(user_room(current_user.id))
                join_room(STAFF_ROOM)
            join_code_rooms(code_ids)
            return True
        finally:
            socket_guard.release_database()

    @socketio.on("disconnect")
    def on_disconnect(*_reason):
        """Free the address's slot and the socket's event budget."""
        from flask import request

        from app import socket_guard

        socket_guard.forget_connection(request.sid, socket_guard.client_address())
