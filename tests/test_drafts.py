"""answer_step: one answer per call, the last one submits in the same commit, a refusal leaves nothing."""
import io
import os
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from werkzeug.datastructures import FileStorage

from app.extensions import db
from app.models import Answer, Attachment, Offer, TicketEvent
from app.services import drafts, search, tickets
from app.services.errors import NotAllowed, ValidationError
from app.workflow import TicketStatus
from tests.factories import (
    make_code,
    make_code_visitor,
    make_device,
    make_employee,
    make_flow,
    make_template,
)

RUN_ON_POSTGRES = True
pytestmark = pytest.mark.usefixtures("english")


@pytest.fixture
def world(app):
    """A fleet member, a device with a code, a code visitor and a draft of the default four-step flow."""
    anna = make_employee(name="Anna")
    template = make_template(fleet=[anna])
    device = make_device(template)
    visitor = make_code_visitor(make_code(device))
    draft = tickets.start_draft(make_flow(template), device, actor=visitor)
    return SimpleNamespace(anna=anna, visitor=visitor, draft=draft)


@pytest.fixture
def commits():
    """The number of commits made on the session while the test runs."""
    seen = []
    session = db.session()

    def count(_session):
        seen.append(1)

    sa.event.listen(session, "after_commit", count)
    yield seen
    sa.event.remove(session, "after_commit", count)


def _rows(model, **where):
    """How many rows of `model` match."""
    return db.session.scalar(sa.select(sa.func.count()).select_from(model).filter_by(**where))


def _document(ticket_id):
    """The ticket's search document, or None."""
    return db.session.scalar(sa.select(search.documents.c.body).where(search.documents.c.ticket_id == ticket_id))


def _png():
    """A small real photo as an upload."""
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 40, 40)).save(out, "PNG")
    out.seek(0)
    return FileStorage(out, filename="foto.png", content_type="image/png")


def test_answer_step_saves_the_answer_and_names_the_next_step(world, commits):
    progress = drafts.answer_step(world.draft, 0, {"value": " Presse klemmt "}, actor=world.visitor)
    assert progress.next_position == 1 and not progress.submitted
    assert len(commits) == 1
    db.session.expire_all()
    answer = db.session.get(Answer, world.draft.answers[0].id)
    assert answer.value == "Presse klemmt" and answer.answered
    assert world.draft.status == TicketStatus.DRAFT


def test_last_step_submits_with_offers_and_search_document_in_one_commit(world, commits, monkeypatch):
    draft = world.draft
    drafts.answer_step(draft, 0, {"value": "Presse klemmt"}, actor=world.visitor)
    drafts.answer_step(draft, 1, {"value": "Seit heute früh."}, actor=world.visitor)
    drafts.answer_step(draft, 2, {"remove": []}, [_png()], actor=world.visitor)
    commits.clear()
    rung = []  # the live push after the commit writes its own delivery marks; it is not part of the submit
    monkeypatch.setattr(drafts.notifications, "after_commit", lambda ticket: rung.append(len(commits)))
    progress = drafts.answer_step(draft, 3, {"value": "yes"}, actor=world.visitor)
    assert progress.submitted and progress.next_position is None
    assert len(commits) == 1 and rung == [1]
    db.session.expire_all()
    assert draft.status == TicketStatus.OPEN and draft.title == "Presse klemmt"
    assert draft.answers[3].value is True
    assert _rows(Offer, ticket_id=draft.id) == 1
    assert _rows(TicketEvent, ticket_id=draft.id, kind="created") == 1
    assert "seit heute frueh" in _document(draft.id)  # folded: lower case, ü as ue (and u)
    assert _rows(Attachment, ticket_id=draft.id) == 1


def test_refused_last_answer_leaves_nothing(world):
    draft = world.draft
    for position, value in ((0, "Presse klemmt"), (1, "Seit heute früh.")):
        drafts.answer_step(draft, position, {"value": value}, actor=world.visitor)
    version = draft.version
    with pytest.raises(ValidationError, match="yes or no") as refused:
        drafts.answer_step(draft, 3, {"value": "vielleicht"}, actor=world.visitor)
    assert refused.value.field == "value"
    db.session.rollback()
    db.session.expire_all()
    assert draft.status == TicketStatus.DRAFT and draft.version == version
    assert draft.answers[3].answered is False
    assert _rows(Offer, ticket_id=draft.id) == 0 and _document(draft.id) is None


def test_refused_upload_leaves_no_row_and_no_file(app, world):
    bad = FileStorage(io.BytesIO(b"not an image"), filename="foto.png", content_type="image/png")
    with pytest.raises(ValidationError):
        drafts.answer_step(world.draft, 2, {"remove": []}, [_png(), bad], actor=world.visitor)
    db.session.rollback()
    assert _rows(Attachment) == 0
    assert os.listdir(app.config["UPLOAD_FOLDER"]) == []


def test_last_step_with_an_earlier_answer_missing_keeps_this_answer_and_names_that_step(world):
    draft = world.draft
    with pytest.raises(ValidationError, match="Please answer") as refused:
        drafts.answer_step(draft, 3, {"value": "no"}, actor=world.visitor)
    assert refused.value.field == 0
    db.session.rollback()
    db.session.expire_all()
    assert draft.status == TicketStatus.DRAFT and draft.answers[3].value is False
    assert _rows(Offer, ticket_id=draft.id) == 0


def test_someone_else_cannot_answer_a_draft(world):
    with pytest.raises(NotAllowed):
        drafts.answer_step(world.draft, 0, {"value": "fremd"}, actor=world.anna)
    db.session.rollback()
    db.session.expire_all()
    assert world.draft.answers[0].answered is False


def test_removed_file_goes_with_its_row_when_the_step_is_answered_again(app, world):
    draft = world.draft
    drafts.answer_step(draft, 2, {"remove": []}, [_png()], actor=world.visitor)
    stored = db.session.scalar(sa.select(Attachment).filter_by(ticket_id=draft.id))
    assert os.path.exists(os.path.join(app.config["UPLOAD_FOLDER"], stored.stored_name))
    drafts.answer_step(draft, 2, {"remove": [str(stored.id)]}, [], actor=world.visitor)
    assert _rows(Attachment, ticket_id=draft.id) == 0
    assert not os.path.exists(os.path.join(app.config["UPLOAD_FOLDER"], stored.stored_name))


def test_submit_ticket_writes_offers_and_search_document_in_its_one_commit(world, commits, monkeypatch):
    draft = world.draft
    for position, value in ((0, "Presse klemmt"), (1, "Seit heute früh."), (3, "no")):
        tickets.save_answer(draft, position, value, actor=world.visitor)
    commits.clear()
    monkeypatch.setattr(tickets.notifications, "after_commit", lambda ticket: None)
    tickets.submit_ticket(draft, actor=world.visitor)
    assert len(commits) == 1
    assert _rows(Offer, ticket_id=draft.id) == 1 and "presse klemmt" in _document(draft.id)
