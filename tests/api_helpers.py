"""Helpers for the API's resource tests: bearer tokens for employees, and problem-details checks."""
from app.services import api_tokens

PROBLEM = "application/problem+json"


def token_headers(employee, scopes="read,write"):
    """Headers that sign a request in with a fresh token of `employee` holding `scopes`."""
    secret = api_tokens.create_token(employee, name="tests", scopes=scopes, actor=employee).secret
    return {"Authorization": f"Bearer {secret}"}


def assert_problem(response, status):
    """The response is an RFC 9457 problem of `status`; returns its document."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM
    body = response.get_json()
    assert body["status"] == status and body["title"] and body["type"]
    return body
