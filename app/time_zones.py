"""Time zones: what is shown is local, what is stored stays UTC.

The organisation has a zone (`Organisation.time_zone`, default Europe/Berlin); an employee may choose their own
(`Employee.time_zone`, None: the organisation's). Code users read the organisation's zone. Flask-Babel formats every
shown time in the zone `select_timezone` picks; `force_timezone` renders for someone else (mails, pushed fragments).
Local calendar days become UTC ranges with `local_day_start` (date filters mean local days). Zone rules, daylight
saving included, come from the IANA database (zoneinfo, with the tzdata package where the system has none).
"""
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytz
from flask import g, has_app_context
from flask_login import current_user

DEFAULT_ZONE = "Europe/Berlin"
_ZONE_NAMES = tuple(pytz.common_timezones)
_ZONE_SET = frozenset(_ZONE_NAMES)


def zone_names():
    """The IANA zone names an organisation or employee may choose (pytz's common zones, sorted)."""
    return _ZONE_NAMES


def is_zone(name):
    """Whether `name` is one of `zone_names()`."""
    return name in _ZONE_SET


def organisation_zone():
    """The organisation's zone name (DEFAULT_ZONE before the settings row exists or when it holds an unknown name).

    One primary-key lookup, answered from the session's identity map after the first in a request; Flask-Babel asks
    the selector once per request, so a change shows on every process with the next request."""
    from app.models import Organisation

    org = Organisation.settings()
    return org.time_zone if org is not None and is_zone(org.time_zone) else DEFAULT_ZONE


def zone_of(person):
    """The zone name `person` reads times in: an employee's own choice, else the organisation's (code users,
    code-user receivers and nobody included)."""
    from app import policy

    own = person.time_zone if person is not None and policy.is_employee(person) else None
    return own if own and is_zone(own) else organisation_zone()


def select_timezone():
    """Flask-Babel's time zone selector: a zone forced by `force_timezone`, else the signed-in employee's, else
    the organisation's (code users and visitors)."""
    forced = g.get("forced_timezone") if has_app_context() else None
    if forced:
        return forced
    try:
        user = current_user._get_current_object() if current_user else None
    except RuntimeError:  # outside a request
        user = None
    if user is not None and getattr(user, "is_authenticated", False):
        return zone_of(user)
    return organisation_zone()


@contextmanager
def force_timezone(name):
    """Format times in zone `name` inside the block (a mail, push text or socket fragment for someone else).

    Flask-Babel caches the request's zone on its context; the cache is cleared on entry and on exit."""
    previous = g.get("forced_timezone")
    g.forced_timezone = name
    _clear_babel_zone()
    try:
        yield
    finally:
        g.forced_timezone = previous
        _clear_babel_zone()


def _clear_babel_zone():
    """Drop the zone Flask-Babel cached for this context, so the selector is asked again."""
    context = getattr(g, "_flask_babel", None)
    if context is not None and hasattr(context, "babel_tzinfo"):
        del context.babel_tzinfo


def local_day_start(day, zone_name):
    """The UTC instant (aware datetime) at which calendar `day` (a date) begins in zone `zone_name`.

    Days are not always 24 h long: on the days daylight saving begins or ends they have 23 or 25 h."""
    start = datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(zone_name))
    return start.astimezone(UTC)


def local_day_end(day, zone_name):
    """The UTC instant at which the calendar `day` after `day` begins in `zone_name` (an exclusive upper bound)."""
    return local_day_start(day + timedelta(days=1), zone_name)


def local_today(zone_name, now=None):
    """Today's date in `zone_name` (for `now`, an aware datetime, default the current time)."""
    return (now or datetime.now(UTC)).astimezone(ZoneInfo(zone_name)).date()


def current_zone():
    """The zone name the current request (or forced block) shows times in."""
    return select_timezone()


def local_days(first, last, zone_name=None):
    """(start, end) UTC instants covering the local calendar days `first` to `last` (dates, both included, either
    None for open) in `zone_name` (default: the current zone); `end` is exclusive. Date filters mean local days."""
    zone_name = zone_name or current_zone()
    start = local_day_start(first, zone_name) if first else None
    end = local_day_end(last, zone_name) if last else None
    return start, end


def staff_zones():
    """The zone names employees read times in: the organisation's and each active employee's own choice (one
    query; a handful of names)."""
    import sqlalchemy as sa

    from app.extensions import db
    from app.models import Employee

    chosen = db.session.scalars(
        sa.select(Employee.time_zone).where(Employee.time_zone.is_not(None), Employee.active.is_(True)).distinct()
    )
    return sorted({organisation_zone(), *(name for name in chosen if is_zone(name))})
