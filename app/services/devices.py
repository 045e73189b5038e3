"""Devices: one machine of a template, perhaps a customer's, with a picture; codes are stuck on them."""
from flask_babel import gettext as _

from app import policy
from app.extensions import db
from app.models import Customer, Device, Template
from app.services import pictures
from app.services.errors import ValidationError, require
from app.services.input_checks import optional_row, text
from app.services.ticket_counts import ticket_count


def save_device(device, *, template_id, name, customer_id=None, serial_number="", location="", description="",
                picture=None, remove_picture=False, actor, commit=True):
    """Create (device=None) or edit a device, with an optional picture (a FileStorage). Raises ValidationError.

    With `commit=False` nothing is flushed or committed: the caller (the device import) writes many at once.
    """
    require(policy.can_manage_catalog(actor))
    template = optional_row(Template, template_id, "template_id", _("Please choose a template."))
    if template is None:
        raise ValidationError(_("Please choose a template."), field="template_id")
    if template.archived and (device is None or device.template_id != template.id):
        raise ValidationError(_("This template is archived."), field="template_id")
    customer = optional_row(Customer, customer_id, "customer_id", _("Please choose a customer."))
    name = text(name, "name", max_length=160, required=True, one_line=True)
    serial_number = text(serial_number, "serial_number", max_length=80)
    location = text(location, "location", max_length=160)
    description = text(description, "description", max_length=5000)
    picture_name = pictures.store_device_picture(picture)
    if device is None:
        device = Device()
        db.session.add(device)
    device.template, device.customer, device.name = template, customer, name
    device.serial_number, device.location, device.description = serial_number, location, description
    if picture_name or remove_picture:
        pictures.remove(device.picture_name)
        device.picture_name = picture_name
    if commit:
        db.session.commit()
    return device


def set_device_archived(device, archived, *, actor):
    """Archive (its codes stop working) or restore a device."""
    require(policy.can_manage_catalog(actor))
    device.archived = bool(archived)
    db.session.commit()
    return device


def delete_device(device, *, actor):
    """Delete a device without tickets (its codes are unpaired); otherwise archive. Returns 'deleted' or 'archived'."""
    require(policy.can_manage_catalog(actor))
    if ticket_count(device_id=device.id):
        device.archived = True
        db.session.commit()
        return "archived"
    for code in list(device.codes):
        code.device = None
    pictures.remove(device.picture_name)
    db.session.delete(device)
    db.session.commit()
    return "deleted"
