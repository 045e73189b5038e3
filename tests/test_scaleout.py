"""Scale-out: two gunicorn app processes share PostgreSQL and Redis, dispatchers run as their own processes.

Shows that a message posted through process A reaches a Socket.IO client connected to process B, that the
notification it creates rings the recipient's bell on B, and that e-mail deliveries are sent exactly once even
with two dispatcher processes competing for the outbox.
"""
import os
import re
import threading
import time
import uuid

import pytest
import sqlalchemy as sa

from benchmarks import _common as proc

pytestmark = pytest.mark.scaleout

POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL")
REDIS_URL = os.environ.get("TEST_REDIS_URL")
if not (POSTGRES_URL and REDIS_URL):
    pytest.skip(
        "needs TEST_POSTGRES_URL and TEST_REDIS_URL (set by .ci/run) for the multi-process scale-out test",
        allow_module_level=True,
    )

POSTER = "moderator@example.com"  # Moderators may post on every ticket.


@pytest.fixture
def smtp():
    """A real SMTP server on a free port that keeps every mail."""
    with proc.smtp_server() as collector:
        yield collector


@pytest.fixture
def postgres_database():
    """A fresh PostgreSQL database for this test, dropped afterwards."""
    url = sa.make_url(POSTGRES_URL)
    name = f"ticketwerk_scaleout_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _wait(predicate, timeout=20, interval=0.05):
    """Poll until `predicate()` is true; return whether it became true in time."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


def _ticket_with_responsible(database_url):
    """(ticket number, e-mail of its responsible member): an unfinished ticket someone works on."""
    from app.enums import OfferState
    from app.models import Employee, Offer, Ticket
    from app.workflow import FINAL_STATUSES, TicketStatus

    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as connection:
            query = (
                sa.select(Ticket.id, Employee.email)
                .join(Offer, Offer.ticket_id == Ticket.id)
                .join(Employee, Employee.id == Offer.employee_id)
                .where(Offer.state == OfferState.ACCEPTED, Employee.email != POSTER, Employee.active.is_(True))
                .where(Ticket.status.not_in([*FINAL_STATUSES, TicketStatus.DRAFT]))
                .order_by(Ticket.id)
                .limit(1)
            )
            row = connection.execute(query).first()
    finally:
        engine.dispose()
    assert row is not None, "the demo data has no unfinished ticket with a responsible member"
    return tuple(row)


def _email_deliveries(database_url):
    """{status name: count} of the e-mail deliveries in the outbox."""
    from app.enums import Channel
    from app.models import Delivery

    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                sa.select(Delivery.status, sa.func.count()).where(Delivery.channel == Channel.EMAIL).group_by(Delivery.status)
            )
            return {status.name: count for status, count in rows}
    finally:
        engine.dispose()


def test_two_app_processes_share_sockets_bells_and_one_outbox(postgres_database, smtp):
    import socketio

    env = proc.base_env(
        FLASK_SQLALCHEMY_DATABASE_URI=postgres_database,
        FLASK_SOCKETIO_MESSAGE_QUEUE=REDIS_URL,
        FLASK_RATELIMIT_STORAGE_URI=REDIS_URL,
        FLASK_MAIL_SERVER="127.0.0.1",
        FLASK_MAIL_PORT=smtp.port,
        FLASK_PUBLIC_BASE_URL="https://service.example.com",
    )
    proc.prepare_database(env, tickets=40)
    number, recipient_email = _ticket_with_responsible(postgres_database)

    port_a, port_b = proc.free_port(), proc.free_port()
    processes = []
    listener = socketio.Client(reconnection=False)
    try:
        app_a = proc.gunicorn(port_a, env, name="app-a")
        processes.append(app_a)
        app_b = proc.gunicorn(port_b, env, name="app-b")
        processes.append(app_b)
        # Two dispatcher processes compete for the same outbox from the start.
        processes.append(proc.dispatcher(env, name="dispatcher-1"))
        processes.append(proc.dispatcher(env, name="dispatcher-2"))
        base_a, base_b = f"http://127.0.0.1:{port_a}", f"http://127.0.0.1:{port_b}"
        proc.wait_http(f"{base_a}/healthz", app_a)
        proc.wait_http(f"{base_b}/healthz", app_b)

        # The recipient listens on process B: in the ticket's room and (automatically) in her own user room.
        heard = {"messages": [], "bells": [], "joined": threading.Event()}
        listener.on("message-posted", lambda data: heard["messages"].append(data))
        listener.on("notification-added", lambda data: heard["bells"].append(data))
        listener.on("joined", lambda data: heard["joined"].set())
        recipient = proc.login(base_b, recipient_email)
        listener.connect(base_b, headers={"Cookie": proc.cookie_header(recipient)}, transports=["websocket"], wait_timeout=20)
        listener.emit("join_ticket", {"ticket": number})
        assert heard["joined"].wait(20), "process B did not confirm the room join"

        # The poster writes through process A over plain HTTP.
        poster = proc.login(base_a, POSTER)
        text = f"Across processes {uuid.uuid4().hex[:8]}"
        response = poster.post(
            f"{base_a}/tickets/{number}/messages", data={"body": text, "csrf_token": poster.csrf}, timeout=30
        )
        assert response.status_code < 400, response.text[:500]

        assert _wait(lambda: any(text in m.get("html", "") for m in heard["messages"])), (
            "the message posted on A never reached the socket on B",
            heard["messages"],
            app_a.log()[-2000:],
        )
        assert all(m["ticket"] == number for m in heard["messages"])
        assert _wait(lambda: heard["bells"]), "the notification created on A did not ring the bell on B"
        unread = re.search(r'data-count="(\d+)"', heard["bells"][-1]["html"])  # the frame carries the rendered bell
        assert unread and int(unread.group(1)) >= 1

        # More messages while both dispatchers run: every e-mail delivery still goes out exactly once.
        for burst in range(3):
            response = poster.post(
                f"{base_a}/tickets/{number}/messages",
                data={"body": f"{text} burst {burst}", "csrf_token": poster.csrf},
                timeout=30,
            )
            assert response.status_code < 400
        assert _wait(lambda: _email_deliveries(postgres_database).get("PENDING", 0) == 0, timeout=30), (
            _email_deliveries(postgres_database),
            processes[-1].log()[-2000:],
        )
        time.sleep(1.5)  # Time for a duplicate to show up, if a second dispatcher sent one.
        statuses = _email_deliveries(postgres_database)
        assert statuses.get("SENT", 0) >= 4, statuses
        assert len(smtp.mails) == statuses["SENT"], (len(smtp.mails), statuses)
        to_recipient = [mail for mail in smtp.mails if recipient_email in mail[0]]
        assert len(to_recipient) >= 4
        assert all(process.alive() for process in processes), [p.log()[-1500:] for p in processes if not p.alive()]
    finally:
        if listener.connected:
            listener.disconnect()
        for process in processes:
            process.stop()
