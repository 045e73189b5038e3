"""Ticket and offer services: automatic rules, audit trail, bad input, races. Also run on PostgreSQL."""
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.enums import OfferState, Priority, Role, StepType, Visibility
from app.extensions import db
from app.models import Answer, Offer, Rating, Team, Ticket, TicketEvent, Update
from app.services import offers, tickets
from app.services.errors import (
    ConflictError,
    InvalidTransition,
    NotAllowed,
    NotFound,
    ValidationError,
)
from app.workflow import TicketStatus
from tests.factories import (
    make_code,
    make_code_visitor,
    make_device,
    make_employee,
    make_flow,
    make_template,
    make_ticket,
)

RUN_ON_POSTGRES = True
pytestmark = pytest.mark.usefixtures("english")


@pytest.fixture
def world(app):
    """Two fleet members, a moderator, a device with a code and a code visitor."""
    anna, ben = make_employee(name="Anna"), make_employee(name="Ben")
    moderator = make_employee(Role.MODERATOR, name="Mia")
    template = make_template(fleet=[anna, ben])
    flow = make_flow(template)
    device = make_device(template)
    visitor = make_code_visitor(make_code(device))
    return SimpleNamespace(
        anna=anna, ben=ben, moderator=moderator, template=template, flow=flow, device=device, visitor=visitor
    )


def snapshot():
    """Row counts and ticket versions, to prove a refused call changed nothing."""
    counts = {
        model.__tablename__: db.session.scalar(sa.select(sa.func.count()).select_from(model))
        for model in (Ticket, Answer, Offer, TicketEvent, Update, Rating)
    }
    db.session.expire_all()
    versions = dict(db.session.execute(sa.select(Ticket.id, Ticket.version)).all())
    statuses = dict(db.session.execute(sa.select(Ticket.id, Ticket.status)).all())
    return counts, versions, statuses


def test_submit_opens_ticket_and_offers_it_to_the_fleet_group_with_teams(world):
    carla = make_employee(name="Carla")
    inactive = make_employee(name="Gone", active=False)
    team = Team(name="Nachtschicht")
    db.session.add(team)
    team.members = [carla, inactive, world.anna]
    world.template.groups[0].teams.append(team)
    db.session.commit()
    ticket = make_ticket(world.flow, world.device, world.visitor)
    assert ticket.status == TicketStatus.OPEN
    assert {o.employee.name for o in ticket.offers} == {"Anna", "Ben", "Carla"}
    assert all(o.state == OfferState.PENDING for o in ticket.offers)
    kinds = [e.kind for e in ticket.events]
    assert kinds.count("offer") == 3 and "created" in kinds and "status" in kinds


def test_employee_draft_has_visibility_step_preselected_internal(world):
    ticket = tickets.start_draft(world.flow, world.device, actor=world.anna)
    last = ticket.answers[-1]
    assert last.type == StepType.VISIBILITY and last.value == "internal"
    assert ticket.visibility == Visibility.INTERNAL


def test_first_acceptance_assigns_and_last_withdrawal_reopens(world):
    ticket = make_ticket(world.flow, world.device, world.visitor)
    offers.accept_offer(ticket, actor=world.anna)
    assert ticket.status == TicketStatus.ASSIGNED
    offers.assign_employee(ticket, world.ben, actor=world.moderator)
    assert ticket.responsible_employee_ids == {world.anna.id, world.ben.id}
    offers.withdraw_employee(ticket, world.anna, actor=world.moderator)
    assert ticket.status == TicketStatus.ASSIGNED
    offers.withdraw_employee(ticket, world.ben, actor=world.moderator)
    assert ticket.status == TicketStatus.OPEN
    event = ticket.events[-1]
    assert (event.kind, event.before, event.after, event.actor_employee_id) == ("status", "ASSIGNED", "OPEN", world.moderator.id)


def test_withdrawing_the_last_worker_of_a_ticket_in_progress_reopens_it(world):
    ticket = make_ticket(world.flow, world.device, world.visitor)
    offers.accept_offer(ticket, actor=world.anna)
    tickets.fire_event(ticket, "start", actor=world.anna)
    offers.withdraw_employee(ticket, world.anna, actor=world.moderator)
    assert ticket.status == TicketStatus.OPEN


def test_declined_offer_cannot_be_accepted_later(world):
    ticket = make_ticket(world.flow, world.device, world.visitor)
    offers.decline_offer(ticket, actor=world.anna)
    with pytest.raises(NotAllowed):
        offers.accept_offer(ticket, actor=world.anna)


def test_finish_with_ratings_off_closes_at_once(world):
    world.template.ratings_enabled = False
    db.session.commit()
    ticket = make_ticket(world.flow, world.device, world.visitor)
    offers.accept_offer(ticket, actor=world.anna)
    tickets.fire_event(ticket, "finish", actor=world.anna)
    assert ticket.status == TicketStatus.CLOSED
    assert [e.after for e in ticket.events if e.kind == "status"][-2:] == ["DONE", "CLOSED"]


def test_rating_closes_and_reopen_goes_to_assigned_when_someone_is_responsible(world):
    ticket = make_ticket(world.flow, world.device, world.visitor)
    offers.accept_offer(ticket, actor=world.anna)
    tickets.fire_event(ticket, "finish", actor=world.anna)
    tickets.rate_ticket(ticket, 4, "Schnell erledigt", actor=world.visitor)
    assert ticket.status == TicketStatus.CLOSED and ticket.rating.score == 4 and ticket.rating_score == 4
    tickets.fire_event(ticket, "reopen", actor=world.anna)
    assert ticket.status == TicketStatus.ASSIGNED


def test_reopen_without_responsible_goes_to_open(world):
    ticket = make_ticket(world.flow, world.device, world.visitor)
    tickets.cancel_ticket(ticket, actor=world.visitor)
    assert ticket.status == TicketStatus.CANCELLED
    tickets.fire_event(ticket, "reopen", actor=world.moderator)
    assert ticket.status == TicketStatus.OPEN


def test_visibility_priority_and_updates_are_audited(world):
    ticket = make_ticket(world.flow, world.device, world.visitor)
    offers.accept_offer(ticket, actor=world.anna)
    tickets.set_visibility(ticket, "internal", actor=world.anna)
    tickets.set_priority(ticket, Priority.HIGH, actor=world.anna)
    tickets.post_update(ticket, "Dichtung bestellt", Visibility.INTERNAL, actor=world.anna)
    changes = [(e.kind, e.before, e.after) for e in ticket.events if e.kind in ("visibility", "priority")]
    assert changes == [("visibility", "PUBLIC", "INTERNAL"), ("priority", "NORMAL", "HIGH")]
    assert db.session.scalar(sa.select(Update.body)) == "Dichtung bestellt"


def test_draft_is_deleted_by_its_creator_only(world):
    ticket = tickets.start_draft(world.flow, world.device, actor=world.visitor)
    other = make_code_visitor(make_code(world.device))
    with pytest.raises(NotAllowed):
        tickets.delete_draft(ticket, actor=other)
    tickets.delete_draft(ticket, actor=world.visitor)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Ticket)) == 0


def test_autoclose_closes_only_old_done_tickets(world):
    from datetime import timedelta

    from app.models._types import utcnow

    old, fresh = (make_ticket(world.flow, world.device, world.visitor) for _ in range(2))
    for ticket in (old, fresh):
        offers.accept_offer(ticket, actor=world.anna)
        tickets.fire_event(ticket, "finish", actor=world.anna)
    old.done_at = utcnow() - timedelta(days=20)
    db.session.commit()
    assert tickets.autoclose_done_tickets(14) == 1
    assert (old.status, fresh.status) == (TicketStatus.CLOSED, TicketStatus.DONE)


def _number_flow(world):
    """A flow asking for a required number."""
    return make_flow(world.template, "Ersatzteil", steps=[("Menge", StepType.NUMBER, True, False, [])])


BAD_CALLS = {
    "unknown flow": (lambda w, t: tickets.start_draft(None, w.device, actor=w.visitor), NotFound, "does not exist"),
    "inactive flow": (
        lambda w, t: tickets.start_draft(make_flow(w.template, "Alt", active=False), w.device, actor=w.visitor),
        ValidationError,
        "not available",
    ),
    "foreign device": (
        lambda w, t: tickets.start_draft(w.flow, make_device(make_template()), actor=w.visitor),
        NotAllowed,
        "cannot create",
    ),
    "missing required answer": (
        lambda w, t: tickets.submit_ticket(tickets.start_draft(w.flow, w.device, actor=w.visitor), actor=w.visitor),
        ValidationError,
        "Please answer",
    ),
    "wrong type": (
        lambda w, t: tickets.save_answer(tickets.start_draft(_number_flow(w), w.device, actor=w.visitor), 0, "viele", actor=w.visitor),
        ValidationError,
        "number",
    ),
    "empty required answer": (
        lambda w, t: tickets.save_answer(tickets.start_draft(w.flow, w.device, actor=w.visitor), 0, "  ", actor=w.visitor),
        ValidationError,
        "needs an answer",
    ),
    "event not allowed in status": (lambda w, t: tickets.fire_event(t, "start", actor=w.moderator), InvalidTransition, "not possible"),
    "unknown event": (lambda w, t: tickets.fire_event(t, "explode", actor=w.moderator), InvalidTransition, "does not exist"),
    "member not responsible": (lambda w, t: tickets.fire_event(t, "close", actor=w.anna), NotAllowed, "not allowed"),
    "code user closing": (lambda w, t: tickets.fire_event(t, "close", actor=w.visitor), NotAllowed, "not allowed"),
    "rating an open ticket": (lambda w, t: tickets.rate_ticket(t, 5, "", actor=w.visitor), NotAllowed, "cannot be rated"),
    "member assigning": (lambda w, t: offers.assign_employee(t, w.ben, actor=w.anna), NotAllowed, "cannot assign"),
    "internal update by code user": (
        lambda w, t: tickets.post_update(t, "x", Visibility.INTERNAL, actor=w.visitor),
        NotAllowed,
        "cannot post",
    ),
    "empty update": (lambda w, t: tickets.post_update(t, "  ", Visibility.PUBLIC, actor=w.visitor), ValidationError, "write something"),
    "bad visibility": (lambda w, t: tickets.set_visibility(t, "secret", actor=w.moderator), ValidationError, "internal or public"),
    "editing a submitted ticket": (lambda w, t: tickets.save_answer(t, 0, "neu", actor=w.visitor), NotAllowed, "cannot be changed"),
    "stale version": (lambda w, t: tickets.fire_event(t, "cancel", actor=w.moderator, expected_version=t.version - 1), ConflictError, "changed meanwhile"),
}


@pytest.mark.parametrize("case", list(BAD_CALLS))
def test_bad_input_raises_a_specific_error_and_changes_nothing(world, case):
    call, error, message = BAD_CALLS[case]
    ticket = make_ticket(world.flow, world.device, world.visitor)
    make_flow(world.template, "Alt", active=False) if case == "inactive flow" else None
    before = snapshot()
    with pytest.raises(error, match=message):
        call(world, ticket)
    db.session.rollback()
    after = snapshot()
    if case in ("missing required answer", "wrong type", "empty required answer"):
        # the draft created inside the call is the only new row; the submitted ticket is untouched
        assert after[1][ticket.id] == before[1][ticket.id]
        assert after[0]["offers"] == before[0]["offers"] and after[0]["ticket_events"] == before[0]["ticket_events"]
    else:
        assert after == before


def test_save_answer_keeps_nothing_of_an_invalid_value(world):
    ticket = tickets.start_draft(_number_flow(world), world.device, actor=world.visitor)
    tickets.save_answer(ticket, 0, "3", actor=world.visitor)
    with pytest.raises(ValidationError):
        tickets.save_answer(ticket, 0, "drei", actor=world.visitor)
    db.session.rollback()
    assert db.session.get(Answer, ticket.answers[0].id).value == 3


def test_second_writer_gets_conflict_and_first_write_survives(world):
    ticket = make_ticket(world.flow, world.device, world.visitor)
    offers.accept_offer(ticket, actor=world.anna)
    assert ticket.status == TicketStatus.ASSIGNED
    # Another process changes the ticket after we loaded it.
    with Session(db.engine) as other:
        theirs = other.get(Ticket, ticket.id)
        theirs.priority = Priority.HIGH
        other.add(TicketEvent(ticket_id=ticket.id, kind="priority", before="NORMAL", after="HIGH", actor_employee_id=world.ben.id))
        other.commit()
    with pytest.raises(ConflictError, match="changed meanwhile by Ben"):
        tickets.fire_event(ticket, "start", actor=world.anna)
    db.session.expire_all()
    fresh = db.session.get(Ticket, ticket.id)
    assert fresh.priority == Priority.HIGH
    assert fresh.status == TicketStatus.ASSIGNED
    assert not [e for e in fresh.events if e.after == "IN_PROGRESS"]


def test_second_acceptance_racing_the_first_gets_conflict_and_can_retry(world):
    ticket = make_ticket(world.flow, world.device, world.visitor)
    ticket_id = ticket.id
    with Session(db.engine) as other:
        theirs = other.get(Ticket, ticket_id)
        offer = next(o for o in theirs.offers if o.employee_id == world.ben.id)
        offer.state = OfferState.ACCEPTED
        theirs.status = TicketStatus.ASSIGNED
        other.add(TicketEvent(ticket_id=ticket_id, kind="offer", after="ACCEPTED", actor_employee_id=world.ben.id))
        other.commit()
    with pytest.raises(ConflictError):
        offers.accept_offer(ticket, actor=world.anna)
    db.session.expire_all()
    fresh = db.session.get(Ticket, ticket_id)
    assert fresh.responsible_employee_ids == {world.ben.id}
    # A retry on fresh data works: nothing was lost, the second employee simply joins.
    offers.accept_offer(fresh, actor=world.anna)
    assert fresh.responsible_employee_ids == {world.ben.id, world.anna.id}
