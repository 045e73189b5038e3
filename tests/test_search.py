"""Full-text search: documents follow the writes, numbers and words find tickets, on SQLite and PostgreSQL."""
import pytest
import sqlalchemy as sa

from app.enums import Role, Visibility
from app.extensions import db
from app.models import Ticket
from app.services import search
from app.services import tickets as ticket_service
from tests import factories

RUN_ON_POSTGRES = True


def found(text):
    """Ids of tickets matching a search."""
    return set(db.session.scalars(sa.select(Ticket.id).where(search.condition(text))).all())


def setup_ticket():
    """A submitted ticket by a moderator on a fresh template."""
    moderator = factories.make_employee(Role.MODERATOR)
    template = factories.make_template(fleet=[moderator])
    flow = factories.make_flow(template)
    device = factories.make_device(template)
    ticket = factories.make_ticket(flow, device, moderator)
    return ticket, moderator


def test_submitted_ticket_is_found_by_title_answer_and_number(app, db_backend):
    ticket, _ = setup_ticket()
    assert found("Presse") == {ticket.id}
    assert found("morgen") == {ticket.id}  # prefix of an answer word: "Morgen."
    assert found(ticket.display_number) == {ticket.id}
    assert found(str(ticket.id)) == {ticket.id}
    assert found("Kühlraum") == set()


def test_every_word_must_match(app, db_backend):
    ticket, _ = setup_ticket()
    assert found("presse hoch") == {ticket.id}
    assert found("presse vereist") == set()


def test_update_text_becomes_searchable(app, db_backend):
    ticket, moderator = setup_ticket()
    ticket_service.post_update(ticket, "Hydraulikventil getauscht", Visibility.INTERNAL, actor=moderator)
    assert found("hydraulikventil") == {ticket.id}


def test_drafts_are_not_indexed(app, db_backend):
    moderator = factories.make_employee(Role.MODERATOR)
    template = factories.make_template()
    draft = factories.make_ticket(factories.make_flow(template), factories.make_device(template), moderator, submit=False)
    assert found("Presse") == set()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(search.documents)) == 0
    assert draft.status.name == "DRAFT"


def test_deleting_a_ticket_removes_its_document(app, db_backend):
    ticket, moderator = setup_ticket()
    ticket_service.delete_ticket(ticket, actor=moderator)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(search.documents)) == 0
    assert found("Presse") == set()


def test_search_syntax_characters_are_harmless(app, db_backend):
    setup_ticket()
    for text in ['"', "presse OR", "NEAR(", "a:*", "*", "-presse", "'; drop table tickets; --"]:
        found(text)


def test_reindex_all_rebuilds_from_rows(app, db_backend):
    ticket, _ = setup_ticket()
    db.session.execute(sa.delete(search.documents))
    db.session.commit()
    assert found("Presse") == set()
    search.reindex_all()
    assert found("Presse") == {ticket.id}
    assert found(f"T-{ticket.id:05d}") == {ticket.id}


def test_bulk_demo_tickets_are_searchable(app, db_backend):
    from app.demo_data import load_bulk_tickets, load_demo

    load_demo()
    load_bulk_tickets(30)
    assert len(found("Presse") | found("Kompressor") | found("Kühlraum") | found("Öl") | found("Display")) > 0


class Killed(Exception):
    """The process dies right after the database committed."""


def killed_after_commit(monkeypatch):
    """Make the next commit succeed in the database and then 'kill' the caller: no step after it runs."""
    session = db.session()

    def commit_and_die():
        monkeypatch.undo()
        session.commit()
        raise Killed

    monkeypatch.setattr(db.session, "commit", commit_and_die)


def document_of(ticket_id):
    """The stored search document of a ticket, read afresh."""
    db.session.rollback()
    return db.session.scalar(sa.select(search.documents.c.body).where(search.documents.c.ticket_id == ticket_id))


def test_a_committed_message_is_indexed_in_its_own_transaction(app, db_backend, monkeypatch):
    from app.services import messenger

    ticket, moderator = setup_ticket()
    killed_after_commit(monkeypatch)
    with pytest.raises(Killed):
        messenger.post_message(ticket, "Dichtungssatz bestellt", actor=moderator)
    assert "dichtungssatz bestellt" in document_of(ticket.id)  # folded; no step after the commit was needed
    assert found("dichtungssatz") == {ticket.id}


def test_a_committed_update_is_indexed_in_its_own_transaction(app, db_backend, monkeypatch):
    ticket, moderator = setup_ticket()
    killed_after_commit(monkeypatch)
    with pytest.raises(Killed):
        ticket_service.post_update(ticket, "Lager gewechselt", Visibility.PUBLIC, actor=moderator)
    assert "lager gewechselt" in document_of(ticket.id)


def test_the_submitted_title_and_answers_are_indexed_with_the_submit(app, db_backend, monkeypatch):
    moderator = factories.make_employee(Role.MODERATOR)
    template = factories.make_template(fleet=[moderator])
    draft = factories.make_ticket(factories.make_flow(template), factories.make_device(template), moderator, submit=False)
    killed_after_commit(monkeypatch)
    with pytest.raises(Killed):
        ticket_service.submit_ticket(draft, actor=moderator)
    document = document_of(draft.id)
    assert document is not None and "presse" in document


def test_a_rolled_back_message_or_update_leaves_no_index_entry(app, db_backend):
    from app.services import messenger

    ticket, moderator = setup_ticket()
    before = document_of(ticket.id)
    session = db.session()

    def refuse(session):
        raise RuntimeError("the database refused the commit")

    sa.event.listen(session, "before_commit", refuse)
    try:
        with pytest.raises(RuntimeError):
            messenger.post_message(ticket, "Kupplung verschlissen", actor=moderator)
        db.session.rollback()
        with pytest.raises(RuntimeError):
            ticket_service.post_update(ticket, "Getriebe ersetzt", Visibility.PUBLIC, actor=moderator)
        db.session.rollback()
    finally:
        sa.event.remove(session, "before_commit", refuse)
    assert document_of(ticket.id) == before
    assert found("kupplung") == set() and found("getriebe") == set()
