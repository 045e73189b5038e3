"""Code-user access through a code: sessions, PIN check, enabling, logging code users out.

Wrong PINs are counted per code and client address (`app.services.attempts.Backoff`: PIN_FREE_FAILURES, then a
delay from PIN_FIRST_DELAY_SECONDS doubling up to PIN_MAX_DELAY_SECONDS), so one client guessing locks out
only itself, and per code from all clients together (PIN_CODE_RATE_LIMIT, a high budget against guessing from
many addresses at once).
"""
import secrets

import sqlalchemy as sa
from flask import has_request_context, request
from flask_babel import gettext as _
from sqlalchemy.orm import joinedload

from app import policy, realtime
from app.enums import AuditKind
from app.extensions import db
from app.models import Code, CodeSession
from app.services import audit
from app.services.attempts import Backoff, Budget, wait_text
from app.services.errors import NotFound, ValidationError, require

PIN_CLIENTS = Backoff("pin-client", "PIN")
PIN_CODES = Budget("pin-code", "PIN_CODE_RATE_LIMIT")


def find_usable_code(token):
    """The enabled, paired code for `token`, or None (unknown and disabled look the same)."""
    query = sa.select(Code).filter_by(token=token).options(joinedload(Code.device))  # every code page shows it
    code = db.session.scalar(query) if token else None
    return code if code is not None and code.is_usable else None


def session_for(code, code_user):
    """The code user's valid session on this code, or None."""
    if code_user is None:
        return None
    found = db.session.scalar(sa.select(CodeSession).filter_by(code_id=code.id, code_user_id=code_user.id))
    return found if found is not None and found.is_valid else None


def open_code_session(code, code_user, *, pin=None):
    """Grant access through `code`: at once without a PIN, after the right PIN otherwise.

    Raises NotFound for an unusable code, ValidationError for a wrong PIN, and TooManyAttempts (429, with the
    seconds to wait) without checking the PIN while this client or the code as a whole has too many wrong ones.
    """
    if code is None or not code.is_usable:
        raise NotFound(_("This code is not active."))
    if code.has_pin:
        client = f"{code.id}/{request.remote_addr if has_request_context() else ''}"
        PIN_CODES.check(code.id, refusal=_code_refusal)
        PIN_CLIENTS.take_turn(client, refusal=_client_refusal)
        if not code.check_pin((pin or "").strip()):
            PIN_CODES.failed(code.id)
            PIN_CLIENTS.failed(client)
            raise ValidationError(_("This PIN is not correct."), field="pin")
        PIN_CLIENTS.clear(client)
    return _grant_session(code, code_user)


def _client_refusal(seconds):
    """The message for a client that typed too many wrong PINs on this code."""
    return _("Too many wrong PINs. Please try again in %(wait)s.", wait=wait_text(seconds))


def _code_refusal(seconds):
    """The message while the code as a whole has had too many wrong PINs."""
    return _("This code has had too many wrong PINs. Please try again in %(wait)s.", wait=wait_text(seconds))


def open_code_session_by_link(code, *, actor):
    """Grant a code user access through `code` from a signed ticket link, which stands in for the PIN."""
    require(policy.is_code_user(actor))
    if code is None or not code.is_usable:
        raise NotFound(_("This code is not active."))
    return _grant_session(code, actor)


def _grant_session(code, code_user):
    """Create or renew the code user's session on `code` for its current epoch, and commit."""
    found = db.session.scalar(sa.select(CodeSession).filter_by(code_id=code.id, code_user_id=code_user.id))
    if found is None:
        found = CodeSession(code_id=code.id, code_user_id=code_user.id, epoch=code.session_epoch)
        db.session.add(found)
    found.epoch = code.session_epoch
    db.session.commit()
    return found


def logout_code_users(code, *, actor):
    """End every code user's access through this code at once, open sockets included."""
    require(policy.can_manage_catalog(actor))
    code.session_epoch += 1
    audit.record(AuditKind.CODE_USERS_LOGGED_OUT, actor=actor, code=code)
    realtime.code_access_changed(code.id)
    return code


def set_code_enabled(code, enabled, *, actor):
    """Enable or disable a code; disabling ends code-user access at once."""
    require(policy.can_manage_catalog(actor))
    changed = code.enabled != bool(enabled)
    code.enabled = bool(enabled)
    db.session.commit()
    if changed:
        audit.record(AuditKind.CODE_ENABLED if code.enabled else AuditKind.CODE_DISABLED, actor=actor, code=code)
    if not code.enabled:
        realtime.code_access_changed(code.id)
    return code


def new_token():
    """An unguessable code token."""
    return secrets.token_urlsafe(16)
