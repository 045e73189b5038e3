"""The guarded Socket.IO channel: same-origin handshakes, ending code access closes every socket that holds it,
events per socket and sockets per address are limited, handlers give their database connection back."""
import pytest

from app.extensions import db, socketio
from app.identity import sign_code_user_key
from app.models import CodeSession
from app.services import code_access, codes, messenger
from tests.factories import make_code, make_device, make_public_ticket


def _join(client, ticket, as_code=False):
    """Ask to join the ticket's room; returns the ack."""
    return client.emit("join_ticket", {"ticket": ticket.id, "as": "code" if as_code else "staff"}, callback=True)


def _code_room_members(ticket):
    """Socket ids in the room of the code users looking at `ticket`."""
    return list(socketio.server.manager.get_participants("/", f"ticket:{ticket.id}:code"))


def test_a_foreign_origin_is_refused_and_the_own_origin_accepted(scene, sockets):
    """The handshake from another site gets no socket, even with a valid login or code cookie."""
    assert not sockets(scene.member, headers={"Origin": "https://evil.example"}).is_connected()
    assert not sockets(scene=scene, headers={"Origin": "http://localhost.evil.example"}).is_connected()
    assert sockets(scene.member, headers={"Origin": "http://localhost"}).is_connected()
    assert sockets(scene=scene).is_connected()  # no Origin: not a browser, the cookie still decides


def test_the_engineio_origin_check_knows_the_page_and_the_public_address(app):
    """What python-engineio asks before any handshake: the request's own origin and PUBLIC_BASE_URL's pass."""
    from app.socket_guard import origin_check

    check = origin_check(app)
    environ = {"wsgi.url_scheme": "https", "HTTP_HOST": "service.example"}
    assert check("https://service.example", environ)
    assert check("http://localhost", environ)  # PUBLIC_BASE_URL of the tests
    assert check("http://service.example", environ)  # a TLS proxy not yet trusted: the app sees http
    assert not check("https://evil.example", environ)
    assert not check("https://service.example.evil.example", environ)
    assert not check("https://service.example:8443", environ)
    assert not check("null", environ)
    assert not check("file://service.example", environ)


def _second_code(scene):
    """A second device with its own code and a PUBLIC ticket the code user reaches through that code only."""
    device = make_device(scene.flow.template)
    code = make_code(device)
    ticket = make_public_ticket(scene.flow, device, scene.moderator)
    return code, ticket


def _grant(scene, code):
    """The code user opens a session on `code` (e.g. typed its PIN in another tab)."""
    db.session.add(CodeSession(code_user_id=scene.visitor.code_user.id, code_id=code.id, epoch=code.session_epoch))
    db.session.commit()


END_ACCESS = {
    "disable": lambda code, actor: code_access.set_code_enabled(code, False, actor=actor),
    "log out code users": lambda code, actor: code_access.logout_code_users(code, actor=actor),
    "new PIN": lambda code, actor: codes.set_code_pin(code, "4711", actor=actor),
    "unpair": lambda code, actor: codes.pair_code(code, "", actor=actor),
}


@pytest.mark.parametrize("joined", ["code held at connect", "code gained after connect"])
@pytest.mark.parametrize("end_access", list(END_ACCESS))
def test_ending_a_codes_access_closes_every_socket_that_holds_it(scene, sockets, end_access, joined):
    """Whenever the socket got its access through the code, it hears nothing of that code's tickets after it ends."""
    code, ticket = _second_code(scene)
    if joined == "code held at connect":
        _grant(scene, code)
    customer = sockets(scene=scene)
    if joined == "code gained after connect":
        _grant(scene, code)
    assert _join(customer, ticket, as_code=True)["ok"]
    assert _code_room_members(ticket)
    END_ACCESS[end_access](code, scene.moderator)
    assert not customer.is_connected()
    assert _code_room_members(ticket) == []
    messenger.post_message(ticket, "Nur noch intern zu lesen", actor=scene.moderator)
    # A socket opened after the end does not get the ticket back.
    again = sockets(scene=scene)
    assert again.is_connected()  # the first code still reaches its device
    assert _join(again, ticket, as_code=True)["ok"] is False
    assert not any(item["name"] == "message-posted" for item in again.get_received())


def test_a_codes_end_rung_from_another_process_closes_this_process_sockets(scene, sockets):
    """With a message queue the change often happens on another app process: the ring arrives through the queue and
    this process's manager closes its own sockets in the code's room."""
    import socketio as engine

    from app.realtime import CODE_ACCESS_CHANGED, code_room, session_ending_manager

    class LoopbackQueue(engine.PubSubManager):
        """A queue whose messages are only delivered when the test hands them over."""

        def _publish(self, data):
            pass

        def _listen(self):
            return iter(())

    code, ticket = _second_code(scene)
    _grant(scene, code)
    customer = sockets(scene=scene)
    assert _join(customer, ticket, as_code=True)["ok"]
    manager = session_ending_manager(LoopbackQueue)(write_only=True)
    manager.set_server(socketio.server)
    manager.rooms = socketio.server.manager.rooms  # the same sockets, seen through the queue's manager
    manager.eio_sid_from_sid = socketio.server.manager.eio_sid_from_sid
    manager._handle_emit({"method": "emit", "event": CODE_ACCESS_CHANGED, "data": [{"code": code.id}], "namespace": "/",
                          "room": code_room(code.id), "host_id": "another-process"})
    assert not customer.is_connected()


@pytest.mark.parametrize(
    "app",
    [{"SOCKET_EVENT_LIMIT": 5, "SOCKET_EVENT_WINDOW_SECONDS": 10, "SOCKET_REFUSALS_BEFORE_DISCONNECT": 4}],
    indirect=True,
)
def test_a_flooding_socket_is_refused_then_disconnected(scene, sockets):
    """Five events per ten seconds pass; the sixth is refused with 429 and not run; four refusals disconnect."""
    staff = sockets(scene.member)
    answers = [_join(staff, scene.ticket) for _ in range(5)]
    assert all(answer["ok"] for answer in answers)
    staff.get_received()
    assert _join(staff, scene.ticket) == {"ok": False, "status": 429}
    assert staff.get_received() == []  # the refused join sent no "joined"
    for _ in range(3):
        if staff.is_connected():
            staff.emit("typing", {"ticket": scene.ticket.id}, callback=True)
    assert not staff.is_connected()
    assert sockets(scene.member).is_connected()  # a new socket starts with a fresh budget


def test_the_budget_refills_over_the_window(app):
    """The token bucket: spent events come back evenly over the window."""
    from app import socket_guard

    app.config.update(SOCKET_EVENT_LIMIT=2, SOCKET_EVENT_WINDOW_SECONDS=10, SOCKET_REFUSALS_BEFORE_DISCONNECT=3)
    with app.test_request_context("/"):
        assert [socket_guard.take_event("s1", now=t) for t in (0, 0, 0, 0)] == ["ok", "ok", "refused", "refused"]
        assert socket_guard.take_event("s1", now=5) == "ok"  # 5 s give back one event (2 per 10 s)
        assert socket_guard.take_event("s1", now=5) == "abuse"
        assert socket_guard.take_event("s2", now=5) == "ok"  # another socket has its own budget


@pytest.mark.parametrize("app", [{"SOCKET_CONNECTIONS_PER_ADDRESS": 2}], indirect=True)
def test_open_sockets_per_address_are_limited(scene, sockets):
    """A third socket from the same address is refused until one of the two closes."""
    from app import socket_guard

    first, second = sockets(scene.member), sockets(scene=scene)
    assert first.is_connected() and second.is_connected()
    assert not sockets(scene.moderator).is_connected()
    first.disconnect()
    with scene.app.test_request_context("/"):
        assert socket_guard.open_sockets("127.0.0.1") == 1
    assert sockets(scene.moderator).is_connected()


def test_handlers_give_their_database_connection_back(scene, sockets):
    """After an event (and after the handshake) no transaction stays open on the handler's session."""
    staff = sockets(scene.member)
    assert not db.session().in_transaction()
    assert _join(staff, scene.ticket)["ok"]
    assert not db.session().in_transaction()
    staff.emit("typing", {"ticket": scene.ticket.id}, callback=True)
    assert not db.session().in_transaction()


def test_a_code_users_socket_cookie_alone_does_not_pass_a_foreign_origin(scene, app):
    """The code cookie of a phone does not open a socket for a page of another site."""
    http = app.test_client()
    http.set_cookie(app.config["CODE_USER_COOKIE"], sign_code_user_key(scene.visitor.code_user.key), domain="localhost")
    client = socketio.test_client(app, flask_test_client=http, headers={"Origin": "null"})
    assert not client.is_connected()
