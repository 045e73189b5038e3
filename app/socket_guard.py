"""Guards of the Socket.IO channel: same-origin handshakes, open sockets per address, events per socket.

The counters live in this process, one set per app (`app.extensions["socket_guard"]`): every app process runs
its own sockets (sticky sessions), so a client that reaches several processes gets each budget once per process.
"""
import functools
import threading
import time
from urllib.parse import urlsplit

from flask import current_app, request
from flask_socketio import disconnect

from app.extensions import db


class _Counters:
    """The open sockets per address and the event budget per socket of one app."""

    def __init__(self):
        self.lock = threading.Lock()
        self.buckets = {}  # sid -> _Bucket
        self.sockets_by_address = {}  # client address -> set of sids


def init_app(app):
    """Give the app its own counters."""
    app.extensions["socket_guard"] = _Counters()


def _counters():
    """This app's counters."""
    return current_app.extensions["socket_guard"]


class _Bucket:
    """A token bucket: `capacity` events at once, refilled evenly over `window` seconds; refusals counted."""

    __slots__ = ("refusals", "tokens", "updated")

    def __init__(self, capacity, now):
        self.tokens = float(capacity)
        self.updated = now
        self.refusals = 0


def _origin_of(url):
    """'scheme://host[:port]' of a URL, lower-cased; None when it has no host."""
    parts = urlsplit(url or "")
    if not parts.scheme or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}".lower()


def allowed_origins(app):
    """Origins named in the config that may open sockets: PUBLIC_BASE_URL's and any in SOCKETIO_CORS_ORIGINS."""
    origins = set()
    public = _origin_of(app.config.get("PUBLIC_BASE_URL"))
    if public:
        origins.add(public)
    extra = app.config.get("SOCKETIO_CORS_ORIGINS") or []
    origins.update(origin.lower().rstrip("/") for origin in ([extra] if isinstance(extra, str) else extra))
    return origins


def origin_allowed(app, origin, environ):
    """Whether a handshake with this Origin header may open a socket.

    Allowed: no Origin at all (not a browser; a login or code cookie is still needed), a page of the host the
    request was sent to (its Host header, as ProxyFix passes it on; http or https, because a TLS proxy that
    is not yet trusted makes the app see http), and the origins of `allowed_origins`.
    """
    if origin is None:
        return True
    parts = urlsplit(origin.lower())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return False
    host = (environ.get("HTTP_HOST") or "").lower()
    return parts.netloc == host or f"{parts.scheme}://{parts.netloc}" in allowed_origins(app)


def origin_check(app):
    """The `cors_allowed_origins` callable for python-engineio: `check(origin, environ) -> bool`."""

    def check(origin, environ):
        """Whether a handshake from `origin` may open a socket (`origin_allowed`)."""
        return origin_allowed(app, origin, environ)

    return check


def handshake_origin_allowed():
    """Inside the connect handler: the same check again (test clients and custom servers skip engineio's)."""
    return origin_allowed(current_app, request.headers.get("Origin"), request.environ)


def client_address():
    """The client's address as the trusted proxies tell it (ProxyFix), else the peer's."""
    return request.remote_addr or "unknown"


def admit_connection(sid):
    """Count a new socket of this address; False (and nothing counted) past SOCKET_CONNECTIONS_PER_ADDRESS."""
    limit = int(current_app.config["SOCKET_CONNECTIONS_PER_ADDRESS"])
    address = client_address()
    counters = _counters()
    with counters.lock:
        open_sids = counters.sockets_by_address.setdefault(address, set())
        if len(open_sids) >= limit and sid not in open_sids:
            if not open_sids:
                del counters.sockets_by_address[address]
            return False
        open_sids.add(sid)
        counters.buckets[sid] = _Bucket(current_app.config["SOCKET_EVENT_LIMIT"], time.monotonic())
    return True


def forget_connection(sid, address):
    """A socket closed: its address slot and its event budget are free again."""
    counters = _counters()
    with counters.lock:
        counters.buckets.pop(sid, None)
        open_sids = counters.sockets_by_address.get(address)
        if open_sids is not None:
            open_sids.discard(sid)
            if not open_sids:
                del counters.sockets_by_address[address]


def open_sockets(address):
    """How many sockets this process holds open for `address`."""
    counters = _counters()
    with counters.lock:
        return len(counters.sockets_by_address.get(address, ()))


def take_event(sid, now=None):
    """Spend one event of the socket's budget (SOCKET_EVENT_LIMIT per SOCKET_EVENT_WINDOW_SECONDS, token bucket).

    Returns "ok", "refused" (over budget: ignore the event) or "abuse" (refused SOCKET_REFUSALS_BEFORE_DISCONNECT
    times: disconnect). A socket without a budget (opened before this process counted) gets one now.
    """
    config = current_app.config
    capacity = float(config["SOCKET_EVENT_LIMIT"])
    rate = capacity / float(config["SOCKET_EVENT_WINDOW_SECONDS"])
    now = time.monotonic() if now is None else now
    counters = _counters()
    with counters.lock:
        bucket = counters.buckets.setdefault(sid, _Bucket(capacity, now))
        bucket.tokens = min(capacity, bucket.tokens + (now - bucket.updated) * rate)
        bucket.updated = now
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return "ok"
        bucket.refusals += 1
        return "abuse" if bucket.refusals >= int(config["SOCKET_REFUSALS_BEFORE_DISCONNECT"]) else "refused"


def release_database():
    """End the handler's transaction so its pooled connection goes back at once (the socket may stay open for
    hours); the app context's teardown then removes the session (Flask-SQLAlchemy)."""
    db.session.rollback()


def guarded_event(handler):
    """Wrap a socket event handler: spend one event of the socket's budget, run, release the database.

    Over budget the event is not run and its ack is `{"ok": False, "status": 429}`; a socket that keeps
    flooding is disconnected.
    """

    @functools.wraps(handler)
    def guarded(*args):
        """Budget first, then the handler; the database is released whatever happens."""
        verdict = take_event(request.sid)
        if verdict != "ok":
            current_app.logger.info("socket event %s over budget from %s", handler.__name__, client_address())
            if verdict == "abuse":
                disconnect()
            return {"ok": False, "status": 429}
        try:
            return handler(*args)
        finally:
            release_database()

    return guarded
