"""Row ids, numbers and dates from outside (URLs, query strings, forms, Socket.IO payloads), read one way.

Every table's id is a 32-bit integer on PostgreSQL (`INTEGER`, largest 2,147,483,647); a larger number can name no
row, and handed to the database it fails with an error instead of finding nothing. Digits must be ASCII 0–9:
`"²".isdigit()` is true, and `int("²")` raises.
"""
import base64
import binascii
import json
from datetime import date, timedelta

from werkzeug.exceptions import NotFound
from werkzeug.routing import IntegerConverter

MAX_ID = 2**31 - 1


def parse_id(value):
    """The positive int (1 … MAX_ID) that `value` (str, int or None) spells in ASCII digits, or None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 0 < value <= MAX_ID else None
    if not isinstance(value, str):
        return None
    text = value.strip()
    if not text or not text.isascii() or not text.isdigit() or len(text) > 10:
        return None
    number = int(text)
    return number if 0 < number <= MAX_ID else None


def parse_ids(values):
    """[int] of the valid ids among `values` (a list of str or int), in order, without repeats."""
    seen = []
    for value in values or ():
        number = parse_id(value)
        if number is not None and number not in seen:
            seen.append(number)
    return seen


def parse_date(value):
    """The date (datetime.date) that `value` spells as YYYY-MM-DD, or None for anything else.

    Only days with a day before and after them (0001-01-02 … 9999-12-30): filters compute the next day (an
    inclusive end) or the day before, which overflow for the first and last date Python knows."""
    if not isinstance(value, str) or not value:
        return None
    try:
        day = date.fromisoformat(value.strip())
    except ValueError:
        return None
    return day if date.min + timedelta(days=1) <= day <= date.max - timedelta(days=1) else None


def encode_cursor(values):
    """An opaque, URL-safe cursor (base64url of compact JSON, unpadded) for a keyset position: a list of JSON
    values, e.g. ["-activity", "2026-11-29T18:49:00+00:00", 4242]."""
    raw = json.dumps(values, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor, length):
    """The list of `length` values a cursor made by `encode_cursor` holds, or None for anything else (a cursor
    from outside may be cut, altered or made up)."""
    if not isinstance(cursor, str) or not cursor or len(cursor) > 400:
        return None
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None
    return values if isinstance(values, list) and len(values) == length else None


class IdConverter(IntegerConverter):
    """`<int:…>` in every route: ASCII digits only, at most MAX_ID; anything else is a 404 like a missing row.

    A number beyond MAX_ID is answered 404 at once: left to werkzeug's own range check it would make the router
    try the path's other rules and answer a misleading 405 for some methods."""

    regex = r"[0-9]{1,10}"

    def to_python(self, value):
        """The id as int; NotFound (404) beyond MAX_ID."""
        number = int(value)
        if number > MAX_ID:
            raise NotFound()
        return number
