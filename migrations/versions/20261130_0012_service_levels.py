"""Service levels: the business calendar, targets per template/flow/priority, each ticket's clocks

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30 05:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

PRIORITY = sa.Enum("LOW", "NORMAL", "HIGH", name="priority", native_enum=False, length=20)
TARGETS = ("first_response", "assignment", "resolution")


def _when(name):
    """A nullable UTC instant."""
    return sa.Column(name, sa.DateTime(timezone=True), nullable=True)


def upgrade():
    op.create_table(
        "business_calendar",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("weekdays", sa.JSON(), nullable=False),
        sa.Column("start_minute", sa.Integer(), nullable=False),
        sa.Column("end_minute", sa.Integer(), nullable=False),
        sa.Column("holiday_state", sa.String(length=5), nullable=False),
        sa.Column("closed_days", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "service_levels",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("template_id", sa.Integer(), nullable=False),
        sa.Column("flow_id", sa.Integer(), nullable=True),
        sa.Column("priority", PRIORITY, nullable=True),
        sa.Column("first_response_minutes", sa.Integer(), nullable=True),
        sa.Column("assignment_minutes", sa.Integer(), nullable=True),
        sa.Column("resolution_minutes", sa.Integer(), nullable=True),
        sa.Column("pause_while_waiting", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["flow_id"], ["flows.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["template_id"], ["templates.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("template_id", "flow_id", "priority", name="uq_service_levels_scope"),
    )
    op.create_index("ix_service_levels_template_id", "service_levels", ["template_id"], unique=False)
    target_columns = []
    for target in TARGETS:
        target_columns += [
            sa.Column(f"{target}_minutes", sa.Integer(), nullable=True),
            _when(f"{target}_due_at"),
            _when(f"{target}_at"),
            sa.Column(f"{target}_met", sa.Boolean(), nullable=True),
            _when(f"{target}_warned_at"),
            _when(f"{target}_missed_at"),
        ]
    op.create_table(
        "ticket_slas",
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("service_level_id", sa.Integer(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("pause_while_waiting", sa.Boolean(), nullable=False),
        sa.Column("waiting", sa.Boolean(), nullable=False),
        _when("paused_since"),
        sa.Column("paused_minutes", sa.Float(), nullable=False),
        _when("next_alert_at"),
        *target_columns,
        sa.ForeignKeyConstraint(["service_level_id"], ["service_levels.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("ticket_id"),
    )
    op.create_index("ix_ticket_slas_next_alert_at", "ticket_slas", ["next_alert_at"], unique=False)
    op.add_column("tickets", sa.Column("sla_due_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index("ix_tickets_sla_due", "tickets", ["sla_due_at"], unique=False)


def downgrade():
    op.drop_index("ix_tickets_sla_due", table_name="tickets")
    with op.batch_alter_table("tickets") as batch_op:
        batch_op.drop_column("sla_due_at")
    op.drop_index("ix_ticket_slas_next_alert_at", table_name="ticket_slas")
    op.drop_table("ticket_slas")
    op.drop_index("ix_service_levels_template_id", table_name="service_levels")
    op.drop_table("service_levels")
    op.drop_table("business_calendar")
