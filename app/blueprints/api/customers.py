"""Customers over the API: list (search, cursor), read, create and change.

Every employee reads customers' names, as the tickets overview's filter and the ticket pages show them; contact
data, kind and the archived flag are for moderators and administrators, who also create and change customers
(app/services/customers.py, the same checks as the administration pages).
"""
import sqlalchemy as sa
from flask import url_for
from flask_babel import gettext as _
from marshmallow import Schema, fields, validate

from app import policy
from app.blueprints.api import core
from app.blueprints.api.resources import (
    MANAGERS_ONLY,
    catalog_view,
    change_archivable,
    gate,
    id_listing,
    row_or_404,
)
from app.blueprints.api.schemas import ListArgs, cursor_page, enum_field
from app.enums import CustomerKind
from app.models import Customer
from app.services import customers

blp = core.resource("customers", "Customers: list, read; create and change (moderators and administrators).")

EVERYONES_FIELDS = ("id", "name")
SAVED_FIELDS = ("name", "kind", "contact_name", "email", "phone", "address")  # customers.save_customer's


class CustomerSchema(Schema):
    """A customer; everything but `id` and `name` only for moderators and administrators."""

    id = fields.Integer(required=True)
    name = fields.String(required=True)
    kind = enum_field(CustomerKind, **MANAGERS_ONLY)
    contact_name = fields.String(**MANAGERS_ONLY)
    email = fields.String(**MANAGERS_ONLY)
    phone = fields.String(**MANAGERS_ONLY)
    address = fields.String(**MANAGERS_ONLY)
    archived = fields.Boolean(**MANAGERS_ONLY)
    created_at = fields.AwareDateTime(**MANAGERS_ONLY)


CustomerPageSchema = cursor_page(CustomerSchema, "One page of customers, by id.")


class CustomerListArgs(ListArgs):
    """Search and filter of the customer list."""

    q = fields.String(validate=validate.Length(max=100), metadata={"description": "Part of the name."})
    archived = fields.Boolean(metadata={"description": "Only archived (true) or only active (false) customers."})


class CustomerInput(Schema):
    """A new customer."""

    name = fields.String(required=True, validate=validate.Length(min=1, max=160))
    kind = enum_field(CustomerKind, load_default=CustomerKind.COMPANY)
    contact_name = fields.String(load_default="", validate=validate.Length(max=160))
    email = fields.String(load_default="", validate=validate.Length(max=254))
    phone = fields.String(load_default="", validate=validate.Length(max=60))
    address = fields.String(load_default="", validate=validate.Length(max=2000))


class CustomerChange(Schema):
    """The fields to change; those left out keep their value. `archived` archives (true) or restores (false)."""

    name = fields.String(validate=validate.Length(min=1, max=160))
    kind = enum_field(CustomerKind)
    contact_name = fields.String(validate=validate.Length(max=160))
    email = fields.String(validate=validate.Length(max=254))
    phone = fields.String(validate=validate.Length(max=60))
    address = fields.String(validate=validate.Length(max=2000))
    archived = fields.Boolean()


def _view(customer):
    """The customer as the token's employee may see it."""
    return catalog_view(customer, EVERYONES_FIELDS)


def _customer(customer_id):
    """The customer (every employee may know it by name), else 404."""
    return row_or_404(Customer, customer_id, lambda row: policy.can_use_back_office(core.actor()),
                      _("This customer does not exist."))


@blp.get("")
@core.require_scope("read")
@blp.arguments(CustomerListArgs, location="query", as_kwargs=True)
@blp.response(200, CustomerPageSchema)
@core.documented("Customers by id; `q` searches their names.", 400, 422)
def list_customers(cursor=None, limit=50, q=None, archived=None):
    query = sa.select(Customer)
    if archived is not None:
        query = query.where(Customer.archived.is_(archived))
    if q and q.strip():
        query = query.where(Customer.name.ilike(f"%{q.strip()}%"))
    return id_listing(query, Customer.id, cursor, limit, _view)


@blp.post("")
@core.require_scope("write")
@gate(policy.can_manage_catalog)
@blp.arguments(CustomerInput)
@blp.response(201, CustomerSchema, headers=core.LOCATION_HEADER)
@core.documented("Create a customer (moderators and administrators).", 400, 413, 415, 422)
def create_customer(data):
    customer = customers.save_customer(None, **data, actor=core.actor())
    return customer, 201, {"Location": url_for("api_customers.get_customer", customer_id=customer.id)}


@blp.get("/<int:customer_id>")
@core.require_scope("read")
@blp.response(200, CustomerSchema)
@core.documented("One customer.", 404)
def get_customer(customer_id):
    return _view(_customer(customer_id))


@blp.patch("/<int:customer_id>")
@core.require_scope("write")
@gate(policy.can_manage_catalog)
@blp.arguments(CustomerChange)
@blp.response(200, CustomerSchema)
@core.documented(
    "Change a customer's fields, archive or restore it (moderators and administrators).",
    400, 404, 413, 415, 422,
)
def change_customer(data, customer_id):
    return change_archivable(_customer(customer_id), data, SAVED_FIELDS, customers.save_customer,
                             customers.set_customer_archived)
