"""No account enumeration: an unknown e-mail, a wrong password and a deactivated account answer alike, in the
same time (one password-hash check each)."""
import statistics
import time

import pytest

from app.services.login_timing import password_matches
from tests.factories import PASSWORD, make_employee

pytestmark = pytest.mark.usefixtures("english")
TRIES = 5
TOLERANCE_SECONDS = 0.020
ROUNDS = 3  # a busy machine can spoil one round; a real difference (one scrypt check, ~100 ms) fails them all


def _attempt(client, email, password):
    """One login attempt: (status, page text with the typed e-mail blanked, seconds of CPU it cost).

    The test client runs the request in this thread, so its CPU time is the work the server did: what a
    stopwatch on an idle server measures, without the noise of other processes on a busy test machine.
    """
    started = time.thread_time()
    response = client.post("/login", data={"email": email, "password": password})
    took = time.thread_time() - started
    return response.status_code, response.get_data(as_text=True).replace(email, "<email>"), took


# Every round adds 5 failures per account: without a larger budget the second round would meet the account's wait.
@pytest.mark.parametrize("app", [{"LOGIN_FREE_FAILURES": TRIES * ROUNDS + 1}], indirect=True)
def test_unknown_email_wrong_password_and_deactivated_account_answer_alike_in_the_same_time(app, client):
    """Median of five tries each: within 20 ms of one another; the same status and the same page."""
    make_employee(email="anna@example.com")
    make_employee(email="ben@example.com", active=False)
    cases = {
        "unknown e-mail": ("nobody@example.com", "whatever-password"),
        "wrong password": ("anna@example.com", "whatever-password"),
        "deactivated": ("ben@example.com", PASSWORD),
    }
    _attempt(client, "warm@example.com", "x")  # first request: templates compiled, dummy hash made
    rounds = []
    for _ in range(ROUNDS):
        took = {name: [] for name in cases}
        answers = {}
        for _ in range(TRIES):
            for name, (email, password) in cases.items():
                status, page, seconds = _attempt(client, email, password)
                took[name].append(seconds)
                answers[name] = (status, page)
        assert {answer for answer in answers.values()} == {answers["unknown e-mail"]}
        assert answers["unknown e-mail"][0] == 401
        medians = {name: statistics.median(values) for name, values in took.items()}
        assert min(medians.values()) > 0.005, medians  # a real hash check ran in every case
        rounds.append(medians)
        if max(medians.values()) - min(medians.values()) < TOLERANCE_SECONDS:
            return
    pytest.fail(f"median login costs differ by 20 ms or more in every round: {rounds}")


def test_password_matches_checks_a_dummy_hash_when_there_is_no_account(monkeypatch):
    """No employee, or one without a password yet: one hash check against the dummy, and refused."""
    from app.services import login_timing

    checked = []
    real = login_timing.check_password_hash
    monkeypatch.setattr(login_timing, "check_password_hash", lambda stored, pw: checked.append(stored) or real(stored, pw))
    assert password_matches(None, "anything") is False
    assert password_matches(type("NoPassword", (), {"password_hash": None})(), "") is False
    assert len(checked) == 2 and checked[0] == checked[1] and checked[0].startswith("scrypt:")
