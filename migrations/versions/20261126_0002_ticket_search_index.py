"""Full-text search index over tickets (FTS5 on SQLite, GIN on PostgreSQL)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 19:40:00

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# The same statements app/services/search.py runs after db.create_all(); copied so this revision never changes.
SQLITE_DDL = [
    "CREATE VIRTUAL TABLE IF NOT EXISTS ticket_search USING fts5(body, content='ticket_search_documents', "
    "content_rowid='ticket_id', tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER IF NOT EXISTS ticket_search_ai AFTER INSERT ON ticket_search_documents BEGIN "
    "INSERT INTO ticket_search(rowid, body) VALUES (new.ticket_id, new.body); END",
    "CREATE TRIGGER IF NOT EXISTS ticket_search_ad AFTER DELETE ON ticket_search_documents BEGIN "
    "INSERT INTO ticket_search(ticket_search, rowid, body) VALUES ('delete', old.ticket_id, old.body); END",
    "CREATE TRIGGER IF NOT EXISTS ticket_search_au AFTER UPDATE ON ticket_search_documents BEGIN "
    "INSERT INTO ticket_search(ticket_search, rowid, body) VALUES ('delete', old.ticket_id, old.body); "
    "INSERT INTO ticket_search(rowid, body) VALUES (new.ticket_id, new.body); END",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS ticket_search_au",
    "DROP TRIGGER IF EXISTS ticket_search_ad",
    "DROP TRIGGER IF EXISTS ticket_search_ai",
    "DROP TABLE IF EXISTS ticket_search",
]
POSTGRES_DDL = (
    "CREATE INDEX IF NOT EXISTS ix_ticket_search_documents_tsv ON ticket_search_documents "
    "USING gin (to_tsvector('simple', body))"
)


def upgrade():
    op.create_table(
        "ticket_search_documents",
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name=op.f("fk_ticket_search_documents_ticket_id_tickets"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("ticket_id", name=op.f("pk_ticket_search_documents")),
    )
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for statement in SQLITE_DDL:
            op.execute(statement)
    elif dialect == "postgresql":
        op.execute(POSTGRES_DDL)
    # Tickets that exist already become searchable at once: number, title, answers, messages and updates.
    if dialect == "postgresql":
        concat, number = "string_agg", "lpad(CAST(t.id AS TEXT), 5, '0')"
    else:
        concat, number = "group_concat", "printf('%05d', t.id)"
    parts = " || ' ' || ".join(
        f"COALESCE((SELECT {concat}({column}, ' ') FROM {table} WHERE {table}.ticket_id = t.id), '')"
        for table, column in (("answers", "text"), ("messages", "body"), ("updates", "body"))
    )
    op.execute(
        "INSERT INTO ticket_search_documents (ticket_id, body) "
        f"SELECT t.id, 'T-' || {number} || ' ' || CAST(t.id AS TEXT) || ' ' || t.title || ' ' || t.flow_title "
        f"|| ' ' || {parts} "
        "FROM tickets t WHERE t.status != 'DRAFT'"
    )


def downgrade():
    if op.get_bind().dialect.name == "sqlite":
        for statement in SQLITE_DROP:
            op.execute(statement)
    op.drop_table("ticket_search_documents")
