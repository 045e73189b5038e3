"""E-mail over SMTP (FLASK_MAIL_* settings): notification mails with HTML and text bodies in the reader's language.

smtplib and the e-mail builder are imported by the functions that build and send, not at module load."""
import unicodedata

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _

from app.services.notification_links import external_url
from app.services.notification_wording import describe


class MailError(Exception):
    """Sending failed; `permanent` says whether a retry can help."""

    def __init__(self, message, permanent=False):
        super().__init__(message)
        self.permanent = permanent


def header_text(value):
    """`value` as one safe header line: line breaks and other controls (Cc, Zl, Zp) become spaces, format
    characters (Cf: direction controls, zero-width) vanish, runs of spaces shrink to one.

    Older rows may hold such characters although the forms refuse them now (input_checks.CONTROL_CATEGORIES);
    a bare CR or LF would end the header (RFC 5322 §2.2) and Python refuses to build the message.
    EmailMessage encodes the rest (non-ASCII as RFC 2047 UTF-8 words)."""
    characters = []
    for character in str(value or ""):
        category = unicodedata.category(character)
        if category in ("Cc", "Zl", "Zp"):
            characters.append(" ")
        elif category != "Cf":
            characters.append(character)
    return " ".join("".join(characters).split())


def render(template_name, **context):
    """Render a mail template (no request needed)."""
    return current_app.jinja_env.get_template(template_name).render(**context)


def build_notification_mail(notification, to, language):
    """The EmailMessage for one notification, rendered in `language` with its time in the current zone (the
    dispatcher forces the recipient's); MailError(permanent) when `to` or the sender cannot be a header. The
    subject goes through `header_text`."""
    with force_locale(language):
        info = describe(notification)
        context = {
            "info": info,
            "when": notification.created_at,
            "url": external_url(notification),
            "ticket": notification.ticket,
            "language": language,
            "code_user": notification.receiver_id is not None,
            "link_days": current_app.config["CODE_USER_LINK_DAYS"],
        }
        text = render("mail/notification.txt", **context)
        html = render("mail/notification.html", **context)
    return _message(info["title"], to, text, html, language)


def _message(subject, to, text, html, language):
    """An automatic mail (text and HTML) from the configured sender; the subject goes through `header_text`.
    MailError(permanent) when `to` or the sender cannot be a header (a line break in it): retrying cannot help."""
    from email.message import EmailMessage
    from email.utils import make_msgid

    message = EmailMessage()
    try:
        message["Subject"] = header_text(subject)
        message["From"] = current_app.config["MAIL_DEFAULT_SENDER"]
        message["To"] = to
    except ValueError as error:
        raise MailError(f"cannot build the mail headers: {error}"[:300], permanent=True) from None
    message["Message-ID"] = make_msgid(domain="ticketwerk")
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    message["Content-Language"] = language  # after the bodies: set_content clears Content-* headers
    return message


def build_password_reset_mail(employee, link, language, minutes):
    """The EmailMessage with `employee`'s password reset `link` (valid `minutes`), rendered in `language`."""
    with force_locale(language):
        subject = _("Reset your Ticketwerk password")
        context = {"employee": employee, "link": link, "minutes": minutes, "language": language, "subject": subject}
        text = render("mail/password_reset.txt", **context)
        html = render("mail/password_reset.html", **context)
    return _message(subject, employee.email, text, html, language)


def build_email_confirmation_mail(receiver, link, language, hours):
    """The EmailMessage asking a code user to confirm `receiver`'s address for news about its ticket with `link`
    (valid `hours`), rendered in `language`; MailError(permanent) when the address cannot be a header."""
    with force_locale(language):
        number = receiver.ticket.display_number if receiver.ticket is not None else ""
        subject = _("Please confirm your e-mail address for %(number)s", number=number)
        context = {"receiver": receiver, "number": number, "link": link, "hours": hours, "language": language,
                   "subject": subject}
        text = render("mail/email_confirmation.txt", **context)
        html = render("mail/email_confirmation.html", **context)
    return _message(subject, receiver.email, text, html, language)


def send(message):
    """Deliver through the configured SMTP server; MailError on failure."""
    import smtplib

    config = current_app.config
    host, port = config.get("MAIL_SERVER"), int(config.get("MAIL_PORT") or 25)
    if not host:
        raise MailError("e-mail is not configured (FLASK_MAIL_SERVER)", permanent=True)
    smtp_class = smtplib.SMTP_SSL if port == 465 else smtplib.SMTP
    try:
        with smtp_class(host, port, timeout=10) as smtp:
            if _truthy(config.get("MAIL_USE_TLS")) and smtp_class is smtplib.SMTP:
                smtp.starttls()
            if config.get("MAIL_USERNAME"):
                smtp.login(config["MAIL_USERNAME"], config.get("MAIL_PASSWORD") or "")
            smtp.send_message(message)
    except smtplib.SMTPNotSupportedError as error:  # e.g. a non-ASCII address and a server without SMTPUTF8
        raise MailError(f"SMTP server {host}:{port} cannot take this mail: {error}"[:300], permanent=True) from None
    except (ValueError, UnicodeError) as error:  # the message cannot be serialised: the same next time
        raise MailError(f"the mail cannot be sent: {type(error).__name__}: {error}"[:300], permanent=True) from None
    except smtplib.SMTPRecipientsRefused as error:
        raise MailError(f"recipient refused: {error.recipients}", permanent=True) from None
    except smtplib.SMTPResponseException as error:
        permanent = 500 <= error.smtp_code < 600
        raise MailError(f"SMTP {error.smtp_code}: {error.smtp_error!r}"[:300], permanent) from None
    except (OSError, smtplib.SMTPException) as error:
        raise MailError(f"SMTP server {host}:{port} unreachable: {type(error).__name__}: {error}"[:300]) from None


def _truthy(value):
    """Environment values arrive as strings."""
    return str(value).strip().lower() in ("1", "true", "yes", "on")
