"""Full-text search over tickets: number, title, answers, messages and updates.

One plain table, ``ticket_search_documents(ticket_id, body)``, holds the searchable text of each ticket; the
services rewrite a ticket's row in the same transaction as every change that adds text (``reindex_ticket`` with
``commit=False`` before their commit): a write that commits is indexed, one that rolls back leaves no trace. Each database indexes it
its own way: SQLite with an FTS5 external-content table kept in step by triggers on the documents table,
PostgreSQL with a GIN index on ``to_tsvector('simple', body)``.
"""
import re

import sqlalchemy as sa

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
POSTGRES_DDL = [
    (
        "CREATE INDEX IF NOT EXISTS ix_ticket_search_documents_tsv ON ticket_search_documents "
        f"USING gin (to_tsvector('{TS_CONFIG}', body))"
    ),
]

for _statement in SQLITE_DDL:
    sa.event.listen(documents, "after_create", sa.DDL(_statement).execute_if(dialect="sqlite"))
for _statement in SQLITE_DROP:
    sa.event.listen(documents, "before_drop", sa.DDL(_statement).execute_if(dialect="sqlite"))
for _statement in POSTGRES_DDL:
    sa.event.listen(documents, "after_create", sa.DDL(_statement).execute_if(dialect="postgresql"))

WORD = re.compile(r"\w+", re.UNICODE)
MAX_TERMS = 8


def document_text(ticket_id):
    """The searchable text of one ticket, gathered from its rows."""
    ticket = db.session.get(Ticket, ticket_id)
    if ticket is None:
        return None
    parts = [format_number(ticket.id), str(ticket.id), ticket.title or "", ticket.flow_title or ""]
    parts += db.session.scalars(sa.select(Answer.text).where(Answer.ticket_id == ticket_id, Answer.text != "")).all()
    parts += db.session.scalars(sa.select(Message.body).where(Message.ticket_id == ticket_id, Message.body != "")).all()
    parts += db.session.scalars(sa.select(Update.body).where(Update.ticket_id == ticket_id, Update.body != "")).all()
    return "\n".join(part for part in parts if part)


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


def _aggregate(column, separator):
    """group_concat / string_agg over `column`, per dialect."""
    if db.engine.dialect.name == "postgresql":
        return sa.func.string_agg(column, separator)
    return sa.func.group_concat(column, separator)


def reindex_all(min_ticket_id=None):
    """Rebuild the documents of every ticket (or of those from `min_ticket_id` on) in a few set-based statements."""
    where = [Ticket.id >= min_ticket_id] if min_ticket_id else []
    if min_ticket_id:
        db.session.execute(sa.delete(documents).where(documents.c.ticket_id >= min_ticket_id))
    else:
        db.session.execute(sa.delete(documents))
    parts = {
        "answers": sa.select(Answer.ticket_id.label("tid"), _aggregate(Answer.text, " ").label("txt"))
        .where(Answer.text != "")
        .group_by(Answer.ticket_id)
        .subquery(),
        "messages": sa.select(Message.ticket_id.label("tid"), _aggregate(Message.body, " ").label("txt"))
        .where(Message.body != "")
        .group_by(Message.ticket_id)
        .subquery(),
        "updates": sa.select(Update.ticket_id.label("tid"), _aggregate(Update.body, " ").label("txt"))
        .where(Update.body != "")
        .group_by(Update.ticket_id)
        .subquery(),
    }
    number = sa.cast(Ticket.id, sa.String)
    if db.engine.dialect.name == "postgresql":
        padded = sa.func.lpad(number, 5, "0")
    else:
        padded = sa.func.printf("%05d", Ticket.id)
    text = sa.literal("T-") + padded + " " + number + " " + Ticket.title + " " + Ticket.flow_title
    query = sa.select(Ticket.id).where(Ticket.status != TicketStatus.DRAFT, *where)
    for alias in parts.values():
        query = query.outerjoin(alias, alias.c.tid == Ticket.id)
        text = text + " " + sa.func.coalesce(alias.c.txt, "")
    query = query.with_only_columns(Ticket.id, text)
    db.session.execute(sa.insert(documents).from_select(["ticket_id", "body"], query))
    db.session.commit()


def _terms(text):
    """The words of a search, at most MAX_TERMS."""
    return WORD.findall(text or "")[:MAX_TERMS]


def matching_ids(text):
    """A select of ticket ids whose document contains every word of `text` (as prefixes); None for no words."""
    terms = _terms(text)
    if not terms:
        return None
    if db.engine.dialect.name == "postgresql":
        query = " & ".join(f"{term.lower()}:*" for term in terms)
        config = sa.literal_column(f"'{TS_CONFIG}'::regconfig")  # literal, so the GIN expression index matches
        return sa.select(documents.c.ticket_id).where(
            sa.func.to_tsvector(config, documents.c.body).op("@@")(sa.func.to_tsquery(config, query))
        )
    match = " ".join('"' + term.replace('"', "") + '"*' for term in terms)
    fts = sa.table(FTS_TABLE, sa.column("rowid"))
    return sa.select(fts.c.rowid).where(sa.text(f"{FTS_TABLE} MATCH :fts_query").bindparams(fts_query=match))


def condition(text, ticket_id=Ticket.id):
    """A WHERE clause for tickets matching a search: by number, or by full text.

    `ticket_id` is the expression compared, by default the tickets' primary key.
    """
    number = parse_number(text or "")
    ids = matching_ids(text)
    clauses = []
    if number is not None:
        clauses.append(ticket_id == number)
    if ids is not None:
        clauses.append(ticket_id.in_(ids))
    return sa.or_(*clauses) if clauses else None
