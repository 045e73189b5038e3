"""Sign-ins that end: logout, password changes, deactivation, a role change and "sign out everywhere" refuse every
copy of the session and remember-me cookies issued before and disconnect the employee's sockets; idle sign-ins
expire."""
import pytest

from app import identity
from app.enums import Role, Visibility
from app.extensions import socketio
from app.services import accounts, messenger, staff, tickets
from tests.factories import PASSWORD, make_employee
from tests.messenger_helpers import Scene

SESSION_COOKIE = "session"
REMEMBER_COOKIE = "remember_token"


def sign_in(client, employee, remember=True):
    """Log in through the form; returns (session cookie value, remember-me cookie value or None)."""
    response = client.post("/login", data={"email": employee.email, "password": PASSWORD, "remember": "y" if remember else ""})
    assert response.status_code == 302, response.data[:300]
    remembered = client.get_cookie(REMEMBER_COOKIE)
    return client.get_cookie(SESSION_COOKIE).value, remembered.value if remembered else None


def browser_with(app, name, value):
    """A fresh client carrying only one copied cookie."""
    browser = app.test_client()
    browser.set_cookie(name, value, domain="localhost")
    return browser


def signed_in(app, name, value):
    """Whether a browser with only this cookie copy reaches the staff home page."""
    return browser_with(app, name, value).get("/").status_code == 200


@pytest.fixture
def admin(app):
    """An administrator who makes the changes."""
    return make_employee(Role.ADMIN)


def _logout(client, employee, admin):
    assert client.post("/logout").status_code == 302


def _own_password(client, employee, admin):
    accounts.change_own_password(employee, current=PASSWORD, password="a-new-password-1", confirmation="a-new-password-1",
                                 actor=employee)


def _admin_password(client, employee, admin, login=None):
    staff.set_password(employee, "set-by-the-admin", actor=admin)


def _deactivation(client, employee, admin):
    staff.set_employee_active(employee, False, actor=admin)


def _deactivation_in_the_form(client, employee, admin):
    staff.update_employee(employee, name=employee.name, email=employee.email, role=employee.role.value,
                          language=employee.language, active=False, actor=admin)


def _role_change(client, employee, admin):
    staff.update_employee(employee, name=employee.name, email=employee.email, role="moderator",
                          language=employee.language, active=True, actor=admin)


def _sign_out_everywhere(client, employee, admin):
    accounts.end_sessions(employee, actor=employee)


def _signed_out_by_an_admin(client, employee, admin):
    accounts.end_sessions(employee, actor=admin)


ENDINGS = [_logout, _own_password, _admin_password, _deactivation, _deactivation_in_the_form, _role_change,
           _sign_out_everywhere, _signed_out_by_an_admin]


@pytest.mark.parametrize("ending", ENDINGS, ids=lambda f: f.__name__.strip("_"))
def test_old_session_and_remember_cookies_are_refused_after(app, client, admin, ending):
    anna = make_employee(Role.MEMBER)
    session_value, remember_value = sign_in(client, anna)
    assert remember_value
    assert signed_in(app, SESSION_COOKIE, session_value) and signed_in(app, REMEMBER_COOKIE, remember_value)
    ending(client, anna, admin)
    assert not signed_in(app, SESSION_COOKIE, session_value)
    assert not signed_in(app, REMEMBER_COOKIE, remember_value)
    refused = browser_with(app, SESSION_COOKIE, session_value).get("/tickets", headers={"HX-Request": "true"})
    assert refused.status_code == 401 and refused.headers["HX-Redirect"] == "/login"
    page = browser_with(app, REMEMBER_COOKIE, remember_value).get("/tickets")
    assert page.status_code == 302 and page.headers["Location"].startswith("/login")


def test_ending_one_employees_sign_ins_leaves_the_others(app, client, admin):
    anna, ben = make_employee(), make_employee()
    anna_session, _ = sign_in(client, anna)
    ben_session, _ = sign_in(app.test_client(), ben)
    accounts.end_sessions(anna, actor=anna)
    assert not signed_in(app, SESSION_COOKIE, anna_session)
    assert signed_in(app, SESSION_COOKIE, ben_session)


def test_a_member_cannot_sign_out_someone_else(app, admin):
    from app.services.errors import NotAllowed

    anna, ben = make_employee(), make_employee()
    with pytest.raises(NotAllowed):
        accounts.end_sessions(ben, actor=anna)
    assert ben.session_generation == 0


def test_a_fresh_sign_in_after_the_end_works(app, client, admin):
    anna = make_employee()
    sign_in(client, anna)
    accounts.end_sessions(anna, actor=admin)
    assert client.get("/").status_code == 302
    new_session, _ = sign_in(client, anna)
    assert signed_in(app, SESSION_COOKIE, new_session)


def test_a_cookie_without_generation_is_refused(app, client):
    anna = make_employee()
    with client.session_transaction() as session:
        session["_user_id"] = str(anna.id)
    assert client.get("/").status_code == 302


# Sockets -------------------------------------------------------------------------------------------------------


@pytest.fixture
def scene(app):
    """A ticket with a responsible member, turned INTERNAL."""
    scene = Scene(app)
    tickets.set_visibility(scene.ticket, Visibility.INTERNAL, actor=scene.moderator)
    return scene


def _socket(app, login, employee):
    """A Socket.IO test client of a logged-in browser, joined to nothing yet."""
    http = login(employee, app.test_client())
    return socketio.test_client(app, flask_test_client=http)


def _frames(socket, name):
    """Frames of one event the socket received so far (read even after a disconnect), then forgotten."""
    frames = [item for item in socket.queue if item["name"] == name]
    socket.queue = [item for item in socket.queue if item["name"] != name]
    return frames


def _message_frames(socket):
    return _frames(socket, "message-posted")


@pytest.mark.parametrize("ending", [_sign_out_everywhere, _signed_out_by_an_admin, _own_password, _admin_password,
                                    _deactivation, _role_change], ids=lambda f: f.__name__.strip("_"))
def test_open_sockets_are_disconnected_at_once_and_hear_nothing_more(app, login, scene, admin, ending):
    member_socket = _socket(app, login, scene.member)
    other_socket = _socket(app, login, scene.bystander)
    for socket in (member_socket, other_socket):
        assert socket.emit("join_ticket", {"ticket": scene.ticket.id}, callback=True)["ok"]
    messenger.post_message(scene.ticket, "Before", actor=scene.moderator)
    assert len(_message_frames(member_socket)) == 1
    ending(None, scene.member, admin)
    assert not member_socket.is_connected()
    assert len(_frames(member_socket, "session-ended")) == 1
    messenger.post_message(scene.ticket, "Internal after the end", actor=scene.moderator)
    assert other_socket.is_connected() and len(_message_frames(other_socket)) == 2
    assert _message_frames(member_socket) == []
    other_socket.disconnect()


def test_logout_disconnects_the_sockets_of_every_tab(app, login, scene):
    http = login(scene.member, app.test_client())
    tabs = [socketio.test_client(app, flask_test_client=http) for _ in range(2)]
    assert all(tab.is_connected() for tab in tabs)
    assert http.post("/logout").status_code == 302
    assert not any(tab.is_connected() for tab in tabs)


def test_a_socket_with_an_old_cookie_is_refused(app, login, scene):
    http = login(scene.member, app.test_client())
    accounts.end_sessions(scene.member, actor=scene.member)
    assert not socketio.test_client(app, flask_test_client=http).is_connected()


def test_every_socket_event_checks_the_generation(app, login, scene, monkeypatch):
    """A socket the disconnect missed (a lost frame) is still refused at its next event."""
    socket = _socket(app, login, scene.member)
    monkeypatch.setattr("app.realtime._disconnect_local", lambda room, namespace="/": None)
    accounts.end_sessions(scene.member, actor=scene.member)
    assert socket.emit("join_ticket", {"ticket": scene.ticket.id}, callback=True) == {"ok": False}
    assert "join-refused" in [item["name"] for item in socket.get_received()]


def test_session_ended_ring_from_another_process_disconnects_this_process_sockets(app, login, scene):
    """With a message queue, the process that raised the generation is often not the one holding the socket: each
    process's manager disconnects its own sockets of the room when the ring arrives from the queue."""
    import socketio as engine

    from app.realtime import session_ending_manager, user_room

    class LoopbackQueue(engine.PubSubManager):
        """A queue whose messages are only delivered when the test hands them over."""

        def _publish(self, data):
            pass

        def _listen(self):
            return iter(())

    manager = session_ending_manager(LoopbackQueue)(write_only=True)
    server = socketio.server
    manager.set_server(server)
    own_manager = server.manager
    socket = _socket(app, login, scene.member)
    manager.rooms = own_manager.rooms  # the same sockets, seen through the queue's manager
    manager.eio_sid_from_sid = own_manager.eio_sid_from_sid
    manager._handle_emit({"method": "emit", "event": "session-ended", "data": [{}], "namespace": "/",
                          "room": user_room(scene.member.id), "host_id": "another-process"})
    assert not socket.is_connected()


# Idle timeout --------------------------------------------------------------------------------------------------


@pytest.fixture
def clock(monkeypatch):
    """The idle timeout's clock, moved by the test."""
    now = {"t": 1_800_000_000}
    monkeypatch.setattr(identity, "clock", lambda: now["t"])
    return now


@pytest.mark.parametrize("app", [{"SESSION_IDLE_MINUTES": 30}], indirect=True)
def test_an_idle_sign_in_expires(app, client, clock):
    anna = make_employee()
    sign_in(client, anna, remember=False)
    assert client.get("/").status_code == 200
    clock["t"] += 29 * 60
    assert client.get("/").status_code == 200  # use keeps it alive
    clock["t"] += 29 * 60
    assert client.get("/").status_code == 200
    clock["t"] += 31 * 60
    response = client.get("/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    clock["t"] += 60
    assert client.get("/").status_code == 302


def test_the_default_idle_time_is_eight_hours(app, client, clock):
    assert app.config["SESSION_IDLE_MINUTES"] == 480
    sign_in(client, make_employee(), remember=False)
    client.get("/")
    clock["t"] += 479 * 60
    assert client.get("/").status_code == 200
    clock["t"] += 481 * 60
    assert client.get("/").status_code == 302


@pytest.mark.parametrize("app", [{"SESSION_IDLE_MINUTES": 30}], indirect=True)
def test_stay_logged_in_signs_an_idle_browser_in_again_until_the_generation_changes(app, client, clock):
    anna = make_employee()
    sign_in(client, anna, remember=True)
    client.get("/")
    clock["t"] += 31 * 60
    assert client.get("/").status_code == 200
    accounts.end_sessions(anna, actor=anna)
    clock["t"] += 31 * 60
    assert client.get("/").status_code == 302


def test_the_remember_me_cookie_lifetime_is_configured(app, client):
    assert app.config["REMEMBER_COOKIE_DURATION"] == 14 * 24 * 3600
    client.post("/login", data={"email": make_employee().email, "password": PASSWORD, "remember": "y"})
    cookie = client.get_cookie(REMEMBER_COOKIE)
    assert cookie is not None and cookie.max_age in (None, 14 * 24 * 3600)
