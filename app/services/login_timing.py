"""Sign-in answers the same, in the same time, whether the e-mail is known or not (no account enumeration).

A wrong password costs one hash check (werkzeug's scrypt, tens of ms); an unknown e-mail, an account without a
password yet and a deactivated account cost exactly one too, against a dummy hash made the same way.
"""
import secrets
import threading

from werkzeug.security import check_password_hash, generate_password_hash

_dummy_hash = None
_lock = threading.Lock()


def _dummy():
    """A hash of a random secret, made once per process with werkzeug's default method (as stored passwords)."""
    global _dummy_hash
    with _lock:
        if _dummy_hash is None:
            _dummy_hash = generate_password_hash(secrets.token_urlsafe(24))
        return _dummy_hash


def password_matches(employee, password):
    """Whether `password` is `employee`'s (None: no such e-mail); always exactly one hash check.

    An employee without a password hash, or no employee at all, is checked against the dummy hash and refused.
    Deactivated employees are checked like active ones: the caller refuses them afterwards.
    """
    stored = getattr(employee, "password_hash", None)
    matches = check_password_hash(stored or _dummy(), password or "")
    return bool(stored) and matches
