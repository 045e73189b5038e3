"""Report data kept on write: one facts row per submitted ticket and daily counts per local day.

Both are derived from tickets, events, messages, updates and ratings (app/services/reports.py keeps them current
and rebuilds them); reports read only these tables, so they answer quickly at any number of tickets.
"""
import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models._types import UTCDateTime


class ReportTicketFacts(db.Model):
    """What reports need of one submitted ticket: its dimensions, local days and durations (seconds)."""

    __tablename__ = "report_ticket_facts"
    __table_args__ = (
        # Covering indexes: each report query reads one range of one index and never the table rows.
        sa.Index(
            "ix_report_ticket_facts_created_day", "created_day", "template_id", "customer_id", "group_id", "device_id",
            "first_response_s", "assignment_s", "resolution_s",
        ),
        sa.Index(
            "ix_report_ticket_facts_rated_day", "rated_day", "rating_score", "template_id", "customer_id", "group_id",
            "device_id", "employee_id",
        ),
        sa.Index("ix_report_ticket_facts_status_created", "status", "created_at", "template_id", "customer_id", "group_id"),
    )

    ticket_id: Mapped[int] = mapped_column(sa.ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True)
    template_id: Mapped[int] = mapped_column()
    customer_id: Mapped[int | None] = mapped_column()
    group_id: Mapped[int | None] = mapped_column()  # the fleet group the ticket was offered to
    device_id: Mapped[int] = mapped_column()
    # The employee whose work the rating judges: the first (by offer) of those responsible now, or None.
    employee_id: Mapped[int | None] = mapped_column()
    status: Mapped[str] = mapped_column(sa.String(20))  # TicketStatus name
    created_at: Mapped[object] = mapped_column(UTCDateTime)
    created_day: Mapped[object] = mapped_column(sa.Date)  # local day in the organisation's zone
    closed_day: Mapped[object | None] = mapped_column(sa.Date)
    rated_day: Mapped[object | None] = mapped_column(sa.Date)
    rating_score: Mapped[int | None] = mapped_column()
    # Service-level targets: True met in time, False missed, None not reached yet or no target (ticket_slas).
    sla_first_response: Mapped[bool | None] = mapped_column()
    sla_assignment: Mapped[bool | None] = mapped_column()
    sla_resolution: Mapped[bool | None] = mapped_column()
    first_response_s: Mapped[int | None] = mapped_column()
    assignment_s: Mapped[int | None] = mapped_column()
    resolution_s: Mapped[int | None] = mapped_column()


class ReportDay(db.Model):
    """Tickets created, closed and rated on one local day for one template, customer and fleet group (0: none),
    and how many of those created that day are still open now."""

    __tablename__ = "report_days"
    __table_args__ = (sa.UniqueConstraint("day", "template_id", "customer_id", "group_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[object] = mapped_column(sa.Date)
    template_id: Mapped[int] = mapped_column()
    customer_id: Mapped[int] = mapped_column(default=0)
    group_id: Mapped[int] = mapped_column(default=0)
    created: Mapped[int] = mapped_column(default=0)
    closed: Mapped[int] = mapped_column(default=0)
    rated: Mapped[int] = mapped_column(default=0)
    rating_sum: Mapped[int] = mapped_column(default=0)
    rating_1: Mapped[int] = mapped_column(default=0)
    rating_2: Mapped[int] = mapped_column(default=0)
    rating_3: Mapped[int] = mapped_column(default=0)
    rating_4: Mapped[int] = mapped_column(default=0)
    rating_5: Mapped[int] = mapped_column(default=0)
    # Tickets created this day that are OPEN, ASSIGNED or IN_PROGRESS now: the backlog by age.
    backlog_open: Mapped[int] = mapped_column(default=0)
    backlog_assigned: Mapped[int] = mapped_column(default=0)
    backlog_in_progress: Mapped[int] = mapped_column(default=0)
    # Tickets created this day whose service-level target was reached in time (met) or late (missed).
    sla_met_first_response: Mapped[int] = mapped_column(default=0)
    sla_missed_first_response: Mapped[int] = mapped_column(default=0)
    sla_met_assignment: Mapped[int] = mapped_column(default=0)
    sla_missed_assignment: Mapped[int] = mapped_column(default=0)
    sla_met_resolution: Mapped[int] = mapped_column(default=0)
    sla_missed_resolution: Mapped[int] = mapped_column(default=0)


class ReportDurationMonth(db.Model):
    """How many tickets created in one local month took a duration shown as `tenths` (of an hour) for one figure
    (0 first response, 1 assignment, 2 resolution): percentiles of whole months read these few rows."""

    __tablename__ = "report_duration_months"
    __table_args__ = (sa.UniqueConstraint("month", "metric", "tenths"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    month: Mapped[object] = mapped_column(sa.Date)  # the first day of the month
    metric: Mapped[int] = mapped_column()
    tenths: Mapped[int] = mapped_column()
    tickets: Mapped[int] = mapped_column(default=0)
