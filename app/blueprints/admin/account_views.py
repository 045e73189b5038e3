"""An employee's own account: two-factor sign-in (set up, recovery codes, off)."""
from flask import flash, redirect, render_template, session, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.blueprints.admin.forms import TwoFactorOffForm, TwoFactorSetupForm
from app.blueprints.admin.staff_views import account_bp
from app.identity import back_office_only
from app.refusals import on_refusal
from app.services import qr, two_factor

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
    return render_template("account/two_factor.html", form=form, secret=secret, qr_uri=qr.png_data_uri(uri),
                           required=two_factor.required_roles())


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
