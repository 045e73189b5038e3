"""Devices over the API: list (search, filters, cursor), read, create and change.

Every employee reads the devices a ticket can be made for (not archived: name, serial number, location, template
and customer), as the ticket creation page lists them; moderators and administrators read every device with all
its fields and create and change devices (app/services/devices.py, the same checks as the administration pages).
"""
import sqlalchemy as sa
from flask import url_for
from flask_babel import gettext as _
from marshmallow import Schema, fields, validate
from sqlalchemy.orm import selectinload

from app import policy
from app.blueprints.api import core
from app.blueprints.api.resources import (
    ID,
    MANAGERS_ONLY,
    catalog_view,
    change_archivable,
    gate,
    id_listing,
    row_or_404,
)
from app.blueprints.api.schemas import IdNameRef, ListArgs, cursor_page
from app.models import Device
from app.services import devices

blp = core.resource("devices", "Devices: list, search, read; create and change (moderators and administrators).")

EVERYONES_FIELDS = ("id", "name", "serial_number", "location", "template", "customer")
SAVED_FIELDS = ("template_id", "name", "customer_id", "serial_number", "location", "description")  # save_device's


class DeviceSchema(Schema):
    """A device; `description`, `archived` and `created_at` only for moderators and administrators."""

    id = fields.Integer(required=True)
    name = fields.String(required=True)
    serial_number = fields.String(required=True)
    location = fields.String(required=True)
    template = fields.Nested(IdNameRef, required=True)
    customer = fields.Nested(IdNameRef, required=True, allow_none=True)
    description = fields.String(**MANAGERS_ONLY)
    archived = fields.Boolean(**MANAGERS_ONLY)
    created_at = fields.AwareDateTime(**MANAGERS_ONLY)


DevicePageSchema = cursor_page(DeviceSchema, "One page of devices, by id.")


class DeviceListArgs(ListArgs):
    """Search and filters of the device list."""

    q = fields.String(validate=validate.Length(max=100),
                      metadata={"description": "Part of the name, serial number or location."})
    template = fields.Integer(validate=ID, metadata={"description": "Only devices of this template."})
    customer = fields.Integer(validate=ID, metadata={"description": "Only devices of this customer."})
    archived = fields.Boolean(metadata={"description": "Moderators and administrators: only archived (true) or "
                                                       "only active (false) devices. Others see active ones only."})


class DeviceInput(Schema):
    """A new device."""

    template_id = fields.Integer(required=True, validate=ID)
    name = fields.String(required=True, validate=validate.Length(min=1, max=160))
    customer_id = fields.Integer(load_default=None, allow_none=True, validate=ID)
    serial_number = fields.String(load_default="", validate=validate.Length(max=80))
    location = fields.String(load_default="", validate=validate.Length(max=160))
    description = fields.String(load_default="", validate=validate.Length(max=5000))


class DeviceChange(Schema):
    """The fields to change; those left out keep their value. `archived: true` archives (its codes stop
    working), `false` restores."""

    template_id = fields.Integer(validate=ID)
    name = fields.String(validate=validate.Length(min=1, max=160))
    customer_id = fields.Integer(allow_none=True, validate=ID)
    serial_number = fields.String(validate=validate.Length(max=80))
    location = fields.String(validate=validate.Length(max=160))
    description = fields.String(validate=validate.Length(max=5000))
    archived = fields.Boolean()


def _view(device):
    """The device as the token's employee may see it."""
    return catalog_view(device, EVERYONES_FIELDS)


def _device(device_id):
    """The device if the employee may see it, else 404."""
    return row_or_404(Device, device_id, lambda row: policy.can_view_device(core.actor(), row),
                      _("This device does not exist or is not available to you."))


@blp.get("")
@core.require_scope("read")
@blp.arguments(DeviceListArgs, location="query", as_kwargs=True)
@blp.response(200, DevicePageSchema)
@core.documented("The devices the employee may see, by id; `q` searches name, serial number and location.", 400, 422)
def list_devices(cursor=None, limit=50, q=None, template=None, customer=None, archived=None):
    query = sa.select(Device).options(selectinload(Device.template), selectinload(Device.customer))
    if not policy.can_manage_catalog(core.actor()):
        archived = False  # the devices a ticket can be made for (policy.can_view_device)
    if archived is not None:
        query = query.where(Device.archived.is_(archived))
    if q and q.strip():
        like = f"%{q.strip()}%"
        query = query.where(sa.or_(Device.name.ilike(like), Device.serial_number.ilike(like),
                                   Device.location.ilike(like)))
    if template is not None:
        query = query.where(Device.template_id == template)
    if customer is not None:
        query = query.where(Device.customer_id == customer)
    return id_listing(query, Device.id, cursor, limit, _view)


@blp.post("")
@core.require_scope("write")
@gate(policy.can_manage_catalog)
@blp.arguments(DeviceInput)
@blp.response(201, DeviceSchema, headers=core.LOCATION_HEADER)
@core.documented(
    "Create a device (moderators and administrators): its template (not archived), name and optional customer, "
    "serial number, location and description.",
    400, 413, 415, 422,
)
def create_device(data):
    device = devices.save_device(None, **data, actor=core.actor())
    return device, 201, {"Location": url_for("api_devices.get_device", device_id=device.id)}


@blp.get("/<int:device_id>")
@core.require_scope("read")
@blp.response(200, DeviceSchema)
@core.documented("One device.", 404)
def get_device(device_id):
    return _view(_device(device_id))


@blp.patch("/<int:device_id>")
@core.require_scope("write")
@gate(policy.can_manage_catalog)
@blp.arguments(DeviceChange)
@blp.response(200, DeviceSchema)
@core.documented(
    "Change a device's fields, archive or restore it (moderators and administrators).",
    400, 404, 413, 415, 422,
)
def change_device(data, device_id):
    return change_archivable(_device(device_id), data, SAVED_FIELDS, devices.save_device,
                             devices.set_device_archived)
