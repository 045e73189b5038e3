"""Every performance figure of Ticketwerk in one run and one table (`make bench`).

- Tickets overview at 100,000 tickets on SQLite under gunicorn (one gthread worker): p50/p95 server time
  (sequential requests over keep-alive) and requests/s (concurrent keep-alive clients) for the unfiltered list,
  a filtered list and a search, beside the trivial `/healthz` of the same app and server, and the ratio.
- A ticket page with 500 messages and 100 updates.
- Socket.IO fan-out with 200 clients in one ticket room (benchmarks/socket_fanout.py).
- The messenger in the field (benchmarks/messenger_field.py): bytes and server time of one message post, and five
  messages typed on Chromium's emulated slow mobile network until all are confirmed.
- Page weight (benchmarks/page_weight.py): bytes and load time of the code user's and the staff's main pages on an
  emulated mobile network, first and repeat visit.
- Reports (benchmarks/reports.py): p50/p95 of the report page for 30 days, a year and two years, filtered, and a
  CSV export, as a moderator (target p95 ≤ 300 ms); the time of `flask reports rebuild` and of one write's update.
- Resident memory of the app worker after the runs.
- Ticket export (benchmarks/export.py): CSV and XLSX of 10,000 and 100,000 tickets, time and peak memory growth,
  which stays flat.
- The same overview figures on PostgreSQL (127.0.0.1:5432, user postgres, a scratch database).

The 100,000-ticket databases are built once and kept: the SQLite file under /tmp/ticketwerk-bench/ and the
PostgreSQL database `ticketwerk_bench_<key>`, both keyed by the git hashes of the models, migrations and demo data.

    .venv/bin/python benchmarks/run_all.py [--tickets 100000] [--seconds 4] [--concurrency 8] [--skip-postgres]
"""
import argparse
import http.client
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks import export as export_benchmark
from benchmarks._common import (
    base_env,
    cookie_header,
    free_port,
    gunicorn,
    login,
    percentile,
    prepare_database,
    print_aligned,
    wait_http,
)

CACHE = Path("/tmp/ticketwerk-bench")
POSTGRES_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
VIEWER = "anna@example.com"
OVERVIEW_CASES = [
    ("overview unfiltered", "/tickets"),
    ("overview filtered", "/tickets?status=closed&priority=high&sort=-priority"),
    ("overview search", "/tickets?q=Dichtung"),
]
TRIVIAL = ("trivial /healthz", "/healthz")
TARGET_P95_MS = 50
TARGET_RATIO = 0.30
TARGET_CHAT_P95_MS = 100
TARGET_RSS_MB = 150
THREAD_MESSAGES = 500
THREAD_UPDATES = 100


def cache_key():
    """Short hash of what shapes the benchmark data: models, migrations, demo data."""
    import hashlib

    paths = ["app/models", "migrations/versions", "app/demo_data.py"]
    result = subprocess.run(
        ["git", "rev-parse", *[f"HEAD:{path}" for path in paths]], cwd=ROOT, capture_output=True, text=True, check=False
    )
    text = result.stdout if result.returncode == 0 else str(time.time())
    return hashlib.sha1(text.encode()).hexdigest()[:12]


def say(text):
    """Progress on stderr, so stdout carries only the table."""
    print(text, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- databases


def sqlite_database(tickets, key):
    """A fresh working copy of the cached SQLite database with `tickets` bulk tickets."""
    CACHE.mkdir(parents=True, exist_ok=True)
    cached = CACHE / f"overview-{tickets}-{key}.sqlite"
    if not cached.exists():
        building = cached.with_suffix(".building")
        for suffix in ("", "-wal", "-shm"):
            Path(f"{building}{suffix}").unlink(missing_ok=True)
        say(f"Building {cached} with {tickets:,} tickets (once; takes a few minutes) …")
        prepare_database(base_env(FLASK_SQLALCHEMY_DATABASE_URI=f"sqlite:///{building}"), tickets=tickets)
        connection = sqlite3.connect(building)
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        connection.execute("PRAGMA journal_mode=DELETE")
        connection.close()
        building.rename(cached)
    working = CACHE / "run.sqlite"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{working}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(cached, working)
    return f"sqlite:///{working}"


def postgres_database(tickets, key):
    """The scratch PostgreSQL database with `tickets` bulk tickets (built when missing or incomplete)."""
    import sqlalchemy as sa

    name = f"ticketwerk_bench_{tickets}_{key}"
    url = sa.make_url(POSTGRES_ADMIN).set(database=name).render_as_string(hide_password=False)
    admin = sa.create_engine(POSTGRES_ADMIN, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            exists = connection.scalar(sa.text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name})
        if exists:
            engine = sa.create_engine(url)
            try:
                with engine.connect() as connection:
                    count = connection.scalar(sa.text("SELECT count(*) FROM tickets"))
            except sa.exc.SQLAlchemyError:
                count = -1
            finally:
                engine.dispose()
            if count >= tickets:
                return url
            with admin.connect() as connection:
                connection.execute(sa.text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        with admin.connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    say(f"Building PostgreSQL database {name} with {tickets:,} tickets (once; takes a few minutes) …")
    prepare_database(base_env(FLASK_SQLALCHEMY_DATABASE_URI=url), tickets=tickets)
    return url


LONG_THREAD_SCRIPT = """
import sys
from datetime import timedelta
import sqlalchemy as sa
from app import create_app
from app.enums import MessageKind, Visibility
from app.extensions import db
from app.models import Employee, Message, Ticket, Update
from app.models._types import utcnow
from app.workflow import TicketStatus

messages, updates = int(sys.argv[1]), int(sys.argv[2])
app = create_app()
with app.app_context():
    anna = db.session.scalar(sa.select(Employee).filter_by(email="anna@example.com"))
    ticket = db.session.scalar(sa.select(Ticket).where(Ticket.status == TicketStatus.IN_PROGRESS).order_by(Ticket.id))
    start = utcnow() - timedelta(days=30)
    words = "Die Presse verliert Öl an der Dichtung, bitte prüfen und Rückmeldung geben. **Danke**"
    for index in range(messages):
        db.session.add(Message(ticket_id=ticket.id, kind=MessageKind.TEXT, body=f"{index}: {words}",
                               author_employee_id=anna.id if index % 2 else None,
                               created_at=start + timedelta(minutes=index)))
    for index in range(updates):
        db.session.add(Update(ticket_id=ticket.id, body=f"Update {index}: {words}", author_employee_id=anna.id,
                              visibility=Visibility.PUBLIC if index % 3 else Visibility.INTERNAL,
                              created_at=start + timedelta(minutes=index * 5)))
    db.session.commit()
    print(ticket.id)
"""


def add_long_thread(database_url):
    """Give one in-progress ticket 500 messages and 100 updates; return its number."""
    env = base_env(FLASK_SQLALCHEMY_DATABASE_URI=database_url)
    command = [sys.executable, "-c", LONG_THREAD_SCRIPT, str(THREAD_MESSAGES), str(THREAD_UPDATES)]
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"adding the long thread failed:\n{result.stderr}")
    return int(result.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------- load generation


class Client:
    """One keep-alive HTTP connection carrying the logged-in session cookie."""

    def __init__(self, port, cookie):
        self.port = port
        self.cookie = cookie
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def get(self, path):
        """GET `path`; the status code (reconnects once when the server closed the connection)."""
        for attempt in range(2):
            try:
                self.connection.request("GET", path, headers={"Cookie": self.cookie})
                response = self.connection.getresponse()
                response.read()
                return response.status
            except (http.client.HTTPException, OSError):
                self.connection.close()
                self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
                if attempt:
                    raise
        return None


def latencies(port, cookie, path, rounds):
    """Milliseconds per request, one request at a time (the server's own time plus loopback)."""
    client = Client(port, cookie)
    for _ in range(3):
        client.get(path)
    timings = []
    for _ in range(rounds):
        started = time.perf_counter()
        status = client.get(path)
        timings.append((time.perf_counter() - started) * 1000)
        if status != 200:
            raise RuntimeError(f"GET {path} answered {status}")
    return timings


def throughput(port, cookie, path, concurrency, seconds):
    """Requests per second with `concurrency` keep-alive clients hammering `path` for `seconds`."""
    stop = threading.Event()
    counts = [0] * concurrency
    errors = []

    def hammer(index):
        client = Client(port, cookie)
        while not stop.is_set():
            status = client.get(path)
            if status != 200:
                errors.append(status)
                return
            counts[index] += 1

    threads = [threading.Thread(target=hammer, args=(index,), daemon=True) for index in range(concurrency)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    time.sleep(seconds)
    stop.set()
    for thread in threads:
        thread.join(timeout=60)
    elapsed = time.perf_counter() - started
    if errors:
        raise RuntimeError(f"GET {path} answered {errors[0]} under load")
    return sum(counts) / elapsed


def worker_rss_mb(arbiter_pid):
    """Resident memory of the gunicorn worker (the arbiter's child) in MB."""
    children = Path(f"/proc/{arbiter_pid}/task/{arbiter_pid}/children").read_text().split()
    pid = int(children[0]) if children else arbiter_pid
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def measure_server(database_url, args, extra_pages=()):
    """Start gunicorn on the database and measure the trivial endpoint, the overview cases and `extra_pages`."""
    env = base_env(FLASK_SQLALCHEMY_DATABASE_URI=database_url, FLASK_RATELIMIT_ENABLED="false")
    if args.malloc_arenas:
        env["MALLOC_ARENA_MAX"] = str(args.malloc_arenas)  # As in docs/deployment.md: caps glibc's per-thread heaps.
    port = free_port()
    server = gunicorn(port, env, threads=args.threads, name="bench")
    results = {}
    try:
        wait_http(f"http://127.0.0.1:{port}/healthz", server, timeout=120)
        cookie = cookie_header(login(f"http://127.0.0.1:{port}", VIEWER))
        for name, path in [TRIVIAL, *OVERVIEW_CASES, *extra_pages]:
            say(f"  {name}: {path}")
            timings = latencies(port, cookie, path, args.rounds)
            rate = throughput(port, cookie, path, args.concurrency, args.seconds)
            results[name] = (percentile(timings, 0.5), percentile(timings, 0.95), rate)
        results["rss"] = worker_rss_mb(server.pid)
    finally:
        server.stop()
    return results


def fanout(clients):
    """Socket.IO fan-out p50/p95 from benchmarks/socket_fanout.py."""
    script = ROOT / "benchmarks" / "socket_fanout.py"
    if not script.exists():
        return None
    result = subprocess.run(
        [sys.executable, str(script), "--clients", str(clients)],
        cwd=ROOT, capture_output=True, text=True, timeout=900, check=False,
    )
    match = re.search(r"p50 ([\d.]+) ms, p95 ([\d.]+) ms", result.stdout)
    delivered = re.search(r"Deliveries: (\d+) of (\d+)", result.stdout)
    if result.returncode != 0 or not match:
        say(f"socket_fanout.py failed:\n{result.stdout}\n{result.stderr[-3000:]}")
        return None
    rss = re.search(r"([\d.]+) MiB with clients", result.stdout)
    return {
        "p50": float(match.group(1)),
        "p95": float(match.group(2)),
        "delivered": delivered.groups() if delivered else ("?", "?"),
        "rss": float(rss.group(1)) if rss else None,
    }


def messenger_field():
    """Figures of benchmarks/messenger_field.py: {"bytes", "p50", "p95", "confirmed", "arrived"}, or None."""
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "messenger_field.py")],
        cwd=ROOT, capture_output=True, text=True, timeout=900, check=False,
    )
    post = re.search(r"answer: ([\d,]+) bytes; server p50 ([\d.]+) ms, p95 ([\d.]+) ms", result.stdout)
    slow = re.search(r"confirmed after ([\d,]+) ms, last shown to staff after ([\d,]+) ms", result.stdout)
    if result.returncode != 0 or not post or not slow:
        say(f"messenger_field.py failed:\n{result.stdout}\n{result.stderr[-3000:]}")
        return None
    number = lambda text: float(text.replace(",", ""))
    return {
        "bytes": number(post.group(1)), "p50": float(post.group(2)), "p95": float(post.group(3)),
        "confirmed": number(slow.group(1)), "arrived": number(slow.group(2)),
    }


# ---------------------------------------------------------------- the table


def page_weight():
    """The table benchmarks/page_weight.py prints (bytes and load time of five pages on a phone), or None."""
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "page_weight.py")],
        cwd=ROOT, capture_output=True, text=True, timeout=600, check=False,
    )
    if result.returncode != 0 or "first" not in result.stdout:
        say(f"page_weight.py failed:\n{result.stdout}\n{result.stderr[-3000:]}")
        return None
    return result.stdout.rstrip()


def reports_figures(tickets, skip_postgres):
    """The table benchmarks/reports.py prints (report timings on the same databases), or None."""
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "reports.py"), "--tickets", str(tickets),
         *(["--skip-postgres"] if skip_postgres else [])],
        cwd=ROOT, capture_output=True, text=True, timeout=3600, check=False,
    )
    if result.returncode != 0 or "p95" not in result.stdout:
        say(f"reports.py failed:\n{result.stdout}\n{result.stderr[-3000:]}")
        return None
    return result.stdout.rstrip()


def mark(ok):
    """✓ or ✗."""
    return "✓" if ok else "✗"


def overview_rows(label, results):
    """Table rows of one database's overview figures."""
    trivial_rate = results[TRIVIAL[0]][2]
    p50, p95, rate = results[TRIVIAL[0]]
    rows = [(f"{label}: {TRIVIAL[0]}", f"{p50:.1f}", f"{p95:.1f}", f"{rate:,.0f}", "", "reference")]
    for name, _path in OVERVIEW_CASES:
        p50, p95, rate = results[name]
        ratio = rate / trivial_rate if trivial_rate else 0
        verdict = (
            f"p95≤{TARGET_P95_MS} {mark(p95 <= TARGET_P95_MS)}  ratio≥{TARGET_RATIO:.0%} {mark(ratio >= TARGET_RATIO)}"
        )
        rows.append((f"{label}: {name}", f"{p50:.1f}", f"{p95:.1f}", f"{rate:,.0f}", f"{ratio:.0%}", verdict))
    return rows


def print_table(rows):
    """One aligned table on stdout."""
    print_aligned(("figure", "p50 ms", "p95 ms", "req/s", "ratio", "target"), rows, "<>>>> ")


def main():
    """Build or reuse the databases, run every measurement, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=60, help="sequential requests per case for p50/p95")
    parser.add_argument("--seconds", type=float, default=4.0, help="duration of each requests/s run")
    parser.add_argument("--concurrency", type=int, default=8, help="keep-alive clients of each requests/s run")
    parser.add_argument("--threads", type=int, default=8, help="gunicorn threads of the one worker")
    parser.add_argument("--clients", type=int, default=200, help="Socket.IO clients in the fan-out run")
    parser.add_argument("--malloc-arenas", type=int, default=2, help="MALLOC_ARENA_MAX of the app (0: glibc default)")
    parser.add_argument("--skip-fanout", action="store_true")
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--skip-export", action="store_true")
    args = parser.parse_args()
    key = cache_key()
    started = time.perf_counter()

    say("SQLite: preparing the database …")
    sqlite_url = sqlite_database(args.tickets, key)
    thread_ticket = add_long_thread(sqlite_url)
    thread_page = ("ticket page, 500 messages + 100 updates", f"/tickets/{thread_ticket}")
    say("SQLite: measuring under gunicorn …")
    sqlite_results = measure_server(sqlite_url, args, extra_pages=[thread_page])

    chat = None
    if not args.skip_fanout:
        say(f"Socket.IO fan-out with {args.clients} clients …")
        chat = fanout(args.clients)

    say("Messenger in the field …")
    field = messenger_field()

    say("Page weight on a phone …")
    weight = page_weight()

    exports = None
    if not args.skip_export:
        say("Ticket export …")
        try:
            exports = export_benchmark.measure(sqlite_url, args.tickets, say=say)
        except RuntimeError as error:
            say(f"benchmarks/export.py failed: {error}")

    say("Reports …")
    report_table = reports_figures(args.tickets, args.skip_postgres)

    postgres_results = None
    if not args.skip_postgres:
        try:
            say("PostgreSQL: preparing the database …")
            postgres_url = postgres_database(args.tickets, key)
            say("PostgreSQL: measuring under gunicorn …")
            postgres_results = measure_server(postgres_url, args)
        except Exception as error:  # noqa: BLE001 - the SQLite figures are still worth printing
            say(f"PostgreSQL run failed: {error}")

    rows = overview_rows("SQLite", sqlite_results)
    p50, p95, rate = sqlite_results[thread_page[0]]
    rows.append((f"SQLite: {thread_page[0]}", f"{p50:.1f}", f"{p95:.1f}", f"{rate:,.0f}", "", f"p95≤{TARGET_P95_MS} {mark(p95 <= TARGET_P95_MS)}"))
    if chat:
        rows.append(
            (
                f"Socket.IO fan-out, {args.clients} clients, one room ({chat['delivered'][0]}/{chat['delivered'][1]} received)",
                f"{chat['p50']:.1f}", f"{chat['p95']:.1f}", "", "",
                f"p95≤{TARGET_CHAT_P95_MS} {mark(chat['p95'] <= TARGET_CHAT_P95_MS)}",
            )
        )
    else:
        rows.append(("Socket.IO fan-out", "n/a", "n/a", "", "", "skipped, or benchmarks/socket_fanout.py failed"))
    if field:
        rows.append((f"Message post, 40-message thread ({field['bytes']:,.0f} bytes answered)", f"{field['p50']:.1f}", f"{field['p95']:.1f}", "", "", "in-process"))
        rows.append(("Five messages typed on a slow network: all confirmed (ms)", f"{field['confirmed']:,.0f}", "", "", "", f"staff sees the last after {field['arrived']:,.0f} ms"))
    else:
        rows.append(("Messenger in the field", "n/a", "", "", "", "benchmarks/messenger_field.py failed"))
    rss = sqlite_results["rss"]
    rows.append(("RSS of the app worker after the SQLite runs (MB)", f"{rss:.0f}", "", "", "", f"≤{TARGET_RSS_MB} {mark(rss <= TARGET_RSS_MB)}"))
    if chat and chat["rss"]:
        rows.append((f"RSS of the app worker with {args.clients} sockets (MB)", f"{chat['rss']:.0f}", "", "", "", f"≤{TARGET_RSS_MB} {mark(chat['rss'] <= TARGET_RSS_MB)}"))
    if postgres_results:
        rows += overview_rows("PostgreSQL", postgres_results)
        rss = postgres_results["rss"]
        rows.append(("RSS of the app worker after the PostgreSQL runs (MB)", f"{rss:.0f}", "", "", "", f"≤{TARGET_RSS_MB} {mark(rss <= TARGET_RSS_MB)}"))
    else:
        rows.append(("PostgreSQL overview", "n/a", "", "", "", "skipped or failed"))

    print(
        f"Ticketwerk benchmark: {args.tickets:,} tickets, gunicorn -w 1 --threads {args.threads}, "
        f"p50/p95 from {args.rounds} sequential keep-alive requests, req/s from {args.concurrency} "
        f"keep-alive clients for {args.seconds:g} s, {os.cpu_count()} CPU cores"
    )
    print_table(rows)
    print(weight or "Page weight: benchmarks/page_weight.py failed")
    if exports:
        export_benchmark.print_results(exports)
    elif not args.skip_export:
        print("Ticket export: benchmarks/export.py failed")
    print(report_table or "Reports: benchmarks/reports.py failed")
    print(f"(measured in {time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
