"""Employees, teams and organisation settings (administrators), and the invitation page."""
import sqlalchemy as sa
from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    send_from_directory,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, logout_user

from app.blueprints.admin import admin_only, bp, search_arg, searched
from app.blueprints.admin.forms import (
    EmployeeForm,
    InvitationForm,
    NewEmployeeForm,
    OrganisationForm,
    PasswordForm,
    TeamForm,
)
from app.extensions import db
from app.models import Employee, Organisation, Team
from app.refusals import back_on_refusal
from app.services import accounts, organisation, staff, uploads

account_bp = Blueprint("account", __name__)


@bp.get("/employees")
@admin_only
def employees():
    """All employees, active first, with an optional search by name or e-mail (folded: app.text_folding)."""
    search = search_arg()
    query = searched(sa.select(Employee).order_by(Employee.active.desc(), Employee.name), Employee, search)
    return render_template("admin/employees.html", employees=db.session.scalars(query).all(), search=search)


@bp.route("/employees/new", methods=["GET", "POST"])
@admin_only
def employee_new():
    """Create an employee with a password, or invite them to choose one."""
    form = NewEmployeeForm()
    form.render_on_refusal("admin/employee_form.html", form=form, employee_row=None)
    if form.submitted():
        invite = form.mode.data == "invite"
        employee = staff.create_employee(
            name=form.name.data, email=form.email.data, role=form.role.data, language=form.language.data,
            password="" if invite else form.password.data, actor=current_user,
        )
        if invite:
            return _show_invitation(employee)
        flash(_("Employee “%(name)s” created.", name=employee.name), "success")
        return redirect(url_for("admin.employee", employee_id=employee.id))
    return render_template("admin/employee_form.html", form=form, employee_row=None)


def _show_invitation(employee):
    """Send the invitation; without SMTP show the one-time link to the administrator."""
    link, sent = staff.invite(employee, actor=current_user)
    if sent:
        flash(_("An invitation was sent to %(email)s.", email=employee.email), "success")
        return redirect(url_for("admin.employee", employee_id=employee.id))
    return render_template("admin/invitation.html", employee_row=employee, link=link)


@bp.route("/employees/<int:employee_id>", methods=["GET", "POST"])
@admin_only
def employee(employee_id):
    """Edit an employee: name, e-mail, role, language, active."""
    employee = db.get_or_404(Employee, employee_id)
    form = EmployeeForm(obj=employee, role=employee.role.value)
    page = {"form": form, "employee_row": employee, "password_form": PasswordForm(formdata=None, id_prefix="p-")}
    form.render_on_refusal("admin/employee.html", **page)
    if form.submitted():
        staff.update_employee(employee, **form.data, actor=current_user)
        flash(_("Employee saved."), "success")
        return redirect(url_for("admin.employee", employee_id=employee.id))
    return render_template("admin/employee.html", **page)


@bp.post("/employees/<int:employee_id>/invite")
@admin_only
def employee_invite(employee_id):
    """Send (or show) a new set-password link."""
    return _show_invitation(db.get_or_404(Employee, employee_id))


@bp.post("/employees/<int:employee_id>/password")
@admin_only
def employee_password(employee_id):
    """Set a new password for an employee."""
    employee = db.get_or_404(Employee, employee_id)
    back = back_on_refusal(url_for("admin.employee", employee_id=employee.id))
    form = PasswordForm()
    form.submitted()
    staff.set_password(employee, form.password.data, actor=current_user)
    flash(_("Password changed."), "success")
    return redirect(back)


@bp.post("/employees/<int:employee_id>/sign-out")
@admin_only
def employee_sign_out(employee_id):
    """End every sign-in of an employee: sessions, remember-me cookies and open sockets."""
    employee = db.get_or_404(Employee, employee_id)
    back = back_on_refusal(url_for("admin.employee", employee_id=employee.id))
    accounts.end_sessions(employee, actor=current_user)
    flash(_("%(name)s is signed out on every device.", name=employee.name), "success")
    return redirect(back)


@bp.get("/teams")
@admin_only
def teams():
    """All teams with their members."""
    rows = db.session.scalars(sa.select(Team).order_by(Team.name)).all()
    return render_template("admin/teams.html", teams=rows)


@bp.route("/teams/new", methods=["GET", "POST"])
@admin_only
def team_new():
    """Create a team."""
    form = TeamForm()
    form.render_on_refusal("admin/team_form.html", form=form, team=None)
    if form.submitted():
        team = staff.save_team(None, **form.data, actor=current_user)
        flash(_("Team “%(name)s” created.", name=team.name), "success")
        return redirect(url_for("admin.teams"))
    return render_template("admin/team_form.html", form=form, team=None)


@bp.route("/teams/<int:team_id>", methods=["GET", "POST"])
@admin_only
def team(team_id):
    """Edit a team's name and members."""
    team = db.get_or_404(Team, team_id)
    form = TeamForm(obj=team, member_ids=[m.id for m in team.members])
    form.render_on_refusal("admin/team_form.html", form=form, team=team)
    if form.submitted():
        staff.save_team(team, **form.data, actor=current_user)
        flash(_("Team saved."), "success")
        return redirect(url_for("admin.teams"))
    return render_template("admin/team_form.html", form=form, team=team)


@bp.post("/teams/<int:team_id>/delete")
@admin_only
def team_delete(team_id):
    """Delete a team."""
    staff.delete_team(db.get_or_404(Team, team_id), actor=current_user)
    flash(_("Team deleted."), "success")
    return redirect(url_for("admin.teams"))


@bp.route("/organisation", methods=["GET", "POST"])
@admin_only
def organisation_settings():
    """Name, logo, public and video base URLs, auto-close days, upload limit."""
    org = organisation.ensure_organisation(actor=current_user)
    form = OrganisationForm(obj=org)
    form.render_on_refusal("admin/organisation.html", form=form, org=org)
    if form.submitted():
        organisation.update_settings(**form.data, actor=current_user)
        flash(_("Settings saved."), "success")
        return redirect(url_for("admin.organisation_settings"))
    return render_template("admin/organisation.html", form=form, org=org)


@account_bp.get("/logo")
def logo():
    """The organisation's logo (public: it appears on code users' pages too)."""
    org = db.session.get(Organisation, 1)
    if org is None or not org.logo_name:
        abort(404)
    return send_from_directory(uploads.folder(), org.logo_name, max_age=300)


@account_bp.route("/invite/<token>", methods=["GET", "POST"])
def accept_invitation(token):
    """An invited employee chooses their password, then logs in."""
    employee = staff.employee_for_invitation(token)
    if employee is None:
        return render_template("admin/invite_accept.html", employee_row=None), 404
    form = InvitationForm(id_prefix="")
    form.render_on_refusal("admin/invite_accept.html", form=form, employee_row=employee)
    if form.submitted():
        staff.accept_invitation(employee, form.password.data, form.confirmation.data)
        if current_user.is_authenticated:
            logout_user()
        flash(_("Your password is set. Please log in."), "success")
        return redirect(url_for("auth.login"))
    return render_template("admin/invite_accept.html", form=form, employee_row=employee)
