"""RFC 9457 problem details: every 4xx and 5xx under /api/v1 answers `application/problem+json`.

A problem has `type` (a URI; `about:blank` where the status says it all), `title` (the status phrase, the same for
every problem of a type), `status`, `detail` (this occurrence, in the employee's language) and, for invalid
input, `errors` ({location or field: [messages]}). The app's ServiceError refusals, werkzeug's HTTP errors
(including routing 404/405, 413, the rate limit's 429) and unexpected 500s all come out this way; the browser
pages keep their HTML error pages.
"""
import http
import re

from flask import current_app, json, make_response, request
from flask_babel import gettext as _
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException

from app.extensions import db
from app.refusals import BUSY_RETRY_SECONDS, busy_text
from app.services.errors import ServiceError

PREFIX = "/api/v1"
MEDIA_TYPE = "application/problem+json"
KEPT_HEADERS = ("allow", "retry-after", "www-authenticate")  # what an error answer's own headers may tell a client
PROBLEM_TYPES = {
    "NotAllowed": "not-allowed",
    "NotFound": "not-found",
    "ValidationError": "invalid-input",
    "ConflictError": "conflict",
    "InvalidTransition": "invalid-transition",
    "TooManyAttempts": "too-many-attempts",
}


class ApiProblem(HTTPException):
    """An HTTP error the API raises itself: `status`, a `detail` text, optional `errors`, `headers` and `type`."""

    def __init__(self, status, detail, *, errors=None, headers=None, type_=None):
        super().__init__(description=detail)
        self.code = status
        self.errors = errors
        self.extra_headers = headers or {}
        self.type_ = type_

    def get_headers(self, environ=None, scope=None):
        """The extra headers (WWW-Authenticate of a 401) besides the content type."""
        return [("Content-Type", MEDIA_TYPE), *self.extra_headers.items()]


def is_api_request():
    """Whether this request is for the API (its own paths, the document and the docs page)."""
    return request.path == PREFIX or request.path.startswith(PREFIX + "/")


def phrase(status):
    """The HTTP reason phrase of `status` ("Not Found"), or "Error" for a code http.HTTPStatus does not know."""
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def problem_response(status, detail=None, *, errors=None, type_=None, headers=None):
    """A Flask response with the problem document for `status`; `headers` a mapping or a list of pairs."""
    body = {"type": f"{PREFIX}/problems/{type_}" if type_ else "about:blank", "title": phrase(status), "status": status}
    if detail:
        body["detail"] = str(detail)
    if errors:
        body["errors"] = errors
    response = make_response(json.dumps(body), status)
    response.mimetype = MEDIA_TYPE
    for name, value in (headers.items() if hasattr(headers, "items") else headers or ()):
        if name.lower() not in ("content-type", "content-length"):
            response.headers[name] = value
    response.headers["Cache-Control"] = "no-store"
    return response


def status_detail(status):
    """A sentence for an error of `status` that brought no text of its own, in the reader's language."""
    return {
        400: _("The request could not be read."),
        401: _("A valid bearer token is needed."),
        403: _("You are not allowed to do this."),
        404: _("This address does not exist or is not available to you."),
        405: _("This address cannot be used with this method."),
        413: _("The request is larger than allowed."),
        415: _("This content type is not accepted here."),
        422: _("Some of the data sent does not fit; `errors` says what, field by field."),
        429: _("Too many requests. Please wait and try again."),
    }.get(status, _("The request could not be answered."))


# marshmallow's own messages (English, fixed) and what the reader gets instead: a pattern and a translation that
# takes the pattern's named groups. Messages not listed pass unchanged.
_FIELD_MESSAGES = [
    (r"Missing data for required field\.", lambda: _("This field is required.")),
    (r"Field may not be null\.", lambda: _("This field needs a value (not null).")),
    (r"Invalid value\.", lambda: _("This value is not valid.")),
    (r"Not a valid string\.", lambda: _("Please send text here.")),
    (r"Not a valid integer\.", lambda: _("Please send a whole number here.")),
    (r"Not a valid number\.", lambda: _("Please send a number here.")),
    (r"Number too large\.", lambda: _("This number is too large.")),
    (r"Not a valid boolean\.", lambda: _("Please send true or false here.")),
    (r"Not a valid date\.", lambda: _("Please send a date as YYYY-MM-DD.")),
    (r"Not a valid (aware |naive )?datetime\.", lambda: _("Please send a date and time in ISO 8601 form.")),
    (r"Not a valid list\.", lambda: _("Please send a list here.")),
    (r"Not a valid mapping type\.", lambda: _("Please send an object here.")),
    (r"Invalid (input )?type\.", lambda: _("This value has the wrong type.")),
    (r"Not a valid email address\.", lambda: _("Please send a valid e-mail address.")),
    (r"Not a valid URL\.", lambda: _("Please send a valid web address.")),
    (r"Unknown field\.", lambda: _("This field is not known here.")),
    (r"Shorter than minimum length (?P<count>\d+)\.", lambda count: _("Please send at least %(count)s characters.",
                                                                       count=count)),
    (r"Longer than maximum length (?P<count>\d+)\.", lambda count: _("Please send at most %(count)s characters.",
                                                                      count=count)),
    (r"Length must be between (?P<low>\d+) and (?P<high>\d+)\.",
     lambda low, high: _("Please send from %(low)s to %(high)s characters or items.", low=low, high=high)),
    (r"Must be one of: (?P<choices>.*)\.", lambda choices: _("Please send one of: %(choices)s.", choices=choices)),
    (r"Must be greater than or equal to (?P<low>\S+) and less than or equal to (?P<high>\S+)\.",
     lambda low, high: _("Please send a value from %(low)s to %(high)s.", low=low, high=high)),
    (r"Must be greater than or equal to (?P<low>\S+)\.", lambda low: _("Please send %(low)s or more.", low=low)),
    (r"Must be less than or equal to (?P<high>\S+)\.", lambda high: _("Please send %(high)s or less.", high=high)),
]
_FIELD_PATTERNS = [(re.compile(pattern + r"\Z"), say) for pattern, say in _FIELD_MESSAGES]


def reader_message(message):
    """marshmallow's English field message `message` in the reader's language (unknown messages unchanged)."""
    for pattern, say in _FIELD_PATTERNS:
        found = pattern.match(message)
        if found:
            return say(**found.groupdict())
    return message


def _translated(errors):
    """`errors` (marshmallow's nested {field: [messages] or {…}}) with every message in the reader's language."""
    if isinstance(errors, dict):
        return {key: _translated(value) for key, value in errors.items()}
    if isinstance(errors, list):
        return [_translated(value) for value in errors]
    return reader_message(errors) if isinstance(errors, str) else errors


def _validation_errors(error):
    """The field errors webargs attached to a 422 (or 400) from marshmallow validation, in the reader's language,
    else None."""
    data = getattr(error, "data", None) or {}
    errors = data.get("errors") or data.get("messages")
    return _translated(errors) if errors else errors


def from_exception(error):
    """The problem response for a ServiceError refusal, an HTTP error, a database too busy to answer (503) or any
    other exception (500)."""
    if isinstance(error, ServiceError):
        db.session.rollback()
        current_app.logger.info("API refused %s %s (%s): %s", request.method, request.path, type(error).__name__,
                                error.message)
        errors = {error.field: [str(error.message)]} if error.field is not None else None
        headers = {"Retry-After": str(error.retry_after)} if getattr(error, "retry_after", None) else None
        return problem_response(error.status_code, error.message, errors=errors, headers=headers,
                                type_=PROBLEM_TYPES.get(type(error).__name__))
    if isinstance(error, PoolTimeout):
        db.session.rollback()
        return problem_response(503, busy_text(), headers={"Retry-After": str(BUSY_RETRY_SECONDS)})
    if isinstance(error, HTTPException) and error.code:
        if error.code >= 500:
            db.session.rollback()
        headers = [(name, value) for name, value in error.get_headers() if name.lower() != "content-type"]
        detail = error.description if isinstance(error, ApiProblem) else status_detail(error.code)
        return problem_response(error.code, detail, errors=_validation_errors(error),
                                type_=getattr(error, "type_", None), headers=headers)
    db.session.rollback()
    return problem_response(500, _("Something went wrong on our side. Nothing was changed."))


def prefer_problems(handler):
    """Wrap an app-wide error handler: API requests get problem details, every other request `handler`'s page."""

    def answer(error):
        """Problem details under /api/v1, the page elsewhere."""
        if is_api_request():
            return from_exception(error)
        return handler(error)

    answer.__doc__ = handler.__doc__
    return answer


def problems_for_api_paths(app):
    """Make every error handler the app has registered answer API requests with problem details, and turn any
    other error answer under /api/v1 (a guard's HTML page, a plain abort) into one: call after the app's own
    handlers are registered."""
    for handlers in app.error_handler_spec[None].values():
        for cls, handler in list(handlers.items()):
            handlers[cls] = prefer_problems(handler)
    app.after_request(_problem_for_any_error)


def _problem_for_any_error(response):
    """An API error answer that is not a problem document yet (a before-request guard's page) becomes one."""
    if is_api_request() and response.status_code >= 400 and response.mimetype != MEDIA_TYPE:
        kept = [(name, value) for name, value in response.headers.items() if name.lower() in KEPT_HEADERS]
        return problem_response(response.status_code, status_detail(response.status_code), headers=kept)
    return response
