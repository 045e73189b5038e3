"""Notifications: the bell and list, settings, web-push subscriptions, service worker, manifest, signed links."""
import os

import sqlalchemy as sa
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
from flask_login import current_user, login_required

from app import identity, policy
from app.enums import Channel, NotificationEvent, Origin, Strategy, Visibility
from app.extensions import db
from app.htmx import is_htmx, render, trigger
from app.models import Delivery, Notification, Ticket, TicketReceiver
from app.services import code_access, notifications, push, subscriptions
from app.services.errors import ValidationError
from app.workflow import TicketStatus

bp = Blueprint("notifications", __name__)

LIST_LIMIT = 300
CHANNEL_CHOICES = (Channel.WEBSOCKET, Channel.PUSH, Channel.EMAIL)


@bp.app_context_processor
def notification_helpers():
    """Helpers the partials other areas include need."""
    return {
        "delivery_log": delivery_log,
        "push_public_key": _public_key_or_none,
        "unread_notifications": _unread_for_current_user,
        "code_user_receiver": _code_user_receiver,
    }


def _unread_for_current_user():
    """Unread count of the logged-in employee (0 for anyone else)."""
    return notifications.unread_count(current_user.id) if current_user.is_authenticated else 0


def _code_user_receiver(ticket):
    """This browser's receiver row for the ticket, or None."""
    code_user = identity.current_code_user()
    if code_user is None:
        return None
    return db.session.scalar(sa.select(TicketReceiver).filter_by(ticket_id=ticket.id, code_user_id=code_user.id))


def _public_key_or_none():
    """The VAPID public key for PushManager.subscribe, or None when keys cannot be made."""
    try:
        return push.application_server_key()
    except OSError:
        return None


def delivery_log(ticket):
    """(notification, delivery) rows of a ticket, newest first, for the staff delivery log."""
    query = (
        sa.select(Notification, Delivery)
        .join(Delivery, Delivery.notification_id == Notification.id)
        .where(Notification.ticket_id == ticket.id)
        .order_by(Delivery.id.desc())
        .limit(200)
    )
    return db.session.execute(query).all()


# ---------------------------------------------------------------- bell and list


def stacked(employee_id):
    """The employee's notifications newest first, stacked per ticket and event with counts."""
    rows = db.session.scalars(
        sa.select(Notification)
        .filter_by(employee_id=employee_id)
        .order_by(Notification.id.desc())
        .limit(LIST_LIMIT)
    )
    stacks = {}
    for notification in rows:
        key = (notification.ticket_id, notification.event)
        stack = stacks.get(key)
        if stack is None:
            stacks[key] = stack = {"latest": notification, "count": 0, "unread": 0, "ids": []}
        stack["count"] += 1
        stack["ids"].append(notification.id)
        if notification.read_at is None:
            stack["unread"] += 1
    return [stack | {"info": notifications.describe(stack["latest"])} for stack in stacks.values()]


@bp.get("/notifications")
@login_required
def index():
    """The notification list."""
    return render(
        "notifications/list.html",
        block="list",
        stacks=stacked(current_user.id),
        unread=notifications.unread_count(current_user.id),
    )


@bp.get("/notifications/bell")
@login_required
def bell():
    """The bell with the unread count (refreshed live)."""
    return render("notifications/_bell.html", unread=notifications.unread_count(current_user.id))


@bp.get("/notifications/recent")
@login_required
def recent():
    """The newest stacks as a fragment (for the bell's dropdown)."""
    return render("notifications/_items.html", stacks=stacked(current_user.id)[:8])


@bp.post("/notifications/<int:notification_id>/read")
@login_required
def mark_read(notification_id):
    """Mark one stack (every notification of that ticket and event) read."""
    notification = db.session.get(Notification, notification_id)
    if notification is None or notification.employee_id != current_user.id:
        abort(404)
    notifications.mark_stack_read(notification, actor=current_user)
    return _after_change()


@bp.post("/notifications/read-all")
@login_required
def mark_all_read():
    """Mark everything read."""
    notifications.mark_all_read(actor=current_user)
    return _after_change()


def _after_change():
    """The refreshed list for htmx (and a bell refresh), a redirect otherwise."""
    if request.form.get("next") == "ticket":
        return ("", 204)
    if is_htmx():
        response = render(
            "notifications/list.html",
            block="list",
            stacks=stacked(current_user.id),
            unread=notifications.unread_count(current_user.id),
        )
        return trigger(response, "notification-added")
    return redirect(url_for("notifications.index"))


# ---------------------------------------------------------------- settings


@bp.route("/settings/notifications", methods=["GET", "POST"])
@login_required
def settings():
    """Per event: channels, origin, strategy."""
    events = list(NotificationEvent)
    errors = []
    if request.method == "POST":
        choices = {}
        for event in events:
            channels = {c for c in CHANNEL_CHOICES if request.form.get(f"{event.value}-{c.value}")}
            origin = _member(Origin, request.form.get(f"{event.value}-origin"), Origin.OTHERS)
            strategy = _member(Strategy, request.form.get(f"{event.value}-strategy"), Strategy.ALL)
            if origin is None or strategy is None:
                errors.append(event)
                continue
            choices[event] = (channels, origin, strategy)
        if not errors:
            notifications.update_preferences(choices, actor=current_user)
            flash(_("Your notification settings are saved."), "success")
            return redirect(url_for("notifications.settings"))
    stored = notifications.stored_preferences(current_user)
    rows = [(event, notifications.preference_for(current_user, event, stored)) for event in events]
    return render(
        "notifications/settings.html",
        rows=rows,
        channels=CHANNEL_CHOICES,
        origins=list(Origin),
        strategies=list(Strategy),
        errors=errors,
        mail_configured=notifications.mail_configured(),
        status=422 if errors else 200,
    )


def _member(enum_cls, value, default):
    """Enum member by value; default when missing, None when invalid."""
    if value in (None, ""):
        return default
    return next((member for member in enum_cls if member.value == value), None)


# ---------------------------------------------------------------- web push


def _subscription_fields():
    """endpoint, p256dh and auth from a PushSubscription.toJSON() body (or a form)."""
    data = request.get_json(silent=True) or {}
    keys = data.get("keys") or {}
    return (
        data.get("endpoint") or request.form.get("endpoint"),
        keys.get("p256dh") or request.form.get("p256dh"),
        keys.get("auth") or request.form.get("auth"),
    )


@bp.get("/push/key")
def push_key():
    """The VAPID public key (applicationServerKey)."""
    return jsonify({"key": push.application_server_key()})


@bp.post("/push/subscribe")
@login_required
def push_subscribe():
    """Subscribe this browser to the employee's web pushes."""
    try:
        subscriptions.subscribe_push(*_subscription_fields(), actor=current_user)
    except ValidationError as error:
        return jsonify({"error": error.message}), 422
    return jsonify({"subscribed": True})


@bp.post("/push/unsubscribe")
@login_required
def push_unsubscribe():
    """Stop web pushes to this browser."""
    removed = subscriptions.unsubscribe_push(_subscription_fields()[0], actor=current_user)
    return jsonify({"subscribed": False, "removed": removed})


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
    try:
        subscriptions.follow_by_push(ticket, *_subscription_fields(), actor=visitor)
    except ValidationError as error:
        return jsonify({"error": error.message}), 422
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
    try:
        receiver = subscriptions.set_follow_email(ticket, email, actor=visitor)
    except ValidationError as error:
        return render(
            "notifications/_code_user_optin.html",
            ticket=ticket,
            receiver=subscriptions.receiver_for(ticket, visitor),
            email_error=error.message,
            email_value=email,
            status=422,
        )
    if is_htmx():
        return render(
            "notifications/_code_user_optin.html",
            ticket=ticket,
            receiver=receiver,
            email_saved=bool(email),
            email_removed=not email,
        )
    return redirect(request.referrer or f"/c/{notifications.ticket_code(ticket).token}/t/{ticket.id}")


# ---------------------------------------------------------------- service worker, manifest, signed link


@bp.get("/service-worker.js")
def service_worker():
    """The service worker from the root scope, never cached stale."""
    with open(os.path.join(current_app.static_folder, "sw.js"), "rb") as source:
        response = make_response(source.read())
    response.mimetype = "text/javascript"
    response.headers["Service-Worker-Allowed"] = "/"
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/manifest.webmanifest")
def manifest():
    """The web app manifest (installable on phones)."""
    body = {
        "name": "Ticketwerk",
        "short_name": "Ticketwerk",
        "start_url": "/",
        "scope": "/",
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": "#1d4ed8",
        "icons": [
            {"src": url_for("static", filename="icons/icon-192.png"), "sizes": "192x192", "type": "image/png"},
            {"src": url_for("static", filename="icons/icon-512.png"), "sizes": "512x512", "type": "image/png"},
            {
                "src": url_for("static", filename="icons/icon-512.png"),
                "sizes": "512x512",
                "type": "image/png",
                "purpose": "maskable",
            },
        ],
    }
    response = jsonify(body)
    response.mimetype = "application/manifest+json"
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


@bp.get("/r/<token>")
def code_user_link(token):
    """A code user's signed ticket link from an e-mail: grants access to the device and opens the ticket."""
    from itsdangerous import SignatureExpired

    try:
        notifications._link_signer().loads(token, max_age=int(current_app.config["CODE_USER_LINK_DAYS"] * 86400))
    except SignatureExpired:
        return _link_gone()
    except Exception:  # noqa: BLE001 - forged or mangled tokens all look the same
        abort(404)
    parsed = notifications.read_receiver_link(token)
    if parsed is None:
        abort(404)
    receiver_id, ticket_id, epoch = parsed
    receiver = db.session.get(TicketReceiver, receiver_id)
    ticket = db.session.get(Ticket, ticket_id)
    if receiver is None or ticket is None or receiver.ticket_id != ticket.id:
        abort(404)
    if ticket.visibility != Visibility.PUBLIC or ticket.status == TicketStatus.DRAFT:
        abort(404)
    code = notifications.ticket_code(ticket)
    if code is None or code.session_epoch != epoch:
        return _link_gone()
    code_access.open_code_session_by_link(code, actor=identity.current_code_user(create=True))
    identity.forget_code_visitor()
    return redirect(f"/c/{code.token}/t/{ticket.id}")


def _link_gone():
    """The link is too old or its code was reset."""
    return render(
        "errors/error.html",
        title=_("This link has expired"),
        text=_("Please scan the code on the device again to open your ticket."),
        status=410,
    )
