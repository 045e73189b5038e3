"""Helpers for the API tests: bearer tokens for employees, problem-details checks, a small catalog."""
from app.enums import StepType
from app.extensions import db
from app.services import api_tokens
from tests.factories import make_flow, make_template

PROBLEM = "application/problem+json"


def bearer(secret):
    """The Authorization header of a token."""
    return {"Authorization": f"Bearer {secret}"}


def token_for(employee, scopes="read,write", **kwargs):
    """A fresh bearer token of `employee` holding `scopes` (the secret); `kwargs` go to api_tokens.create_token."""
    return api_tokens.create_token(employee, name="tests", scopes=scopes, actor=employee, **kwargs).secret


def token_headers(employee, scopes="read,write"):
    """Headers that sign a request in with a fresh token of `employee` holding `scopes`."""
    return bearer(token_for(employee, scopes))


def assert_problem(response, status):
    """The response is an RFC 9457 problem of `status`; returns its document."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM
    body = response.get_json()
    assert body["status"] == status and body["title"] and body["type"]
    return body


CHOICE_STEPS = [
    ("Kurzbeschreibung", StepType.TEXT_SHORT, True, True, []),
    ("Welche Seite?", StepType.SINGLE_CHOICE, False, False, ["links", "rechts"]),
]


def make_catalog():
    """A template with a description, an active flow with a title and a choice step, and an inactive flow."""
    template = make_template(name="Hydraulikpresse HP-200")
    template.description = "Nur für die Verwaltung"
    active = make_flow(template, title="Störung melden", steps=CHOICE_STEPS)
    inactive = make_flow(template, title="Entwurf", active=False)
    db.session.commit()
    return template, active, inactive


def assert_lists_refuse_bad_paging(client, url, headers):
    """`limit` out of range is 422 with the field's errors; a cursor the list did not make is 400."""
    assert "errors" in assert_problem(client.get(url, query_string={"limit": 0}, headers=headers), 422)
    assert_problem(client.get(url, query_string={"cursor": "%%%"}, headers=headers), 400)
