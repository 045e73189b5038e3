"""Links that prove who they were made for and when: itsdangerous' URL-safe timed serializer with the app secret,
one salt per purpose (password reset, e-mail confirmation), on a clock the caller names (tests move it)."""
import time

from flask import current_app
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from app.services.errors import ServiceError


class LinkExpired(ServiceError):
    """The link is older than its lifetime (410 Gone: it worked once, it no longer does)."""

    status_code = 410


def now_seconds():
    """Seconds since the epoch (UTC): the clock links are signed and checked with; tests move each module's own."""
    return time.time()


class _Signer(TimestampSigner):
    """A timestamp signer on the caller's clock, or on a given issue time (a mail built later keeps the time of
    the request that asked for it)."""

    def __init__(self, *args, issued_at=None, clock=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.issued_at, self.clock = issued_at, clock

    def get_timestamp(self):
        """The issue time when given, else the clock's now (seconds since the epoch, UTC)."""
        return int(self.issued_at if self.issued_at is not None else self.clock())


def serializer(salt, clock, issued_at=None):
    """A serializer for tokens of one purpose (`salt`): `dumps(data)` signs at `issued_at` (or `clock()`),
    `loads(token, max_age=seconds)` checks against `clock()` and raises itsdangerous' SignatureExpired or
    BadSignature."""
    return URLSafeTimedSerializer(
        current_app.config["SECRET_KEY"], salt=salt, signer=_Signer,
        signer_kwargs={"issued_at": issued_at, "clock": clock},
    )
