"""The database connections of one app process are bounded (DATABASE_POOL_SIZE, app.pool_options): more busy
threads wait for a connection instead of opening more, and a request that waits DATABASE_POOL_TIMEOUT_SECONDS in
vain is answered 503 with Retry-After, in the reader's language, having written nothing (app/refusals.answer_busy).
"""
import threading

import pytest
import sqlalchemy as sa

from app import create_app
from app.extensions import db
from app.models import Ticket, Update
from tests.api_helpers import token_for
from tests.conftest import base_config
from tests.test_tickets import make_people, make_world

RUN_ON_POSTGRES = True
ONE_CONNECTION = {"DATABASE_POOL_SIZE": 1, "DATABASE_POOL_TIMEOUT_SECONDS": 0.3}
BUSY_DE = "Der Server ist gerade sehr ausgelastet"


@pytest.fixture
def world(app):
    """People and one ASSIGNED ticket, committed, with the test's own session holding no connection."""
    made = make_world(make_people())
    db.session.commit()
    return made


def _hold_every_connection():
    """Check out the pool's connections (as busy threads would) until none is left; returns them."""
    held = []
    while True:
        try:
            held.append(db.engine.connect())
        except sa.exc.TimeoutError:
            return held


def test_a_file_database_opens_no_more_connections_than_its_pool_size(tmp_path):
    app = create_app({**base_config(tmp_path, f"sqlite:///{tmp_path / 'pool.sqlite'}"), "DATABASE_POOL_SIZE": 3,
                      "DATABASE_POOL_TIMEOUT_SECONDS": 0.05})
    with app.app_context():
        held = _hold_every_connection()
        assert len(held) == 3
        for connection in held:
            connection.close()
        assert db.engine.pool.checkedin() == 3
        db.engine.dispose()


def test_an_in_memory_database_keeps_its_single_shared_connection(tmp_path):
    app = create_app(base_config(tmp_path, "sqlite://"))
    with app.app_context():
        db.create_all()
        assert db.session.scalar(sa.select(sa.func.count(Ticket.id))) == 0


def test_an_installation_can_set_its_own_pool_options(tmp_path):
    config = {**base_config(tmp_path, f"sqlite:///{tmp_path / 'own.sqlite'}"),
              "SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": 2, "max_overflow": 1}}
    app = create_app(config)
    assert app.config["SQLALCHEMY_ENGINE_OPTIONS"]["pool_size"] == 2
    assert app.config["SQLALCHEMY_ENGINE_OPTIONS"]["max_overflow"] == 1
    assert app.config["SQLALCHEMY_ENGINE_OPTIONS"]["pool_timeout"] == 30


@pytest.mark.parametrize("app", [ONE_CONNECTION], indirect=True)
def test_a_page_that_gets_no_connection_answers_503_busy_and_then_works_again(app, world, login):
    client = login(world["people"]["responsible"])
    ticket_id = world["ticket"].id
    db.session.remove()
    held = _hold_every_connection()
    try:
        response = client.get(f"/tickets/{ticket_id}", headers={"Accept-Language": "de"})
        assert response.status_code == 503
        assert response.headers["Retry-After"] == "5"
        page = response.get_data(as_text=True)
        assert BUSY_DE in page and 'data-testid="error-page"' in page
    finally:
        for connection in held:
            connection.close()
    assert client.get(f"/tickets/{ticket_id}").status_code == 200


@pytest.mark.parametrize("app", [ONE_CONNECTION], indirect=True)
def test_a_form_sent_while_every_connection_is_busy_writes_nothing(app, world, login, as_htmx):
    client = login(world["people"]["responsible"])
    ticket = world["ticket"]
    path, version = f"/tickets/{ticket.id}/updates", ticket.version
    db.session.remove()
    held = _hold_every_connection()
    try:
        response = client.post(path, data={"body": "Lager getauscht", "version": version}, headers=as_htmx)
        assert response.status_code == 503  # htmx keeps the typed text in the form for a 5xx (base.html)
        assert int(response.headers["Retry-After"]) >= 5  # the rate limiter may set its window's longer wait
    finally:
        for connection in held:
            connection.close()
    assert db.session.scalar(sa.select(sa.func.count(Update.id)).where(Update.body == "Lager getauscht")) == 0
    db.session.remove()
    assert client.post(path, data={"body": "Lager getauscht", "version": version}).status_code in (200, 302, 303)
    assert db.session.scalar(sa.select(sa.func.count(Update.id)).where(Update.body == "Lager getauscht")) == 1


@pytest.mark.parametrize("app", [ONE_CONNECTION], indirect=True)
def test_an_api_request_that_gets_no_connection_answers_a_503_problem(app, world):
    secret = token_for(world["people"]["responsible"])
    db.session.commit()
    db.session.remove()
    held = _hold_every_connection()
    try:
        response = app.test_client().get(
            "/api/v1/tickets", headers={"Authorization": f"Bearer {secret}", "Accept-Language": "en"}
        )
    finally:
        for connection in held:
            connection.close()
    assert response.status_code == 503
    assert response.mimetype == "application/problem+json"
    assert int(response.headers["Retry-After"]) >= 5
    assert response.get_json()["status"] == 503
    assert "very busy" in response.get_json()["detail"]


@pytest.mark.parametrize("app", [{"DATABASE_POOL_SIZE": 2, "DATABASE_POOL_TIMEOUT_SECONDS": 30}], indirect=True)
def test_more_busy_threads_than_connections_all_get_their_pages(app, world):
    employee_id = world["people"]["responsible"].get_id()
    ticket_id = world["ticket"].id
    db.session.remove()
    statuses, start = [], threading.Barrier(6)

    def visitor():
        with app.app_context():
            client = app.test_client()
            with client.session_transaction() as session:
                session["_user_id"], session["_fresh"] = employee_id, True
            start.wait()
            for _ in range(3):
                statuses.append(client.get(f"/tickets/{ticket_id}").status_code)
            db.session.remove()

    threads = [threading.Thread(target=visitor) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert statuses == [200] * 18
    assert db.engine.pool.checkedin() <= 2
