"""Who is asking: the logged-in employee, or a code visitor known by a signed browser cookie."""
import functools
import secrets
import time

import sqlalchemy as sa
from flask import abort, current_app, flash, g, redirect, request, session, url_for
from flask_login import current_user
from flask_login.utils import login_url
from itsdangerous import BadSignature, URLSafeSerializer

from app import policy
from app.extensions import db, login_manager
from app.models import Code, CodeSession, CodeUser, Employee


class CodeVisitor:
    """A code user as the policy sees them: their row plus the devices their valid code sessions reach."""

    is_employee = False
    is_code_user = True
    role = None

    def __init__(self, code_user, device_ids):
        self.code_user = code_user
        self.id = code_user.id
        self.device_ids = frozenset(device_ids)

    def __repr__(self):
        return f"<CodeVisitor {self.id} devices={sorted(self.device_ids)}>"


LOGIN_SESSION_KEYS = ("_user_id", "_fresh", "_id", "_seen")
SEEN_RESOLUTION_SECONDS = 60  # `_seen` is rewritten at most once a minute, not on every request


def clock():
    """Seconds since the epoch (UTC); the idle timeout's only clock, so tests can move it."""
    return time.time()


def employee_for_cookie(user_id):
    """The active employee a session or remember-me cookie value "<id>:<generation>" names, or None.

    The generation must equal the employee's current `session_generation`: raising it (logout, password change,
    deactivation, role change, "sign out everywhere") refuses every cookie issued before.
    """
    employee_id, _, generation = str(user_id or "").partition(":")
    if not (employee_id.isdigit() and generation.isdigit()):
        return None
    employee = db.session.get(Employee, int(employee_id))
    if employee is None or not employee.active or employee.session_generation != int(generation):
        return None
    return employee


def init_login_manager(login_manager):
    """Load employees by id and session generation; inactive ones and outdated cookies count as logged out."""

    @login_manager.user_loader
    def load_employee(user_id):
        """Flask-Login's loader, for the session and the remember-me cookie alike."""
        return employee_for_cookie(user_id)

    @login_manager.unauthorized_handler
    def unauthorized():
        """Pages go to the login form (302, as Flask-Login does); htmx requests get 401 with HX-Redirect, so the
        whole page goes there instead of a login form inside a fragment."""
        if request.headers.get("HX-Request"):
            return "", 401, {"HX-Redirect": url_for(login_manager.login_view)}
        flash(login_manager.login_message, login_manager.login_message_category)
        return redirect(login_url(login_manager.login_view, next_url=request.url))


def expire_idle_login():
    """Before each request: a sign-in unused for SESSION_IDLE_MINUTES ends in this browser.

    Reads and writes the session's `_seen` (seconds since the epoch, via `clock()`). A browser whose employee
    chose "Stay logged in" is signed in again by its remember-me cookie (REMEMBER_COOKIE_DURATION), as long as
    the employee's session generation still matches.
    """
    if "_user_id" not in session:
        session.pop("_seen", None)
        return
    now = int(clock())
    seen = session.get("_seen")
    if isinstance(seen, int) and now - seen > current_app.config["SESSION_IDLE_MINUTES"] * 60:
        for key in LOGIN_SESSION_KEYS:
            session.pop(key, None)
        g.pop("_login_user", None)
        return
    if not isinstance(seen, int) or now - seen >= SEEN_RESOLUTION_SECONDS:
        session["_seen"] = now


# What an employee who still has to set up two-factor sign-in may reach: the set-up page and the way out.
ENROLMENT_ENDPOINTS = frozenset({
    "static", "health.healthz", "auth.logout", "auth.set_language", "account.two_factor_setup", "account.logo",
})


def send_to_two_factor_setup():
    """Before each request: an employee whose role the organisation requires to use two-factor sign-in, and who
    has not set it up, reaches nothing but the set-up page (302 there; 401 with HX-Redirect for htmx)."""
    from app.services import two_factor

    if "_user_id" not in session or request.endpoint in ENROLMENT_ENDPOINTS or not current_user.is_authenticated:
        return None
    if not policy.must_enrol_two_factor(current_user, two_factor.required_roles()):
        return None
    target = url_for("account.two_factor_setup")
    if request.headers.get("HX-Request"):
        return "", 401, {"HX-Redirect": target}
    return redirect(target)


def _serializer():
    """Signs the code-user cookie with the app secret."""
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="code-user")


def sign_code_user_key(key):
    """The cookie value for a code-user key."""
    return _serializer().dumps(key)


def read_code_user_key(cookie_value):
    """The key inside a signed cookie value, or None if it was tampered with."""
    if not cookie_value:
        return None
    try:
        return _serializer().loads(cookie_value)
    except BadSignature:
        return None


def current_code_user(create=False):
    """This browser's CodeUser row, created (with a cookie) when asked to."""
    if g.get("code_user") is not None or ("code_user" in g and not create):
        return g.code_user
    key = read_code_user_key(request.cookies.get(current_app.config["CODE_USER_COOKIE"]))
    code_user = db.session.scalar(sa.select(CodeUser).filter_by(key=key)) if key else None
    if code_user is None and create:
        code_user = CodeUser(key=secrets.token_urlsafe(32))
        db.session.add(code_user)
        db.session.flush()
        g.set_code_user_cookie = code_user.key
    g.code_user = code_user
    return code_user


def valid_codes(code_user):
    """(code id, device id) of the enabled, paired codes whose session epoch this code user still holds."""
    return db.session.execute(
        sa.select(Code.id, Code.device_id)
        .join(CodeSession, CodeSession.code_id == Code.id)
        .where(
            CodeSession.code_user_id == code_user.id,
            CodeSession.epoch == Code.session_epoch,
            Code.enabled.is_(True),
            Code.device_id.is_not(None),
        )
    ).all()


def valid_device_ids(code_user):
    """Devices this code user reaches through valid code sessions."""
    return {device_id for _, device_id in valid_codes(code_user)}


def current_code_visitor(create=False):
    """The code visitor for this request, or None."""
    if "code_visitor" in g and (g.code_visitor is not None or not create):
        return g.code_visitor
    code_user = current_code_user(create=create)
    g.code_visitor = CodeVisitor(code_user, valid_device_ids(code_user)) if code_user else None
    return g.code_visitor


def forget_code_visitor():
    """Drop the cached visitor after its sessions changed."""
    g.pop("code_visitor", None)


def current_actor():
    """The employee if logged in, else the code visitor, else None."""
    if current_user.is_authenticated:
        return current_user._get_current_object()
    return current_code_visitor()


def set_code_user_cookie(response):
    """Attach the signed cookie for a code user created during this request."""
    key = g.pop("set_code_user_cookie", None)
    if key:
        config = current_app.config
        response.set_cookie(
            config["CODE_USER_COOKIE"],
            sign_code_user_key(key),
            max_age=config["CODE_USER_COOKIE_DAYS"] * 86400,
            httponly=True,
            samesite="Lax",
            secure=config["SESSION_COOKIE_SECURE"],
        )
    return response


def require_back_office(allowed=policy.can_use_back_office):
    """Before-request guard of the staff areas: anonymous visitors log in first (302), then the policy decides.

    `allowed` is the policy function the area needs (default `can_use_back_office`). Returns the login redirect,
    or None to let the request through; aborts 403 when the policy refuses.
    """
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if not allowed(current_user):
        abort(403)
    return None


def back_office_only(view):
    """Decorate a staff view in a blueprint that also serves others: `require_back_office` before the view."""

    @functools.wraps(view)
    def guarded(*args, **kwargs):
        """Log in first, then the policy decides; then the view."""
        return require_back_office() or view(*args, **kwargs)

    return guarded
