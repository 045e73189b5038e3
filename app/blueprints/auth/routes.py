"""Employee login and logout, language switch."""
from flask import Blueprint, current_app, flash, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from app.blueprints.auth.forms import LoginForm
from app.extensions import limiter
from app.htmx import render
from app.services.accounts import authenticate, end_sessions, set_own_language

bp = Blueprint("auth", __name__)


def _login_limit():
    """Configured wrong-password budget per address."""
    return current_app.config["LOGIN_RATE_LIMIT"]


def _safe_next(target):
    """Only same-site relative redirects after login."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("home.index")


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"], deduct_when=lambda response: response.status_code != 302)
def login():
    """Show the form; log in with e-mail and password."""
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    form = LoginForm()
    if form.validate_on_submit():
        employee = authenticate(form.email.data, form.password.data)
        if employee is not None:
            login_user(employee, remember=form.remember.data)
            session.pop("lang", None)
            return redirect(_safe_next(request.args.get("next")))
        form.password.errors = [_("E-mail or password is wrong, or the account is deactivated.")]
        return render("auth/login.html", form=form, status=401)
    return render("auth/login.html", form=form, status=422 if form.errors else 200)


@bp.post("/logout")
@login_required
def logout():
    """End every sign-in of the employee (this browser, other devices, remember-me cookies, open sockets)."""
    end_sessions(current_user, actor=current_user)
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
    return redirect(_safe_next(request.form.get("next") or request.referrer and request.referrer.split(request.host, 1)[-1]))
