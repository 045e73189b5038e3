"""Report data kept on write: per-ticket facts and daily counts per local day

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-30 05:00:00

The tables start empty; `flask --app wsgi reports rebuild` fills them from the existing tickets (the services keep
them current from then on).
"""
import sqlalchemy as sa
from alembic import op

import app.models._types

# revision identifiers, used by Alembic.
revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "report_ticket_facts",
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("template_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("group_id", sa.Integer(), nullable=True),
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column("employee_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("created_at", app.models._types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_day", sa.Date(), nullable=False),
        sa.Column("closed_day", sa.Date(), nullable=True),
        sa.Column("rated_day", sa.Date(), nullable=True),
        sa.Column("rating_score", sa.Integer(), nullable=True),
        sa.Column("sla_first_response", sa.Boolean(), nullable=True),
        sa.Column("sla_assignment", sa.Boolean(), nullable=True),
        sa.Column("sla_resolution", sa.Boolean(), nullable=True),
        sa.Column("first_response_s", sa.Integer(), nullable=True),
        sa.Column("assignment_s", sa.Integer(), nullable=True),
        sa.Column("resolution_s", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name=op.f("fk_report_ticket_facts_ticket_id_tickets"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("ticket_id", name=op.f("pk_report_ticket_facts")),
    )
    # Covering indexes: each report query reads one range of one index and never the table rows.
    op.create_index(
        "ix_report_ticket_facts_created_day", "report_ticket_facts",
        ["created_day", "template_id", "customer_id", "group_id", "device_id", "first_response_s", "assignment_s",
         "resolution_s"],
    )
    op.create_index(
        "ix_report_ticket_facts_rated_day", "report_ticket_facts",
        ["rated_day", "rating_score", "template_id", "customer_id", "group_id", "device_id", "employee_id"],
    )
    op.create_index(
        "ix_report_ticket_facts_status_created", "report_ticket_facts",
        ["status", "created_at", "template_id", "customer_id", "group_id"],
    )
    op.create_table(
        "report_days",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("template_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        *[
            sa.Column(name, sa.Integer(), nullable=False)
            for name in (
                "created", "closed", "rated", "rating_sum", "rating_1", "rating_2", "rating_3", "rating_4", "rating_5",
                "backlog_open", "backlog_assigned", "backlog_in_progress",
                "sla_met_first_response", "sla_missed_first_response", "sla_met_assignment", "sla_missed_assignment",
                "sla_met_resolution", "sla_missed_resolution",
            )
        ],
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_days")),
        sa.UniqueConstraint(
            "day", "template_id", "customer_id", "group_id", name=op.f("uq_report_days_day")
        ),
    )


    op.create_table(
        "report_duration_months",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("metric", sa.Integer(), nullable=False),
        sa.Column("tenths", sa.Integer(), nullable=False),
        sa.Column("tickets", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_duration_months")),
        sa.UniqueConstraint("month", "metric", "tenths", name=op.f("uq_report_duration_months_month")),
    )


def downgrade():
    op.drop_table("report_duration_months")
    op.drop_table("report_days")
    op.drop_index("ix_report_ticket_facts_status_created", table_name="report_ticket_facts")
    op.drop_index("ix_report_ticket_facts_rated_day", table_name="report_ticket_facts")
    op.drop_index("ix_report_ticket_facts_created_day", table_name="report_ticket_facts")
    op.drop_table("report_ticket_facts")
