"""Report timings at 100,000 tickets (issue: reports answer in ≤ 300 ms p95), on SQLite and PostgreSQL.

Uses the same cached 100,000-ticket database as run_all.py (built once; `load_bulk_tickets` fills the report
tables with `reports rebuild`). Measures, as a moderator, sequential keep-alive requests of the report page for
the default range (30 days), a year, the whole two years by month, a year filtered by template and customer, and a
CSV export; then the time of `flask reports rebuild` and of one ticket write's report update.

    .venv/bin/python benchmarks/reports.py [--tickets 100000] [--rounds 40] [--skip-postgres]
"""
import argparse
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks._common import (
    base_env,
    cookie_header,
    flask,
    free_port,
    gunicorn,
    login,
    percentile,
    wait_http,
)
from benchmarks.run_all import (
    cache_key,
    latencies,
    postgres_database,
    say,
    sqlite_database,
)

MODERATOR = "moderator@example.com"
TARGET_P95_MS = 300

SYNC_SCRIPT = """
import time
import sqlalchemy as sa
from app import create_app
from app.extensions import db
from app.models import Ticket
from app.services import reports
from app.workflow import TicketStatus

app = create_app()
with app.app_context():
    ids = db.session.scalars(sa.select(Ticket.id).where(Ticket.status == TicketStatus.IN_PROGRESS).limit(200)).all()
    timings = []
    for ticket_id in ids:
        ticket = db.session.get(Ticket, ticket_id)
        started = time.perf_counter()
        reports.sync_ticket(ticket)
        db.session.commit()
        timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    print(f"{timings[len(timings) // 2]:.2f} {timings[int(len(timings) * 0.95)]:.2f}")
"""


def cases(today):
    """(name, path) of the report requests measured."""
    year = (today - timedelta(days=364)).isoformat()
    whole = (today - timedelta(days=730)).isoformat()
    return [
        ("reports, last 30 days (default)", "/reports"),
        ("reports, last 365 days by week", f"/reports?start={year}&period=week"),
        ("reports, two years by month", f"/reports?start={whole}&period=month"),
        ("reports, 365 days, template + customer", f"/reports?start={year}&template=1&customer=1"),
        ("CSV of durations, two years", f"/reports/durations.csv?start={whole}"),
    ]


def measure(url, rounds, label):
    """Table rows of the report requests on the database at `url`, under gunicorn."""
    env = base_env(FLASK_SQLALCHEMY_DATABASE_URI=url, FLASK_RATELIMIT_ENABLED="false")
    port = free_port()
    server = gunicorn(port, env, threads=4, name="bench-reports")
    rows = []
    try:
        wait_http(f"http://127.0.0.1:{port}/healthz", server, timeout=120)
        cookie = cookie_header(login(f"http://127.0.0.1:{port}", MODERATOR))
        for name, path in cases(date.today()):
            say(f"  {label}: {name}: {path}")
            timings = latencies(port, cookie, path, rounds)
            p50, p95 = percentile(timings, 0.5), percentile(timings, 0.95)
            verdict = f"p95≤{TARGET_P95_MS} {'✓' if p95 <= TARGET_P95_MS else '✗'}"
            rows.append((f"{label}: {name}", f"{p50:.1f}", f"{p95:.1f}", verdict))
    finally:
        server.stop()
    return rows


def main():
    """Build or reuse the databases, measure, print one table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--skip-postgres", action="store_true")
    args = parser.parse_args()
    url, _facts = sqlite_database(args.tickets, cache_key())
    env = base_env(FLASK_SQLALCHEMY_DATABASE_URI=url, FLASK_RATELIMIT_ENABLED="false")
    rows = measure(url, args.rounds, "SQLite")
    started = time.perf_counter()
    flask(["reports", "rebuild"], env, timeout=1800)
    rows.append((f"SQLite: flask reports rebuild, {args.tickets:,} tickets (s)", f"{time.perf_counter() - started:.1f}", "", ""))
    result = subprocess.run([sys.executable, "-c", SYNC_SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=600, check=True)
    p50, p95 = result.stdout.split()
    rows.append(("SQLite: report update of one ticket write, in-process (ms)", p50, p95, "added to each ticket commit"))
    if not args.skip_postgres:
        try:
            rows += measure(postgres_database(args.tickets, cache_key())[0], args.rounds, "PostgreSQL")
        except Exception as error:  # noqa: BLE001 - the SQLite figures are still worth printing
            say(f"PostgreSQL run failed: {error}")
            rows.append(("PostgreSQL", "n/a", "n/a", "failed"))
    print(f"Reports at {args.tickets:,} tickets, gunicorn -w 1 --threads 4, {args.rounds} sequential requests each")
    header = ("figure", "p50 ms", "p95 ms", "target")
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(4)]
    for row in [header, tuple("-" * width for width in widths), *rows]:
        print(f"{row[0]:<{widths[0]}}  {row[1]:>{widths[1]}}  {row[2]:>{widths[2]}}  {row[3]}")


if __name__ == "__main__":
    main()
