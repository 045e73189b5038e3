"""What templates may call: localised dates and numbers, Markdown, labels, policy and the current actor."""
from functools import lru_cache

from babel import Locale
from flask import g
from flask_babel import (
    format_date,
    format_datetime,
    format_decimal,
    get_locale,
    get_timezone,
    to_user_timezone,
)
from flask_login import current_user

from app import file_names, identity, labels, policy, time_zones
from app.enums import SYSTEM_STEP_TYPES
from app.markup import render_message, render_page
from app.models import format_number
from app.refusals import upload_too_large_text

FORMATTED_DATES_CACHED = 4096  # Timelines and overviews show the same timestamps on every refresh.


@lru_cache(maxsize=8)
def datetime_pattern(locale):
    """The CLDR pattern of a date with its year in full and a short time for `locale` (a Babel Locale or its
    name): "dd.MM.y, HH:mm" in German (29.11.2026, 19:49), "MMM d, y, h:mm a" in English (Nov 29, 2026, 7:49 PM).
    Babel's "short" would cut the year to two digits, its "medium" would add seconds."""
    locale = Locale.parse(locale)
    return (
        locale.datetime_formats["medium"]
        .replace("{1}", locale.date_formats["medium"].pattern)
        .replace("{0}", locale.time_formats["short"].pattern)
    )


@lru_cache(maxsize=FORMATTED_DATES_CACHED)
def _formatted(kind, value, style, locale, timezone):
    """One timestamp as `kind` shows it, in the current zone (time_zones.select_timezone); `locale` and `timezone`
    (the current ones) key the cache."""
    if kind == "datetime":
        return format_datetime(value, datetime_pattern(locale) if style == "short" else style)
    if kind == "date":
        return format_date(value, style)
    return to_user_timezone(value).isoformat()


def _cached(kind, value, style):
    """The formatted timestamp for the current locale and timezone, from the cache when seen before."""
    return _formatted(kind, value, style, str(get_locale()), str(get_timezone()))


def question_of(answer):
    """The question as the viewer reads it: system steps speak the viewer's language."""
    if answer.type in SYSTEM_STEP_TYPES:
        return labels.STEP_TYPE[answer.type]
    return answer.question


def _time(value, style="short"):
    """Localised date and time in the viewer's language and zone ("29.11.2026, 19:49" in German)."""
    return _cached("datetime", value, style) if value else ""


def _date(value):
    """Localised date."""
    return _cached("date", value, "medium") if value else ""


def _iso(value):
    """Machine-readable timestamp for <time datetime>."""
    return _cached("iso", value, None) if value else ""


def register(app):
    """Install the template globals, filters and context."""
    app.jinja_env.globals.update(policy.jinja_globals())
    app.jinja_env.globals.update(labels.jinja_globals())
    app.jinja_env.globals.update(
        current_actor=identity.current_actor,
        upload_too_large_text=upload_too_large_text,
        question_of=question_of, format_number=format_number, get_locale=get_locale,
        current_time_zone=time_zones.current_zone,
    )
    app.jinja_env.filters.update(
        markdown_page=render_page,
        markdown_message=render_message,
        datetime=_time,
        date=_date,
        iso=_iso,
        decimal=format_decimal,
        file_name=file_names.clean,
    )

    @app.context_processor
    def base_context():
        """Values every template may use."""
        return {"employee": current_user if current_user.is_authenticated else None, "request_id": g.get("rid")}
