"""Anna has the back office open; a code user submits a ticket on /c/demo-press; her bell rises live."""
import re

from tests.browser.conftest import DESKTOP, PHONE, assert_accessible, log_in


def _submit_ticket_as_code_user(page, base_url):
    """Report a problem through the real wizard; returns the new ticket's number."""
    page.goto(f"{base_url}/c/demo-press")
    page.get_by_test_id("new-ticket").first.click()
    page.get_by_test_id("flow-choice").filter(has_text="Störung melden").first.click()
    page.wait_for_url(re.compile(r"/step/0$"))
    page.get_by_test_id("step-input").fill("Presse verliert Öl")
    page.get_by_test_id("wizard-next").click()
    page.wait_for_url(re.compile(r"/step/1$"))
    page.get_by_test_id("step-input").fill("Unter der Maschine ist eine Öllache.")
    page.get_by_test_id("wizard-next").click()
    page.wait_for_url(re.compile(r"/step/2$"))
    page.get_by_test_id("wizard-next").click()  # the photo is optional
    page.wait_for_url(re.compile(r"/step/3$"))
    page.locator('[data-testid="step-option"][value="yes"]').check()
    page.get_by_test_id("wizard-next").click()
    number = page.get_by_test_id("ticket-number")
    number.wait_for()
    return int(re.search(r"(\d+)", number.inner_text().replace("T-", "")).group(1))


def test_bell_rises_live_and_item_opens_the_ticket(live_server, new_page):
    anna = new_page(DESKTOP)
    log_in(anna, live_server.url, "anna@example.com")
    anna.goto(f"{live_server.url}/")
    count = anna.get_by_test_id("notification-count")
    before = int(count.inner_text())
    anna.locator('html[data-realtime="connected"]').wait_for()
    anna.evaluate("window.__stillTheSamePage = true")

    customer = new_page(PHONE)
    number = _submit_ticket_as_code_user(customer, live_server.url)

    anna.wait_for_function(
        "([before]) => parseInt(document.querySelector('[data-testid=notification-count]').textContent, 10) > before",
        arg=[before],
        timeout=5000,
    )
    assert anna.evaluate("window.__stillTheSamePage") is True  # no reload
    toast = anna.locator("#toasts .toast").filter(has_text=f"T-{number:05d}")
    toast.wait_for(timeout=5000)
    toast.get_by_role("button").click()  # the server-rendered toast closes
    toast.wait_for(state="detached", timeout=2000)

    anna.locator("#notification-bell").click()
    anna.wait_for_url(re.compile(r"/notifications$"))
    item = anna.get_by_test_id("notification").first
    assert item.get_attribute("href") == f"/tickets/{number}"
    assert f"T-{number:05d}" in item.inner_text()
    assert_accessible(anna)
    anna.locator('#notification-list form[action$="/notifications/read-all"] button').click()
    anna.wait_for_function(  # the bell's count follows the list out of band, no polling, no reload
        "() => document.querySelector('[data-testid=notification-count]').textContent.trim() === '0'", timeout=5000
    )
    item.click()
    anna.wait_for_url(re.compile(rf"/tickets/{number}$"))
    anna.locator("#delivery-log").wait_for()
    assert anna.locator('#delivery-log [data-delivery-status="sent"]').count() >= 1

    anna.goto(f"{live_server.url}/settings/notifications")
    anna.locator('input[name="offer_received-websocket"]').wait_for()
    assert_accessible(anna)
