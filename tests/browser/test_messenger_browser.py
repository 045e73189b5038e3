"""Two browsers on one ticket: a code user on /c/demo-press and Anna exchange messages, a photo and a voice message live."""
import io

from PIL import Image

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

    anna.get_by_test_id("message-files").set_input_files(
        files=[{"name": "manometer.png", "mimeType": "image/png", "buffer": _png()}]
    )
    anna.get_by_test_id("message-input").fill("Foto vom Manometer")
    anna.get_by_test_id("message-send").click()
    thumbnail = customer.get_by_test_id("message-thumbnail").first
    thumbnail.wait_for(timeout=5000)
    customer.wait_for_function(
        "() => { const img = document.querySelector('[data-testid=message-thumbnail]'); "
        "return img && img.complete && img.naturalWidth > 0; }"
    )

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
