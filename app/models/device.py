"""Customers, devices and the QR codes stuck on them."""
import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from app.enums import CustomerKind
from app.extensions import db
from app.models._search import SearchKeyed
from app.models._types import UTCDateTime, enum_column, utcnow


class Customer(SearchKeyed, db.Model):
    """A private person or company owning devices."""

    __tablename__ = "customers"
    SEARCH_FIELDS = ("name", "contact_name", "email", "phone")

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(160), index=True)
    kind: Mapped[CustomerKind] = mapped_column(enum_column(CustomerKind), default=CustomerKind.COMPANY)
    contact_name: Mapped[str] = mapped_column(sa.String(160), default="")
    email: Mapped[str] = mapped_column(sa.String(254), default="")
    phone: Mapped[str] = mapped_column(sa.String(60), default="")
    address: Mapped[str] = mapped_column(sa.Text, default="")
    archived: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)

    devices = relationship("Device", back_populates="customer", order_by="Device.name")


class Device(SearchKeyed, db.Model):
    """One physical machine made from a template."""

    __tablename__ = "devices"
    SEARCH_FIELDS = ("name", "serial_number", "location")

    id: Mapped[int] = mapped_column(primary_key=True)
    template_id: Mapped[int] = mapped_column(sa.ForeignKey("templates.id"), index=True)
    customer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("customers.id", ondelete="SET NULL"), index=True)
    name: Mapped[str] = mapped_column(sa.String(160), index=True)
    serial_number: Mapped[str] = mapped_column(sa.String(80), default="")
    location: Mapped[str] = mapped_column(sa.String(160), default="")
    description: Mapped[str] = mapped_column(sa.Text, default="")
    picture_name: Mapped[str | None] = mapped_column(sa.String(80))
    archived: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)

    template = relationship("Template")
    customer = relationship("Customer", back_populates="devices")
    codes = relationship("Code", back_populates="device")


class Code(SearchKeyed, db.Model):
    """A QR code: unguessable token, optional PIN, paired with at most one device."""

    __tablename__ = "codes"
    SEARCH_FIELDS = ("label",)  # the list also searches the paired device's key

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(sa.String(64), unique=True)
    device_id: Mapped[int | None] = mapped_column(sa.ForeignKey("devices.id", ondelete="SET NULL"), index=True)
    label: Mapped[str] = mapped_column(sa.String(120), default="")
    enabled: Mapped[bool] = mapped_column(default=True)
    pin_hash: Mapped[str | None] = mapped_column(sa.String(255))
    session_epoch: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)

    device = relationship("Device", back_populates="codes")

    @property
    def has_pin(self):
        """Whether code users must enter a PIN first."""
        return bool(self.pin_hash)

    def set_pin(self, pin):
        """Set or (with None) remove the PIN."""
        self.pin_hash = generate_password_hash(pin) if pin else None

    def check_pin(self, pin):
        """Whether `pin` is this code's PIN."""
        return self.has_pin and check_password_hash(self.pin_hash, pin or "")

    @property
    def is_usable(self):
        """Enabled and paired with a device that is not archived."""
        return self.enabled and self.device is not None and not self.device.archived


class CodeUser(db.Model):
    """An anonymous browser, known by the signed cookie that carries its key."""

    __tablename__ = "code_users"
    is_employee = False
    is_code_user = True
    role = None

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(64), unique=True)
    language: Mapped[str | None] = mapped_column(sa.String(5))
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)

    sessions = relationship("CodeSession", back_populates="code_user", cascade="all, delete-orphan")


class CodeSession(db.Model):
    """A code user's access through one code, valid while the code's epoch is unchanged."""

    __tablename__ = "code_sessions"
    __table_args__ = (sa.UniqueConstraint("code_user_id", "code_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code_user_id: Mapped[int] = mapped_column(sa.ForeignKey("code_users.id", ondelete="CASCADE"), index=True)
    code_id: Mapped[int] = mapped_column(sa.ForeignKey("codes.id", ondelete="CASCADE"), index=True)
    epoch: Mapped[int] = mapped_column()
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)

    code_user = relationship("CodeUser", back_populates="sessions")
    code = relationship("Code")

    @property
    def is_valid(self):
        """The code is still usable and nobody logged code users out since."""
        return self.code.is_usable and self.epoch == self.code.session_epoch
