"""Administration pages have no serious accessibility problems (axe), on the demo data."""
import sqlalchemy as sa

from app.extensions import db
from app.models import AssistantElement, Code, Device, Employee, Flow, Template
from tests.browser.conftest import DESKTOP, PHONE, assert_accessible, log_in


def test_admin_pages_are_accessible(live_server, new_page):
    with live_server.app.app_context():
        template = db.session.scalar(sa.select(Template).filter_by(name="Hydraulikpresse HP-200"))
        flow = db.session.scalar(sa.select(Flow).filter_by(template_id=template.id))
        element = db.session.scalar(sa.select(AssistantElement).filter_by(template_id=template.id))
        device = db.session.scalar(sa.select(Device).order_by(Device.id))
        code = db.session.scalar(sa.select(Code).filter_by(token="demo-press"))
        anna = db.session.scalar(sa.select(Employee).filter_by(email="anna@example.com"))
        pages = [
            "/admin/", "/admin/templates", f"/admin/templates/{template.id}", f"/admin/flows/{flow.id}",
            f"/admin/flows/{flow.id}/preview", f"/admin/templates/{template.id}/assistant", f"/admin/elements/{element.id}",
            "/admin/devices", f"/admin/devices/{device.id}", "/admin/codes", f"/admin/codes/{code.id}",
            f"/admin/codes/labels?ids={code.id}", "/admin/customers/new", "/admin/employees", f"/admin/employees/{anna.id}",
            "/admin/employees/new", "/admin/teams/new", "/admin/organisation", "/admin/calendar", "/admin/service-levels",
            "/admin/service-levels/new",
        ]
    for viewport in (DESKTOP, PHONE):
        page = new_page(viewport)
        log_in(page, live_server.url, "admin@example.com")
        for path in pages if viewport is DESKTOP else pages[:4] + pages[9:11]:
            page.goto(live_server.url + path)
            assert page.locator("h1").count() >= 1, path
            try:
                assert_accessible(page)
            except AssertionError as error:
                raise AssertionError(f"{path} ({viewport['width']}px): {error}") from None
