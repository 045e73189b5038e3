"""Back-office home: counts per status, offers waiting for me, my tickets, latest activity."""
import sqlalchemy as sa
from flask import Blueprint
from flask_login import current_user
from sqlalchemy.orm import selectinload

from app import identity
from app.blueprints.tickets import timeline
from app.enums import RESPONSIBLE_STATES, OfferState
from app.extensions import db
from app.htmx import render
from app.models import Offer, Ticket, TicketEvent
from app.workflow import OPEN_STATUSES, TicketStatus

bp = Blueprint("home", __name__)
bp.before_request(identity.require_back_office)
LIST_SIZE = 10
ACTIVITY_SIZE = 15


def _tickets_with_my_offer(states, statuses):
    """Tickets where my offer is in one of `states`, most recently active first."""
    return db.session.scalars(
        sa.select(Ticket)
        .join(Offer, Offer.ticket_id == Ticket.id)
        .where(Offer.employee_id == current_user.id, Offer.state.in_(states), Ticket.status.in_(statuses))
        .order_by(Ticket.last_activity_at.desc(), Ticket.id.desc())
        .limit(LIST_SIZE)
        .options(selectinload(Ticket.device))
    ).all()


def _status_counts():
    """{TicketStatus: number of tickets} over every submitted ticket."""
    return dict(
        db.session.execute(
            sa.select(Ticket.status, sa.func.count()).where(Ticket.status != TicketStatus.DRAFT).group_by(Ticket.status)
        ).all()
    )


def _latest_activity():
    """The newest timeline events of all tickets, as (event, description) pairs."""
    events = db.session.scalars(
        sa.select(TicketEvent)
        .order_by(TicketEvent.id.desc())
        .limit(ACTIVITY_SIZE)
        .options(
            selectinload(TicketEvent.ticket),
            selectinload(TicketEvent.actor_employee),
            selectinload(TicketEvent.subject_employee),
        )
    ).all()
    return [(event, timeline.describe(event)) for event in events]


@bp.get("/")
def index():
    """What the logged-in employee should look at first; htmx gets the live region (counts, offers, my tickets,
    activity), which follows every ticket change."""
    return render(
        "home/index.html",
        block="live",
        counts=_status_counts(),
        statuses=[s for s in TicketStatus if s != TicketStatus.DRAFT],
        me=current_user,
        offers=_tickets_with_my_offer([OfferState.PENDING], OPEN_STATUSES),
        mine=_tickets_with_my_offer(list(RESPONSIBLE_STATES), OPEN_STATUSES | {TicketStatus.DONE}),
        activity=_latest_activity(),
    )
