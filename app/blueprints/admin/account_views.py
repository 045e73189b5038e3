"""An employee's own account: name, language, password, two-factor sign-in and signing out everywhere."""
from flask import current_app, flash, redirect, render_template, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from app import policy
from app.blueprints.admin.forms import (
    ApiTokenForm,
    OwnAccountForm,
    OwnPasswordForm,
    TwoFactorOffForm,
    TwoFactorSetupForm,
)
from app.blueprints.admin.staff_views import account_bp
from app.identity import back_office_only
from app.refusals import on_refusal
from app.services import accounts, api_tokens, qr, two_factor

NEW_SECRET = "_new_totp_secret"  # session key: the secret shown on the set-up page until a first code confirms it


def _setup_page(form, off_form=None):
    """The two-factor page: the status and the off form when it is on, else the secret, its QR code and the code field."""
    if current_user.has_two_factor:
        return render_template("account/two_factor.html", off_form=off_form or TwoFactorOffForm(formdata=None),
                               left=two_factor.recovery_codes_left(current_user))
    secret = session.get(NEW_SECRET)
    if not secret:
        secret = session[NEW_SECRET] = two_factor.new_secret()
    uri = two_factor.provisioning_uri(current_user, secret)
    # A refused "turn off" while it is already off comes here without a set-up form: show a fresh one.
    form = form or TwoFactorSetupForm(formdata=None)
    return render_template("account/two_factor.html", form=form, secret=secret, qr_uri=qr.png_data_uri(uri),
                           otpauth_uri=uri, required=two_factor.required_roles())


@account_bp.route("/account/two-factor", methods=["GET", "POST"])
@back_office_only
def two_factor_setup():
    """Set up two-factor sign-in: scan the QR code (or type the secret), confirm a code, note the recovery codes."""
    form = TwoFactorSetupForm()
    on_refusal(lambda error: _setup_page(form.refused(error)))
    if not current_user.has_two_factor and form.submitted():
        codes = two_factor.enable(current_user, secret=session.get(NEW_SECRET), code=form.code.data, actor=current_user)
        session.pop(NEW_SECRET, None)
        return render_template("account/recovery_codes.html", codes=codes)
    return _setup_page(form)


@account_bp.post("/account/two-factor/off")
@back_office_only
def two_factor_off():
    """Turn two-factor sign-in off, confirmed by the password or a current code."""
    form = TwoFactorOffForm()
    on_refusal(lambda error: _setup_page(None, form.refused(error)))
    form.submitted()
    two_factor.disable(current_user, password=form.password.data, code=form.code.data, actor=current_user)
    flash(_("Two-factor sign-in is off."), "success")
    return redirect(url_for("account.two_factor_setup"))


def _account_page(account_form=None, password_form=None, token_form=None, new_token=None):
    """The account page with its forms (fresh ones unless a refusal brings the typed ones back); `new_token` is a
    token just made, whose secret this answer shows once."""
    employee = current_user._get_current_object()
    return render_template(
        "account/show.html",
        account_form=account_form or OwnAccountForm(formdata=None, obj=employee),
        password_form=password_form or OwnPasswordForm(formdata=None, id_prefix="p-"),
        token_form=token_form or ApiTokenForm(formdata=None, admin=policy.can_hold_api_scope(employee, "admin")),
        api_tokens=api_tokens.tokens_of(employee),
        new_token=new_token,
        left=two_factor.recovery_codes_left(employee) if employee.has_two_factor else 0,
    )


@account_bp.get("/account")
@back_office_only
def show():
    """The employee's own account: name, language, password, two-factor sign-in, sign-ins, notifications."""
    return _account_page()


@account_bp.post("/account")
@back_office_only
def update():
    """Save the employee's own name, language and time zone."""
    form = OwnAccountForm()
    on_refusal(lambda error: _account_page(account_form=form.refused(error)))
    form.submitted()
    accounts.update_own_account(current_user, name=form.name.data, language=form.language.data, actor=current_user,
                                languages=current_app.config["LANGUAGES"], time_zone=form.time_zone.data or "")
    session.pop("lang", None)
    flash(_("Your account is saved."), "success")
    return redirect(url_for("account.show"))


@account_bp.post("/account/password")
@back_office_only
def change_password():
    """Change the own password; every sign-in ends, and this browser is signed in again."""
    form = OwnPasswordForm(id_prefix="p-")
    on_refusal(lambda error: _account_page(password_form=form.refused(error)))
    form.submitted()
    employee = current_user._get_current_object()
    accounts.change_own_password(employee, current=form.current.data, password=form.password.data,
                                 confirmation=form.confirmation.data, actor=employee)
    login_user(employee)
    flash(_("Your password is changed. You were signed out on every other device."), "success")
    return redirect(url_for("account.show"))


@account_bp.post("/account/sign-out-everywhere")
@back_office_only
def sign_out_everywhere():
    """End every sign-in of the employee, this browser's too."""
    accounts.end_sessions(current_user, actor=current_user)
    logout_user()
    flash(_("You are signed out on every device."), "info")
    return redirect(url_for("auth.login"))


@account_bp.post("/account/api-tokens")
@back_office_only
def create_api_token():
    """Make a personal API token; the answer shows it once (it is stored only as a hash)."""
    employee = current_user._get_current_object()
    form = ApiTokenForm(admin=policy.can_hold_api_scope(employee, "admin"))
    on_refusal(lambda error: _account_page(token_form=form.refused(error)))
    form.submitted()
    made = api_tokens.create_token(employee, name=form.name.data, scopes=form.scopes.data or [],
                                   expires_in_days=form.expires_in_days.data or None, actor=employee)
    return _account_page(new_token=made)


@account_bp.post("/account/api-tokens/<int:token_id>/revoke")
@back_office_only
def revoke_api_token(token_id):
    """Revoke one of the own API tokens at once."""
    api_tokens.revoke_token(current_user, token_id, actor=current_user)
    flash(_("The token is revoked."), "success")
    return redirect(url_for("account.show") + "#account-api-tokens")
