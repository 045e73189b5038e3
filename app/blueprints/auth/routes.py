"""Employee login (password, then a code for those with two-factor sign-in) and logout, language switch,
self-service password reset."""
from flask import Blueprint, current_app, flash, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from app import identity
from app.blueprints.auth.forms import (
    ForgotPasswordForm,
    LoginForm,
    ResetPasswordForm,
    SecondFactorForm,
)
from app.enums import AuditKind
from app.extensions import limiter
from app.htmx import render
from app.redirects import referrer_path, safe_next
from app.refusals import on_refusal
from app.services import audit, password_reset
from app.services.accounts import (
    authenticate,
    check_sign_in_code,
    end_sessions,
    record_sign_in,
    set_own_language,
)
from app.services.errors import ValidationError
from app.services.two_factor import recovery_codes_left

bp = Blueprint("auth", __name__)
SECOND_FACTOR = "_second_factor"  # session key: who gave the right password and still owes the code
SECOND_FACTOR_SECONDS = 300  # how long the code step waits after the password


def _safe_next(target):
    """Only same-site paths after login and the language switch (`app.redirects.safe_next`), else the home page."""
    return safe_next(target, url_for("home.index"))


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Show the form; log in with e-mail and password (too many failures: 429 with the wait, nothing checked)."""
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    if SECOND_FACTOR in session:
        return _second_factor_step()
    form = LoginForm()
    on_refusal(lambda error: _login_refused(form, error))
    if form.validate_on_submit():
        employee = authenticate(form.email.data, form.password.data)
        if employee is not None and employee.has_two_factor:
            return _ask_for_second_factor(employee, form.remember.data)
        if employee is not None:
            login_user(employee, remember=form.remember.data)
            record_sign_in(employee)
            session.pop("lang", None)
            return redirect(_safe_next(request.args.get("next")))
        form.password.errors = [_("E-mail or password is wrong, or the account is deactivated.")]
        return render("auth/login.html", form=form, status=401)
    return render("auth/login.html", form=form, status=422 if form.errors else 200)


def _login_refused(form, error):
    """Too many failures: the form again, the wait said at the password field."""
    form.password.errors = [error.message]
    return render("auth/login.html", form=form)


def _ask_for_second_factor(employee, remember):
    """The password was right and the employee has two-factor sign-in: remember who (not yet signed in), ask for
    the code on the same URL; wrong codes count against the account like wrong passwords."""
    session[SECOND_FACTOR] = {
        "id": employee.id, "generation": employee.session_generation, "remember": bool(remember),
        "next": request.args.get("next") or "", "since": int(identity.clock()),
    }
    return redirect(url_for("auth.login"))


def _second_factor_employee():
    """The employee whose password was right in this browser a moment ago, or None (expired, changed, gone)."""
    pending = session.get(SECOND_FACTOR)
    if not isinstance(pending, dict) or identity.clock() - pending.get("since", 0) > SECOND_FACTOR_SECONDS:
        return None
    employee = identity.employee_for_cookie(f"{pending.get('id')}:{pending.get('generation')}")
    return employee if employee is not None and employee.has_two_factor else None


def _second_factor_step():
    """The second step of signing in: a code from the app or a recovery code; wrong ones answer 401."""
    employee = _second_factor_employee()
    if employee is None or request.form.get("restart"):
        session.pop(SECOND_FACTOR, None)
        return redirect(url_for("auth.login"))
    form = SecondFactorForm()
    on_refusal(lambda error: _code_refused(form, error))
    if form.validate_on_submit():
        used = check_sign_in_code(employee, form.code.data)
        if used is not None:
            pending = session.pop(SECOND_FACTOR)
            login_user(employee, remember=pending.get("remember", False))
            if used == "recovery":
                audit.record(AuditKind.RECOVERY_CODE_USED, actor=employee, subject=employee)
            record_sign_in(employee)
            session.pop("lang", None)
            if used == "recovery":
                flash(_("You signed in with a recovery code; it no longer works. %(n)d are left.",
                        n=recovery_codes_left(employee)), "warning")
            return redirect(_safe_next(pending.get("next")))
        form.code.errors = [_("The code is wrong or was used already. Please enter the code your app shows now.")]
        return render("auth/second_factor.html", form=form, status=401)
    return render("auth/second_factor.html", form=form, status=422 if form.errors else 200)


def _code_refused(form, error):
    """Too many failures: the code form again, the wait said at the code field."""
    form.code.errors = [error.message]
    return render("auth/second_factor.html", form=form)


@bp.post("/logout")
@login_required
def logout():
    """End every sign-in of the employee (this browser, other devices, remember-me cookies, open sockets); their
    API tokens stay, as scripts do not sign in through a browser."""
    end_sessions(current_user, actor=current_user, api_tokens=False)
    logout_user()
    flash(_("You are logged out."), "info")
    return redirect(url_for("auth.login"))


@bp.post("/language")
def set_language():
    """Switch the UI language for this browser, and for an employee on every device they sign in on."""
    language = request.form.get("language")
    if language in current_app.config["LANGUAGES"]:
        session["lang"] = language
        if current_user.is_authenticated:
            set_own_language(current_user, language, actor=current_user, languages=current_app.config["LANGUAGES"])
    return redirect(_safe_next(request.form.get("next") or referrer_path()))


def _reset_request_limit():
    """Configured reset requests per client address."""
    return current_app.config["PASSWORD_RESET_RATE_LIMIT"]


@bp.route("/password/forgot", methods=["GET", "POST"])
@limiter.limit(_reset_request_limit, methods=["POST"])
def forgot_password():
    """Ask for a reset link; the answer is the same page whether the address has an (active) account or not."""
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        password_reset.request_reset(form.email.data)
        return render("auth/reset_requested.html", minutes=password_reset.lifetime_minutes())
    return render("auth/forgot_password.html", form=form, status=422 if form.errors else 200)


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def reset_password(token):
    """Choose a new password through the e-mailed link, then log in with it; a bad link gets a clear page."""
    form = ResetPasswordForm()
    on_refusal(lambda error: _reset_refused(form, error))
    employee = password_reset.employee_for_token(token)
    on_refusal(lambda error: _reset_refused(form, error, employee))
    if form.validate_on_submit():
        password_reset.reset_password(token, form.password.data, form.confirmation.data)
        if current_user.is_authenticated:
            logout_user()
        flash(_("Your new password is set. Please log in."), "success")
        return redirect(url_for("auth.login"))
    return render("auth/reset_password.html", form=form, employee_row=employee, status=422 if form.errors else 200)


def _reset_refused(form, error, employee=None):
    """A rule the new password breaks comes back at its field; an expired, used or forged link as a message."""
    if isinstance(error, ValidationError) and employee is not None:
        form[error.field if error.field in form else "password"].errors = [error.message]
        return render("auth/reset_password.html", form=form, employee_row=employee)
    return render("auth/reset_password.html", form=None, link_error=error.message, status=error.status_code)
