"""Overview indexes: priority and rating with date range within statuses

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 19:50:00

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


# Plain CREATE INDEX (no batch mode): the tickets table is large and must not be copied.
def upgrade():
    op.create_index("ix_tickets_status_priority", "tickets", ["status", "priority"], unique=False)
    op.create_index("ix_tickets_status_rating_created", "tickets", ["status", "rating_score", "created_at"], unique=False)


def downgrade():
    op.drop_index("ix_tickets_status_rating_created", table_name="tickets")
    op.drop_index("ix_tickets_status_priority", table_name="tickets")
