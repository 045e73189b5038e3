"""Security audit log; password reset mails in the outbox

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 02:00:00

The password reset needs no column: its link is signed with the app secret and bound to a digest of the password
hash, and its mail is an outbox notification of the new kind PASSWORD_RESET (enums are stored by name as plain
text, so the new name needs no change to the notifications table).
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

AUDIT_KINDS = (
    "SIGN_IN", "SIGN_IN_FAILED", "SIGN_IN_LOCKED", "SIGN_IN_SECOND_FACTOR_FAILED", "SESSIONS_ENDED",
    "PASSWORD_CHANGED", "PASSWORD_RESET_REQUESTED", "PASSWORD_RESET", "INVITATION_ACCEPTED",
    "TWO_FACTOR_ENABLED", "TWO_FACTOR_DISABLED", "RECOVERY_CODE_USED", "ROLE_CHANGED",
    "EMPLOYEE_DEACTIVATED", "EMPLOYEE_REACTIVATED", "CODE_DISABLED", "CODE_ENABLED", "CODE_USERS_LOGGED_OUT",
)


def upgrade():
    op.create_table(
        "audit_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.Enum(*AUDIT_KINDS, name="auditkind", native_enum=False, length=40), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("subject_id", sa.Integer(), nullable=True),
        sa.Column("code_id", sa.Integer(), nullable=True),
        sa.Column("address", sa.String(length=64), nullable=True),
        sa.Column("user_agent", sa.String(length=300), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["actor_id"], ["employees.id"], name=op.f("fk_audit_events_actor_id_employees"), ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["subject_id"], ["employees.id"], name=op.f("fk_audit_events_subject_id_employees"), ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["code_id"], ["codes.id"], name=op.f("fk_audit_events_code_id_codes"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_events")),
    )
    op.create_index(op.f("ix_audit_events_created_at"), "audit_events", ["created_at"], unique=False)
    op.create_index("ix_audit_events_actor_id_id", "audit_events", ["actor_id", "id"], unique=False)
    op.create_index("ix_audit_events_subject_id_id", "audit_events", ["subject_id", "id"], unique=False)
    op.create_index("ix_audit_events_kind_id", "audit_events", ["kind", "id"], unique=False)
    op.create_index("ix_audit_events_address_id", "audit_events", ["address", "id"], unique=False)


def downgrade():
    op.drop_table("audit_events")
