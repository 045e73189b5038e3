"""The tickets overview as a spreadsheet: the same filters and the same access, read in keyset batches.

`ticket_rows` yields one row per ticket the employee may see (`Ticket.visible_clause`) that matches the
overview's Filters, by number, reading EXPORT_BATCH_SIZE tickets per query (`id > last`): plain column rows, no
entities, so memory stays flat at 100,000 tickets. Times come out in the reader's time zone (flask_babel's
`get_timezone`, what `to_user_timezone` converts to, asked once per export).
"""
import sqlalchemy as sa
from flask import current_app
from flask_babel import get_timezone, lazy_pgettext
from flask_babel import lazy_gettext as _l

from app import labels
from app.enums import RESPONSIBLE_STATES
from app.extensions import db
from app.models import Customer, Device, Employee, Offer, Ticket, format_number

HEADER = (
    lazy_pgettext("ticket number", "Number"), _l("Title"), _l("Status"), _l("Priority"), _l("Visibility"), _l("Device"), _l("Customer"),
    _l("Responsible"), _l("Created"), _l("Last activity"), _l("Closed at"), _l("Rating"),
)


def header():
    """The header row in the reader's language."""
    return [str(name) for name in HEADER]


def _in_zone(zone):
    """A function turning a stored UTC time into `zone` (flask_babel's reader's zone, asked once per export)."""

    def local(value):
        """The time in the reader's zone; None stays None."""
        return value.astimezone(zone) if value is not None else None

    return local


def _responsible(ticket_ids):
    """{ticket id: "Name, Name"} of the employees who accepted or were assigned, for one batch of tickets."""
    names = {}
    query = (
        sa.select(Offer.ticket_id, Employee.name)
        .join(Employee, Employee.id == Offer.employee_id)
        .where(Offer.ticket_id.in_(ticket_ids), Offer.state.in_(list(RESPONSIBLE_STATES)))
        .order_by(Offer.ticket_id, Offer.id)
    )
    for ticket_id, name in db.session.execute(query):
        names.setdefault(ticket_id, []).append(name)
    return {ticket_id: ", ".join(people) for ticket_id, people in names.items()}


def ticket_rows(filters, me, batch=None):
    """Rows (lists of str, datetime, int or None) of the tickets `me` may see that match `filters`, by number.

    Columns as HEADER: number (T-00042), title, status, priority and visibility (translated labels), device,
    customer, responsible employees, created, last activity and closed (aware datetimes in the reader's zone),
    rating (1–5 or None). Reads `batch` (EXPORT_BATCH_SIZE) tickets per query.
    """
    batch = batch or current_app.config["EXPORT_BATCH_SIZE"]
    clauses = [*filters.conditions(me), Ticket.visible_clause(me)]
    statuses = {key: str(value) for key, value in labels.STATUS.items()}
    priorities = {key: str(value) for key, value in labels.PRIORITY.items()}
    visibilities = {key: str(value) for key, value in labels.VISIBILITY.items()}
    query = (
        sa.select(
            Ticket.id, Ticket.title, Ticket.status, Ticket.priority, Ticket.visibility, Device.name, Customer.name,
            Ticket.created_at, Ticket.last_activity_at, Ticket.closed_at, Ticket.rating_score,
        )
        .outerjoin(Device, Device.id == Ticket.device_id)
        .outerjoin(Customer, Customer.id == Ticket.customer_id)
        .order_by(Ticket.id)
        .limit(batch)
    )
    _local = _in_zone(get_timezone())
    last = 0
    while True:
        rows = db.session.execute(query.where(*clauses, Ticket.id > last)).all()
        if not rows:
            return
        responsible = _responsible([row[0] for row in rows])
        for number, title, status, priority, visibility, device, customer, created, active, closed, rating in rows:
            yield [
                format_number(number), title, statuses[status], priorities[priority], visibilities[visibility],
                device or "", customer or "", responsible.get(number, ""), _local(created), _local(active),
                _local(closed), rating,
            ]
        last = rows[-1][0]
