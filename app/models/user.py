"""Employees, teams and their notification preferences."""
import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from app.enums import Channel, NotificationEvent, Origin, Role, Strategy
from app.extensions import db
from app.models._search import SearchKeyed
from app.models._types import UTCDateTime, enum_column, utcnow

team_members = sa.Table(
    "team_members",
    db.metadata,
    sa.Column("team_id", sa.ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("employee_id", sa.ForeignKey("employees.id", ondelete="CASCADE"), primary_key=True),
)


class Employee(SearchKeyed, UserMixin, db.Model):
    """A service employee who logs in with e-mail and password."""

    __tablename__ = "employees"
    SEARCH_FIELDS = ("name", "email")
    is_employee = True
    is_code_user = False

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    password_hash: Mapped[str | None] = mapped_column(sa.String(255))
    role: Mapped[Role] = mapped_column(enum_column(Role), default=Role.MEMBER)
    language: Mapped[str] = mapped_column(sa.String(5), default="de")
    # IANA zone the employee reads times in; None: the organisation's.
    time_zone: Mapped[str | None] = mapped_column(sa.String(64))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)
    # Raised whenever every sign-in of the employee must end; cookies carry the value they were issued with.
    session_generation: Mapped[int] = mapped_column(default=0, server_default="0")
    # Base32 TOTP secret (RFC 6238), set once the employee confirmed a first code; None: no two-factor sign-in.
    totp_secret: Mapped[str | None] = mapped_column(sa.String(64))
    # The 30 s time step of the last accepted code, so a code is not accepted twice in its window.
    totp_last_step: Mapped[int | None] = mapped_column()

    teams = relationship("Team", secondary=team_members, back_populates="members")
    recovery_codes = relationship("RecoveryCode", cascade="all, delete-orphan", order_by="RecoveryCode.id")

    def set_password(self, password):
        """Store a salted hash of `password`."""
        self.password_hash = generate_password_hash(password)

    def check_password(self, password):
        """Whether `password` matches the stored hash."""
        return bool(self.password_hash) and check_password_hash(self.password_hash, password)

    def get_id(self):
        """Flask-Login's cookie value "<id>:<session generation>": raising the generation voids every issued cookie."""
        return f"{self.id}:{self.session_generation or 0}"

    @property
    def has_two_factor(self):
        """Whether sign-in asks for a TOTP code after the password."""
        return bool(self.totp_secret)

    @property
    def is_active(self):
        """Flask-Login refuses inactive employees."""
        return self.active

    @property
    def is_moderator(self):
        """Moderators and administrators."""
        return self.role in (Role.MODERATOR, Role.ADMIN)

    @property
    def is_admin(self):
        """Administrators only."""
        return self.role == Role.ADMIN

    def __repr__(self):
        return f"<Employee {self.email}>"


class RecoveryCode(db.Model):
    """One of an employee's one-time recovery codes for two-factor sign-in, stored as a salted hash."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    employee_id: Mapped[int] = mapped_column(sa.ForeignKey("employees.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(sa.String(255))
    used_at: Mapped[object | None] = mapped_column(UTCDateTime)


class Team(db.Model):
    """A named set of employees, usable inside routing groups."""

    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120), unique=True)

    members = relationship("Employee", secondary=team_members, back_populates="teams", order_by="Employee.name")


class NotificationPreference(db.Model):
    """One employee's choice for one event: channels, origin and strategy."""

    __tablename__ = "notification_preferences"
    __table_args__ = (sa.UniqueConstraint("employee_id", "event"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    employee_id: Mapped[int] = mapped_column(sa.ForeignKey("employees.id", ondelete="CASCADE"))
    event: Mapped[NotificationEvent] = mapped_column(enum_column(NotificationEvent))
    channels: Mapped[list] = mapped_column(sa.JSON, default=list)
    origin: Mapped[Origin] = mapped_column(enum_column(Origin), default=Origin.OTHERS)
    strategy: Mapped[Strategy] = mapped_column(enum_column(Strategy), default=Strategy.ALL)

    @property
    def channel_set(self):
        """The chosen channels as enum members."""
        return {Channel[name] for name in self.channels}
