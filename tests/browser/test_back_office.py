"""Back office journeys in a real browser: working a ticket through its life, and staff creating an internal ticket."""
import re

import sqlalchemy as sa
from playwright.sync_api import expect

from app.extensions import db
from app.models import Code, Device, Ticket
from tests import factories
from tests.browser.conftest import DESKTOP, PHONE, assert_accessible, log_in


def new_public_ticket(live_server, token, flow_title="Störung melden"):
    """A fresh OPEN public ticket on the device of code `token`, reported by a code user."""
    with live_server.app.app_context():
        code = db.session.scalar(sa.select(Code).filter_by(token=token))
        device = db.session.get(Device, code.device_id)
        flow = next(flow for flow in device.template.active_flows if flow.title == flow_title)
        visitor = factories.make_code_visitor(code)
        return factories.make_public_ticket(flow, device, visitor).id


def open_ticket_from_overview(page, base_url, number):
    """Go to the overview and open the ticket through its row's link."""
    page.get_by_test_id("nav-tickets").first.click()
    row = page.locator(f'[data-testid="ticket-row"][data-ticket-number="{number}"]')
    expect(row).to_be_visible()
    row.get_by_role("link").first.click()
    expect(page.get_by_test_id("ticket-number")).to_contain_text(str(number))


def press_event(page, event):
    """Click a status button."""
    page.locator(f'[data-testid="status-event"][value="{event}"]').click()


def expect_status(page, status):
    """The ticket page shows `status`."""
    expect(page.get_by_test_id("ticket-status")).to_have_attribute("data-status", status)


def test_ticket_is_worked_from_offer_to_done_and_moderated(live_server, new_page):
    press_number = new_public_ticket(live_server, "demo-press")
    cooler_number = new_public_ticket(live_server, "demo-cooler")
    url = live_server.url

    anna = new_page(DESKTOP)
    log_in(anna, url, "anna@example.com")
    open_ticket_from_overview(anna, url, press_number)
    expect_status(anna, "open")
    assert_accessible(anna)
    anna.get_by_test_id("offer-accept").click()
    expect_status(anna, "assigned")
    press_event(anna, "start")
    expect_status(anna, "in_progress")

    anna.get_by_test_id("update-input").fill("Intern: Dichtungssatz im Lager prüfen")
    anna.get_by_test_id("update-internal").check()
    anna.get_by_test_id("update-submit").click()
    expect(anna.get_by_test_id("update").filter(has_text="Dichtungssatz")).to_be_visible()
    anna.get_by_test_id("update-input").fill("Techniker kommt heute um 14 Uhr")
    anna.get_by_test_id("update-internal").uncheck()
    anna.get_by_test_id("update-submit").click()
    expect(anna.get_by_test_id("update").filter(has_text="14 Uhr")).to_be_visible()

    visitor = new_page(PHONE)
    visitor.goto(f"{url}/c/demo-press/t/{press_number}")
    expect(visitor.get_by_test_id("update").filter(has_text="Techniker kommt heute um 14 Uhr")).to_be_visible()
    expect(visitor.get_by_text("Dichtungssatz")).to_have_count(0)

    press_event(anna, "finish")
    expect_status(anna, "done")

    moderator = new_page(DESKTOP)
    log_in(moderator, url, "moderator@example.com")
    open_ticket_from_overview(moderator, url, cooler_number)
    moderator.get_by_test_id("assign-employee").select_option("anna@example.com")
    moderator.get_by_test_id("assign-submit").click()
    expect_status(moderator, "assigned")

    anna.goto(f"{url}/tickets/{cooler_number}")
    press_event(anna, "finish")
    expect_status(anna, "closed")  # ratings are off for KK-9: done and closed at once

    anna.goto(f"{url}/")  # her home follows new tickets live: the offer and the count come without a reload
    open_count = anna.locator('[data-testid="status-count"][data-status="open"]')
    counted = open_count.inner_text()
    third = new_public_ticket(live_server, "demo-press")
    expect(anna.locator(f'[data-testid="home-offer"][data-ticket-number="{third}"]')).to_be_visible()
    expect(open_count).not_to_have_text(counted)
    moderator.goto(f"{url}/tickets/{third}")
    for email in ("ben@example.com", "anna@example.com"):
        moderator.get_by_test_id("assign-employee").select_option(email)
        moderator.get_by_test_id("assign-submit").click()
        expect(moderator.locator(f'[data-testid="offer"][data-employee="{email}"]')).to_have_attribute("data-state", "assigned")
    expect_status(moderator, "assigned")
    for email in ("ben@example.com", "anna@example.com"):
        moderator.locator(f'[data-testid="offer"][data-employee="{email}"]').get_by_test_id("withdraw-employee").click()
        expect(moderator.locator(f'[data-testid="offer"][data-employee="{email}"]')).to_have_attribute("data-state", "withdrawn")
    expect_status(moderator, "open")

    moderator.goto(f"{url}/tickets/{cooler_number}")
    expect_status(moderator, "closed")
    press_event(moderator, "reopen")
    expect_status(moderator, "assigned")  # anna is still responsible


def test_employee_creates_an_internal_ticket_that_code_users_never_see(live_server, new_page):
    url = live_server.url
    anna = new_page(PHONE)
    log_in(anna, url, "anna@example.com")
    anna.get_by_test_id("new-ticket").first.click()
    assert_accessible(anna)
    anna.get_by_test_id("device-search").fill("Halle 1")
    anna.locator('[data-testid="step-option"][value="HP-200 Halle 1"]').click()
    anna.get_by_test_id("flow-choice").filter(has_text="Störung melden").click()

    anna.wait_for_url(re.compile(r"/step/0$"))
    anna.get_by_test_id("step-input").fill("Hydraulikschlauch porös")
    anna.get_by_test_id("wizard-next").click()
    anna.wait_for_url(re.compile(r"/step/1$"))
    anna.get_by_test_id("step-input").fill("Bei der Wartung gesehen, noch dicht.")
    anna.get_by_test_id("wizard-next").click()
    anna.wait_for_url(re.compile(r"/step/2$"))
    expect(anna.locator('input[type="file"][data-testid="step-input"]')).to_be_attached()
    anna.get_by_test_id("wizard-next").click()
    anna.wait_for_url(re.compile(r"/step/3$"))
    anna.locator('[data-testid="step-option"][value="no"]').check()
    anna.get_by_test_id("wizard-next").click()
    anna.wait_for_url(re.compile(r"/step/4$"))
    internal = anna.locator('[data-testid="step-option"][value="internal"]')
    expect(internal).to_be_checked()  # employees get the visibility step, pre-selected INTERNAL
    anna.get_by_test_id("wizard-next").click()
    anna.wait_for_url(re.compile(r"/tickets/\d+$"))
    expect(anna.get_by_test_id("ticket-visibility")).to_have_attribute("data-visibility", "internal")
    expect_status(anna, "open")
    number = int(re.search(r"/tickets/(\d+)", anna.url).group(1))
    with live_server.app.app_context():
        assert db.session.get(Ticket, number).title == "Hydraulikschlauch porös"

    visitor = new_page(PHONE)
    visitor.goto(f"{url}/c/demo-press?tab=tickets")
    expect(visitor.get_by_text("Hydraulikschlauch porös")).to_have_count(0)
    response = visitor.goto(f"{url}/c/demo-press/t/{number}")
    assert response.status == 404

    new_public_ticket(live_server, "demo-press")
    anna.get_by_test_id("nav-tickets").first.click()
    expect(anna.get_by_test_id("ticket-row")).to_have_count(2)
    anna.locator("details.filters > summary").click()  # the filters fold away on the phone
    anna.get_by_test_id("ticket-search").fill("Hydraulikschlauch")
    expect(anna.get_by_test_id("ticket-row")).to_have_count(1)
    expect(anna.locator(f'[data-testid="ticket-row"][data-ticket-number="{number}"]')).to_be_visible()
    expect(anna).to_have_url(re.compile(r"q=Hydraulikschlauch"))  # the filter state lives in the URL
    assert_accessible(anna)
    anna.reload()
    expect(anna.get_by_test_id("ticket-row")).to_have_count(1)
