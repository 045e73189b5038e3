"""How many tickets name a catalog row: a template, flow, device or customer with tickets is archived, not deleted."""
import sqlalchemy as sa

from app.extensions import db
from app.models import Ticket


def ticket_count(**filters):
    """How many tickets (drafts included) match the column filters, e.g. `ticket_count(flow_id=3)`."""
    return db.session.scalar(sa.select(sa.func.count()).select_from(Ticket).filter_by(**filters)) or 0
