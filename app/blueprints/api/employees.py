"""Employees over the API, read only: list and read.

Every employee reads the active employees' names, as the tickets overview's "responsible" filter lists them.
Administrators with a token holding the `admin` scope read every employee with e-mail, role, language and the
active flag, as the administration pages show them. No password hash, two-factor secret or recovery code is ever
part of an answer. Employees are managed on the administration pages.
"""
import sqlalchemy as sa
from flask import g
from flask_babel import gettext as _
from marshmallow import Schema, fields, validate

from app import policy
from app.blueprints.api import core
from app.blueprints.api.resources import id_listing, only, row_or_404
from app.blueprints.api.schemas import ListArgs, cursor_page, enum_field
from app.enums import Role
from app.models import Employee

blp = core.resource("employees", "Employees: list and read (names for everyone; the full record for "
                                 "administrators with the admin scope).")

EVERYONES_FIELDS = ("id", "name")
ADMINS_ONLY = {"metadata": {"description": "Administrators with the admin scope only."}}


class EmployeeSchema(Schema):
    """An employee; everything but `id` and `name` only for administrators with the admin scope."""

    id = fields.Integer(required=True)
    name = fields.String(required=True)
    email = fields.String(**ADMINS_ONLY)
    role = enum_field(Role, **ADMINS_ONLY)
    language = fields.String(**ADMINS_ONLY)
    active = fields.Boolean(**ADMINS_ONLY)
    created_at = fields.AwareDateTime(**ADMINS_ONLY)


EmployeePageSchema = cursor_page(EmployeeSchema, "One page of employees, by id.")


class EmployeeListArgs(ListArgs):
    """Search and filter of the employee list."""

    q = fields.String(validate=validate.Length(max=100),
                      metadata={"description": "Part of the name (administrators: or of the e-mail address)."})
    active = fields.Boolean(metadata={"description": "Administrators with the admin scope: only active (true) or "
                                                     "deactivated (false) employees. Others see active ones only."})


def _full_records():
    """Whether this request reads whole employee records: an administrator's token with the admin scope."""
    return policy.can_manage_employees(core.actor()) and "admin" in g.api_scopes


def _view(employee):
    """The employee as the token may show them."""
    return employee if _full_records() else only(employee, EVERYONES_FIELDS)


@blp.get("")
@core.require_scope("read")
@blp.arguments(EmployeeListArgs, location="query", as_kwargs=True)
@blp.response(200, EmployeePageSchema)
@core.documented("The employees the token may show, by id.", 400, 422)
def list_employees(cursor=None, limit=50, q=None, active=None):
    query = sa.select(Employee)
    full = _full_records()
    if not full:
        active = True  # names of active employees (policy.can_view_employee)
    if active is not None:
        query = query.where(Employee.active.is_(active))
    if q and q.strip():
        like = f"%{q.strip()}%"
        query = query.where(sa.or_(Employee.name.ilike(like), Employee.email.ilike(like)) if full
                            else Employee.name.ilike(like))
    return id_listing(query, Employee.id, cursor, limit, _view)


@blp.get("/<int:employee_id>")
@core.require_scope("read")
@blp.response(200, EmployeeSchema)
@core.documented("One employee.", 404)
def get_employee(employee_id):
    full = _full_records()
    employee = row_or_404(Employee, employee_id,
                          lambda row: policy.can_view_employee(core.actor(), row) and (full or row.active),
                          _("This employee does not exist or is not available to you."))
    return _view(employee)
