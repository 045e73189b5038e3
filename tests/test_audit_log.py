"""The security audit log: every kind of event recorded by the real routes and services, shown to administrators
with who, from which address and browser; filters, keyset pages with a constant number of queries; 403 for others."""
import re
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from app.enums import AuditKind, Role
from app.extensions import db
from app.models import AuditEvent, Employee
from app.services import api_tokens, audit, password_reset, staff
from tests.factories import (
    PASSWORD,
    make_code,
    make_device,
    make_employee,
    make_template,
)

pytestmark = pytest.mark.usefixtures("english")

ADMIN_ADDRESS, ADMIN_AGENT = "198.51.100.10", "AdminBrowser/1.0 (X11; Linux x86_64) " + "x" * 400
ANNA_ADDRESS, ANNA_AGENT = "203.0.113.7", "AnnaPhone/2.0"
ATTACKER_ADDRESS, ATTACKER_AGENT = "192.0.2.66", "curl/8.5"


def browser(app, address, agent):
    """A test client that comes from `address` and names itself `agent`, asking for English pages."""
    client = app.test_client()
    client.environ_base.update(REMOTE_ADDR=address, HTTP_USER_AGENT=agent, HTTP_ACCEPT_LANGUAGE="en")
    return client


def sign_in(client, email, password=PASSWORD):
    """Submit the login form."""
    return client.post("/login", data={"email": email, "password": password})


def rows(page):
    """The audit table's rows as {kind, html}."""
    html = page.get_data(as_text=True)
    return [
        {"kind": kind, "html": body}
        for kind, body in re.findall(r'<tr data-testid="audit-row" data-kind="([a-z_]+)">(.*?)</tr>', html, re.DOTALL)
    ]


def cell(row, testid):
    """The text of one cell of a row."""
    match = re.search(rf'data-testid="{testid}"[^>]*>(.*?)</td>', row["html"], re.DOTALL)
    return match.group(1).strip()


@pytest.fixture
def people(app):
    """An administrator, a moderator and a member."""
    return {
        "admin": make_employee(Role.ADMIN, name="Ada Admin", email="admin@example.com", language="en"),
        "moderator": make_employee(Role.MODERATOR, name="Mo Moderator", email="moderator@example.com"),
        "anna": make_employee(name="Anna Member", email="anna@example.com"),
    }


@pytest.mark.parametrize("app", [{"LOGIN_FREE_FAILURES": 2}], indirect=True)
def test_every_kind_is_recorded_and_shown_with_actor_address_and_browser(app, people):
    admin_browser = browser(app, ADMIN_ADDRESS, ADMIN_AGENT)
    anna_browser = browser(app, ANNA_ADDRESS, ANNA_AGENT)
    attacker = browser(app, ATTACKER_ADDRESS, ATTACKER_AGENT)
    anna, moderator = people["anna"], people["moderator"]
    code = make_code(make_device(make_template()))

    assert sign_in(admin_browser, "admin@example.com").status_code == 302  # SIGN_IN
    assert sign_in(attacker, "anna@example.com", "guess-1").status_code == 401  # SIGN_IN_FAILED, known account
    assert sign_in(attacker, "nobody@example.com", "guess-2").status_code == 401  # SIGN_IN_FAILED, unknown address
    assert sign_in(attacker, "anna@example.com", "guess-3").status_code == 401  # anna's second: she must wait
    assert sign_in(attacker, "anna@example.com", "guess-4").status_code == 429  # SIGN_IN_LOCKED
    assert sign_in(attacker, "anna@example.com", "guess-5").status_code == 429  # the same minute: not again

    assert admin_browser.post(f"/admin/employees/{anna.id}/password", data={"password": "set-by-admin-1"}).status_code == 302
    employee_form = {"name": moderator.name, "email": moderator.email, "language": "de"}
    admin_browser.post(f"/admin/employees/{moderator.id}", data={**employee_form, "role": "member", "active": "y"})
    admin_browser.post(f"/admin/employees/{moderator.id}", data={**employee_form, "role": "member"})
    admin_browser.post(f"/admin/employees/{moderator.id}", data={**employee_form, "role": "member", "active": "y"})
    admin_browser.post(f"/admin/codes/{code.id}/enabled", data={})
    admin_browser.post(f"/admin/codes/{code.id}/enabled", data={"enabled": "on"})
    admin_browser.post(f"/admin/codes/{code.id}/logout")

    assert anna_browser.post("/password/forgot", data={"email": "anna@example.com"}).status_code == 200
    link = password_reset.RESET_PATH + password_reset.token_for(anna)
    assert anna_browser.post(link, data={"password": "anna-new-secret", "confirmation": "anna-new-secret"}).status_code == 302
    invited = staff.create_employee(name="Ivo Invited", email="ivo@example.com", actor=people["admin"])
    invitation = f"/invite/{staff.invitation_token(invited)}"
    assert anna_browser.post(invitation, data={"password": "ivo-secret-1", "confirmation": "ivo-secret-1"}).status_code == 302

    # Two-factor sign-in and ending sessions record through the same API from their own services.
    with app.test_request_context(environ_base={"REMOTE_ADDR": ANNA_ADDRESS, "HTTP_USER_AGENT": ANNA_AGENT}):
        for kind in (AuditKind.TWO_FACTOR_ENABLED, AuditKind.TWO_FACTOR_DISABLED, AuditKind.RECOVERY_CODE_USED,
                     AuditKind.SESSIONS_ENDED):
            audit.record(kind, actor=anna, subject=anna)
        audit.record(AuditKind.SIGN_IN_SECOND_FACTOR_FAILED, subject=anna)
        made = api_tokens.create_token(anna, name="ERP", scopes="read", actor=anna)  # API_TOKEN_CREATED
        api_tokens.revoke_token(anna, made.row.id, actor=anna)  # API_TOKEN_REVOKED

    page = admin_browser.get("/admin/audit")
    assert page.status_code == 200
    shown = rows(page)
    assert {row["kind"] for row in shown} == {kind.value for kind in AuditKind}

    def only(kind, **expected):
        """The one row of `kind` matching the expected cell texts."""
        matching = [row for row in shown if row["kind"] == kind.value
                    and all(text in cell(row, f"audit-{name}") for name, text in expected.items())]
        assert len(matching) == 1, (kind, expected, [r["html"] for r in shown if r["kind"] == kind.value])
        return matching[0]

    ada, anna_name = "Ada Admin", "Anna Member"
    signed_in = only(AuditKind.SIGN_IN, actor=ada, subject=ada, address=ADMIN_ADDRESS)
    assert f'title="{ADMIN_AGENT[:300]}"' in signed_in["html"] and ADMIN_AGENT[:300] not in cell(signed_in, "audit-user-agent")
    failed = [row for row in shown if row["kind"] == "sign_in_failed"]
    assert len(failed) == 3 and all(cell(row, "audit-address") == ATTACKER_ADDRESS for row in failed)
    assert all(cell(row, "audit-user-agent") == ATTACKER_AGENT and cell(row, "audit-actor") == "–" for row in failed)
    assert sum("nobody@example.com" in cell(row, "audit-detail") and cell(row, "audit-subject") == "–" for row in failed) == 1
    assert sum(anna_name in cell(row, "audit-subject") and "wrong password" in cell(row, "audit-detail") for row in failed) == 2
    only(AuditKind.SIGN_IN_LOCKED, address=ATTACKER_ADDRESS, detail="anna@example.com")
    only(AuditKind.PASSWORD_CHANGED, actor=ada, subject=anna_name, address=ADMIN_ADDRESS)
    only(AuditKind.ROLE_CHANGED, actor=ada, subject="Mo Moderator", detail="from: Moderator")
    only(AuditKind.EMPLOYEE_DEACTIVATED, actor=ada, subject="Mo Moderator", address=ADMIN_ADDRESS)
    only(AuditKind.EMPLOYEE_REACTIVATED, actor=ada, subject="Mo Moderator")
    for kind in (AuditKind.CODE_DISABLED, AuditKind.CODE_ENABLED, AuditKind.CODE_USERS_LOGGED_OUT):
        only(kind, actor=ada, subject=code.token, address=ADMIN_ADDRESS)
    only(AuditKind.PASSWORD_RESET_REQUESTED, subject=anna_name, address=ANNA_ADDRESS, **{"user-agent": ANNA_AGENT})
    only(AuditKind.PASSWORD_RESET, actor=anna_name, subject=anna_name, address=ANNA_ADDRESS, **{"user-agent": ANNA_AGENT})
    only(AuditKind.INVITATION_ACCEPTED, actor="Ivo Invited", address=ANNA_ADDRESS)
    for kind in (AuditKind.TWO_FACTOR_ENABLED, AuditKind.TWO_FACTOR_DISABLED, AuditKind.RECOVERY_CODE_USED,
                 AuditKind.SESSIONS_ENDED):
        only(kind, actor=anna_name, subject=anna_name, address=ANNA_ADDRESS)
    only(AuditKind.SIGN_IN_SECOND_FACTOR_FAILED, subject=anna_name, address=ANNA_ADDRESS)
    times = [datetime.fromisoformat(t) for t in re.findall(r'<time datetime="([^"]+)"', page.get_data(as_text=True))]
    assert times == sorted(times, reverse=True)  # newest first


def test_stored_user_agent_is_cut_to_300_characters_and_typed_addresses_are_cut(app, people):
    client = browser(app, ATTACKER_ADDRESS, "A" * 1000)
    sign_in(client, "x" * 240 + "@example.com", "nope")
    event = db.session.scalar(sa.select(AuditEvent))
    assert len(event.user_agent) == 300 and len(event.detail["email"]) == audit.DETAIL_TEXT_LENGTH


def record_at(kind, when, *, actor=None, subject=None, address=None):
    """An event written straight into the table at a chosen time."""
    event = AuditEvent(kind=kind, actor_id=getattr(actor, "id", None), subject_id=getattr(subject, "id", None),
                       address=address, user_agent="", detail={}, created_at=when)
    db.session.add(event)
    db.session.commit()
    return event


def test_filters_by_kind_employee_dates_and_address(app, client, login, people):
    anna, moderator = people["anna"], people["moderator"]
    day = datetime(2026, 11, 20, 12, tzinfo=UTC)
    record_at(AuditKind.SIGN_IN, day, actor=anna, subject=anna, address="10.0.0.1")
    record_at(AuditKind.SIGN_IN, day + timedelta(days=2), actor=moderator, subject=moderator, address="10.0.0.2")
    record_at(AuditKind.SIGN_IN_FAILED, day + timedelta(days=4), subject=anna, address="10.0.0.1")
    record_at(AuditKind.ROLE_CHANGED, day + timedelta(days=4), actor=people["admin"], subject=moderator, address="10.0.0.3")
    login(people["admin"])

    def kinds(**args):
        """The kinds shown with these filters, newest first."""
        page = client.get("/admin/audit", query_string=args)
        assert page.status_code == 200
        return [row["kind"] for row in rows(page)]

    assert kinds() == ["role_changed", "sign_in_failed", "sign_in", "sign_in"]
    assert kinds(kind="sign_in") == ["sign_in", "sign_in"]
    assert kinds(employee=anna.id) == ["sign_in_failed", "sign_in"]
    assert kinds(employee=moderator.id) == ["role_changed", "sign_in"]  # as subject and as actor
    assert kinds(address="10.0.0.1") == ["sign_in_failed", "sign_in"]
    assert kinds(start="2026-11-21") == ["role_changed", "sign_in_failed", "sign_in"]
    assert kinds(end="2026-11-22") == ["sign_in", "sign_in"]  # the end day counts whole
    assert kinds(start="2026-11-21", end="2026-11-22") == ["sign_in"]
    assert kinds(kind="sign_in", employee=anna.id, address="10.0.0.1", start="2026-11-20", end="2026-11-20") == ["sign_in"]
    assert kinds(kind="no-such-kind", employee="x", start="yesterday", before="-1") == kinds()  # nonsense is ignored
    empty = client.get("/admin/audit", query_string={"address": "10.9.9.9"})
    assert b'data-testid="audit-empty"' in empty.data


def test_pages_go_back_in_time_with_a_constant_number_of_queries(app, client, login, people):
    start = datetime(2026, 11, 1, tzinfo=UTC)
    for n in range(audit.PAGE_SIZE * 2 + 5):
        record_at(AuditKind.SIGN_IN, start + timedelta(minutes=n), actor=people["anna"], subject=people["moderator"])
    login(people["admin"])
    statements = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", count)
    try:
        seen, url, queries = [], "/admin/audit?kind=sign_in", []
        while url:
            statements.clear()
            page = client.get(url)
            queries.append(len(statements))
            html = page.get_data(as_text=True)
            seen.extend(re.findall(r'<time datetime="([^"]+)"', html))
            older = re.search(r'href="([^"]+)" rel="next"', html)
            url = older.group(1).replace("&amp;", "&") if older else None
            assert "kind=sign_in" in (url or "kind=sign_in")  # the filter stays on the next page
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", count)
    assert len(queries) == 3 and len(set(queries)) == 1
    assert len(seen) == len(set(seen)) == audit.PAGE_SIZE * 2 + 5
    assert seen == sorted(seen, reverse=True)


@pytest.mark.parametrize("role", [Role.MEMBER, Role.MODERATOR])
def test_only_administrators_read_the_log(app, client, login, people, role):
    login(make_employee(role))
    assert client.get("/admin/audit").status_code == 403
    assert client.get("/admin/audit", query_string={"kind": "sign_in"}).status_code == 403
    assert b"nav-audit" not in client.get("/admin/templates").data


def test_anonymous_visitors_log_in_first(client):
    assert client.get("/admin/audit").status_code == 302


def test_administrators_find_the_log_in_the_administration(client, login, people):
    login(people["admin"])
    page = client.get("/admin/templates")
    assert b'data-testid="nav-audit"' in page.data and b'href="/admin/audit"' in page.data


def test_code_visitor_pages_do_not_record_anything(app, client, people):
    device = make_device(make_template())
    make_code(device, token="press")
    client.get("/c/press")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)) == 0


def test_events_keep_the_employee_ids_and_survive_without_a_request(app, people):
    event = audit.record(AuditKind.ROLE_CHANGED, actor=people["admin"].id, subject=people["anna"], detail={"from": "member", "to": "admin", "note": None})
    assert (event.actor_id, event.subject_id, event.address, event.user_agent) == (people["admin"].id, people["anna"].id, None, "")
    assert event.detail == {"from": "member", "to": "admin"}
    assert db.session.get(Employee, people["anna"].id) is not None
