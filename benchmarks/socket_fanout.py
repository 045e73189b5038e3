"""Socket.IO fan-out: N clients in one ticket room, send-to-receive latency and server memory per connection.

Starts the app under gunicorn (one gthread worker, as in production) on a scratch SQLite database with the demo
data and one ticket, connects N python-socketio clients over WebSocket as a logged-in moderator, lets them join
the ticket's room, then sends messages through the `send_message` socket event and measures, per message and
receiver, the time from sending to the `message-posted` event arriving. Prints p50/p95/max latency and the
worker's resident memory per connection (VmRSS before and after connecting).

    .venv/bin/python benchmarks/socket_fanout.py [--clients 200] [--messages 20] [--server gunicorn|werkzeug]

Each WebSocket holds one gthread thread for its lifetime, so the worker gets clients + 20 threads.

The clients are spread over a few processes (--client-processes, default 4): a python-socketio client decodes every
frame in Python, and 200 of them in one process spend about three times the server's CPU per message under one
interpreter lock, so the figure would measure the load generator's queue instead of the server. The send time travels
in the message text (wall clock of this machine), so every receiving process computes its own latencies.
"""
import argparse
import multiprocessing
import os
import re
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks._common import (
    BIN,
    Process,
    base_env,
    cookie_header,
    free_port,
    gunicorn,
    login,
    percentile,
    prepare_database,
    wait_http,
)

TICKET = 1
MARKER = re.compile(r"fanout-(\d+)-([\d.]+)-end")


def rss_kib(pid):
    """Resident memory of a process in KiB, from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


def worker_pid(arbiter_pid):
    """The gunicorn worker serving requests (the arbiter's only child); the process itself otherwise."""
    children_file = Path(f"/proc/{arbiter_pid}/task/{arbiter_pid}/children")
    children = children_file.read_text().split() if children_file.exists() else []
    return int(children[0]) if children else arbiter_pid


def start_server(kind, port, env, threads):
    """The app under gunicorn or the threaded werkzeug server."""
    if kind == "gunicorn":
        return gunicorn(port, env, threads=threads, name="fanout")
    env = dict(env, PORT=str(port), HOST="127.0.0.1")
    return Process([str(BIN / "python"), "wsgi.py"], env, "fanout")


class Receiver:
    """One Socket.IO client in the ticket room, timing every message it receives."""

    def __init__(self, url, cookie):
        import socketio

        self.client = socketio.Client(reconnection=False)
        self.latencies = []
        self.joined = threading.Event()
        self.client.on("message-posted", self._received)
        self.client.on("joined", lambda data: self.joined.set())
        self.url = url
        self.cookie = cookie

    def _received(self, data):
        arrived = time.time()
        match = MARKER.search(data.get("html", ""))
        if match:
            self.latencies.append((arrived - float(match.group(2))) * 1000)

    def connect(self):
        """Open the WebSocket and join the ticket room."""
        self.client.connect(self.url, headers={"Cookie": self.cookie}, transports=["websocket"], wait_timeout=30)
        self.client.emit("join_ticket", {"ticket": TICKET})


def receive(url, cookie, clients, messages, ready, sent_all, results):
    """One receiving process: `clients` sockets join the room, then report their latencies once all arrived."""
    receivers = [Receiver(url, cookie) for _ in range(clients)]
    try:
        for receiver in receivers:
            receiver.connect()
        for receiver in receivers:
            if not receiver.joined.wait(30):
                raise RuntimeError("a client did not get the joined ack")
        ready.put(None)
        sent_all.wait(600)
        deadline = time.monotonic() + 10
        while sum(len(r.latencies) for r in receivers) < clients * messages and time.monotonic() < deadline:
            time.sleep(0.05)
        results.put([value for receiver in receivers for value in receiver.latencies])
    except Exception as error:  # noqa: BLE001 - reported to the parent instead of dying silently
        ready.put(error)
        results.put([])
    finally:
        for receiver in receivers:
            receiver.client.disconnect()


def main():
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--messages", type=int, default=20)
    parser.add_argument("--interval", type=float, default=0.25, help="seconds between messages")
    parser.add_argument("--server", choices=("gunicorn", "werkzeug"), default="gunicorn")
    parser.add_argument("--client-processes", type=int, default=4, help="processes the clients are spread over")
    args = parser.parse_args()

    scratch = Path(tempfile.mkdtemp(prefix="ticketwerk-fanout-"))
    env = base_env(
        FLASK_SQLALCHEMY_DATABASE_URI=f"sqlite:///{scratch / 'fanout.sqlite'}",
        FLASK_UPLOAD_FOLDER=str(scratch / "uploads"),
        FLASK_RATELIMIT_ENABLED="false",
        # Every client comes from 127.0.0.1 here; in the field they are as many addresses.
        FLASK_SOCKET_CONNECTIONS_PER_ADDRESS=str(args.clients + 10),
    )
    print(f"Preparing a scratch database in {scratch} …")
    prepare_database(env, tickets=1)

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = start_server(args.server, port, env, threads=args.clients + 20)
    try:
        wait_http(f"{url}/login", server)
        session = login(url, "moderator@example.com")
        cookie = cookie_header(session)
        pid = worker_pid(server.pid) if args.server == "gunicorn" else server.pid
        time.sleep(0.5)
        rss_before = rss_kib(pid)

        context = multiprocessing.get_context("fork")
        ready, results, sent_all = context.Queue(), context.Queue(), context.Event()
        processes = max(1, min(args.client_processes, args.clients))
        shares = [args.clients // processes + (1 if index < args.clients % processes else 0) for index in range(processes)]
        workers = [
            context.Process(target=receive, args=(url, cookie, share, args.messages, ready, sent_all, results), daemon=True)
            for share in shares
        ]
        started = time.perf_counter()
        for worker in workers:
            worker.start()
        for _ in workers:
            outcome = ready.get(timeout=120)
            if outcome is not None:
                raise RuntimeError(f"a receiving process failed: {outcome!r}")
        connect_seconds = time.perf_counter() - started
        time.sleep(1)
        rss_after = rss_kib(pid)

        import socketio

        sender = socketio.Client(reconnection=False)
        sender.connect(url, headers={"Cookie": cookie}, transports=["websocket"], wait_timeout=30)
        for number in range(args.messages):
            answer = sender.call(
                "send_message", {"ticket": TICKET, "body": f"fanout-{number}-{time.time():.6f}-end"}, timeout=30
            )
            if not answer or not answer.get("ok"):
                raise RuntimeError(f"send_message refused: {answer}")
            time.sleep(args.interval)
        sent_all.set()
        latencies = [value for _ in workers for value in results.get(timeout=60)]
        for worker in workers:
            worker.join(timeout=30)
        expected = args.clients * args.messages

        print(f"Server: {args.server}, clients: {args.clients} in {processes} processes, messages: {args.messages}")
        print(f"Connected and joined in {connect_seconds:.1f} s")
        print(f"Deliveries: {len(latencies)} of {expected}")
        print(
            "Send-to-receive latency: p50 {:.1f} ms, p95 {:.1f} ms, max {:.1f} ms".format(
                percentile(latencies, 0.5), percentile(latencies, 0.95), max(latencies) if latencies else float("nan")
            )
        )
        per_connection = (rss_after - rss_before) / max(args.clients, 1)
        print(f"Server RSS: {rss_before / 1024:.1f} MiB before, {rss_after / 1024:.1f} MiB with clients "
              f"→ {per_connection:.0f} KiB per connection")
        sender.disconnect()
    finally:
        server.stop()


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
