"""Every performance figure of Ticketwerk in one run and one table (`make bench`, `make bench SCALE=1000000`).

- Tickets overview on SQLite under gunicorn (one gthread worker): p50/p95 server time (sequential requests over
  keep-alive) for the default list, filtered lists, every sort, a deep page by keyset cursor and a bare page
  number, full-text searches, beside the trivial `/healthz` of the same app and server; requests/s (concurrent
  keep-alive clients) for the main cases.
- The ticket page for a ticket with a dozen messages and updates, and for one with 500 messages and 100 updates.
- The database: the time `make demo TICKETS=N` took to build it and its size on disk.
- Socket.IO fan-out with 200 clients in one ticket room (benchmarks/socket_fanout.py).
- The messenger in the field (benchmarks/messenger_field.py): bytes and server time of one message post, and five
  messages typed on Chromium's emulated slow mobile network until all are confirmed.
- Page weight (benchmarks/page_weight.py): bytes and load time of the code user's and the staff's main pages on an
  emulated mobile network, first and repeat visit.
- Reports (benchmarks/reports.py): p50/p95 of the report page for 30 days, a year and two years, filtered, and a
  CSV export, as a moderator (target p95 ≤ 300 ms).
- Resident memory of the app worker after the runs.
- Ticket export (benchmarks/export.py): CSV and XLSX of 10 % and all of the tickets, time and peak memory growth,
  which stays flat (CSV only at the scale size).
- The same overview and ticket-page figures on PostgreSQL (127.0.0.1:5432, user postgres, a scratch database).

With `--scale N` (`make bench SCALE=N`) every figure that depends on the amount of data is measured at N tickets
too and printed next to the base size (100,000).

The databases are built once per size and kept: the SQLite file under /tmp/ticketwerk-bench/ and the PostgreSQL
database `ticketwerk_bench_<size>_<key>`, both keyed by the git hashes of the models, migrations and demo data.

    .venv/bin/python benchmarks/run_all.py [--tickets 100000] [--scale 1000000] [--seconds 4] [--skip-postgres]
"""
import argparse
import http.client
import json
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
from benchmarks import process as process_benchmark
from benchmarks._common import (
    base_env,
    cookie_header,
    free_port,
    gunicorn,
    login,
    mark,
    percentile,
    prepare_database,
    print_aligned,
    wait_http,
)

CACHE = Path("/tmp/ticketwerk-bench")
POSTGRES_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
VIEWER = "anna@example.com"
TARGET_P95_MS = 50  # overview and ticket page, sequential p95 (issue: a million tickets on one small process)
TARGET_SEARCH_P95_MS = 100  # full-text search
TARGET_RATIO = 0.30
TARGET_CHAT_P95_MS = 100
TARGET_RSS_MB = 90  # one app worker after the runs
THREAD_MESSAGES = 500
THREAD_UPDATES = 100
DOZEN = 12
EVERY_STATUS = "status=open&status=assigned&status=in_progress&status=done&status=closed&status=cancelled"
TRIVIAL = ("trivial /healthz", "/healthz")
# (name, path, p95 target in ms, measure requests/s too). "{deep}" is filled with a keyset cursor far down the list.
OVERVIEW_CASES = [
    ("overview default (open work, by activity)", "/tickets", TARGET_P95_MS, True),
    ("overview filtered: closed, high, by priority", "/tickets?status=closed&priority=high&sort=-priority", TARGET_P95_MS, True),
    ("overview filtered: template + visibility", "/tickets?template=1&visibility=public", TARGET_P95_MS, False),
    ("overview filtered: responsible = me", "/tickets?responsible=me", TARGET_P95_MS, False),
    ("overview filtered: created range + rating", f"/tickets?{EVERY_STATUS}&rating=5&created_from=2026-01-01&created_to=2026-06-30", TARGET_P95_MS, False),
    ("overview all statuses, oldest activity first", f"/tickets?{EVERY_STATUS}&sort=activity", TARGET_P95_MS, False),
    ("overview sorted by created, newest first", "/tickets?sort=-created", TARGET_P95_MS, False),
    ("overview sorted by created, oldest first", "/tickets?sort=created", TARGET_P95_MS, False),
    ("overview sorted by number", f"/tickets?{EVERY_STATUS}&sort=-number", TARGET_P95_MS, False),
    ("overview sorted by priority", "/tickets?sort=-priority", TARGET_P95_MS, False),
    ("overview sorted by due time", "/tickets?sort=due", TARGET_P95_MS, False),
    ("overview deep page by cursor (a fifth down the list)", "{deep}", TARGET_P95_MS, False),
    ("overview page 20 by number (OFFSET)", "/tickets?page=20", TARGET_P95_MS, False),
    ("search one word", "/tickets?q=Dichtung", TARGET_SEARCH_P95_MS, True),
    ("search two words, all statuses", f"/tickets?q=presse+hoch&{EVERY_STATUS}", TARGET_SEARCH_P95_MS, False),
    ("search by number", "/tickets?q=T-04242", TARGET_SEARCH_P95_MS, False),
]
PAGE_CASES = [
    ("ticket page, a dozen messages + a dozen updates", "dozen", TARGET_P95_MS),
    ("ticket page, 500 messages + 100 updates", "long", TARGET_P95_MS),
]


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
    """A fresh working copy of the cached SQLite database with `tickets` bulk tickets: (url, facts), the facts
    {"build_seconds", "bytes"} of the cached database (the seconds its build took, like `make demo TICKETS=N`)."""
    CACHE.mkdir(parents=True, exist_ok=True)
    cached = CACHE / f"overview-{tickets}-{key}.sqlite"
    facts_path = cached.with_suffix(".json")
    if not cached.exists():
        building = cached.with_suffix(".building")
        for suffix in ("", "-wal", "-shm"):
            Path(f"{building}{suffix}").unlink(missing_ok=True)
        say(f"Building {cached} with {tickets:,} tickets (once) …")
        started = time.perf_counter()
        prepare_database(base_env(FLASK_SQLALCHEMY_DATABASE_URI=f"sqlite:///{building}"), tickets=tickets)
        seconds = time.perf_counter() - started
        connection = sqlite3.connect(building)
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        connection.execute("PRAGMA journal_mode=DELETE")
        connection.close()
        building.rename(cached)
        facts_path.write_text(json.dumps({"build_seconds": seconds}))
    facts = json.loads(facts_path.read_text()) if facts_path.exists() else {"build_seconds": None}
    facts["bytes"] = cached.stat().st_size
    working = CACHE / f"run-{tickets}.sqlite"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{working}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(cached, working)
    return f"sqlite:///{working}", facts


def postgres_database(tickets, key):
    """The scratch PostgreSQL database with `tickets` bulk tickets (built when missing or incomplete): (url, facts)
    as sqlite_database gives them, the size from pg_database_size."""
    import sqlalchemy as sa

    name = f"ticketwerk_bench_{tickets}_{key}"
    url = sa.make_url(POSTGRES_ADMIN).set(database=name).render_as_string(hide_password=False)
    facts_path = CACHE / f"{name}.json"
    admin = sa.create_engine(POSTGRES_ADMIN, isolation_level="AUTOCOMMIT")
    try:
        ready = False
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
            ready = count >= tickets
            if not ready:
                with admin.connect() as connection:
                    connection.execute(sa.text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        if not ready:
            with admin.connect() as connection:
                connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
            say(f"Building PostgreSQL database {name} with {tickets:,} tickets (once) …")
            started = time.perf_counter()
            prepare_database(base_env(FLASK_SQLALCHEMY_DATABASE_URI=url), tickets=tickets)
            CACHE.mkdir(parents=True, exist_ok=True)
            facts_path.write_text(json.dumps({"build_seconds": time.perf_counter() - started}))
        with admin.connect() as connection:
            size = connection.scalar(sa.text("SELECT pg_database_size(:name)"), {"name": name})
    finally:
        admin.dispose()
    facts = json.loads(facts_path.read_text()) if facts_path.exists() else {"build_seconds": None}
    facts["bytes"] = size
    return url, facts


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

messages, updates, nth = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
app = create_app()
with app.app_context():
    anna = db.session.scalar(sa.select(Employee).filter_by(email="anna@example.com"))
    anna_template = db.session.scalar(sa.select(Ticket.template_id).where(Ticket.offers.any(employee_id=anna.id)).limit(1))
    ticket = db.session.scalar(
        sa.select(Ticket).where(Ticket.status == TicketStatus.IN_PROGRESS, Ticket.template_id == anna_template)
        .order_by(Ticket.id).offset(nth).limit(1)
    )
    if db.session.scalar(sa.select(sa.func.count()).select_from(Message).where(Message.ticket_id == ticket.id)) >= messages:
        print(ticket.id)  # added on an earlier run of the kept database
        raise SystemExit(0)
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


def add_thread(database_url, messages, updates, nth):
    """Give the `nth` in-progress ticket of Anna's fleet `messages` messages and `updates` updates (once); return
    its number."""
    env = base_env(FLASK_SQLALCHEMY_DATABASE_URI=database_url)
    command = [sys.executable, "-c", LONG_THREAD_SCRIPT, str(messages), str(updates), str(nth)]
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"adding the thread failed:\n{result.stderr}")
    return int(result.stdout.strip().splitlines()[-1])


DEEP_SCRIPT = """
import sys
import sqlalchemy as sa
from app import create_app
from app.blueprints.tickets import overview
from app.extensions import db
from app.models import Ticket

depth = int(sys.argv[1])
app = create_app()
with app.app_context():
    filters = overview.Filters()
    ticket = db.session.scalar(
        sa.select(Ticket).where(Ticket.status.in_(filters.effective_statuses))
        .order_by(*filters.order_by()).offset(depth).limit(1)
    )
    position = overview.Position.of(ticket, filters.sort)
    print("/tickets?" + "&".join(f"{key}={value}" for key, value in filters.to_args(page=depth // 50 + 2, after=position.encode()).items()))
"""


def deep_page_path(database_url, depth):
    """The overview URL of the page after row `depth` of the default list, by keyset cursor (as its Next link)."""
    env = base_env(FLASK_SQLALCHEMY_DATABASE_URI=database_url)
    result = subprocess.run([sys.executable, "-c", DEEP_SCRIPT, str(depth)], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=600, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"finding the deep page failed:\n{result.stderr}")
    return result.stdout.strip().splitlines()[-1]


def prepare_pages(database_url, tickets):
    """The data-dependent pages measured on a database: [(name, path, target, with requests/s)]."""
    depth = tickets // 5
    deep = deep_page_path(database_url, depth)
    pages = {"dozen": add_thread(database_url, DOZEN, DOZEN, 1), "long": add_thread(database_url, THREAD_MESSAGES, THREAD_UPDATES, 0)}
    cases = [(name, deep if path == "{deep}" else path, target, rate) for name, path, target, rate in OVERVIEW_CASES]
    cases += [(name, f"/tickets/{pages[key]}", target, False) for name, key, target in PAGE_CASES]
    return cases


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


def measure_server(database_url, args, cases):
    """Start gunicorn on the database and measure the trivial endpoint and `cases` ([(name, path, target, rate)]):
    {name: (p50, p95, requests/s or None)} plus "rss" (MB of the worker after the runs)."""
    env = base_env(FLASK_SQLALCHEMY_DATABASE_URI=database_url, FLASK_RATELIMIT_ENABLED="false")
    if args.malloc_arenas:
        env["MALLOC_ARENA_MAX"] = str(args.malloc_arenas)  # As in docs/deployment.md: caps glibc's per-thread heaps.
    port = free_port()
    server = gunicorn(port, env, threads=args.threads, name="bench")
    results = {}
    try:
        wait_http(f"http://127.0.0.1:{port}/healthz", server, timeout=300)
        cookie = cookie_header(login(f"http://127.0.0.1:{port}", VIEWER))
        for name, path, _target, with_rate in [(*TRIVIAL, None, True), *cases]:
            say(f"  {name}: {path}")
            timings = latencies(port, cookie, path, args.rounds)
            rate = throughput(port, cookie, path, args.concurrency, args.seconds) if with_rate else None
            results[name] = (percentile(timings, 0.5), percentile(timings, 0.95), rate)
        results["rss"] = worker_rss_mb(server.pid)
    finally:
        server.stop()
    return results


def measure_size(tickets, key, args):
    """Every data-dependent figure at `tickets` tickets: {"cases", "sqlite", "sqlite_facts", "postgres",
    "postgres_facts", "export"} (PostgreSQL and export None when skipped or failed)."""
    figures = {"tickets": tickets, "postgres": None, "postgres_facts": None, "export": None, "process": None}
    say(f"SQLite, {tickets:,} tickets: preparing the database …")
    url, figures["sqlite_facts"] = sqlite_database(tickets, key)
    figures["cases"] = prepare_pages(url, tickets)
    say(f"SQLite, {tickets:,} tickets: measuring under gunicorn …")
    figures["sqlite"] = measure_server(url, args, figures["cases"])
    say(f"SQLite, {tickets:,} tickets: start-up and memory of one worker …")
    try:
        figures["process"] = process_benchmark.measure(url, say=say)
    except RuntimeError as error:
        say(f"benchmarks/process.py failed: {error}")
    if not args.skip_export:
        say(f"Ticket export, {tickets:,} tickets …")
        try:
            kinds = ("csv", "xlsx") if tickets <= args.tickets else ("csv",)
            figures["export"] = export_benchmark.measure(url, tickets, say=say, kinds=kinds)
        except RuntimeError as error:
            say(f"benchmarks/export.py failed: {error}")
    if not args.skip_postgres:
        try:
            say(f"PostgreSQL, {tickets:,} tickets: preparing the database …")
            postgres_url, figures["postgres_facts"] = postgres_database(tickets, key)
            cases = prepare_pages(postgres_url, tickets)
            say(f"PostgreSQL, {tickets:,} tickets: measuring under gunicorn …")
            figures["postgres"] = measure_server(postgres_url, args, cases)
        except Exception as error:  # noqa: BLE001 - the SQLite figures are still worth printing
            say(f"PostgreSQL run failed: {error}")
    return figures


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


def size_columns(sizes):
    """The header cells of the per-size columns."""
    return [cell for figures in sizes for cell in (f"{figures['tickets']:,}: p50 ms", "p95 ms", "req/s")]


def database_rows(label, key, sizes):
    """Rows of one database's data-dependent figures, one column group per size; the verdict of the largest."""
    measured = [figures for figures in sizes if figures[key]]
    if not measured:
        return [(f"{label}", *[""] * (3 * len(sizes)), "skipped or failed")]
    rows = []
    facts = [figures[f"{key}_facts"] or {} for figures in sizes]
    build = [f"{fact['build_seconds']:.0f}" if fact.get("build_seconds") else "?" for fact in facts]
    rows.append((f"{label}: load (s, like make demo TICKETS=N)", *[cell for value in build for cell in (value, "", "")], ""))
    size = [f"{fact['bytes'] / 2**20:,.0f}" if fact.get("bytes") else "?" for fact in facts]
    rows.append((f"{label}: database size (MiB)", *[cell for value in size for cell in (value, "", "")], ""))
    largest = measured[-1][key]
    targets = {TRIVIAL[0]: None} | {name: target for name, _path, target, *_rate in [*OVERVIEW_CASES, *PAGE_CASES]}
    for name, target in targets.items():
        cells = []
        for figures in sizes:
            case = (figures[key] or {}).get(name)
            p50, p95, rate = case if case else (None, None, None)
            cells += [f"{p50:.1f}" if case else "n/a", f"{p95:.1f}" if case else "", f"{rate:,.0f}" if rate else ""]
        verdict = "reference" if target is None else f"p95≤{target} {mark(name in largest and largest[name][1] <= target)}"
        rows.append((f"{label}: {name}", *cells, verdict))
    if key == "sqlite":
        rows += process_rows(sizes)
    rss = [f"{figures[key]['rss']:.0f}" if figures[key] else "n/a" for figures in sizes]
    rows.append((f"{label}: RSS of the app worker after the runs (MB)", *[cell for value in rss for cell in (value, "", "")],
                 f"≤{TARGET_RSS_MB} {mark(largest['rss'] <= TARGET_RSS_MB)}"))
    return rows


def process_rows(sizes):
    """Rows of benchmarks/process.py's figures (start to first answer, idle RSS, RSS after a load), per size."""
    lines = [
        ("start to first answer, /healthz (ms, wall; CPU)", "start_healthz_ms", "start_healthz_cpu_ms", process_benchmark.TARGET_START_MS),
        ("start to first answer, /login (ms, wall; CPU)", "start_login_ms", "start_login_cpu_ms", process_benchmark.TARGET_START_MS),
        ("worker RSS idle after the first answer (MiB)", "idle_rss_mib", None, process_benchmark.TARGET_IDLE_MIB),
        ("worker RSS after a mixed load of 400 requests (MiB)", "loaded_rss_mib", None, process_benchmark.TARGET_LOADED_MIB),
    ]
    rows = []
    for name, key, cpu_key, target in lines:
        cells = []
        for figures in sizes:
            measured = figures["process"]
            if not measured:
                cells += ["n/a", "", ""]
                continue
            cells += [f"{measured[key]:,.0f}", f"{measured[cpu_key]:,.0f}" if cpu_key else "", ""]
        largest = next((figures["process"] for figures in reversed(sizes) if figures["process"]), None)
        verdict = f"≤{target:,} {mark(largest is not None and largest[key] <= target)}"
        rows.append((f"SQLite: {name}", *cells, verdict))
    return rows


def main():
    """Build or reuse the databases, run every measurement, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=100_000, help="the base size")
    parser.add_argument("--scale", type=int, default=0, help="a second, larger size measured next to the base")
    parser.add_argument("--rounds", type=int, default=60, help="sequential requests per case for p50/p95")
    parser.add_argument("--seconds", type=float, default=4.0, help="duration of each requests/s run")
    parser.add_argument("--concurrency", type=int, default=8, help="keep-alive clients of each requests/s run")
    parser.add_argument("--threads", type=int, default=8, help="gunicorn threads of the one worker")
    parser.add_argument("--clients", type=int, default=200, help="Socket.IO clients in the fan-out run")
    parser.add_argument("--malloc-arenas", type=int, default=2, help="MALLOC_ARENA_MAX of the app (0: glibc default)")
    parser.add_argument("--skip-fanout", action="store_true")
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--skip-export", action="store_true")
    parser.add_argument("--skip-reports", action="store_true")
    parser.add_argument("--skip-browser", action="store_true", help="skip the messenger and page-weight runs")
    args = parser.parse_args()
    key = cache_key()
    started = time.perf_counter()

    sizes = [measure_size(tickets, key, args) for tickets in sorted({args.tickets, args.scale} - {0})]

    chat = None
    if not args.skip_fanout:
        say(f"Socket.IO fan-out with {args.clients} clients …")
        chat = fanout(args.clients)
    field = weight = None
    if not args.skip_browser:
        say("Messenger in the field …")
        field = messenger_field()
        say("Page weight on a phone …")
        weight = page_weight()
    report_tables = []
    if not args.skip_reports:
        for figures in sizes:
            say(f"Reports, {figures['tickets']:,} tickets …")
            report_tables.append(reports_figures(figures["tickets"], args.skip_postgres))

    rows = database_rows("SQLite", "sqlite", sizes) + database_rows("PostgreSQL", "postgres", sizes)
    blank = [""] * (3 * len(sizes) - 3)
    if chat:
        rows.append((
            f"Socket.IO fan-out, {args.clients} clients, one room ({chat['delivered'][0]}/{chat['delivered'][1]} received)",
            f"{chat['p50']:.1f}", f"{chat['p95']:.1f}", "", *blank, f"p95≤{TARGET_CHAT_P95_MS} {mark(chat['p95'] <= TARGET_CHAT_P95_MS)}",
        ))
        if chat["rss"]:
            rows.append((f"RSS of the app worker with {args.clients} sockets (MB)", f"{chat['rss']:.0f}", "", "", *blank, ""))
    elif not args.skip_fanout:
        rows.append(("Socket.IO fan-out", "n/a", "", "", *blank, "benchmarks/socket_fanout.py failed"))
    if field:
        rows.append((f"Message post, 40-message thread ({field['bytes']:,.0f} bytes answered)", f"{field['p50']:.1f}", f"{field['p95']:.1f}", "", *blank, "in-process"))
        rows.append(("Five messages typed on a slow network: all confirmed (ms)", f"{field['confirmed']:,.0f}", "", "", *blank, f"staff sees the last after {field['arrived']:,.0f} ms"))
    elif not args.skip_browser:
        rows.append(("Messenger in the field", "n/a", "", "", *blank, "benchmarks/messenger_field.py failed"))

    print(
        f"Ticketwerk benchmark: {' and '.join(format(figures['tickets'], ',') for figures in sizes)} tickets, "
        f"gunicorn -w 1 --threads {args.threads}, p50/p95 from {args.rounds} sequential keep-alive requests, req/s "
        f"from {args.concurrency} keep-alive clients for {args.seconds:g} s, {os.cpu_count()} CPU cores"
    )
    print_aligned(("figure", *size_columns(sizes), "target"), rows, "<" + ">" * (3 * len(sizes)) + " ")
    if weight:
        print(weight)
    for figures in sizes:
        if figures["export"]:
            export_benchmark.print_results(figures["export"])
    for table in report_tables:
        print(table or "Reports: benchmarks/reports.py failed")
    print(f"(measured in {time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
