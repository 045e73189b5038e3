"""Messenger entries, read markers, updates and video sessions."""
import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app import policy
from app.enums import MessageKind, Visibility
from app.extensions import db
from app.models._types import UTCDateTime, enum_column, utcnow
from app.models.ticket import Ticket
from app.workflow import TicketStatus


class Message(db.Model):
    """One entry of a ticket's messenger thread."""

    __tablename__ = "messages"
    __table_args__ = (
        sa.Index("ix_messages_ticket_id_id", "ticket_id", "id"),
        # A browser sends a message again when it never saw the answer; the id it made is stored once per ticket.
        sa.Index("ux_messages_ticket_id_client_id", "ticket_id", "client_id", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(sa.ForeignKey("tickets.id", ondelete="CASCADE"))
    kind: Mapped[MessageKind] = mapped_column(enum_column(MessageKind), default=MessageKind.TEXT)
    body: Mapped[str] = mapped_column(sa.Text, default="")
    author_employee_id: Mapped[int | None] = mapped_column(sa.ForeignKey("employees.id", ondelete="SET NULL"))
    author_code_user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("code_users.id", ondelete="SET NULL"))
    assistant_element_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("assistant_elements.id", ondelete="SET NULL")
    )
    video_session_id: Mapped[int | None] = mapped_column(sa.ForeignKey("video_sessions.id", ondelete="SET NULL"))
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)
    client_id: Mapped[str | None] = mapped_column(sa.String(64))  # made by the sender's browser, see services.messenger

    ticket = relationship("Ticket")
    author_employee = relationship("Employee")
    attachments = relationship("Attachment", order_by="Attachment.id", foreign_keys="Attachment.message_id")
    assistant_element = relationship("AssistantElement")
    video_session = relationship("VideoSession")


class MessageRead(db.Model):
    """How far one reader (employee or code user) has read a ticket's thread."""

    __tablename__ = "message_reads"
    __table_args__ = (
        sa.UniqueConstraint("ticket_id", "employee_id", "code_user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(sa.ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    employee_id: Mapped[int | None] = mapped_column(sa.ForeignKey("employees.id", ondelete="CASCADE"))
    code_user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("code_users.id", ondelete="CASCADE"))
    last_read_message_id: Mapped[int] = mapped_column(default=0)


class Update(db.Model):
    """A public (service history) or internal update on a ticket."""

    __tablename__ = "updates"
    __table_args__ = (sa.Index("ix_updates_ticket_visibility", "ticket_id", "visibility"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(sa.ForeignKey("tickets.id", ondelete="CASCADE"))
    visibility: Mapped[Visibility] = mapped_column(enum_column(Visibility))
    body: Mapped[str] = mapped_column(sa.Text, default="")
    author_employee_id: Mapped[int | None] = mapped_column(sa.ForeignKey("employees.id", ondelete="SET NULL"))
    author_code_user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("code_users.id", ondelete="SET NULL"))
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow, index=True)

    ticket = relationship("Ticket")
    author_employee = relationship("Employee")
    attachments = relationship("Attachment", order_by="Attachment.id", foreign_keys="Attachment.update_id")

    @classmethod
    def visible_to(cls, actor):
        """select(Update) of the updates `actor` may view: policy.can_view_ticket and can_view_update as SQL."""
        query = sa.select(cls).join(Ticket, cls.ticket_id == Ticket.id).where(Ticket.visible_clause(actor))
        if not policy.can_see_internal(actor):
            query = query.where(cls.visibility == Visibility.PUBLIC)
        return query

    @classmethod
    def public_history(cls, device_id):
        """select(Update, Ticket) of a device's service history: PUBLIC updates of its PUBLIC submitted tickets."""
        return (
            sa.select(cls, Ticket)
            .join(Ticket, cls.ticket_id == Ticket.id)
            .where(
                Ticket.device_id == device_id,
                Ticket.visibility == Visibility.PUBLIC,
                Ticket.status != TicketStatus.DRAFT,
                cls.visibility == Visibility.PUBLIC,
            )
        )


class VideoSession(db.Model):
    """A video room on the configured video service, linked to a ticket."""

    __tablename__ = "video_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(sa.ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    room: Mapped[str] = mapped_column(sa.String(80))
    url: Mapped[str] = mapped_column(sa.String(500))
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("employees.id", ondelete="SET NULL"))
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)
