"""The code user's journey on a phone: report through the wizard with a photo, PIN codes, rating a finished ticket."""

import re

import sqlalchemy as sa
from PIL import Image
from playwright.sync_api import expect

from app.enums import Visibility
from app.extensions import db
from app.models import Code, Employee, Flow, Message, Ticket, Update
from app.services import offers
from app.services import tickets as ticket_service
from app.workflow import TicketStatus
from tests.browser.conftest import PHONE, assert_accessible
from tests.factories import make_ticket

INTERNAL_TITLE = "Interner Prüfauftrag Hydraulik"


def photo_file(tmp_path):
    """A real PNG photo on disk."""
    path = tmp_path / "display.png"
    image = Image.new("RGB", (800, 600), (200, 40, 40))
    image.save(path, "PNG")
    return path


def employee_ticket(app, visibility, title):
    """A submitted ticket on the demo press made by the administrator through the services."""
    with app.app_context():
        admin = db.session.scalar(sa.select(Employee).filter_by(email="admin@example.com"))
        code = db.session.scalar(sa.select(Code).filter_by(token="demo-press"))
        flow = db.session.scalar(sa.select(Flow).filter_by(template_id=code.device.template_id, title="Störung melden"))
        draft = ticket_service.start_draft(flow, code.device, actor=admin)
        ticket = make_ticket(flow, code.device, admin, visibility=visibility)
        ticket_service.delete_draft(draft, actor=admin)
        ticket.title = title
        db.session.commit()
        return ticket.number, admin.id


def test_code_user_reports_a_problem_with_a_photo(live_server, new_page, tmp_path):
    internal_number, _ = employee_ticket(live_server.app, Visibility.INTERNAL, INTERNAL_TITLE)
    page = new_page(PHONE)
    page.goto(f"{live_server.url}/c/demo-press")
    assert_accessible(page)
    page.get_by_test_id("action-button").filter(has_text="Störung melden").click()

    page.wait_for_url(re.compile(r"/t/\d+/step/0$"))
    page.get_by_test_id("wizard-next").click()  # empty required answer
    page.locator("#step-error").wait_for()
    page.get_by_test_id("step-input").fill("Presse fährt nicht hoch")
    page.get_by_test_id("wizard-next").click()

    page.wait_for_url(re.compile(r"/step/1$"))
    page.reload()  # the draft survives a reload
    page.get_by_test_id("step-input").fill("Seit heute Morgen")
    page.get_by_test_id("wizard-back").click()  # what was typed on this step goes back with the person
    page.wait_for_url(re.compile(r"/step/0$"))
    assert page.get_by_test_id("step-input").input_value() == "Presse fährt nicht hoch"
    page.get_by_test_id("step-input").press("Enter")  # Enter goes on, not back
    page.wait_for_url(re.compile(r"/step/1$"))
    assert page.get_by_test_id("step-input").input_value() == "Seit heute Morgen"
    page.get_by_test_id("step-input").fill("Seit heute Morgen bleibt der Stempel oben.")
    page.get_by_test_id("wizard-next").click()

    page.wait_for_url(re.compile(r"/step/2$"))
    assert_accessible(page)
    page.get_by_test_id("step-input").set_input_files(str(photo_file(tmp_path)))
    page.locator("#step-preview img").wait_for()  # preview before upload
    page.get_by_test_id("wizard-next").click()

    page.wait_for_url(re.compile(r"/step/3$"))
    assert_accessible(page)  # a choice step
    page.get_by_test_id("step-option").and_(page.locator('[value="yes"]')).check()
    page.get_by_test_id("wizard-next").click()

    page.wait_for_url(re.compile(r"/c/demo-press/t/\d+$"))
    assert page.get_by_test_id("ticket-status").get_attribute("data-status") == "open"
    assert page.get_by_test_id("ticket-visibility").get_attribute("data-visibility") == "public"
    assert "Seit heute Morgen bleibt der Stempel oben." in page.content()
    thumbnail = page.locator(".answers img").first
    thumbnail.wait_for()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=thumbnail.element_handle())
    number = int(page.url.rsplit("/", 1)[1])
    assert_accessible(page)

    page.goto(f"{live_server.url}/c/demo-press")
    page.get_by_test_id("nav-tickets").click()
    page.wait_for_url(re.compile(r"tab=tickets"))
    rows = page.get_by_test_id("ticket-row")
    assert rows.first.get_attribute("data-ticket-number") == str(number)
    numbers = [rows.nth(i).get_attribute("data-ticket-number") for i in range(rows.count())]
    assert str(internal_number) not in numbers
    for url in ("/c/demo-press", "/c/demo-press?tab=tickets", "/c/demo-press?tab=history"):
        page.goto(f"{live_server.url}{url}")
        assert INTERNAL_TITLE not in page.content()
    assert_accessible(page)
    response = page.goto(f"{live_server.url}/c/demo-press/t/{internal_number}")
    assert response.status == 404 and INTERNAL_TITLE not in page.content()

    pin_page = new_page(PHONE)
    pin_page.goto(f"{live_server.url}/c/demo-pin")
    assert "HP-200 Halle 2" not in pin_page.content()
    assert_accessible(pin_page)
    pin_page.get_by_test_id("pin-input").fill("4711")
    pin_page.get_by_test_id("pin-submit").click()
    pin_page.get_by_test_id("nav-tickets").wait_for()
    assert "HP-200 Halle 2" in pin_page.content()


def test_code_user_rates_a_done_ticket(live_server, new_page):
    number, admin_id = employee_ticket(live_server.app, Visibility.PUBLIC, "Ölverlust am Zylinder")
    with live_server.app.app_context():
        admin = db.session.get(Employee, admin_id)
        ticket = db.session.get(Ticket, number)
        offers.assign_employee(ticket, admin, actor=admin)
        ticket_service.fire_event(ticket, "finish", actor=admin)
        assert ticket.status == TicketStatus.DONE

    page = new_page(PHONE)
    page.goto(f"{live_server.url}/c/demo-press/t/{number}")
    assert page.get_by_test_id("ticket-status").get_attribute("data-status") == "done"
    assert page.get_by_test_id("message-input").is_visible()
    page.get_by_test_id("rating-option").and_(page.locator('[value="4"]')).check()
    page.get_by_test_id("rating-comment").fill("Schnell und freundlich.")
    assert_accessible(page)
    page.get_by_test_id("rating-submit").click()
    # The ring may refresh the status block a moment before the answer's redirect shows the whole closed page.
    expect(page.get_by_test_id("message-input")).to_have_count(0)
    expect(page.get_by_test_id("ticket-status")).to_have_attribute("data-status", "closed")
    expect(page.get_by_test_id("update-input")).to_have_count(0)
    expect(page.get_by_test_id("new-ticket").first).to_be_visible()

    token = page.locator('meta[name="csrf-token"]').get_attribute("content")
    crafted_message = page.request.post(
        f"{live_server.url}/tickets/{number}/messages",
        form={"csrf_token": token, "body": "Doch noch was", "as": "code"},
        headers={"HX-Request": "true"},
        max_redirects=0,
    )
    crafted_update = page.request.post(
        f"{live_server.url}/c/demo-press/t/{number}/updates",
        form={"csrf_token": token, "body": "Doch noch was"},
        max_redirects=0,
    )
    assert crafted_message.status >= 400 and crafted_update.status == 403
    with live_server.app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Message.id)).where(Message.body == "Doch noch was")) == 0
        assert db.session.scalar(sa.select(sa.func.count(Update.id)).where(Update.ticket_id == number)) == 0
        rated = db.session.get(Ticket, number)
        assert rated.status == TicketStatus.CLOSED and rated.rating.score == 4
