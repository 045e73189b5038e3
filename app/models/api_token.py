"""Personal API tokens: an employee's bearer credentials for /api/v1, stored only as a hash."""
import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models._types import UTCDateTime, utcnow

SCOPES = ("read", "write", "admin")  # write implies nothing: a token lists every scope it holds


class ApiToken(db.Model):
    """One named token of one employee: scopes, expiry, last use and revocation; the secret itself is never kept.

    `token_hash` is the SHA-256 hex digest of the whole bearer token (`tw_` + 43 URL-safe characters from 32 random
    bytes), so a stolen database yields no usable token; `prefix` is its first characters, shown to tell tokens
    apart. `scopes` is a space-separated subset of SCOPES.
    """

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    employee_id: Mapped[int] = mapped_column(sa.ForeignKey("employees.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(sa.String(80))
    scopes: Mapped[str] = mapped_column(sa.String(40))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    prefix: Mapped[str] = mapped_column(sa.String(12))
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[object | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[object | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[object | None] = mapped_column(UTCDateTime)

    employee = relationship("Employee")

    @property
    def scope_set(self):
        """The scopes as a frozenset of names from SCOPES."""
        return frozenset(self.scopes.split())

    def is_expired(self, now=None):
        """Whether the expiry (UTC) has passed; a token without expiry never expires."""
        return self.expires_at is not None and self.expires_at <= (now or utcnow())

    def __repr__(self):
        return f"<ApiToken {self.id} {self.prefix}… employee={self.employee_id}>"
