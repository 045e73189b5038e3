"""Creation flows over the API (read only): every employee reads the active flows with their steps, moderators
every flow with its groups."""

from app.enums import Role
from tests.api_helpers import (
    assert_lists_refuse_bad_paging,
    assert_problem,
    token_headers,
)
from tests.factories import make_employee


def test_member_reads_active_flows_with_their_steps(client, catalog):
    template, active, inactive = catalog
    headers = token_headers(make_employee(), "read")
    flows = client.get("/api/v1/flows", query_string={"template": template.id, "active": "false"},
                       headers=headers).get_json()["items"]
    assert [f["id"] for f in flows] == [active.id]
    assert "fleet_group_id" not in flows[0]
    steps = flows[0]["steps"]
    assert [(s["question"], s["type"], s["required"], s["is_title"], s["options"]) for s in steps] == [
        ("Kurzbeschreibung", "text_short", True, True, []),
        ("Welche Seite?", "single_choice", False, False, ["links", "rechts"]),
    ]
    assert client.get(f"/api/v1/flows/{active.id}", headers=headers).get_json() == flows[0]
    assert_problem(client.get(f"/api/v1/flows/{inactive.id}", headers=headers), 404)


def test_moderator_reads_inactive_flows_and_their_groups(client, catalog):
    _template, active, inactive = catalog
    headers = token_headers(make_employee(role=Role.MODERATOR), "read")
    flows = client.get("/api/v1/flows", query_string={"active": "false"}, headers=headers).get_json()["items"]
    assert [f["id"] for f in flows] == [inactive.id] and flows[0]["fleet_group_id"] is None
    assert client.get(f"/api/v1/flows/{inactive.id}", headers=headers).status_code == 200
    every = client.get("/api/v1/flows", headers=headers).get_json()["items"]
    assert [f["id"] for f in every] == [active.id, inactive.id]


def test_list_refuses_bad_paging_with_problem_details(client):
    assert_lists_refuse_bad_paging(client, "/api/v1/flows", token_headers(make_employee(), "read"))


def test_reads_need_a_token(client):
    assert_problem(client.get("/api/v1/flows"), 401)
