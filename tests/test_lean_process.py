"""A started app process holds only what serving a request needs: push, mail, image, QR, spreadsheet, holiday,
migration and Socket.IO-client libraries load when something uses them (issue 20, a lean process).

Each check runs in a fresh interpreter: in the test process other tests have long imported everything.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Imported on first use, never by `import wsgi`: (module, what needs it).
LAZY_MODULES = (
    ("aiohttp", "Socket.IO's asyncio client"),
    ("requests", "Socket.IO's client, web push, webhooks"),
    ("websocket", "Socket.IO's client"),
    ("redis", "a Redis message queue or rate-limit store"),
    ("redis.asyncio", "Socket.IO's asyncio Redis manager"),
    ("urllib3", "requests"),
    ("cryptography", "web push (VAPID), Redis over TLS"),
    ("pywebpush", "web push"),
    ("py_vapid", "web push"),
    ("http_ece", "web push"),
    ("smtplib", "e-mail"),
    ("PIL", "thumbnails, photos, QR codes as PNG"),
    ("pillow_heif", "HEIC photos"),
    ("qrcode", "QR codes"),
    ("openpyxl", "XLSX export and device import"),
    ("holidays", "public holidays in service-level times"),
    ("markdown", "rendering messages and assistant texts"),
    ("nh3", "sanitizing rendered texts"),
    ("email_validator", "checking an e-mail address"),
    ("alembic", "flask db"),
    ("flask_migrate", "flask db"),
    ("sqlalchemy.dialects.postgresql", "a PostgreSQL database"),
)

START_AND_USE = r"""
import io, json, sys
import wsgi
from app import lazy_imports

lazy = json.loads(sys.argv[1])
report = {"loaded_at_start": [name for name in lazy if lazy_imports.is_loaded(name)]}

import flask_migrate
import sqlalchemy as sa
from app import business_hours, markup, tabular
from app.enums import Role
from app.extensions import db
from app.models import Employee
from app.services import images, input_checks, push, qr

app = wsgi.app
app.config.update(SERVER_NAME="localhost", RATELIMIT_ENABLED=False)
with app.app_context():
    flask_migrate.upgrade()
    admin = Employee(name="Ada Admin", email="ada@example.com", role=Role.ADMIN, language="de")
    admin.set_password("lean-process-1")
    db.session.add(admin)
    db.session.commit()
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = admin.get_id()
        session["_fresh"] = True
    export = client.get("/tickets/export.xlsx")
    report["xlsx"] = [export.status_code, export.get_data()[:2].decode("latin-1")]
    report["overview"] = client.get("/tickets").status_code
    report["healthz"] = client.get("/healthz").status_code
    png = qr.png("https://example.com/c/abc")
    report["thumbnail_is_jpeg"] = images.scaled_jpeg(png, "qr.png", box=(40, 40))[:2] == b"\xff\xd8"
    report["svg"] = qr.svg("https://example.com/c/abc").startswith(b"<?xml")
    report["markdown"] = str(markup.render_message("**fett** und www.example.com"))
    report["holidays_by"] = len(business_hours.public_holidays("BY", 2026))
    report["email"] = input_checks.email_address("ada@example.com", "email")
    report["vapid_key_length"] = len(push.application_server_key())

import redis
import requests
import socketio.redis_manager
report["redis_error_is_redis_own"] = socketio.redis_manager.RedisError is redis.exceptions.RedisError
report["redis_client"] = type(redis.Redis.from_url("redis://127.0.0.1:1/0")).__name__
report["requests_session"] = type(requests.Session()).__name__
report["loaded_after_use"] = [name for name in lazy if lazy_imports.is_loaded(name)]
print(json.dumps(report))
"""


def _run(tmp_path, script, *arguments, flags=()):
    """Run `script` in a fresh interpreter (with interpreter `flags` such as -OO) in the project folder against a
    new SQLite file; its JSON output."""
    env = dict(os.environ)
    env.update(
        FLASK_SECRET_KEY="lean-process-test-secret",
        FLASK_SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'lean.sqlite'}",
        FLASK_UPLOAD_FOLDER=str(tmp_path / "uploads"),
        FLASK_VAPID_PRIVATE_KEY_FILE=str(tmp_path / "vapid" / "private.pem"),
        FLASK_NOTIFICATION_DISPATCHER_THREAD="false",
        FLASK_SOCKETIO_MESSAGE_QUEUE="",
    )
    env.pop("FLASK_RATELIMIT_STORAGE_URI", None)
    result = subprocess.run(
        [sys.executable, *flags, "-c", script, *arguments], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("flags", [(), ("-OO",)], ids=["python", "python-OO"])
def test_started_app_has_not_imported_what_requests_need_only_sometimes_and_each_loads_on_use(tmp_path, flags):
    """Also under `python -OO`, as production serves (docs/deployment.md): no docstrings, no asserts."""
    names = [name for name, _needed_by in LAZY_MODULES]
    report = _run(tmp_path, START_AND_USE, json.dumps(names), flags=flags)

    assert report["loaded_at_start"] == []
    # Every request and call that needs one of them still works, importing it then.
    assert report["healthz"] == 200
    assert report["overview"] == 200
    assert report["xlsx"] == [200, "PK"]
    assert report["thumbnail_is_jpeg"] is True
    assert report["svg"] is True
    assert "<strong>fett</strong>" in report["markdown"]
    assert 'href="https://www.example.com"' in report["markdown"]
    assert report["holidays_by"] >= 12  # Bavaria: the nationwide days plus its own
    assert report["email"] == "ada@example.com"
    assert report["vapid_key_length"] == 87  # 65 bytes, base64url without padding
    # A deferred package that a submodule was imported from is still the package: one RedisError class.
    assert report["redis_error_is_redis_own"] is True
    assert report["redis_client"] == "Redis"
    assert report["requests_session"] == "Session"
    for name in ("openpyxl", "PIL", "qrcode", "markdown", "nh3", "holidays", "email_validator", "py_vapid",
                 "cryptography", "redis", "requests", "alembic"):
        assert name in report["loaded_after_use"]


def test_flask_db_upgrade_still_runs_the_migrations(tmp_path):
    env = dict(os.environ)
    env.update(
        FLASK_SECRET_KEY="lean-process-test-secret",
        FLASK_SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'migrated.sqlite'}",
        FLASK_UPLOAD_FOLDER=str(tmp_path / "uploads"),
        FLASK_NOTIFICATION_DISPATCHER_THREAD="false",
    )
    flask = Path(sys.executable).parent / "flask"
    result = subprocess.run(
        [str(flask), "--app", "wsgi", "db", "upgrade"], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=300, check=False,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    import sqlite3

    connection = sqlite3.connect(tmp_path / "migrated.sqlite")
    try:
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    finally:
        connection.close()
    assert {"alembic_version", "tickets", "employees"} <= tables


DISPATCH_WITH_KEYS = r"""
import json, sys, threading, time
import wsgi
from app import lazy_imports
from app.services import dispatcher, push

app = wsgi.app
if sys.argv[1] == "make-keys":
    with app.app_context():
        push.ensure_vapid_keys()
    print(json.dumps({"made": True}))
    raise SystemExit
stop = threading.Event()
thread = threading.Thread(target=dispatcher.run_forever, args=(app, 0.05, stop))
thread.start()
time.sleep(0.5)  # several dispatch passes and the service-level check
stop.set()
thread.join(10)
print(json.dumps({"cryptography": lazy_imports.is_loaded("cryptography"), "py_vapid": lazy_imports.is_loaded("py_vapid"),
                  "ended": not thread.is_alive()}))
"""


def test_the_dispatcher_of_a_process_that_has_its_push_keys_does_not_load_the_crypto_libraries(tmp_path):
    """The dispatcher thread runs in every web process; with the VAPID key already on disk it must not pull in
    py_vapid and cryptography (about 11 MiB resident) before a push is actually sent."""
    assert _run(tmp_path, DISPATCH_WITH_KEYS, "make-keys") == {"made": True}
    assert (tmp_path / "vapid" / "private.pem").exists()
    assert _run(tmp_path, DISPATCH_WITH_KEYS, "dispatch") == {"cryptography": False, "py_vapid": False, "ended": True}


COLLECTOR_AFTER_START = r"""
import gc, json
import wsgi
print(json.dumps({"enabled": gc.isenabled(), "frozen": gc.get_freeze_count(), "young": gc.get_count()[0]}))
"""


def test_the_started_app_has_the_collector_on_and_its_start_up_heap_frozen(tmp_path):
    """wsgi.py builds the app with the garbage collector off (its passes over the import-time heap cost start-up
    time and free almost nothing), then freezes that heap and turns the collector back on: off for good, a serving
    process would never free a reference cycle."""
    report = _run(tmp_path, COLLECTOR_AFTER_START)
    assert report["enabled"] is True
    assert report["frozen"] > 100_000  # modules, mappers, templates: all out of the collector's passes
    assert report["young"] < 1_000


API_DOCUMENT = r"""
import json, sys
import wsgi
client = wsgi.app.test_client()
document = client.get("/api/v1/openapi.json").get_json()
summaries = {f"{method.upper()} {path}": operation.get("summary")
             for path, operations in document["paths"].items() for method, operation in operations.items()
             if method in {"get", "post", "put", "patch", "delete"}}
print(json.dumps({"optimize": sys.flags.optimize, "document": document, "summaries": summaries}))
"""


def test_under_python_oo_the_api_document_keeps_every_operations_summary(tmp_path):
    """`python -OO` drops docstrings, which flask-smorest would read the summaries from; they come from
    `documented(summary, ...)` instead, so the document production serves is the one the tests see."""
    plain = _run(tmp_path, API_DOCUMENT)
    optimized = _run(tmp_path, API_DOCUMENT, flags=("-OO",))
    assert (plain["optimize"], optimized["optimize"]) == (0, 2)
    assert len(plain["summaries"]) >= 40
    assert all(plain["summaries"].values()), [name for name, summary in plain["summaries"].items() if not summary]
    assert optimized["document"] == plain["document"]
