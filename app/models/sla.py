"""Service levels: the business calendar, the targets per template/flow/priority, and each ticket's clocks."""
import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.enums import Priority
from app.extensions import db
from app.models._types import UTCDateTime, enum_column, utcnow

TARGETS = ("first_response", "assignment", "resolution")


class BusinessCalendar(db.Model):
    """The organisation's working time, one row (id 1); its zone is `Organisation.time_zone`."""

    __tablename__ = "business_calendar"

    id: Mapped[int] = mapped_column(primary_key=True)
    weekdays: Mapped[list] = mapped_column(sa.JSON, default=lambda: [0, 1, 2, 3, 4])  # 0 = Monday
    start_minute: Mapped[int] = mapped_column(default=8 * 60)  # local minutes after midnight
    end_minute: Mapped[int] = mapped_column(default=17 * 60)
    holiday_state: Mapped[str] = mapped_column(sa.String(5), default="")  # business_hours.STATES
    closed_days: Mapped[list] = mapped_column(sa.JSON, default=list)  # ISO dates, sorted
    updated_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class ServiceLevel(db.Model):
    """Targets in working minutes for the tickets of a template, optionally narrowed to a flow and a priority.

    The most specific level wins (flow before priority before the template's own). None means no target."""

    __tablename__ = "service_levels"
    __table_args__ = (sa.UniqueConstraint("template_id", "flow_id", "priority", name="uq_service_levels_scope"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    template_id: Mapped[int] = mapped_column(sa.ForeignKey("templates.id", ondelete="CASCADE"), index=True)
    flow_id: Mapped[int | None] = mapped_column(sa.ForeignKey("flows.id", ondelete="CASCADE"))
    priority: Mapped[Priority | None] = mapped_column(enum_column(Priority))
    first_response_minutes: Mapped[int | None] = mapped_column()
    assignment_minutes: Mapped[int | None] = mapped_column()
    resolution_minutes: Mapped[int | None] = mapped_column()
    pause_while_waiting: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)

    template = relationship("Template")
    flow = relationship("Flow")


class TicketSla(db.Model):
    """One ticket's service-level clocks (DESIGN: reports read these columns).

    Per target T in TARGETS: `T_minutes` the target copied from the level (None: no target), `T_due_at` when it is
    due (UTC; None while paused or without target), `T_at` when it was reached, `T_met` whether that was in time
    (None while running), and the sent-markers `T_warned_at` / `T_missed_at` of the 80 % and missed notifications.
    `paused_since` is set while the clock stops; `paused_minutes` are the working minutes paused so far.
    `next_alert_at` is the earliest warning or miss still to send (the dispatcher's check reads its index)."""

    __tablename__ = "ticket_slas"

    ticket_id: Mapped[int] = mapped_column(sa.ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True)
    service_level_id: Mapped[int | None] = mapped_column(sa.ForeignKey("service_levels.id", ondelete="SET NULL"))
    started_at: Mapped[object] = mapped_column(UTCDateTime)
    pause_while_waiting: Mapped[bool] = mapped_column(default=False)
    waiting: Mapped[bool] = mapped_column(default=False)
    paused_since: Mapped[object | None] = mapped_column(UTCDateTime)
    paused_minutes: Mapped[float] = mapped_column(sa.Float, default=0.0)
    next_alert_at: Mapped[object | None] = mapped_column(UTCDateTime, index=True)

    first_response_minutes: Mapped[int | None] = mapped_column()
    first_response_due_at: Mapped[object | None] = mapped_column(UTCDateTime)
    first_response_at: Mapped[object | None] = mapped_column(UTCDateTime)
    first_response_met: Mapped[bool | None] = mapped_column()
    first_response_warned_at: Mapped[object | None] = mapped_column(UTCDateTime)
    first_response_missed_at: Mapped[object | None] = mapped_column(UTCDateTime)

    assignment_minutes: Mapped[int | None] = mapped_column()
    assignment_due_at: Mapped[object | None] = mapped_column(UTCDateTime)
    assignment_at: Mapped[object | None] = mapped_column(UTCDateTime)
    assignment_met: Mapped[bool | None] = mapped_column()
    assignment_warned_at: Mapped[object | None] = mapped_column(UTCDateTime)
    assignment_missed_at: Mapped[object | None] = mapped_column(UTCDateTime)

    resolution_minutes: Mapped[int | None] = mapped_column()
    resolution_due_at: Mapped[object | None] = mapped_column(UTCDateTime)
    resolution_at: Mapped[object | None] = mapped_column(UTCDateTime)
    resolution_met: Mapped[bool | None] = mapped_column()
    resolution_warned_at: Mapped[object | None] = mapped_column(UTCDateTime)
    resolution_missed_at: Mapped[object | None] = mapped_column(UTCDateTime)

    ticket = relationship("Ticket")
    service_level = relationship("ServiceLevel")
