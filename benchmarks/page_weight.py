"""Page weight and load time on a phone: bytes over the wire and milliseconds until `load`, first and repeat visit.

Chromium (360×740) on an emulated mobile network of 300 ms round trip and 1.6 Mbit/s down, 750 kbit/s up opens
the code user's device page, a wizard step and ticket page, and the staff overview and ticket page. "First" is a
browser with an empty cache, "repeat" the same browser opening the page again. Bytes are what crossed the network
(compressed bodies and headers, CDP's encodedDataLength), summed over every request the page made until `load`.

    .venv/bin/python benchmarks/page_weight.py
"""
import logging
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.messenger_field import CHROMIUM_ARGS, make_app

MOBILE = {"offline": False, "latency": 300, "downloadThroughput": 1_600_000 // 8, "uploadThroughput": 750_000 // 8}
PHONE = {"width": 360, "height": 740}


def _visit(page, cdp, url):
    """(bytes received, ms until load) of opening `url` in `page`."""
    received = {}

    def finished(event):
        """One response fully received: its bytes on the wire."""
        received[event["requestId"]] = event["encodedDataLength"]

    cdp.on("Network.loadingFinished", finished)
    started = time.perf_counter()
    page.goto(url, wait_until="load")
    elapsed = (time.perf_counter() - started) * 1000
    page.wait_for_timeout(300)  # late `loadingFinished` events of requests that ended just before `load`
    cdp.remove_listener("Network.loadingFinished", finished)
    return sum(received.values()), elapsed


def _measure(browser, url, log_in=None):
    """{"first": (bytes, ms), "repeat": (bytes, ms)} for one page in a fresh browser context."""
    context = browser.new_context(viewport=PHONE, locale="de-DE")
    page = context.new_page()
    if log_in:
        log_in(page)
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.clearBrowserCache")
    cdp.send("Network.emulateNetworkConditions", MOBILE)
    first = _visit(page, cdp, url)
    repeat = _visit(page, cdp, url)
    context.close()
    return {"first": first, "repeat": repeat}


def figures():
    """[(page name, {"first": (bytes, ms), "repeat": (bytes, ms)})] for the five pages."""
    from playwright.sync_api import sync_playwright
    from werkzeug.serving import make_server

    from app.extensions import db
    from app.models import Ticket
    from tests.browser.conftest import log_in, public_ticket

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no request log between the figures
    with tempfile.TemporaryDirectory() as folder:
        app = make_app(folder, WTF_CSRF_ENABLED=True, SERVER_NAME=None, PUBLIC_BASE_URL=None)
        number = public_ticket(app)
        server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        url = f"http://127.0.0.1:{server.server_port}"
        results = []
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
                as_anna = lambda page: log_in(page, url, "anna@example.com")
                results.append(("Code user: device page", _measure(browser, f"{url}/c/demo-press")))
                context = browser.new_context(viewport=PHONE, locale="de-DE")
                starter = context.new_page()
                starter.goto(f"{url}/c/demo-press/new")
                starter.get_by_test_id("flow-choice").first.click()
                starter.wait_for_url("**/step/0")
                step_url = starter.url
                cookies = context.cookies()
                context.close()

                def as_that_code_user(page):
                    """The browser that started the draft (its code-user cookie)."""
                    page.context.add_cookies(cookies)

                results.append(("Code user: wizard step", _measure(browser, step_url, as_that_code_user)))
                results.append(("Code user: ticket page", _measure(browser, f"{url}/c/demo-press/t/{number}")))
                results.append(("Staff: overview", _measure(browser, f"{url}/tickets", as_anna)))
                results.append(("Staff: ticket page", _measure(browser, f"{url}/tickets/{number}", as_anna)))
                browser.close()
        finally:
            server.shutdown()
        with app.app_context():
            assert db.session.get(Ticket, number) is not None
        return results


TARGETS = {"first": (60 * 1024, 1200), "repeat": (15 * 1024, 600)}  # code-user pages: bytes, ms


def _verdict(name, result):
    """"meets" or "misses" the code-user targets (TARGETS), "" for staff pages, which have none."""
    if not name.startswith("Code user"):
        return ""
    met = all(result[visit][0] <= limit[0] and result[visit][1] <= limit[1] for visit, limit in TARGETS.items())
    return "  meets the target" if met else "  MISSES the target"


def main():
    """Measure and print the table."""
    print(f"Page weight on a 360 px phone, {MOBILE['latency']} ms / 1.6 Mbit/s (first visit → repeat visit)")
    print("  target for code-user pages: ≤ 60 KB and ≤ 1.2 s on a first visit, ≤ 15 KB and ≤ 0.6 s on a repeat visit")
    for name, result in figures():
        (first_bytes, first_ms), (repeat_bytes, repeat_ms) = result["first"], result["repeat"]
        print(
            f"  {name:<24} first {first_bytes / 1024:6.1f} KB {first_ms:6.0f} ms"
            f"   repeat {repeat_bytes / 1024:6.1f} KB {repeat_ms:6.0f} ms{_verdict(name, result)}"
        )


if __name__ == "__main__":
    main()
