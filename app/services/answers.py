"""Validation and normalisation of one answer per step type: pure functions of the submitted value."""
import math
import re
from datetime import date

from babel.numbers import get_group_symbol
from flask_babel import format_decimal, get_locale
from flask_babel import gettext as _

from app.enums import Priority, StepType, Visibility
from app.services.errors import ValidationError

SHORT_LIMIT = 255
LONG_LIMIT = 20000
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
PHONE = re.compile(r"^[0-9+()/\-. ]{3,40}$")
GROUPED = re.compile(r"[+-]?\d{1,3}(?:[.,]\d{3})+")  # 1.500, 1,500, 12.345.678


def _first(raw):
    """A single submitted value as stripped text."""
    if isinstance(raw, list | tuple):
        raw = raw[0] if raw else ""
    return ("" if raw is None else str(raw)).strip()


def _values(raw):
    """Submitted values as a list of stripped texts."""
    if raw is None:
        return []
    items = raw if isinstance(raw, list | tuple) else [raw]
    return [str(item).strip() for item in items if str(item).strip()]


def parse(step, raw, attachments=(), *, required=None):
    """Return (value, text) for `raw` under `step` (an Answer or Step); raise ValidationError if it does not fit.

    `value` is what is stored as JSON (None = unanswered); `text` is the searchable, human rendering. `required`
    overrides the step's own flag (False: an empty answer is accepted, as when a person goes back a step).
    """
    required = step.required if required is None else required
    kind = step.type
    if kind == StepType.MEDIA:
        ids = [attachment.id for attachment in attachments]
        if required and not ids:
            raise ValidationError(_("Please add at least one photo, video or file."), field="value")
        names = ", ".join(attachment.original_name for attachment in attachments)
        return (ids or None), names
    if kind == StepType.REQUESTER:
        return _parse_requester(step, raw, required)
    if kind == StepType.MULTI_CHOICE:
        chosen = _values(raw)
        unknown = [value for value in chosen if value not in step.options]
        if unknown:
            raise ValidationError(_("Please choose only from the offered options."), field="value")
        if required and not chosen:
            raise ValidationError(_("Please choose at least one option."), field="value")
        ordered = [option for option in step.options if option in chosen]
        return (ordered or None), ", ".join(ordered)
    text = _first(raw)
    if not text:
        if required:
            raise ValidationError(_("This question needs an answer."), field="value")
        return None, ""
    return _PARSERS[kind](step, text)


def _short(step, text):
    """One line of text."""
    if len(text) > SHORT_LIMIT:
        raise ValidationError(_("Please keep it under %(n)s characters.", n=format_decimal(SHORT_LIMIT)), field="value")
    return text, text


def _long(step, text):
    """Free text over several lines."""
    if len(text) > LONG_LIMIT:
        raise ValidationError(_("Please keep it under %(n)s characters.", n=format_decimal(LONG_LIMIT)), field="value")
    return text, text


def _single(step, text):
    """One of the step's options."""
    if text not in step.options:
        raise ValidationError(_("Please choose one of the offered options."), field="value")
    return text, text


def _yes_no(step, text):
    """yes or no."""
    lowered = text.lower()
    if lowered not in ("yes", "no"):
        raise ValidationError(_("Please answer yes or no."), field="value")
    return lowered == "yes", _("Yes") if lowered == "yes" else _("No")


def plain_number(text):
    """`text` written the way float() reads it: spaces gone, thousands marks dropped, the decimal mark a point.

    With both marks the later one is the decimal mark (1.500,5 and 1,500.5). A mark used twice (1.000.000), or the
    reader's own thousands mark before exactly three digits (1.500 for a German reader, 1,500 for an English one),
    groups thousands; any other single mark is the decimal mark (2,5 and 2.5 in both languages). The reader's
    locale is flask_babel's get_locale() (German when there is none)."""
    compact = re.sub(r"[\s\u00a0\u202f']", "", text)
    if "." in compact and "," in compact:
        decimal = "," if compact.rfind(",") > compact.rfind(".") else "."
        return compact.replace("." if decimal == "," else ",", "").replace(decimal, ".")
    mark = "." if "." in compact else "," if "," in compact else None
    if mark is None:
        return compact
    locale = get_locale()
    grouping = get_group_symbol(locale) if locale else "."
    if compact.count(mark) > 1 or (mark == grouping and GROUPED.fullmatch(compact)):
        return compact.replace(mark, "")
    return compact.replace(mark, ".")


def _number(step, text):
    """A number, written as the reader writes numbers (see plain_number)."""
    normalised = plain_number(text)
    try:
        number = float(normalised)
    except ValueError:
        raise ValidationError(_("Please enter a number, for example 3 or 2.5."), field="value") from None
    if math.isnan(number) or abs(number) > 1e12:
        raise ValidationError(_("Please enter a number, for example 3 or 2.5."), field="value")
    value = int(number) if number.is_integer() else number
    return value, str(value)


def _date(step, text):
    """A calendar date as YYYY-MM-DD."""
    try:
        parsed = date.fromisoformat(text)
    except ValueError:
        raise ValidationError(_("Please enter a date like 2026-03-31."), field="value") from None
    return parsed.isoformat(), parsed.isoformat()


def _priority(step, text):
    """low, normal or high."""
    try:
        priority = Priority(text.lower())
    except ValueError:
        raise ValidationError(_("Please choose a priority."), field="value") from None
    return priority.value, priority.name


def _visibility(step, text):
    """internal or public."""
    try:
        visibility = Visibility(text.lower())
    except ValueError:
        raise ValidationError(_("Please choose internal or public."), field="value") from None
    return visibility.value, visibility.name


def _parse_requester(step, raw, required):
    """Name plus optional e-mail and phone, given as a mapping."""
    raw = raw if isinstance(raw, dict) else {}
    name, email, phone = (_first(raw.get(key)) for key in ("name", "email", "phone"))
    if not name:
        if required or email or phone:
            raise ValidationError(_("Please enter your name."), field="name")
        return None, ""
    if len(name) > 120:
        raise ValidationError(_("Please keep the name under 120 characters."), field="name")
    if email and not EMAIL.match(email):
        raise ValidationError(_("Please enter a valid e-mail address or leave it empty."), field="email")
    if phone and not PHONE.match(phone):
        raise ValidationError(_("Please enter a valid phone number or leave it empty."), field="phone")
    value = {"name": name, "email": email, "phone": phone}
    return value, " · ".join(part for part in (name, email, phone) if part)


_PARSERS = {
    StepType.TEXT_SHORT: _short,
    StepType.TEXT_LONG: _long,
    StepType.SINGLE_CHOICE: _single,
    StepType.YES_NO: _yes_no,
    StepType.NUMBER: _number,
    StepType.DATE: _date,
    StepType.PRIORITY: _priority,
    StepType.VISIBILITY: _visibility,
}
