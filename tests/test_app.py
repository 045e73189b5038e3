"""App factory, configuration layering, security headers, migrations and demo data."""
import os
import subprocess
import sys

import pytest
import sqlalchemy as sa

from app import create_app
from app.config import DEV_SECRET_KEY
from app.extensions import db
from app.models import Code, Employee, Flow, Step, Template

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_production_start_refuses_the_development_secret(tmp_path, monkeypatch):
    monkeypatch.delenv("FLASK_SECRET_KEY", raising=False)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app({"SECRET_KEY": DEV_SECRET_KEY, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.db"})


def test_environment_overrides_defaults_and_test_config_overrides_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("FLASK_UPLOAD_LIMIT_MB", "7")
    monkeypatch.setenv("FLASK_OVERVIEW_PAGE_SIZE", "20")
    app = create_app({"SECRET_KEY": "s", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.db", "OVERVIEW_PAGE_SIZE": 30})
    assert app.config["UPLOAD_LIMIT_MB"] == 7
    assert app.config["OVERVIEW_PAGE_SIZE"] == 30


def test_bootstrap_writes_a_random_secret_once(tmp_path):
    from app.bootstrap import ensure_instance_config

    assert ensure_instance_config(tmp_path) is True
    first = (tmp_path / "config.py").read_text()
    assert ensure_instance_config(tmp_path) is False
    assert (tmp_path / "config.py").read_text() == first
    assert DEV_SECRET_KEY not in first and len(first) > 60
    assert oct((tmp_path / "config.py").stat().st_mode)[-3:] == "600"


def test_security_headers(client):
    response = client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "HX-Request" in response.headers["Vary"]


def test_pages_carry_no_inline_scripts(client):
    html = client.get("/login").get_data(as_text=True)
    import re

    for tag in re.findall(r"<script[^>]*>", html):
        assert "src=" in tag
    assert " onclick=" not in html and " style=" not in html


def test_sqlite_runs_in_wal_mode_with_busy_timeout(app):
    with db.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 10000
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def _flask(tmp_path, *args):
    """Run the flask CLI against a scratch database."""
    env = dict(os.environ, FLASK_SECRET_KEY="cli-test", FLASK_SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/cli.sqlite")
    env["FLASK_UPLOAD_FOLDER"] = str(tmp_path / "uploads")
    env["FLASK_NOTIFICATION_DISPATCHER_THREAD"] = "false"
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False
    )


def _counts(path):
    """Row count of every table."""
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.connect() as connection:
        names = sa.inspect(connection).get_table_names()
        counts = {name: connection.execute(sa.text(f'SELECT COUNT(*) FROM "{name}"')).scalar() for name in names}
    engine.dispose()
    return counts


def test_migrations_build_the_models_schema_and_demo_is_idempotent(tmp_path):
    upgrade = _flask(tmp_path, "db", "upgrade")
    assert upgrade.returncode == 0, upgrade.stderr
    check = _flask(tmp_path, "db", "check")
    assert check.returncode == 0, check.stdout + check.stderr
    assert _flask(tmp_path, "demo").returncode == 0
    first = _counts(tmp_path / "cli.sqlite")
    assert _flask(tmp_path, "demo").returncode == 0
    assert _counts(tmp_path / "cli.sqlite") == first
    assert first["employees"] == 5 and first["codes"] == 3 and first["devices"] == 3


def test_demo_data_matches_the_contract(demo):
    emails = set(db.session.scalars(sa.select(Employee.email)))
    assert emails == {f"{n}@example.com" for n in ("admin", "moderator", "anna", "ben", "carla")}
    press = db.session.scalar(sa.select(Template).filter_by(name="Hydraulikpresse HP-200"))
    assert press.ratings_enabled and {e.email for e in press.groups[0].employees} == {"anna@example.com", "ben@example.com"}
    flow = db.session.scalar(sa.select(Flow).filter_by(template_id=press.id, title="Störung melden"))
    assert [(s.question, s.type.value, s.required, s.is_title) for s in flow.steps] == [
        ("Kurzbeschreibung", "text_short", True, True),
        ("Was ist passiert?", "text_long", True, False),
        ("Foto", "media", False, False),
        ("Steht die Maschine still?", "yes_no", True, False),
    ]
    pin = db.session.scalar(sa.select(Code).filter_by(token="demo-pin"))
    assert pin.check_pin("4711") and not pin.check_pin("1234")
    assert [b.label for b in press.start_element.buttons] == ["Störung melden", "Ersatzteil bestellen", "Bedienungsanleitung"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Step)) == 7


def test_bulk_demo_tickets_are_realistic(demo):
    from app.demo_data import load_bulk_tickets
    from app.models import Answer, Offer, Ticket

    assert load_bulk_tickets(300) == 300
    statuses = set(db.session.scalars(sa.select(Ticket.status).distinct()))
    assert len(statuses) >= 5
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Answer)) >= 300
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Offer)) >= 300
