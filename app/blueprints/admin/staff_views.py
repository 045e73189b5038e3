"""Employees, teams and organisation settings (administrators), and the invitation page."""
import sqlalchemy as sa
from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    request,
    send_from_directory,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, logout_user

from app.blueprints.admin.core import admin_only, bp, checked, form_page, load, render
from app.enums import Role
from app.extensions import db
from app.models import Employee, Organisation, Team
from app.services import organisation, staff, uploads
from app.services.errors import ServiceError, ValidationError

account_bp = Blueprint("account", __name__)


def _languages():
    """UI languages with their names."""
    return [("de", "Deutsch"), ("en", "English")]


# ---------------------------------------------------------------- employees


@bp.get("/employees")
@admin_only
def employees():
    """All employees, active first."""
    rows = db.session.scalars(sa.select(Employee).order_by(Employee.active.desc(), Employee.name)).all()
    return render("admin/employees.html", employees=rows)


@bp.route("/employees/new", methods=["GET", "POST"])
@admin_only
def employee_new():
    """Create an employee with a password, or invite them to choose one."""
    context = {"employee_row": None, "roles": list(Role), "languages": _languages()}
    if request.method == "POST":
        form = request.form
        invite = form.get("mode", "invite") == "invite"
        try:
            if not invite and not form.get("password"):
                raise ValidationError(_("Please enter a password or choose to send an invitation."), field="password")
            employee = staff.create_employee(
                name=form.get("name"), email=form.get("email"), role=form.get("role"), language=form.get("language"),
                password="" if invite else form.get("password", ""), actor=current_user,
            )
        except ValidationError as error:
            db.session.rollback()
            return form_page("admin/employee_form.html", error=error, **context)
        if invite:
            return _show_invitation(employee)
        flash(_("Employee “%(name)s” created.", name=employee.name), "success")
        return redirect(url_for("admin.employee", employee_id=employee.id))
    return form_page("admin/employee_form.html", values={"role": "member", "language": "de", "mode": "invite"}, **context)


def _show_invitation(employee):
    """Send the invitation; without SMTP show the one-time link to the administrator."""
    link, sent = staff.invite(employee, actor=current_user)
    if sent:
        flash(_("An invitation was sent to %(email)s.", email=employee.email), "success")
        return redirect(url_for("admin.employee", employee_id=employee.id))
    return render("admin/invitation.html", employee_row=employee, link=link)


@bp.route("/employees/<int:employee_id>", methods=["GET", "POST"])
@admin_only
def employee(employee_id):
    """Edit an employee: name, e-mail, role, language, active."""
    employee = load(Employee, employee_id)
    values = {"name": employee.name, "email": employee.email, "role": employee.role.value,
              "language": employee.language, "active": employee.active}
    context = {"employee_row": employee, "roles": list(Role), "languages": _languages()}
    if request.method == "POST":
        form = request.form
        try:
            staff.update_employee(employee, name=form.get("name"), email=form.get("email"), role=form.get("role"),
                                  language=form.get("language"), active=checked("active"), actor=current_user)
        except ValidationError as error:
            db.session.rollback()
            return form_page("admin/employee.html", error=error, values=values, **context)
        flash(_("Employee saved."), "success")
        return redirect(url_for("admin.employee", employee_id=employee.id))
    return form_page("admin/employee.html", values=values, **context)


@bp.post("/employees/<int:employee_id>/invite")
@admin_only
def employee_invite(employee_id):
    """Send (or show) a new set-password link."""
    return _show_invitation(load(Employee, employee_id))


@bp.post("/employees/<int:employee_id>/password")
@admin_only
def employee_password(employee_id):
    """Set a new password for an employee."""
    employee = load(Employee, employee_id)
    try:
        staff.set_password(employee, request.form.get("password", ""), actor=current_user)
    except ServiceError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        flash(_("Password changed."), "success")
    return redirect(url_for("admin.employee", employee_id=employee.id))


# ---------------------------------------------------------------- teams


@bp.get("/teams")
@admin_only
def teams():
    """All teams with their members."""
    rows = db.session.scalars(sa.select(Team).order_by(Team.name)).all()
    return render("admin/teams.html", teams=rows)


def _all_employees():
    """Employees for member pickers."""
    return db.session.scalars(sa.select(Employee).order_by(Employee.active.desc(), Employee.name)).all()


@bp.route("/teams/new", methods=["GET", "POST"])
@admin_only
def team_new():
    """Create a team."""
    if request.method == "POST":
        try:
            team = staff.save_team(None, name=request.form.get("name"), member_ids=request.form.getlist("member_ids"),
                                   actor=current_user)
        except ValidationError as error:
            db.session.rollback()
            return form_page("admin/team_form.html", error=error, team=None, employees=_all_employees())
        flash(_("Team “%(name)s” created.", name=team.name), "success")
        return redirect(url_for("admin.teams"))
    return form_page("admin/team_form.html", team=None, employees=_all_employees(), values={"member_ids": []})


@bp.route("/teams/<int:team_id>", methods=["GET", "POST"])
@admin_only
def team(team_id):
    """Edit a team's name and members."""
    team = load(Team, team_id)
    values = {"name": team.name, "member_ids": [str(m.id) for m in team.members]}
    if request.method == "POST":
        try:
            staff.save_team(team, name=request.form.get("name"), member_ids=request.form.getlist("member_ids"),
                            actor=current_user)
        except ValidationError as error:
            db.session.rollback()
            return form_page("admin/team_form.html", error=error, team=team, employees=_all_employees(), values=values)
        flash(_("Team saved."), "success")
        return redirect(url_for("admin.teams"))
    return form_page("admin/team_form.html", team=team, employees=_all_employees(), values=values)


@bp.post("/teams/<int:team_id>/delete")
@admin_only
def team_delete(team_id):
    """Delete a team."""
    staff.delete_team(load(Team, team_id), actor=current_user)
    flash(_("Team deleted."), "success")
    return redirect(url_for("admin.teams"))


# ---------------------------------------------------------------- organisation


@bp.route("/organisation", methods=["GET", "POST"])
@admin_only
def organisation_settings():
    """Name, logo, public and video base URLs, auto-close days, upload limit."""
    org = organisation.ensure_organisation(actor=current_user)
    values = {"name": org.name, "public_base_url": org.public_base_url or "", "video_base_url": org.video_base_url or "",
              "autoclose_days": str(org.autoclose_days), "upload_limit_mb": str(org.upload_limit_mb or "")}
    if request.method == "POST":
        form = request.form
        try:
            organisation.update_settings(
                name=form.get("name"), public_base_url=form.get("public_base_url"),
                video_base_url=form.get("video_base_url"), autoclose_days=form.get("autoclose_days"),
                upload_limit_mb=form.get("upload_limit_mb"), logo=request.files.get("logo"),
                remove_logo=checked("remove_logo"), actor=current_user,
            )
        except ValidationError as error:
            db.session.rollback()
            return form_page("admin/organisation.html", error=error, org=org, values=values)
        flash(_("Settings saved."), "success")
        return redirect(url_for("admin.organisation_settings"))
    return form_page("admin/organisation.html", org=org, values=values)


@account_bp.get("/logo")
def logo():
    """The organisation's logo (public: it appears on code users' pages too)."""
    org = db.session.get(Organisation, 1)
    if org is None or not org.logo_name:
        abort(404)
    return send_from_directory(uploads.folder(), org.logo_name, max_age=300)


# ---------------------------------------------------------------- invitations


@account_bp.route("/invite/<token>", methods=["GET", "POST"])
def accept_invitation(token):
    """An invited employee chooses their password, then logs in."""
    employee = staff.employee_for_invitation(token)
    if employee is None:
        return render("admin/invite_accept.html", employee_row=None, errors={}, status=404)
    if request.method == "POST":
        try:
            staff.accept_invitation(employee, request.form.get("password", ""), request.form.get("confirmation", ""))
        except ValidationError as error:
            db.session.rollback()
            return render("admin/invite_accept.html", employee_row=employee, errors={error.field: error.message},
                          status=422)
        if current_user.is_authenticated:
            logout_user()
        flash(_("Your password is set. Please log in."), "success")
        return redirect(url_for("auth.login"))
    return render("admin/invite_accept.html", employee_row=employee, errors={})
