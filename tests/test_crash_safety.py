"""Crash safety: the app process is SIGKILLed during a burst of writes on SQLite and restarted.

Shows that the database file stays intact (`PRAGMA integrity_check`), that every write the server acknowledged
is there after the restart, and that notification deliveries left pending by the crash are sent afterwards,
each exactly once.
"""
import sqlite3
import threading
import time
import uuid

import sqlalchemy as sa

from benchmarks import _common as proc

ACTOR = "moderator@example.com"  # Moderators may post and change the status on every ticket.
MESSAGE_THREADS = 4
STATUS_THREADS = 2
ACKNOWLEDGED_BEFORE_KILL = 40  # Kill once this many writes were answered, while the threads keep sending.


def _acknowledged(response):
    """A 2xx or 3xx answer: the server reported the write as done."""
    return 200 <= response.status_code < 400


def _pick_tickets(database_file):
    """Ticket numbers for the message threads and (number, status) pairs the status threads toggle."""
    from app.enums import OfferState
    from app.models import Offer, Ticket
    from app.workflow import TicketStatus

    engine = sa.create_engine(f"sqlite:///{database_file}")
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                sa.select(Ticket.id, Ticket.status)
                .join(Offer, Offer.ticket_id == Ticket.id)
                .where(Offer.state == OfferState.ACCEPTED)
                .where(Ticket.status.in_([TicketStatus.ASSIGNED, TicketStatus.IN_PROGRESS]))
                .order_by(Ticket.id)
                .distinct()
            ).all()
    finally:
        engine.dispose()
    assert len(rows) >= MESSAGE_THREADS + STATUS_THREADS, rows
    status_tickets = [(number, status.name) for number, status in rows[:STATUS_THREADS]]
    message_tickets = [number for number, _status in rows[STATUS_THREADS : STATUS_THREADS + MESSAGE_THREADS]]
    return message_tickets, status_tickets


class Burst:
    """Writer threads that remember which of their writes the server acknowledged."""

    def __init__(self, base_url, session, message_tickets, status_tickets):
        self.base_url = base_url
        self.session = session
        self.message_tickets = message_tickets
        self.status_tickets = status_tickets
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.messages = []  # (ticket, text) acknowledged
        self.transitions = {number: [] for number, _status in status_tickets}  # ticket → [(before, after)]
        self.refused = []  # status changes the server refused (none expected)
        self.tag = uuid.uuid4().hex[:8]
        self.threads = []

    def count(self):
        """Acknowledged writes so far."""
        with self.lock:
            return len(self.messages) + sum(len(done) for done in self.transitions.values())

    def _post(self, path, data):
        """One POST; None when the connection broke (the server died)."""
        try:
            return self.session.post(
                f"{self.base_url}{path}", data={**data, "csrf_token": self.session.csrf}, allow_redirects=False, timeout=15
            )
        except OSError:
            return None

    def _messages(self, index, number):
        """Post numbered messages to one ticket until stopped or the server is gone."""
        sequence = 0
        while not self.stop.is_set():
            text = f"crash-{self.tag}-{index}-{sequence}"
            response = self._post(f"/tickets/{number}/messages", {"body": text})
            if response is None:
                return
            if _acknowledged(response):
                with self.lock:
                    self.messages.append((number, text))
            sequence += 1

    def _statuses(self, number, status):
        """Toggle one ticket between ASSIGNED and IN_PROGRESS until stopped or the server is gone."""
        while not self.stop.is_set():
            event, after = ("start", "IN_PROGRESS") if status == "ASSIGNED" else ("pause", "ASSIGNED")
            response = self._post(f"/tickets/{number}/events", {"event": event})
            if response is None:
                return
            if not _acknowledged(response):
                with self.lock:
                    self.refused.append((number, event, response.status_code))
                return
            with self.lock:
                self.transitions[number].append((status, after))
            status = after

    def start(self):
        """Start every writer thread."""
        for index, number in enumerate(self.message_tickets):
            self.threads.append(threading.Thread(target=self._messages, args=(index, number), daemon=True))
        for number, status in self.status_tickets:
            self.threads.append(threading.Thread(target=self._statuses, args=(number, status), daemon=True))
        for thread in self.threads:
            thread.start()

    def join(self):
        """Stop and wait for the writers."""
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=30)


def _database_state(database_file, status_tickets, since_event_id):
    """(message bodies, {ticket: [(before, after)]} of status events after `since_event_id`, pending e-mails)."""
    connection = sqlite3.connect(database_file)
    try:
        bodies = {row[0] for row in connection.execute("SELECT body FROM messages")}
        transitions = {}
        for number, _status in status_tickets:
            rows = connection.execute(
                "SELECT before, after FROM ticket_events WHERE ticket_id = ? AND kind = 'status' AND id > ? ORDER BY id",
                (number, since_event_id),
            )
            transitions[number] = [tuple(row) for row in rows]
        return bodies, transitions
    finally:
        connection.close()


def _email_deliveries(database_file):
    """{status: count} of the e-mail deliveries in the outbox."""
    connection = sqlite3.connect(database_file)
    try:
        rows = connection.execute("SELECT status, COUNT(*) FROM deliveries WHERE channel = 'EMAIL' GROUP BY status")
        return dict(rows.fetchall())
    finally:
        connection.close()


def _wait(predicate, timeout, interval=0.1):
    """Poll until `predicate()` is true; return whether it became true in time."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


def test_sigkill_during_a_write_burst_loses_no_acknowledged_write(tmp_path):
    database_file = str(tmp_path / "ticketwerk.sqlite")
    with proc.smtp_server() as smtp:
        env = proc.base_env(
            FLASK_SQLALCHEMY_DATABASE_URI=f"sqlite:///{database_file}",
            FLASK_UPLOAD_FOLDER=str(tmp_path / "uploads"),
            FLASK_MAIL_SERVER="127.0.0.1",
            FLASK_MAIL_PORT=smtp.port,
            FLASK_PUBLIC_BASE_URL="https://service.example.com",
            FLASK_RATELIMIT_ENABLED="false",
        )
        proc.prepare_database(env, tickets=40)
        message_tickets, status_tickets = _pick_tickets(database_file)
        with sqlite3.connect(database_file) as connection:
            since_event_id = connection.execute("SELECT COALESCE(MAX(id), 0) FROM ticket_events").fetchone()[0]
        assert _email_deliveries(database_file).get("PENDING", 0) == 0

        port = proc.free_port()
        base_url = f"http://127.0.0.1:{port}"
        processes = []
        burst = None
        try:
            server = proc.gunicorn(port, env, threads=16, name="crash-app")
            processes.append(server)
            proc.wait_http(f"{base_url}/healthz", server)
            burst = Burst(base_url, proc.login(base_url, ACTOR), message_tickets, status_tickets)
            burst.start()
            assert _wait(lambda: burst.count() >= ACKNOWLEDGED_BEFORE_KILL, timeout=40), server.log()[-2000:]
            server.kill()  # SIGKILL to the whole process group, in the middle of the burst.
            burst.join()
            assert all(not thread.is_alive() for thread in burst.threads)
            assert not burst.refused, burst.refused

            # The file survived the crash.
            with sqlite3.connect(database_file) as connection:
                assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"

            pending = _email_deliveries(database_file).get("PENDING", 0)

            # Restart on the same file (with the dispatcher): it serves again, and every acknowledged write is there.
            restarted = proc.gunicorn(port, env, threads=16, name="crash-app-restarted")
            processes.append(restarted)
            processes.append(proc.dispatcher(env))
            proc.wait_http(f"{base_url}/healthz", restarted)
            assert proc.login(base_url, ACTOR).get(f"{base_url}/tickets/{message_tickets[0]}", timeout=30).ok
            bodies, transitions = _database_state(database_file, status_tickets, since_event_id)
            missing = [text for _number, text in burst.messages if text not in bodies]
            assert not missing, f"{len(missing)} acknowledged messages lost: {missing[:5]}"
            assert burst.messages, "no message was acknowledged before the crash"
            for number, acknowledged in burst.transitions.items():
                stored = transitions[number]
                # Each acknowledged status change is stored in order; at most one more got committed unanswered.
                assert stored[: len(acknowledged)] == acknowledged, (number, acknowledged, stored)
                assert len(stored) - len(acknowledged) <= 1, (number, acknowledged, stored)

            # Deliveries the crash left in the outbox go out after the restart, each exactly once.
            assert pending >= len(burst.messages) > 0
            assert _wait(lambda: _email_deliveries(database_file).get("PENDING", 0) == 0, timeout=40), (
                _email_deliveries(database_file),
                processes[-1].log()[-2000:],
            )
            time.sleep(1.0)  # Room for a duplicate to show up.
            statuses = _email_deliveries(database_file)
            assert statuses.get("SENT", 0) == pending, statuses
            assert len(smtp.mails) == pending
            with sqlite3.connect(database_file) as connection:
                assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
                assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        finally:
            if burst is not None:
                burst.stop.set()
            for process in processes:
                process.stop()
