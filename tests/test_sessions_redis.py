"""Ending sign-ins across processes: with the Redis message queue of the scale-out set-up, a `session-ended` ring
published by another process disconnects this process's sockets of the employee at once."""
import os
import threading
import time
import uuid

import pytest
from werkzeug.serving import make_server

from app.realtime import SESSION_ENDED, user_room
from tests.factories import make_employee

REDIS_URL = os.environ.get("TEST_REDIS_URL")
CHANNEL = f"ticketwerk-test-{uuid.uuid4().hex[:8]}"  # not the channel of other tests sharing the Redis server
if not REDIS_URL:
    pytest.skip("needs TEST_REDIS_URL (set by .ci/run) for the Redis message queue", allow_module_level=True)


@pytest.fixture
def app(tmp_path):
    """An app whose sockets share the Redis message queue."""
    from app import create_app
    from app.extensions import db
    from tests.conftest import base_config

    config = base_config(tmp_path, f"sqlite:///{tmp_path / 'test.sqlite'}")
    config["SOCKETIO_MESSAGE_QUEUE"] = REDIS_URL
    config["SOCKETIO_CHANNEL"] = CHANNEL
    app = create_app(config)
    with app.app_context():
        db.create_all()
        yield app
        db.session.remove()
        db.engine.dispose()


def _wait(predicate, timeout=5):
    """Poll until `predicate()` holds (the queue's listener thread delivers asynchronously)."""
    deadline = time.monotonic() + timeout
    while not predicate() and time.monotonic() < deadline:
        time.sleep(0.02)
    return predicate()


def _session_cookie(app, login, employee):
    """The session cookie of a browser logged in as `employee`."""
    return login(employee, app.test_client()).get_cookie("session").value


def test_a_ring_from_another_process_disconnects_this_process_sockets(app, login):
    import socketio as engine

    anna, ben = make_employee(), make_employee()
    cookies = {"anna": _session_cookie(app, login, anna), "ben": _session_cookie(app, login, ben)}
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}"
    sockets = {name: engine.Client(reconnection=False) for name in cookies}
    try:
        for name, socket in sockets.items():
            socket.connect(url, headers={"Cookie": f"session={cookies[name]}"}, transports=["websocket"], wait_timeout=10)
        assert all(socket.connected for socket in sockets.values())
        other_process = engine.RedisManager(REDIS_URL, channel=CHANNEL, write_only=True)
        other_process.emit(SESSION_ENDED, {}, room=user_room(anna.id), namespace="/")
        assert _wait(lambda: not sockets["anna"].connected)
        assert sockets["ben"].connected
    finally:
        for socket in sockets.values():
            if socket.connected:
                socket.disconnect()
        server.shutdown()
        thread.join(timeout=5)
