"""Bulk demo tickets: the realistic mix, and search documents and report data that agree with the rows."""
from collections import Counter
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app import demo_data
from app.blueprints.reports import figures
from app.extensions import db
from app.models import (
    Answer,
    Employee,
    Flow,
    Message,
    Offer,
    ReportTicketFacts,
    Template,
    Ticket,
    TicketEvent,
    Update,
)
from app.models._types import utcnow
from app.services import messenger, notifications, reports, search
from app.workflow import TicketStatus
from tests.test_reports import check_figures, local_day, stored_report_data

RUN_ON_POSTGRES = True


@pytest.fixture
def bulk(app, demo):
    """The demo data plus 300 bulk tickets."""
    assert demo_data.load_bulk_tickets(300, chunk=120) == 300
    return app


def count(model, *conditions):
    """Rows of `model` matching `conditions`."""
    return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*conditions))


def per_ticket(model):
    """{ticket id: number of `model` rows}."""
    return Counter(dict(db.session.execute(sa.select(model.ticket_id, sa.func.count()).group_by(model.ticket_id)).all()))


def test_bulk_tickets_follow_the_mix(bulk):
    tickets = db.session.scalars(sa.select(Ticket)).all()
    assert len(tickets) == 300
    assert {ticket.status for ticket in tickets} == set(TicketStatus) - {TicketStatus.DRAFT}
    steps = {flow.id: len(flow.steps) for flow in db.session.scalars(sa.select(Flow))}
    fleet = {
        template.id: len(template.groups[0].employees) for template in db.session.scalars(sa.select(Template))
    }
    answers, offers, events = per_ticket(Answer), per_ticket(Offer), per_ticket(TicketEvent)
    messages, updates = per_ticket(Message), per_ticket(Update)
    for ticket in tickets:
        assert answers[ticket.id] == steps[ticket.flow_id]
        assert offers[ticket.id] == fleet[ticket.template_id]
        assert events[ticket.id] == (1 if ticket.status == TicketStatus.OPEN else 2)
        assert messages[ticket.id] <= 3 and updates[ticket.id] <= 1
        if ticket.status == TicketStatus.OPEN:  # nobody responsible: nobody wrote
            assert not ticket.responsible_employee_ids and messages[ticket.id] == updates[ticket.id] == 0
        else:
            assert len(ticket.responsible_employee_ids) == 1
        assert (ticket.closed_at is not None) == (ticket.status in (TicketStatus.CLOSED, TicketStatus.CANCELLED))
        assert ticket.title.startswith(ticket.answers[0].text)
        assert [rating.score for rating in ticket.ratings] == ([ticket.rating_score] if ticket.rating_score else [])
        if ticket.rating_score:
            assert ticket.status == TicketStatus.CLOSED and ticket.rating.created_at == ticket.closed_at
    assert sum(messages.values()) > 100 and sum(updates.values()) > 50
    assert count(search.documents) == count(ReportTicketFacts) == 300


def test_bulk_tickets_are_found_by_their_words(bulk):
    ticket = db.session.scalar(sa.select(Ticket).where(Ticket.title.like("Kühlraum wird nicht kalt%")).limit(1))
    found = set(db.session.scalars(sa.select(Ticket.id).where(search.condition("kuhlraum kalt"))))
    assert ticket.id in found
    assert found == set(db.session.scalars(sa.select(Ticket.id).where(Ticket.title.like("Kühlraum wird nicht kalt%"))))
    message = db.session.scalar(sa.select(Message).limit(1))
    assert message.ticket_id in set(db.session.scalars(sa.select(Ticket.id).where(search.condition(message.body))))
    for ticket_id in (1, 150, 300):  # what a write would store for the ticket, word for word
        stored = db.session.scalar(sa.select(search.documents.c.body).where(search.documents.c.ticket_id == ticket_id))
        assert stored == search.document_text(ticket_id)


def test_bulk_report_data_equals_a_recomputation(bulk):
    now = utcnow()
    first = local_day(db.session.scalar(sa.select(sa.func.min(Ticket.created_at))))
    press = db.session.scalar(sa.select(Template).filter_by(name="Hydraulikpresse HP-200"))
    for filters in (
        figures.ReportFilters(first, local_day(now), period="month"),
        figures.ReportFilters(local_day(now - timedelta(days=60)), local_day(now)),
        figures.ReportFilters(first, local_day(now), period="month", template_id=press.id),
    ):
        check_figures(filters, now)
    kept = stored_report_data()
    reports.rebuild()
    assert stored_report_data() == kept


def test_demo_again_changes_nothing_after_bulk_tickets(bulk):
    tables = [table for table in db.metadata.sorted_tables]
    before = {table.name: count(table) for table in tables}
    kept = stored_report_data()
    demo_data.load_demo()
    assert {table.name: count(table) for table in tables} == before
    assert stored_report_data() == kept


def test_a_second_bulk_load_appends(bulk, monkeypatch):
    documents = dict(db.session.execute(sa.select(search.documents.c.ticket_id, search.documents.c.body)).all())
    assert demo_data.load_bulk_tickets(50, seed=7) == 50
    assert sorted(db.session.scalars(sa.select(Ticket.id))) == list(range(1, 351))
    assert count(search.documents) == count(ReportTicketFacts) == 350
    kept = stored_report_data()
    reports.rebuild()
    assert stored_report_data() == kept
    search.reindex_all()
    assert {
        ticket_id: body
        for ticket_id, body in db.session.execute(sa.select(search.documents.c.ticket_id, search.documents.c.body))
        if ticket_id <= 300
    } == documents
    # New rows get fresh ids (PostgreSQL: the sequences moved past the bulk rows).
    ticket = db.session.get(Ticket, 350)
    moderator = db.session.scalar(sa.select(Employee).filter_by(email="moderator@example.com"))
    ticket.status = TicketStatus.IN_PROGRESS
    db.session.commit()
    monkeypatch.setattr(notifications, "after_commit", lambda *args, **kwargs: None)
    message = messenger.post_message(ticket, "Komme morgen früh vorbei", actor=moderator)
    assert message.id > db.session.scalar(sa.select(sa.func.min(Message.id)))
    created = Ticket(device_id=ticket.device_id, template_id=ticket.template_id, status=TicketStatus.OPEN)
    db.session.add(created)
    db.session.commit()
    assert created.id == 351
    assert ticket.id in set(db.session.scalars(sa.select(Ticket.id).where(search.condition("morgen frueh"))))


def index_names():
    """{table: set of index names} of the bulk tables, as the database has them."""
    inspector = sa.inspect(db.engine)
    return {name: {index["name"] for index in inspector.get_indexes(name)} for name in demo_data.BULK_COLUMNS}


def test_a_large_load_builds_the_set_aside_indexes_again(app, demo, monkeypatch):
    expected = index_names()
    set_aside = set(demo_data._set_aside_indexes(db.engine.dialect.name))
    assert {"ix_tickets_status_created_activity", "ix_report_ticket_facts_created_day", "ix_updates_created_at"} <= set_aside
    assert "ix_answers_ticket_id" not in set_aside and "ix_offers_ticket_id" not in set_aside
    monkeypatch.setattr(demo_data, "BULK_INDEXES_FROM", 100)
    present = []  # which of them exist as each chunk is written

    for rows_class in (demo_data._SqliteRows, demo_data._PostgresRows):
        def write(self, table, rows, real=rows_class.write):
            if table == "tickets":
                present.append(set_aside & set().union(*index_names().values()))
            return real(self, table, rows)

        monkeypatch.setattr(rows_class, "write", write)
    assert demo_data.load_bulk_tickets(150, chunk=100) == 150
    assert present == [set(), set()]
    assert index_names() == expected
    kept = stored_report_data()
    reports.rebuild()
    assert stored_report_data() == kept


def test_a_bulk_load_leaves_statistics_and_on_postgresql_vacuumed_tables(bulk):
    """The planner knows the new rows' numbers; on PostgreSQL their pages are marked all-visible, as autovacuum
    would mark them later, so the overview's index-only scans need not read the table."""
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        visible, tuples = connection.execute(
            sa.text("SELECT relallvisible, reltuples FROM pg_class WHERE relname = 'tickets'")
        ).one()
        assert visible > 0 and tuples >= 300
    else:
        stat = connection.execute(sa.text("SELECT stat FROM sqlite_stat1 WHERE tbl = 'tickets' LIMIT 1")).scalar()
        assert int(stat.split()[0]) >= 300


def test_a_failed_load_leaves_the_indexes_in_place(app, demo, monkeypatch):
    expected = index_names()
    monkeypatch.setattr(demo_data, "BULK_INDEXES_FROM", 100)
    real = demo_data._bulk_ticket

    def failing(rng, ticket_id, *args):
        if ticket_id == 120:
            raise RuntimeError("disk full")
        return real(rng, ticket_id, *args)

    monkeypatch.setattr(demo_data, "_bulk_ticket", failing)
    with pytest.raises(RuntimeError):
        demo_data.load_bulk_tickets(200, chunk=100)
    assert index_names() == expected
    assert count(Ticket) == count(search.documents) == count(ReportTicketFacts) == 100  # the first chunk, whole
    kept = stored_report_data()
    reports.rebuild()
    assert stored_report_data() == kept
