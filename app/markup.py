"""Markdown to safe HTML: full Markdown for assistant pages, a small subset for messages and updates.

What people type is text: raw HTML and character references in the source are shown as typed, never
interpreted. Only Markdown syntax becomes markup, and nh3 sanitizes the result as a second line of defence.

Python-Markdown and nh3 are imported when the first text is rendered (the login page and the API never need them);
our syntax changes live in app/markdown_syntax.py.
"""
import re
import threading
from functools import lru_cache

from markupsafe import Markup

PAGE_TAGS = {"p", "br", "strong", "em", "b", "i", "a", "ul", "ol", "li", "h2", "h3", "h4", "blockquote", "code", "pre", "hr"}
MESSAGE_TAGS = {"p", "br", "strong", "em", "b", "i", "a"}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}}
URL_SCHEMES = {"http", "https", "mailto", "tel"}

_BARE_LINK = re.compile(
    r"(?<![<(\[\w/@.:])((?:https?://|www\.)[^\s<>()\[\]]+[^\s<>()\[\].,;:!?'\"*]|[\w.+-]+@[\w-]+(?:\.[\w-]+)+)"
)
_LINK_TEXT_MARKS = re.compile(r"([\\`*_\[\]])")


def _markdown_link(text, href):
    """A Markdown link that shows `text` as typed and keeps `&` in `href` a plain ampersand."""
    shown = _LINK_TEXT_MARKS.sub(r"\\\1", text)
    return f"[{shown}]({href.replace('&', '&amp;')})"


def _autolink(text):
    """Turn bare URLs and e-mail addresses into Markdown links."""

    def wrap(match):
        target = match.group(1)
        if target.startswith("www."):
            return _markdown_link(target, f"https://{target}")
        if "://" in target:
            return _markdown_link(target, target)
        return _markdown_link(target, f"mailto:{target}")

    return _BARE_LINK.sub(wrap, text)


def _clean(html, tags):
    """Sanitize with nh3: only `tags`, safe link schemes, links open safely."""
    import nh3

    return nh3.clean(
        html,
        tags=tags,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )


PAGE_EXTENSIONS = ("nl2br", "sane_lists")
MESSAGE_EXTENSIONS = ("nl2br",)
# Rendered short texts kept per kind: a thread shows the same bodies on every refresh. Bounded in entries and in
# the length of a kept text: 512 texts of 1,000 characters hold about 1.5 MiB per kind (tracemalloc; up to four
# times that for texts in 4-byte characters). Longer texts are rendered each time.
RENDERED_CACHE_SIZE = 512
CACHED_TEXT_LENGTH = 1000

_converters = threading.local()


def _build_converter(kind):
    """A Markdown converter for "page" or "message" texts."""
    import markdown as markdown_lib

    from app.markdown_syntax import MessageSubset, TypedText

    if kind == "page":
        return markdown_lib.Markdown(extensions=[*PAGE_EXTENSIONS, TypedText()])
    return markdown_lib.Markdown(extensions=[*MESSAGE_EXTENSIONS, TypedText(), MessageSubset()])


def _convert(text, kind):
    """Markdown to HTML with this thread's converter for `kind` (building one compiles many patterns)."""
    converters = _converters.__dict__
    converter = converters.get(kind)
    if converter is None:
        converter = converters[kind] = _build_converter(kind)
    try:
        return converter.convert(text)
    finally:
        converter.reset()


def _page_html(text):
    """Sanitized HTML of one assistant text."""
    return _clean(_convert(text, "page"), PAGE_TAGS)


def _message_html(text):
    """Sanitized HTML of one message or update body."""
    return _clean(_convert(_autolink(text), "message"), MESSAGE_TAGS)


_cached_page_html = lru_cache(maxsize=RENDERED_CACHE_SIZE)(_page_html)
_cached_message_html = lru_cache(maxsize=RENDERED_CACHE_SIZE)(_message_html)


def render_page(text):
    """Assistant element bodies and descriptions: Markdown with lists and headings, sanitized."""
    text = text or ""
    return Markup(_cached_page_html(text) if len(text) <= CACHED_TEXT_LENGTH else _page_html(text))


def render_message(text):
    """Messages and updates: bold, italic, links, line breaks and auto-linked addresses, sanitized."""
    text = text or ""
    return Markup(_cached_message_html(text) if len(text) <= CACHED_TEXT_LENGTH else _message_html(text))
