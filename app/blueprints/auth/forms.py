"""Login forms (password, then the second factor) and the forms of the self-service password reset."""
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, Email, Length

from app.forms import HtmlForm


class LoginForm(HtmlForm):
    """E-mail and password."""

    email = EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])
    remember = BooleanField(_l("Stay logged in"))


class SecondFactorForm(HtmlForm):
    """The six-digit code of the authenticator app, or a recovery code."""

    code = StringField(_l("Code from the authenticator app, or a recovery code"),
                       validators=[DataRequired(message=_l("Please enter the code.")), Length(max=40)],
                       render_kw={"autocomplete": "one-time-code", "autocapitalize": "off", "spellcheck": "false"})


class ForgotPasswordForm(HtmlForm):
    """The e-mail address a reset link goes to."""

    email = EmailField(_l("E-mail"), filters=[lambda value: value.strip() if isinstance(value, str) else value], validators=[
        DataRequired(), Email(message=_l("Please enter a valid e-mail address.")), Length(max=254),
    ])


class ResetPasswordForm(HtmlForm):
    """A new password, twice; the account rules (services/accounts.validate_password) are checked by the service."""

    password = PasswordField(_l("New password (at least 8 characters)"), validators=[DataRequired(), Length(max=200)])
    confirmation = PasswordField(_l("Repeat the password"), validators=[DataRequired(), Length(max=200)])
