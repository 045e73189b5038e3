"""Markdown to safe HTML: full Markdown for assistant pages, a small subset for messages and updates."""
import re
import threading
from functools import lru_cache

import markdown as markdown_lib
import nh3
from markupsafe import Markup

PAGE_TAGS = {"p", "br", "strong", "em", "b", "i", "a", "ul", "ol", "li", "h2", "h3", "h4", "blockquote", "code", "pre", "hr"}
MESSAGE_TAGS = {"p", "br", "strong", "em", "b", "i", "a"}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}}
URL_SCHEMES = {"http", "https", "mailto", "tel"}

_BARE_LINK = re.compile(
    r"(?<![<(\[\w/@.:])((?:https?://|www\.)[^\s<>()\[\]]+[^\s<>()\[\].,;:!?'\"]|[\w.+-]+@[\w-]+(?:\.[\w-]+)+)"
)


def _autolink(text):
    """Wrap bare URLs and e-mail addresses in Markdown autolink brackets."""

    def wrap(match):
        target = match.group(1)
        if target.startswith("www."):
            return f"[{target}](https://{target})"
        return f"<{target}>"

    return _BARE_LINK.sub(wrap, text)


def _clean(html, tags):
    """Sanitize with nh3: only `tags`, safe link schemes, links open safely."""
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
# Rendered short texts kept per kind (a few MB at most): a long thread shows the same bodies on every refresh.
RENDERED_CACHE_SIZE = 1024
CACHED_TEXT_LENGTH = 2000

_converters = threading.local()


def _convert(text, extensions):
    """Markdown to HTML with this thread's converter for `extensions` (building one compiles many patterns)."""
    converters = _converters.__dict__
    converter = converters.get(extensions)
    if converter is None:
        converter = converters[extensions] = markdown_lib.Markdown(extensions=list(extensions))
    try:
        return converter.convert(text)
    finally:
        converter.reset()


def _page_html(text):
    """Sanitized HTML of one assistant text."""
    return _clean(_convert(text, PAGE_EXTENSIONS), PAGE_TAGS)


def _message_html(text):
    """Sanitized HTML of one message or update body."""
    return _clean(_convert(_autolink(text), MESSAGE_EXTENSIONS), MESSAGE_TAGS)


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
