"""Employees over the API (read only): names of active employees for everyone; the whole record, never a
secret, for administrators with the admin scope."""
from app.enums import Role
from app.extensions import db
from tests.api_helpers import (
    assert_lists_refuse_bad_paging,
    assert_problem,
    token_headers,
)
from tests.factories import make_employee

SECRETS = {"password_hash", "totp_secret", "totp_last_step", "recovery_codes", "session_generation"}


def test_member_reads_active_employees_by_name_only(client):
    anna = make_employee(name="Anna")
    gone = make_employee(name="Gone", active=False)
    headers = token_headers(anna, "read")
    items = client.get("/api/v1/employees", headers=headers).get_json()["items"]
    assert items == [{"id": anna.id, "name": "Anna"}]
    assert_problem(client.get(f"/api/v1/employees/{gone.id}", headers=headers), 404)
    assert client.get(f"/api/v1/employees/{anna.id}", headers=headers).get_json() == {"id": anna.id, "name": "Anna"}


def test_administrator_with_admin_scope_reads_every_record_without_secrets(client):
    admin = make_employee(role=Role.ADMIN, name="Ada", email="ada@example.com")
    admin.totp_secret = "JBSWY3DPEHPK3PXP"
    gone = make_employee(name="Gone", active=False)
    db.session.commit()
    headers = token_headers(admin, "read,admin")
    items = client.get("/api/v1/employees", headers=headers).get_json()["items"]
    assert [(e["name"], e["active"]) for e in items] == [("Ada", True), ("Gone", False)]
    assert items[0] == {"id": admin.id, "name": "Ada", "email": "ada@example.com", "role": "admin", "language": "de",
                        "active": True, "created_at": items[0]["created_at"]}
    response = client.get(f"/api/v1/employees/{gone.id}", headers=headers)
    assert response.get_json()["active"] is False
    assert not SECRETS & set(response.get_json())
    assert "JBSWY3DPEHPK3PXP" not in client.get("/api/v1/employees", headers=headers).get_data(as_text=True)
    found = client.get("/api/v1/employees", query_string={"q": "ada@"}, headers=headers).get_json()["items"]
    assert [e["id"] for e in found] == [admin.id]


def test_administrator_without_admin_scope_reads_names_only(client):
    admin = make_employee(role=Role.ADMIN, name="Ada")
    gone = make_employee(active=False)
    headers = token_headers(admin, "read")
    assert client.get("/api/v1/employees", headers=headers).get_json()["items"] == [{"id": admin.id, "name": "Ada"}]
    assert_problem(client.get(f"/api/v1/employees/{gone.id}", headers=headers), 404)


def test_list_refuses_bad_paging_with_problem_details(client):
    assert_lists_refuse_bad_paging(client, "/api/v1/employees", token_headers(make_employee(), "read"))


def test_reads_need_a_token(client):
    assert_problem(client.get("/api/v1/employees"), 401)
