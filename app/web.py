"""Request hooks: security headers, template globals and filters, error pages."""
from functools import lru_cache

from flask import current_app, g, render_template, request
from flask_babel import (
    format_date,
    format_datetime,
    format_decimal,
    get_locale,
    get_timezone,
    to_user_timezone,
)
from flask_babel import gettext as _
from flask_login import current_user

from app import identity, labels, policy
from app.htmx import add_vary, is_htmx
from app.markup import render_message, render_page
from app.models import format_number

CSP_DIRECTIVES = (
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data: blob:",
    "media-src 'self' blob:",
    "connect-src 'self' ws: wss:",
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
)
CONTENT_SECURITY_POLICY = "; ".join(CSP_DIRECTIVES)


def security_headers(response):
    """CSP without inline scripts, no sniffing, no framing, no referrer leaks."""
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", "camera=(self), microphone=(self), geolocation=()")
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    if request.endpoint != "static" and "Cache-Control" not in headers:
        headers["Cache-Control"] = "no-store"
    return response


FORMATTED_DATES_CACHED = 4096  # Timelines and overviews show the same timestamps on every refresh.


@lru_cache(maxsize=FORMATTED_DATES_CACHED)
def _formatted(kind, value, style, locale, timezone):
    """One timestamp as `kind` shows it; `locale` and `timezone` (the current ones) only key the cache."""
    if kind == "datetime":
        return format_datetime(value, style)
    if kind == "date":
        return format_date(value, style)
    return to_user_timezone(value).isoformat()


def _cached(kind, value, style):
    """The formatted timestamp for the current locale and timezone, from the cache when seen before."""
    return _formatted(kind, value, style, str(get_locale()), str(get_timezone()))


SYSTEM_STEP_TYPES = ("visibility", "device")


def question_of(answer):
    """The question as the viewer reads it: system steps speak the viewer's language."""
    if answer.type.value in SYSTEM_STEP_TYPES:
        return labels.STEP_TYPE[answer.type]
    return answer.question


def _time(value, style="short"):
    """Localised date and time in the viewer's language."""
    return _cached("datetime", value, style) if value else ""


def _date(value):
    """Localised date."""
    return _cached("date", value, "medium") if value else ""


def _iso(value):
    """Machine-readable timestamp for <time datetime>."""
    return _cached("iso", value, None) if value else ""


def upload_too_large_text():
    """What a person reads when a request is over MAX_CONTENT_LENGTH (the 413 page and the forms' error line)."""
    limit = current_app.config.get("MAX_CONTENT_LENGTH")
    if not limit:
        return _("The upload is larger than allowed.")
    return _("The upload is larger than allowed (max %(mb)s MB).", mb=format_decimal(round(limit / 1024 / 1024, 1)))


def _error_page(status, title, text):
    """Friendly error page (or just the message for htmx)."""

    def handler(error):
        """Render the error."""
        if is_htmx():
            return render_template("errors/_error.html", title=title(), text=text()), status
        return render_template("errors/error.html", title=title(), text=text(), status=status), status

    return handler


REQUEST_SCOPED_KEYS = ("_login_user", "_flask_babel", "code_user", "code_visitor", "set_code_user_cookie")


def forget_previous_request():
    """A request never sees identity or locale cached by an earlier request that shared its app context."""
    for key in REQUEST_SCOPED_KEYS:
        g.pop(key, None)


def register(app):
    """Wire hooks, globals and filters into the app."""
    app.before_request(forget_previous_request)
    app.after_request(security_headers)
    app.after_request(add_vary)
    app.after_request(identity.set_code_user_cookie)
    app.jinja_env.globals.update(policy.jinja_globals())
    app.jinja_env.globals.update(labels.jinja_globals())
    app.jinja_env.globals.update(
        current_actor=identity.current_actor,
        upload_too_large_text=upload_too_large_text,
        question_of=question_of, format_number=format_number, get_locale=get_locale
    )
    app.jinja_env.filters.update(
        markdown_page=render_page,
        markdown_message=render_message,
        datetime=_time,
        date=_date,
        iso=_iso,
        decimal=format_decimal,
    )
    app.register_error_handler(403, _error_page(403, lambda: _("Not allowed"), lambda: _("You may not open this page.")))
    app.register_error_handler(
        404, _error_page(404, lambda: _("Not found"), lambda: _("This page does not exist or is not available to you."))
    )
    app.register_error_handler(
        413, _error_page(413, lambda: _("File too large"), upload_too_large_text)
    )
    app.register_error_handler(
        429,
        _error_page(429, lambda: _("Too many attempts"), lambda: _("Too many attempts. Please wait a minute and try again.")),
    )

    @app.context_processor
    def base_context():
        """Values every template may use."""
        return {"employee": current_user if current_user.is_authenticated else None, "request_id": g.get("rid")}
