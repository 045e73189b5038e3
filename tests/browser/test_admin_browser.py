"""An administrator sets up a new device type in the browser; a code user reports through it; carla gets the offer."""
import re

import sqlalchemy as sa

from app.enums import OfferState
from app.extensions import db
from app.models import Employee, Offer, Ticket
from tests.browser.conftest import DESKTOP, PHONE, assert_accessible, log_in


def add_step(page, kind, question, *, options=None, required=True, title=False):
    """Fill the flow builder's add-step form."""
    page.get_by_test_id("step-type").select_option(kind)
    page.get_by_test_id("step-question").fill(question)
    if options:
        page.get_by_test_id("step-options").fill("\n".join(options))
    page.get_by_test_id("step-required").set_checked(required)
    page.get_by_test_id("step-title").set_checked(title)
    page.get_by_test_id("step-add").click()
    page.get_by_test_id("step-row").filter(has_text=question).wait_for()


def test_admin_builds_a_template_and_a_code_user_reports_through_it(live_server, new_page):
    admin = new_page(DESKTOP)
    log_in(admin, live_server.url, "admin@example.com")
    admin.get_by_test_id("nav-admin").click()
    admin.get_by_role("link", name=re.compile("Vorlagen|Templates")).first.click()
    admin.get_by_test_id("template-new").click()
    admin.get_by_test_id("template-name").fill("Förderband FB-1")
    admin.get_by_test_id("template-save").click()
    admin.wait_for_url(re.compile(r"/admin/templates/\d+$"))
    template_url = admin.url

    admin.get_by_test_id("group-row").first.get_by_role("link").click()
    admin.get_by_test_id("group-name").fill("Flotte Förderbänder")
    admin.get_by_label(re.compile("carla@example.com")).check()
    admin.get_by_test_id("group-save").click()
    admin.get_by_test_id("group-row").filter(has_text="Carla").wait_for()

    admin.get_by_test_id("flow-new").click()
    admin.get_by_test_id("flow-title").fill("Band steht")
    admin.get_by_test_id("flow-save").click()
    admin.wait_for_url(re.compile(r"/admin/flows/\d+$"))
    add_step(admin, "text_short", "Was ist los?", title=True)
    add_step(admin, "single_choice", "Wo genau?", options=["Antrieb", "Band", "Steuerung"])
    add_step(admin, "media", "Foto", required=False)
    assert admin.get_by_test_id("step-row").count() == 3
    admin.get_by_test_id("flow-toggle-active").click()
    admin.get_by_test_id("flow-toggle-active").filter(has_text=re.compile("Deaktivieren|Deactivate")).wait_for()
    assert_accessible(admin)

    admin.goto(template_url)
    admin.get_by_test_id("assistant-edit").click()
    admin.get_by_test_id("element-title").fill("Willkommen")
    admin.get_by_test_id("element-body").fill("Bei Störungen bitte unten melden.")
    admin.get_by_test_id("element-save").click()
    admin.wait_for_url(re.compile(r"/admin/elements/\d+$"))
    admin.get_by_test_id("button-label").fill("Band steht")
    admin.get_by_test_id("button-target").select_option("flow")
    admin.get_by_test_id("button-flow").select_option(label="Band steht")
    admin.get_by_test_id("button-add").click()
    admin.get_by_test_id("button-row").filter(has_text="Band steht").wait_for()

    admin.goto(f"{live_server.url}/admin/devices")
    admin.get_by_test_id("device-new").click()
    admin.get_by_test_id("device-template").select_option(label="Förderband FB-1")
    admin.get_by_test_id("device-name").fill("FB-1 Halle 3")
    admin.get_by_test_id("device-save").click()
    admin.wait_for_url(re.compile(r"/admin/devices/\d+$"))
    admin.get_by_test_id("device-new-code").click()
    admin.wait_for_url(re.compile(r"/admin/codes/\d+$"))
    admin.get_by_test_id("code-qr").wait_for()
    code_url = admin.get_by_test_id("code-url").inner_text().strip()
    assert code_url.startswith(f"{live_server.url}/c/")
    admin.get_by_test_id("nav-codes").click()
    admin.wait_for_url(re.compile(r"/admin/codes$"))
    code_row = admin.locator(f'[data-testid="code-row"][data-code-token="{code_url.rsplit("/", 1)[1]}"]')
    code_row.wait_for()
    assert code_row.count() == 1

    phone = new_page(PHONE)
    phone.goto(code_url)
    phone.get_by_test_id("action-button").filter(has_text="Band steht").click()
    phone.wait_for_url(re.compile(r"/step/0$"))
    phone.get_by_test_id("step-input").fill("Band läuft nicht an")
    phone.get_by_test_id("wizard-next").click()
    phone.wait_for_url(re.compile(r"/step/1$"))
    phone.get_by_test_id("step-option").and_(phone.locator('[value="Band"]')).check()
    phone.get_by_test_id("wizard-next").click()
    phone.wait_for_url(re.compile(r"/step/2$"))
    phone.get_by_test_id("wizard-next").click()
    phone.wait_for_url(re.compile(r"/t/\d+$"))
    assert phone.get_by_test_id("ticket-status").get_attribute("data-status") == "open"
    number = int(phone.url.rsplit("/", 1)[1])

    with live_server.app.app_context():
        ticket = db.session.get(Ticket, number)
        assert ticket.title == "Band läuft nicht an" and ticket.device.name == "FB-1 Halle 3"
        carla = db.session.scalar(sa.select(Employee).filter_by(email="carla@example.com"))
        offer = db.session.scalar(sa.select(Offer).filter_by(ticket_id=number, employee_id=carla.id))
        assert offer is not None and offer.state == OfferState.PENDING
        others = db.session.scalars(sa.select(Offer).where(Offer.ticket_id == number, Offer.employee_id != carla.id)).all()
        assert others == []

    carla_page = new_page(DESKTOP)
    log_in(carla_page, live_server.url, "carla@example.com")
    count = carla_page.get_by_test_id("notification-count")
    if count.count():
        assert int(count.inner_text().strip() or "0") >= 1
