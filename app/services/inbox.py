"""An employee's notifications as they read them: the unread count, the stacked list, marking read."""
from functools import cache

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import joinedload

from app import policy
from app.extensions import db
from app.models import Delivery, Notification
from app.models._types import utcnow
from app.services.errors import NotFound, require
from app.services.notification_wording import describe

LIST_LIMIT = 300


@cache
def _unread_query():
    """SELECT of the unread count of an employee (bound `employee_id`), built once: every back-office page asks."""
    return sa.select(sa.func.count(Notification.id)).where(
        Notification.employee_id == sa.bindparam("employee_id"), Notification.read_at.is_(None)
    )


def unread_count(employee_id):
    """How many notifications the employee has not read."""
    return db.session.scalar(_unread_query(), {"employee_id": employee_id}) or 0


def stacked(employee_id, limit=None):
    """The employee's notifications newest first, stacked per ticket and event: [{latest, count, unread, ids, info}]."""
    rows = db.session.scalars(
        sa.select(Notification).filter_by(employee_id=employee_id).order_by(Notification.id.desc()).limit(LIST_LIMIT)
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
    return [stack | {"info": describe(stack["latest"])} for stack in list(stacks.values())[:limit]]


DELIVERY_LOG_SHOWN = 10  # newest deliveries on the ticket page; the rest on its delivery log page
DELIVERY_LOG_ROWS = 200  # newest deliveries on the delivery log page


@cache
def _delivery_log_query():
    """SELECT of a ticket's (notification, delivery, total) rows (bound `ticket_id` and `limit`), newest first, with
    each notification's employee and receiver, which the log shows per row; `total` counts all the ticket's
    deliveries (a window over the rows before the limit: no second statement). Built once."""
    return (
        sa.select(Notification, Delivery, sa.func.count().over().label("total"))
        .join(Delivery, Delivery.notification_id == Notification.id)
        .where(Notification.ticket_id == sa.bindparam("ticket_id"))
        .order_by(Delivery.id.desc())
        .limit(sa.bindparam("limit"))
        .options(joinedload(Notification.employee), joinedload(Notification.receiver))
    )


def delivery_log(ticket, limit=None):
    """The staff delivery log of `ticket`: (rows, total). `rows` are its newest `limit` (default DELIVERY_LOG_ROWS)
    (notification, delivery, total) rows, newest first; `total` is how many deliveries the ticket has in all (0
    without any)."""
    limit = DELIVERY_LOG_ROWS if limit is None else limit
    rows = db.session.execute(_delivery_log_query(), {"ticket_id": ticket.id, "limit": limit}).all()
    return rows, rows[0].total if rows else 0


def mark_stack_read(notification, *, actor):
    """Mark the employee's stack of `notification` (every unread one of that ticket and event) read; NotFound if not theirs."""
    if not policy.can_read_notification(actor, notification):
        raise NotFound(_("This page does not exist or is not available to you."))
    ids = db.session.scalars(
        sa.select(Notification.id).filter_by(
            employee_id=actor.id, ticket_id=notification.ticket_id, event=notification.event, read_at=None
        )
    ).all()
    _mark_read(actor, Notification.id.in_(list(ids) + [notification.id]))


def mark_all_read(*, actor):
    """Mark every notification of the employee read; NotAllowed for anyone else."""
    require(policy.is_employee(actor))
    _mark_read(actor, sa.true())


def _mark_read(employee, condition):
    """Set read_at on the employee's unread notifications matching `condition`, and commit."""
    db.session.execute(
        sa.update(Notification)
        .where(condition, Notification.employee_id == employee.id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
