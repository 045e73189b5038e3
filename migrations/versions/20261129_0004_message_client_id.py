"""Messages remember the id their sender's browser made, once per ticket

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 20:30:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


# ADD COLUMN and CREATE INDEX, no batch mode: the messages table is large and must not be copied.
def upgrade():
    op.add_column("messages", sa.Column("client_id", sa.String(length=64), nullable=True))
    op.create_index("ux_messages_ticket_id_client_id", "messages", ["ticket_id", "client_id"], unique=True)


def downgrade():
    op.drop_index("ux_messages_ticket_id_client_id", table_name="messages")
    with op.batch_alter_table("messages") as batch_op:
        batch_op.drop_column("client_id")
