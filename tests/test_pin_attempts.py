"""Wrong PINs counted per code and client address with growing delays, and per code from all clients together:
one client guessing locks out only itself; many clients at once spend the code's budget."""
import re

import pytest

from app.services import attempts

pytestmark = pytest.mark.usefixtures("english")

PIN_URL = "/c/demo-pin/pin"


@pytest.fixture
def clock(monkeypatch):
    """The delays' clock, moved by the test."""
    now = {"t": 1_900_000_000.0}
    monkeypatch.setattr(attempts, "clock", lambda: now["t"])
    return now


def enter(app, address, pin):
    """One PIN from a new browser at `address`; returns the response."""
    return app.test_client().post(PIN_URL, data={"pin": pin, "next": "/c/demo-pin"},
                                  environ_base={"REMOTE_ADDR": address}, headers={"Accept-Language": "en"})


def error(response):
    """The error line under the PIN field."""
    match = re.search(r'id="pin-error"[^>]*>(.*?)</p>', response.get_data(as_text=True), re.DOTALL)
    return match.group(1).strip() if match else None


def test_one_clients_wrong_pins_make_only_that_client_wait_and_the_wait_grows(demo, clock):
    guesser, colleague = "203.0.113.5", "203.0.113.6"
    assert [enter(demo, guesser, f"00{n}").status_code for n in range(5)] == [422] * 5
    refused = enter(demo, guesser, "4711")  # the right PIN is not even checked while the client waits
    # Retry-After is set (flask-limiter of the code pages' request budget rewrites it to the later of both ends).
    assert refused.status_code == 429 and "Retry-After" in refused.headers
    assert error(refused) == "Too many wrong PINs. Please try again in 30 seconds."
    assert enter(demo, colleague, "4711").status_code == 302
    clock["t"] += 30
    assert enter(demo, guesser, "0099").status_code == 422
    again = enter(demo, guesser, "4711")
    assert again.status_code == 429
    assert error(again) == "Too many wrong PINs. Please try again in 1 minute."
    clock["t"] += 60
    assert enter(demo, guesser, "4711").status_code == 302


def test_the_right_pin_forgets_the_clients_failures(demo, clock):
    assert [enter(demo, "203.0.113.5", "1").status_code for _n in range(4)] == [422] * 4
    assert enter(demo, "203.0.113.5", "4711").status_code == 302
    assert [enter(demo, "203.0.113.5", "1").status_code for _n in range(5)] == [422] * 5


@pytest.mark.parametrize("app", [{"PIN_CODE_RATE_LIMIT": "6 per hour"}], indirect=True)
def test_many_clients_together_spend_the_codes_budget(demo, clock):
    statuses = [enter(demo, f"198.51.100.{n}", "0000").status_code for n in range(6)]
    assert statuses == [422] * 6
    spent = enter(demo, "198.51.100.200", "4711")
    assert spent.status_code == 429
    assert error(spent) == "This code has had too many wrong PINs. Please try again in 60 minutes."


@pytest.mark.parametrize("app", [{"PIN_CODE_RATE_LIMIT": "20 per hour"}], indirect=True)
def test_one_client_alone_cannot_spend_the_codes_budget(demo, clock):
    """Its own delays hold one client back long before the code's budget is spent for everyone."""
    for _hour in range(60):
        enter(demo, "203.0.113.5", "0000")
        clock["t"] += 60
    assert enter(demo, "203.0.113.9", "4711").status_code == 302
