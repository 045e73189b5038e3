"""Failed sign-ins counted per account and per client address: growing delays for one account that never hold up
another account on the same address, a budget per address, the same answer for unknown e-mail addresses, and no
password check while an account waits."""
import re

import pytest

from app.enums import AuditKind
from app.extensions import db
from app.models import AuditEvent
from app.services import attempts
from app.services.errors import TooManyAttempts
from app.services.sign_in_attempts import ACCOUNTS, _account, begin
from tests.factories import PASSWORD, make_employee

pytestmark = pytest.mark.usefixtures("english")


@pytest.fixture
def clock(monkeypatch):
    """The delays' clock, moved by the test."""
    now = {"t": 1_900_000_000.0}
    monkeypatch.setattr(attempts, "clock", lambda: now["t"])
    return now


@pytest.fixture
def people(app):
    """Two employees who share an office address."""
    return make_employee(email="anna@example.com"), make_employee(email="ben@example.com")


def sign_in(client, email, password, **kwargs):
    """Submit the login form in English."""
    return client.post("/login", data={"email": email, "password": password},
                       headers={"Accept-Language": "en", **kwargs.pop("headers", {})}, **kwargs)


def error(response):
    """The error line under the password field."""
    match = re.search(r'<p class="error"[^>]*>(.*?)</p>', response.get_data(as_text=True), re.DOTALL)
    return match.group(1).strip() if match else None


def fail(client, email, times, **kwargs):
    """`times` wrong passwords; returns their statuses."""
    return [sign_in(client, email, f"wrong-{n}", **kwargs).status_code for n in range(times)]


def test_one_accounts_typos_never_block_another_account_on_the_same_address(people, client, clock):
    assert fail(client, "anna@example.com", 5) == [401] * 5
    refused = sign_in(client, "anna@example.com", PASSWORD)
    assert refused.status_code == 429
    assert sign_in(client, "ben@example.com", PASSWORD).status_code == 302


def test_the_delay_doubles_and_the_message_names_the_wait(people, client, clock):
    assert fail(client, "anna@example.com", 5) == [401] * 5
    waits = []
    for _round in range(4):
        refused = sign_in(client, "anna@example.com", "still-wrong")
        assert refused.status_code == 429
        waits.append((int(refused.headers["Retry-After"]), error(refused)))
        clock["t"] += int(refused.headers["Retry-After"])
        assert sign_in(client, "anna@example.com", "wrong-again").status_code == 401
    assert waits == [
        (30, "Too many failed attempts for this account. Please try again in 30 seconds."),
        (60, "Too many failed attempts for this account. Please try again in 1 minute."),
        (120, "Too many failed attempts for this account. Please try again in 2 minutes."),
        (240, "Too many failed attempts for this account. Please try again in 4 minutes."),
    ]
    clock["t"] += 100  # the ninth failure's 480 s run: 380 s are left, said as whole minutes rounded up
    later = sign_in(client, "anna@example.com", "x")
    assert later.headers["Retry-After"] == "380" and error(later).endswith("try again in 7 minutes.")


def test_delays_grow_from_the_first_up_to_the_ceiling(app):
    with app.test_request_context():
        assert [ACCOUNTS.delay_after(n) for n in range(12)] == [0, 0, 0, 0, 0, 30, 60, 120, 240, 480, 900, 900]


def test_the_right_password_during_the_delay_is_refused_with_the_same_answer(people, client, clock):
    fail(client, "anna@example.com", 5)
    wrong, right = sign_in(client, "anna@example.com", "wrong"), sign_in(client, "anna@example.com", PASSWORD)
    assert (wrong.status_code, error(wrong), wrong.headers["Retry-After"]) == (
        right.status_code, error(right), right.headers["Retry-After"])
    assert client.get("/").status_code == 302  # not signed in
    clock["t"] += 30
    assert sign_in(client, "anna@example.com", PASSWORD).status_code == 302


def test_an_unknown_address_is_answered_and_counted_like_a_known_one(people, app, clock):
    known, unknown = app.test_client(), app.test_client()
    answers = {}
    for client, email in ((known, "anna@example.com"), (unknown, "nobody@example.com")):
        responses = [sign_in(client, email, f"guess-{n}") for n in range(6)]
        answers[email] = [(r.status_code, error(r), r.headers.get("Retry-After")) for r in responses]
    assert answers["anna@example.com"] == answers["nobody@example.com"]
    assert [status for status, _text, _wait in answers["nobody@example.com"]] == [401] * 5 + [429]


def test_a_complete_sign_in_forgets_the_accounts_failures(people, client, clock):
    assert fail(client, "anna@example.com", 4) == [401] * 4
    assert sign_in(client, "anna@example.com", PASSWORD).status_code == 302
    client.post("/logout")
    assert fail(client, "anna@example.com", 5) == [401] * 5


@pytest.mark.parametrize("app", [{"TRUSTED_PROXIES": 1, "LOGIN_ADDRESS_RATE_LIMIT": "3 per 10 minutes"}], indirect=True)
def test_each_address_behind_the_proxy_has_its_own_budget(people, app, clock):
    sprayer, office = app.test_client(), app.test_client()
    first = {"headers": {"X-Forwarded-For": "203.0.113.1"}}
    second = {"headers": {"X-Forwarded-For": "203.0.113.2"}}
    assert [sign_in(sprayer, f"user{n}@example.com", "Sommer2026!", **first).status_code for n in range(3)] == [401] * 3
    spent = sign_in(sprayer, "ben@example.com", PASSWORD, **first)
    assert spent.status_code == 429
    assert error(spent) == "Too many failed sign-ins from your network. Please try again in 10 minutes."
    assert sign_in(office, "user9@example.com", "typo", **second).status_code == 401
    assert sign_in(office, "ben@example.com", PASSWORD, **second).status_code == 302


def test_a_refusal_is_audited_as_a_lockout_once_a_minute(people, client, clock):
    fail(client, "anna@example.com", 5)
    sign_in(client, "anna@example.com", PASSWORD)
    sign_in(client, "anna@example.com", PASSWORD)
    locked = db.session.scalars(db.select(AuditEvent).filter_by(kind=AuditKind.SIGN_IN_LOCKED)).all()
    assert len(locked) == 1 and locked[0].detail == {"email": "anna@example.com"}
    assert not db.session.scalars(db.select(AuditEvent).filter_by(kind=AuditKind.SIGN_IN)).all()


def test_a_second_attempt_while_one_is_checked_is_refused(app, clock):
    """Simultaneous requests get no more guesses than one: only one attempt per account is checked at a time."""
    with app.test_request_context(environ_base={"REMOTE_ADDR": "198.51.100.4"}):
        begin("anna@example.com")
        with pytest.raises(TooManyAttempts):
            begin("ANNA@example.com ")
        ACCOUNTS.failed(_account("anna@example.com"))
        begin("anna@example.com")  # the next failure's turn


def test_another_app_process_with_memory_storage_counts_alone(people, app, tmp_path, clock):
    """memory:// is per process (the Redis test shows the shared case): a second app starts from zero."""
    from app import create_app
    from tests.conftest import base_config

    fail(app.test_client(), "anna@example.com", 5)
    other = create_app(base_config(tmp_path, f"sqlite:///{tmp_path / 'other.sqlite'}"))
    with other.app_context():
        db.create_all()
        assert sign_in(other.test_client(), "anna@example.com", "wrong").status_code == 401
        db.session.remove()
