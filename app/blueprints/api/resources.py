"""What the catalog resources (devices, customers, codes, templates, flows, employees) and offers share: a policy
gate that answers before any input is read, id-keyset pages, role-limited views of a row, and a 404 for a row the
employee may not see.

A role-limited view: a schema lists every field; fields only some employees may see are optional in it, and for
everyone else the view hands the schema a dict of the visible fields alone (`only(row, fields)`), so the JSON
never carries the others, not even as null.
"""
import functools

from marshmallow import validate

from app import policy
from app.blueprints.api import core
from app.blueprints.api.problems import ApiProblem
from app.extensions import db
from app.ids import MAX_ID
from app.services.errors import require

ID = validate.Range(min=1, max=MAX_ID)  # every table's id fits PostgreSQL's INTEGER (app/ids.py)
MANAGERS_ONLY = {"metadata": {"description": "Moderators and administrators only."}}  # a role-limited field


def gate(check):
    """Decorate an API view: refuse with 403 (problem details) unless `check(actor)` (a policy function) allows
    the token's employee; runs before the body or the query string is read, so a refused caller learns nothing
    about the input rules."""

    def decorator(view):
        """Check the policy before the view runs."""

        @functools.wraps(view)
        def checked(*args, **kwargs):
            """403 unless the policy allows, else the view."""
            require(check(core.actor()))
            return view(*args, **kwargs)

        return checked

    return decorator


def id_page(query, column, cursor, limit):
    """One page of `query` in ascending `column` (an id column) order after the `cursor`: (rows, next_cursor), the
    cursor None on the last page."""
    start = core.after_id(cursor, MAX_ID)
    if start is not None:
        query = query.where(column > start)
    return core.id_cursor_page(db.session.scalars(query.order_by(column).limit(limit + 1)).all(), limit)


def id_listing(query, column, cursor, limit, view=None):
    """The answer of an id-keyset list: {"items": [view(row), ...], "next_cursor": str | None} for one page of
    `query` (see id_page); `view` (default: the row itself) is what the employee may see of a row."""
    rows, next_cursor = id_page(query, column, cursor, limit)
    return {"items": [view(row) for row in rows] if view else rows, "next_cursor": next_cursor}


def only(row, names):
    """The attributes `names` of `row` as a dict: what a schema dumps for an employee who may see just those."""
    return {name: getattr(row, name) for name in names}


def catalog_view(row, everyones_fields):
    """`row` whole for moderators and administrators (policy.can_manage_catalog), else only its
    `everyones_fields` (see `only`)."""
    return row if policy.can_manage_catalog(core.actor()) else only(row, everyones_fields)


def fresh(model, row_id):
    """The `model` row as now stored: the services commit, and relationships may have moved."""
    return db.session.get(model, row_id, populate_existing=True)


def change_archivable(row, data, names, save, set_archived):
    """Apply a PATCH body `data` to an archivable catalog row: the fields in it go through
    `save(row, **fields, actor=...)` with the fields `names` left out keeping their value, then `archived`
    (if given) through `set_archived(row, archived, actor=...)`; the row as now stored (`fresh`). Raises what the
    services raise."""
    archived = data.pop("archived", None)
    if data:
        save(row, **{**only(row, names), **data}, actor=core.actor())
    if archived is not None:
        set_archived(row, archived, actor=core.actor())
    return fresh(type(row), row.id)


def not_found(message):
    """The 404 problem for a row that does not exist or that the employee may not see (the same answer)."""
    return ApiProblem(404, message, type_="not-found")


def row_or_404(model, row_id, visible, message):
    """The `model` row with `row_id` when `visible(row)` (a policy check) allows it, else the 404 problem."""
    row = db.session.get(model, row_id)
    if row is None or not visible(row):
        raise not_found(message)
    return row
