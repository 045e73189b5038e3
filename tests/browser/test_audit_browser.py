"""On a 360 px phone: "forgot password" from the login page, then the security log, which must not scroll sideways."""
from app.enums import AuditKind
from app.services import audit
from tests.browser.conftest import assert_accessible, log_in

SMALL_PHONE = {"width": 360, "height": 740}


def _scroll_width(page):
    """How wide the page is, in CSS pixels (wider than the viewport means it scrolls sideways)."""
    return page.evaluate("() => document.documentElement.scrollWidth")


def test_forgot_password_and_the_security_log_fit_a_small_phone(live_server, new_page):
    app = live_server.app
    app.config["MAIL_SERVER"] = "127.0.0.1"  # the login page offers the reset link only when mail can be sent
    with app.app_context(), app.test_request_context(
        environ_base={"REMOTE_ADDR": "2001:db8:85a3:0:0:8a2e:370:7334", "HTTP_USER_AGENT": "Mozilla/5.0 " + "Verylongbrowsertoken" * 20}
    ):
        audit.record(AuditKind.SIGN_IN_FAILED, detail={"email": "ein.sehr.langer.name.ohne.umbruch@beispiel-unternehmen-gmbh.example.com"})
    page = new_page(SMALL_PHONE)
    page.goto(f"{live_server.url}/login")
    page.get_by_test_id("forgot-password").click()
    page.get_by_test_id("forgot-email").fill("anna@example.com")
    page.get_by_test_id("forgot-submit").click()
    page.get_by_test_id("reset-requested").wait_for()
    assert _scroll_width(page) <= SMALL_PHONE["width"]

    log_in(page, live_server.url, "admin@example.com")
    page.goto(f"{live_server.url}/admin/audit")
    rows = page.get_by_test_id("audit-row")
    kinds = {rows.nth(i).get_attribute("data-kind") for i in range(rows.count())}
    assert {"sign_in", "sign_in_failed", "password_reset_requested"} <= kinds
    assert _scroll_width(page) <= SMALL_PHONE["width"]
    wrap = page.locator(".table-wrap")
    assert wrap.evaluate("(box) => box.scrollWidth <= box.clientWidth")  # nothing hides behind a scroll inside either
    assert_accessible(page)
