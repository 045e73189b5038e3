"""Notifications: the bell and list, settings, web-push subscriptions, service worker, manifest, signed links."""
import os

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    make_response,
    redirect,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from app import identity, policy
from app.blueprints.notifications.forms import PreferencesForm, preferences_data
from app.enums import PREFERENCE_EVENTS
from app.extensions import db
from app.htmx import is_htmx, render
from app.models import Notification, Ticket
from app.refusals import on_refusal
from app.services import (
    code_access,
    inbox,
    notification_links,
    notification_preferences,
    push,
    receiver_emails,
    subscriptions,
)

bp = Blueprint("notifications", __name__)


@bp.app_context_processor
def notification_helpers():
    """Helpers the partials other areas include need."""
    return {
        "delivery_log": inbox.delivery_log,
        "DELIVERY_LOG_SHOWN": inbox.DELIVERY_LOG_SHOWN,
        "push_public_key": _public_key_or_none,
        "unread_notifications": _unread_for_current_user,
        "code_user_receiver": _code_user_receiver,
        "current_code_visitor": identity.current_code_visitor,
    }


def _unread_for_current_user():
    """Unread count of the logged-in employee (0 for anyone else)."""
    return inbox.unread_count(current_user.id) if policy.is_employee(current_user) else 0


def _code_user_receiver(ticket):
    """This browser's receiver row for the ticket, or None."""
    code_user = identity.current_code_user()
    return subscriptions.receiver_for(ticket, code_user) if code_user is not None else None


def _public_key_or_none():
    """The VAPID public key for PushManager.subscribe, or None when keys cannot be made."""
    try:
        return push.application_server_key()
    except OSError:
        return None


@bp.get("/notifications")
@identity.back_office_only
def index():
    """The notification list."""
    return _list(block="list")


def _list(**options):
    """The notification list page (or its `block`) of the logged-in employee."""
    unread = inbox.unread_count(current_user.id)
    return render("notifications/list.html", stacks=inbox.stacked(current_user.id), unread=unread, **options)


@bp.get("/notifications/bell")
@identity.back_office_only
def bell():
    """The bell's unread count (it fetches itself again when the socket (re)connects)."""
    return render("notifications/_bell_count.html", unread=inbox.unread_count(current_user.id))


@bp.get("/notifications/recent")
@identity.back_office_only
def recent():
    """The newest stacks as a fragment (for the bell's dropdown)."""
    return render("notifications/_items.html", stacks=inbox.stacked(current_user.id, limit=8))


@bp.post("/notifications/<int:notification_id>/read")
@identity.back_office_only
def mark_read(notification_id):
    """Mark one stack (every notification of that ticket and event) read."""
    inbox.mark_stack_read(db.session.get(Notification, notification_id), actor=current_user)
    return _after_change()


@bp.post("/notifications/read-all")
@identity.back_office_only
def mark_all_read():
    """Mark everything read."""
    inbox.mark_all_read(actor=current_user)
    return _after_change()


def _after_change():
    """Nothing for a beacon from a ticket link; the list with the bell's new count for htmx; else a redirect."""
    if request.form.get("next") == "ticket":
        return ("", 204)
    if is_htmx():
        return _list(block="list", bell_out_of_band=True)
    return redirect(url_for("notifications.index"))


@bp.route("/settings/notifications", methods=["GET", "POST"])
@identity.back_office_only
def settings():
    """Per event: channels, origin, strategy."""
    shown = None if request.method == "POST" else preferences_data(_preferences(current_user))
    form = PreferencesForm(data=shown)
    on_refusal(lambda error: _settings_page(form))
    if not form.validate_on_submit():
        return _settings_page(form, status=422 if form.errors else 200)
    notification_preferences.update_preferences(form.choices(), actor=current_user)
    flash(_("Your notification settings are saved."), "success")
    return redirect(url_for("notifications.settings"))


def _preferences(employee):
    """{event: effective Preference} of the employee."""
    stored = notification_preferences.stored_preferences(employee)
    return {event: notification_preferences.preference_for(employee, event, stored) for event in PREFERENCE_EVENTS}


def _settings_page(form, status=200):
    """The settings page with `form` (invalid rows marked)."""
    return render(
        "notifications/settings.html",
        form=form,
        mail_configured=notification_preferences.mail_configured(),
        status=status,
    )


def _subscription_fields():
    """endpoint, p256dh and auth (str or None each) from a PushSubscription.toJSON() body (or a form).

    A body of another shape (a list, a number, `keys` that is no object, values that are no strings) counts as
    missing those fields, which the subscription service refuses with its message."""
    data = _json_object(request.get_json(silent=True))
    keys = _json_object(data.get("keys"))
    return (
        _json_text(data.get("endpoint")) or request.form.get("endpoint"),
        _json_text(keys.get("p256dh")) or request.form.get("p256dh"),
        _json_text(keys.get("auth")) or request.form.get("auth"),
    )


def _json_object(value):
    """`value` when it is a JSON object (dict), else {}."""
    return value if isinstance(value, dict) else {}


def _json_text(value):
    """`value` when it is a JSON string, else None."""
    return value if isinstance(value, str) else None


@bp.get("/push/key")
def push_key():
    """The VAPID public key (applicationServerKey)."""
    return jsonify({"key": push.application_server_key()})


@bp.post("/push/subscribe")
@identity.back_office_only
def push_subscribe():
    """Subscribe this browser to the employee's web pushes."""
    on_refusal(_json_refusal)
    subscriptions.subscribe_push(*_subscription_fields(), actor=current_user)
    return jsonify({"subscribed": True})


@bp.post("/push/unsubscribe")
@identity.back_office_only
def push_unsubscribe():
    """Stop web pushes to this browser."""
    removed = subscriptions.unsubscribe_push(_subscription_fields()[0], actor=current_user)
    return jsonify({"subscribed": False, "removed": removed})


def _json_refusal(error):
    """How a script's request hears of a refusal: {"error": message} with the error's status."""
    return jsonify({"error": error.message})


def _code_user_ticket(number):
    """The PUBLIC ticket this code visitor may see, else 404."""
    visitor = identity.current_code_visitor()
    ticket = db.session.get(Ticket, number)
    if ticket is None or not policy.can_follow_ticket(visitor, ticket):
        abort(404)
    return visitor, ticket


@bp.post("/receivers/<int:number>/push")
def receiver_push_subscribe(number):
    """A code user's browser hears back about one ticket by web push."""
    visitor, ticket = _code_user_ticket(number)
    on_refusal(_json_refusal)
    subscriptions.follow_by_push(ticket, *_subscription_fields(), actor=visitor)
    return jsonify({"subscribed": True})


@bp.post("/receivers/<int:number>/push/unsubscribe")
def receiver_push_unsubscribe(number):
    """Stop web pushes about one ticket to this browser."""
    visitor, ticket = _code_user_ticket(number)
    removed = subscriptions.unfollow_by_push(ticket, _subscription_fields()[0], actor=visitor)
    return jsonify({"subscribed": False, "removed": removed})


@bp.post("/receivers/<int:number>/email")
def receiver_email(number):
    """A code user leaves (or removes) an e-mail address to hear back about one ticket."""
    visitor, ticket = _code_user_ticket(number)
    email = (request.form.get("email") or "").strip()
    on_refusal(
        lambda error: render(
            "notifications/_code_user_optin.html",
            ticket=ticket,
            receiver=subscriptions.receiver_for(ticket, visitor),
            email_error=error.message,
            email_value=email,
        )
    )
    receiver = subscriptions.set_follow_email(ticket, email, actor=visitor)
    if is_htmx():
        return render(
            "notifications/_code_user_optin.html",
            ticket=ticket,
            receiver=receiver,
            email_saved=bool(email),
            email_removed=not email,
        )
    return redirect(url_for("public.ticket", token=notification_links.ticket_code(ticket).token, number=ticket.id))


@bp.route("/receivers/confirm/<token>", methods=["GET", "POST"])
def confirm_receiver_email(token):
    """The link in a code user's confirmation mail: a page with one button (so a mail scanner that opens links
    confirms nothing), which confirms the address; a forged, changed or expired link gets a clear page."""
    on_refusal(_refused_confirmation)
    if request.method == "POST":
        receiver_emails.confirm_email(token)
        return redirect(url_for("notifications.confirm_receiver_email", token=token))
    receiver = receiver_emails.receiver_for_token(token)
    ticket_url = notification_links.code_user_ticket_url(receiver) if policy.can_receive(receiver, receiver.ticket) else None
    return render("notifications/confirm_email.html", receiver=receiver, ticket_url=ticket_url)


def _refused_confirmation(error):
    """An expired link (410) or a forged, changed or withdrawn one (404), with what to do instead."""
    title = _("This link has expired") if isinstance(error, receiver_emails.LinkExpired) else _("Link not valid")
    return render("errors/error.html", title=title, text=error.message)


@bp.get("/service-worker.js")
def service_worker():
    """The service worker from the root scope, never cached stale."""
    with open(os.path.join(current_app.static_folder, "sw.js"), "rb") as source:
        response = make_response(source.read())
    response.mimetype = "text/javascript"
    response.headers["Service-Worker-Allowed"] = "/"
    response.headers["Cache-Control"] = "no-cache"
    return response


def _web_app_manifest():
    """The manifest's members (W3C Web Application Manifest): name, start page, colours and icons."""
    icon = url_for("static", filename="icons/icon-512.png")
    return {
        "name": "Ticketwerk",
        "short_name": "Ticketwerk",
        "start_url": "/",
        "scope": "/",
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": "#1d4ed8",
        "icons": [
            {"src": url_for("static", filename="icons/icon-192.png"), "sizes": "192x192", "type": "image/png"},
            {"src": icon, "sizes": "512x512", "type": "image/png"},
            {"src": icon, "sizes": "512x512", "type": "image/png", "purpose": "maskable"},
        ],
    }


@bp.get("/manifest.webmanifest")
def manifest():
    """The web app manifest (installable on phones), cached for an hour."""
    response = jsonify(_web_app_manifest())
    response.mimetype = "application/manifest+json"
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


@bp.get("/r/<token>")
def code_user_link(token):
    """A code user's signed ticket link from an e-mail: grants access to the device and opens the ticket."""
    on_refusal(_refused_link)
    code, ticket = notification_links.resolve_receiver_link(token)
    code_access.open_code_session_by_link(code, actor=identity.current_code_user(create=True))
    identity.forget_code_visitor()
    return redirect(url_for("public.ticket", token=code.token, number=ticket.id))


def _refused_link(error):
    """A stale link (LinkGone) gets its own page and 410; a forged or withdrawn one the plain 404."""
    if isinstance(error, notification_links.LinkGone):
        return render("errors/error.html", title=_("This link has expired"), text=error.message, status=410)
    return render("errors/error.html", title=_("Not found"), text=error.message)
