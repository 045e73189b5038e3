"""Full-text search over tickets: number, title, answers, messages and updates.

One plain table, ``ticket_search_documents(ticket_id, body)``, holds the searchable text of each ticket; the
services rewrite a ticket's row in the same transaction as every change that adds text (``reindex_ticket`` with
``commit=False`` before their commit): a write that commits is indexed, one that rolls back leaves no trace. Each database indexes it
its own way: SQLite with an FTS5 external-content table kept in step by triggers on the documents table,
PostgreSQL with a stored generated column ``vector = to_tsvector('simple', body)`` and a GIN index on it (a stored
vector also makes checking one row cheap, which a plan walking the overview's sort index does per row).

The body is folded text (app.text_folding.document_text: lower case, umlauts as ae/oe/ue plus as a/o/u, ß as ss,
words of letters and digits only), and so is every search word: both databases see the same words and find the same
tickets, whatever their own tokenizers and locales would make of umlauts.
"""
import re

import sqlalchemy as sa

from app import text_folding
from app.extensions import db
from app.models import Answer, Message, Ticket, Update, format_number, parse_number
from app.services.errors import NotFound
from app.services.ticket_changes import lock_for_append
from app.workflow import TicketStatus

FTS_TABLE = "ticket_search"
TS_CONFIG = "simple"

documents = sa.Table(
    "ticket_search_documents",
    db.metadata,
    sa.Column("ticket_id", sa.ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True, autoincrement=False),
    sa.Column("body", sa.Text, nullable=False, default=""),
)

# SQLite: FTS5 over the documents table, kept current by triggers on that one table.
SQLITE_DDL = [
    (
        f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5(body, content='ticket_search_documents', "
        "content_rowid='ticket_id', tokenize='unicode61 remove_diacritics 2')"
    ),
    (
        "CREATE TRIGGER IF NOT EXISTS ticket_search_ai AFTER INSERT ON ticket_search_documents BEGIN "
        f"INSERT INTO {FTS_TABLE}(rowid, body) VALUES (new.ticket_id, new.body); END"
    ),
    (
        "CREATE TRIGGER IF NOT EXISTS ticket_search_ad AFTER DELETE ON ticket_search_documents BEGIN "
        f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, body) VALUES ('delete', old.ticket_id, old.body); END"
    ),
    (
        "CREATE TRIGGER IF NOT EXISTS ticket_search_au AFTER UPDATE ON ticket_search_documents BEGIN "
        f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, body) VALUES ('delete', old.ticket_id, old.body); "
        f"INSERT INTO {FTS_TABLE}(rowid, body) VALUES (new.ticket_id, new.body); END"
    ),
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS ticket_search_au",
    "DROP TRIGGER IF EXISTS ticket_search_ad",
    "DROP TRIGGER IF EXISTS ticket_search_ai",
    f"DROP TABLE IF EXISTS {FTS_TABLE}",
]
POSTGRES_COLUMN_DDL = (
    "ALTER TABLE ticket_search_documents ADD COLUMN IF NOT EXISTS vector tsvector "
    f"GENERATED ALWAYS AS (to_tsvector('{TS_CONFIG}'::regconfig, body)) STORED"
)
POSTGRES_DDL = [  # indexes only: a large bulk load drops and rebuilds them (demo_data)
    "CREATE INDEX IF NOT EXISTS ix_ticket_search_documents_vector ON ticket_search_documents USING gin (vector)",
]
VECTOR = sa.literal_column("ticket_search_documents.vector")  # PostgreSQL only

for _statement in SQLITE_DDL:
    sa.event.listen(documents, "after_create", sa.DDL(_statement).execute_if(dialect="sqlite"))
for _statement in SQLITE_DROP:
    sa.event.listen(documents, "before_drop", sa.DDL(_statement).execute_if(dialect="sqlite"))
for _statement in [POSTGRES_COLUMN_DDL, *POSTGRES_DDL]:
    sa.event.listen(documents, "after_create", sa.DDL(_statement).execute_if(dialect="postgresql"))

MAX_TERMS = 8
REINDEX_BATCH = 2000  # tickets per batch of reindex_all: a few MB of text in memory at a time
STAGING = "ticket_search_staging"  # SQLite: temporary table of rebuilt documents, see rebuild_documents


def _texts(connection, first_id, last_id):
    """{ticket id: [answer texts, message bodies, update bodies]} of the tickets first_id…last_id, in that order."""
    texts = {}
    for column, ticket_column, key in (
        (Answer.text, Answer.ticket_id, Answer.id),
        (Message.body, Message.ticket_id, Message.id),
        (Update.body, Update.ticket_id, Update.id),
    ):
        rows = connection.execute(
            sa.select(ticket_column, column)
            .where(ticket_column.between(first_id, last_id), column != "")
            .order_by(ticket_column, key)
        )
        for ticket_id, text in rows:
            texts.setdefault(ticket_id, []).append(text)
    return texts


def _documents(connection, tickets, cache=None):
    """Search documents [{"ticket_id", "body"}] of `tickets` (rows of id, title, flow_title, ordered by id).

    The body is folded (app.text_folding.document_text): number, title, creation flow, answers, messages, updates.
    `cache`: see document_text.
    """
    if not tickets:
        return []
    texts = _texts(connection, tickets[0].id, tickets[-1].id)
    documents_ = []
    for ticket in tickets:
        parts = [format_number(ticket.id), str(ticket.id), ticket.title or "", ticket.flow_title or ""]
        parts += texts.get(ticket.id, [])
        documents_.append({"ticket_id": ticket.id, "body": text_folding.document_text(*parts, cache=cache)})
    return documents_


def document_text(ticket_id):
    """The folded search document (str) of one ticket, gathered from its rows; None when there is no such ticket."""
    ticket = db.session.execute(sa.select(Ticket.id, Ticket.title, Ticket.flow_title).where(Ticket.id == ticket_id)).first()
    if ticket is None:
        return None
    return _documents(db.session.connection(), [ticket])[0]["body"]


def reindex_ticket(ticket_id, *, commit=True):
    """Rewrite the search document of one ticket (drafts are left out).

    Writes call it with `commit=False` after flushing their rows and before their own commit, so the document
    is part of the write's transaction. The ticket's row lock (`lock_for_append`, already held by an append)
    serialises rewrites of one document: two messages posted at the same moment would otherwise both delete and
    both insert it. A ticket deleted meanwhile has no document to write: with `commit=True` (a rebuild on its
    own) that is no error; inside a write it raises NotFound, so the write does not commit without its
    document."""
    ticket = db.session.get(Ticket, ticket_id)
    if ticket is None:
        return
    try:
        lock_for_append(ticket, activity=False)
    except NotFound:
        if not commit:
            raise
        db.session.rollback()
        return
    body = document_text(ticket_id)
    db.session.execute(sa.delete(documents).where(documents.c.ticket_id == ticket_id))
    if body is not None:
        db.session.execute(sa.insert(documents).values(ticket_id=ticket_id, body=body))
    if commit:
        db.session.commit()


def rebuild_documents(connection, min_ticket_id=None, batch=REINDEX_BATCH):
    """Replace the documents of every submitted ticket (or of those from `min_ticket_id` on) on `connection`
    (a SQLAlchemy Connection, also used by migration 0013), folding in Python `batch` tickets at a time.
    Returns the number of documents written. Does not commit.

    On SQLite the folded documents go to a temporary table first and into the documents table in one INSERT …
    SELECT: FTS5, fed row by row by the documents table's trigger, takes ten times as long for single-row inserts.
    """
    if min_ticket_id:
        connection.execute(sa.delete(documents).where(documents.c.ticket_id >= min_ticket_id))
    else:
        connection.execute(sa.delete(documents))
    target = documents
    if connection.dialect.name == "sqlite":
        connection.execute(sa.text(f"DROP TABLE IF EXISTS temp.{STAGING}"))
        connection.execute(sa.text(f"CREATE TEMP TABLE {STAGING} (ticket_id INTEGER PRIMARY KEY, body TEXT NOT NULL)"))
        target = sa.table(STAGING, sa.column("ticket_id"), sa.column("body"))
    after = (min_ticket_id or 1) - 1
    written = 0
    cache = {}
    while True:
        tickets = connection.execute(
            sa.select(Ticket.id, Ticket.title, Ticket.flow_title)
            .where(Ticket.id > after, Ticket.status != TicketStatus.DRAFT)
            .order_by(Ticket.id)
            .limit(batch)
        ).all()
        if not tickets:
            break
        if len(cache) > 100_000:
            cache.clear()
        rows = _documents(connection, tickets, cache)
        if connection.dialect.name == "postgresql":  # one statement per batch: psycopg's executemany sends each row
            connection.execute(
                sa.text(
                    "INSERT INTO ticket_search_documents (ticket_id, body) "
                    "SELECT * FROM unnest(CAST(:ids AS integer[]), CAST(:bodies AS text[]))"
                ),
                {"ids": [row["ticket_id"] for row in rows], "bodies": [row["body"] for row in rows]},
            )
        else:
            connection.execute(sa.insert(target), rows)
        written += len(tickets)
        after = tickets[-1].id
    if target is not documents:
        connection.execute(
            sa.insert(documents).from_select(["ticket_id", "body"], sa.select(target.c.ticket_id, target.c.body))
        )
        connection.execute(sa.text(f"DROP TABLE temp.{STAGING}"))
    return written


def reindex_all(min_ticket_id=None):
    """Rebuild the documents of every ticket (or of those from `min_ticket_id` on) and commit."""
    rebuild_documents(db.session.connection(), min_ticket_id)
    db.session.commit()


def _terms(text):
    """The words of a search, at most MAX_TERMS, each as its folded spellings (A,) or (A, B)."""
    return text_folding.words(text)[:MAX_TERMS]


def has_terms(text):
    """Whether `text` has any word to search for (letters or digits); punctuation alone has none."""
    return bool(_terms(text))


def matching_ids(text):
    """A select of ticket ids whose document has, for every word of `text`, a word starting with one of its
    folded spellings; None for no words."""
    terms = _terms(text)
    if not terms:
        return None
    if db.engine.dialect.name == "postgresql":
        query = " & ".join("(" + " | ".join(f"{spelling}:*" for spelling in term) + ")" for term in terms)
        config = sa.literal_column(f"'{TS_CONFIG}'::regconfig")
        return sa.select(documents.c.ticket_id).where(VECTOR.op("@@")(sa.func.to_tsquery(config, query)))
    # Spellings are runs of letters and digits: nothing in them needs quoting for FTS5.
    match = " AND ".join("(" + " OR ".join(f'"{spelling}"*' for spelling in term) + ")" for term in terms)
    fts = sa.table(FTS_TABLE, sa.column("rowid"))
    return sa.select(fts.c.rowid).where(sa.text(f"{FTS_TABLE} MATCH :fts_query").bindparams(fts_query=match))


def condition(text, ticket_id=Ticket.id):
    """A WHERE clause for tickets matching a search: by number (see models.parse_number), or by full text;
    None when `text` has neither.

    `ticket_id` is the expression compared, by default the tickets' primary key.
    """
    number = parse_number(text or "")
    # A quoted number ("T-00042", "#42") is searched as its digits only: its "T" would be a word that every document
    # has (each starts with its number), costly to match and narrowing nothing.
    ids = matching_ids(re.sub(r"[^0-9]", " ", text) if number is not None else text)
    if number is not None and ids is not None:
        # One IN over both, not `id = n OR id IN (…)`: PostgreSQL answers that OR by scanning every ticket.
        return ticket_id.in_(sa.union(ids, sa.select(sa.literal(number, sa.Integer))))
    if number is not None:
        return ticket_id == number
    return ticket_id.in_(ids) if ids is not None else None
