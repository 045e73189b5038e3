"""The messenger on a phone in the field: what one message costs on the wire, and how long five take on a slow network.

- Posting one message to a ticket whose thread holds 40 messages: bytes of the answer and the server's time
  (p50/p95 over sequential posts through the Flask test client, SQLite).
- A code user on a 360 px phone types five messages at human speed (25 ms a key) on Chromium's emulated slow
  mobile network (400 ms round trip, 50 KB/s each way) and presses Send after each: milliseconds from the first
  Send until all five are confirmed by the server, and until the last one shows on the employee's screen.

    .venv/bin/python benchmarks/messenger_field.py [--posts 200]
"""
import argparse
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks._common import percentile

SLOW = {"offline": False, "latency": 400, "downloadThroughput": 50 * 1024, "uploadThroughput": 50 * 1024}
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-quic",
]


def make_app(folder, **extra):
    """An app on a fresh SQLite file in `folder` with the demo data."""
    from app import create_app
    from app.demo_data import load_demo
    from app.extensions import db
    from tests.conftest import base_config

    config = base_config(Path(folder), f"sqlite:///{folder}/bench.sqlite")
    config.update(extra)
    app = create_app(config)
    with app.app_context():
        db.create_all()
        load_demo()
        db.session.remove()
    return app


def post_figures(posts):
    """(answer bytes, p50 ms, p95 ms) of posting one message over HTTP with a 40-message thread."""
    from app.extensions import db
    from app.services import messenger
    from tests.browser.conftest import public_ticket

    with tempfile.TemporaryDirectory() as folder:
        app = make_app(folder, SOCKETIO_DISABLED=True, MESSAGE_RATE_LIMIT="100000 per minute")  # one client posts them all
        number = public_ticket(app)
        with app.app_context():
            from app.models import Ticket
            from app.services import offers

            anna = offers.employee_by_email("anna@example.com")
            ticket = db.session.get(Ticket, number)
            for index in range(40):
                messenger.post_message(ticket, f"Nachricht {index}: Druckabfall an der Presse", actor=anna)
            anna_session_id = anna.get_id()
            db.session.remove()
        client = app.test_client()
        with client.session_transaction() as session:
            session["_user_id"] = anna_session_id
            session["_fresh"] = True
        sizes, timings = [], []
        for index in range(posts):
            started = time.perf_counter()
            response = client.post(
                f"/tickets/{number}/messages",
                data={"body": f"Neue Nachricht {index}", "client_id": f"bench-{index:08d}"},
                headers={"HX-Request": "true"},
            )
            timings.append((time.perf_counter() - started) * 1000)
            if response.status_code != 200:
                raise RuntimeError(f"post answered {response.status_code}")
            sizes.append(len(response.data))
        return sum(sizes) / len(sizes), percentile(timings, 0.5), percentile(timings, 0.95)


def slow_network_figures():
    """(ms until five messages are confirmed to the sender, ms until the fifth shows on the employee's screen)."""
    from playwright.sync_api import sync_playwright
    from werkzeug.serving import make_server

    from tests.browser.conftest import log_in, public_ticket

    with tempfile.TemporaryDirectory() as folder:
        app = make_app(folder, WTF_CSRF_ENABLED=True, SERVER_NAME=None, PUBLIC_BASE_URL=None)
        number = public_ticket(app)
        server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        url = f"http://127.0.0.1:{server.server_port}"
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
                anna = browser.new_context(viewport={"width": 1280, "height": 900}, locale="de-DE").new_page()
                log_in(anna, url, "anna@example.com")
                anna.goto(f"{url}/tickets/{number}")
                anna.locator('[data-messenger][data-joined="yes"]').wait_for()
                phone = browser.new_context(viewport={"width": 360, "height": 740}, locale="de-DE").new_page()
                phone.goto(f"{url}/c/demo-press")
                phone.goto(f"{url}/c/demo-press/t/{number}")
                phone.locator('[data-messenger][data-joined="yes"]').wait_for()
                cdp = phone.context.new_cdp_session(phone)
                cdp.send("Network.enable")
                cdp.send("Network.emulateNetworkConditions", SLOW)
                started = None
                for index in range(5):
                    phone.get_by_test_id("message-input").type(f"Teil {index}: Druck fällt ab", delay=25)
                    phone.get_by_test_id("message-send").click()
                    started = started or time.perf_counter()
                phone.locator('[data-testid="message"][data-state="sent"]').nth(4).wait_for(timeout=60000)
                confirmed = (time.perf_counter() - started) * 1000
                anna.get_by_test_id("message").filter(has_text="Teil 4").wait_for(timeout=60000)
                arrived = (time.perf_counter() - started) * 1000
                browser.close()
        finally:
            server.shutdown()
        return confirmed, arrived


def main():
    """Measure and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=200)
    args = parser.parse_args()
    size, p50, p95 = post_figures(args.posts)
    print(f"Message post answer: {size:,.0f} bytes; server p50 {p50:.1f} ms, p95 {p95:.1f} ms ({args.posts} posts)")
    confirmed, arrived = slow_network_figures()
    print(f"Five messages on a slow network: all confirmed after {confirmed:,.0f} ms, last shown to staff after {arrived:,.0f} ms")


if __name__ == "__main__":
    main()
