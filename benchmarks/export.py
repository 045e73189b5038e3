"""Ticket export at 10,000 and 100,000 tickets, CSV and XLSX: time, bytes and peak memory growth of the process.

Each export runs in a fresh process on the benchmark's SQLite database (100,000 bulk tickets, built once and kept
by benchmarks/run_all.py), through the real view (`/tickets/export.<kind>` with every status chosen, as the
administrator, streamed and read chunk by chunk). Memory is the growth of the process's peak RSS over a warmed-up
baseline (`ru_maxrss`), and with `--tracemalloc` also Python's traced peak. Flat memory shows as about the same
growth for 10,000 and 100,000 tickets.

    .venv/bin/python benchmarks/export.py [--tickets 100000] [--tracemalloc]
"""
import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

ALL_STATUSES = "status=open&status=assigned&status=in_progress&status=done&status=closed&status=cancelled"
VIEWER = "admin@example.com"
TARGET_GROWTH_RATIO = 1.5  # growth at 100,000 tickets at most this many times the growth at 10,000

CHILD = r"""
import json, resource, sys, time, tracemalloc
from datetime import timedelta
import sqlalchemy as sa
from app import create_app
from app.extensions import db
from app.models import Employee, Ticket

kind, limit, traced, viewer, statuses = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "1", sys.argv[4], sys.argv[5]
app = create_app()
app.config.update(RATELIMIT_ENABLED=False, SERVER_NAME="localhost")
with app.app_context():
    employee = db.session.scalar(sa.select(Employee).filter_by(email=viewer))
    # The day of the limit-th ticket: created_to that day keeps about `limit` tickets (whole days count).
    day = db.session.scalar(sa.select(Ticket.created_at).where(Ticket.status != "DRAFT").order_by(Ticket.created_at)
                            .offset(max(limit - 1, 0)).limit(1))
    query = statuses + (f"&created_to={day.date().isoformat()}" if day is not None else "")
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = employee.get_id()
        session["_fresh"] = True
    db.session.remove()

    def export(path):
        response = client.get(path, buffered=False)
        assert response.status_code == 200, response.status_code
        size = rows = 0
        for chunk in response.response:
            size += len(chunk)
            if kind == "csv":
                rows += chunk.count(b"\r\n")
        response.close()
        return size, rows

    export(f"/tickets/export.{kind}?{statuses}&created_to=1970-01-01")  # warm up: imports, caches, first queries
    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if traced:
        tracemalloc.start()
    started = time.perf_counter()
    size, rows = export(f"/tickets/export.{kind}?{query}")
    seconds = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1] if traced else None
    growth = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - baseline
    until = Ticket.created_at < day.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
    count = db.session.scalar(sa.select(sa.func.count(Ticket.id)).where(Ticket.status != "DRAFT", until))
    print(json.dumps({"kind": kind, "tickets": count, "seconds": seconds, "bytes": size, "rss_growth_kb": growth,
                      "traced_peak": peak}))
"""


def run_one(database_url, kind, limit, traced=False):
    """One export in a fresh process: {"kind", "tickets", "seconds", "bytes", "rss_growth_kb", "traced_peak"}."""
    from benchmarks._common import base_env

    env = base_env(FLASK_SQLALCHEMY_DATABASE_URI=database_url)
    command = [sys.executable, "-c", CHILD, kind, str(limit), "1" if traced else "0", VIEWER, ALL_STATUSES]
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=1800, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"export {kind} {limit} failed:\n{result.stdout}\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def measure(database_url, tickets=100_000, traced=False, say=print, kinds=("csv", "xlsx")):
    """Every (kind, size) export on the database, for each of `kinds`: a list of result dicts, small before big for
    each kind."""
    results = []
    for kind in kinds:
        for limit in (tickets // 10, tickets):
            say(f"  export {kind}, about {limit:,} tickets …")
            results.append(run_one(database_url, kind, limit, traced))
    return results


def print_results(results):
    """The figures as a table of their own on stdout."""
    header = ("export", "tickets", "seconds", "file MB", "peak RSS growth MB", "traced peak MB", "vs 10 %")
    rows = []
    by_kind = {}
    for result in results:
        by_kind.setdefault(result["kind"], []).append(result)
    for kind, (small, big) in by_kind.items():
        ratio = big["rss_growth_kb"] / max(small["rss_growth_kb"], 1)
        for result in (small, big):
            traced = f"{result['traced_peak'] / 1e6:.1f}" if result["traced_peak"] else "—"
            verdict = (f"{ratio:.2f}× (≤{TARGET_GROWTH_RATIO}× {'✓' if ratio <= TARGET_GROWTH_RATIO else '✗'})"
                       if result is big else "reference")
            rows.append((
                kind.upper(), f"{result['tickets']:,}", f"{result['seconds']:.1f}", f"{result['bytes'] / 1e6:.1f}",
                f"{result['rss_growth_kb'] / 1024:.1f}", traced, verdict,
            ))
    from benchmarks._common import print_aligned

    print("Ticket export, streamed through /tickets/export.<kind> in a fresh process each:")
    print_aligned(header, rows, ">" * len(header))


def main():
    """Build or reuse the 100,000-ticket database and print the export figures."""
    from benchmarks.run_all import cache_key, sqlite_database

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--tracemalloc", action="store_true", help="also trace Python's allocations (slower)")
    args = parser.parse_args()
    started = time.perf_counter()
    database_url, _facts = sqlite_database(args.tickets, cache_key())
    results = measure(database_url, args.tickets, args.tracemalloc, say=lambda text: print(text, file=sys.stderr))
    print_results(results)
    print(f"(measured in {time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
