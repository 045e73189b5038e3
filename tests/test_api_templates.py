"""Templates over the API (read only): every employee reads names and the active flows, moderators the whole
template."""
import pytest

from app.enums import Role
from app.extensions import db
from tests.api_helpers import (
    assert_lists_refuse_bad_paging,
    assert_problem,
    token_headers,
)
from tests.factories import make_employee


def test_member_reads_templates_with_their_active_flows(client, catalog):
    template, active, _inactive = catalog
    headers = token_headers(make_employee(), "read")
    listed = client.get("/api/v1/templates", headers=headers).get_json()
    assert listed == {"items": [{"id": template.id, "name": "Hydraulikpresse HP-200",
                                 "flows": [{"id": active.id, "title": "Störung melden", "active": True}]}],
                      "next_cursor": None}
    assert client.get(f"/api/v1/templates/{template.id}", headers=headers).get_json() == listed["items"][0]


def test_moderator_reads_the_whole_template(client, catalog):
    template, active, inactive = catalog
    body = client.get(f"/api/v1/templates/{template.id}", headers=token_headers(make_employee(role=Role.MODERATOR),
                                                                                "read")).get_json()
    assert body["description"] == "Nur für die Verwaltung" and body["ratings_enabled"] is True
    assert [f["id"] for f in body["flows"]] == [active.id, inactive.id]


def test_list_refuses_bad_paging_with_problem_details(client):
    assert_lists_refuse_bad_paging(client, "/api/v1/templates", token_headers(make_employee(), "read"))


def test_reads_need_a_token(client):
    assert_problem(client.get("/api/v1/templates"), 401)


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_read_only_resources_take_no_writes(client, catalog, method):
    template, *_rest = catalog
    response = getattr(client, method)(f"/api/v1/templates/{template.id}", headers=token_headers(
        make_employee(role=Role.ADMIN), "read,write,admin"), json={"name": "Neu"})
    assert_problem(response, 405)
    db.session.refresh(template)
    assert template.name == "Hydraulikpresse HP-200"
