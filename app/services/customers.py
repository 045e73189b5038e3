"""Customers who own devices: companies or private persons with their contact data."""
from flask_babel import gettext as _

from app import policy
from app.enums import CustomerKind
from app.extensions import db
from app.models import Customer
from app.services.errors import ValidationError, require
from app.services.input_checks import email_address, text
from app.services.ticket_counts import ticket_count


def save_customer(customer, *, name, kind="company", contact_name="", email="", phone="", address="", actor,
                  commit=True):
    """Create (customer=None) or edit a customer. Raises ValidationError.

    With `commit=False` nothing is flushed or committed: the caller (the device import) writes many at once.
    """
    require(policy.can_manage_catalog(actor))
    name = text(name, "name", max_length=160, required=True, one_line=True)
    try:
        kind = kind if isinstance(kind, CustomerKind) else CustomerKind(kind)
    except ValueError:
        raise ValidationError(_("Please choose private or company."), field="kind") from None
    email = email_address(email, "email")
    if customer is None:
        customer = Customer()
        db.session.add(customer)
    customer.name, customer.kind, customer.email = name, kind, email
    customer.contact_name = text(contact_name, "contact_name", max_length=160)
    customer.phone = text(phone, "phone", max_length=60)
    customer.address = text(address, "address", max_length=2000)
    if commit:
        db.session.commit()
    return customer


def set_customer_archived(customer, archived, *, actor):
    """Archive or restore a customer."""
    require(policy.can_manage_catalog(actor))
    customer.archived = bool(archived)
    db.session.commit()
    return customer


def delete_customer(customer, *, actor):
    """Delete a customer without devices or tickets; otherwise archive. Returns 'deleted' or 'archived'."""
    require(policy.can_manage_catalog(actor))
    if customer.devices or ticket_count(customer_id=customer.id):
        customer.archived = True
        db.session.commit()
        return "archived"
    db.session.delete(customer)
    db.session.commit()
    return "deleted"
