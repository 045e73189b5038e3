"""How lean one app process is: start to first answer, idle RSS and RSS after a fixed load of the main pages.

The app runs as in production and in benchmarks/run_all.py: `python -OO -m gunicorn -w 1 --threads 8 wsgi:app` with
MALLOC_ARENA_MAX=2, rate limits off. Figures:

- start to first answer (ms, median of `--starts` fresh starts each, after one warm-up start that leaves compiled
  bytecode behind as any installed app has it): from spawning gunicorn to the first 200 of
  GET /healthz (no database, no template), and separately of GET /login (a real page: database, session, template);
- idle RSS (MiB): VmRSS of the worker (the arbiter's child) one second after its first /login answer;
- RSS after load (MiB): VmRSS of the same worker after a fixed load of `--requests` GETs by 8 keep-alive clients,
  spread over the overview (plain, filtered, searched, paged), ticket pages, the reports page as moderator, and the
  API list with a bearer token.

Targets (issue 20): start ≤ 1,000 ms, idle ≤ 75 MiB, after load ≤ 90 MiB.

    .venv/bin/python benchmarks/process.py [--database sqlite:////tmp/x.sqlite | postgresql+psycopg://…]
        [--tickets 20000] [--starts 5] [--requests 400]

Without --database a SQLite file with the demo data and `--tickets` bulk tickets is built once under
/tmp/ticketwerk-bench/ and copied for the run. Other scripts import `measure(database_url) -> dict`.
"""
import argparse
import datetime
import http.client
import json
import os
import statistics
import sys
import threading
import time
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
    mark,
    print_aligned,
)

CACHE = Path("/tmp/ticketwerk-bench")
PYCACHE = CACHE / "pycache"
VIEWER = "anna@example.com"
MODERATOR = "moderator@example.com"
THREADS = 8
CLIENTS = 8
MALLOC_ARENA_MAX = 2
IDLE_SETTLE_SECONDS = 1.0
START_TIMEOUT_SECONDS = 60
TARGET_START_MS = 1000
TARGET_IDLE_MIB = 75
TARGET_LOADED_MIB = 90
OVERVIEW_PATHS = (
    "/tickets",
    "/tickets?q=Dichtung",
    "/tickets?q=Pumpe",
    "/tickets?status=closed&priority=high&sort=-priority",
    "/tickets?status=open&status=assigned",
    "/tickets?status=in_progress&sort=-activity",
    "/tickets?page=3",
    "/",
)
MODERATOR_PATHS = ("/reports", "/reports?period=week&start={year_ago}")
TICKET_PAGES = 12


def _environment(database_url):
    """The app's environment: the database, rate limits off, glibc's arenas capped as in the deployment guide, and
    compiled bytecode kept (in PYCACHE, outside the tree) as an installed app has it after its first start."""
    env = base_env(
        FLASK_SQLALCHEMY_DATABASE_URI=database_url,
        FLASK_RATELIMIT_ENABLED="false",
        MALLOC_ARENA_MAX=MALLOC_ARENA_MAX,
        PYTHONPYCACHEPREFIX=PYCACHE,
    )
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def worker_pid(arbiter_pid, timeout=START_TIMEOUT_SECONDS):
    """The pid of the gunicorn worker (the arbiter's only child); waits until it was forked."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        children = Path(f"/proc/{arbiter_pid}/task/{arbiter_pid}/children").read_text().split()
        if children:
            return int(children[0])
        time.sleep(0.005)
    raise TimeoutError("gunicorn forked no worker")


def rss_mib(pid):
    """VmRSS of process `pid` in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def _first_answer(port, path, process, started):
    """Milliseconds from `started` (perf_counter) until GET `path` answers 200.

    The arbiter listens before the worker has imported the app, so one request waits in the backlog until the
    worker serves it; before the arbiter listens, connecting is refused and retried every 5 ms."""
    deadline = started + START_TIMEOUT_SECONDS
    while time.perf_counter() < deadline:
        if not process.alive():
            raise RuntimeError(f"gunicorn exited early:\n{process.log()}")
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=START_TIMEOUT_SECONDS)
        try:
            connection.request("GET", path)
            response = connection.getresponse()
            response.read()
            if response.status == 200:
                return (time.perf_counter() - started) * 1000
            raise RuntimeError(f"GET {path} answered {response.status} at start")
        except (TimeoutError, ConnectionRefusedError, ConnectionResetError, http.client.RemoteDisconnected):
            time.sleep(0.005)
        finally:
            connection.close()
    raise TimeoutError(f"GET {path} did not answer within {START_TIMEOUT_SECONDS} s:\n{process.log()}")


def cpu_ms(pid):
    """CPU time (user + system) process `pid` has used so far, in ms (10 ms resolution)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")


def start_once(env, path, then=None):
    """Start gunicorn, time its first 200 on `path`, call `then(port, worker_pid)` if given, stop it.

    Returns (wall ms, CPU ms of arbiter and worker until that answer, what `then` returned). The CPU time does not
    grow when other work shares the cores, so it compares start-ups on a busy machine."""
    port = free_port()
    started = time.perf_counter()
    server = gunicorn(port, env, threads=THREADS, name="process")
    try:
        elapsed = _first_answer(port, path, server, started)
        worker = worker_pid(server.pid)
        cpu = cpu_ms(server.pid) + cpu_ms(worker)
        extra = then(port, worker) if then else None
    finally:
        server.stop()
    return elapsed, cpu, extra


def api_token(env):
    """A read token of the viewer, made with `flask api token create` (the last line it prints)."""
    result = flask(["api", "token", "create", VIEWER, "--name", "process benchmark"], env)
    return result.stdout.strip().splitlines()[-1]


def load_paths(port, token):
    """Every (path, cookie or bearer header) of the fixed load: overview cases and ticket pages as the viewer,
    reports as the moderator, the API list with `token`."""
    viewer = {"Cookie": cookie_header(login(f"http://127.0.0.1:{port}", VIEWER))}
    moderator = {"Cookie": cookie_header(login(f"http://127.0.0.1:{port}", MODERATOR))}
    bearer = {"Authorization": f"Bearer {token}"}
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    connection.request("GET", f"/api/v1/tickets?limit={TICKET_PAGES}", headers=bearer)
    response = connection.getresponse()
    body = response.read()
    connection.close()
    if response.status != 200:
        raise RuntimeError(f"GET /api/v1/tickets answered {response.status}: {body[:300]!r}")
    numbers = [item["number"] for item in json.loads(body)["items"]][:TICKET_PAGES]
    paths = [(path, viewer) for path in OVERVIEW_PATHS]
    paths += [(f"/tickets/{number}", viewer) for number in numbers]
    year_ago = (datetime.date.today() - datetime.timedelta(days=365)).isoformat()
    paths += [(path.format(year_ago=year_ago), moderator) for path in MODERATOR_PATHS]
    paths += [("/api/v1/tickets", bearer), ("/api/v1/tickets?q=Dichtung", bearer)]
    paths += [(f"/api/v1/tickets/{number}", bearer) for number in numbers[:4]]
    return paths


def run_load(port, paths, requests):
    """`requests` GETs over `paths` (round robin) from CLIENTS keep-alive clients; raises on any non-200."""
    counter = iter(range(requests))
    lock = threading.Lock()
    errors = []

    def client():
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        while True:
            with lock:
                index = next(counter, None)
            if index is None or errors:
                break
            path, headers = paths[index % len(paths)]
            connection.request("GET", path, headers=headers)
            response = connection.getresponse()
            response.read()
            if response.status != 200:
                errors.append(f"GET {path} answered {response.status}")
        connection.close()

    threads = [threading.Thread(target=client, daemon=True) for _ in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=600)
    if errors:
        raise RuntimeError(errors[0])


def measure(database_url, starts=5, requests=400, say=None):
    """Start-up and memory figures of one gunicorn worker on `database_url` (SQLite or PostgreSQL with the demo
    data; the run adds one API token). Returns {"start_healthz_ms", "start_login_ms" (wall-clock medians of
    `starts` starts), "start_healthz_cpu_ms", "start_login_cpu_ms" (medians of the CPU time arbiter and worker used
    until that answer), "start_healthz_all_ms", "start_login_all_ms" (lists), "idle_rss_mib" (median),
    "loaded_rss_mib" (after the load, in the last /login start), "requests"}.

    Raises RuntimeError when the server does not start or a page does not answer 200."""
    say = say or (lambda text: None)
    env = _environment(database_url)
    token = api_token(env)
    wall = {"/healthz": [], "/login": []}
    cpu = {"/healthz": [], "/login": []}
    idle = []

    def settle_then_rss(port, pid):
        time.sleep(IDLE_SETTLE_SECONDS)
        return rss_mib(pid)

    def idle_then_load(port, pid):
        before = settle_then_rss(port, pid)
        run_load(port, load_paths(port, token), requests)
        return before, rss_mib(pid)

    say("  warm-up start (writes the bytecode cache)")
    start_once(env, "/login")
    for path in ("/healthz", "/login"):
        for run in range(starts):
            last = path == "/login" and run == starts - 1
            say(f"  start {run + 1}/{starts}: {path}" + (f", then {requests} requests of load" if last else ""))
            then = idle_then_load if last else settle_then_rss if path == "/login" else None
            elapsed, used, extra = start_once(env, path, then=then)
            wall[path].append(elapsed)
            cpu[path].append(used)
            if path == "/login":
                idle.append(extra[0] if last else extra)
    return {
        "start_healthz_ms": statistics.median(wall["/healthz"]),
        "start_login_ms": statistics.median(wall["/login"]),
        "start_healthz_cpu_ms": statistics.median(cpu["/healthz"]),
        "start_login_cpu_ms": statistics.median(cpu["/login"]),
        "start_healthz_all_ms": wall["/healthz"],
        "start_login_all_ms": wall["/login"],
        "idle_rss_mib": statistics.median(idle),
        "loaded_rss_mib": extra[1],
        "requests": requests,
    }


def print_results(results):
    """The figures as a table on stdout."""
    rows = [
        ("start to first 200, /healthz (ms, median)", f"{results['start_healthz_ms']:,.0f}",
         f"≤{TARGET_START_MS} {mark(results['start_healthz_ms'] <= TARGET_START_MS)}"),
        ("start to first 200, /login (ms, median)", f"{results['start_login_ms']:,.0f}",
         f"≤{TARGET_START_MS} {mark(results['start_login_ms'] <= TARGET_START_MS)}"),
        ("  CPU time of arbiter + worker until then, /healthz (ms)", f"{results['start_healthz_cpu_ms']:,.0f}", ""),
        ("  CPU time of arbiter + worker until then, /login (ms)", f"{results['start_login_cpu_ms']:,.0f}", ""),
        ("worker RSS idle after first /login (MiB)", f"{results['idle_rss_mib']:.1f}",
         f"≤{TARGET_IDLE_MIB} {mark(results['idle_rss_mib'] <= TARGET_IDLE_MIB)}"),
        (f"worker RSS after {results['requests']} page requests (MiB)", f"{results['loaded_rss_mib']:.1f}",
         f"≤{TARGET_LOADED_MIB} {mark(results['loaded_rss_mib'] <= TARGET_LOADED_MIB)}"),
    ]
    print(f"One gunicorn worker, {THREADS} threads, MALLOC_ARENA_MAX={MALLOC_ARENA_MAX}")
    print_aligned(("figure", "value", "target"), rows, "<> ")
    healthz = ", ".join(f"{ms:,.0f}" for ms in results["start_healthz_all_ms"])
    login_all = ", ".join(f"{ms:,.0f}" for ms in results["start_login_all_ms"])
    print(f"(each start, ms: /healthz {healthz}; /login {login_all})")


def main():
    """Parse the options, measure, print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", help="SQLAlchemy URL of a database with the demo data (default: build one)")
    parser.add_argument("--tickets", type=int, default=20_000, help="bulk tickets of the built SQLite database")
    parser.add_argument("--starts", type=int, default=5, help="fresh starts per first-answer figure")
    parser.add_argument("--requests", type=int, default=400, help="GETs of the fixed load")
    args = parser.parse_args()
    if args.database:
        database_url = args.database
    else:
        from benchmarks.run_all import (  # run_all imports this module at its top
            cache_key,
            sqlite_database,
        )

        database_url, _facts = sqlite_database(args.tickets, cache_key())
    say = lambda text: print(text, file=sys.stderr, flush=True)
    print_results(measure(database_url, starts=args.starts, requests=args.requests, say=say))


if __name__ == "__main__":
    main()
