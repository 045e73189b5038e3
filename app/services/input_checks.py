"""Checks of typed input the services share: trimmed text within a length, an optional row id, a web address, an e-mail.

The administration's forms check the same with WTForms validators; these checks keep the services safe for every
other caller (the CLI, demo data, tests).
"""
import unicodedata
from urllib.parse import urlparse

from email_validator import EmailNotValidError, validate_email
from flask_babel import gettext as _

from app.extensions import db
from app.ids import parse_id
from app.services.errors import ValidationError

# Unicode categories that have no place in one line of text: Cc (controls: line breaks, tab, NUL), Cf (format:
# direction controls such as U+202E, zero-width characters, the byte-order mark), Zl and Zp (line and paragraph
# separators). Names in e-mail headers must hold none of them (RFC 5322 forbids bare CR/LF in a header).
CONTROL_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp"})


def has_control_characters(value):
    """Whether `value` holds a character of CONTROL_CATEGORIES (line breaks, NUL, Unicode direction controls)."""
    return any(unicodedata.category(character) in CONTROL_CATEGORIES for character in value or "")


def control_characters_message(label):
    """The refusal for text with control characters, naming the field's `label`."""
    return _("Please remove line breaks and invisible control characters from %(field)s.", field=label)


def single_line(value, field, *, label=None):
    """`value` unchanged; ValidationError on `field` when it holds control characters (see CONTROL_CATEGORIES)."""
    if has_control_characters(value):
        raise ValidationError(control_characters_message(label or field), field=field)
    return value


def text(value, field, *, max_length, required=False, label=None, one_line=False):
    """`value` stripped; ValidationError on `field` when it is missing (if required), longer than `max_length`
    or, with `one_line` (names that end up in e-mail subjects), holds control characters."""
    value = (value or "").strip()
    if required and not value:
        raise ValidationError(_("Please fill in %(field)s.", field=label or field), field=field)
    if len(value) > max_length:
        raise ValidationError(
            _("%(field)s may have at most %(count)d characters.", field=label or field, count=max_length), field=field
        )
    if one_line:
        single_line(value, field, label=label)
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
