"""Organisation-wide settings, one row."""
import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db


class Organisation(db.Model):
    """Name, logo and the settings an administrator changes in the browser."""

    __tablename__ = "organisation"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120), default="Ticketwerk")
    logo_name: Mapped[str | None] = mapped_column(sa.String(80))
    public_base_url: Mapped[str | None] = mapped_column(sa.String(255))
    video_base_url: Mapped[str | None] = mapped_column(sa.String(255))
    autoclose_days: Mapped[int] = mapped_column(default=14)
    upload_limit_mb: Mapped[int | None] = mapped_column()
    # Role names ("MEMBER", "MODERATOR", "ADMIN") whose employees must sign in with a second factor.
    two_factor_roles: Mapped[list] = mapped_column(sa.JSON, default=list)
    # IANA zone in which times are shown to code users and to employees without a zone of their own.
    time_zone: Mapped[str] = mapped_column(sa.String(64), default="Europe/Berlin", server_default="Europe/Berlin")

    @classmethod
    def settings(cls):
        """The single settings row, or None before it exists: one SELECT per session at most.

        The session's identity map holds rows only while something references them, so a row read for one setting
        would be read again for the next; the row is kept referenced in `session.info` (dropped with the session,
        that is after each request). `get` still goes through the identity map, so an expunged or deleted row is
        read again rather than served stale."""
        org = db.session.get(cls, 1)
        db.session.info["organisation"] = org
        return org

    @classmethod
    def current(cls):
        """The single settings row, created on first use (not committed here)."""
        org = db.session.get(cls, 1)
        if org is None:
            org = cls(id=1)
            db.session.add(org)
            db.session.flush()
        return org
