"""The messenger in the field: a slow network, no network, lost answers, a reload, an offer accepted, a file too large.

Chromium's own network emulation (CDP) makes the phone slow; `context.set_offline` takes the network away.
"""
import io
import os
import re

import sqlalchemy as sa
from PIL import Image
from playwright.sync_api import expect

from app.extensions import db
from app.models import Message, Ticket
from app.services import offers
from tests.browser.conftest import DESKTOP, log_in, public_ticket

PHONE = {"width": 360, "height": 740}
SLOW = {"offline": False, "latency": 400, "downloadThroughput": 50 * 1024, "uploadThroughput": 50 * 1024}


def _png():
    """A small real photo."""
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (30, 120, 200)).save(out, "PNG")
    return out.getvalue()


def _stored(app, number):
    """The message texts stored for the ticket, in order."""
    with app.app_context():
        rows = db.session.scalars(sa.select(Message.body).where(Message.ticket_id == number).order_by(Message.id))
        texts = list(rows)
        db.session.remove()
        return texts


def _code_user(new_page, server, number):
    """A code user's phone on the ticket page, joined to the ticket's room."""
    page = new_page(PHONE)
    page.goto(f"{server.url}/c/demo-press")
    page.goto(f"{server.url}/c/demo-press/t/{number}")
    page.locator('[data-messenger][data-joined="yes"]').wait_for()
    return page


def _anna(new_page, server, number):
    """Anna's desktop on the ticket page, joined to the ticket's room."""
    page = new_page(DESKTOP)
    log_in(page, server.url, "anna@example.com")
    page.goto(f"{server.url}/tickets/{number}")
    page.locator('[data-messenger][data-joined="yes"]').wait_for()
    return page


def _csp_violations(*pages):
    """Collect the Content-Security-Policy complaints the pages log from now on (inline styles or scripts)."""
    found = []
    for page in pages:
        page.on("console", lambda message: found.append(message.text) if "Content Security Policy" in message.text else None)
    return found


def _slow(page):
    """Put the page on a slow mobile network (400 ms round trip, about 50 KB/s)."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", SLOW)
    return cdp


def _texts(page):
    """The texts of the messages in the page's thread, in order."""
    bodies = page.locator('[data-thread] [data-testid="message"] > p:not(.error):not(.pending-actions):not(.file-names)')
    return [text.strip() for text in bodies.all_inner_texts()]


def test_five_messages_typed_on_a_slow_network_arrive_in_order_once_each(live_server, new_page):
    """Typed at human speed and sent one after another without waiting: each arrives once, in order, on both sides."""
    number = public_ticket(live_server.app)
    anna = _anna(new_page, live_server, number)
    customer = _code_user(new_page, live_server, number)
    violations = _csp_violations(anna, customer)
    _slow(customer)
    sent = [f"Teil {n}: Druck fällt ab" for n in range(5)]
    for text in sent:
        customer.get_by_test_id("message-input").type(text, delay=25)
        customer.get_by_test_id("message-send").click()
        assert customer.get_by_test_id("message-input").input_value() == ""
    # The sender sees every message at once, waiting or stored, never lost.
    assert _texts(customer) == sent
    customer.locator('[data-testid="message"][data-state="sent"]').nth(4).wait_for(timeout=20000)
    assert _texts(customer) == sent
    anna.get_by_test_id("message").filter(has_text=sent[-1]).wait_for(timeout=10000)
    assert _texts(anna) == sent
    assert _stored(live_server.app, number) == sent
    assert violations == []


def test_messages_written_offline_are_sent_once_when_the_connection_returns(live_server, new_page):
    """Offline: the messages wait, marked as sending, with a line that counts them; online: each arrives once."""
    number = public_ticket(live_server.app)
    anna = _anna(new_page, live_server, number)
    customer = _code_user(new_page, live_server, number)
    customer.context.set_offline(True)
    for text in ("Offline eins", "Offline zwei"):
        customer.get_by_test_id("message-input").fill(text)
        customer.get_by_test_id("message-send").click()
    waiting = customer.locator('[data-testid="message"][data-state="sending"]')
    assert waiting.count() == 2
    assert _texts(customer) == ["Offline eins", "Offline zwei"]
    status = customer.get_by_test_id("outbox-status")
    status.wait_for()
    assert "2" in status.inner_text()
    customer.context.set_offline(False)
    customer.locator('[data-testid="message"][data-state="sent"]').nth(1).wait_for(timeout=15000)
    anna.get_by_test_id("message").filter(has_text="Offline zwei").wait_for(timeout=10000)
    assert _stored(live_server.app, number) == ["Offline eins", "Offline zwei"]
    assert _texts(anna) == ["Offline eins", "Offline zwei"]
    assert _texts(customer) == ["Offline eins", "Offline zwei"]
    assert status.is_hidden()


def test_a_message_left_in_the_outbox_is_sent_after_a_reload(live_server, new_page):
    """The send fails, the page is closed and opened again online: the message is sent from the browser's outbox."""
    number = public_ticket(live_server.app)
    customer = _code_user(new_page, live_server, number)

    def drop_posts(route):
        """The network loses every message post."""
        if route.request.method == "POST":
            route.abort()
        else:
            route.continue_()

    customer.route("**/messages", drop_posts)
    customer.get_by_test_id("message-input").fill("Nach dem Neuladen")
    customer.get_by_test_id("message-files").set_input_files(
        files=[{"name": "typenschild.png", "mimeType": "image/png", "buffer": _png()}]
    )
    customer.get_by_test_id("message-send").click()
    customer.locator('[data-testid="message"][data-state="sending"]').wait_for()
    assert _stored(live_server.app, number) == []
    customer.unroute("**/messages")
    customer.close()
    again = new_page_in(customer.context, live_server.url, number)
    again.locator('[data-testid="message"][data-state="sent"]').filter(has_text="Nach dem Neuladen").wait_for(timeout=15000)
    assert _stored(live_server.app, number) == ["Nach dem Neuladen"]
    again.get_by_test_id("message-thumbnail").wait_for()  # the photo was kept in the browser's outbox too
    again.reload()
    again.locator('[data-messenger][data-joined="yes"]').wait_for()
    assert _texts(again) == ["Nach dem Neuladen"]


def new_page_in(context, base_url, number):
    """The ticket page opened again in the same browser (same cookies, same outbox)."""
    page = context.new_page()
    page.goto(f"{base_url}/c/demo-press/t/{number}")
    return page


def test_a_message_whose_answer_was_lost_is_stored_once(live_server, new_page):
    """The post reaches the server but its answer never comes back: sending again does not store it twice."""
    number = public_ticket(live_server.app)
    customer = _code_user(new_page, live_server, number)
    lost, posts = [], []

    def lose_first_answer(route):
        """Deliver the first post to the server, then drop its answer."""
        if route.request.method == "POST":
            posts.append(re.search(rb'name="client_id"\r\n\r\n([^\r]+)', route.request.post_data_buffer).group(1))
        if route.request.method == "POST" and not lost:
            try:
                lost.append(route.fetch())
            finally:
                route.abort()
        else:
            route.continue_()

    customer.route("**/messages", lose_first_answer)
    customer.get_by_test_id("message-input").fill("Antwort ging verloren")
    customer.get_by_test_id("message-send").click()
    for _ in range(100):
        if len(posts) >= 2:
            break
        customer.wait_for_timeout(100)
    customer.locator('[data-testid="message"][data-state="sent"]').wait_for(timeout=15000)
    assert lost and lost[0].status == 200
    assert len(posts) == 2 and posts[0] == posts[1]  # the same message, with the same browser-made id, sent again
    assert _stored(live_server.app, number) == ["Antwort ging verloren"]
    assert _texts(customer) == ["Antwort ging verloren"]


def test_employee_accepts_the_offer_and_writes_without_reloading(live_server, new_page):
    """The messenger unlocks the moment the offer is accepted, from the answer itself (no live connection here)."""
    number = public_ticket(live_server.app, anna_accepts=False)
    anna = new_page(PHONE)
    anna.route("**/socket.io/**", lambda route: route.abort())  # a proxy that lets no WebSocket or long-poll through
    log_in(anna, live_server.url, "anna@example.com")
    anna.goto(f"{live_server.url}/tickets/{number}")
    anna.get_by_test_id("message-readonly").wait_for()
    assert anna.get_by_test_id("message-input").count() == 0
    anna.get_by_test_id("offer-accept").click()
    anna.get_by_test_id("message-input").fill("Ich bin unterwegs.")
    anna.get_by_test_id("message-send").click()
    anna.locator('[data-testid="message"][data-state="sent"]').wait_for()
    assert _stored(live_server.app, number) == ["Ich bin unterwegs."]
    assert anna.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]


def test_a_file_over_the_limit_says_so_and_keeps_the_thread_and_the_text(live_server, new_page, tmp_path):
    """30 MB against a 25 MB limit: a clear message; the thread, the typed text and the composer stay."""
    number = public_ticket(live_server.app)
    customer = _code_user(new_page, live_server, number)
    customer.get_by_test_id("message-input").fill("Vorher geschrieben")
    customer.get_by_test_id("message-send").click()
    customer.locator('[data-testid="message"][data-state="sent"]').wait_for()
    customer.get_by_test_id("message-input").fill("Hier das Video vom Fehler")
    video = tmp_path / "fehler.mp4"
    with open(video, "wb") as out:
        out.truncate(30 * 1024 * 1024)
    customer.get_by_test_id("message-files").set_input_files(str(video))
    customer.get_by_test_id("message-send").click()
    error = customer.get_by_test_id("message-error")
    error.wait_for()
    assert "fehler.mp4" in error.inner_text() and "25" in error.inner_text()
    assert customer.get_by_test_id("message-input").input_value() == "Hier das Video vom Fehler"
    assert _texts(customer) == ["Vorher geschrieben"]
    assert _stored(live_server.app, number) == ["Vorher geschrieben"]


def test_code_users_composer_goes_away_live_when_the_ticket_closes_and_keeps_the_draft(live_server, new_page):
    """Anna closes the ticket: the code user's composer leaves at once; reopened, it returns with the unsent text."""
    from app.services import tickets

    number = public_ticket(live_server.app)
    customer = _code_user(new_page, live_server, number)
    customer.get_by_test_id("message-input").type("Noch nicht gesendet", delay=10)

    def fire(event):
        """Anna fires a status event through the service, as her own page would."""
        with live_server.app.app_context():
            ticket = db.session.get(Ticket, number)
            tickets.fire_event(ticket, event, actor=offers.employee_by_email("anna@example.com"))
            db.session.remove()

    fire("close")
    customer.get_by_test_id("message-readonly").wait_for(timeout=10000)
    assert customer.get_by_test_id("message-input").count() == 0
    expect(customer.get_by_test_id("ticket-status")).to_have_attribute("data-status", "closed")
    fire("reopen")
    customer.get_by_test_id("message-input").wait_for(timeout=10000)
    assert customer.get_by_test_id("message-input").input_value() == "Noch nicht gesendet"


def test_a_large_photo_shows_progress_and_survives_a_broken_connection(live_server, new_page):
    """About 2 MB on a slow uplink: the first upload breaks off, the next one shows its progress; stored once."""
    number = public_ticket(live_server.app)
    customer = _code_user(new_page, live_server, number)
    cdp = _slow(customer)
    cdp.send("Network.emulateNetworkConditions", dict(SLOW, uploadThroughput=400 * 1024, latency=100))
    posts = []

    def break_first_upload(route):
        """The connection resets under the first upload; later ones go through."""
        if route.request.method == "POST":
            posts.append(1)
            if len(posts) == 1:
                route.abort("connectionreset")
                return
        route.continue_()

    customer.route("**/messages", break_first_upload)
    noise = io.BytesIO()
    Image.frombytes("RGB", (800, 800), os.urandom(800 * 800 * 3)).save(noise, "PNG")
    assert len(noise.getvalue()) > 1024 * 1024
    customer.get_by_test_id("message-files").set_input_files(
        files=[{"name": "schaden.png", "mimeType": "image/png", "buffer": noise.getvalue()}]
    )
    customer.get_by_test_id("message-input").fill("Foto vom Schaden")
    customer.get_by_test_id("message-send").click()
    bar = customer.locator('[data-testid="message"][data-state="sending"] progress')
    bar.wait_for()
    for _ in range(150):
        if len(posts) >= 2 and bar.count() and bar.evaluate("progress => progress.value") > 5:
            break
        customer.wait_for_timeout(100)
    assert len(posts) == 2 and bar.evaluate("progress => progress.value") > 5
    customer.locator('[data-testid="message"][data-state="sent"]').wait_for(timeout=30000)
    customer.get_by_test_id("message-thumbnail").wait_for()
    assert _stored(live_server.app, number) == ["Foto vom Schaden"]


def test_a_refused_file_keeps_the_text_and_hands_it_back(live_server, new_page):
    """A file type the server refuses: the message is marked not sent with the reason; its text goes back to the field."""
    number = public_ticket(live_server.app)
    customer = _code_user(new_page, live_server, number)
    customer.get_by_test_id("message-input").fill("Hier das Programm")
    customer.get_by_test_id("message-files").set_input_files(
        files=[{"name": "werkzeug.exe", "mimeType": "application/octet-stream", "buffer": b"MZ\x90\x00" + b"\x00" * 64}]
    )
    customer.get_by_test_id("message-send").click()
    failed = customer.locator('[data-testid="message"][data-state="failed"]')
    failed.wait_for()
    assert "werkzeug.exe" in failed.inner_text()
    customer.get_by_test_id("message-edit").click()
    assert customer.get_by_test_id("message-input").input_value() == "Hier das Programm"
    assert failed.count() == 0
    customer.get_by_test_id("message-send").click()
    customer.locator('[data-testid="message"][data-state="sent"]').wait_for()
    assert _stored(live_server.app, number) == ["Hier das Programm"]


def test_message_times_read_in_the_organisations_zone(live_server, browser):
    """A code user reads message times in the organisation's zone (Europe/Berlin), daylight saving included, even
    from a phone set to another zone; a message they write shows its time the same way while it is sent."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from app.services import messenger

    number = public_ticket(live_server.app)
    with live_server.app.app_context():
        ticket = db.session.get(Ticket, number)
        message = messenger.post_message(ticket, "Wann war das?", actor=offers.employee_by_email("anna@example.com"))
        created = message.created_at
        db.session.remove()
    context = browser.new_context(viewport=PHONE, locale="de-DE", timezone_id="Asia/Tokyo")
    try:
        page = context.new_page()
        page.goto(f"{live_server.url}/c/demo-press")
        page.goto(f"{live_server.url}/c/demo-press/t/{number}")
        shown = page.locator('[data-testid="message"] time').first
        berlin = created.astimezone(ZoneInfo("Europe/Berlin"))
        expect(shown).to_have_text(berlin.strftime("%d.%m.%Y, %H:%M"))
        assert shown.get_attribute("datetime") == berlin.isoformat()
        context.set_offline(True)
        page.get_by_test_id("message-input").fill("Noch offline")
        page.get_by_test_id("message-send").click()
        pending = page.locator('[data-testid="message"][data-state="sending"] time')
        written = datetime.fromisoformat(pending.get_attribute("datetime"))
        expect(pending).to_have_text(written.astimezone(ZoneInfo("Europe/Berlin")).strftime("%d.%m.%Y, %H:%M"))
    finally:
        context.close()


def test_messages_missed_while_offline_appear_when_the_connection_returns(live_server, new_page):
    """Anna writes while the phone has no network: back online, the thread is fetched again and holds her message."""
    number = public_ticket(live_server.app)
    anna = _anna(new_page, live_server, number)
    customer = _code_user(new_page, live_server, number)
    customer.context.set_offline(True)
    customer.locator('html[data-realtime="disconnected"]').wait_for(timeout=30000)
    customer.get_by_test_id("message-input").fill("Offline geschrieben")
    customer.get_by_test_id("message-send").click()
    anna.get_by_test_id("message-input").fill("Während du weg warst")
    anna.get_by_test_id("message-send").click()
    anna.locator('[data-testid="message"][data-state="sent"]').wait_for()
    customer.wait_for_timeout(500)
    assert _texts(customer) == ["Offline geschrieben"]
    customer.context.set_offline(False)
    customer.get_by_test_id("message").filter(has_text="Während du weg warst").wait_for(timeout=20000)
    customer.locator('[data-testid="message"][data-state="sent"]').filter(has_text="Offline geschrieben").wait_for(timeout=15000)
    assert sorted(_texts(customer)) == sorted(["Während du weg warst", "Offline geschrieben"])
    assert _stored(live_server.app, number) == ["Während du weg warst", "Offline geschrieben"]


def test_without_websockets_the_messages_still_arrive_live(live_server, new_page):
    """The server (as behind a proxy) refuses WebSockets: the page's socket falls back to long-polling, and the
    messages still arrive without a reload."""
    from app.extensions import socketio

    allowed, socketio.server.eio.transports = socketio.server.eio.transports, ["polling"]
    try:
        number = public_ticket(live_server.app)
        anna = _anna(new_page, live_server, number)
        customer = _code_user(new_page, live_server, number)
        customer.get_by_test_id("message-input").fill("Kommt trotzdem an")
        customer.get_by_test_id("message-send").click()
        anna.get_by_test_id("message").filter(has_text="Kommt trotzdem an").wait_for(timeout=10000)
    finally:
        socketio.server.eio.transports = allowed
