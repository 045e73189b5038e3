"""Tickets with their answers, attachments, events, ratings and offers."""
import re
from functools import cache
from typing import ClassVar

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.orm.attributes import set_committed_value

from app import policy
from app.enums import RESPONSIBLE_STATES, OfferState, Priority, StepType, Visibility
from app.extensions import db
from app.ids import parse_id
from app.models._types import UTCDateTime, enum_column, utcnow
from app.workflow import TicketStatus


class Ticket(db.Model):
    """A service case for one device, moved through the workflow by services."""

    __tablename__ = "tickets"
    __table_args__ = (
        # A created range within statuses; the activity time lets the overview sort the matches by the index alone.
        # The number too, so PostgreSQL can answer from the index (SQLite's entries carry it anyway, as the rowid);
        # a key column, since `postgresql_include` would import the PostgreSQL dialect into every process.
        sa.Index("ix_tickets_status_created_activity", "status", "created_at", "last_activity_at", "id"),
        sa.Index("ix_tickets_device_visibility", "device_id", "visibility", "status"),
        sa.Index("ix_tickets_last_activity", "last_activity_at"),
        # Overview filters: priority within statuses (also walks each priority by number), rating and date range.
        sa.Index("ix_tickets_status_priority", "status", "priority"),
        sa.Index("ix_tickets_status_rating_created_activity", "status", "rating_score", "created_at", "last_activity_at",
                 "id"),
        # Service levels: the next due instant of a running target (services/service_levels.py), for due/overdue.
        sa.Index("ix_tickets_sla_due", "sla_due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    device_id: Mapped[int] = mapped_column(sa.ForeignKey("devices.id"), index=True)
    template_id: Mapped[int] = mapped_column(sa.ForeignKey("templates.id"), index=True)
    flow_id: Mapped[int | None] = mapped_column(sa.ForeignKey("flows.id", ondelete="SET NULL"), index=True)
    customer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("customers.id", ondelete="SET NULL"), index=True)
    flow_title: Mapped[str] = mapped_column(sa.String(120), default="")
    status: Mapped[TicketStatus] = mapped_column(enum_column(TicketStatus), default=TicketStatus.DRAFT, index=True)
    visibility: Mapped[Visibility] = mapped_column(enum_column(Visibility), default=Visibility.PUBLIC, index=True)
    priority: Mapped[Priority] = mapped_column(enum_column(Priority), default=Priority.NORMAL, index=True)
    title: Mapped[str] = mapped_column(sa.String(255), default="")
    creator_employee_id: Mapped[int | None] = mapped_column(sa.ForeignKey("employees.id", ondelete="SET NULL"))
    creator_code_user_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("code_users.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow, index=True)
    submitted_at: Mapped[object | None] = mapped_column(UTCDateTime)
    last_activity_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)
    closed_at: Mapped[object | None] = mapped_column(UTCDateTime)
    done_at: Mapped[object | None] = mapped_column(UTCDateTime)
    rating_score: Mapped[int | None] = mapped_column(index=True)
    # The earliest due instant of a running service-level target (UTC); None: none running, paused, or no level.
    sla_due_at: Mapped[object | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__: ClassVar[dict] = {"version_id_col": version}

    device = relationship("Device")
    template = relationship("Template")
    flow = relationship("Flow")
    customer = relationship("Customer")
    creator_employee = relationship("Employee")
    creator_code_user = relationship("CodeUser")
    answers = relationship("Answer", back_populates="ticket", order_by="Answer.position", cascade="all, delete-orphan")
    offers = relationship("Offer", back_populates="ticket", order_by="Offer.id", cascade="all, delete-orphan")
    events = relationship("TicketEvent", back_populates="ticket", order_by="TicketEvent.id", cascade="all, delete-orphan")
    ratings = relationship("Rating", back_populates="ticket", order_by="Rating.id", cascade="all, delete-orphan")
    # The service-level clocks (None: no level); read-only here, services.service_levels writes the row.
    sla = relationship("TicketSla", uselist=False, viewonly=True)

    @property
    def rating(self):
        """The rating that counts: the latest (a reopened ticket may be rated again; earlier ones stay), or None."""
        return self.ratings[-1] if self.ratings else None

    @property
    def number(self):
        """The sequential ticket number."""
        return self.id

    @property
    def display_number(self):
        """The number as people say it: T-00042."""
        return format_number(self.id)

    @property
    def responsible_employee_ids(self):
        """Ids of employees who accepted or were assigned."""
        return frozenset(o.employee_id for o in self.offers if o.state in RESPONSIBLE_STATES)

    @property
    def responsible_employees(self):
        """Employees who accepted or were assigned."""
        return [o.employee for o in self.offers if o.state in RESPONSIBLE_STATES]

    def offer_for(self, employee_id):
        """This employee's offer on the ticket, or None."""
        return next((o for o in self.offers if o.employee_id == employee_id), None)

    @classmethod
    def visible_to(cls, actor):
        """select(Ticket) of the tickets `actor` may view: policy.can_view_ticket as SQL (tests/test_policy.py
        asserts both agree). Drafts only for their creator; code users only PUBLIC tickets of their devices."""
        return sa.select(cls).where(cls.visible_clause(actor))

    @classmethod
    def visible_clause(cls, actor):
        """The WHERE clause of `visible_to`, for queries that select columns or join other tables."""
        own_draft = cls.status == TicketStatus.DRAFT
        if policy.is_employee(actor):
            return sa.or_(cls.status != TicketStatus.DRAFT, sa.and_(own_draft, cls.creator_employee_id == actor.id))
        if policy.is_code_user(actor):
            return sa.and_(
                cls.device_id.in_(sorted(actor.device_ids)),
                sa.or_(
                    sa.and_(cls.status != TicketStatus.DRAFT, cls.visibility == Visibility.PUBLIC),
                    sa.and_(own_draft, cls.creator_code_user_id == actor.id),
                ),
            )
        return sa.false()

    @property
    def is_public(self):
        """Code users may see it (when not a draft)."""
        return self.visibility == Visibility.PUBLIC


def format_number(number):
    """T-00042 for 42."""
    return f"T-{number:05d}"


# "42", "#42", "t42", "T42", "T 42", "T-00042", "T–42", "#T-42": an optional "#", an optional "T" with an optional
# dash (any Unicode dash) and spaces, then ASCII digits.
NUMBER = re.compile(r"#?\s*(?:T\s*[\-\u2010-\u2015\u2212]?\s*)?#?\s*([0-9]+)", re.IGNORECASE)


def parse_number(text):
    """The ticket number (int) that `text` (str) quotes: 42 for '42', '#42', 't42', 'T 42' or 'T-00042'; None
    when it is no number or beyond the database's range (app.ids.parse_id)."""
    match = NUMBER.fullmatch(text.strip())
    return parse_id(match.group(1).lstrip("0") or "0") if match else None


class Answer(db.Model):
    """A code user's or employee's answer to one step; question and type copied from the flow."""

    __tablename__ = "answers"
    __table_args__ = (sa.UniqueConstraint("ticket_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(sa.ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    step_id: Mapped[int | None] = mapped_column(sa.ForeignKey("steps.id", ondelete="SET NULL"))
    position: Mapped[int] = mapped_column()
    question: Mapped[str] = mapped_column(sa.String(255))
    type: Mapped[StepType] = mapped_column(enum_column(StepType))
    help_text: Mapped[str] = mapped_column(sa.Text, default="")
    required: Mapped[bool] = mapped_column(default=False)
    options: Mapped[list] = mapped_column(sa.JSON, default=list)
    is_title: Mapped[bool] = mapped_column(default=False)
    answered: Mapped[bool] = mapped_column(default=False)
    value: Mapped[object | None] = mapped_column(sa.JSON)
    text: Mapped[str] = mapped_column(sa.Text, default="")

    ticket = relationship("Ticket", back_populates="answers")
    attachments = relationship("Attachment", order_by="Attachment.id", foreign_keys="Attachment.answer_id")


class Attachment(db.Model):
    """An uploaded file stored under a random name; served only through a permission check."""

    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int | None] = mapped_column(sa.ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    answer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("answers.id", ondelete="SET NULL"), index=True)
    message_id: Mapped[int | None] = mapped_column(sa.ForeignKey("messages.id", ondelete="SET NULL"), index=True)
    update_id: Mapped[int | None] = mapped_column(sa.ForeignKey("updates.id", ondelete="SET NULL"), index=True)
    stored_name: Mapped[str] = mapped_column(sa.String(80), unique=True)
    thumbnail_name: Mapped[str | None] = mapped_column(sa.String(80))
    original_name: Mapped[str] = mapped_column(sa.String(255))
    content_type: Mapped[str] = mapped_column(sa.String(100))
    size: Mapped[int] = mapped_column()
    uploader_employee_id: Mapped[int | None] = mapped_column(sa.ForeignKey("employees.id", ondelete="SET NULL"))
    uploader_code_user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("code_users.id", ondelete="SET NULL"))
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)

    ticket = relationship("Ticket")

    @classmethod
    def fill(cls, ticket_id, *, answers=(), updates=()):
        """Load the files of `answers` and `updates` (Answer and Update rows of ticket `ticket_id`) in one SELECT and
        set them as their `attachments` collections, ordered by id as the relationships are: a page showing both
        needs no query per collection. Updates not passed (an INTERNAL one on a code user's page) get nothing."""
        answers, updates = list(answers), list(updates)
        if not answers and not updates:
            return
        files = db.session.scalars(_files_query(bool(answers), bool(updates)), {"ticket_id": ticket_id})
        by_answer, by_update = {}, {}
        for file in files:
            if file.answer_id is not None:
                by_answer.setdefault(file.answer_id, []).append(file)
            elif file.update_id is not None:
                by_update.setdefault(file.update_id, []).append(file)
        for rows, found in ((answers, by_answer), (updates, by_update)):
            for row in rows:
                set_committed_value(row, "attachments", found.get(row.id, []))

    @property
    def kind(self):
        """image, video, audio or file, from the checked content type."""
        major = self.content_type.split("/")[0]
        return major if major in ("image", "video", "audio") else "file"

    @property
    def view_name(self):
        """The stored JPEG shown instead of an original browsers cannot display (HEIC), else None.

        It lies beside the original: "<stem>.view.jpg" for "<stem>.heic" (made at upload; older rows have none)."""
        if self.content_type != "image/heic":
            return None
        return self.stored_name.rsplit(".", 1)[0] + ".view.jpg"


class TicketEvent(db.Model):
    """Audit trail entry: what changed on a ticket, by whom, before and after."""

    __tablename__ = "ticket_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(sa.ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(30))
    actor_employee_id: Mapped[int | None] = mapped_column(sa.ForeignKey("employees.id", ondelete="SET NULL"))
    actor_code_user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("code_users.id", ondelete="SET NULL"))
    before: Mapped[str | None] = mapped_column(sa.String(120))
    after: Mapped[str | None] = mapped_column(sa.String(120))
    subject_employee_id: Mapped[int | None] = mapped_column(sa.ForeignKey("employees.id", ondelete="SET NULL"))
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)

    ticket = relationship("Ticket", back_populates="events")
    actor_employee = relationship("Employee", foreign_keys=[actor_employee_id])
    subject_employee = relationship("Employee", foreign_keys=[subject_employee_id])


class Rating(db.Model):
    """A code user's 1–5 rating of a DONE ticket; one per time the ticket was done, the latest counts."""

    __tablename__ = "ratings"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(sa.ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    score: Mapped[int] = mapped_column()
    comment: Mapped[str] = mapped_column(sa.Text, default="")
    code_user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("code_users.id", ondelete="SET NULL"))
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)

    ticket = relationship("Ticket", back_populates="ratings")


class Offer(db.Model):
    """One employee's offer on one ticket."""

    __tablename__ = "offers"
    __table_args__ = (
        sa.UniqueConstraint("ticket_id", "employee_id"),
        sa.Index("ix_offers_employee_state", "employee_id", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(sa.ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    employee_id: Mapped[int] = mapped_column(sa.ForeignKey("employees.id", ondelete="CASCADE"))
    state: Mapped[OfferState] = mapped_column(enum_column(OfferState), default=OfferState.PENDING)
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    ticket = relationship("Ticket", back_populates="offers")
    employee = relationship("Employee")

    @property
    def is_responsible(self):
        """Accepted or assigned."""
        return self.state in RESPONSIBLE_STATES


@cache
def _files_query(of_answers, of_updates):
    """SELECT of a ticket's files (bound `ticket_id`) on its answers and/or updates, by id; built once per variant, as
    building and keying a statement costs about as much as running it."""
    on = [column.is_not(None) for column, wanted in ((Attachment.answer_id, of_answers), (Attachment.update_id, of_updates)) if wanted]
    return (
        sa.select(Attachment)
        .where(Attachment.ticket_id == sa.bindparam("ticket_id"), Attachment.message_id.is_(None), sa.or_(*on))
        .order_by(Attachment.id)
    )
