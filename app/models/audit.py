"""The security audit log: who signed in, changed a password or a role, switched a code off, and from where."""
import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.enums import AuditKind
from app.extensions import db
from app.models._types import UTCDateTime, utcnow

USER_AGENT_LENGTH = 300  # characters of the User-Agent header kept per event
ADDRESS_LENGTH = 64  # an IPv6 address with a zone fits


class AuditEvent(db.Model):
    """One security event: its kind, who did it (actor), to whom (subject), which code, the client and detail."""

    __tablename__ = "audit_events"
    __table_args__ = (
        sa.Index("ix_audit_events_actor_id_id", "actor_id", "id"),
        sa.Index("ix_audit_events_subject_id_id", "subject_id", "id"),
        sa.Index("ix_audit_events_kind_id", "kind", "id"),
        sa.Index("ix_audit_events_address_id", "address", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow, index=True)
    # By name, like every enum here; the longest names need more than the usual 20 characters.
    kind: Mapped[AuditKind] = mapped_column(sa.Enum(AuditKind, native_enum=False, length=40, validate_strings=True))
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("employees.id", ondelete="SET NULL"))
    subject_id: Mapped[int | None] = mapped_column(sa.ForeignKey("employees.id", ondelete="SET NULL"))
    code_id: Mapped[int | None] = mapped_column(sa.ForeignKey("codes.id", ondelete="SET NULL"))
    address: Mapped[str | None] = mapped_column(sa.String(ADDRESS_LENGTH))
    user_agent: Mapped[str] = mapped_column(sa.String(USER_AGENT_LENGTH), default="")
    detail: Mapped[dict] = mapped_column(sa.JSON, default=dict)

    actor = relationship("Employee", foreign_keys=[actor_id])
    subject = relationship("Employee", foreign_keys=[subject_id])
    code = relationship("Code")

    def __repr__(self):
        return f"<AuditEvent {self.id} {self.kind.name}>"
