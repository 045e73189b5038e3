"""Employee accounts: authentication, creation, the employee's own language and password, and ending sign-ins."""
import sqlalchemy as sa
from flask_babel import gettext as _

from app import policy, realtime, time_zones
from app.enums import AuditKind, Role
from app.extensions import db
from app.models import Employee
from app.services import audit, sign_in_attempts
from app.services.answers import EMAIL
from app.services.errors import ValidationError, require
from app.services.input_checks import single_line
from app.services.login_timing import password_matches
from app.services.two_factor import check_second_factor

MIN_PASSWORD_LENGTH = 8


def normalise_email(email):
    """E-mail addresses compare case-insensitively."""
    return (email or "").strip().lower()


def authenticate(email, password):
    """The active employee with these credentials, or None; the same work whether the e-mail is known or not
    (one password hash check either way), and a refusal is recorded in the audit log and counted against the
    account and the client address (`sign_in_attempts`).

    Raises TooManyAttempts (429) without checking anything while the account or the address must wait. An
    employee with two-factor sign-in is not signed in yet: `check_sign_in_code`, then `record_sign_in`.
    """
    sign_in_attempts.begin(email)
    employee = db.session.scalar(sa.select(Employee).filter_by(email=normalise_email(email)))
    if not password_matches(employee, password) or not employee.active:
        _record_failed_sign_in(employee, email)
        sign_in_attempts.failed(email)
        return None
    if employee.has_two_factor:
        sign_in_attempts.pending(email)
    return employee


def check_sign_in_code(employee, code):
    """The second step of signing in (`two_factor.check_second_factor`): "totp", "recovery" or None for a wrong
    code, which is audited and counted against the account and address like a wrong password.

    Raises TooManyAttempts (429) without checking the code while the account or the address must wait.
    """
    sign_in_attempts.begin(employee.email)
    used = check_second_factor(employee, code)
    if used is None:
        audit.record(AuditKind.SIGN_IN_SECOND_FACTOR_FAILED, subject=employee)
        sign_in_attempts.failed(employee.email)
    return used


def _record_failed_sign_in(employee, email):
    """Audit a refused sign-in: the account it named (the typed address, cut, when no account has it) and why."""
    if employee is None:
        audit.record(AuditKind.SIGN_IN_FAILED, detail={"email": (email or "").strip(), "reason": "unknown_email"})
    else:
        reason = "wrong_password" if employee.active else "deactivated"
        audit.record(AuditKind.SIGN_IN_FAILED, subject=employee, detail={"reason": reason})


def record_sign_in(employee):
    """Audit that `employee` signed in (after every factor the sign-in needs); the account's failures are forgotten."""
    audit.record(AuditKind.SIGN_IN, actor=employee, subject=employee)
    sign_in_attempts.succeeded(employee.email)


def validate_password(password):
    """Refuse passwords that are too short."""
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise ValidationError(_("The password needs at least %(n)d characters.", n=MIN_PASSWORD_LENGTH), field="password")


def create_employee(name, email, *, role=Role.MEMBER, password=None, language="de"):
    """Create an employee (unique e-mail); the caller commits or this function does when asked by the CLI."""
    email = normalise_email(email)
    if not EMAIL.match(email):
        raise ValidationError(_("Please enter a valid e-mail address."), field="email")
    if not (name or "").strip():
        raise ValidationError(_("Please enter a name."), field="name")
    single_line(name.strip(), "name")  # names go into e-mail subjects
    if db.session.scalar(sa.select(Employee.id).filter_by(email=email)) is not None:
        raise ValidationError(_("An employee with this e-mail address already exists."), field="email")
    employee = Employee(name=name.strip(), email=email, role=role, language=language)
    if password is not None:
        validate_password(password)
        employee.set_password(password)
    db.session.add(employee)
    return employee


def set_own_language(employee, language, *, actor, languages):
    """The employee's interface language ("de", "en"), kept on the account so every device they sign in on speaks it.

    Raises NotAllowed for anyone but the employee themself, ValidationError for a language not in `languages`.
    """
    require(policy.is_employee(actor) and actor.id == employee.id)
    if language not in languages:
        raise ValidationError(_("Please choose a language."), field="language")
    employee.language = language
    db.session.commit()


def end_sessions_later(employee, *, api_tokens=True):
    """Raise the employee's session generation (not committed): every session and remember-me cookie issued
    before stops loading the employee; with `api_tokens` their API tokens are revoked too. The caller commits,
    then calls `sessions_ended` for the sockets."""
    employee.session_generation = (employee.session_generation or 0) + 1
    if api_tokens:
        from app.services import api_tokens as tokens

        tokens.revoke_all_later(employee)


def sessions_ended(employee):
    """After the commit of `end_sessions_later`: disconnect the employee's open sockets on every server."""
    realtime.sessions_ended(employee.id)


def end_sessions(employee, *, actor, api_tokens=True):
    """Sign the employee out everywhere: sessions, remember-me cookies and open sockets, at once; with
    `api_tokens` (not on a plain logout) their API tokens are revoked too.

    The employee themself (logout, "sign out everywhere") or an administrator. Raises NotAllowed otherwise.
    """
    require(policy.can_end_sessions(actor, employee))
    end_sessions_later(employee, api_tokens=api_tokens)
    audit.record(AuditKind.SESSIONS_ENDED, actor=actor, subject=employee)  # commits
    sessions_ended(employee)


def change_own_password(employee, *, current, password, confirmation, actor):
    """The employee changes their password (current one, then the new one twice); every sign-in ends.

    Raises NotAllowed for anyone but the employee, ValidationError (field `current`, `password` or
    `confirmation`) for a wrong current password, a short one or two that differ. The caller signs the
    asking browser in again with the new generation.
    """
    require(policy.can_manage_own_account(actor, employee))
    if not employee.check_password(current or ""):
        raise ValidationError(_("The current password is wrong."), field="current")
    validate_password(password)
    if password != confirmation:
        raise ValidationError(_("The two passwords differ."), field="confirmation")
    employee.set_password(password)
    end_sessions_later(employee)
    audit.record(AuditKind.PASSWORD_CHANGED, actor=actor, subject=employee)  # commits
    sessions_ended(employee)
    return employee


def update_own_account(employee, *, name, language, actor, languages, time_zone=None):
    """The employee's own name (1..120 characters), interface language (one of `languages`) and time zone (an IANA
    name of `time_zones.zone_names()`, "" for the organisation's, None keeps it).

    Raises NotAllowed for anyone but the employee themself, ValidationError (field `name`, `language` or
    `time_zone`).
    """
    require(policy.can_manage_own_account(actor, employee))
    name = (name or "").strip()
    if not name or len(name) > 120:
        raise ValidationError(_("Please enter a name (at most 120 characters)."), field="name")
    if language not in languages:
        raise ValidationError(_("Please choose a language."), field="language")
    if time_zone is not None:
        if time_zone and not time_zones.is_zone(time_zone):
            raise ValidationError(_("Please choose a time zone from the list."), field="time_zone")
        employee.time_zone = time_zone or None
    employee.name, employee.language = name, language
    db.session.commit()
    return employee
