"""In-app notifications, their outbox deliveries, push subscriptions and code-user receivers."""
import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.enums import Channel, DeliveryStatus, NotificationEvent
from app.extensions import db
from app.models._types import UTCDateTime, enum_column, utcnow


class Notification(db.Model):
    """One recipient's notice of one ticket event; the in-app row every employee gets."""

    __tablename__ = "notifications"
    __table_args__ = (sa.Index("ix_notifications_employee_read", "employee_id", "read_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    employee_id: Mapped[int | None] = mapped_column(sa.ForeignKey("employees.id", ondelete="CASCADE"))
    receiver_id: Mapped[int | None] = mapped_column(sa.ForeignKey("ticket_receivers.id", ondelete="CASCADE"))
    ticket_id: Mapped[int | None] = mapped_column(sa.ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    event: Mapped[NotificationEvent] = mapped_column(enum_column(NotificationEvent))
    actor_name: Mapped[str] = mapped_column(sa.String(160), default="")
    detail: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    read_at: Mapped[object | None] = mapped_column(UTCDateTime)
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)

    employee = relationship("Employee")
    receiver = relationship("TicketReceiver")
    ticket = relationship("Ticket")
    deliveries = relationship("Delivery", back_populates="notification", order_by="Delivery.id")


class Delivery(db.Model):
    """One outbox entry: a notification to send on one channel, or (channel WEBHOOK) an event to one endpoint."""

    __tablename__ = "deliveries"
    __table_args__ = (
        sa.Index("ix_deliveries_status_due", "status", "next_attempt_at"),
        sa.UniqueConstraint("webhook_event_id", "webhook_endpoint_id"),  # each event reaches an endpoint once
        sa.CheckConstraint(
            "(notification_id IS NULL) <> (webhook_event_id IS NULL)", name="notification_or_webhook_event"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    notification_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("notifications.id", ondelete="CASCADE"), index=True
    )
    webhook_event_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("webhook_events.id", ondelete="CASCADE"), index=True
    )
    webhook_endpoint_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("webhook_endpoints.id", ondelete="CASCADE"), index=True
    )
    channel: Mapped[Channel] = mapped_column(enum_column(Channel))
    position: Mapped[int] = mapped_column(default=0)
    first_success_only: Mapped[bool] = mapped_column(default=False)
    status: Mapped[DeliveryStatus] = mapped_column(enum_column(DeliveryStatus), default=DeliveryStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str] = mapped_column(sa.Text, default="")
    next_attempt_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)
    claimed_until: Mapped[object | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[object | None] = mapped_column(UTCDateTime)
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)
    response_status: Mapped[int | None] = mapped_column()  # a webhook endpoint's last HTTP status

    notification = relationship("Notification", back_populates="deliveries")
    webhook_event = relationship("WebhookEvent", back_populates="deliveries")
    webhook_endpoint = relationship("WebhookEndpoint", back_populates="deliveries")


class PushSubscription(db.Model):
    """A browser's web-push endpoint, for an employee or for a code user's ticket."""

    __tablename__ = "push_subscriptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    endpoint: Mapped[str] = mapped_column(sa.String(1000), unique=True)
    p256dh: Mapped[str] = mapped_column(sa.String(255))
    auth: Mapped[str] = mapped_column(sa.String(255))
    employee_id: Mapped[int | None] = mapped_column(sa.ForeignKey("employees.id", ondelete="CASCADE"), index=True)
    receiver_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("ticket_receivers.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)


class TicketReceiver(db.Model):
    """A code user who wants to hear back about a public ticket (push and/or e-mail)."""

    __tablename__ = "ticket_receivers"
    __table_args__ = (sa.UniqueConstraint("ticket_id", "code_user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(sa.ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    code_user_id: Mapped[int] = mapped_column(sa.ForeignKey("code_users.id", ondelete="CASCADE"))
    email: Mapped[str | None] = mapped_column(sa.String(254))
    email_confirmed_at: Mapped[object | None] = mapped_column(UTCDateTime)  # None: no news by e-mail yet
    language: Mapped[str] = mapped_column(sa.String(5), default="de")
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)

    ticket = relationship("Ticket")
    code_user = relationship("CodeUser")
