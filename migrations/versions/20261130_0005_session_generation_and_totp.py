"""Employees' session generation, two-factor sign-in (TOTP secret, recovery codes) and the roles that need it

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 02:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


# ADD COLUMN with constant defaults, no batch mode: employees and organisation are small, but nothing needs a copy.
def upgrade():
    op.add_column("employees", sa.Column("session_generation", sa.Integer(), nullable=False, server_default="0"))
    op.add_column("employees", sa.Column("totp_secret", sa.String(length=64), nullable=True))
    op.add_column("employees", sa.Column("totp_last_step", sa.Integer(), nullable=True))
    op.add_column("organisation", sa.Column("two_factor_roles", sa.JSON(), nullable=False, server_default=sa.text("'[]'")))
    op.create_table(
        "recovery_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("employee_id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=255), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["employee_id"], ["employees.id"], name="fk_recovery_codes_employee_id_employees", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_recovery_codes"),
    )
    op.create_index("ix_recovery_codes_employee_id", "recovery_codes", ["employee_id"])


def downgrade():
    op.drop_index("ix_recovery_codes_employee_id", table_name="recovery_codes")
    op.drop_table("recovery_codes")
    with op.batch_alter_table("organisation") as batch_op:
        batch_op.drop_column("two_factor_roles")
    with op.batch_alter_table("employees") as batch_op:
        batch_op.drop_column("totp_last_step")
        batch_op.drop_column("totp_secret")
        batch_op.drop_column("session_generation")
