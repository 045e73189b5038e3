"""Customers over the API: every employee knows them by name; moderators read contact data and write."""
import pytest

from app.enums import CustomerKind, Role
from app.extensions import db
from app.models import Customer
from tests.api_helpers import assert_problem, token_headers
from tests.factories import make_employee


def _customer(name="Stadtwerke", **fields):
    customer = Customer(name=name, email="einkauf@stadtwerke.example", phone="0711 123", **fields)
    db.session.add(customer)
    db.session.commit()
    return customer


def _count():
    return db.session.scalar(db.select(db.func.count()).select_from(Customer))


def test_moderator_creates_reads_and_changes_a_customer(client):
    headers = token_headers(make_employee(role=Role.MODERATOR))
    created = client.post("/api/v1/customers", headers=headers, json={
        "name": "Bäckerei Maier", "kind": "private", "email": "maier@example.com", "address": "Hauptstr. 1\n70173 Stuttgart",
    })
    assert created.status_code == 201
    body = created.get_json()
    assert (body["name"], body["kind"], body["email"], body["archived"]) == ("Bäckerei Maier", "private",
                                                                             "maier@example.com", False)
    assert created.headers["Location"].endswith(f"/api/v1/customers/{body['id']}")
    changed = client.patch(f"/api/v1/customers/{body['id']}", headers=headers, json={"phone": "0711 9", "archived": True})
    assert changed.status_code == 200 and changed.get_json()["phone"] == "0711 9"
    customer = db.session.get(Customer, body["id"])
    assert (customer.kind, customer.phone, customer.archived, customer.address) == (
        CustomerKind.PRIVATE, "0711 9", True, "Hauptstr. 1\n70173 Stuttgart")
    assert client.get(f"/api/v1/customers/{body['id']}", headers=headers).get_json()["archived"] is True


def test_list_searches_filters_and_pages(client):
    for name in ["Stadtwerke Ulm", "Bäckerei", "Stadtwerke Bonn"]:
        _customer(name)
    _customer("Stadtwerke Alt", archived=True)
    headers = token_headers(make_employee(role=Role.ADMIN), "read")
    first = client.get("/api/v1/customers", query_string={"q": "stadtwerke", "archived": "false", "limit": 1},
                       headers=headers).get_json()
    second = client.get("/api/v1/customers", query_string={"q": "stadtwerke", "archived": "false", "limit": 1,
                                                           "cursor": first["next_cursor"]}, headers=headers).get_json()
    assert [c["name"] for c in first["items"] + second["items"]] == ["Stadtwerke Ulm", "Stadtwerke Bonn"]
    assert second["next_cursor"] is None


def test_member_sees_names_only_and_cannot_write(client):
    customer = _customer()
    headers = token_headers(make_employee())
    assert client.get("/api/v1/customers", headers=headers).get_json()["items"] == [{"id": customer.id, "name": "Stadtwerke"}]
    assert client.get(f"/api/v1/customers/{customer.id}", headers=headers).get_json() == {"id": customer.id,
                                                                                           "name": "Stadtwerke"}
    assert_problem(client.post("/api/v1/customers", headers=headers, json={"name": "Neu"}), 403)
    assert_problem(client.patch(f"/api/v1/customers/{customer.id}", headers=headers, json={"name": "Neu"}), 403)
    assert _count() == 1 and db.session.get(Customer, customer.id).name == "Stadtwerke"


def test_read_scope_cannot_write(client):
    headers = token_headers(make_employee(role=Role.MODERATOR), "read")
    assert_problem(client.post("/api/v1/customers", headers=headers, json={"name": "Neu"}), 403)
    assert _count() == 0


@pytest.mark.parametrize("body", [
    {},
    {"name": ""},
    {"name": "X", "kind": "verein"},
    {"name": "X", "email": "keine-adresse"},
    {"name": "X", "phone": "1" * 61},
    {"name": "Zeile\nUmbruch"},
    {"name": 5},
])
def test_bad_input_is_refused_with_problem_details_and_changes_nothing(client, body):
    response = client.post("/api/v1/customers", headers=token_headers(make_employee(role=Role.MODERATOR)), json=body)
    assert assert_problem(response, 422)["errors"]
    assert _count() == 0


def test_bad_change_keeps_the_customer(client):
    customer = _customer()
    headers = token_headers(make_employee(role=Role.MODERATOR))
    body = assert_problem(client.patch(f"/api/v1/customers/{customer.id}", headers=headers,
                                       json={"email": "nope", "archived": True}), 422)
    assert body["errors"] == {"email": ["Bitte geben Sie eine gültige E-Mail-Adresse ein."]}  # the employee reads German
    db.session.refresh(customer)
    assert (customer.email, customer.archived) == ("einkauf@stadtwerke.example", False)


def test_unknown_customer_is_404(client):
    assert_problem(client.get("/api/v1/customers/999", headers=token_headers(make_employee())), 404)
