"""List searches and the ticket search fold German text: search keys for devices, customers, employees, codes and
templates; ticket search documents rebuilt folded

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-30 05:00:00

"""
import sqlalchemy as sa
from alembic import op

from app import text_folding

# revision identifiers, used by Alembic.
revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

BATCH = 2000
# The fields each table's key folds, as the models' SEARCH_FIELDS said when this revision was written.
SEARCH_FIELDS = {
    "devices": ("name", "serial_number", "location"),
    "customers": ("name", "contact_name", "email", "phone"),
    "employees": ("name", "email"),
    "codes": ("label",),
    "templates": ("name", "description"),
}


def _backfill(connection, table_name, fields):
    """Write the search key of every row of `table_name`, BATCH rows at a time (ordered by id)."""
    table = sa.table(table_name, sa.column("id"), sa.column("search_key"), *(sa.column(name) for name in fields))
    update = sa.update(table).where(table.c.id == sa.bindparam("row_id")).values(search_key=sa.bindparam("key"))
    after = 0
    while True:
        rows = connection.execute(
            sa.select(table.c.id, *(table.c[name] for name in fields)).where(table.c.id > after).order_by(table.c.id).limit(BATCH)
        ).all()
        if not rows:
            return
        connection.execute(update, [{"row_id": row[0], "key": text_folding.search_key(*row[1:])} for row in rows])
        after = rows[-1][0]


def upgrade():
    for table_name in SEARCH_FIELDS:
        op.add_column(table_name, sa.Column("search_key", sa.Text(), server_default="", nullable=False))
    connection = op.get_bind()
    for table_name, fields in SEARCH_FIELDS.items():
        _backfill(connection, table_name, fields)
    # Documents written before this revision hold unfolded text; the search now looks for folded words.
    from app.services import search

    search.rebuild_documents(connection)


def downgrade():
    # The folded documents stay: the search before this revision finds most of their (lower-case) words too.
    # SQLite drops a column in place (3.35+): a batch copy of devices or templates would trip their foreign keys.
    sqlite = op.get_bind().dialect.name == "sqlite"
    for table_name in SEARCH_FIELDS:
        if sqlite:
            op.execute(f"ALTER TABLE {table_name} DROP COLUMN search_key")
        else:
            op.drop_column(table_name, "search_key")
