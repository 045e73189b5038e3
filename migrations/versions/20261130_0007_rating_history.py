"""A ticket keeps every rating it was given: reopened and done again, it is rated again; the latest counts

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 02:00:00

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


# The ratings table is small (at most one row per finished ticket so far): batch mode may copy it on SQLite.
def upgrade():
    with op.batch_alter_table("ratings") as batch_op:
        batch_op.drop_constraint("uq_ratings_ticket_id", type_="unique")
        batch_op.create_index("ix_ratings_ticket_id", ["ticket_id"])


def downgrade():
    # Only the latest rating of each ticket survives a downgrade: the old schema holds one.
    op.execute("DELETE FROM ratings WHERE id NOT IN (SELECT MAX(id) FROM ratings GROUP BY ticket_id)")
    with op.batch_alter_table("ratings") as batch_op:
        batch_op.drop_index("ix_ratings_ticket_id")
        batch_op.create_unique_constraint("uq_ratings_ticket_id", ["ticket_id"])
