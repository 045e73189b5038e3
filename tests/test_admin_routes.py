"""Every administration page × role: anonymous → login, member → 403, moderator → catalog, admin → everything."""
import pytest
from flask import g

from app.enums import ButtonTarget, GroupKind, Role
from app.extensions import db
from app.models import ActionButton, AssistantElement, Customer, Team
from tests.factories import (
    make_code,
    make_device,
    make_employee,
    make_flow,
    make_template,
)

ROLES = ["anonymous", "member", "moderator", "admin"]

CATALOG_PAGES = [
    "/admin/",
    "/admin/templates",
    "/admin/templates/new",
    "/admin/templates/{template}",
    "/admin/templates/{template}/groups/new?kind=notify",
    "/admin/groups/{group}",
    "/admin/templates/{template}/flows/new",
    "/admin/flows/{flow}",
    "/admin/flows/{flow}/preview",
    "/admin/steps/{step}",
    "/admin/templates/{template}/assistant",
    "/admin/elements/{element}",
    "/admin/elements/{element}/preview",
    "/admin/devices",
    "/admin/devices/new",
    "/admin/devices/{device}",
    "/admin/customers",
    "/admin/customers/new",
    "/admin/customers/{customer}",
    "/admin/codes",
    "/admin/codes/{code}",
    "/admin/codes/{code}/qr.svg",
    "/admin/codes/{code}/qr.png",
    "/admin/codes/labels?ids={code}",
]
ADMIN_PAGES = [
    "/admin/employees",
    "/admin/employees/new",
    "/admin/employees/{member}",
    "/admin/teams",
    "/admin/teams/new",
    "/admin/teams/{team}",
    "/admin/organisation",
]


@pytest.fixture
def world(app):
    """One of everything, plus an employee per role."""
    people = {role: make_employee(role=getattr(Role, role.upper())) for role in ROLES[1:]}
    template = make_template(fleet=[people["member"]])
    flow = make_flow(template)
    device = make_device(template)
    code = make_code(device)
    element = AssistantElement(template=template, title="Start", body="# Hallo")
    element.buttons.append(ActionButton(label="Störung", target=ButtonTarget.FLOW, target_flow=flow))
    customer = Customer(name="Muster GmbH")
    team = Team(name="Außendienst", members=[people["member"]])
    db.session.add_all([element, customer, team])
    db.session.commit()
    ids = {
        "template": template.id, "flow": flow.id, "step": flow.steps[0].id, "device": device.id, "code": code.id,
        "element": element.id, "customer": customer.id, "team": team.id, "member": people["member"].id,
        "group": template.default_group(GroupKind.FLEET).id,
    }
    return people, ids


def _client_as(app, login, people, role):
    g.pop("_login_user", None)  # the fixture's app context outlives requests; forget the last user
    client = app.test_client()
    if role != "anonymous":
        login(people[role], client)
    return client


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("page", CATALOG_PAGES)
def test_catalog_pages_by_role(app, login, world, role, page):
    people, ids = world
    response = _client_as(app, login, people, role).get(page.format(**ids))
    expected = {"anonymous": 302, "member": 403, "moderator": 200, "admin": 200}[role]
    assert response.status_code == expected, response.get_data(as_text=True)[:2000]
    if role == "anonymous":
        assert "/login" in response.headers["Location"]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("page", ADMIN_PAGES)
def test_admin_only_pages_by_role(app, login, world, role, page):
    people, ids = world
    response = _client_as(app, login, people, role).get(page.format(**ids))
    expected = {"anonymous": 302, "member": 403, "moderator": 403, "admin": 200}[role]
    assert response.status_code == expected, response.get_data(as_text=True)[:2000]


@pytest.mark.parametrize("role", ["member", "moderator"])
def test_posts_refused_below_the_role(app, login, world, role):
    people, ids = world
    client = _client_as(app, login, people, role)
    assert client.post("/admin/organisation", data={"name": "X"}).status_code == 403
    assert client.post(f"/admin/employees/{ids['member']}", data={"name": "X"}).status_code == 403
    if role == "member":
        assert client.post("/admin/templates/new", data={"name": "X"}).status_code == 403
        assert client.post(f"/admin/codes/{ids['code']}/enabled", data={}).status_code == 403


def test_nav_link_only_for_moderators_and_admins(app, login, world):
    people, _ids = world
    for role, visible in (("member", False), ("moderator", True), ("admin", True)):
        html = _client_as(app, login, people, role).get("/").get_data(as_text=True)
        assert ('data-testid="nav-admin"' in html) is visible, role


def test_code_list_hooks(app, login, world):
    people, ids = world
    html = _client_as(app, login, people, "moderator").get("/admin/codes").get_data(as_text=True)
    assert 'data-testid="nav-codes"' in html
    assert 'data-testid="code-row" data-code-token="tok' in html
    page = _client_as(app, login, people, "moderator").get(f"/admin/codes/{ids['code']}").get_data(as_text=True)
    assert f'data-testid="code-qr" class="code-qr" src="/admin/codes/{ids["code"]}/qr.svg"' in page
