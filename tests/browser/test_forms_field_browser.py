"""Forms in the field: what a person types survives a slow network, no network, a file too large and a live refresh.

Chromium's own network emulation (CDP) makes the phone slow; `context.set_offline` takes the network away.
"""
import re

import sqlalchemy as sa
from playwright.sync_api import expect

from app.enums import Role, Visibility
from app.extensions import db
from app.models import Code, Employee, Flow, Ticket, Update
from app.services import offers
from app.services import tickets as ticket_service
from tests.browser.conftest import log_in
from tests.factories import make_ticket

PHONE = {"width": 360, "height": 740}
SLOW = {"offline": False, "latency": 400, "downloadThroughput": 50 * 1024, "uploadThroughput": 50 * 1024}
# One bar on a loaded cell: a request stays on its way long enough to be seen travelling, even when the machine
# running the test is busy and the check comes late.
SLOWER = {**SLOW, "latency": 2000}


def _ticket_for_anna(app, *, events=("start",)):
    """A PUBLIC ticket on the demo press that Anna accepted, then moved on with `events`."""
    with app.app_context():
        code = db.session.scalar(sa.select(Code).filter_by(token="demo-press"))
        flow = db.session.scalar(sa.select(Flow).filter_by(template_id=code.device.template_id, title="Störung melden"))
        moderator = db.session.scalar(sa.select(Employee).filter_by(role=Role.MODERATOR))
        ticket = make_ticket(flow, code.device, moderator, visibility=Visibility.PUBLIC)
        anna = offers.employee_by_email("anna@example.com")
        offers.accept_offer(ticket, actor=anna)
        for event in events:
            ticket_service.fire_event(ticket, event, actor=anna)
        number = ticket.number
        db.session.remove()
        return number


def _stored_updates(app, number):
    """The bodies of the ticket's updates, in the order they were stored."""
    with app.app_context():
        bodies = list(db.session.scalars(sa.select(Update.body).where(Update.ticket_id == number).order_by(Update.id)))
        db.session.remove()
        return bodies


def _anna_on(new_page, server, number):
    """Anna's phone on the ticket page."""
    page = new_page(PHONE)
    log_in(page, server.url, "anna@example.com")
    page.goto(f"{server.url}/tickets/{number}")
    return page


def _message(page, kind):
    """The text the page says for `kind` (offline, too-large), in the page's language."""
    return page.locator('meta[name="form-messages"]').get_attribute(f"data-{kind}")


def test_second_update_typed_while_the_first_travels_is_kept_and_posted(live_server, new_page):
    number = _ticket_for_anna(live_server.app)
    anna = _anna_on(new_page, live_server, number)
    cdp = anna.context.new_cdp_session(anna)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", SLOWER)
    field = anna.get_by_test_id("update-input")

    field.fill("Erstes Update: Ventil getauscht")
    anna.get_by_test_id("update-submit").click()
    assert field.input_value() == ""  # what was sent left the field at once
    expect(anna.locator("#update-form")).to_have_class(re.compile("htmx-request"))  # still on its way
    field.type("Zweites Update: Probelauf ok", delay=25)
    anna.get_by_test_id("update-submit").click()

    shown = anna.get_by_test_id("update")
    expect(shown.filter(has_text="Zweites Update")).to_have_count(1, timeout=20000)
    expect(shown.filter(has_text="Erstes Update")).to_have_count(1)
    assert _stored_updates(live_server.app, number) == ["Erstes Update: Ventil getauscht", "Zweites Update: Probelauf ok"]
    assert field.input_value() == ""


def test_update_posted_offline_keeps_text_and_choice_and_goes_out_when_online(live_server, new_page):
    number = _ticket_for_anna(live_server.app)
    anna = _anna_on(new_page, live_server, number)
    joined = anna.locator('[data-ticket-room][data-joined="yes"]').first
    joined.wait_for()  # no room join in flight when the connection drops
    field = anna.get_by_test_id("update-input")
    anna.context.set_offline(True)
    field.fill("Dichtung bestellt, kommt Freitag")
    anna.get_by_test_id("update-internal").check()
    anna.get_by_test_id("update-submit").click()

    error = anna.locator("#update-form [data-form-error]")
    expect(error).to_have_text(_message(anna, "offline"))
    expect(field).to_have_value("Dichtung bestellt, kommt Freitag")
    expect(anna.get_by_test_id("update-internal")).to_be_checked()

    anna.context.set_offline(False)
    anna.get_by_test_id("update-submit").click()
    expect(anna.get_by_test_id("update").filter(has_text="kommt Freitag")).to_have_count(1)
    expect(field).to_have_value("")
    expect(error).to_be_hidden()
    assert _stored_updates(live_server.app, number) == ["Dichtung bestellt, kommt Freitag"]
    joined.wait_for(timeout=15000)  # the live connection is back, too


def test_file_over_the_limit_says_so_and_keeps_the_text(live_server, new_page, tmp_path):
    live_server.app.config["MAX_CONTENT_LENGTH"] = 64 * 1024
    number = _ticket_for_anna(live_server.app)
    anna = _anna_on(new_page, live_server, number)
    big = tmp_path / "messprotokoll.pdf"
    big.write_bytes(b"%PDF-1.4\n" + b"0" * (100 * 1024))
    field = anna.get_by_test_id("update-input")
    field.fill("Messprotokoll anbei")
    anna.locator("#update-files").set_input_files(str(big))
    anna.get_by_test_id("update-submit").click()

    error = anna.locator("#update-form [data-form-error]")
    expect(error).to_have_text(_message(anna, "too-large"))
    assert "(höchstens 0,1 MB)" in _message(anna, "too-large")
    expect(field).to_have_value("Messprotokoll anbei")
    assert _stored_updates(live_server.app, number) == []


def test_rating_comment_survives_a_live_refresh(live_server, new_page):
    number = _ticket_for_anna(live_server.app, events=("start", "finish"))
    customer = new_page(PHONE)
    customer.goto(f"{live_server.url}/c/demo-press")
    customer.goto(f"{live_server.url}/c/demo-press/t/{number}")
    customer.locator('[data-ticket-room][data-joined="yes"]').first.wait_for()
    customer.locator('[data-testid="rating-option"][value="4"]').check()
    comment = customer.get_by_test_id("rating-comment")
    comment.type("Schnell und freundlich, ", delay=10)

    with live_server.app.app_context():
        anna = offers.employee_by_email("anna@example.com")
        ticket = db.session.get(Ticket, number)
        ticket_service.post_update(ticket, "Abschlussbericht hochgeladen", Visibility.PUBLIC, actor=anna)
        db.session.remove()
    expect(customer.get_by_test_id("update").filter(has_text="Abschlussbericht")).to_be_visible()
    comment.type("danke!", delay=10)

    expect(comment).to_have_value("Schnell und freundlich, danke!")
    expect(customer.locator('[data-testid="rating-option"][value="4"]')).to_be_checked()
    customer.get_by_test_id("rating-submit").click()
    expect(customer.get_by_test_id("ticket-status")).to_have_attribute("data-status", "closed")


def test_wizard_answer_sent_offline_stays_and_goes_on_when_online(live_server, new_page):
    page = new_page(PHONE)
    page.goto(f"{live_server.url}/c/demo-press")
    page.get_by_test_id("action-button").filter(has_text="Störung melden").click()
    page.wait_for_url(re.compile(r"/step/0$"))
    answer = page.get_by_test_id("step-input")
    answer.fill("Presse fährt nicht hoch")
    page.context.set_offline(True)
    page.get_by_test_id("wizard-next").click()

    expect(page.locator("#wizard [data-form-error]")).to_have_text(_message(page, "offline"))
    expect(answer).to_have_value("Presse fährt nicht hoch")
    page.context.set_offline(False)
    page.get_by_test_id("wizard-next").click()
    page.wait_for_url(re.compile(r"/step/1$"))


def test_admin_form_sent_offline_keeps_what_was_typed(live_server, new_page):
    admin = new_page(PHONE)
    log_in(admin, live_server.url, "admin@example.com")
    admin.goto(f"{live_server.url}/admin/customers/new")
    name = admin.get_by_test_id("customer-name")
    name.fill("Müller Hydraulik GmbH")
    admin.context.set_offline(True)
    admin.get_by_test_id("customer-save").click()

    expect(admin.locator("form[hx-boost] [data-form-error]")).to_have_text(_message(admin, "offline"))
    expect(name).to_have_value("Müller Hydraulik GmbH")
    admin.context.set_offline(False)
    admin.get_by_test_id("customer-save").click()
    admin.wait_for_url(re.compile(r"/admin/customers/\d+$"))
    expect(admin.get_by_text("Müller Hydraulik GmbH").first).to_be_visible()


def test_an_update_typed_but_not_sent_waits_for_the_person_after_leaving_the_page(live_server, new_page):
    number = _ticket_for_anna(live_server.app)
    anna = _anna_on(new_page, live_server, number)
    anna.get_by_test_id("update-input").fill("Halb geschrieben: Dichtung prüfen und")
    anna.goto(f"{live_server.url}/tickets")  # away, before sending
    anna.goto(f"{live_server.url}/tickets/{number}")
    field = anna.get_by_test_id("update-input")
    expect(field).to_have_value("Halb geschrieben: Dichtung prüfen und")
    field.fill("Dichtung geprüft und getauscht.")
    anna.get_by_test_id("update-submit").click()
    expect(anna.get_by_test_id("update").filter(has_text="Dichtung geprüft")).to_have_count(1)
    anna.reload()
    expect(anna.get_by_test_id("update-input")).to_have_value("")  # sent: no draft comes back
    anna.get_by_test_id("update-input").fill("Noch ein Entwurf")
    anna.get_by_test_id("logout").click()  # signing out leaves no draft for the next person
    anna.wait_for_url("**/login")
    assert anna.evaluate("() => Object.keys(localStorage).filter((key) => key.startsWith('ticketwerk-draft:'))") == []


def test_overview_search_sent_offline_says_so_and_the_next_search_clears_it(live_server, new_page):
    anna = new_page(PHONE)
    log_in(anna, live_server.url, "anna@example.com")
    anna.goto(f"{live_server.url}/tickets")
    anna.locator("details.filters > summary").click()  # folded on phones
    search = anna.get_by_test_id("ticket-search")
    notice = anna.locator("form:has([data-testid=ticket-search]) [data-form-error]")
    anna.context.set_offline(True)
    search.fill("Kühlraum")
    search.press("Enter")
    expect(notice).to_have_text(_message(anna, "offline"))
    expect(search).to_have_value("Kühlraum")
    anna.context.set_offline(False)
    search.press("Enter")
    expect(notice).to_be_hidden()
