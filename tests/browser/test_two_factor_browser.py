"""Two-factor sign-in as a person does it: set up the app from the shown key, sign out, sign in with password and
code, be refused a wrong code, and use a recovery code once and only once."""
import time

import pyotp
from playwright.sync_api import expect

from tests.browser.conftest import DESKTOP, assert_accessible, log_in


def _password(page, base_url, email="anna@example.com"):
    """The password step; the code step follows on the login page."""
    page.goto(f"{base_url}/login")
    page.get_by_test_id("login-email").fill(email)
    page.get_by_test_id("login-password").fill("ticketwerk-demo")
    page.get_by_test_id("login-submit").click()
    expect(page.get_by_test_id("totp-code")).to_be_visible()


def _code(page, code):
    page.get_by_test_id("totp-code").fill(code)
    page.get_by_test_id("totp-submit").click()


def _log_out(page):
    page.locator("form[action='/logout'] button").click()
    expect(page.get_by_test_id("login-email")).to_be_visible()


def test_two_factor_set_up_sign_in_and_recovery_code(live_server, new_page):
    page = new_page(DESKTOP)
    base = live_server.url
    log_in(page, base, "anna@example.com")
    page.goto(f"{base}/account/two-factor")
    expect(page.get_by_test_id("totp-qr")).to_be_visible()
    assert_accessible(page)
    totp = pyotp.TOTP(page.get_by_test_id("totp-secret").inner_text().strip())
    _code(page, totp.now())
    expect(page.get_by_test_id("recovery-code")).to_have_count(10)
    recovery = page.get_by_test_id("recovery-code").nth(0).inner_text().strip()
    page.get_by_test_id("recovery-done").click()
    _log_out(page)

    _password(page, base)
    assert_accessible(page)
    wrong = "000000" if totp.now() != "000000" else "111111"
    _code(page, wrong)
    expect(page.locator(".error")).to_be_visible()
    expect(page.get_by_test_id("totp-code")).to_be_visible()
    _code(page, totp.at(time.time() + 30))  # the next step's code: the set-up's is spent, drift allows one step
    expect(page.get_by_test_id("login-email")).to_have_count(0)
    expect(page).to_have_url(f"{base}/")
    _log_out(page)

    _password(page, base)
    _code(page, recovery)
    expect(page).to_have_url(f"{base}/")
    _log_out(page)
    _password(page, base)
    _code(page, recovery)
    expect(page.locator(".error")).to_be_visible()
    expect(page.get_by_test_id("totp-code")).to_be_visible()
