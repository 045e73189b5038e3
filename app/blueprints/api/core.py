"""What every API resource module builds on: its blueprint, bearer-token sign-in, scopes, cursors, ETags.

A resource module (app/blueprints/api/<name>.py, listed in RESOURCES in app/blueprints/api/__init__.py) does

    blp = resource("tickets", "Tickets: list, read, create, ...")

    @blp.route("/<int:number>")
    class ...  or  @blp.get("/<int:number>") with @require_scope("read"), @blp.response(200, Schema),
    @documented("One ticket.", 404)

and calls the same services and policy functions as the pages, with `actor()` (the token's employee).
"""
import functools
import http
import re
import threading

from flask import current_app, g, request
from flask_babel import gettext as _
from flask_limiter.util import get_remote_address
from flask_smorest import Api, Blueprint
from marshmallow import Schema, fields
from werkzeug.http import parse_etags, quote_etag

from app import policy
from app.blueprints.api.problems import MEDIA_TYPE, PREFIX, ApiProblem
from app.extensions import csrf, limiter
from app.ids import decode_cursor as decode_cursor_values
from app.ids import encode_cursor
from app.services import api_tokens

SCOPES = ("read", "write", "admin")
IF_MATCH = {
    "in": "header",
    "name": "If-Match",
    "required": False,
    "schema": {"type": "string"},
    "description": 'The ticket\'s ETag as last read (e.g. "7"). When the ticket changed meanwhile the change is '
                   "refused with 409 Conflict and nothing is written.",
}
LOCATION_HEADER = {"Location": {"schema": {"type": "string"}}}  # a 201's address of what it created
VERSION_TAG = re.compile(r"[0-9]{1,18}")  # ASCII digits only: int() would also take "²" or "٣"


class ProblemSchema(Schema):
    """RFC 9457 problem details."""

    type = fields.String(required=True, metadata={"description": "A URI naming the kind of problem."})
    title = fields.String(required=True, metadata={"description": "The HTTP status phrase."})
    status = fields.Integer(required=True, metadata={"description": "The HTTP status code."})
    detail = fields.String(metadata={"description": "What went wrong this time, for a person to read."})
    errors = fields.Dict(
        keys=fields.String(), metadata={"description": "Invalid input: messages per location or field."}
    )


class TicketwerkApi(Api):
    """flask-smorest's Api with problem details as the documented error body and the app's own error handlers.

    The OpenAPI document is completed on first use: registering a resource mounts its routes at once, but its
    operations enter `spec` only when something reads it (/api/v1/openapi.json, the docs page's fetch,
    `flask openapi print`). Describing the 40 operations through apispec and marshmallow took about half of
    `create_app` (some 60 ms and 2 MiB of every worker) for a document most workers never serve."""

    ERROR_SCHEMA = ProblemSchema

    def __init__(self, app=None, **kwargs):
        self._undocumented = []  # (blueprint, name, parameters) registered but not yet in the document
        self._document_lock = threading.Lock()
        super().__init__(app, **kwargs)

    @property
    def spec(self):
        """The apispec.APISpec, with every registered resource's operations in it."""
        if self._undocumented:
            with self._document_lock:
                while self._undocumented:
                    self._document(*self._undocumented.pop(0))
        return self._spec

    @spec.setter
    def spec(self, value):
        self._spec = value

    def register_blueprint(self, blp, *, parameters=None, **options):
        """Mount the resource's routes now; describe its operations in the document when the document is read.
        (flask-smorest's Api.register_blueprint, with the description deferred.)"""
        name = options.get("name", blp.name)
        self._app.extensions["flask-smorest"]["blp_name_to_api"][name] = self
        self._app.register_blueprint(blp, **options)
        self._undocumented.append((blp, name, parameters))

    def _document(self, blp, name, parameters):
        """Describe one resource's operations; its tag carries the resource's name (see ResourceBlueprint)."""
        blp.register_views_in_doc(self, self._app, self._spec, name=name, parameters=parameters)
        self._spec.tag({"name": getattr(blp, "tag", name), "description": blp.description})

    def _register_error_handlers(self):
        """Leave error handling to app.blueprints.api.problems (the pages keep their HTML errors)."""

    def _register_responses(self):
        """One component response per HTTP status, documented as application/problem+json."""
        for status in http.HTTPStatus:
            if status < 400:
                continue
            self._spec.components.response(
                status.name,
                {"description": status.phrase, "content": {MEDIA_TYPE: {"schema": ProblemSchema}}},
                lazy=True,
            )
        self._spec.components.response(
            "DEFAULT_ERROR", {"description": "Error", "content": {MEDIA_TYPE: {"schema": ProblemSchema}}}, lazy=True
        )


class ResourceBlueprint(Blueprint):
    """A flask-smorest blueprint whose operations are grouped in the document under the resource's own name
    ("tickets"), not the blueprint's ("api_tickets")."""

    def __init__(self, resource_name, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.tag = resource_name

    def route(self, rule, *, parameters=None, tags=None, **options):
        """Blueprint.route, tagging the operations with the resource's name unless told otherwise."""
        return super().route(rule, parameters=parameters, tags=tags or [self.tag], **options)


def token_key():
    """The rate-limit key of an API request: its bearer token (hashed), else the client's address."""
    scheme, _space, secret = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and secret.strip():
        return "api-token:" + api_tokens.digest(secret.strip())[:32]
    return "api-address:" + (get_remote_address() or "")


API_REQUESTS = limiter.shared_limit(
    lambda: current_app.config["API_RATE_LIMIT"], "api-requests", key_func=token_key, override_defaults=False
)


def authenticate():
    """Before every API resource request: the bearer token's employee becomes the actor, or 401.

    Cookies play no part: a browser session without a token is refused like any other request without one, so
    the API (which has no CSRF tokens) cannot be used across sites. Sets g.api_token and g.api_scopes (what the
    token holds and the employee may still hold, policy.can_hold_api_scope)."""
    scheme, _space, secret = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise ApiProblem(401, _("A valid bearer token is needed: Authorization: Bearer <token>."),
                         headers={"WWW-Authenticate": 'Bearer realm="ticketwerk"'})
    row = api_tokens.authenticate(secret.strip())
    if row is None or not policy.can_use_back_office(row.employee):
        raise ApiProblem(401, _("This token is unknown, expired or revoked."),
                         headers={"WWW-Authenticate": 'Bearer realm="ticketwerk", error="invalid_token"'})
    g.api_token = row
    g.api_scopes = api_tokens.allowed_scopes(row)
    g._login_user = row.employee  # Flask-Login's current_user is the token's employee for this request


def actor():
    """The employee the request acts for (the token's)."""
    return g.api_token.employee


def require_scope(scope):
    """Decorate an API view: refuse with 403 unless the token holds `scope` ("read", "write" or "admin")."""
    if scope not in SCOPES:
        raise ValueError(scope)

    def decorator(view):
        """Check the scope before the view runs."""

        @functools.wraps(view)
        def checked(*args, **kwargs):
            """403 without the scope, else the view."""
            if scope not in g.api_scopes:
                raise ApiProblem(403, _("This token lacks the %(scope)s scope.", scope=scope),
                                 headers={"WWW-Authenticate": f'Bearer error="insufficient_scope", scope="{scope}"'})
            return view(*args, **kwargs)

        checked.api_scope = scope
        return checked

    return decorator


def documented(summary, *statuses):
    """Decorate an API view: `summary` is its OpenAPI operation's summary and the view's docstring; these error
    statuses (problem details) are listed in the operation, besides the ones every operation has (400 for a request
    that cannot be read, 401, 403 for a missing scope, 429).

    The summary is an argument, not a docstring that flask-smorest would read: the app serves under `python -OO`
    (docs/deployment.md), which drops docstrings from the compiled code.
    """

    def decorator(view):
        """Set the docstring, add the alternative responses."""
        view.__doc__ = summary
        for status in sorted({*statuses, 400, 401, 403, 429}, reverse=True):
            view = Blueprint.alt_response(None, status, response=http.HTTPStatus(status).name)(view)
        return view

    return decorator


def resource(name, description):
    """A flask-smorest blueprint for /api/v1/<name>: token sign-in first, per-token rate limit, no CSRF."""
    blp = ResourceBlueprint(name, f"api_{name}", __name__, url_prefix=f"{PREFIX}/{name}", description=description)
    blp.before_request(authenticate)
    API_REQUESTS(blp)
    csrf.exempt(blp)
    return blp


# --- cursors and ETags --------------------------------------------------------


def bad_cursor():
    """The 400 problem for a cursor this list did not make (or that no longer fits its sort)."""
    return ApiProblem(400, _("This cursor is not valid; start again without it."),
                      errors={"cursor": [_("Not a cursor of this list.")]})


def decode_cursor(cursor, length):
    """The keyset position in `cursor` (a list of `length` values, app.ids.decode_cursor), or 400 for a cursor we
    did not make."""
    values = decode_cursor_values(cursor, length)
    if values is None:
        raise bad_cursor()
    return values


def is_row_id(value, max_id=2**63 - 1):
    """Whether a cursor's value can be a row id: an int (not a bool) in 1 … `max_id`."""
    return type(value) is int and 1 <= value <= max_id


def after_id(cursor, max_id=2**63 - 1):
    """The row id an id cursor points past (None without a cursor); 400 for a cursor we did not make or whose value
    is no row id up to `max_id` (is_row_id)."""
    if not cursor:
        return None
    value = decode_cursor(cursor, 1)[0]
    if not is_row_id(value, max_id):
        raise bad_cursor()
    return value


def id_cursor_page(rows, limit):
    """Rows fetched in id order with LIMIT `limit` + 1, cut to one page: (rows, the cursor of the next page by the
    last row's id, None on the last page)."""
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, next_id_cursor(rows, more)


def next_id_cursor(rows, more):
    """The cursor past the last of `rows` (by id) when `more` rows follow, else None."""
    return encode_cursor([rows[-1].id]) if more and rows else None


def etag_of(version):
    """The strong ETag of a ticket version: "<version>" (quoted)."""
    return quote_etag(str(version))


def takes_if_match(view):
    """Decorate an API view that changes a ticket: list the optional If-Match header (IF_MATCH) in its OpenAPI
    operation; the view passes if_match_version() to the service as the expected version."""
    return Blueprint.doc(parameters=[IF_MATCH])(view)


def if_match_version():
    """The ticket version the client's If-Match names (int), None without If-Match or for `*`; a value that names
    no version is a version that does not match (0), answered 409 by the services like a lost race."""
    header = request.headers.get("If-Match")
    if not header:
        return None
    etags = parse_etags(header)
    if etags.star_tag:
        return None
    tags = [tag for tag in etags if tag]
    if len(tags) != 1 or not VERSION_TAG.fullmatch(tags[0]):
        return 0
    return int(tags[0])
