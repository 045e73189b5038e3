"""Searches on a 360 px phone: the notice of a ticket found by number despite the status filter, the hint for a
search of punctuation only, and the administration lists' search boxes with and without results."""
import sqlalchemy as sa

from app.enums import Role
from app.extensions import db
from app.models import Employee, Ticket
from app.workflow import TicketStatus
from tests.browser.conftest import assert_accessible, log_in, public_ticket

SMALL_PHONE = {"width": 360, "height": 740}


def _scroll_width(page):
    """How wide the page is, in CSS pixels (wider than the viewport means it scrolls sideways)."""
    return page.evaluate("() => document.documentElement.scrollWidth")


def _closed_ticket(app):
    """The number of a new public ticket, closed."""
    number = public_ticket(app)
    with app.app_context():
        ticket = db.session.get(Ticket, number)
        ticket.status = TicketStatus.CLOSED
        db.session.commit()
        db.session.remove()
    return number


def test_a_number_finds_a_closed_ticket_and_says_so_on_a_phone(live_server, new_page):
    number = _closed_ticket(live_server.app)
    page = new_page(SMALL_PHONE)
    log_in(page, live_server.url, "moderator@example.com")
    page.goto(f"{live_server.url}/tickets?q=T-{number:05d}")
    notice = page.get_by_test_id("hidden-match")
    notice.wait_for()
    assert "GESCHLOSSEN" in notice.inner_text().upper()
    assert notice.locator(f'[data-testid="ticket-row"][data-ticket-number="{number}"]').count() == 1
    assert _scroll_width(page) <= SMALL_PHONE["width"]
    assert_accessible(page)
    page.goto(f"{live_server.url}/tickets?q=%25%25")
    page.get_by_test_id("search-unsearchable").wait_for()
    assert _scroll_width(page) <= SMALL_PHONE["width"]


def test_admin_list_searches_fit_a_phone(live_server, new_page):
    with live_server.app.app_context():
        assert db.session.scalar(sa.select(Employee).filter_by(role=Role.ADMIN)) is not None
    page = new_page(SMALL_PHONE)
    log_in(page, live_server.url, "admin@example.com")
    for path, testid in [
        ("/admin/devices", "device-search"),
        ("/admin/customers", "customer-search"),
        ("/admin/employees", "employee-search"),
        ("/admin/codes", "code-search"),
        ("/admin/templates", "template-search"),
    ]:
        for query in ("KÜHL", "Donaudampfschifffahrtsgesellschaftskapitänsmütze"):
            page.goto(f"{live_server.url}{path}")
            page.get_by_test_id(testid).fill(query)
            page.get_by_test_id(testid).press("Enter")
            page.wait_for_url(lambda url: "q=" in url)
            assert page.get_by_test_id(testid).input_value() == query, path
            assert _scroll_width(page) <= SMALL_PHONE["width"], (path, query)
        assert page.get_by_test_id("search-empty").is_visible(), path
        assert_accessible(page)
