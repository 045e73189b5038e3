"""Administration: catalog (moderators and admins), employees, teams and organisation (admins).

The blueprint lives here so that the view modules can register on it; `routes.py` imports them all.
"""
from functools import wraps

from flask import Blueprint, abort, request
from flask_login import current_user

from app import identity, policy

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
def require_moderator():
    """Anonymous visitors log in first; only moderators and administrators may enter."""
    return identity.require_back_office(policy.can_manage_catalog)


SEARCH_LENGTH = 100


def search_arg():
    """The list search `?q=` of the request: stripped, at most SEARCH_LENGTH characters, "" when absent."""
    return (request.args.get("q") or "").strip()[:SEARCH_LENGTH]


def searched(query, model, search):
    """`query` (a select) narrowed to rows of `model` (a SearchKeyed model) whose fields contain `search`
    (folded: app.text_folding); unchanged when `search` folds to nothing."""
    condition = model.search_condition(search)
    return query if condition is None else query.where(condition)


def admin_only(view):
    """Employees, teams and organisation settings are for administrators: refuse everyone else with 403."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        """Refuse everyone else with 403."""
        if not policy.can_manage_employees(current_user):
            abort(403)
        return view(*args, **kwargs)

    return wrapper
