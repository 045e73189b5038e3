"""Personal API tokens: create (shown once), revoke, and authenticate a bearer token to its employee.

A token is `tw_` followed by 43 URL-safe characters (32 random bytes); only its SHA-256 digest is stored. Scopes
are checked against the employee's role when the token is made and again on every use: `admin` only for
administrators (policy.can_hold_api_scope). Tokens of deactivated employees are refused; "sign out everywhere",
a password change or reset, a role change and deactivation revoke them (`revoke_all_later`).
"""
import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from flask_babel import gettext as _

from app import policy
from app.enums import AuditKind
from app.extensions import db
from app.models import ApiToken, Employee
from app.models._types import utcnow
from app.models.api_token import SCOPES
from app.services import audit
from app.services.errors import NotFound, ValidationError, require

PREFIX = "tw_"
NAME_LENGTH = 80
MAX_DAYS = 366  # the longest expiry one may choose
LAST_USED_RESOLUTION = timedelta(minutes=1)  # `last_used_at` is written at most once a minute per token


@dataclass(frozen=True)
class NewToken:
    """A token just made: its row and the bearer secret, which exists nowhere else and is shown once."""

    row: ApiToken
    secret: str


def digest(secret):
    """The stored form of a bearer token: SHA-256 as 64 hex characters."""
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def parse_scopes(value):
    """Scope names from "read,write", "read write" or a list; ValidationError (field "scopes") for unknown ones or
    none at all. Returns them in SCOPES order."""
    names = value.replace(",", " ").split() if isinstance(value, str) else list(value or ())
    unknown = [name for name in names if name not in SCOPES]
    if unknown or not names:
        raise ValidationError(_("Please choose scopes from: read, write, admin."), field="scopes")
    return [scope for scope in SCOPES if scope in names]


def create_token(employee, *, name, scopes, expires_in_days=None, actor):
    """Make a token for `employee` with `scopes` (see parse_scopes) that expires after `expires_in_days` days
    (None: never; 1…MAX_DAYS), commit it with an audit event and return NewToken (the secret is shown once).

    Only the employee themself makes their tokens (the CLI passes the employee as actor). Raises NotAllowed
    (someone else's account, `admin` scope for a non-administrator) and ValidationError (field "name",
    "scopes" or "expires_in_days")."""
    require(policy.can_manage_own_account(actor, employee), _("Only you can make tokens for your account."))
    name = (name or "").strip()
    if not name or len(name) > NAME_LENGTH:
        raise ValidationError(_("Please give the token a name of at most %(n)d characters.", n=NAME_LENGTH), field="name")
    scopes = parse_scopes(scopes)
    for scope in scopes:
        require(policy.can_hold_api_scope(employee, scope), _("Only administrators can make tokens with the admin scope."))
    expires_at = None
    if expires_in_days not in (None, ""):
        try:
            days = int(expires_in_days)
        except (TypeError, ValueError):
            days = 0
        if not 1 <= days <= MAX_DAYS:
            raise ValidationError(_("Please choose an expiry of 1 to %(n)d days.", n=MAX_DAYS), field="expires_in_days")
        expires_at = utcnow() + timedelta(days=days)
    secret = PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(
        employee_id=employee.id, name=name, scopes=" ".join(scopes), token_hash=digest(secret), prefix=secret[:8],
        expires_at=expires_at,
    )
    db.session.add(row)
    db.session.flush()
    audit.record(AuditKind.API_TOKEN_CREATED, actor=actor, subject=employee, detail={"token": row.id, "name": name,
                                                                                     "scopes": row.scopes})  # commits
    return NewToken(row=row, secret=secret)


def tokens_of(employee):
    """The employee's tokens, newest first (revoked ones too, so their last use stays visible)."""
    return db.session.scalars(
        sa.select(ApiToken).where(ApiToken.employee_id == employee.id).order_by(ApiToken.id.desc())
    ).all()


def revoke_token(employee, token_id, *, actor):
    """Revoke one of `employee`'s tokens at once (idempotent) and record it. Raises NotAllowed for someone else's
    account and NotFound when the employee has no such token."""
    require(policy.can_manage_own_account(actor, employee), _("Only you can revoke your tokens."))
    row = db.session.get(ApiToken, token_id) if isinstance(token_id, int) else None
    if row is None or row.employee_id != employee.id:
        raise NotFound(_("This token does not exist."))
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        audit.record(AuditKind.API_TOKEN_REVOKED, actor=actor, subject=employee, detail={"token": row.id,
                                                                                         "name": row.name})  # commits
    return row


def revoke_all_later(employee):
    """Revoke every live token of the employee in the session, without committing (the caller commits): part of
    ending all of an employee's sign-ins."""
    db.session.execute(
        sa.update(ApiToken)
        .where(ApiToken.employee_id == employee.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


def authenticate(secret, *, now=None):
    """The live ApiToken (with its employee loaded) for a bearer token, or None.

    None for anything that is not one of our tokens, a revoked or expired one, one whose employee is inactive or
    must still set up two-factor sign-in. Notes the use in `last_used_at` (UTC, at most once a minute) and commits
    that."""
    if not isinstance(secret, str) or not secret.startswith(PREFIX) or len(secret) > 200:
        return None
    now = now or utcnow()
    row = db.session.scalar(sa.select(ApiToken).where(ApiToken.token_hash == digest(secret)))
    if row is None or row.revoked_at is not None or row.is_expired(now):
        return None
    employee = db.session.get(Employee, row.employee_id)
    if employee is None or not employee.active:
        return None
    from app.services import two_factor

    if policy.must_enrol_two_factor(employee, two_factor.required_roles()):
        return None
    if row.last_used_at is None or now - row.last_used_at >= LAST_USED_RESOLUTION:
        row.last_used_at = now
        db.session.commit()
    return row


def allowed_scopes(row):
    """The token's scopes the employee may hold now (an administrator made a member keeps no admin scope)."""
    return frozenset(scope for scope in row.scope_set if policy.can_hold_api_scope(row.employee, scope))
