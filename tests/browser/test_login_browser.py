"""Logging in through the real login page."""
from tests.browser.conftest import DESKTOP, assert_accessible, log_in


def test_admin_logs_in_through_the_login_page(live_server, new_page):
    page = new_page(DESKTOP)
    page.goto(f"{live_server.url}/login")
    assert_accessible(page)
    log_in(page, live_server.url, "admin@example.com")
    assert page.url.rstrip("/") == live_server.url
    assert page.locator("h1").inner_text().startswith(("Hallo", "Hello"))


def test_wrong_password_shows_a_clear_message(live_server, new_page):
    page = new_page()
    page.goto(f"{live_server.url}/login")
    page.get_by_test_id("login-email").fill("admin@example.com")
    page.get_by_test_id("login-password").fill("wrong")
    page.get_by_test_id("login-submit").click()
    page.locator(".error").wait_for()
    assert page.locator(".error").count() == 1
    assert "/login" in page.url
