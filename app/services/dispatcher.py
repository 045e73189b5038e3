"""The outbox dispatcher: claims due deliveries, sends them, retries with exponential backoff.

One outbox for every channel: e-mail, web push, the live toast's fallback and webhook events (channel WEBHOOK,
services/webhooks.py), each asked right before sending whether it may still go out (`check_recipient`,
`check_webhook`).

Claiming is one conditional UPDATE (status PENDING, lease expired, due), so several dispatchers (the thread of
each web process, `flask notifications dispatch`) never send the same delivery at once. A claim is a lease of
LEASE_SECONDS: a dispatcher that dies after claiming leaves a delivery that another one re-claims once the lease
ran out; nothing is lost. Each claim counts as an attempt, so a delivery that keeps crashing its sender ends.
"""
import logging
import threading
import time
from datetime import timedelta

import sqlalchemy as sa

from app import policy, time_zones
from app.enums import Channel, DeliveryStatus, NotificationEvent
from app.extensions import db
from app.models import Delivery
from app.models._types import utcnow
from app.services import (
    live,
    mail,
    notification_links,
    notifications,
    password_reset,
    push,
    receiver_emails,
    webhooks,
)
from app.services.notification_links import external_url
from app.services.notification_wording import describe

log = logging.getLogger(__name__)

LEASE_SECONDS = 120
BACKOFF_BASE_SECONDS = 30
BACKOFF_CAP_SECONDS = 6 * 3600
LIVE_TOAST_MAX_AGE = timedelta(minutes=5)
SLA_CHECK_SECONDS = 60  # how often the loop looks for service-level targets 80 % used or missed
BATCH = 100


class Skip(Exception):
    """This delivery cannot be sent at all (no address, no subscription): not an error worth retrying."""


class Cancelled(Exception):
    """The recipient may no longer hear of this notification; the reason says why."""


class Failure(Exception):
    """Sending failed; `permanent` means retrying cannot help."""

    def __init__(self, message, permanent=False):
        super().__init__(message)
        self.permanent = permanent


def backoff(attempts, base=BACKOFF_BASE_SECONDS):
    """Wait before the next attempt: base · 2^(attempts-1), capped at six hours."""
    return timedelta(seconds=min(base * 2 ** max(attempts - 1, 0), BACKOFF_CAP_SECONDS))


def max_attempts(delivery, config):
    """Attempts before a delivery fails for good; shorter inside a first-success chain."""
    if delivery.first_success_only:
        return notifications.CHAIN_ATTEMPTS
    return int(config.get("DELIVERY_MAX_ATTEMPTS", 8))


def due_ids(now, limit=BATCH):
    """Ids of pending deliveries that are due and not leased by a live dispatcher."""
    query = (
        sa.select(Delivery.id)
        .where(Delivery.status == DeliveryStatus.PENDING, Delivery.next_attempt_at <= now)
        .where(sa.or_(Delivery.claimed_until.is_(None), Delivery.claimed_until < now))
        .order_by(Delivery.next_attempt_at, Delivery.id)
        .limit(limit)
    )
    return list(db.session.scalars(query))


def claim(delivery_id, now, lease_seconds=LEASE_SECONDS):
    """Lease one delivery for this dispatcher; False when another one got it first. Commits."""
    result = db.session.execute(
        sa.update(Delivery)
        .where(Delivery.id == delivery_id, Delivery.status == DeliveryStatus.PENDING, Delivery.next_attempt_at <= now)
        .where(sa.or_(Delivery.claimed_until.is_(None), Delivery.claimed_until < now))
        .values(claimed_until=now + timedelta(seconds=lease_seconds), attempts=Delivery.attempts + 1)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return result.rowcount == 1


def dispatch_due(now=None, limit=BATCH):
    """Send every due delivery once; return how many were processed. Tests pass `now` to move the clock."""
    from flask import current_app

    now = now or utcnow()
    processed = 0
    for delivery_id in due_ids(now, limit):
        if not claim(delivery_id, now):
            continue
        delivery = db.session.get(Delivery, delivery_id, populate_existing=True)
        process(delivery, now, current_app.config)
        processed += 1
    return processed


def process(delivery, now, config):
    """Send one claimed delivery and record the outcome (and the chain's next step) in one commit."""
    try:
        if delivery.channel == Channel.WEBHOOK:
            check_webhook(delivery)
        else:
            check_recipient(delivery.notification, now, channel=delivery.channel)
        send(delivery, now)
    except Cancelled as reason:
        _finish(delivery, DeliveryStatus.CANCELLED, str(reason), now)
    except Skip as reason:
        _finish(delivery, DeliveryStatus.SKIPPED, str(reason), now)
    except Failure as error:
        if error.permanent or delivery.attempts >= max_attempts(delivery, config):
            _finish(delivery, DeliveryStatus.FAILED, str(error), now)
        else:
            delivery.last_error = str(error)[:1000]
            delivery.next_attempt_at = now + backoff(delivery.attempts, config.get("DELIVERY_BACKOFF_SECONDS", BACKOFF_BASE_SECONDS))
            delivery.claimed_until = None
    except Exception as error:
        log.exception("delivery %s crashed", delivery.id)
        db.session.rollback()
        delivery = db.session.get(Delivery, delivery.id, populate_existing=True)
        delivery.last_error = f"{type(error).__name__}: {error}"[:1000]
        delivery.next_attempt_at = now + backoff(delivery.attempts)
        delivery.claimed_until = None
        if delivery.attempts >= max_attempts(delivery, config):
            _finish(delivery, DeliveryStatus.FAILED, delivery.last_error, now)
    else:
        _finish(delivery, DeliveryStatus.SENT, "", now)
    db.session.commit()


def _finish(delivery, status, error, now):
    """Final state; a first-success chain skips the rest after a success or wakes the next link after a failure."""
    delivery.status = status
    delivery.claimed_until = None
    if error:
        delivery.last_error = error[:1000]
    if status == DeliveryStatus.SENT:
        delivery.sent_at = now
    if not delivery.first_success_only or delivery.notification is None:
        return
    later = [
        other
        for other in delivery.notification.deliveries
        if other.first_success_only and other.position > delivery.position and other.status == DeliveryStatus.PENDING
    ]
    if status == DeliveryStatus.SENT:
        for other in later:
            other.status = DeliveryStatus.SKIPPED
            other.last_error = "an earlier channel succeeded"
    elif later:
        nearest = min(later, key=lambda other: other.position)
        nearest.next_attempt_at = now


def check_recipient(notification, now=None, channel=None):
    """Raise Cancelled when the notified person may no longer hear of it, asked just before each send (a
    password-reset mail: the employee is still active and the link would not have expired yet; a code user's
    e-mail confirmation: the address is still the one it was sent for, still unconfirmed, the link still good).

    The same rules as when the notification was recorded (policy.can_receive, policy.is_concerned), applied
    to the rows as they are now: the ticket still exists; an employee is still active and still concerned
    (fleet group or responsible, notify group for a new ticket); a code user's ticket is still PUBLIC and its
    device's code still usable; news by e-mail (`channel` EMAIL) goes only to a confirmed address. Minutes or
    hours can pass between the two while a channel is down.
    """
    if notification.event == NotificationEvent.PASSWORD_RESET:  # about an account, not a ticket
        if password_reset.recipient_of(notification) is None:
            raise Cancelled("the employee is gone or deactivated")
        if not password_reset.mail_is_due(notification, now or utcnow()):
            raise Cancelled("the link would have expired already")
        return
    ticket = notification.ticket
    if ticket is None:
        raise Cancelled("the ticket no longer exists")
    event = notification.event
    detail = notification.detail or {}
    if notification.employee is not None:
        employee = notification.employee
        if not policy.can_receive(employee, ticket, event):
            raise Cancelled("the employee is no longer active")
        if not policy.is_concerned(employee, ticket, event, subject_id=detail.get("subject_id")):
            if event == NotificationEvent.TICKET_CREATED:
                raise Cancelled("the employee is no longer in the ticket's notify group")
            raise Cancelled("the employee is no longer in the ticket's fleet group nor responsible for it")
        return
    receiver = notification.receiver
    if receiver is None:
        raise Cancelled("the recipient no longer exists")
    if event == NotificationEvent.EMAIL_CONFIRMATION:
        reason = receiver_emails.cancel_reason(notification, now)
        if reason:
            raise Cancelled(reason)
        event = None  # about the address, not news: only whether the ticket may still be followed counts
    elif channel == Channel.EMAIL and not receiver_emails.is_confirmed(receiver):
        raise Cancelled("the e-mail address is not confirmed yet")
    if not policy.can_receive(receiver, ticket, event, internal=bool(detail.get("internal"))):
        raise Cancelled("the ticket is no longer public")
    if notification_links.ticket_code(ticket) is None:
        raise Cancelled("the device's code is disabled")


def check_webhook(delivery):
    """Raise Cancelled when the webhook endpoint may no longer hear of the event (webhooks.cancel_reason)."""
    reason = webhooks.cancel_reason(delivery)
    if reason:
        raise Cancelled(reason)


def send(delivery, now):
    """Send one delivery on its channel, its times in the recipient's zone (an employee's own, else the
    organisation's); raise Skip or Failure when that does not work."""
    if delivery.channel == Channel.WEBHOOK:
        try:
            webhooks.send(delivery, now)
        except webhooks.WebhookError as error:
            raise Failure(str(error), error.permanent) from None
        return
    notification = delivery.notification
    with time_zones.force_timezone(time_zones.zone_of(notification.employee)):
        _send_on_channel(delivery, notification, now)


def _send_on_channel(delivery, notification, now):
    """Send one delivery of `notification` on its channel (Skip or Failure when that does not work)."""
    if delivery.channel == Channel.WEBSOCKET:
        if notification.employee is None:
            raise Skip("no live browser for code users")
        if now - notification.created_at > LIVE_TOAST_MAX_AGE:
            raise Skip("too old for a live toast")
        live.emit_live(notification.employee, [notification])
    elif delivery.channel == Channel.EMAIL:
        _send_email(notification, now)
    elif delivery.channel == Channel.PUSH:
        _send_push(notification)
    else:
        raise Skip(f"unknown channel {delivery.channel}")


def _recipient(notification):
    """(e-mail address, language) of the notified person."""
    if notification.employee is not None:
        return notification.employee.email, notification.employee.language
    if notification.receiver is not None:
        return notification.receiver.email, notification.receiver.language
    return None, None


def _send_email(notification, now=None):
    """Render and send the notification mail."""
    if notification.event == NotificationEvent.PASSWORD_RESET:
        return _send_password_reset(notification, now)
    if notification.event == NotificationEvent.EMAIL_CONFIRMATION:
        return _send_email_confirmation(notification)
    address, language = _recipient(notification)
    if not address:
        raise Skip("no e-mail address")
    language = _mail_language(language)
    _send_mail(lambda: mail.build_notification_mail(notification, address, language))


def _send_password_reset(notification, now):
    """Send a reset link in the employee's language, signed at the time it was asked for."""
    employee = password_reset.recipient_of(notification)  # still there and due: check_recipient asked just now
    language = _mail_language(employee.language)
    link = password_reset.reset_url(employee, issued_at=notification.created_at.timestamp())
    _send_mail(lambda: mail.build_password_reset_mail(employee, link, language, password_reset.lifetime_minutes()))


def _send_mail(build):
    """Build the message with `build()` and send it; Failure (permanent or not, as the MailError says) on trouble."""
    try:
        mail.send(build())
    except mail.MailError as error:
        raise Failure(str(error), error.permanent) from None


def _mail_language(language):
    """`language` when the app speaks it, else the default locale (for mails and push texts)."""
    from flask import current_app

    config = current_app.config
    return language if language in config["LANGUAGES"] else config["BABEL_DEFAULT_LOCALE"]


def _send_email_confirmation(notification):
    """Send a code user the link that confirms their address, in their language, signed at the time it was left."""
    receiver = notification.receiver  # still the address it was asked for: check_recipient asked just now
    language = _mail_language(receiver.language)
    link = receiver_emails.confirmation_url(receiver, issued_at=notification.created_at.timestamp())
    _send_mail(lambda: mail.build_email_confirmation_mail(receiver, link, language, receiver_emails.lifetime_hours()))


def _send_push(notification):
    """Send to every subscribed browser; a gone subscription is removed; one success is enough."""
    from flask_babel import force_locale

    subscriptions = push.subscriptions_for(employee_id=notification.employee_id, receiver_id=notification.receiver_id)
    if not subscriptions:
        raise Skip("no browser subscribed to push")
    _, language = _recipient(notification)
    language = _mail_language(language)
    with force_locale(language):
        info = describe(notification)
    payload = {
        "title": info["title"],
        "body": info["body"],
        "url": external_url(notification),
        "tag": f"ticket-{notification.ticket_id}-{notification.event.value}",
    }
    sent, errors, gone = 0, [], 0
    for subscription in subscriptions:
        try:
            push.send(subscription, payload)
            sent += 1
        except push.PushGone:
            db.session.delete(subscription)
            gone += 1
        except push.PushError as error:
            errors.append(error)
    if sent:
        return
    if errors:
        raise Failure("; ".join(str(error) for error in errors), all(error.permanent for error in errors))
    raise Skip(f"every push subscription is gone ({gone} removed)")


def check_service_levels(now=None):
    """Record the service-level notifications that became due (services/service_levels.send_alerts); their
    deliveries then go out with the next dispatch. Returns how many were recorded."""
    from app.services import service_levels

    return service_levels.send_alerts(now)


def run_forever(app, interval=None, stop=None):
    """Dispatch due deliveries every `interval` seconds until `stop` is set."""
    interval = interval or float(app.config.get("DISPATCH_INTERVAL_SECONDS", 1.0))
    stop = stop or threading.Event()
    with app.app_context():
        push.ensure_vapid_keys()
    sla_every = float(app.config.get("SLA_CHECK_SECONDS", SLA_CHECK_SECONDS))
    sla_next = 0.0
    while not stop.is_set():
        with app.app_context():
            try:
                if time.monotonic() >= sla_next:
                    sla_next = time.monotonic() + sla_every
                    check_service_levels()
                busy = dispatch_due()
            except Exception:
                log.exception("dispatching failed; retrying")
                db.session.rollback()
                busy = 0
            finally:
                db.session.remove()
        if not busy:
            stop.wait(interval)
    return stop


def start_in_process(app):
    """Run the dispatcher as a daemon thread of this web process (unless configured off or testing).

    `python wsgi.py` (what `make run` does) starts it at once, so pending deliveries go out right after a
    restart; any other server (gunicorn, `flask run`) starts it with the first request. Scripts and CLI
    commands that only build the app never start it.
    """
    if not app.config.get("NOTIFICATION_DISPATCHER_THREAD") or app.testing:
        return None
    if _started_as_server_entry_point():
        return _start_thread(app)

    @app.before_request
    def _start_dispatcher_once():
        """The first request of a served app starts the dispatcher."""
        if "ticketwerk_dispatcher" not in app.extensions:
            _start_thread(app)

    return None


def _started_as_server_entry_point():
    """Whether this process was started as `python wsgi.py`."""
    import os
    import sys

    main = sys.modules.get("__main__")
    return os.path.basename(getattr(main, "__file__", "") or "") == "wsgi.py"


_start_lock = threading.Lock()


def _start_thread(app):
    """Start the thread once per app."""
    with _start_lock:
        if "ticketwerk_dispatcher" in app.extensions:
            return app.extensions["ticketwerk_dispatcher"]
        stop = threading.Event()
        thread = threading.Thread(target=run_forever, args=(app, None, stop), name="notification-dispatcher", daemon=True)
        app.extensions["ticketwerk_dispatcher"] = (thread, stop)
        thread.start()
        return thread, stop


def wait_and_dispatch(app, seconds):
    """Dispatch for `seconds` (a helper for scripts)."""
    deadline = time.monotonic() + seconds
    with app.app_context():
        while time.monotonic() < deadline:
            if not dispatch_due():
                time.sleep(0.2)
