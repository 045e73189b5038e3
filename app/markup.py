"""Markdown to safe HTML: full Markdown for assistant pages, a small subset for messages and updates."""
import re

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


def render_page(text):
    """Assistant element bodies and descriptions: Markdown with lists and headings, sanitized."""
    html = markdown_lib.markdown(text or "", extensions=["nl2br", "sane_lists"])
    return Markup(_clean(html, PAGE_TAGS))


def render_message(text):
    """Messages and updates: bold, italic, links, line breaks and auto-linked addresses, sanitized."""
    html = markdown_lib.markdown(_autolink(text or ""), extensions=["nl2br"])
    return Markup(_clean(html, MESSAGE_TAGS))
