"""Webhook endpoints and their events; webhook deliveries in the one outbox

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30 05:00:00

A webhook delivery is a row of `deliveries` with channel WEBHOOK (enums are stored by name as plain text, so the
new name needs no change there): it names a webhook event and an endpoint instead of a notification, so
`notification_id` may now be empty (exactly one of the two is set), and it keeps the endpoint's HTTP status.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "webhook_endpoints",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("url", sa.String(length=1000), nullable=False),
        sa.Column("description", sa.String(length=255), nullable=False),
        sa.Column("events", sa.JSON(), nullable=False),
        sa.Column("secret", sa.String(length=100), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("internal", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("secret_created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_endpoints")),
    )
    op.create_table(
        "webhook_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=40), nullable=False),
        sa.Column("type", sa.String(length=40), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("internal", sa.Boolean(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name=op.f("fk_webhook_events_ticket_id_tickets"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_events")),
        sa.UniqueConstraint("public_id", name=op.f("uq_webhook_events_public_id")),
    )
    with op.batch_alter_table("webhook_events") as batch_op:
        batch_op.create_index(batch_op.f("ix_webhook_events_ticket_id"), ["ticket_id"], unique=False)
    # Batch mode copies the deliveries table on SQLite (it cannot make a column nullable in place).
    with op.batch_alter_table("deliveries") as batch_op:
        batch_op.alter_column("notification_id", existing_type=sa.Integer(), nullable=True)
        batch_op.add_column(sa.Column("webhook_event_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("webhook_endpoint_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("response_status", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_deliveries_webhook_event_id_webhook_events"), "webhook_events", ["webhook_event_id"], ["id"],
            ondelete="CASCADE",
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_deliveries_webhook_endpoint_id_webhook_endpoints"), "webhook_endpoints",
            ["webhook_endpoint_id"], ["id"], ondelete="CASCADE",
        )
        batch_op.create_index(batch_op.f("ix_deliveries_webhook_event_id"), ["webhook_event_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_deliveries_webhook_endpoint_id"), ["webhook_endpoint_id"], unique=False)
        batch_op.create_unique_constraint(
            batch_op.f("uq_deliveries_webhook_event_id"), ["webhook_event_id", "webhook_endpoint_id"]
        )
        batch_op.create_check_constraint(
            op.f("ck_deliveries_notification_or_webhook_event"), "(notification_id IS NULL) <> (webhook_event_id IS NULL)"
        )


def downgrade():
    op.execute("DELETE FROM deliveries WHERE notification_id IS NULL")
    with op.batch_alter_table("deliveries") as batch_op:
        batch_op.drop_constraint(op.f("ck_deliveries_notification_or_webhook_event"), type_="check")
        batch_op.drop_constraint(batch_op.f("uq_deliveries_webhook_event_id"), type_="unique")
        batch_op.drop_index(batch_op.f("ix_deliveries_webhook_endpoint_id"))
        batch_op.drop_index(batch_op.f("ix_deliveries_webhook_event_id"))
        batch_op.drop_constraint(batch_op.f("fk_deliveries_webhook_endpoint_id_webhook_endpoints"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("fk_deliveries_webhook_event_id_webhook_events"), type_="foreignkey")
        batch_op.drop_column("response_status")
        batch_op.drop_column("webhook_endpoint_id")
        batch_op.drop_column("webhook_event_id")
        batch_op.alter_column("notification_id", existing_type=sa.Integer(), nullable=False)
    with op.batch_alter_table("webhook_events") as batch_op:
        batch_op.drop_index(batch_op.f("ix_webhook_events_ticket_id"))
    op.drop_table("webhook_events")
    op.drop_table("webhook_endpoints")
