"""Codes (QR stickers) over the API, for moderators and administrators: list, read, create in bulk, label, pair
with a device or unpair, enable or disable, set or remove the PIN, log code users out, and the QR image as PNG
or SVG.

The same services as the administration pages (app/services/codes.py, code_access.py, qr.py). A code's token
is its secret: whoever has the URL reaches the device, so codes are for catalog managers only. The SVG is sent as
a download (`Content-Disposition: attachment`) with `nosniff` and a CSP that allows nothing, so a browser never
renders it as a document of this site.
"""
import sqlalchemy as sa
from flask import Response
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from marshmallow import Schema, fields, validate
from sqlalchemy.orm import selectinload

from app import policy
from app.blueprints.api import core
from app.blueprints.api.resources import ID, fresh, gate, id_listing, row_or_404
from app.blueprints.api.schemas import IdNameRef, ListArgs, cursor_page
from app.models import Code
from app.services import code_access, codes, qr

blp = core.resource("codes", "Codes (QR stickers): list, read, create in bulk, pair, enable or disable, PIN, "
                             "QR images (moderators and administrators).")

SVG_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox",
}
IMAGE_RESPONSE = {"type": "string", "format": "binary"}


class CodeDeviceRef(IdNameRef):
    """The device a code is paired with."""


class CodeSchema(Schema):
    """A code: what its QR encodes (`url`), whether it opens its device now (`usable`)."""

    id = fields.Integer(required=True)
    token = fields.String(required=True, metadata={"description": "The secret part of the code's URL."})
    url = fields.Function(qr.code_url, required=True, metadata={"description": "What the QR code encodes."})
    label = fields.String(required=True)
    enabled = fields.Boolean(required=True)
    has_pin = fields.Boolean(required=True)
    usable = fields.Boolean(required=True, attribute="is_usable",
                            metadata={"description": "Enabled and paired with a device that is not archived."})
    device = fields.Nested(CodeDeviceRef, required=True, allow_none=True)
    created_at = fields.AwareDateTime(required=True)


CodePageSchema = cursor_page(CodeSchema, "One page of codes, by id.")


class CodeListSchema(Schema):
    """The codes just created."""

    items = fields.List(fields.Nested(CodeSchema), required=True)


class CodeListArgs(ListArgs):
    """Filters of the code list."""

    device = fields.Integer(validate=ID, metadata={"description": "Only codes paired with this device."})
    paired = fields.Boolean(metadata={"description": "Only paired (true) or only unpaired (false) codes."})


class NewCodesInput(Schema):
    """How many codes to make, with an optional label, unpaired or (a single one) paired with a device."""

    count = fields.Integer(required=True, validate=validate.Range(min=1, max=codes.MAX_CODES_AT_ONCE))
    device_id = fields.Integer(load_default=None, allow_none=True, validate=ID,
                               metadata={"description": "Pair the new code with this device (count must be 1)."})
    label = fields.String(load_default="", validate=validate.Length(max=120))


class CodeChange(Schema):
    """What to change; left out stays. `device_id: null` unpairs (code users of the old device lose access at
    once); `enabled: false` ends every code user's access through the code."""

    label = fields.String(validate=validate.Length(max=120))
    device_id = fields.Integer(allow_none=True, validate=ID)
    enabled = fields.Boolean()


class PinInput(Schema):
    """A new PIN: 4 to 12 digits. Code users must enter it; everyone using the code now is logged out."""

    pin = fields.String(required=True, validate=validate.Regexp(r"^[0-9]{4,12}$", error=_l("The PIN must have 4 to 12 "
                                                                                            "digits.")))


class QrArgs(Schema):
    """The size of the PNG."""

    box_size = fields.Integer(load_default=10, validate=validate.Range(min=1, max=40),
                              metadata={"description": "Pixels per module of the QR code."})


def _code(code_id):
    """The code, else 404 (only catalog managers reach this module's views)."""
    return row_or_404(Code, code_id, lambda row: policy.can_manage_catalog(core.actor()),
                      _("This code does not exist."))


def _change(code_id, change, *args):
    """Apply `change` (an app.services function taking the code, `args` and the actor) to the code; the code as
    now stored. 404 for an unknown code; what the service raises."""
    code = _code(code_id)
    change(code, *args, actor=core.actor())
    return fresh(Code, code.id)


@blp.get("")
@core.require_scope("read")
@gate(policy.can_manage_catalog)
@blp.arguments(CodeListArgs, location="query", as_kwargs=True)
@blp.response(200, CodePageSchema)
@core.documented("Codes by id.", 400, 422)
def list_codes(cursor=None, limit=50, device=None, paired=None):
    query = sa.select(Code).options(selectinload(Code.device))
    if device is not None:
        query = query.where(Code.device_id == device)
    if paired is not None:
        query = query.where(Code.device_id.is_not(None) if paired else Code.device_id.is_(None))
    return id_listing(query, Code.id, cursor, limit)


@blp.post("")
@core.require_scope("write")
@gate(policy.can_manage_catalog)
@blp.arguments(NewCodesInput)
@blp.response(201, CodeListSchema)
@core.documented("Create 1 to 500 codes at once, unpaired, or a single one paired with a device.", 400, 413, 415, 422)
def create_codes(data):
    created = codes.create_codes(data["count"], device_id=data["device_id"], label=data["label"], actor=core.actor())
    return {"items": created}


@blp.get("/<int:code_id>")
@core.require_scope("read")
@gate(policy.can_manage_catalog)
@blp.response(200, CodeSchema)
@core.documented("One code.", 404)
def get_code(code_id):
    return _code(code_id)


@blp.patch("/<int:code_id>")
@core.require_scope("write")
@gate(policy.can_manage_catalog)
@blp.arguments(CodeChange)
@blp.response(200, CodeSchema)
@core.documented(
    "Change the label, pair with a device or unpair (`device_id: null`), enable or disable.",
    400, 404, 413, 415, 422,
)
def change_code(data, code_id):
    code = _code(code_id)
    if "device_id" in data:  # first: the only change that can still be refused (unknown or archived device)
        codes.pair_code(code, data["device_id"], actor=core.actor())
    if "label" in data:
        codes.update_code(code, label=data["label"], actor=core.actor())
    if "enabled" in data:
        code_access.set_code_enabled(code, data["enabled"], actor=core.actor())
    return fresh(Code, code.id)


@blp.put("/<int:code_id>/pin")
@core.require_scope("write")
@gate(policy.can_manage_catalog)
@blp.arguments(PinInput)
@blp.response(200, CodeSchema)
@core.documented("Set the PIN (4 to 12 digits); code users using the code now must enter it.", 400, 404, 413, 415, 422)
def set_pin(data, code_id):
    return _change(code_id, codes.set_code_pin, data["pin"])


@blp.delete("/<int:code_id>/pin")
@core.require_scope("write")
@gate(policy.can_manage_catalog)
@blp.response(200, CodeSchema)
@core.documented("Remove the PIN: the code opens its device without one.", 404)
def remove_pin(code_id):
    return _change(code_id, codes.set_code_pin, "")


@blp.post("/<int:code_id>/logout")
@core.require_scope("write")
@gate(policy.can_manage_catalog)
@blp.response(200, CodeSchema)
@core.documented(
    "End every code user's access through this code at once (they scan again, and enter the PIN if any).",
    404,
)
def logout_code_users(code_id):
    return _change(code_id, code_access.logout_code_users)


@blp.get("/<int:code_id>/qr.png")
@core.require_scope("read")
@gate(policy.can_manage_catalog)
@blp.arguments(QrArgs, location="query", as_kwargs=True)
@blp.response(200, IMAGE_RESPONSE, content_type="image/png", description="The QR code as PNG.")
@core.documented("The code's QR image as PNG; it encodes the code's URL.", 400, 404, 422)
def qr_png(code_id, box_size=10):
    code = _code(code_id)
    response = Response(qr.png(qr.code_url(code), box_size=box_size), mimetype="image/png")
    response.headers["Content-Disposition"] = f'inline; filename="code-{code.id}.png"'
    return response


@blp.get("/<int:code_id>/qr.svg")
@core.require_scope("read")
@gate(policy.can_manage_catalog)
@blp.response(200, IMAGE_RESPONSE, content_type="image/svg+xml", description="The QR code as SVG, sent as a download.",
              headers={"Content-Disposition": {"schema": {"type": "string"},
                                               "description": 'attachment; filename="code-<id>.svg"'}})
@core.documented(
    "The code's QR image as SVG (scalable, for print shops); sent as an attachment, never shown as a page.",
    404,
)
def qr_svg(code_id):
    code = _code(code_id)
    response = Response(qr.svg(qr.code_url(code)), mimetype="image/svg+xml")
    response.headers.update({**SVG_HEADERS, "Content-Disposition": f'attachment; filename="code-{code.id}.svg"'})
    return response
