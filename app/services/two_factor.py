"""Two-factor sign-in with time-based one-time passwords (TOTP, RFC 6238) and one-time recovery codes.

Codes come from any authenticator app (pyotp computes them: SHA-1, 6 digits, 30 s steps). A code is accepted
one step early or late (clock drift) and never twice: the step of the last accepted code is kept on the employee.
Ten recovery codes are shown once when two-factor sign-in is enabled and stored as salted SHA-256 hashes (they
are random, 50 bits each, so a fast hash with a salt per code suffices); each works once.
"""
import hashlib
import hmac
import secrets
import time

import pyotp
import sqlalchemy as sa
from flask_babel import gettext as _

from app import policy
from app.enums import AuditKind
from app.extensions import db
from app.models import Employee, Organisation, RecoveryCode
from app.models._types import utcnow
from app.services import audit
from app.services.errors import ValidationError, require

RECOVERY_CODE_COUNT = 10
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: read off paper
DRIFT_STEPS = 1  # codes of the previous and next 30 s step count too


def clock():
    """Seconds since the epoch (UTC); the TOTP checks' only clock, so tests can move it."""
    return time.time()


def new_secret():
    """A fresh random base32 secret (160 bits) for an authenticator app."""
    return pyotp.random_base32(length=32)


def provisioning_uri(employee, secret):
    """The otpauth:// URI an authenticator app reads from the QR code: the organisation names the account."""
    org = Organisation.settings()
    issuer = (org.name if org else None) or "Ticketwerk"
    return pyotp.TOTP(secret).provisioning_uri(name=employee.email, issuer_name=issuer)


def _digits(code):
    """The typed code without spaces: six digits, or None when it is no TOTP code."""
    code = "".join((code or "").split())
    return code if len(code) == 6 and code.isdigit() else None


def matching_step(secret, code, now=None):
    """The 30 s time step whose code equals `code` (within DRIFT_STEPS of `now`, seconds since the epoch), or None."""
    code = _digits(code)
    if code is None or not secret:
        return None
    totp = pyotp.TOTP(secret)
    current = totp.timecode(int(clock() if now is None else now))
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _use_step(employee, step):
    """Remember `step` as the last accepted one, unless it (or a later one) was used already; True when it was new.

    One conditional UPDATE, so two requests with the same code cannot both pass."""
    result = db.session.execute(
        sa.update(Employee)
        .where(Employee.id == employee.id)
        .where(sa.or_(Employee.totp_last_step.is_(None), Employee.totp_last_step < step))
        .values(totp_last_step=step)
    )
    return result.rowcount == 1


def _normal_recovery_code(code):
    """A typed recovery code in the form it was hashed in: lower case, no spaces or dashes."""
    return "".join(ch for ch in (code or "").lower() if ch.isalnum())


def _hash_recovery_code(code, salt=None):
    """"<salt>$<sha256 hex>" of a normalised recovery code."""
    salt = salt or secrets.token_hex(8)
    digest = hashlib.sha256(f"{salt}:{_normal_recovery_code(code)}".encode()).hexdigest()
    return f"{salt}${digest}"


def _recovery_code_matches(stored, code):
    """Whether `code` hashes to the stored value."""
    salt, _, _digest = stored.partition("$")
    return hmac.compare_digest(stored, _hash_recovery_code(code, salt))


def new_recovery_codes():
    """RECOVERY_CODE_COUNT fresh codes like "k7dmq-x2hpa" (10 characters of a 31-letter alphabet, about 50 bits)."""
    codes = []
    for _number in range(RECOVERY_CODE_COUNT):
        raw = "".join(secrets.choice(RECOVERY_ALPHABET) for _position in range(10))
        codes.append(f"{raw[:5]}-{raw[5:]}")
    return codes


def enable(employee, *, secret, code, actor):
    """Turn two-factor sign-in on with `secret` once `code` from the app proves it is set up.

    Returns the RECOVERY_CODE_COUNT recovery codes in plain text, to show once (only their hashes are kept).
    Raises NotAllowed for anyone but the employee, ValidationError (field `code`) for a wrong code or a missing
    secret.
    """
    require(policy.can_manage_own_account(actor, employee))
    if not secret:
        raise ValidationError(_("Please start the set-up again."), field="code")
    step = matching_step(secret, code)
    if step is None:
        raise ValidationError(_("The code is wrong. Please enter the code your app shows now."), field="code")
    employee.totp_secret, employee.totp_last_step = secret, step
    codes = new_recovery_codes()
    employee.recovery_codes = [RecoveryCode(code_hash=_hash_recovery_code(c)) for c in codes]
    audit.record(AuditKind.TWO_FACTOR_ENABLED, actor=actor, subject=employee)  # commits
    return codes


def disable(employee, *, password="", code="", actor):
    """Turn two-factor sign-in off, confirmed by the password or a current code; recovery codes are deleted.

    Raises NotAllowed for anyone but the employee, ValidationError (field `password`) when neither proves it.
    """
    require(policy.can_manage_own_account(actor, employee))
    by_password = bool(password) and employee.check_password(password)
    step = None if by_password else matching_step(employee.totp_secret, code)
    if not by_password and (step is None or not _use_step(employee, step)):
        raise ValidationError(_("Please confirm with your password or a current code."), field="password")
    employee.totp_secret, employee.totp_last_step = None, None
    employee.recovery_codes = []
    audit.record(AuditKind.TWO_FACTOR_DISABLED, actor=actor, subject=employee)  # commits


def check_second_factor(employee, code):
    """The second step of signing in: "totp" or "recovery" for an accepted code (a recovery code is used up), None
    for a wrong one or one used before. Commits what it used."""
    step = matching_step(employee.totp_secret, code)
    if step is not None:
        used = _use_step(employee, step)
        db.session.commit()
        db.session.refresh(employee)
        return "totp" if used else None
    if not _normal_recovery_code(code):
        return None
    for recovery in employee.recovery_codes:
        if recovery.used_at is None and _recovery_code_matches(recovery.code_hash, code):
            result = db.session.execute(
                sa.update(RecoveryCode).where(RecoveryCode.id == recovery.id, RecoveryCode.used_at.is_(None))
                .values(used_at=utcnow())
            )
            db.session.commit()
            db.session.refresh(recovery)
            return "recovery" if result.rowcount == 1 else None
    return None


def recovery_codes_left(employee):
    """How many of the employee's recovery codes are still unused."""
    return sum(1 for recovery in employee.recovery_codes if recovery.used_at is None)


def required_roles():
    """Role names whose employees must sign in with a second factor (organisation settings), [] when none."""
    org = Organisation.settings()
    return list(org.two_factor_roles or []) if org else []
