"""The technician's ticket page and the overview on a phone: status and actions first, then the conversation with
its composer on the first screen, updates and answers after it, timeline and delivery log folded; nothing scrolls
sideways; from 960px the conversation sits in the right-hand column."""
from playwright.sync_api import expect

from tests.browser.conftest import (
    DESKTOP,
    PHONE,
    assert_accessible,
    log_in,
    public_ticket,
)

SMALL_PHONE = {"width": 360, "height": 740}


def _page_top(locator):
    """Where the element starts, in page coordinates (CSS px from the top of the document)."""
    return locator.evaluate("(el) => el.getBoundingClientRect().top + window.scrollY")


def _scroll_width(page):
    """How wide the page is, in CSS pixels (wider than the viewport means it scrolls sideways)."""
    return page.evaluate("() => document.documentElement.scrollWidth")


def _post_as_moderator(app, number, text):
    """The moderator writes in the ticket's thread (as from another device)."""
    import sqlalchemy as sa

    from app.enums import Role
    from app.extensions import db
    from app.models import Employee, Ticket
    from app.services import messenger

    with app.app_context():
        moderator = db.session.scalar(sa.select(Employee).filter_by(role=Role.MODERATOR))
        messenger.post_message(db.session.get(Ticket, number), text, actor=moderator)
        db.session.remove()


def test_technician_reads_status_and_writes_in_the_chat_on_a_phone(live_server, new_page):
    number = public_ticket(live_server.app)
    page = new_page(PHONE)
    log_in(page, live_server.url, "anna@example.com")
    page.goto(f"{live_server.url}/tickets/{number}")
    expect(page.get_by_test_id("ticket-status")).to_have_attribute("data-status", "assigned")

    # The first screen: title, status, the allowed status events, and the composer of the conversation.
    composer = page.get_by_test_id("message-input")
    assert page.evaluate("() => window.scrollY") == 0
    box = composer.bounding_box()
    assert 0 <= box["y"] and box["y"] + box["height"] <= PHONE["height"], box
    expect(page.locator('[data-testid="status-event"][value="start"]')).to_be_in_viewport()
    # Reading order is the visual order: head, conversation, updates, answers, timeline, delivery log.
    tops = [
        _page_top(page.get_by_test_id("status-event").first),
        _page_top(page.get_by_test_id("messenger")),
        _page_top(page.get_by_test_id("update-input")),
        _page_top(page.locator(".answers")),
        _page_top(page.locator("#timeline-title")),
        _page_top(page.locator("#delivery-log")),
    ]
    assert tops == sorted(tops), tops
    timeline = page.locator("details:has(#timeline-title)")
    log = page.locator("details:has(#delivery-log-title)")
    expect(timeline).to_have_js_property("open", False)
    expect(log).to_have_js_property("open", False)
    expect(timeline.locator("summary")).to_contain_text("(")  # the summary names how many entries it holds
    assert_accessible(page)

    composer.fill("Bin in 20 Minuten da.")
    page.get_by_test_id("message-send").click()
    expect(page.locator('[data-testid="message"][data-state="sent"]').filter(has_text="Bin in 20 Minuten da.")).to_be_visible()
    # The conversation is in view (though the page goes on below it): an answer shows as read, without a marker.
    page.locator('[data-ticket-room][data-joined="yes"]').first.wait_for()
    _post_as_moderator(live_server.app, number, "Danke, bis gleich.")
    expect(page.get_by_test_id("message").filter(has_text="Danke, bis gleich.")).to_be_in_viewport()
    expect(page.get_by_test_id("unread-marker")).to_have_count(0)

    # A status change refreshes head and body; the composer keeps what is typed, an opened fold stays open.
    timeline.locator("summary").click()
    composer.fill("Noch nicht gesendet")
    page.locator('[data-testid="status-event"][value="start"]').click()
    expect(page.get_by_test_id("ticket-status")).to_have_attribute("data-status", "in_progress")
    expect(timeline.locator(".timeline")).to_contain_text("IN ARBEIT")
    expect(timeline).to_have_js_property("open", True)
    expect(composer).to_have_value("Noch nicht gesendet")

    page.set_viewport_size(SMALL_PHONE)
    page.reload()
    page.get_by_test_id("ticket-status").wait_for()
    assert _scroll_width(page) <= SMALL_PHONE["width"]
    page.locator("details:has(#delivery-log-title) summary").click()
    expect(page.locator('#delivery-log [data-delivery-status]').first).to_be_visible()
    assert _scroll_width(page) <= SMALL_PHONE["width"]

    page.set_viewport_size(DESKTOP)
    page.reload()
    messenger = page.get_by_test_id("messenger")
    messenger.wait_for()
    assert messenger.bounding_box()["x"] > page.locator("#ticket-main").bounding_box()["x"] + 400
    expect(page.get_by_test_id("offer").first).to_be_visible()  # details and offers are open for good here
    page.locator("details:has(#delivery-log-title) summary").click()
    expect(page.locator('#delivery-log [data-delivery-status]').first).to_be_visible()
    assert _scroll_width(page) <= DESKTOP["width"]


def test_overview_on_a_small_phone_is_a_list_of_compact_cards(live_server, new_page):
    for _ in range(4):
        public_ticket(live_server.app)
    page = new_page(SMALL_PHONE)
    log_in(page, live_server.url, "anna@example.com")
    page.goto(f"{live_server.url}/tickets")
    rows = page.get_by_test_id("ticket-row")
    expect(rows).to_have_count(4)
    filters = page.locator("details.filters")
    expect(filters).to_have_js_property("open", False)
    assert filters.bounding_box()["height"] <= 60  # one line: the button that opens search and filters
    first = rows.first.bounding_box()
    assert first["y"] + first["height"] <= SMALL_PHONE["height"], first
    for index in range(4):
        assert rows.nth(index).bounding_box()["height"] <= 160
    expect(rows.first.get_by_role("link").first).to_be_visible()
    assert _scroll_width(page) <= SMALL_PHONE["width"]
    assert_accessible(page)
