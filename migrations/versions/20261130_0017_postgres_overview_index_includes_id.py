"""Overview on PostgreSQL: the status/created and status/rating/created indexes include the ticket number

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-30 16:30:00

Migration 0016 let SQLite choose a page of a created range from the index alone: its index entries carry the
rowid, the ticket number. PostgreSQL's entries point at the row instead, so each of up to 20,000 matches was read
from the table for its number. With the number included (INCLUDE, not a key column, so the order is unchanged),
PostgreSQL answers the same subquery with an index-only scan once the table is vacuumed. SQLite is left as it is.
"""
from alembic import op

# revision identifiers, used by Alembic.
revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

INDEXES = {
    "ix_tickets_status_created_activity": ["status", "created_at", "last_activity_at"],
    "ix_tickets_status_rating_created_activity": ["status", "rating_score", "created_at", "last_activity_at"],
}


def _rebuild(include):
    """Drop and create both indexes on PostgreSQL, with `include` as their INCLUDE columns."""
    if op.get_bind().dialect.name != "postgresql":
        return
    for name, columns in INDEXES.items():
        op.drop_index(name, table_name="tickets")
        op.create_index(name, "tickets", columns, unique=False, postgresql_include=include)


def upgrade():
    _rebuild(["id"])


def downgrade():
    _rebuild([])
