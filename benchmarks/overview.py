"""Tickets overview at 100,000 tickets: p50/p95 server time with and without filters and search.

Fills a scratch SQLite database with `flask demo --tickets N` (skipped with --reuse when it is already there),
then renders the overview through the Flask test client as a logged-in employee and prints the figures.

    .venv/bin/python benchmarks/overview.py [--tickets 100000] [--database /tmp/ticketwerk-bench.sqlite] [--reuse]
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CASES = [
    ("unfiltered (default: open work)", "/tickets"),
    ("all statuses", "/tickets?status=open&status=assigned&status=in_progress&status=done&status=closed&status=cancelled"),
    ("page 50", "/tickets?page=50"),
    ("status closed, sorted by priority", "/tickets?status=closed&sort=-priority"),
    ("visibility + priority + template", "/tickets?visibility=public&priority=high&template=1"),
    ("responsible = me", "/tickets?responsible=me"),
    ("offers for me", "/tickets?offers=me"),
    ("created range + rating", "/tickets?status=closed&rating=5&created_from=2026-01-01&created_to=2026-06-30"),
    ("search one word", "/tickets?q=Dichtung"),
    ("search two words, all statuses", "/tickets?q=presse+hoch&status=closed&status=open"),
    ("search by number", "/tickets?q=T-04242"),
    ("htmx results block", "/tickets?priority=high"),
]


def load(database, tickets):
    """Create the scratch database with the demo data and `tickets` bulk tickets."""
    for suffix in ("", "-wal", "-shm"):
        Path(database + suffix).unlink(missing_ok=True)
    env = dict(os.environ, FLASK_SQLALCHEMY_DATABASE_URI=f"sqlite:///{database}", FLASK_SECRET_KEY="benchmark")
    flask = [str(ROOT / ".venv" / "bin" / "flask"), "--app", "wsgi"]
    subprocess.run(flask + ["db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True)
    started = time.perf_counter()
    subprocess.run(flask + ["demo", "--tickets", str(tickets)], cwd=ROOT, env=env, check=True)
    print(f"Loaded in {time.perf_counter() - started:.1f} s")


def measure(client, url, rounds, headers=None):
    """Milliseconds per request for `rounds` requests (after two warm-up requests)."""
    for _ in range(2):
        client.get(url, headers=headers)
    timings = []
    for _ in range(rounds):
        started = time.perf_counter()
        response = client.get(url, headers=headers)
        timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    return timings


def main():
    """Load (unless reused), then print p50/p95 per case."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=100000)
    parser.add_argument("--database", default=os.path.join(tempfile.gettempdir(), "ticketwerk-bench.sqlite"))
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--reuse", action="store_true", help="use the database as it is when it exists")
    args = parser.parse_args()
    if not (args.reuse and os.path.exists(args.database)):
        load(args.database, args.tickets)

    import sqlalchemy as sa

    from app import create_app
    from app.extensions import db
    from app.models import Employee, Ticket

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{args.database}",
            "SECRET_KEY": "benchmark",
            "TESTING": True,
            "SOCKETIO_DISABLED": True,
            "NOTIFICATION_DISPATCHER_THREAD": False,
            "RATELIMIT_ENABLED": False,
        }
    )
    with app.app_context():
        total = db.session.scalar(sa.select(sa.func.count()).select_from(Ticket))
        anna = db.session.scalar(sa.select(Employee).filter_by(email="anna@example.com"))
        client = app.test_client()
        with client.session_transaction() as session:
            session["_user_id"] = anna.get_id()
            session["_fresh"] = True
        print(f"{total:,} tickets in {args.database}; {args.rounds} requests per case as {anna.email}")
        print(f"{'case':<40} {'p50 ms':>8} {'p95 ms':>8}")
        for name, url in CASES:
            headers = {"HX-Request": "true"} if name.startswith("htmx") else None
            timings = measure(client, url, args.rounds, headers)
            p95 = statistics.quantiles(timings, n=20)[18]
            print(f"{name:<40} {statistics.median(timings):8.1f} {p95:8.1f}")
            db.session.remove()


if __name__ == "__main__":
    main()
