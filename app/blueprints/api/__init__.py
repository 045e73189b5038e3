"""The REST API at /api/v1, built with flask-smorest: marshmallow schemas validate the input and, through apispec,
describe every operation in the OpenAPI 3.1 document at /api/v1/openapi.json; /api/v1/docs shows it (Swagger UI, vendored).

Requests carry `Authorization: Bearer <token>` (personal tokens from the account page or
`flask api token create`); the token's employee is the actor, checked by the same policy and services as the
pages. Errors are RFC 9457 problem details (app/blueprints/api/problems.py). Resource modules plug in by being
listed in RESOURCES: each has a `blp` made with `core.resource()`.
"""
import importlib

from flask import Blueprint, render_template, url_for

from app.blueprints.api import core, problems

# Every resource module of the API, in the order the document lists them.
RESOURCES = (
    "app.blueprints.api.tickets",
    "app.blueprints.api.offers",
    "app.blueprints.api.devices",
    "app.blueprints.api.customers",
    "app.blueprints.api.codes",
    "app.blueprints.api.templates",
    "app.blueprints.api.flows",
    "app.blueprints.api.employees",
)

DESCRIPTION = """The Ticketwerk REST API. Authenticate with a personal token: `Authorization: Bearer tw_…`
(make one on your account page). A token acts as its employee and can never do or see more than that employee.
Scopes: `read` (GET), `write` (changes), `admin` (administrators' resources).

Errors are RFC 9457 problem details (`application/problem+json`). Lists page with an opaque `cursor`: pass the
`next_cursor` of one page to get the next. Tickets carry their version as `ETag`; send it back as `If-Match` with a
change: when the ticket changed meanwhile, the answer is 409 Conflict and nothing is written."""

docs_bp = Blueprint("api_docs", __name__, url_prefix=problems.PREFIX)


@docs_bp.get("/docs")
def show():
    """The API reference for people, rendered by the vendored Swagger UI from the OpenAPI document."""
    return render_template("api/docs.html", spec_url=url_for("api-docs.openapi_json"))


def init_app(app):
    """Mount the API on `app`: the document, the docs page, every resource in RESOURCES, problem details for its
    errors. Call after the app's own error handlers are registered (they are wrapped, not replaced)."""
    app.config.setdefault("API_RATE_LIMIT", "600 per minute")
    app.config.setdefault("OPENAPI_URL_PREFIX", problems.PREFIX)
    app.config.setdefault("OPENAPI_JSON_PATH", "openapi.json")
    api = core.TicketwerkApi(
        app,
        spec_kwargs={
            "title": "Ticketwerk API",
            "version": "1",
            "openapi_version": "3.1.0",
            "info": {"description": DESCRIPTION},
            "security": [{"bearerAuth": []}],
        },
    )
    api.spec.components.security_scheme(
        "bearerAuth", {"type": "http", "scheme": "bearer", "description": "A personal API token (tw_…)."}
    )
    app.extensions["ticketwerk-api"] = api
    app.register_blueprint(docs_bp)
    for name in RESOURCES:
        api.register_blueprint(importlib.import_module(name).blp)
    problems.problems_for_api_paths(app)
