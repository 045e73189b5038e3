"""Browser-test fixtures: a live server per test on its own app and database, Debian's Chromium, axe-core."""

import pytest

from app import create_app
from app.extensions import db
from tests.conftest import base_config
from tests.live_server import LiveServer

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
]
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


def pytest_collection_modifyitems(items):
    """Everything under tests/browser is a browser test."""
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser_type_launch_args():
    """pytest-playwright launches Debian's Chromium with these options."""
    return {"executable_path": "/usr/bin/chromium", "args": CHROMIUM_ARGS, "headless": True}


@pytest.fixture
def live_config(tmp_path):
    """Settings of the live server; tests may change them before asking for `live_server`."""
    config = base_config(tmp_path, f"sqlite:///{tmp_path / 'live.sqlite'}")
    config.update({"WTF_CSRF_ENABLED": True, "SERVER_NAME": None, "PUBLIC_BASE_URL": None})
    return config


@pytest.fixture
def live_server(live_config):
    """The app with the demo data, served on a free port for the browser."""
    app = create_app(live_config)
    with app.app_context():
        db.create_all()
        from app.demo_data import load_demo

        load_demo()
    server = LiveServer(app).start()
    app.config["PUBLIC_BASE_URL"] = app.config["PUBLIC_BASE_URL"] or server.url
    yield server
    server.stop()
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def new_page(browser):
    """Open a page in a fresh context (own cookies), phone-sized unless told otherwise."""
    contexts = []

    def open_page(viewport=PHONE, locale="de-DE"):
        """A page in its own browser context."""
        context = browser.new_context(viewport=viewport, locale=locale, extra_http_headers={"Accept-Language": "de"})
        context.set_default_timeout(10000)
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


def public_ticket(app, *, anna_accepts=True):
    """A PUBLIC ticket on the demo-press device, offered to Anna and accepted by her (or only offered); its id."""
    import sqlalchemy as sa

    from app.enums import Role, Visibility
    from app.models import Code, Employee, Flow
    from app.services import offers
    from tests.factories import make_ticket

    with app.app_context():
        code = db.session.scalar(sa.select(Code).filter_by(token="demo-press"))
        flow = db.session.scalar(sa.select(Flow).filter_by(template_id=code.device.template_id, active=True))
        moderator = db.session.scalar(sa.select(Employee).filter_by(role=Role.MODERATOR))
        ticket = make_ticket(flow, code.device, moderator, visibility=Visibility.PUBLIC)
        if anna_accepts:
            offers.accept_offer(ticket, actor=offers.employee_by_email("anna@example.com"))
        number = ticket.id
        db.session.remove()
        return number


def log_in(page, base_url, email, password="ticketwerk-demo"):
    """Log in through the real login page."""
    page.goto(f"{base_url}/login")
    page.get_by_test_id("login-email").fill(email)
    page.get_by_test_id("login-password").fill(password)
    page.get_by_test_id("login-submit").click()
    page.wait_for_url(lambda url: "/login" not in url)


def assert_accessible(page):
    """axe-core finds no serious or critical violations on the current page."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    bad = [v for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
    assert not bad, "\n".join(f"{v['id']}: {v['help']} ({[n['target'] for n in v['nodes']][:3]})" for v in bad)
