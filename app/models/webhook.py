"""Webhook endpoints registered by administrators and the events recorded for them.

Each event to each endpoint is one `Delivery` of channel WEBHOOK in the same outbox as e-mail and web push
(models/notification.py); the dispatcher sends it (services/webhooks.py signs and posts it).
"""
import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models._types import UTCDateTime, utcnow


class WebhookEndpoint(db.Model):
    """An https address that receives signed JSON events; `internal` endpoints also hear of INTERNAL content."""

    __tablename__ = "webhook_endpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(sa.String(1000))
    description: Mapped[str] = mapped_column(sa.String(255), default="")
    events: Mapped[list] = mapped_column(sa.JSON, default=list)  # WebhookEventType values it subscribes to
    secret: Mapped[str] = mapped_column(sa.String(100))  # the HMAC key, shown to administrators; kept to sign
    active: Mapped[bool] = mapped_column(default=True)
    internal: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)
    secret_created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)

    deliveries = relationship("Delivery", back_populates="webhook_endpoint", passive_deletes=True)


class WebhookEvent(db.Model):
    """One event as its payload will read (built in the transaction of the change); sent to each endpoint once."""

    __tablename__ = "webhook_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(sa.String(40), unique=True)  # the payload's `id` and the id header
    type: Mapped[str] = mapped_column(sa.String(40))
    ticket_id: Mapped[int | None] = mapped_column(sa.ForeignKey("tickets.id", ondelete="SET NULL"), index=True)
    internal: Mapped[bool] = mapped_column(default=False)  # about an INTERNAL ticket or update
    data: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)

    ticket = relationship("Ticket")
    deliveries = relationship("Delivery", back_populates="webhook_event", passive_deletes=True)
