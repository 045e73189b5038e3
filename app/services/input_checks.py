"""Checks of typed input the services share: trimmed text within a length, an optional row id, a web address, an e-mail.

The administration's forms check the same with WTForms validators; these checks keep the services safe for every
other caller (the CLI, demo data, tests).
"""
import unicodedata
from urllib.parse import urlparse

from flask_babel import LazyString, format_decimal
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

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


def N_(message):
    """Mark `message` for extraction only; it is translated where it is shown (babel extracts N_ by default)."""
    return message


# Whole sentences per field, so no message glues a field's name into a sentence (German needs the article and
# case of each noun: „den Namen“, „die Frage“, „der Titel“). Keys are the field names the forms and services use;
# a field without an entry gets the sentence that needs no name, shown next to the field.
MISSING = {
    "name": N_("Please enter the name."),
    "title": N_("Please enter the title."),
    "question": N_("Please enter the question."),
    "label": N_("Please enter the label."),
    "url": N_("Please enter the web address."),
    "code": N_("Please enter the code from your app."),
    "current": N_("Please enter your current password."),
}
MISSING_HERE = N_("Please fill in this field.")
TOO_LONG = {
    "name": N_("The name may have at most %(count)s characters."),
    "title": N_("The title may have at most %(count)s characters."),
    "question": N_("The question may have at most %(count)s characters."),
    "label": N_("The label may have at most %(count)s characters."),
    "description": N_("The description may have at most %(count)s characters."),
    "help_text": N_("The help text may have at most %(count)s characters."),
    "body": N_("The text may have at most %(count)s characters."),
    "serial_number": N_("The serial number may have at most %(count)s characters."),
    "location": N_("The location may have at most %(count)s characters."),
    "contact_name": N_("The contact person's name may have at most %(count)s characters."),
    "phone": N_("The phone number may have at most %(count)s characters."),
    "address": N_("The address may have at most %(count)s characters."),
    "email": N_("The e-mail address may have at most %(count)s characters."),
    "url": N_("The web address may have at most %(count)s characters."),
    "public_base_url": N_("The public address may have at most %(count)s characters."),
    "video_base_url": N_("The video service address may have at most %(count)s characters."),
    "code": N_("The code may have at most %(count)s characters."),
}
TOO_LONG_HERE = N_("At most %(count)s characters fit into this field.")
CONTROL_CHARACTERS = {
    "name": N_("Please remove line breaks and invisible control characters from the name."),
    "url": N_("Please remove line breaks and invisible control characters from the web address."),
    "description": N_("Please remove line breaks and invisible control characters from the description."),
}
CONTROL_CHARACTERS_HERE = N_("Please remove line breaks and invisible control characters from this field.")


def missing_message(field):
    """The sentence asking to fill in `field` (a form or service field name), translated lazily."""
    return _l(MISSING.get(field, MISSING_HERE))


def too_long_message(field, count):
    """The sentence saying that `field` holds at most `count` characters (in the reader's number format:
    5.000 in German), translated lazily."""
    # The count is formatted when the message is shown: forms build their messages once, at import.
    return _l(TOO_LONG.get(field, TOO_LONG_HERE), count=LazyString(format_decimal, count))


def control_characters_message(field):
    """The refusal for text with control characters in `field`, translated lazily."""
    return _l(CONTROL_CHARACTERS.get(field, CONTROL_CHARACTERS_HERE))


def single_line(value, field):
    """`value` unchanged; ValidationError on `field` when it holds control characters (see CONTROL_CATEGORIES)."""
    if has_control_characters(value):
        raise ValidationError(str(control_characters_message(field)), field=field)
    return value


def text(value, field, *, max_length, required=False, one_line=False):
    """`value` stripped; ValidationError on `field` when it is missing (if required), longer than `max_length`
    or, with `one_line` (names that end up in e-mail subjects), holds control characters. The messages are the
    field's own sentences (MISSING, TOO_LONG, CONTROL_CHARACTERS)."""
    value = (value or "").strip()
    if required and not value:
        raise ValidationError(str(missing_message(field)), field=field)
    if len(value) > max_length:
        raise ValidationError(str(too_long_message(field, max_length)), field=field)
    if one_line:
        single_line(value, field)
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


def web_address(value, field):
    """An optional http(s) URL, stripped (empty string when none); ValidationError on `field` otherwise."""
    value = text(value, field, max_length=500)
    if value and not is_web_address(value):
        raise ValidationError(_("Please enter a full web address starting with https://."), field=field)
    return value


def email_address(value, field, *, required=False):
    """An e-mail address, stripped (empty string when optional and none), checked by email-validator's RFC rules.

    Raises ValidationError on `field` when it is not a valid address (or missing while required).
    """
    from email_validator import (  # its RFC patterns take tens of ms to compile
        EmailNotValidError,
        validate_email,
    )

    value = text(value, field, max_length=254)
    if not value and not required:
        return value
    try:
        validate_email(value, check_deliverability=False)
    except EmailNotValidError:
        raise ValidationError(_("Please enter a valid e-mail address."), field=field) from None
    return value
