"""On a 360 px phone: long German words and wide tables stay inside the screen, typed line breaks stay."""
import sqlalchemy as sa

from app.enums import Role
from app.extensions import db
from app.models import Code, Employee, Flow
from app.services import tickets as ticket_service
from tests.browser.conftest import assert_accessible, log_in, public_ticket
from tests.factories import answer_all

SMALL_PHONE = {"width": 360, "height": 740}


def _scroll_width(page):
    """How wide the page is, in CSS pixels (wider than the viewport means it scrolls sideways)."""
    return page.evaluate("() => document.documentElement.scrollWidth")


def test_notification_settings_fit_a_small_phone(live_server, new_page):
    page = new_page(SMALL_PHONE)
    log_in(page, live_server.url, "admin@example.com")
    page.goto(f"{live_server.url}/settings/notifications")
    page.get_by_role("heading", level=1).wait_for()
    assert _scroll_width(page) <= SMALL_PHONE["width"]
    assert_accessible(page)


def test_an_answer_keeps_the_lines_it_was_typed_in(live_server, new_page):
    with live_server.app.app_context():
        code = db.session.scalar(sa.select(Code).filter_by(token="demo-press"))
        flow = db.session.scalar(sa.select(Flow).filter_by(template_id=code.device.template_id, active=True))
        moderator = db.session.scalar(sa.select(Employee).filter_by(role=Role.MODERATOR))
        ticket = ticket_service.start_draft(flow, code.device, actor=moderator)
        long_text = next(a.position for a in ticket.answers if a.type.value == "text_long")
        answer_all(ticket, moderator, {long_text: "Öl tropft links.\nDruck fällt auf 80 bar."})
        ticket_service.submit_ticket(ticket, actor=moderator)
        number = ticket.id
        db.session.remove()
    page = new_page(SMALL_PHONE)
    log_in(page, live_server.url, "moderator@example.com")
    page.goto(f"{live_server.url}/tickets/{number}")
    typed = page.locator(".answers .typed", has_text="Öl tropft links.")
    assert typed.inner_text() == "Öl tropft links.\nDruck fällt auf 80 bar."
    assert _scroll_width(page) <= SMALL_PHONE["width"]


def test_the_status_bar_names_every_step_in_full_on_a_small_phone(live_server, new_page):
    number = public_ticket(live_server.app)
    page = new_page(SMALL_PHONE)
    page.goto(f"{live_server.url}/c/demo-press/t/{number}")
    steps = page.locator(".statusbar li")
    assert steps.count() == 5
    for index in range(5):
        step = steps.nth(index)
        clipped = step.evaluate("(li) => li.scrollWidth > li.clientWidth || li.scrollHeight > li.clientHeight + 1")
        assert not clipped, step.inner_text()
    assert "ZUGEWIESEN" in page.locator(".statusbar").inner_text().upper()
    assert _scroll_width(page) <= SMALL_PHONE["width"]
