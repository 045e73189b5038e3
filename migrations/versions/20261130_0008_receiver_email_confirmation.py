"""Code users' e-mail addresses for ticket news are confirmed by a link before any news is sent

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 03:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


# Addresses left before this revision were never confirmed: they stay unconfirmed (no news by e-mail) until
# their owner leaves the address again and opens the link that then comes.
def upgrade():
    op.add_column("ticket_receivers", sa.Column("email_confirmed_at", sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table("ticket_receivers") as batch_op:
        batch_op.drop_column("email_confirmed_at")
