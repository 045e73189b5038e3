"""What templates may call: localised dates and numbers, Markdown, labels, policy and the current actor."""
import os
from functools import lru_cache

from babel import Locale
from babel import numbers as babel_numbers
from flask import g
from flask_babel import (
    format_date,
    format_datetime,
    format_decimal,
    get_locale,
    get_timezone,
    get_translations,
    to_user_timezone,
)
from flask_login import current_user
from jinja2 import pass_context
from markupsafe import Markup

from app import file_names, identity, labels, policy, time_zones
from app.enums import SYSTEM_STEP_TYPES
from app.markup import render_message, render_page
from app.models import format_number
from app.refusals import upload_too_large_text

FORMATTED_DATES_CACHED = 4096  # Timelines and overviews show the same timestamps on every refresh.
FORMATTED_NUMBERS_CACHED = 1024  # Counts in tabs and summaries: small numbers, over and over.
READER = "_reader"  # the template context key of (locale name, zone name)


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


def _reader():
    """(locale name, zone name) of the current request or forced block, as Flask-Babel formats for them."""
    return str(get_locale()), str(get_timezone())


def _cached(kind, value, style, reader=None):
    """The formatted timestamp for `reader` (default: the current locale and zone), from the cache when seen
    before."""
    return _formatted(kind, value, style, *(reader or _reader()))


@lru_cache(maxsize=FORMATTED_NUMBERS_CACHED)
def _formatted_number(kind, number, locale):
    """`number` in `locale`'s decimal format; `kind` (its type) keeps 1, 1.0 and True apart in the cache."""
    return babel_numbers.format_decimal(number, locale=locale)


def template_context():
    """Per-render values for the filters and gettext below: the reader's locale and zone, and gettext functions
    bound to the reader's catalog. Each is looked up once per page instead of once per translated string or
    formatted time (each lookup goes through Flask-Babel's request context). A template that gets no such context
    (an import without context) falls back to the environment's functions, which look them up per call."""
    translations = get_translations()
    return {
        READER: _reader(),
        "gettext": _bound_gettext(translations.ugettext),
        "ngettext": _bound_ngettext(translations.ungettext),
        "pgettext": _bound_pgettext(translations.upgettext),
        "npgettext": _bound_npgettext(translations.unpgettext),
    }


def _bound_gettext(translate):
    """Jinja's new-style gettext (autoescaped, always %-formatted) over one catalog's `ugettext`."""

    @pass_context
    def gettext(context, string, /, **variables):
        """Translate `string` and fill in `variables`."""
        text = translate(string)
        return (Markup(text) if context.eval_ctx.autoescape else text) % variables

    return gettext


def _bound_ngettext(translate):
    """Jinja's new-style ngettext over one catalog's `ungettext`; `num` is available to the text. Parameters are
    positional-only, as in Jinja's own, so `num` or `context` may also come among `variables`."""

    @pass_context
    def ngettext(context, singular, plural, num, /, **variables):
        """The singular or plural form for `num`, with `variables` filled in."""
        variables.setdefault("num", num)
        text = translate(singular, plural, num)
        return (Markup(text) if context.eval_ctx.autoescape else text) % variables

    return ngettext


def _bound_pgettext(translate):
    """Jinja's new-style pgettext over one catalog's `upgettext`."""

    @pass_context
    def pgettext(context, message_context, string, /, **variables):
        """Translate `string` in `message_context` and fill in `variables`."""
        variables.setdefault("context", message_context)
        text = translate(message_context, string)
        return (Markup(text) if context.eval_ctx.autoescape else text) % variables

    return pgettext


def _bound_npgettext(translate):
    """Jinja's new-style npgettext over one catalog's `unpgettext`."""

    @pass_context
    def npgettext(context, message_context, singular, plural, num, /, **variables):
        """The form for `num` of a text in `message_context`, with `variables` filled in."""
        variables.setdefault("context", message_context)
        variables.setdefault("num", num)
        text = translate(message_context, singular, plural, num)
        return (Markup(text) if context.eval_ctx.autoescape else text) % variables

    return npgettext


def question_of(answer):
    """The question as the viewer reads it: system steps speak the viewer's language."""
    if answer.type in SYSTEM_STEP_TYPES:
        return labels.STEP_TYPE[answer.type]
    return answer.question


@pass_context
def _time(context, value, style="short"):
    """Localised date and time in the viewer's language and zone ("29.11.2026, 19:49" in German)."""
    return _cached("datetime", value, style, context.get(READER)) if value else ""


@pass_context
def _date(context, value):
    """Localised date."""
    return _cached("date", value, "medium", context.get(READER)) if value else ""


@pass_context
def _iso(context, value):
    """Machine-readable timestamp for <time datetime>."""
    return _cached("iso", value, None, context.get(READER)) if value else ""


@pass_context
def _decimal(context, number, format=None):
    """A number in the reader's decimal format ("1.500" in German); plain numbers from a cache."""
    reader = context.get(READER)
    if format is not None or reader is None:
        return format_decimal(number, format)
    try:
        return _formatted_number(type(number), number, reader[0])
    except TypeError:  # not hashable
        return format_decimal(number)


def register(app):
    """Install the template globals, filters, context and the compiled-template cache."""
    _cache_compiled_templates(app)
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
        decimal=_decimal,
        file_name=file_names.clean,
    )

    @app.context_processor
    def base_context():
        """Values every template may use."""
        return {
            "employee": current_user if current_user.is_authenticated else None,
            "request_id": g.get("rid"),
            **template_context(),
        }


def _cache_compiled_templates(app):
    """Keep each template's compiled code in TEMPLATE_CACHE_FOLDER (default instance/template-cache), so a
    restarted process loads it instead of compiling the template again: the first /login after a start takes
    about 25 instead of 50–80 ms, and every other page's first answer gains likewise.

    Jinja's own FileSystemBytecodeCache: each file is keyed by the template's name and a SHA-1 of its source, and
    holds Jinja's and Python's version, so a changed template or an upgrade never loads stale code. Files are
    written to a temporary name and renamed, so processes sharing the folder never read half a file. The folder
    is the app's own (like the instance folder): code is loaded from it. An empty TEMPLATE_CACHE_FOLDER turns the
    cache off."""
    from jinja2 import FileSystemBytecodeCache

    folder = app.config.get("TEMPLATE_CACHE_FOLDER")
    if folder is None:
        folder = os.path.join(app.instance_path, "template-cache")
    if not folder:
        return
    os.makedirs(folder, mode=0o700, exist_ok=True)
    app.jinja_env.bytecode_cache = FileSystemBytecodeCache(folder)
