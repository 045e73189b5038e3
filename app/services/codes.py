"""Codes (QR stickers) moderators create, label, pair with devices and protect with a PIN.

How code users get access through a code, and enabling or ending that access, is in `code_access`.
"""
import re

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
# A token chosen elsewhere (the stickers of an earlier system, brought in by the device import): URL-safe, and long
# enough not to be guessed by trying (new_token makes 22 characters).
CHOSEN_TOKEN = re.compile(r"[A-Za-z0-9_-]{8,64}")


def check_chosen_token(token, field="token"):
    """`token` stripped if it may be a code's token: 8–64 of A–Z a–z 0–9 _ -, not yet used. Raises ValidationError."""
    token = (token or "").strip()
    if not CHOSEN_TOKEN.fullmatch(token):
        raise ValidationError(
            _("A code token has 8 to 64 characters: letters A–Z, digits, “-” and “_”."), field=field
        )
    if db.session.scalar(sa.select(Code.id).where(Code.token == token)) is not None:
        raise ValidationError(_("The code token “%(token)s” is already used.", token=token), field=field)
    return token


def create_codes(count, *, device_id=None, label="", token=None, actor, commit=True):
    """Create `count` (1..500) new codes at once, a single one optionally paired with a device; returns the list.

    A single code may get a chosen `token` (see check_chosen_token) instead of a new unguessable one. With
    `commit=False` nothing is flushed or committed: the caller (the device import) writes many at once.
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
    if token is not None:
        if count != 1:
            raise ValidationError(_("Only a single new code can get a chosen token."), field="token")
        codes = [Code(token=check_chosen_token(token), label=label, device=device)]
    else:
        codes = [Code(token=code_access.new_token(), label=label, device=device) for _index in range(count)]
    db.session.add_all(codes)
    if commit:
        db.session.commit()
    return codes


def update_code(code, *, label, actor):
    """Change a code's label (at most 120 characters). Raises ValidationError."""
    require(policy.can_manage_catalog(actor))
    code.label = text(label, "label", max_length=120)
    db.session.commit()
    return code


def pair_code(code, device_id, *, actor, commit=True):
    """Pair the code with a device (device_id empty unpairs); code users of the old device lose access at once.

    With `commit=False` nothing is flushed or committed: the caller commits, then calls
    `realtime.code_access_changed(code.id)` itself.
    """
    require(policy.can_manage_catalog(actor))
    device = optional_row(Device, device_id, "device_id", _("Please choose a device."))
    if device is not None and device.archived:
        raise ValidationError(_("This device is archived."), field="device_id")
    changed = code.device_id != (device.id if device else None)
    code.device = device
    if changed:
        code.session_epoch += 1
    if not commit:
        return code
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
