"""The live push: after a commit, each notified employee's open tabs get the bell count and toasts, rendered here.

Notifications recorded in a transaction are held on the session until `release()`; every websocket delivery is
sent exactly once (`claim_live`), whether right after the commit or later by the dispatcher.
"""
import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale

from app import realtime, time_zones
from app.enums import Channel, DeliveryStatus
from app.extensions import db
from app.models import Delivery
from app.models._types import utcnow
from app.services import inbox
from app.services.notification_wording import describe

HELD = "ticketwerk_pending_live"


def hold(notifications):
    """Keep notifications written in this transaction for the live push after its commit."""
    db.session.info.setdefault(HELD, []).extend(notifications)


def release():
    """The notifications held since the last release (and forget them)."""
    return db.session.info.pop(HELD, [])


def send_live(notifications):
    """Ring the bells of notified employees and mark their websocket deliveries sent (each exactly once)."""
    employees = {}
    toasts = []
    for notification in notifications:
        if notification.id is None or notification.employee_id is None:
            continue
        employees.setdefault(notification.employee_id, notification.employee)
        for delivery in notification.deliveries:
            if delivery.channel == Channel.WEBSOCKET and claim_live(delivery.id):
                toasts.append(notification)
    if toasts:
        db.session.commit()
    toast_ids = {notification.id for notification in toasts}
    for employee_id, employee in employees.items():
        mine = [n for n in notifications if n.employee_id == employee_id and n.id in toast_ids]
        emit_live(employee, mine)


def claim_live(delivery_id):
    """Mark one pending websocket delivery sent; False when someone else already did."""
    now = utcnow()
    result = db.session.execute(
        sa.update(Delivery)
        .where(Delivery.id == delivery_id, Delivery.status == DeliveryStatus.PENDING)
        .where(sa.or_(Delivery.claimed_until.is_(None), Delivery.claimed_until < now))
        .values(status=DeliveryStatus.SENT, attempts=Delivery.attempts + 1, sent_at=now, last_error="")
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def emit_live(employee, notifications):
    """One `notification-added` frame to every open tab of the employee: {"html": bell count and toasts}, in the
    employee's language and time zone."""
    if current_app.config.get("SOCKETIO_DISABLED"):
        return
    language = employee.language or current_app.config["BABEL_DEFAULT_LOCALE"]
    with force_locale(language), time_zones.force_timezone(time_zones.zone_of(employee)):
        html = realtime.render_fragment(
            "notifications/_live.html",
            unread=inbox.unread_count(employee.id),
            toasts=[(notification, describe(notification)) for notification in notifications],
        )
    realtime.notification_added(employee.id, html)
