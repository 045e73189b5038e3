"""The admin blueprint, its access guard and helpers the admin views share."""
from functools import wraps

from flask import (
    Blueprint,
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
)
from flask_login import current_user

from app import policy
from app.extensions import db, login_manager
from app.services.errors import ServiceError

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
def require_moderator():
    """Anonymous visitors log in first; only moderators and administrators may enter."""
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if not policy.can_manage_catalog(current_user):
        abort(403)
    return None


def render(page, status=200, **context):
    """A full admin page (the context may name a device `template`, so no keyword clash)."""
    return make_response(render_template(page, **context), status)


def admin_only(view):
    """Employees, teams and organisation settings are for administrators."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        """Refuse everyone else with 403."""
        if not policy.can_manage_employees(current_user):
            abort(403)
        return view(*args, **kwargs)

    return wrapper


def load(model, ident):
    """A row by id, or 404."""
    row = db.session.get(model, ident)
    if row is None:
        abort(404)
    return row


def form_page(page, status=200, error=None, values=None, **context):
    """Render a form page; a ServiceError becomes its message next to the field."""
    errors = {}
    if error is not None:
        errors[error.field or "_form"] = error.message
        status = error.status_code
    merged = dict(values or {})
    if request.method == "POST":
        merged.update({key: request.form.get(key) for key in request.form})
        for key in request.form:
            if len(request.form.getlist(key)) > 1:
                merged[key] = request.form.getlist(key)
    return render(page, status=status, errors=errors, values=merged, **context)


def act(action, back, success=None):
    """Run a one-click action; flash its outcome (or the refusal) and go `back`."""
    try:
        result = action()
    except ServiceError as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(back)
    message = success(result) if callable(success) else success
    if message:
        flash(message, "success")
    return redirect(back)


def checked(name):
    """Whether a checkbox was ticked."""
    return request.form.get(name) in ("on", "1", "true", "yes")


def direction():
    """-1 (up) or +1 (down) from the form."""
    return -1 if request.form.get("direction") == "-1" else 1
