"""A moderator reads the reports on a phone: charts drawn under the strict CSP, tables that follow the date range."""
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
import time_machine
from playwright.sync_api import expect

from app.enums import Role
from app.extensions import db
from app.models import Code, Employee, Flow
from tests.browser.conftest import assert_accessible, log_in
from tests.factories import make_ticket

SMALL_PHONE = {"width": 360, "height": 740}


def _plant_tickets(app, ages_in_days):
    """Tickets on the demo press created `ages_in_days` days ago (through the services, at that time)."""
    with app.app_context():
        code = db.session.scalar(sa.select(Code).filter_by(token="demo-press"))
        flow = db.session.scalar(sa.select(Flow).filter_by(template_id=code.device.template_id, active=True))
        moderator = db.session.scalar(sa.select(Employee).filter_by(role=Role.MODERATOR))
        now = datetime.now(UTC)
        for days in ages_in_days:
            with time_machine.travel(now - timedelta(days=days, hours=1), tick=False):
                make_ticket(flow, code.device, moderator)
        db.session.remove()


def _created_total(page):
    """The sum of the "tickets created" column of the created-and-closed table."""
    table = page.locator('[data-testid="report-table"][data-figure="created-closed"]')
    return table.evaluate(
        "(t) => [...t.tBodies[0].rows].reduce((sum, row) => sum + Number(row.cells[1].textContent || 0), 0)"
    )


def test_moderator_changes_the_date_range_and_charts_and_tables_follow(live_server, new_page):
    _plant_tickets(live_server.app, [2, 3, 45])
    page = new_page(SMALL_PHONE)
    problems = []
    page.on("console", lambda message: problems.append(message.text) if message.type in ("error", "warning") else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    log_in(page, live_server.url, "moderator@example.com")
    page.get_by_test_id("nav-reports").click()
    page.wait_for_url("**/reports")
    charts = page.get_by_test_id("report-chart")
    expect(charts).to_have_count(6)
    drawn = "() => [...document.querySelectorAll('canvas[data-chart]')].filter((c) => Chart.getChart(c)).length"
    page.wait_for_function(f"({drawn})() >= 3")
    assert _created_total(page) == 2  # the default range: the last 30 days

    start = page.get_by_test_id("report-start")
    earlier = (datetime.fromisoformat(start.input_value()) - timedelta(days=40)).date().isoformat()
    start.fill(earlier)
    expect(page.get_by_test_id("report-range")).to_contain_text(earlier)
    assert _created_total(page) == 3
    assert earlier in page.url  # the range is in the address, so a reload or a shared link shows the same
    page.wait_for_function(f"({drawn})() >= 3")  # the swapped charts are drawn again
    spec = page.locator('[data-figure="created-closed"] canvas').get_attribute("data-chart")
    assert '"values": [' in spec or '"values":[' in spec
    csv = page.locator('[data-figure="created-closed"] [data-testid="report-csv"]')
    assert earlier in csv.get_attribute("href")
    assert page.evaluate("() => document.documentElement.scrollWidth") <= SMALL_PHONE["width"]
    assert_accessible(page)
    assert not [text for text in problems if "Content Security Policy" in text or "Refused" in text], problems
    assert not problems, problems


def test_member_cannot_open_the_reports(live_server, new_page):
    page = new_page(SMALL_PHONE)
    log_in(page, live_server.url, "anna@example.com")
    expect(page.get_by_test_id("nav-reports")).to_have_count(0)
    answer = page.goto(f"{live_server.url}/reports")
    assert answer.status == 403
