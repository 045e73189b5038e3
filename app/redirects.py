"""Redirects that stay on this site: the one check for every `next` parameter and every referrer.

A browser that reads a `Location` header drops tabs and line breaks, treats a backslash like a slash and turns
`//host` into another site (WHATWG URL standard, "special" schemes); some tools also fold Unicode look-alikes of
a slash (U+FF0F, U+2215) into one. So a target is accepted only as a path of this site: printable ASCII without
backslashes, starting with exactly one slash, no scheme and no host, also once percent-decoded. Our own links
are ASCII already (browsers and Flask-Login send paths percent-encoded). Anything else gives the fallback.
"""
from urllib.parse import unquote, urlsplit

from flask import request

_PRINTABLE_ASCII = frozenset(chr(code) for code in range(0x21, 0x7F))


def _starts_like_a_host(path):
    """Whether a browser could read `path` as `//host`: a second slash or backslash right after the first."""
    return path[1:2] in ("/", "\\")


def safe_next(target, fallback):
    """`target` when it is a same-site path (e.g. "/tickets/7?tab=chat"), else `fallback` (returned as given).

    Refused: anything but printable ASCII (control characters, spaces, Unicode slashes), backslashes, "//" or
    "/%2F" at the start, schemes (https:, javascript:) and hosts; a target that is not a string. Never raises.
    """
    if not isinstance(target, str) or not target.startswith("/") or _starts_like_a_host(target):
        return fallback
    if not set(target) <= _PRINTABLE_ASCII or "\\" in target:
        return fallback
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return fallback
    decoded = unquote(parts.path)
    if _starts_like_a_host(decoded) or not set(decoded[:2]) <= _PRINTABLE_ASCII:
        return fallback
    return target


def referrer_path():
    """The path and query of the Referer header when it names this site (same scheme and host), else None."""
    referrer = request.referrer
    if not referrer:
        return None
    parts = urlsplit(referrer)
    here = urlsplit(request.host_url)
    if (parts.scheme, parts.netloc) != (here.scheme, here.netloc):
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")
