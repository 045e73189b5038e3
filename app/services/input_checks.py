"""Checks of typed input the services share: trimmed text within a length, an optional row id, a web address, an e-mail.

The administration's forms check the same with WTForms validators; these checks keep the services safe for every
other caller (the CLI, demo data, tests).
"""
from urllib.parse import urlparse

from email_validator import EmailNotValidError, validate_email
from flask_babel import gettext as _

from app.extensions import db
from app.ids import parse_id
from app.services.errors import ValidationError


def text(value, field, *, max_length, required=False, label=None):
    """`value` stripped; ValidationError on `field` when it is missing (if required) or longer than `max_length`."""
    value = (value or "").strip()
    if required and not value:
        raise ValidationError(_("Please fill in %(field)s.", field=label or field), field=field)
    if len(value) > max_length:
        raise ValidationError(
            _("%(field)s may have at most %(count)d characters.", field=label or field, count=max_length), field=field
        )
    return value


def optional_row(model, value, field, message):
    """The `model` row an optional id from a form names, None for an empty id; ValidationError(message) if unknown."""
    if value in (None, "", 0, "0"):
        return None
    number = parse_id(value)
    row = db.session.get(model, number) if number is not None else None
    if row is None:
        raise ValidationError(message, field=field)
    return row


def is_web_address(value):
    """Whether `value` is a full http(s) address with a host."""
    parsed = urlparse(value)
    return parsed.scheme in ("http", "https") and bool(parsed.netloc)


def web_address(value, field, label):
    """An optional http(s) URL, stripped (empty string when none); ValidationError on `field` otherwise."""
    value = text(value, field, max_length=500, label=label)
    if value and not is_web_address(value):
        raise ValidationError(_("Please enter a full web address starting with https://."), field=field)
    return value


def email_address(value, field, *, required=False):
    """An e-mail address, stripped (empty string when optional and none), checked by email-validator's RFC rules.

    Raises ValidationError on `field` when it is not a valid address (or missing while required).
    """
    value = text(value, field, max_length=254)
    if not value and not required:
        return value
    try:
        validate_email(value, check_deliverability=False)
    except EmailNotValidError:
        raise ValidationError(_("Please enter a valid e-mail address."), field=field) from None
    return value
