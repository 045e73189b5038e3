"""Running Ticketwerk as real processes: free ports, gunicorn, flask commands, logged-in HTTP clients.

Shared by the benchmarks and the multi-process tests (scale-out, crash safety).
"""
import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
DEMO_PASSWORD = "ticketwerk-demo"
CSRF_PATTERN = re.compile(r'name="csrf[-_]token"\s+(?:value|content)="([^"]+)"')


def free_port():
    """A TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def base_env(**overrides):
    """Environment for an app process: a fixed secret, no in-process dispatcher, plus `overrides`."""
    env = dict(os.environ)
    env.update(
        FLASK_SECRET_KEY="ticketwerk-process-secret",
        FLASK_NOTIFICATION_DISPATCHER_THREAD="false",
        PYTHONUNBUFFERED="1",
    )
    env.update({key: str(value) for key, value in overrides.items()})
    return env


def flask(args, env, timeout=300, check=True):
    """Run `flask --app wsgi <args>` in the project folder and return the finished process."""
    command = [str(BIN / "flask"), "--app", "wsgi", *args]
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    if check and result.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result


PREPARE_SCRIPT = """
import sys
import flask_migrate
from app import create_app, demo_data
app = create_app()
app.config["SOCKETIO_DISABLED"] = True
with app.app_context():
    flask_migrate.upgrade()
    demo_data.load_demo()
    if int(sys.argv[1]):
        demo_data.load_bulk_tickets(int(sys.argv[1]))
"""


def prepare_database(env, tickets=0):
    """Migrate the database named in `env` and load the demo data (plus `tickets` bulk tickets), in one process."""
    command = [sys.executable, "-c", PREPARE_SCRIPT, str(tickets)]
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=3600, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"preparing the database failed:\n{result.stdout}\n{result.stderr}")


class Process:
    """A child process whose output goes to a log file; stopped for sure by `stop()`."""

    def __init__(self, command, env, name):
        self.name = name
        self.log_path = Path(tempfile.mkstemp(prefix=f"ticketwerk-{name}-", suffix=".log")[1])
        self._log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.popen = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True
        )

    @property
    def pid(self):
        """Process id of the child (the gunicorn arbiter for app servers)."""
        return self.popen.pid

    def alive(self):
        """Whether the child still runs."""
        return self.popen.poll() is None

    def log(self):
        """Everything the child printed so far."""
        self._log.flush()
        return self.log_path.read_text(errors="replace")

    def kill(self):
        """SIGKILL the child and all its processes at once (a crash, not a shutdown)."""
        if self.alive():
            os.killpg(self.popen.pid, signal.SIGKILL)
        self.popen.wait(timeout=10)

    def stop(self, timeout=8):
        """Ask the child to stop; kill it when it does not within `timeout` seconds."""
        if self.alive():
            try:
                os.killpg(self.popen.pid, signal.SIGTERM)
                self.popen.wait(timeout=timeout)
            except (subprocess.TimeoutExpired, ProcessLookupError):
                pass
        if self.alive():
            try:
                os.killpg(self.popen.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.popen.wait(timeout=10)
        self._log.close()


def gunicorn(port, env, threads=50, name="app"):
    """Start the app under gunicorn (one gthread worker, as Flask-SocketIO needs) on 127.0.0.1:`port`, with `python
    -OO` as docs/deployment.md runs it (no docstrings or asserts in the compiled code: 6 MiB less per worker)."""
    command = [
        sys.executable, "-OO", "-m", "gunicorn", "-w", "1", "--threads", str(threads), "-b", f"127.0.0.1:{port}",
        "--no-control-socket", "--graceful-timeout", "3", "--timeout", "120", "wsgi:app",
    ]
    return Process(command, env, name)


def dispatcher(env, name="dispatcher", interval=0.2):
    """Start `flask notifications dispatch` as its own process."""
    command = [str(BIN / "flask"), "--app", "wsgi", "notifications", "dispatch", "--interval", str(interval)]
    return Process(command, env, name)


def wait_http(url, process=None, timeout=60):
    """Wait until `url` answers 200; fail early with the log when `process` died."""
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and not process.alive():
            raise RuntimeError(f"{process.name} exited early:\n{process.log()}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.1)
    raise TimeoutError(f"{url} did not answer within {timeout} s" + (f":\n{process.log()}" if process else ""))


def csrf_token(html):
    """The CSRF token embedded in a page."""
    match = CSRF_PATTERN.search(html)
    if not match:
        raise ValueError("no CSRF token on the page")
    return match.group(1)


def login(base_url, email, password=DEMO_PASSWORD):
    """A `requests.Session` logged in as the employee; `.csrf` holds a token valid for its POSTs."""
    import requests

    session = requests.Session()
    page = session.get(f"{base_url}/login", timeout=30)
    token = csrf_token(page.text)
    response = session.post(
        f"{base_url}/login",
        data={"email": email, "password": password, "csrf_token": token},
        allow_redirects=False,
        timeout=30,
    )
    if response.status_code != 302:
        raise RuntimeError(f"login as {email} failed with {response.status_code}")
    session.csrf = token
    return session


def cookie_header(session):
    """The session's cookies as one Cookie header (for Socket.IO and http.client clients)."""
    return "; ".join(f"{cookie.name}={cookie.value}" for cookie in session.cookies)


def print_aligned(header, rows, aligns):
    """`header`, a rule and `rows` as columns on stdout, two spaces apart; `aligns` has per column "<" (left),
    ">" (right) or " " (unpadded, for a last column of free text)."""
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    line = "  ".join("{}" if align == " " else f"{{:{align}{width}}}" for align, width in zip(aligns, widths))
    print(line.format(*header))
    print("  ".join("-" * width for width in widths))
    for row in rows:
        print(line.format(*row))


def mark(ok):
    """✓ or ✗, for a target's column."""
    return "✓" if ok else "✗"


def percentile(values, fraction):
    """The value below which `fraction` of `values` lie (nearest rank)."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(fraction * len(ordered) + 0.5) - 1))
    return ordered[index]


class SmtpCollector:
    """aiosmtpd handler that keeps every received mail as (recipients, text)."""

    def __init__(self):
        import threading

        self.mails = []
        self.lock = threading.Lock()
        self.port = None

    async def handle_DATA(self, server, session, envelope):
        """Keep the mail and accept it."""
        with self.lock:
            self.mails.append((tuple(envelope.rcpt_tos), envelope.content.decode("utf-8", "replace")))
        return "250 OK"


@contextlib.contextmanager
def smtp_server():
    """`with smtp_server() as collector:` runs a real SMTP server on a free port."""
    from aiosmtpd.controller import Controller

    collector = SmtpCollector()
    controller = Controller(collector, hostname="127.0.0.1", port=free_port())
    controller.start()
    collector.port = controller.port
    try:
        yield collector
    finally:
        controller.stop()
