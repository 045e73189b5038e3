"""Shared fixtures: app on a throwaway database, clients, login helpers."""
import os
import shutil
import uuid

import pytest
import sqlalchemy as sa
from flask import request_started

from app import create_app
from app.extensions import db
from app.security import forget_previous_request
from tests.api_helpers import make_catalog

POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL")


def base_config(tmp_path, database_uri):
    """Test settings: temp database and uploads, no background threads, generous limits."""
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "SQLALCHEMY_DATABASE_URI": database_uri,
        "UPLOAD_FOLDER": str(tmp_path / "uploads"),
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": True,
        "LOGIN_ADDRESS_RATE_LIMIT": "1000 per minute",
        "PIN_CODE_RATE_LIMIT": "1000 per minute",
        "PUBLIC_RATE_LIMIT": "10000 per minute",
        "NOTIFICATION_DISPATCHER_THREAD": False,
        "SERVER_NAME": "localhost",
        "PUBLIC_BASE_URL": "http://localhost",
    }


def pytest_generate_tests(metafunc):
    """Modules that set RUN_ON_POSTGRES = True run each test on SQLite and, when configured, on PostgreSQL."""
    if "db_backend" in metafunc.fixturenames:
        backends = ["sqlite"]
        if POSTGRES_URL and getattr(metafunc.module, "RUN_ON_POSTGRES", False):
            backends.append("postgres")
        metafunc.parametrize("db_backend", backends, scope="function")


@pytest.fixture
def db_backend():
    """Default backend for modules that do not ask for both."""
    return "sqlite"


@pytest.fixture(scope="session")
def postgres_database():
    """A PostgreSQL database of this test process alone, dropped at the end."""
    url = sa.engine.make_url(POSTGRES_URL)
    name = f"{url.database}_{os.getpid()}"
    admin = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    yield url.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def sqlite_schema(tmp_path_factory):
    """An empty SQLite database file with the models' schema, made once per test process: each test's database
    starts as a copy of it (a copy takes well under a millisecond, `create_all` some 30 ms)."""
    path = tmp_path_factory.mktemp("schema") / "schema.sqlite"
    schema_app = create_app(base_config(path.parent, f"sqlite:///{path}"))
    with schema_app.app_context():
        db.create_all()
        db.session.remove()
        db.engine.dispose()  # the last connection checkpoints the WAL into the file
    return path


@pytest.fixture(scope="session")
def shared_sqlite_file(tmp_path_factory):
    """The path every `app` of this test process keeps its SQLite database at (a fresh copy of the schema each time):
    one path lets the apps share one engine, see `shared_engine`."""
    return tmp_path_factory.mktemp("shared") / "test.sqlite"


_shared_engines = {}  # {engine options as text: Engine} for the URLs in _shared_urls
_shared_urls = set()


def shared_engine(bind_key, options, app):
    """Flask-SQLAlchemy's engine factory for the tests' apps: the `app` fixture's database URL gets one engine per
    test process, so statements SQLAlchemy compiled for one test are not compiled again for the next (its compiled
    cache belongs to the engine; compiling was about a fifth of the CPU of a test). Other URLs get their own."""
    if str(options["url"]) not in _shared_urls:
        return sa.engine_from_config(options, prefix="")
    key = repr(sorted(options.items(), key=lambda item: item[0]))
    if key not in _shared_engines:
        _shared_engines[key] = sa.engine_from_config(options, prefix="")
    return _shared_engines[key]


db._make_engine = shared_engine


@pytest.fixture
def app(tmp_path, db_backend, request):
    """A fresh app with an empty schema."""
    if db_backend == "postgres":
        uri = request.getfixturevalue("postgres_database")
    else:
        # A new file (a new inode) at the shared path: a connection an earlier test left open keeps its own file.
        database = request.getfixturevalue("shared_sqlite_file")
        shutil.copyfile(request.getfixturevalue("sqlite_schema"), tmp_path / "schema.sqlite")
        for leftover in (database.with_name(database.name + "-wal"), database.with_name(database.name + "-shm")):
            leftover.unlink(missing_ok=True)
        os.replace(tmp_path / "schema.sqlite", database)
        uri = f"sqlite:///{database}"
    _shared_urls.add(uri)
    config = base_config(tmp_path, uri)
    config.update(getattr(request, "param", None) or {})
    app = create_app(config)
    with app.app_context():
        if db_backend == "postgres":
            empty_postgres_schema()
        yield app
        db.session.remove()
        db.engine.dispose()


# Names and definitions of the PostgreSQL schema's tables, columns, indexes and sequences, in one value.
POSTGRES_FINGERPRINT = sa.text(
    "SELECT md5(coalesce((SELECT string_agg(indexdef, ';' ORDER BY indexdef) FROM pg_indexes "
    "WHERE schemaname = 'public'), '') || coalesce((SELECT string_agg(table_name || '.' || column_name || ' ' "
    "|| data_type || coalesce(generation_expression, ''), ';' ORDER BY table_name, column_name) "
    "FROM information_schema.columns WHERE table_schema = 'public'), '') || coalesce((SELECT "
    "string_agg(sequencename, ';' ORDER BY sequencename) FROM pg_sequences WHERE schemaname = 'public'), ''))"
)
_postgres_schema = {}  # {"fingerprint": of the schema create_all made, "emptying": the statements that empty it}


def empty_postgres_schema():
    """Give the test an empty PostgreSQL schema of the models: the first time in this process, and whenever a test
    changed the schema (a migration, a dropped index), by drop_all + create_all (about 270 ms); otherwise by
    deleting every row and restarting every sequence (about 5 ms)."""
    db.session.remove()
    with db.engine.connect() as connection:
        fingerprint = connection.execute(POSTGRES_FINGERPRINT).scalar_one()
    if fingerprint == _postgres_schema.get("fingerprint"):
        try:
            with db.engine.begin() as connection:
                connection.exec_driver_sql(_postgres_schema["emptying"])
            return
        except sa.exc.DBAPIError:
            pass  # rows a plain DELETE cannot remove in this order: start over below
    db.drop_all()
    db.create_all()
    with db.engine.connect() as connection:
        _postgres_schema["fingerprint"] = connection.execute(POSTGRES_FINGERPRINT).scalar_one()
        sequences = connection.scalars(sa.text("SELECT sequencename FROM pg_sequences WHERE schemaname = 'public'"))
        statements = [f'DELETE FROM "{table.name}"' for table in reversed(db.metadata.sorted_tables)]
        statements += [f'ALTER SEQUENCE "{name}" RESTART' for name in sequences]
    _postgres_schema["emptying"] = ";".join(statements)


@pytest.fixture(autouse=True)
def fresh_request_state(request):
    """The app fixture keeps one app context (and its `g`) across requests: each request starts without the
    previous one's user, code visitor and language, before any hook (CSRF, limits) could read them."""
    if "app" not in request.fixturenames:
        yield
        return
    app = request.getfixturevalue("app")

    def forget(sender, **extra):
        """Drop what an earlier request cached."""
        forget_previous_request()

    request_started.connect(forget, app)
    yield
    request_started.disconnect(forget, app)


@pytest.fixture
def catalog(app):
    """A template with an active and an inactive creation flow: (template, active, inactive), see
    tests/api_helpers.make_catalog."""
    return make_catalog()


@pytest.fixture
def client(app):
    """A test client."""
    return app.test_client()


@pytest.fixture
def login(client):
    """Log `client` in as an employee without going through the form."""

    def do_login(employee, target=None):
        """Put the employee's id into the session."""
        target = target or client
        with target.session_transaction() as session:
            session["_user_id"] = employee.get_id()
            session["_fresh"] = True
        return target

    return do_login


@pytest.fixture
def as_htmx():
    """Headers that make a request look like htmx."""
    return {"HX-Request": "true"}


@pytest.fixture
def english(app):
    """Service messages asserted in English (the catalog translates them for German users); use with
    `pytestmark = pytest.mark.usefixtures("english")`."""
    from flask_babel import force_locale

    with force_locale("en"):
        yield


@pytest.fixture
def demo(app):
    """The demo data of `make demo`."""
    from app.demo_data import load_demo

    load_demo()
    return app


def unique(prefix="x"):
    """A unique short string."""
    return f"{prefix}{uuid.uuid4().hex[:8]}"


PUBLIC_HOSTS = {"push.example.com": ["93.184.215.14"], "fcm.example.com": ["2606:2800:220:1::"]}


@pytest.fixture
def public_dns(monkeypatch):
    """Name resolution for the public hosts the tests use (the test machines have no DNS); a test may add names
    (or names of private addresses) to the dict it returns."""
    from app.services import outbound

    names = {name: list(addresses) for name, addresses in PUBLIC_HOSTS.items()}
    real_resolve = outbound.resolve

    def resolve(host, port):
        return names[host] if host in names else real_resolve(host, port)

    monkeypatch.setattr(outbound, "resolve", resolve)
    return names


@pytest.fixture
def scene(app):
    """A PUBLIC ticket with a code user, a moderator, a responsible member and a bystander
    (tests/messenger_helpers.Scene)."""
    from tests.messenger_helpers import Scene

    return Scene(app)


@pytest.fixture
def sockets(app, login):
    """Open Socket.IO test clients as an employee, a code user or anonymous, with extra handshake `headers`;
    all closed at the end."""
    from app.extensions import socketio

    opened = []

    def connect(employee=None, scene=None, headers=None):
        """A socket with the cookies of a fresh HTTP client."""
        http = app.test_client()
        if employee is not None:
            login(employee, http)
        if scene is not None:
            scene.code_client(http)
        client = socketio.test_client(app, flask_test_client=http, headers=headers)
        opened.append(client)
        return client

    yield connect
    for client in opened:
        if client.is_connected():
            client.disconnect()
