"""How every refused request is answered: one handler for the services' errors, one for HTTP error pages.

Views keep no try/except for service errors. A view that shows a form says first how a refusal is answered
(`on_refusal(renderer)`); the service then raises `NotAllowed`, `NotFound`, `ConflictError`, `InvalidTransition`
`ValidationError` or `TooManyAttempts`, and `answer_refusal` rolls the session back, logs the refusal and answers
403/404/409/422/429 with the renderer's page or fragment (the form re-rendered with what was typed), or with the
message alone; a 429 says in Retry-After how many seconds to wait. A request that found every database
connection of its process busy for DATABASE_POOL_TIMEOUT_SECONDS is answered 503 "busy" by `answer_busy`.
"""
from flask import (
    current_app,
    flash,
    g,
    make_response,
    redirect,
    render_template,
    request,
)
from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException

from app.extensions import db, login_manager
from app.htmx import is_htmx
from app.services.errors import ServiceError


def on_refusal(renderer):
    """Say how this request answers a refused service call: `renderer(error)` returns a response.

    A renderer answering 200 gets the error's status (403/404/409/422); a redirect (a one-click action that
    flashes its refusal and goes back) or an HX-Redirect 204 keeps its own. Call it before the service.
    """
    g.refusal_renderer = renderer


def back_on_refusal(url, code=302):
    """Answer a refusal of a one-click action by flashing its message and redirecting to `url`; returns `url`."""

    def answer(error):
        """Flash the refusal, then go back."""
        flash(error.message, "error")
        return redirect(url, code=code)

    on_refusal(answer)
    return url


def answer_refusal(error):
    """The app-wide handler for ServiceError: roll back, log, answer with the request's renderer or the message."""
    db.session.rollback()
    current_app.logger.info(
        "refused %s %s (%s): %s", request.method, request.path, type(error).__name__, error.message
    )
    renderer = g.pop("refusal_renderer", None)
    if renderer is None:
        response = make_response(_message_page(error.status_code, _refusal_title(error), error.message))
    else:
        response = make_response(renderer(error))
        if response.status_code == 200:
            response.status_code = error.status_code
    if getattr(error, "retry_after", None):
        response.headers["Retry-After"] = str(error.retry_after)
    return response


def _refusal_title(error):
    """The heading of a refusal shown without its form."""
    return {403: _("Not allowed"), 404: _("Not found"), 409: _("Changed meanwhile"), 429: _("Too many attempts")}.get(
        error.status_code, _("Please check your input")
    )


def _message_page(status, title, text):
    """The message as a fragment for htmx, or as a page of its own."""
    if is_htmx():
        return render_template("errors/_error.html", title=title, text=text), status
    return render_template("errors/error.html", title=title, text=text, status=status), status


def upload_too_large_text():
    """What a person reads when a request is over MAX_CONTENT_LENGTH (the 413 page and the forms' error line)."""
    limit = current_app.config.get("MAX_CONTENT_LENGTH")
    if not limit:
        return _("The upload is larger than allowed.")
    return _("The upload is larger than allowed (max %(mb)s MB).", mb=format_decimal(round(limit / 1024 / 1024, 1)))


def _error_page(status, title, text):
    """A handler answering HTTP `status` with a friendly page (or just the message for htmx)."""

    def handler(error):
        """Render the error."""
        return _message_page(status, title(), text())

    return handler


BUSY_RETRY_SECONDS = 5  # what a 503 "busy" answer asks the client to wait (Retry-After, RFC 9110 §10.2.3)


def busy_text():
    """What a person reads when every database connection stayed busy: nothing was done, try again shortly."""
    return _("The server is very busy just now and did not handle this request. Please try again in a few seconds.")


def answer_busy(error):
    """503 with Retry-After for a request that waited DATABASE_POOL_TIMEOUT_SECONDS for a database connection of
    its process (app.pool_options) and got none. The request had no connection yet, so it wrote nothing. The page
    is rendered without the database, which would make it wait again: a user not loaded yet stays anonymous for it
    and times are in the default zone, not the organisation's."""
    from app import time_zones

    current_app.logger.warning("No database connection came free for %s %s", request.method, request.path)
    db.session.rollback()
    if "_login_user" not in g:
        g._login_user = login_manager.anonymous_user()
    with time_zones.force_timezone(time_zones.DEFAULT_ZONE):
        body, status = _message_page(503, _("Busy just now"), busy_text())
    response = make_response(body, status)
    response.headers["Retry-After"] = str(BUSY_RETRY_SECONDS)
    return response


CONTROL_BYTES = ("\x00",)  # no text of ours holds them, and PostgreSQL cannot store NUL in a text column


def refuse_control_bytes():
    """`before_request`: a path, query string or form field holding a NUL byte answers 400 with a message, before
    any view runs or any text reaches the database (DESIGN.md: bad input changes nothing, never a 500)."""
    values = [request.path]
    values += [value for _, items in request.args.lists() for value in items]
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        values += [value for _, items in request.form.lists() for value in items]
    if any(byte in value for value in values for byte in CONTROL_BYTES):
        return _message_page(
            400, _("Please check your input"), _("The request holds a control character (NUL) that no field may contain.")
        )
    return None


def _http_error_text(error):
    """Title and text (in the reader's language) for an HTTP error without a page of its own."""
    if isinstance(error, CSRFError):
        return _("Page expired"), _("This form has expired. Please reload the page and try again.")
    return {
        400: (_("Please check your input"), _("The request could not be read. Please reload the page and try again.")),
        401: (_("Please sign in"), _("Please sign in to open this page.")),
        405: (_("Not possible"), _("This address cannot be used this way.")),
        409: (_("Changed meanwhile"), _("Someone changed this meanwhile. Please reload the page.")),
        416: (_("Not available"), _("This part of the file is not available.")),
        422: (_("Please check your input"), _("The request could not be processed.")),
    }.get(error.code, (_("Not possible"), _("This request cannot be answered.")))


def answer_http_error(error):
    """The app-wide handler for every werkzeug HTTP error (4xx) without its own page: werkzeug's English page
    becomes ours, in the reader's language, with the same status and headers (Allow of a 405, Content-Range of a
    416). Redirects, 5xx and errors that carry a response of their own pass through unchanged."""
    if error.code is None or not 400 <= error.code < 500 or error.response is not None:
        return error
    title, text = _http_error_text(error)
    body, status = _message_page(error.code, title, text)
    response = make_response(body, status)
    for name, value in error.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value
    return response


def register(app):
    """Install the service-error handler, the NUL guard, the friendly 403/404/413/429 pages and one page for every
    other 4xx."""
    app.register_error_handler(ServiceError, answer_refusal)
    app.register_error_handler(PoolTimeout, answer_busy)
    app.before_request(refuse_control_bytes)
    app.register_error_handler(HTTPException, answer_http_error)
    app.register_error_handler(403, _error_page(403, lambda: _("Not allowed"), lambda: _("You may not open this page.")))
    app.register_error_handler(
        404, _error_page(404, lambda: _("Not found"), lambda: _("This page does not exist or is not available to you."))
    )
    app.register_error_handler(413, _error_page(413, lambda: _("File too large"), upload_too_large_text))
    app.register_error_handler(
        429,
        _error_page(429, lambda: _("Too many attempts"), lambda: _("Too many attempts. Please wait a minute and try again.")),
    )
