"""Failed attempts (sign-ins, PINs) counted in the rate-limit store, so every app process sees the same counts.

Two kinds of counter, both kept in RATELIMIT_STORAGE_URI through the `limits` library (the store flask-limiter
uses: memory in one process, Redis when several processes serve):

- `Backoff`: per key (an account, a code and client address) a number of free failures, then a delay that
  doubles with each further failure up to a ceiling. Only one attempt per key is checked at a time (a "turn"
  taken with an atomic increment), so a burst of simultaneous requests gets no more guesses than one.
- `Budget`: failures per key in a moving window (e.g. "30 per 10 minutes" per client address); over it, no
  more attempts until the oldest failure leaves the window.

Both answer a refused attempt with `TooManyAttempts`, which carries the seconds to wait.
"""
import hashlib
import hmac
import math
import time
from dataclasses import dataclass

from flask import current_app
from flask_babel import ngettext
from limits import parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from app.services.errors import TooManyAttempts

EXTENSION = "attempts"
TURN_SECONDS = 60  # how long one checked attempt holds its key's turn at most (a crashed request frees it then)


def clock():
    """Seconds since the epoch (UTC); the delays' only clock, so tests can move it."""
    return time.time()


def init_app(app):
    """Open this app's connection to the rate-limit store (its own, so two apps in one process stay apart)."""
    uri = app.config.get("RATELIMIT_STORAGE_URI") or "memory://"
    options = dict(app.config.get("RATELIMIT_STORAGE_OPTIONS") or {})
    app.extensions[EXTENSION] = storage_from_string(uri, **options)


def _storage():
    """The current app's store."""
    return current_app.extensions[EXTENSION]


def _key(*parts):
    """A store key under RATELIMIT_KEY_PREFIX (installations sharing one Redis give each its own prefix)."""
    return "/".join([current_app.config.get("RATELIMIT_KEY_PREFIX") or "", "attempts", *map(str, parts)])


def secret_hash(text):
    """A keyed hash (HMAC-SHA-256 with SECRET_KEY, 32 hex digits) of `text`, so the store never shows it."""
    secret = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(secret, text.encode(), hashlib.sha256).hexdigest()[:32]


def wait_text(seconds):
    """How long to wait, for a sentence: "30 seconds" under a minute, else whole minutes rounded up ("2 minutes")."""
    seconds = max(math.ceil(seconds), 1)
    if seconds < 60:
        return ngettext("%(num)d second", "%(num)d seconds", seconds)
    minutes = math.ceil(seconds / 60)
    return ngettext("%(num)d minute", "%(num)d minutes", minutes)


@dataclass(frozen=True)
class Backoff:
    """Free failures, then a growing delay, per key. `config` is the prefix of three settings:
    `<config>_FREE_FAILURES`, `<config>_FIRST_DELAY_SECONDS` and `<config>_MAX_DELAY_SECONDS`; failures are
    forgotten FAILURES_FORGOTTEN_HOURS after the first of a row, or when `clear` is called (a success)."""

    name: str
    config: str

    def _setting(self, suffix):
        """One of this counter's settings."""
        return int(current_app.config[f"{self.config}_{suffix}"])

    def delay_after(self, failures):
        """Seconds to wait after the `failures`-th failure in a row: 0 while free, then the first delay,
        doubled with each further failure, at most the maximum."""
        free = self._setting("FREE_FAILURES")
        if failures < free:
            return 0
        first, ceiling = self._setting("FIRST_DELAY_SECONDS"), self._setting("MAX_DELAY_SECONDS")
        return min(first * 2 ** min(failures - free, 32), ceiling)

    def failures(self, key):
        """How many failures in a row `key` has."""
        return _storage().get(_key(self.name, key, "count"))

    def take_turn(self, key, *, refusal):
        """Allow one attempt for `key` now, or raise TooManyAttempts(`refusal(seconds)`, seconds to wait).

        Refused while the delay of the last failure runs, and while another attempt of the same key is being
        checked. Returns the number of failures so far.
        """
        store, failures = _storage(), self.failures(key)
        if failures and self.delay_after(failures):
            until = store.get(_key(self.name, key, "until", failures))
            # Not written yet: the failure is being recorded this very moment, so its delay starts now.
            wait = until / 1000 - clock() if until else self.delay_after(failures)
            if wait > 0:
                raise TooManyAttempts(refusal(wait), wait)
        if store.incr(_key(self.name, key, "turn", failures), TURN_SECONDS) > 1:
            wait = max(self.delay_after(failures + 1), 1)
            raise TooManyAttempts(refusal(wait), wait)
        return failures

    def release(self, key):
        """End `key`'s turn without a failure or success (a right password that still needs its second factor)."""
        _storage().clear(_key(self.name, key, "turn", self.failures(key)))

    def failed(self, key):
        """Count a failure of `key` (after `take_turn`); returns the seconds its delay now lasts (0: none)."""
        store = _storage()
        forget = int(current_app.config["FAILURES_FORGOTTEN_HOURS"] * 3600)
        failures = store.incr(_key(self.name, key, "count"), forget)
        store.clear(_key(self.name, key, "turn", failures - 1))  # the turn this attempt held
        delay = self.delay_after(failures)
        if delay:
            # Only this request has this failure's number, so it alone writes its end (ms since the epoch).
            store.incr(_key(self.name, key, "until", failures), forget, amount=math.ceil((clock() + delay) * 1000))
        return delay

    def clear(self, key):
        """Forget the failures of `key` (a success); the turn it held is freed."""
        store = _storage()
        failures = self.failures(key)
        store.clear(_key(self.name, key, "turn", failures))
        store.clear(_key(self.name, key, "count"))


@dataclass(frozen=True)
class Budget:
    """At most so many failures per key in a moving window; `config` names the setting with the limit string
    ("30 per 10 minutes", the `limits` notation flask-limiter uses)."""

    name: str
    config: str

    def _limit(self):
        """The configured limit."""
        return parse(current_app.config[self.config])

    def check(self, key, *, refusal):
        """Raise TooManyAttempts(`refusal(seconds)`, seconds) when the budget is spent: the seconds until its
        oldest failure leaves the window."""
        limiter, limit = MovingWindowRateLimiter(_storage()), self._limit()
        if not limiter.test(limit, _key(self.name), key):
            reset = limiter.get_window_stats(limit, _key(self.name), key).reset_time
            wait = max(reset - time.time(), 1)
            raise TooManyAttempts(refusal(wait), wait)

    def failed(self, key):
        """Spend one failure of `key`'s budget."""
        MovingWindowRateLimiter(_storage()).hit(self._limit(), _key(self.name), key)
