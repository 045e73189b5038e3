"""Codes (QR stickers) moderators create, label, pair with devices and protect with a PIN.

How code users get access through a code, and enabling or ending that access, is in `code_access`.
"""
import sqlalchemy as sa
from flask_babel import gettext as _

from app import policy, realtime
from app.extensions import db
from app.ids import parse_ids
from app.models import Code, Device
from app.services import code_access
from app.services.errors import ValidationError, require
from app.services.input_checks import optional_row, text

MAX_CODES_AT_ONCE = 500


def create_codes(count, *, device_id=None, label="", actor):
    """Create `count` (1..500) new codes at once, a single one optionally paired with a device; returns the list.

    Raises ValidationError.
    """
    require(policy.can_manage_catalog(actor))
    try:
        count = int(count)
    except (TypeError, ValueError):
        count = 0
    if not 1 <= count <= MAX_CODES_AT_ONCE:
        raise ValidationError(_("Please enter a number from 1 to %(max)d.", max=MAX_CODES_AT_ONCE), field="count")
    device = optional_row(Device, device_id, "device_id", _("Please choose a device."))
    if device is not None and count != 1:
        raise ValidationError(_("Only a single new code can be paired with a device."), field="device_id")
    label = text(label, "label", max_length=120)
    codes = [Code(token=code_access.new_token(), label=label, device=device) for _index in range(count)]
    db.session.add_all(codes)
    db.session.commit()
    return codes


def update_code(code, *, label, actor):
    """Change a code's label (at most 120 characters). Raises ValidationError."""
    require(policy.can_manage_catalog(actor))
    code.label = text(label, "label", max_length=120)
    db.session.commit()
    return code


def pair_code(code, device_id, *, actor):
    """Pair the code with a device (device_id empty unpairs); code users of the old device lose access at once."""
    require(policy.can_manage_catalog(actor))
    device = optional_row(Device, device_id, "device_id", _("Please choose a device."))
    if device is not None and device.archived:
        raise ValidationError(_("This device is archived."), field="device_id")
    changed = code.device_id != (device.id if device else None)
    code.device = device
    if changed:
        code.session_epoch += 1
    db.session.commit()
    if changed:
        realtime.code_access_changed(code.id)
    return code


def set_code_pin(code, pin, *, actor):
    """Set a PIN (4 to 12 digits) or remove it (empty); a new PIN logs code users out. Raises ValidationError."""
    require(policy.can_manage_catalog(actor))
    pin = (pin or "").strip()
    if pin and (not pin.isascii() or not pin.isdigit() or not 4 <= len(pin) <= 12):  # 0-9 only: "٤٧١١" is no PIN
        raise ValidationError(_("The PIN must have 4 to 12 digits."), field="pin")
    code.set_pin(pin or None)
    if pin:
        code.session_epoch += 1
    db.session.commit()
    if pin:
        realtime.code_access_changed(code.id)
    return code


def codes_by_ids(ids):
    """Codes for a list of ids (strings, ints or comma-separated strings), in list order, unknown ids skipped."""
    wanted = parse_ids([part for value in ids for part in str(value).split(",")])
    if not wanted:
        return []
    found = {c.id: c for c in db.session.scalars(sa.select(Code).where(Code.id.in_(wanted)))}
    return [found[i] for i in dict.fromkeys(wanted) if i in found]
