"""Column helpers shared by the model modules."""
from datetime import UTC, datetime

import sqlalchemy as sa


def utcnow():
    """Timezone-aware now in UTC, the only clock the models use."""
    return datetime.now(UTC)


class UTCDateTime(sa.types.TypeDecorator):
    """Stores aware datetimes as UTC and always returns them aware (SQLite drops the zone)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        """Normalise to UTC before writing."""
        if value is not None and value.tzinfo is not None:
            value = value.astimezone(UTC)
        return value

    def process_result_value(self, value, dialect):
        """Re-attach UTC where the database forgot it."""
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


def enum_column(enum_cls, **kwargs):
    """An enum stored by name as plain text, the same on SQLite and PostgreSQL."""
    return sa.Enum(enum_cls, native_enum=False, length=20, validate_strings=True, **kwargs)
