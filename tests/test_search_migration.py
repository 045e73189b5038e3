"""Migration 0013 gives existing rows their folded search keys and rebuilds existing ticket documents folded."""
import os
import subprocess
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.conftest import POSTGRES_URL

ROOT = Path(__file__).resolve().parent.parent
BACKENDS = ["sqlite"] + (["postgres"] if POSTGRES_URL else [])


def _flask(url, tmp_path, *args):
    """Run the flask CLI against the database at `url`; the completed process."""
    env = dict(os.environ, FLASK_SECRET_KEY="cli-test", FLASK_SQLALCHEMY_DATABASE_URI=url)
    env["FLASK_UPLOAD_FOLDER"] = str(tmp_path / "uploads")
    env["FLASK_NOTIFICATION_DISPATCHER_THREAD"] = "false"
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", *args], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=180, check=False,
    )


@pytest.fixture(params=BACKENDS)
def database_url(request, tmp_path):
    """An empty database (SQLite file, or a scratch PostgreSQL database dropped afterwards)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrate.sqlite'}"
        return
    url = sa.engine.make_url(POSTGRES_URL)
    name = f"{url.database}_mig_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    yield url.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _rows_before_0013(connection):
    """A template, a device, a customer, an employee, a code and a ticket with its unfolded document."""
    now = datetime(2026, 11, 1, tzinfo=UTC)
    execute = lambda sql, **values: connection.execute(sa.text(sql), values)
    execute(
        "INSERT INTO templates (id, name, description, ratings_enabled, archived, created_at) "
        "VALUES (1, 'Kühlzelle', '', true, false, :now)", now=now
    )
    execute(
        "INSERT INTO customers (id, name, kind, contact_name, email, phone, address, archived, created_at) "
        "VALUES (1, 'Bäckerei Groß', 'COMPANY', '', '', '', '', false, :now)", now=now
    )
    execute(
        "INSERT INTO devices (id, template_id, customer_id, name, serial_number, location, description, archived, "
        "created_at) VALUES (1, 1, 1, 'KK-9 Kühlraum', '', 'Straße 5', '', false, :now)", now=now
    )
    execute(
        "INSERT INTO employees (id, name, email, role, language, active, created_at, session_generation) "
        "VALUES (1, 'Jürgen Weiß', 'jw@example.com', 'ADMIN', 'de', true, :now, 0)", now=now
    )
    execute(
        "INSERT INTO codes (id, token, device_id, label, enabled, session_epoch, created_at) "
        "VALUES (1, 'tok', 1, 'Tür', true, 1, :now)", now=now
    )
    execute(
        "INSERT INTO tickets (id, device_id, template_id, flow_title, status, visibility, priority, title, created_at, "
        "last_activity_at, version) VALUES (42, 1, 1, 'Störung', 'CLOSED', 'PUBLIC', 'NORMAL', 'KÜHLRAUM vereist', "
        ":now, :now, 1)", now=now
    )
    execute("INSERT INTO ticket_search_documents (ticket_id, body) VALUES (42, 'T-00042 42 KÜHLRAUM vereist Störung')")


def test_migration_0013_backfills_keys_and_folds_documents(database_url, tmp_path):
    upgrade = _flask(database_url, tmp_path, "db", "upgrade", "0012")
    assert upgrade.returncode == 0, upgrade.stderr
    engine = sa.create_engine(database_url)
    try:
        with engine.begin() as connection:
            _rows_before_0013(connection)
        upgrade = _flask(database_url, tmp_path, "db", "upgrade")
        assert upgrade.returncode == 0, upgrade.stderr
        with engine.connect() as connection:
            key = lambda table: connection.scalar(sa.text(f"SELECT search_key FROM {table} WHERE id = 1"))
            assert key("devices") == "kk-9 kuehlraum\x1fkk-9 kuhlraum\x1fstrasse 5"
            assert key("customers") == "baeckerei gross\x1fbackerei gross"
            assert key("employees") == "juergen weiss\x1fjurgen weiss\x1fjw@example.com"
            assert key("codes") == "tuer\x1ftur"
            assert key("templates") == "kuehlzelle\x1fkuhlzelle"
            body = connection.scalar(sa.text("SELECT body FROM ticket_search_documents WHERE ticket_id = 42"))
            assert body == "t 00042 42 kuehlraum vereist stoerung kuhlraum storung"
            if engine.dialect.name == "sqlite":
                found = connection.scalars(sa.text("SELECT rowid FROM ticket_search WHERE ticket_search MATCH 'kuhlraum*'"))
            else:
                found = connection.scalars(
                    sa.text(
                        "SELECT ticket_id FROM ticket_search_documents "
                        "WHERE to_tsvector('simple', body) @@ to_tsquery('simple', 'kuhlraum:*')"
                    )
                )
            assert list(found) == [42]
        check = _flask(database_url, tmp_path, "db", "check")
        assert check.returncode == 0, check.stdout + check.stderr
        downgrade = _flask(database_url, tmp_path, "db", "downgrade", "0012")
        assert downgrade.returncode == 0, downgrade.stderr
        with engine.connect() as connection:
            assert "search_key" not in {column["name"] for column in sa.inspect(connection).get_columns("devices")}
    finally:
        engine.dispose()
