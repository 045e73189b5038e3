"""Back-office home."""
import sqlalchemy as sa
from flask import Blueprint
from flask_login import current_user, login_required

from app.extensions import db
from app.htmx import render
from app.models import Ticket
from app.workflow import TicketStatus

bp = Blueprint("home", __name__)


@bp.get("/")
@login_required
def index():
    """Counts per status for the logged-in employee."""
    counts = dict(
        db.session.execute(
            sa.select(Ticket.status, sa.func.count()).where(Ticket.status != TicketStatus.DRAFT).group_by(Ticket.status)
        ).all()
    )
    return render("home/index.html", counts=counts, statuses=[s for s in TicketStatus if s != TicketStatus.DRAFT], me=current_user)
