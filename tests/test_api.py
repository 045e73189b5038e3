"""The REST API at /api/v1: bearer tokens, scopes, problem details, the tickets resources, optimistic locking.

A token acts as its employee through the pages' own policy and services: these tests show it can neither see nor
do more than that employee, and that revoked, expired and foreign tokens, and browser cookies, get nothing.
"""
import hashlib
import io
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from PIL import Image

from app.blueprints.api.core import encode_cursor
from app.enums import AuditKind, Priority, Role, StepType, Visibility
from app.extensions import db
from app.models import ApiToken, AuditEvent, Message, Ticket, Update
from app.models._types import utcnow
from app.services import accounts, api_tokens, offers, staff
from app.services.errors import NotAllowed, ValidationError
from app.workflow import TicketStatus
from tests.api_helpers import PROBLEM, assert_problem, bearer, token_for
from tests.factories import (
    make_device,
    make_employee,
    make_flow,
    make_template,
    make_ticket,
)

pytestmark = pytest.mark.usefixtures("english")
RUN_ON_POSTGRES = True


@pytest.fixture
def world(app):
    """A moderator, a responsible member, a bystander member, an administrator and an INTERNAL ticket."""

    class World:
        template = make_template()
        flow = make_flow(template)
        device = make_device(template)
        moderator = make_employee(Role.MODERATOR)
        member = make_employee(Role.MEMBER)
        bystander = make_employee(Role.MEMBER)
        admin = make_employee(Role.ADMIN)

    world = World()
    world.ticket = make_ticket(world.flow, world.device, world.moderator, visibility=Visibility.INTERNAL)
    offers.assign_employee(world.ticket, world.member, actor=world.moderator)
    return world


# --- the document and the docs page ---------------------------------------------------------------------------


def test_openapi_document_is_3_1_with_bearer_auth_and_problem_errors(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    spec = response.get_json()
    assert spec["openapi"] == "3.1.0"
    assert spec["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http", "scheme": "bearer", "description": "A personal API token (tw_…)."
    }
    assert spec["security"] == [{"bearerAuth": []}]
    operation = spec["paths"]["/api/v1/tickets/{number}/events"]["post"]
    assert {"200", "401", "403", "404", "409", "422", "429"} <= set(operation["responses"])
    conflict = spec["components"]["responses"]["CONFLICT"]
    assert list(conflict["content"]) == [PROBLEM]
    assert any(p.get("name") == "If-Match" for p in operation["parameters"])


def test_docs_page_loads_the_vendored_renderer_without_inline_code(client):
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "/static/js/swagger-ui-5.35.0.min.js" in html and 'data-spec-url="/api/v1/openapi.json"' in html
    assert "<style" not in html and not re.search(r"\sstyle=", html) and "<script>" not in html
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]


def test_every_api_operation_asks_for_a_scope_fitting_its_method(app):
    """Reads need `read`; changes need `write` or `admin`: a resource module cannot forget require_scope."""
    operations = [(rule.endpoint, method) for rule in app.url_map.iter_rules()
                  if rule.rule.startswith("/api/v1/") and rule.endpoint.startswith("api_") and rule.endpoint != "api_docs.show"
                  for method in rule.methods - {"HEAD", "OPTIONS"}]
    assert len(operations) >= 10
    for endpoint, method in operations:
        scope = getattr(app.view_functions[endpoint], "api_scope", None)
        assert scope == "read" if method == "GET" else scope in ("write", "admin"), (endpoint, method, scope)


# --- signing in -----------------------------------------------------------------------------------------------


def test_request_without_token_is_refused_with_a_problem(client):
    response = client.get("/api/v1/tickets")
    body = assert_problem(response, 401)
    assert body["detail"]
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_unknown_token_is_refused(client, world):
    assert_problem(client.get("/api/v1/tickets", headers=bearer("tw_" + "x" * 43)), 401)
    assert_problem(client.get("/api/v1/tickets", headers={"Authorization": "Basic dXNlcjpwYXNz"}), 401)


def test_browser_session_without_token_is_refused_and_cannot_write(client, login, world):
    """A signed-in browser's cookie never signs an API request in: the API has no CSRF tokens, so it must not
    accept what a foreign site could make the browser send."""
    login(world.moderator)
    assert client.get("/tickets").status_code == 200
    assert_problem(client.get("/api/v1/tickets"), 401)
    response = client.post(f"/api/v1/tickets/{world.ticket.id}/messages", json={"body": "from a foreign site"})
    assert_problem(response, 401)
    assert "Set-Cookie" not in response.headers
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Message)) == 0


def test_token_is_stored_only_as_its_hash(app, world):
    secret = token_for(world.member)
    row = db.session.scalar(sa.select(ApiToken))
    assert secret.startswith("tw_") and len(secret) >= 46
    assert row.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert row.prefix == secret[:8]
    stored = " ".join(str(value) for value in db.session.execute(sa.select(ApiToken.__table__)).one())
    assert secret not in stored and secret[8:] not in stored


def test_revoked_token_is_refused(client, world):
    secret = token_for(world.member)
    assert client.get("/api/v1/tickets", headers=bearer(secret)).status_code == 200
    row = db.session.scalar(sa.select(ApiToken))
    api_tokens.revoke_token(world.member, row.id, actor=world.member)
    assert_problem(client.get("/api/v1/tickets", headers=bearer(secret)), 401)
    kinds = db.session.scalars(sa.select(AuditEvent.kind).order_by(AuditEvent.id)).all()
    assert kinds == [AuditKind.API_TOKEN_CREATED, AuditKind.API_TOKEN_REVOKED]


def test_expired_token_is_refused(client, world):
    secret = token_for(world.member, expires_in_days=1)
    assert client.get("/api/v1/tickets", headers=bearer(secret)).status_code == 200
    row = db.session.scalar(sa.select(ApiToken))
    row.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert_problem(client.get("/api/v1/tickets", headers=bearer(secret)), 401)


def test_token_of_a_deactivated_employee_is_refused(client, world):
    secret = token_for(world.member)
    staff.set_employee_active(world.member, False, actor=world.admin)
    assert_problem(client.get("/api/v1/tickets", headers=bearer(secret)), 401)


def test_signing_out_everywhere_revokes_tokens_but_a_plain_logout_keeps_them(client, world):
    secret = token_for(world.member)
    accounts.end_sessions(world.member, actor=world.member, api_tokens=False)  # what the logout button does
    assert client.get("/api/v1/tickets", headers=bearer(secret)).status_code == 200
    accounts.end_sessions(world.member, actor=world.member)  # "sign out everywhere"
    assert_problem(client.get("/api/v1/tickets", headers=bearer(secret)), 401)


def test_last_use_is_recorded(client, world):
    secret = token_for(world.member)
    assert db.session.scalar(sa.select(ApiToken.last_used_at)) is None
    client.get("/api/v1/tickets", headers=bearer(secret))
    assert db.session.scalar(sa.select(ApiToken.last_used_at)) is not None


# --- scopes ---------------------------------------------------------------------------------------------------


def test_read_scope_cannot_write(client, world):
    secret = token_for(world.member, scopes="read")
    assert client.get(f"/api/v1/tickets/{world.ticket.id}", headers=bearer(secret)).status_code == 200
    response = client.post(f"/api/v1/tickets/{world.ticket.id}/messages", json={"body": "Hallo"}, headers=bearer(secret))
    body = assert_problem(response, 403)
    assert "write" in body["detail"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Message)) == 0


def test_write_scope_without_read_cannot_read(client, world):
    secret = token_for(world.member, scopes="write")
    assert_problem(client.get("/api/v1/tickets", headers=bearer(secret)), 403)


def test_only_administrators_get_the_admin_scope(app, world):
    with pytest.raises(NotAllowed):
        api_tokens.create_token(world.moderator, name="x", scopes="read,admin", actor=world.moderator)
    made = api_tokens.create_token(world.admin, name="x", scopes="read,admin", actor=world.admin)
    assert api_tokens.allowed_scopes(made.row) == {"read", "admin"}
    world.admin.role = Role.MEMBER  # an administrator made a member keeps no admin scope, whatever the token says
    assert api_tokens.allowed_scopes(made.row) == {"read"}


def test_nobody_makes_tokens_for_someone_else(app, world):
    with pytest.raises(NotAllowed):
        api_tokens.create_token(world.member, name="x", scopes="read", actor=world.admin)
    with pytest.raises(ValidationError):
        api_tokens.create_token(world.member, name="x", scopes="read,root", actor=world.member)


# --- a member's token reaches what the member reaches, no more ---------------------------------------------------


def test_bystander_member_cannot_act_on_a_ticket_they_do_not_work_on(client, world):
    secret = token_for(world.bystander)
    number = world.ticket.id
    version = world.ticket.version
    assert client.get(f"/api/v1/tickets/{number}", headers=bearer(secret)).status_code == 200  # as on the page
    assert_problem(client.post(f"/api/v1/tickets/{number}/events", json={"event": "start"}, headers=bearer(secret)), 403)
    assert_problem(client.patch(f"/api/v1/tickets/{number}", json={"priority": "high"}, headers=bearer(secret)), 403)
    assert_problem(client.post(f"/api/v1/tickets/{number}/messages", json={"body": "x"}, headers=bearer(secret)), 403)
    assert_problem(client.post(f"/api/v1/tickets/{number}/updates", json={"body": "x"}, headers=bearer(secret)), 403)
    db.session.expire_all()
    assert db.session.get(Ticket, number).version == version


def test_another_employees_draft_is_not_found(client, world):
    draft = make_ticket(world.flow, world.device, world.moderator, submit=False)
    secret = token_for(world.member)
    assert_problem(client.get(f"/api/v1/tickets/{draft.id}", headers=bearer(secret)), 404)
    listed = client.get("/api/v1/tickets", headers=bearer(secret)).get_json()["items"]
    assert draft.id not in [item["number"] for item in listed]


def test_internal_updates_are_for_employees_and_code_users_pages_never_see_them(client, world):
    secret = token_for(world.member)
    response = client.post(f"/api/v1/tickets/{world.ticket.id}/updates", json={"body": "Nur intern", "internal": True},
                           headers=bearer(secret))
    assert response.status_code == 201 and response.get_json()["internal"] is True
    assert db.session.scalar(sa.select(Update.visibility)) == Visibility.INTERNAL
    items = client.get(f"/api/v1/tickets/{world.ticket.id}/updates", headers=bearer(secret)).get_json()["items"]
    assert [item["body"] for item in items] == ["Nur intern"]


# --- tickets --------------------------------------------------------------------------------------------------


def test_create_ticket_with_a_flows_answers(client, world):
    secret = token_for(world.member)
    steps = {step.question: step.id for step in world.flow.steps}
    response = client.post("/api/v1/tickets", headers=bearer(secret), json={
        "device": world.device.id, "flow": world.flow.id, "visibility": "public",
        "answers": [{"step_id": steps["Kurzbeschreibung"], "value": "Hydraulik leckt"},
                    {"step_id": steps["Was ist passiert?"], "value": "Öl unter der Presse"},
                    {"step_id": steps["Steht die Maschine still?"], "value": "no"}],
    })
    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.get_json()
    ticket = db.session.get(Ticket, body["number"])
    assert response.headers["Location"] == f"/api/v1/tickets/{ticket.id}"
    assert response.headers["ETag"] == f'"{ticket.version}"'
    assert (ticket.status, ticket.visibility, ticket.title) == (TicketStatus.OPEN, Visibility.PUBLIC, "Hydraulik leckt")
    assert ticket.creator_employee_id == world.member.id
    assert [a["text"] for a in body["answers"] if a["answered"]][:2] == ["Hydraulik leckt", "Öl unter der Presse"]


def test_create_ticket_with_a_missing_answer_stores_nothing(client, world):
    secret = token_for(world.member)
    before = db.session.scalar(sa.select(sa.func.count()).select_from(Ticket))
    step = world.flow.steps[0]
    response = client.post("/api/v1/tickets", headers=bearer(secret), json={
        "device": world.device.id, "flow": world.flow.id, "answers": [{"step_id": step.id, "value": "Nur der Titel"}],
    })
    body = assert_problem(response, 422)
    assert body["errors"] == {str(world.flow.steps[1].id): [body["detail"]]}
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Ticket)) == before


def test_invalid_input_is_a_problem_with_errors(client, world):
    secret = token_for(world.member)
    body = assert_problem(client.post(f"/api/v1/tickets/{world.ticket.id}/events", json={"event": "fly"},
                                      headers=bearer(secret)), 422)
    assert "event" in body["errors"]["json"]


def test_field_errors_read_in_the_readers_language(client, world):
    """marshmallow's English field messages come in the employee's language, or in the one the client asks for."""
    secret = token_for(world.member)  # a German-speaking employee
    url = f"/api/v1/tickets/{world.ticket.id}/messages"
    body = assert_problem(client.post(url, json={"bogus": 1}, headers=bearer(secret)), 422)
    assert body["errors"]["json"] == {"body": ["Dieses Feld ist erforderlich."], "bogus": ["Dieses Feld ist hier nicht bekannt."]}
    assert body["detail"].startswith("Einige der gesendeten Daten passen nicht")
    english = {**bearer(secret), "Accept-Language": "en"}
    body = assert_problem(client.post(url, json={"bogus": 1}, headers=english), 422)
    assert body["errors"]["json"]["body"] == ["This field is required."]
    body = assert_problem(client.post(f"/api/v1/tickets/{world.ticket.id}/events", json={"event": "fly"},
                                      headers=bearer(secret)), 422)
    assert body["errors"]["json"]["event"][0].startswith("Bitte senden Sie einen dieser Werte:")


def test_status_events_follow_the_workflow(client, world):
    secret = token_for(world.member)
    response = client.post(f"/api/v1/tickets/{world.ticket.id}/events", json={"event": "start"}, headers=bearer(secret))
    assert response.status_code == 200 and response.get_json()["status"] == "in_progress"
    body = assert_problem(client.post(f"/api/v1/tickets/{world.ticket.id}/events", json={"event": "reopen"},
                                      headers=bearer(secret)), 409)
    assert body["type"].endswith("/invalid-transition")


def test_if_match_on_an_outdated_version_is_refused_with_409(client, world):
    secret = token_for(world.member)
    seen = client.get(f"/api/v1/tickets/{world.ticket.id}", headers=bearer(secret)).headers["ETag"]
    first = client.patch(f"/api/v1/tickets/{world.ticket.id}", json={"priority": "high"},
                         headers={**bearer(secret), "If-Match": seen})
    assert first.status_code == 200 and first.headers["ETag"] != seen
    late = client.patch(f"/api/v1/tickets/{world.ticket.id}", json={"visibility": "public"},
                        headers={**bearer(secret), "If-Match": seen})
    assert assert_problem(late, 409)["type"].endswith("/conflict")
    db.session.expire_all()
    ticket = db.session.get(Ticket, world.ticket.id)
    assert (ticket.priority, ticket.visibility) == (Priority.HIGH, Visibility.INTERNAL)
    assert client.patch(f"/api/v1/tickets/{world.ticket.id}", json={"visibility": "public"},
                        headers={**bearer(secret), "If-Match": first.headers["ETag"]}).status_code == 200


def test_list_pages_by_cursor_and_searches(client, world):
    for _ in range(4):
        make_ticket(world.flow, world.device, world.moderator)
    secret = token_for(world.member)
    seen, cursor = [], None
    while True:
        query = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = client.get("/api/v1/tickets", query_string=query, headers=bearer(secret)).get_json()
        seen += [item["number"] for item in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    expected = db.session.scalars(sa.select(Ticket.id).order_by(Ticket.last_activity_at.desc(), Ticket.id.desc())).all()
    assert seen == expected and len(seen) == 5
    numbers = client.get("/api/v1/tickets", query_string={"sort": "number", "limit": 3}, headers=bearer(secret))
    assert [item["number"] for item in numbers.get_json()["items"]] == sorted(expected)[:3]
    mine = client.get("/api/v1/tickets", query_string={"responsible": "me"}, headers=bearer(secret)).get_json()
    assert [item["number"] for item in mine["items"]] == [world.ticket.id]
    assert_problem(client.get("/api/v1/tickets", query_string={"cursor": "not-a-cursor"}, headers=bearer(secret)), 400)
    for forged in (["-activity", "2026-11-30T00:00:00+00:00", 10**30], ["-activity", "yesterday", 1],
                   ["number", None, 1], [True], [10**30]):
        for url in ("/api/v1/tickets", f"/api/v1/tickets/{world.ticket.id}/messages"):
            response = client.get(url, query_string={"cursor": encode_cursor(forged)}, headers=bearer(secret))
            assert_problem(response, 400)


def test_full_text_search(client, world):
    from app.services import search

    other = make_ticket(world.flow, world.device, world.moderator)
    api_tokens_secret = token_for(world.member)
    client.post(f"/api/v1/tickets/{world.ticket.id}/updates", json={"body": "Dichtung Zylinderkopf getauscht"},
                headers=bearer(api_tokens_secret))
    search.reindex_ticket(other.id)
    found = client.get("/api/v1/tickets", query_string={"q": "Zylinderkopf"}, headers=bearer(api_tokens_secret))
    assert [item["number"] for item in found.get_json()["items"]] == [world.ticket.id]


def test_messages_post_and_list(client, world):
    secret = token_for(world.member)
    for text in ("Erste", "Zweite", "Dritte"):
        response = client.post(f"/api/v1/tickets/{world.ticket.id}/messages", json={"body": text},
                               headers=bearer(secret))
        assert response.status_code == 201 and response.get_json()["author"]["id"] == world.member.id
    page = client.get(f"/api/v1/tickets/{world.ticket.id}/messages", query_string={"limit": 2},
                      headers=bearer(secret)).get_json()
    assert [m["body"] for m in page["items"]] == ["Dritte", "Zweite"]
    rest = client.get(f"/api/v1/tickets/{world.ticket.id}/messages", query_string={"cursor": page["next_cursor"]},
                      headers=bearer(secret)).get_json()
    assert [m["body"] for m in rest["items"]] == ["Erste"] and rest["next_cursor"] is None


def png_bytes():
    """A small real PNG."""
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(out, "PNG")
    return out.getvalue()


def test_attachments_upload_and_download(client, world):
    secret = token_for(world.member)
    data = png_bytes()
    response = client.post(f"/api/v1/tickets/{world.ticket.id}/attachments", headers=bearer(secret),
                           data={"body": "Foto vom Leck", "files": (io.BytesIO(data), "leck.png")},
                           content_type="multipart/form-data")
    assert response.status_code == 201, response.get_data(as_text=True)
    update = response.get_json()["update"]
    assert update["body"] == "Foto vom Leck" and update["attachments"][0]["name"] == "leck.png"
    listed = client.get(f"/api/v1/tickets/{world.ticket.id}/attachments", headers=bearer(secret)).get_json()["items"]
    with client.get(listed[0]["url"], headers=bearer(secret)) as download:
        assert download.status_code == 200 and download.data == data and download.mimetype == "image/png"
    outsider = token_for(world.bystander)
    other = make_ticket(world.flow, world.device, world.moderator)
    assert_problem(client.get(f"/api/v1/tickets/{other.id}/attachments/{listed[0]['id']}", headers=bearer(outsider)),
                   404)


def test_upload_without_files_is_refused(client, world):
    secret = token_for(world.member)
    response = client.post(f"/api/v1/tickets/{world.ticket.id}/attachments", headers=bearer(secret),
                           data={"body": "x"}, content_type="multipart/form-data")
    assert_problem(response, 422)


def test_unknown_paths_and_methods_are_problems_but_pages_keep_html(client, world):
    assert_problem(client.get("/api/v1/nothing-here"), 404)
    response = client.delete("/api/v1/tickets")
    assert_problem(response, 405)
    assert "GET" in response.headers["Allow"]
    page = client.get("/tickets/999999")
    assert page.mimetype == "text/html"


@pytest.mark.parametrize("app", [{"API_RATE_LIMIT": "3 per minute"}], indirect=True)
def test_each_token_has_its_own_rate_limit(client, world):
    busy, other = token_for(world.member), token_for(world.moderator)
    for _ in range(3):
        assert client.get("/api/v1/tickets", headers=bearer(busy)).status_code == 200
    assert_problem(client.get("/api/v1/tickets", headers=bearer(busy)), 429)
    assert client.get("/api/v1/tickets", headers=bearer(other)).status_code == 200


# --- the CLI and the account page -----------------------------------------------------------------------------


def test_cli_prints_the_token_as_its_last_line(app, client, world):
    result = app.test_cli_runner().invoke(args=["api", "token", "create", world.member.email, "--scope", "read,write"])
    assert result.exit_code == 0, result.output
    secret = result.output.strip().splitlines()[-1]
    assert secret.startswith("tw_")
    assert client.get("/api/v1/tickets", headers=bearer(secret)).status_code == 200
    row = db.session.scalar(sa.select(ApiToken))
    assert row.scope_set == {"read", "write"}


def test_cli_refuses_unknown_employees_and_scopes(app, world):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["api", "token", "create", "nobody@example.com"]).exit_code != 0
    assert runner.invoke(args=["api", "token", "create", world.member.email, "--scope", "admin"]).exit_code != 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ApiToken)) == 0


def test_account_page_makes_a_token_shows_it_once_and_revokes_it(client, login, world):
    login(world.member)
    response = client.post("/account/api-tokens", data={"name": "ERP", "scopes": ["read", "write"],
                                                        "expires_in_days": "30"})
    assert response.status_code == 200
    row = db.session.scalar(sa.select(ApiToken))
    html = response.get_data(as_text=True)
    secret = html.split('data-testid="api-token-secret">')[1].split("<")[0]
    assert api_tokens.digest(secret) == row.token_hash and row.scope_set == {"read", "write"}
    assert 29 <= (row.expires_at - utcnow()).days <= 30
    again = client.get("/account").get_data(as_text=True)
    assert secret not in again and row.prefix in again and "ERP" in again
    assert 'value="admin"' not in again  # members are not offered the admin scope
    client.post(f"/account/api-tokens/{row.id}/revoke")
    db.session.expire_all()
    assert db.session.get(ApiToken, row.id).revoked_at is not None
    assert_problem(client.get("/api/v1/tickets", headers=bearer(secret)), 401)


def test_account_page_refuses_a_token_without_name(client, login, world):
    login(world.member)
    response = client.post("/account/api-tokens", data={"name": "", "scopes": ["read"]})
    assert response.status_code == 422
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ApiToken)) == 0


def test_nobody_revokes_someone_elses_token(client, login, world):
    token_for(world.moderator)
    row = db.session.scalar(sa.select(ApiToken))
    login(world.member)
    assert client.post(f"/account/api-tokens/{row.id}/revoke").status_code == 404
    db.session.expire_all()
    assert db.session.get(ApiToken, row.id).revoked_at is None


@pytest.mark.parametrize("header", ['""', '"²"', '"1", "2"', "W/", '"99999999999999999999"', "garbage"])
def test_if_match_that_names_no_version_is_a_conflict_not_a_crash(client, world, header):
    secret = token_for(world.member)
    response = client.post(f"/api/v1/tickets/{world.ticket.id}/events", json={"event": "start"},
                           headers={**bearer(secret), "If-Match": header})
    assert_problem(response, 409)
    db.session.expire_all()
    assert db.session.get(Ticket, world.ticket.id).status == TicketStatus.ASSIGNED


@pytest.mark.parametrize("app", [{"WTF_CSRF_ENABLED": True}], indirect=True)
def test_token_requests_need_no_csrf_token_while_the_pages_still_do(client, login, world):
    secret = token_for(world.member)
    response = client.post(f"/api/v1/tickets/{world.ticket.id}/messages", json={"body": "Per API"}, headers=bearer(secret))
    assert response.status_code == 201
    login(world.member)
    assert client.post("/account/api-tokens", data={"name": "x", "scopes": ["read"]}).status_code == 400
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ApiToken)) == 1


def test_a_lost_race_is_a_409_conflict_and_writes_nothing(client, world):
    """Someone else commits a change between the API's read of the ticket and its write: the optimistic lock (the
    version column) refuses the write, and the client gets 409 with the ticket as the other change left it."""
    secret = token_for(world.member)
    seen = client.get(f"/api/v1/tickets/{world.ticket.id}", headers=bearer(secret)).headers["ETag"]
    raced = []

    def someone_else_commits_first(session, flush_context, instances):
        """Just before the API flushes its change of the ticket, another connection changes and commits it."""
        if raced or not any(isinstance(row, Ticket) for row in session.dirty):
            return
        raced.append(True)
        with db.engine.connect() as other:
            other.execute(sa.update(Ticket).where(Ticket.id == world.ticket.id)
                          .values(priority=Priority.LOW, version=Ticket.version + 1))
            other.commit()

    sa.event.listen(sa.orm.Session, "before_flush", someone_else_commits_first)
    try:
        response = client.post(f"/api/v1/tickets/{world.ticket.id}/events", json={"event": "start"},
                               headers={**bearer(secret), "If-Match": seen})
    finally:
        sa.event.remove(sa.orm.Session, "before_flush", someone_else_commits_first)
    assert raced
    assert assert_problem(response, 409)["type"].endswith("/conflict")
    db.session.expire_all()
    ticket = db.session.get(Ticket, world.ticket.id)
    assert (ticket.status, ticket.priority) == (TicketStatus.ASSIGNED, Priority.LOW)


def test_a_ticket_number_finds_its_ticket_in_any_status(client, world):
    closed = make_ticket(world.flow, world.device, world.moderator)
    closed.status = TicketStatus.CLOSED
    db.session.commit()
    secret = token_for(world.member)
    for q in (f"T-{closed.id:05d}", f"t{closed.id}", f"#{closed.id}"):
        found = client.get("/api/v1/tickets", query_string={"q": q}, headers=bearer(secret)).get_json()["items"]
        assert closed.id in [item["number"] for item in found], q
    only_open = client.get("/api/v1/tickets", query_string={"q": f"T-{closed.id:05d}", "status": "open"},
                           headers=bearer(secret)).get_json()["items"]
    assert closed.id not in [item["number"] for item in only_open]  # a status chosen still counts


def test_system_step_answers_read_in_the_readers_language(client, world):
    from app.models import Answer

    answer = Answer(ticket_id=world.ticket.id, position=99, question="Visibility", type=StepType.VISIBILITY,
                    text="PUBLIC", value="public", answered=True)
    db.session.add(answer)
    db.session.commit()
    body = client.get(f"/api/v1/tickets/{world.ticket.id}", headers=bearer(token_for(world.member))).get_json()
    shown = next(item for item in body["answers"] if item["position"] == 99)
    assert shown["question"] == "Sichtbarkeit" and shown["text"] == "ÖFFENTLICH" and shown["value"] == "public"
