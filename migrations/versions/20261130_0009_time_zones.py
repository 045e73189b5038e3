"""The organisation's time zone (default Europe/Berlin) and an employee's own choice

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 05:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


# Times stay stored in UTC; these columns only say in which zone they are shown.
def upgrade():
    op.add_column(
        "organisation",
        sa.Column("time_zone", sa.String(64), nullable=False, server_default="Europe/Berlin"),
    )
    op.add_column("employees", sa.Column("time_zone", sa.String(64), nullable=True))


def downgrade():
    with op.batch_alter_table("employees") as batch_op:
        batch_op.drop_column("time_zone")
    with op.batch_alter_table("organisation") as batch_op:
        batch_op.drop_column("time_zone")
