"""Two browsers on one ticket: a code user on /c/demo-press and Anna exchange messages, a photo and a voice message live."""
import io

import pillow_heif
from PIL import Image
from playwright.sync_api import expect

from tests.browser.conftest import (
    DESKTOP,
    PHONE,
    assert_accessible,
    log_in,
    public_ticket,
)


def _joined(page):
    """Wait until the server confirmed the ticket room."""
    page.locator('[data-messenger][data-joined="yes"]').wait_for(timeout=10000)


def _send(page, text):
    """Type and send a message."""
    page.get_by_test_id("message-input").fill(text)
    page.get_by_test_id("message-send").click()


def _png():
    """A small real photo."""
    out = io.BytesIO()
    Image.new("RGB", (640, 480), (30, 120, 200)).save(out, "PNG")
    return out.getvalue()


def _heic():
    """A phone photo as iPhones store it (HEIC), which Chromium cannot show itself."""
    pillow_heif.register_heif_opener()
    out = io.BytesIO()
    Image.new("RGB", (640, 480), (200, 120, 30)).save(out, "HEIF")
    return out.getvalue()


def test_code_user_and_anna_chat_live(live_server, new_page):
    """Messages, a photo and a voice message appear live on the other side."""
    number = public_ticket(live_server.app)

    customer = new_page(PHONE)
    customer.goto(f"{live_server.url}/c/demo-press")
    customer.goto(f"{live_server.url}/c/demo-press/t/{number}")
    _joined(customer)

    anna = new_page(DESKTOP)
    log_in(anna, live_server.url, "anna@example.com")
    anna.goto(f"{live_server.url}/tickets/{number}")
    _joined(anna)

    for round_number in range(1, 4):
        text = f"Anna schreibt {round_number}"
        _send(anna, text)
        customer.get_by_test_id("message").filter(has_text=text).wait_for(timeout=5000)
        reply = f"Kunde antwortet {round_number}"
        _joined(customer)
        _send(customer, reply)
        anna.get_by_test_id("message").filter(has_text=reply).wait_for(timeout=5000)
        _joined(anna)
    assert customer.locator(".message.mine").count() == 3
    assert anna.locator(".message.mine").count() == 3
    assert anna.locator("#toasts .toast").count() == 0  # the replies show live on this page: no toast covers it

    anna.get_by_test_id("message-files").set_input_files(
        files=[
            {"name": "manometer.png", "mimeType": "image/png", "buffer": _png()},
            {"name": "IMG_0815.HEIC", "mimeType": "image/heic", "buffer": _heic()},
        ]
    )
    anna.get_by_test_id("message-input").fill("Foto vom Manometer")
    anna.get_by_test_id("message-send").click()
    thumbnails = customer.get_by_test_id("message-thumbnail")
    expect(thumbnails).to_have_count(2, timeout=5000)
    for index in range(2):  # the PNG and the HEIC (shown through its JPEG thumbnail) both decode
        expect(thumbnails.nth(index)).to_have_js_property("complete", True)
        assert thumbnails.nth(index).evaluate("img => img.naturalWidth") > 0

    _joined(customer)
    customer.get_by_test_id("voice-record").click()
    customer.wait_for_timeout(1500)
    customer.get_by_test_id("voice-stop").click()
    customer.get_by_test_id("voice-send").click()
    anna.get_by_test_id("voice-message").first.wait_for(timeout=8000)
    anna.wait_for_function(
        "() => { const audio = document.querySelector('[data-testid=voice-message]'); "
        "return audio && audio.readyState >= 1 && audio.duration > 0; }",
        timeout=10000,
    )
    assert_accessible(anna)
    assert_accessible(customer)


def _socket_connections(page):
    """Count the Socket.IO connections the page opens from now on (a new one starts without a session id)."""
    opened = []

    def seen(url):
        """A handshake: a Socket.IO request or WebSocket that does not continue an existing session."""
        if "/socket.io/" in url and "sid=" not in url:
            opened.append(url)

    page.on("websocket", lambda socket: seen(socket.url))
    page.on("request", lambda request: seen(request.url))
    return opened


def test_each_ticket_page_opens_one_socket_that_survives_a_ring(live_server, new_page):
    """Staff and code-user ticket pages share one Socket.IO connection among their scripts, also after a refresh."""
    from app.enums import Priority
    from app.extensions import db
    from app.models import Ticket
    from app.services import offers, tickets

    number = public_ticket(live_server.app)
    anna = new_page(DESKTOP)
    log_in(anna, live_server.url, "anna@example.com")
    customer = new_page(PHONE)
    customer.goto(f"{live_server.url}/c/demo-press")
    counted = {"staff": _socket_connections(anna), "code": _socket_connections(customer)}
    anna.goto(f"{live_server.url}/tickets/{number}")
    customer.goto(f"{live_server.url}/c/demo-press/t/{number}")
    _joined(anna)
    _joined(customer)
    with live_server.app.app_context():
        ticket = db.session.get(Ticket, number)
        tickets.set_priority(ticket, Priority.HIGH, actor=offers.employee_by_email("anna@example.com"))
        db.session.remove()
    anna.locator(".badge.prio-high").wait_for()
    customer.wait_for_timeout(1500)
    assert [len(counted["staff"]), len(counted["code"])] == [1, 1], counted
    # A WebSocket, not the long-polling fallback: the CSP's connect-src 'self' lets same-origin ws:// through.
    assert all(url.startswith("ws://") for url in counted["staff"] + counted["code"]), counted


def test_older_messages_load_above_and_the_opened_thread_is_marked_read(live_server, new_page):
    """A long thread shows its newest page; the button brings the older ones above it; seeing it moves the marker."""
    import sqlalchemy as sa

    from app.enums import Role
    from app.extensions import db
    from app.models import Employee, Ticket
    from app.services import messenger, offers

    number = public_ticket(live_server.app)
    total = messenger.PAGE_SIZE + 5
    with live_server.app.app_context():
        ticket = db.session.get(Ticket, number)
        moderator = db.session.scalar(sa.select(Employee).filter_by(role=Role.MODERATOR))
        for n in range(total):
            messenger.post_message(ticket, f"Eintrag {n}", actor=moderator)
        db.session.remove()
    anna = new_page(DESKTOP)
    log_in(anna, live_server.url, "anna@example.com")
    anna.goto(f"{live_server.url}/tickets/{number}")
    messages = anna.locator("[data-thread] [data-testid=message]")
    assert messages.count() == messenger.PAGE_SIZE
    assert anna.get_by_test_id("unread-marker").count() == 0  # nothing read yet: no marker above the first message
    anna.get_by_test_id("messages-older").click()
    anna.get_by_test_id("messages-older").wait_for(state="detached")
    assert messages.count() == total
    assert messages.first.inner_text().strip().endswith("Eintrag 0")
    assert anna.url.endswith(f"/tickets/{number}")
    with live_server.app.app_context():
        anna_user = offers.employee_by_email("anna@example.com")
        ticket = db.session.get(Ticket, number)
        for _ in range(50):
            if messenger.last_read_id(ticket, anna_user) == messenger.latest_message_id(ticket):
                break
            anna.wait_for_timeout(100)
            db.session.expire_all()
        assert messenger.last_read_id(ticket, anna_user) == messenger.latest_message_id(ticket)
        _joined(anna)
        moderator = db.session.scalar(sa.select(Employee).filter_by(role=Role.MODERATOR))
        messenger.post_message(ticket, "Neu dazu", actor=moderator)  # arrives while Anna reads further up
        db.session.remove()
    anna.get_by_test_id("message").filter(has_text="Neu dazu").wait_for()
    assert anna.get_by_test_id("unread-marker").count() == 1
    assert anna.locator("[data-unread-marker] + [data-testid=message]").inner_text().strip().endswith("Neu dazu")
