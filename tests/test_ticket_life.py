"""Every turn of a ticket's life: from OPEN through every status, reopen and rating again, each action a person can
take (rate, write, post an update, cancel, accept, decline, assign, withdraw, every status button) answers clearly —
done, or refused with a message and nothing changed — and never with a server error (DESIGN.md §3)."""
from collections import deque

import pytest
import sqlalchemy as sa

from app.enums import OfferState
from app.extensions import db
from app.models import Code, Employee, Flow, Message, Ticket, Update
from app.services import notifications, offers, tickets
from app.workflow import MANUAL_EVENTS, TicketStatus
from tests import factories
from tests.test_public import visitor_of

HTMX = {"HX-Request": "true"}


def _probes(number):
    """(name, who, url, form) of every action on ticket `number`; "version" in a form is filled in when sent."""
    staff_events = [
        (f"{who} presses {event}", who, f"/tickets/{number}/events", {"event": event, "version": None})
        for who in ("anna", "moderator") for event in MANUAL_EVENTS
    ]
    return [
        ("code user rates", "code", f"/c/demo-press/t/{number}/rate", {"score": "4", "comment": "Läuft wieder"}),
        ("code user cancels", "code", f"/c/demo-press/t/{number}/cancel", {}),
        ("code user posts an update", "code", f"/c/demo-press/t/{number}/updates", {"body": "Noch ein Hinweis"}),
        ("code user writes", "code", f"/tickets/{number}/messages", {"body": "Hallo?"}),
        ("anna writes", "anna", f"/tickets/{number}/messages", {"body": "Bin unterwegs"}),
        ("anna posts an internal update", "anna", f"/tickets/{number}/updates", {"body": "Ventil bestellt", "internal": "1"}),
        ("anna accepts", "anna", f"/tickets/{number}/offer/accept", {"version": None}),
        ("anna declines", "anna", f"/tickets/{number}/offer/decline", {"version": None}),
        ("moderator assigns ben", "moderator", f"/tickets/{number}/assign", {"employee": "ben@example.com", "version": None}),
        ("moderator withdraws anna", "moderator", f"/tickets/{number}/withdraw", {"employee": "anna@example.com", "version": None}),
        *staff_events,
    ]


def _state(ticket_id):
    """What an action may change: status, version, offers, ratings, messages and updates."""
    db.session.expire_all()
    ticket = db.session.get(Ticket, ticket_id)
    count = lambda model: db.session.scalar(sa.select(sa.func.count()).select_from(model).where(model.ticket_id == ticket_id))
    offers = tuple(sorted((offer.employee.email, offer.state.value) for offer in ticket.offers))
    return ticket.status, ticket.version, offers, len(ticket.ratings), count(Message), count(Update)


def _signature(state):
    """States the walk tells apart: status, whether someone is responsible, how often it was rated (at most 2)."""
    status, _, offers, ratings, _, _ = state
    responsible = any(value in (OfferState.ACCEPTED.value, OfferState.ASSIGNED.value) for _, value in offers)
    return status, responsible, min(ratings, 2)


@pytest.fixture
def people(demo, app, login):
    """Test clients of the code user who reports, Anna (fleet), and the moderator; and a fresh ticket maker."""
    code_client = app.test_client()
    code_client.get("/c/demo-press")
    visitor = visitor_of(code_client)
    clients = {"code": code_client}
    for who, email in (("anna", "anna@example.com"), ("moderator", "moderator@example.com")):
        employee = db.session.scalar(sa.select(Employee).filter_by(email=email))
        clients[who] = login(employee, app.test_client())
    code = db.session.scalar(sa.select(Code).filter_by(token="demo-press"))
    flow = db.session.scalar(sa.select(Flow).filter_by(template_id=code.device.template_id, title="Störung melden"))

    def fresh_ticket():
        """A new OPEN public ticket on the press, offered to its fleet."""
        return factories.make_public_ticket(flow, code.device, visitor).id

    people_by_role = {
        who: db.session.scalar(sa.select(Employee).filter_by(email=f"{who}@example.com")) for who in ("anna", "ben", "moderator")
    }
    return clients, fresh_ticket, _moves(people_by_role, visitor)


def _send(clients, ticket_id, probe):
    """Send one action as htmx would; the response."""
    _, who, url, form = probe
    data = {key: (str(db.session.get(Ticket, ticket_id).version) if value is None else value) for key, value in form.items()}
    return clients[who].post(url, data=data, headers=HTMX)


def _moves(people_by_role, visitor):
    """The service call behind each action that can move a ticket on: a way there is replayed through the
    services (the pages were already asked on the way there, once)."""
    anna, ben, moderator = (people_by_role[key] for key in ("anna", "ben", "moderator"))
    moves = {
        "code user rates": lambda t: tickets.rate_ticket(t, 4, "Läuft wieder", actor=visitor),
        "code user cancels": lambda t: tickets.cancel_ticket(t, actor=visitor),
        "anna accepts": lambda t: offers.accept_offer(t, actor=anna),
        "anna declines": lambda t: offers.decline_offer(t, actor=anna),
        "moderator assigns ben": lambda t: offers.assign_employee(t, ben, actor=moderator),
        "moderator withdraws anna": lambda t: offers.withdraw_employee(t, anna, actor=moderator),
    }
    for who in ("anna", "moderator"):
        for event in MANUAL_EVENTS:
            moves[f"{who} presses {event}"] = lambda t, e=event, a=people_by_role[who]: tickets.fire_event(t, e, actor=a)
    return moves


def _replay(fresh_ticket, moves, path):
    """A new ticket taken down `path` (action names); its id. The way there was walked through the pages already:
    its live pushes and toasts are left out here, which keeps the walk fast."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(notifications, "after_commit", lambda *args, **kwargs: None)
        ticket_id = fresh_ticket()
        for name in path:
            moves[name](db.session.get(Ticket, ticket_id))
    return ticket_id


def test_every_action_in_every_turn_of_a_tickets_life_answers_clearly(people):
    clients, fresh_ticket, moves = people
    seen, queue, walked = set(), deque([()]), []
    while queue:
        path = queue.popleft()
        ticket_id = _replay(fresh_ticket, moves, path)
        state = _state(ticket_id)
        seen.add(_signature(state))
        walked.append((path, state[0]))
        for index in range(len(_probes(0))):
            probe = _probes(ticket_id)[index]
            before = _state(ticket_id)
            response = _send(clients, ticket_id, probe)
            after = _state(ticket_id)
            where = f"{probe[0]} after {' → '.join(path) or 'submitting'} ({before[0].name})"
            assert response.status_code in (200, 204, 302, 303, 403, 404, 409, 422), (where, response.status_code)
            if response.status_code >= 400:
                html = response.get_data(as_text=True)
                assert 'role="alert"' in html, (where, "refused without a message")
                assert after == before, (where, "a refusal changed the ticket")
            else:
                if _signature(after) not in seen:
                    seen.add(_signature(after))  # each kind of turn is walked once, by the shortest way there
                    queue.append((*path, probe[0]))
                if (after[0], after[2], after[3]) != (before[0], before[2], before[3]):
                    ticket_id = _replay(fresh_ticket, moves, path)  # on from the same turn, with a fresh ticket
    statuses = {status for _, status in walked}
    assert statuses == set(TicketStatus) - {TicketStatus.DRAFT}, statuses
    # Rated, reopened, done again and rated again: the second rating is kept beside the first, the latest counts.
    assert any(path.count("code user rates") == 2 for path, _ in walked) or any(
        signature[2] == 2 for signature in seen
    )


def test_a_reopened_ticket_is_rated_again_and_keeps_its_earlier_rating(people):
    clients, fresh_ticket, moves = people
    ticket_id = _replay(fresh_ticket, moves, ["anna accepts", "anna presses finish", "code user rates", "moderator presses reopen", "anna presses finish"])
    page = clients["code"].get(f"/c/demo-press/t/{ticket_id}").get_data(as_text=True)
    assert 'data-testid="rating-submit"' in page  # offered again, with the earlier rating named
    answer = clients["code"].post(f"/c/demo-press/t/{ticket_id}/rate", data={"score": "2", "comment": "Wieder kaputt"})
    assert answer.status_code == 303
    ticket = db.session.get(Ticket, ticket_id)
    assert ticket.status == TicketStatus.CLOSED and ticket.rating_score == 2
    assert [(rating.score, rating.comment) for rating in ticket.ratings] == [(4, "Läuft wieder"), (2, "Wieder kaputt")]
    staff_page = clients["moderator"].get(f"/tickets/{ticket_id}").get_data(as_text=True)
    assert "Läuft wieder" in staff_page and "Wieder kaputt" in staff_page  # every rating stays visible to staff
