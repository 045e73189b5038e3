"""Static files under content-hashed URLs: `url_for("static", ...)` adds `?v=<hash>`, and a file asked for under
its current hash is cached by browsers for a year (RFC 8246 `immutable`), so a repeat visit costs no request.
Our own scripts and styles are sent minified (rjsmin, rcssmin): the sources stay readable, with their comments,
and a phone on a slow network receives about a quarter fewer bytes."""
import hashlib
import io
import os

import rcssmin
import rjsmin
from flask import current_app, request, send_file
from flask.sessions import SecureCookieSessionInterface
from werkzeug.security import safe_join

IMMUTABLE = "public, max-age=31536000, immutable"
HASH_DIGITS = 12
_known = {}  # (path, mtime_ns, size) -> hash; a changed file gets a new hash, so a new URL
MINIFIERS = {".js": ("text/javascript", rjsmin.jsmin), ".css": ("text/css", rcssmin.cssmin)}
_minified = {}  # (path, mtime_ns, size) -> (minified bytes, ETag); one entry per version of each of our files


def content_hash(filename):
    """The first 12 hex digits of the SHA-256 of static/`filename`, or None when there is no such file."""
    path = safe_join(current_app.static_folder, filename or "")
    if path is None or not os.path.isfile(path):
        return None
    stat = os.stat(path)
    key = (path, stat.st_mtime_ns, stat.st_size)
    if key not in _known:
        with open(path, "rb") as handle:
            _known[key] = hashlib.sha256(handle.read()).hexdigest()[:HASH_DIGITS]
    return _known[key]


def serve(filename):
    """The `static` view: our own .js and .css files minified, everything else (and `*.min.*` files, which a
    library ships minified already) as Flask sends it. Conditional and range requests work on what is sent.

    Raises NotFound (404) for a missing file, as Flask's own static view does.
    """
    path = safe_join(current_app.static_folder, filename)
    extension = os.path.splitext(filename)[1]
    if (
        not current_app.config["MINIFY_STATIC"] or extension not in MINIFIERS or ".min." in filename
        or path is None or not os.path.isfile(path)
    ):
        return current_app.send_static_file(filename)
    mimetype, minify = MINIFIERS[extension]
    stat = os.stat(path)
    key = (path, stat.st_mtime_ns, stat.st_size)
    if key not in _minified:
        for old in [known for known in _minified if known[0] == path]:
            del _minified[old]  # bounded: only the current version of each file is kept
        with open(path, encoding="utf-8") as handle:
            body = minify(handle.read()).encode()
        _minified[key] = (body, hashlib.sha256(body).hexdigest()[:16])
    body, etag = _minified[key]
    return send_file(
        io.BytesIO(body), mimetype=mimetype, etag=etag, last_modified=stat.st_mtime, conditional=True,
        max_age=None,
    )


def add_version(endpoint, values):
    """`url_defaults` hook: every URL of a static file carries its content hash as `v`."""
    if endpoint == "static" and "v" not in values:
        digest = content_hash(values.get("filename"))
        if digest:
            values["v"] = digest


def cache_static(response):
    """A static file asked for under its current hash never changes: cache it for a year; anything else revalidates."""
    if request.endpoint == "static" and response.status_code in (200, 304):
        current = content_hash((request.view_args or {}).get("filename"))
        fresh = current is not None and request.args.get("v") == current
        response.headers["Cache-Control"] = IMMUTABLE if fresh else "no-cache"
        if response.status_code == 200 and response.mimetype in current_app.config["COMPRESS_MIMETYPES"]:
            # Read our (small) text file whole: the compressor then sees a body, not a stream, and the file is
            # closed with the response instead of being left open inside a compressing generator.
            response.direct_passthrough = False
            response.make_sequence()
    return response


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session, left alone by static files.

    Flask-Login's after-request hook looks into the session on every response, and Flask then adds
    `Vary: Cookie`. On a static file that would make every browser cache entry depend on the session cookie,
    which changes as people sign in and code users arrive: a repeat visit would revalidate every file. A static
    file never reads or writes the session, so its response neither saves it nor varies on it.
    """

    def open_session(self, app, request):
        """The cookie's session, except for the API: it signs in by bearer token only, so a browser's cookie
        neither signs an API request in nor is changed by one (no CSRF through the API)."""
        if _is_api(request):
            return self.session_class()
        return super().open_session(app, request)

    def save_session(self, app, session, response):
        """Save as Flask does, except for static files (RFC 9111 §4.1: a `Vary` field splits the cache) and the API."""
        if request.endpoint == "static" or _is_api(request):
            return
        super().save_session(app, session, response)


def _is_api(request):
    """Whether a request is for the API under /api/v1 (bearer tokens, no cookie session)."""
    return request.path == "/api/v1" or request.path.startswith("/api/v1/")
