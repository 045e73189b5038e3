"""A real server on loopback with real Socket.IO clients: a foreign Origin gets no socket, and one client flooding
join_ticket events neither slows a staff page past a second nor keeps database connections."""
import threading
import time

import pytest
import requests
import socketio as socketio_client
import sqlalchemy as sa

from app import create_app
from app.enums import Visibility
from app.extensions import db
from app.models import Code, Employee, Flow
from tests.conftest import base_config
from tests.factories import make_ticket
from tests.live_server import LiveServer

FLOOD_EVENTS = 1000  # bounded: at most this many events …
FLOOD_SECONDS = 2.5  # … and at most this long


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The demo app on a free loopback port, with an employee's session cookie and a ticket id (one for the
    module: tests restore what they change)."""
    tmp_path = tmp_path_factory.mktemp("flood")
    config = base_config(tmp_path, f"sqlite:///{tmp_path / 'flood.sqlite'}")
    config.update(SERVER_NAME=None, PUBLIC_BASE_URL=None)
    app = create_app(config)
    with app.app_context():
        db.create_all()
        from app.demo_data import load_demo

        load_demo()
        moderator = db.session.scalar(sa.select(Employee).filter_by(email="moderator@example.com"))
        code = db.session.scalar(sa.select(Code).filter_by(token="demo-press"))
        flow = db.session.scalar(sa.select(Flow).filter_by(template_id=code.device.template_id, active=True))
        cookie_id, ticket_id = moderator.get_id(), make_ticket(flow, code.device, moderator, visibility=Visibility.PUBLIC).id
        db.session.remove()
    http = app.test_client()
    with http.session_transaction() as session:
        session["_user_id"] = cookie_id
        session["_fresh"] = True
    cookie = f"session={http.get_cookie('session').value}"
    live = LiveServer(app).start()
    served = {"app": app, "url": live.url, "cookie": cookie, "ticket": ticket_id}
    _staff_page_seconds(served, times=1)  # the first page compiles templates and URL builders: not the flood's cost
    yield served
    live.stop()
    with app.app_context():
        db.engine.dispose()


def _client(server, origin=None):
    """A python-socketio client with the employee's cookie: over WebSocket (which sends the server's own URL as
    Origin), or long-polling with the given Origin header."""
    client = socketio_client.Client(reconnection=False)
    headers = {"Cookie": server["cookie"]}
    transports = ["websocket"]
    if origin:
        headers["Origin"] = origin
        transports = ["polling"]
    client.connect(server["url"], headers=headers, transports=transports, wait_timeout=5)
    return client


def test_a_foreign_origin_gets_no_socket_from_the_real_server(server):
    """python-engineio refuses the handshake before any handler runs; the page's own origin connects."""
    with pytest.raises(socketio_client.exceptions.ConnectionError):
        _client(server, origin="https://evil.example")
    for own in (_client(server, origin=server["url"]), _client(server)):
        assert own.connected
        own.disconnect()


def _staff_page_seconds(server, times=5):
    """Seconds each of `times` GETs of the staff home page took (each must answer 200)."""
    took = []
    for _ in range(times):
        started = time.monotonic()
        response = requests.get(server["url"] + "/", headers={"Cookie": server["cookie"]}, timeout=10)
        took.append(time.monotonic() - started)
        assert response.status_code == 200
    return took


def test_a_flood_of_join_events_leaves_staff_pages_fast_and_connections_free(server):
    """Without the event budget (raised for this test) a client sends up to 1,000 joins in up to 2.5 s; the staff page
    still answers within a second meanwhile, and afterwards no database connection is held by the handlers."""
    app = server["app"]
    defaults = {key: app.config[key] for key in ("SOCKET_EVENT_LIMIT", "SOCKET_REFUSALS_BEFORE_DISCONNECT")}
    app.config.update(SOCKET_EVENT_LIMIT=100_000, SOCKET_REFUSALS_BEFORE_DISCONNECT=100_000)
    try:
        took, sent, answered = _flood(server)
    finally:
        app.config.update(defaults)
    assert len(sent) > 100, len(sent)
    assert answered["ok"] is True, answered
    assert max(took) < 1.0, took
    with app.app_context():
        assert db.engine.pool.checkedout() == 0


def _flood(server):
    """Flood join_ticket from one socket while timing staff pages; (seconds per page, events sent, last ack)."""
    flooder = _client(server)
    sent = []

    def flood():
        """Send join_ticket events as fast as the socket takes them, bounded in count and time."""
        deadline = time.monotonic() + FLOOD_SECONDS
        while len(sent) < FLOOD_EVENTS and time.monotonic() < deadline:
            flooder.emit("join_ticket", {"ticket": server["ticket"]})
            sent.append(1)

    thread = threading.Thread(target=flood)
    thread.start()
    try:
        time.sleep(0.2)  # let the flood start before measuring
        took = _staff_page_seconds(server)
    finally:
        thread.join(timeout=FLOOD_SECONDS + 5)
    answered = flooder.call("join_ticket", {"ticket": server["ticket"]}, timeout=30)  # after every queued join
    flooder.disconnect()
    return took, sent, answered


def test_with_the_default_budget_a_flooding_socket_is_cut_off(server):
    """The default budget (30 events per 10 s, 30 refusals) disconnects a flooding client within its first
    hundred events; a normal join still works for a new socket."""
    flooder = _client(server)
    for _ in range(200):
        if not flooder.connected:
            break
        flooder.emit("join_ticket", {"ticket": server["ticket"]})
    deadline = time.monotonic() + 5
    while flooder.connected and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not flooder.connected
    fresh = _client(server)
    assert fresh.call("join_ticket", {"ticket": server["ticket"]}, timeout=5)["ok"] is True
    fresh.disconnect()
