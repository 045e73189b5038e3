"""Employees, roles, teams and invitations (administrators only)."""

import sqlalchemy as sa
from flask import current_app, url_for
from flask_babel import gettext as _
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from app import policy
from app.enums import AuditKind, Role
from app.extensions import db
from app.ids import parse_ids
from app.models import Employee, Team
from app.services import accounts, audit
from app.services.errors import ValidationError, require
from app.services.input_checks import email_address, single_line

INVITATION_DAYS = 7
INVITATION_SALT = "employee-invitation"


def _allowed(actor):
    """Only administrators manage employees and teams."""
    require(policy.can_manage_employees(actor))


def _role(value):
    """A Role from a form value."""
    try:
        return value if isinstance(value, Role) else Role(value)
    except ValueError:
        raise ValidationError(_("Please choose a role."), field="role") from None


def _language(value):
    """One of the configured UI languages."""
    if value not in current_app.config["LANGUAGES"]:
        raise ValidationError(_("Please choose a language."), field="language")
    return value


def active_admin_count(excluding=None):
    """How many active administrators there are, not counting `excluding`."""
    query = sa.select(sa.func.count()).select_from(Employee).filter_by(role=Role.ADMIN, active=True)
    if excluding is not None:
        query = query.where(Employee.id != excluding.id)
    return db.session.scalar(query) or 0


def _keep_an_admin(employee, role, active):
    """Refuse to demote or deactivate the last active administrator."""
    losing_admin = employee.role == Role.ADMIN and employee.active and (role != Role.ADMIN or not active)
    if losing_admin and active_admin_count(excluding=employee) == 0:
        raise ValidationError(
            _("%(name)s is the last active administrator and must stay an active administrator.", name=employee.name),
            field="role" if role != Role.ADMIN else "active",
        )


def create_employee(*, name, email, role="member", language="de", password="", actor):
    """Create an employee with a password, or (empty password) without one, to be invited."""
    _allowed(actor)
    role, language = _role(role), _language(language)
    name = (name or "").strip()
    if len(name) > 120:
        raise ValidationError(_("The name may have at most 120 characters."), field="name")
    single_line(name, "name")
    employee = accounts.create_employee(name, email, role=role, language=language, password=password or None)
    db.session.commit()
    return employee


def update_employee(employee, *, name, email, role, language, active, actor):
    """Change name, e-mail, role, language and the active flag; the last active admin stays one.

    A new role or a deactivation ends every sign-in of the employee (sessions, remember-me cookies, sockets).
    """
    _allowed(actor)
    role, language, active = _role(role), _language(language), bool(active)
    name = (name or "").strip()
    if not name or len(name) > 120:
        raise ValidationError(_("Please enter a name (at most 120 characters)."), field="name")
    single_line(name, "name")
    email = email_address(accounts.normalise_email(email), "email", required=True)
    clash = db.session.scalar(sa.select(Employee).filter_by(email=email))
    if clash is not None and clash is not employee:
        raise ValidationError(_("An employee with this e-mail address already exists."), field="email")
    _keep_an_admin(employee, role, active)
    before_role, before_active = employee.role, employee.active
    ends_sessions = role != employee.role or (employee.active and not active)
    employee.name, employee.email, employee.role, employee.language, employee.active = name, email, role, language, active
    if ends_sessions:
        accounts.end_sessions_later(employee)
    db.session.commit()
    _record_role_and_state(employee, before_role, before_active, actor)
    if ends_sessions:
        accounts.sessions_ended(employee)
    return employee


def _record_role_and_state(employee, before_role, before_active, actor):
    """Audit a changed role and a deactivation or reactivation of `employee` by `actor`."""
    if employee.role != before_role:
        audit.record(AuditKind.ROLE_CHANGED, actor=actor, subject=employee,
                     detail={"from": before_role.value, "to": employee.role.value})
    if employee.active != before_active:
        kind = AuditKind.EMPLOYEE_REACTIVATED if employee.active else AuditKind.EMPLOYEE_DEACTIVATED
        audit.record(kind, actor=actor, subject=employee)


def set_employee_active(employee, active, *, actor):
    """Deactivate (no login, no offers, every sign-in ends) or reactivate an employee; employees are never deleted."""
    _allowed(actor)
    _keep_an_admin(employee, employee.role, bool(active))
    before_active = employee.active
    ends_sessions = employee.active and not active
    employee.active = bool(active)
    if ends_sessions:
        accounts.end_sessions_later(employee)
    db.session.commit()
    _record_role_and_state(employee, employee.role, before_active, actor)
    if ends_sessions:
        accounts.sessions_ended(employee)
    return employee


def set_password(employee, password, *, actor):
    """An administrator sets a new password (at least 8 characters) for an employee; every sign-in of the
    employee ends. Raises ValidationError."""
    _allowed(actor)
    accounts.validate_password(password)
    employee.set_password(password)
    accounts.end_sessions_later(employee)
    audit.record(AuditKind.PASSWORD_CHANGED, actor=actor, subject=employee)  # commits
    accounts.sessions_ended(employee)
    return employee


def _serializer():
    """Signs invitation tokens with the app secret."""
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=INVITATION_SALT)


def invitation_token(employee):
    """A signed token naming the employee and their current password hash (so it works once)."""
    return _serializer().dumps({"id": employee.id, "pw": (employee.password_hash or "")[-16:]})


def invitation_url(employee):
    """The absolute set-password link for the employee."""
    from app.services import qr

    return qr.public_base_url() + url_for("account.accept_invitation", token=invitation_token(employee))


def employee_for_invitation(token):
    """The employee a still-valid, unused invitation token names, or None."""
    try:
        data = _serializer().loads(token, max_age=INVITATION_DAYS * 24 * 3600)
    except (BadSignature, SignatureExpired):
        return None
    employee = db.session.get(Employee, data.get("id")) if isinstance(data, dict) else None
    if employee is None or not employee.active or (employee.password_hash or "")[-16:] != data.get("pw"):
        return None
    return employee


def accept_invitation(employee, password, confirmation):
    """The invited employee chooses their password."""
    if password != confirmation:
        raise ValidationError(_("The two passwords differ."), field="confirmation")
    accounts.validate_password(password)
    employee.set_password(password)
    accounts.end_sessions_later(employee)
    audit.record(AuditKind.INVITATION_ACCEPTED, actor=employee, subject=employee)  # commits
    accounts.sessions_ended(employee)
    return employee


def invite(employee, *, actor):
    """Send the set-password link by e-mail when SMTP is configured; returns (link, sent)."""
    import smtplib

    _allowed(actor)
    link = invitation_url(employee)
    if not current_app.config.get("MAIL_SERVER"):
        return link, False
    try:
        send_invitation_mail(employee, link)
    except (OSError, smtplib.SMTPException) as error:
        current_app.logger.warning("Invitation mail to %s failed: %s", employee.email, error)
        return link, False
    return link, True


def send_invitation_mail(employee, link):
    """One plain-text invitation mail, sent synchronously over SMTP."""
    import smtplib
    from email.message import EmailMessage

    config = current_app.config
    message = EmailMessage()
    message["Subject"] = _("Your Ticketwerk account")
    message["From"] = config["MAIL_DEFAULT_SENDER"]
    message["To"] = employee.email
    message.set_content(
        _(
            "Hello %(name)s,\n\nan account was created for you. Choose your password here "
            "(the link works for %(days)d days):\n\n%(link)s\n",
            name=employee.name,
            days=INVITATION_DAYS,
            link=link,
        )
    )
    with smtplib.SMTP(config["MAIL_SERVER"], int(config.get("MAIL_PORT") or 25), timeout=15) as smtp:
        if config.get("MAIL_USE_TLS"):
            smtp.starttls()
        if config.get("MAIL_USERNAME"):
            smtp.login(config["MAIL_USERNAME"], config.get("MAIL_PASSWORD") or "")
        smtp.send_message(message)


def save_team(team, *, name, member_ids=(), actor):
    """Create (team=None) or edit a team and its members."""
    _allowed(actor)
    name = (name or "").strip()
    if not name or len(name) > 120:
        raise ValidationError(_("Please enter a name (at most 120 characters)."), field="name")
    clash = db.session.scalar(sa.select(Team).filter_by(name=name))
    if clash is not None and clash is not team:
        raise ValidationError(_("A team with this name exists already."), field="name")
    members = [db.session.get(Employee, i) for i in parse_ids(member_ids)]
    if team is None:
        team = Team()
        db.session.add(team)
    team.name, team.members = name, [m for m in members if m is not None]
    db.session.commit()
    return team


def delete_team(team, *, actor):
    """Delete a team; groups lose it, its employees stay."""
    _allowed(actor)
    db.session.delete(team)
    db.session.commit()
