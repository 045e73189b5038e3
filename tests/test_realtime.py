"""Socket.IO: who may connect, which rooms they join, policy on every event, evictions."""

from app.enums import Visibility
from app.extensions import socketio
from app.services import code_access, messenger, tickets


def _names(client):
    """Event names received so far."""
    return [item["name"] for item in client.get_received()]


def _join(client, ticket, as_code=False):
    """Ask to join the ticket's room; returns the ack."""
    return client.emit("join_ticket", {"ticket": ticket.id, "as": "code" if as_code else "staff"}, callback=True)


def test_anonymous_socket_is_refused(app, sockets):
    """No login, no code session: the connection is refused."""
    assert not sockets().is_connected()


def test_code_user_without_valid_session_is_refused(scene, sockets):
    """A disabled code leaves the code user anonymous."""
    code_access.set_code_enabled(scene.code, False, actor=scene.moderator)
    assert not sockets(scene=scene).is_connected()


def test_employee_and_code_user_join_public_ticket(scene, sockets):
    """Both may read the PUBLIC ticket's thread; both get the joined ack and later messages."""
    staff = sockets(scene.bystander)
    customer = sockets(scene=scene)
    assert staff.is_connected() and customer.is_connected()
    assert _join(staff, scene.ticket)["ok"] and _join(customer, scene.ticket, as_code=True)["ok"]
    assert "joined" in _names(staff) and "joined" in _names(customer)
    messenger.post_message(scene.ticket, "Hallo", actor=scene.member)
    for client in (staff, customer):
        posted = [item for item in client.get_received() if item["name"] == "message-posted"]
        assert len(posted) == 1 and "Hallo" in posted[0]["args"][0]["html"]


def test_code_user_never_joins_internal_ticket(scene, sockets):
    """An INTERNAL ticket refuses code users' join."""
    tickets.set_visibility(scene.ticket, Visibility.INTERNAL, actor=scene.moderator)
    customer = sockets(scene=scene)
    answer = _join(customer, scene.ticket, as_code=True)
    assert answer == {"ok": False} and "join-refused" in _names(customer)
    messenger.post_message(scene.ticket, "Intern", actor=scene.member)
    assert "message-posted" not in _names(customer)


def test_unknown_ticket_refused(scene, sockets):
    """Joining a ticket that does not exist is refused."""
    assert _join(sockets(scene.moderator), type("T", (), {"id": 424242})())["ok"] is False


def test_bystander_member_cannot_send(scene, sockets):
    """Members who are not responsible are refused with a clear message; nothing is written."""
    staff = sockets(scene.bystander)
    answer = staff.emit("send_message", {"ticket": scene.ticket.id, "body": "Hallo"}, callback=True)
    assert answer["ok"] is False and answer["status"] == 403 and answer["error"]
    assert messenger.latest_message_id(scene.ticket) == 0


def test_responsible_member_and_code_user_send(scene, sockets):
    """Sending over the socket uses the same service as HTTP."""
    staff = sockets(scene.member)
    customer = sockets(scene=scene)
    _join(staff, scene.ticket)
    assert staff.emit("send_message", {"ticket": scene.ticket.id, "body": "Vom Socket"}, callback=True)["ok"]
    answer = customer.emit("send_message", {"ticket": scene.ticket.id, "body": "Zurück", "as": "code"}, callback=True)
    assert answer["ok"]
    html = [item["args"][0]["html"] for item in staff.get_received() if item["name"] == "message-posted"]
    assert any("Zurück" in part for part in html)


def test_typing_reaches_others_not_sender(scene, sockets):
    """The typing indicator goes to the room except the sender; readers who may not write cannot send it."""
    staff = sockets(scene.member)
    customer = sockets(scene=scene)
    bystander = sockets(scene.bystander)
    _join(staff, scene.ticket)
    _join(customer, scene.ticket, as_code=True)
    for client in (staff, customer):
        client.get_received()
    assert customer.emit("typing", {"ticket": scene.ticket.id, "as": "code"}, callback=True)["ok"]
    assert "typing" in _names(staff) and "typing" not in _names(customer)
    assert bystander.emit("typing", {"ticket": scene.ticket.id}, callback=True)["ok"] is False


def test_switching_to_internal_evicts_code_users(scene, sockets):
    """The code user is told at once and hears nothing of the ticket afterwards."""
    staff = sockets(scene.member)
    customer = sockets(scene=scene)
    _join(staff, scene.ticket)
    _join(customer, scene.ticket, as_code=True)
    customer.get_received()
    tickets.set_visibility(scene.ticket, Visibility.INTERNAL, actor=scene.moderator)
    assert "ticket-hidden" in _names(customer)
    messenger.post_message(scene.ticket, "Nur intern", actor=scene.member)
    assert _names(customer) == []
    assert "message-posted" in _names(staff)
    # Even a socket that asks again is refused.
    assert _join(customer, scene.ticket, as_code=True)["ok"] is False


def test_code_user_policy_rechecked_on_every_event(scene, sockets):
    """A socket opened before the ticket went INTERNAL cannot send to it."""
    customer = sockets(scene=scene)
    tickets.set_visibility(scene.ticket, Visibility.INTERNAL, actor=scene.moderator)
    answer = customer.emit("send_message", {"ticket": scene.ticket.id, "body": "x", "as": "code"}, callback=True)
    assert answer["ok"] is False and answer["status"] == 404


def test_disabling_code_disconnects_its_code_users(scene, sockets):
    """Disabling the code or logging its code users out ends their sockets."""
    customer = sockets(scene=scene)
    staff = sockets(scene.moderator)
    assert customer.is_connected()
    code_access.set_code_enabled(scene.code, False, actor=scene.moderator)
    assert not customer.is_connected()
    assert staff.is_connected()


def test_logout_code_users_disconnects(scene, sockets):
    """'Log out code users' ends the sockets too."""
    customer = sockets(scene=scene)
    code_access.logout_code_users(scene.code, actor=scene.moderator)
    assert not customer.is_connected()


def test_staff_room_hears_ticket_updates(scene, sockets):
    """Employees hear ticket-updated on the staff room without joining the ticket."""
    staff = sockets(scene.bystander)
    staff.get_received()
    messenger.post_message(scene.ticket, "Hallo", actor=scene.member)
    assert "ticket-updated" in _names(staff)


def test_socket_send_with_a_repeated_client_id_answers_the_stored_message(scene, sockets):
    """Over Socket.IO too, a message id made by the browser is stored once; the repeat gets the same answer."""
    from app.extensions import db
    from app.models import Message

    staff = sockets(employee=scene.member)
    payload = {"ticket": scene.ticket.id, "body": "Einmal bitte", "client_id": "socket-repeat-01"}
    first = staff.emit("send_message", payload, callback=True)
    again = staff.emit("send_message", payload, callback=True)
    assert first["ok"] and again["ok"] and first["id"] == again["id"]
    assert db.session.query(Message).count() == 1


def test_join_from_a_socket_that_went_away_meanwhile_answers_no_instead_of_failing(scene, sockets, monkeypatch):
    """A phone that loses its connection while it asks to join gets a plain refusal, not a server error."""
    import flask_socketio

    def gone(room, *args, **kwargs):
        """What Flask-SocketIO raises for a session that is no longer connected."""
        raise ValueError("sid is not connected to requested namespace")

    client = sockets(employee=scene.member)
    monkeypatch.setattr(flask_socketio, "join_room", gone)
    assert _join(client, scene.ticket) == {"ok": False}


def test_mark_read_over_the_socket_moves_the_marker_and_answers_refusals_in_its_ack(scene, sockets):
    """The reader's marker moves forward; a hidden ticket or a malformed id is refused in the ack, nothing written."""
    message = messenger.post_message(scene.ticket, "Gelesen?", actor=scene.visitor)
    staff = sockets(scene.member)
    assert staff.emit("mark_read", {"ticket": scene.ticket.id, "message": "x1"}, callback=True) == {"ok": False}
    assert messenger.last_read_id(scene.ticket, scene.member) == 0
    answer = staff.emit("mark_read", {"ticket": scene.ticket.id}, callback=True)
    assert answer == {"ok": True, "message": message.id}
    assert messenger.last_read_id(scene.ticket, scene.member) == message.id
    messenger.post_message(scene.ticket, "Noch da?", actor=scene.member)
    read_before = messenger.last_read_id(scene.ticket, scene.visitor)
    tickets.set_visibility(scene.ticket, Visibility.INTERNAL, actor=scene.moderator)
    customer = sockets(scene=scene)
    refused = customer.emit("mark_read", {"ticket": scene.ticket.id, "as": "code"}, callback=True)
    assert refused["ok"] is False and refused["status"] == 404 and refused["error"]
    assert messenger.last_read_id(scene.ticket, scene.visitor) == read_before


def test_rings_reach_the_code_users_room_only_while_policy_lets_them_hear(scene, monkeypatch):
    """The rooms a ring reaches are policy's choice: code users hear of PUBLIC tickets only."""
    from app import realtime

    emitted = []
    monkeypatch.setattr(socketio, "emit", lambda event, payload=None, **kw: emitted.append((event, kw.get("to"))))
    realtime.ticket_changed(scene.ticket)
    assert ("ticket-updated", [f"ticket:{scene.ticket.id}", f"ticket:{scene.ticket.id}:code", "staff"]) in emitted
    emitted.clear()
    scene.ticket.visibility = Visibility.INTERNAL
    realtime.ticket_changed(scene.ticket, visibility_changed=True)
    assert ("ticket-hidden", f"ticket:{scene.ticket.id}:code") in emitted
    assert ("ticket-updated", [f"ticket:{scene.ticket.id}", "staff"]) in emitted
