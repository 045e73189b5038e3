"""Failed sign-ins counted per account and per client address (`app.services.attempts`).

Per account (keyed on a hash of the normalised e-mail, so an unknown address is counted exactly like a known
one and the store never shows an address): LOGIN_FREE_FAILURES wrong passwords or second-factor codes, then a
delay from LOGIN_FIRST_DELAY_SECONDS doubling up to LOGIN_MAX_DELAY_SECONDS; a complete sign-in clears it.
Another account signing in from the same address is never held up by it. Per client address (as
TRUSTED_PROXIES reveals it): LOGIN_ADDRESS_RATE_LIMIT failures, against one client trying many accounts.

While refused, nothing is checked: the right password is refused with the same message as a wrong one.
"""
from flask import request
from flask_babel import gettext as _

from app.services import accounts, audit
from app.services.attempts import Backoff, Budget, secret_hash, wait_text
from app.services.errors import TooManyAttempts

ACCOUNTS = Backoff("sign-in-account", "LOGIN")
ADDRESSES = Budget("sign-in-address", "LOGIN_ADDRESS_RATE_LIMIT")


def _account(email):
    """The store key of the account `email` names (known or not)."""
    return secret_hash(accounts.normalise_email(email))


def _account_refusal(seconds):
    """The message for an account in its delay."""
    return _("Too many failed attempts for this account. Please try again in %(wait)s.", wait=wait_text(seconds))


def _address_refusal(seconds):
    """The message for a client address that spent its budget."""
    return _("Too many failed sign-ins from your network. Please try again in %(wait)s.", wait=wait_text(seconds))


def begin(email):
    """Let a sign-in attempt for `email` (typed, or the account's address at the second factor) be checked.

    Raises TooManyAttempts (status 429, `retry_after` seconds) while the client's address has spent its budget or
    the account waits out its delay (or another attempt for it is being checked); the refusal is recorded in the
    audit log as `sign_in_locked`, once per address and minute.
    """
    try:
        ADDRESSES.check(request.remote_addr, refusal=_address_refusal)
        ACCOUNTS.take_turn(_account(email), refusal=_account_refusal)
    except TooManyAttempts:
        audit.record_lockout(email)
        raise


def failed(email):
    """Count a wrong password or code for the account `email` names and for the client address."""
    ADDRESSES.failed(request.remote_addr)
    ACCOUNTS.failed(_account(email))


def pending(email):
    """The password was right and the second factor is still owed: free the account's turn, keep its count."""
    ACCOUNTS.release(_account(email))


def succeeded(email):
    """A complete sign-in: the account's failures are forgotten (the address's stay)."""
    ACCOUNTS.clear(_account(email))
