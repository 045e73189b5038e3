"""Devices over the API: everyone reads the devices a ticket can be made for; moderators read all and write."""
import pytest

from app.enums import Role
from app.extensions import db
from app.models import Customer, Device
from tests.api_helpers import assert_problem, token_headers
from tests.factories import make_device, make_employee, make_template


@pytest.fixture
def moderator():
    return make_employee(role=Role.MODERATOR)


@pytest.fixture
def member():
    return make_employee(role=Role.MEMBER)


def _all_pages(client, url, headers):
    items, cursor = [], None
    while True:
        response = client.get(url, query_string={"limit": 2, **({"cursor": cursor} if cursor else {})}, headers=headers)
        assert response.status_code == 200
        items += response.get_json()["items"]
        cursor = response.get_json()["next_cursor"]
        if cursor is None:
            return items


def test_moderator_creates_reads_and_changes_a_device(client, moderator):
    template = make_template()
    customer = Customer(name="Stadtwerke")
    db.session.add(customer)
    db.session.commit()
    headers = token_headers(moderator)
    created = client.post("/api/v1/devices", headers=headers, json={
        "template_id": template.id, "name": "Presse Halle 3", "customer_id": customer.id, "serial_number": "SN-1",
    })
    assert created.status_code == 201
    body = created.get_json()
    assert body["name"] == "Presse Halle 3" and body["customer"] == {"id": customer.id, "name": "Stadtwerke"}
    assert body["template"]["id"] == template.id and body["archived"] is False
    assert created.headers["Location"].endswith(f"/api/v1/devices/{body['id']}")
    changed = client.patch(f"/api/v1/devices/{body['id']}", headers=headers,
                           json={"location": "Halle 4", "customer_id": None, "archived": True})
    assert changed.status_code == 200
    assert changed.get_json()["location"] == "Halle 4" and changed.get_json()["customer"] is None
    device = db.session.get(Device, body["id"])
    assert (device.name, device.serial_number, device.location, device.archived) == ("Presse Halle 3", "SN-1", "Halle 4", True)


def test_list_searches_and_pages_through_every_device(client, moderator):
    template = make_template()
    names = ["Presse A", "Presse B", "Kühler C", "Presse D", "Presse E"]
    for name in names:
        make_device(template, name=name)
    headers = token_headers(moderator, "read")
    assert [d["name"] for d in _all_pages(client, "/api/v1/devices", headers)] == names
    found = client.get("/api/v1/devices", query_string={"q": "kühl"}, headers=headers).get_json()
    assert [d["name"] for d in found["items"]] == ["Kühler C"] and found["next_cursor"] is None


def test_member_sees_active_devices_without_the_managers_fields(client, member):
    template = make_template()
    active = make_device(template, name="Presse")
    archived = make_device(template, name="Alt")
    archived.archived, archived.description = True, "Nur für die Verwaltung"
    db.session.commit()
    headers = token_headers(member, "read")
    listed = client.get("/api/v1/devices", query_string={"archived": "true"}, headers=headers).get_json()["items"]
    assert [d["id"] for d in listed] == [active.id]
    assert set(listed[0]) == {"id", "name", "serial_number", "location", "template", "customer"}
    assert_problem(client.get(f"/api/v1/devices/{archived.id}", headers=headers), 404)
    assert client.get(f"/api/v1/devices/{active.id}", headers=headers).status_code == 200


def test_member_cannot_create_or_change_devices(client, member):
    template = make_template()
    device = make_device(template, name="Presse")
    headers = token_headers(member)
    assert_problem(client.post("/api/v1/devices", headers=headers, json={"template_id": template.id, "name": "X"}), 403)
    assert_problem(client.patch(f"/api/v1/devices/{device.id}", headers=headers, json={"name": "Y"}), 403)
    assert_problem(client.post("/api/v1/devices", headers=headers, json={"name": ""}), 403)  # refused before the input
    assert db.session.scalar(db.select(db.func.count()).select_from(Device)) == 1
    assert db.session.get(Device, device.id).name == "Presse"


def test_read_scope_cannot_write(client, moderator):
    device = make_device(make_template(), name="Presse")
    response = client.patch(f"/api/v1/devices/{device.id}", headers=token_headers(moderator, "read"), json={"name": "Y"})
    assert_problem(response, 403)
    assert db.session.get(Device, device.id).name == "Presse"


@pytest.mark.parametrize("body", [
    {"name": "Ohne Vorlage"},
    {"template_id": "eins", "name": "X"},
    {"template_id": 1, "name": ""},
    {"template_id": 1, "name": "X", "serial_number": "9" * 81},
    {"template_id": 1, "name": "X", "colour": "red"},
    {"template_id": 999, "name": "Unbekannte Vorlage"},
    {"template_id": 1, "name": "Zeile\nUmbruch"},
    {"template_id": 1, "name": "X", "customer_id": 999},
])
def test_bad_input_is_refused_with_problem_details_and_changes_nothing(client, moderator, body):
    make_template()
    body = assert_problem(client.post("/api/v1/devices", headers=token_headers(moderator), json=body), 422)
    assert body["errors"]
    assert db.session.scalar(db.select(db.func.count()).select_from(Device)) == 0


def test_bad_change_keeps_the_device(client, moderator):
    device = make_device(make_template(), name="Presse")
    headers = token_headers(moderator)
    assert_problem(client.patch(f"/api/v1/devices/{device.id}", headers=headers,
                                json={"template_id": 999, "archived": True}), 422)
    assert_problem(client.patch(f"/api/v1/devices/{device.id}", headers=headers, json={"name": None}), 422)
    db.session.refresh(device)
    assert (device.name, device.archived) == ("Presse", False)


def test_unknown_device_is_404(client, moderator):
    assert_problem(client.get("/api/v1/devices/4242", headers=token_headers(moderator, "read")), 404)
    assert_problem(client.patch("/api/v1/devices/4242", headers=token_headers(moderator), json={"name": "X"}), 404)
