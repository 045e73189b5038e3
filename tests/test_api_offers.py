"""A ticket's offers over the API: the offered employee accepts or declines; moderators assign and withdraw."""
import pytest

from app.enums import OfferState, Role
from app.extensions import db
from app.models import Offer, Ticket
from app.workflow import TicketStatus
from tests.api_helpers import assert_problem, token_headers
from tests.factories import (
    make_device,
    make_employee,
    make_flow,
    make_template,
    make_ticket,
)


@pytest.fixture
def fleet():
    """Two members of the fleet group, a moderator, and an OPEN ticket offered to both members."""
    anna, ben = make_employee(name="Anna"), make_employee(name="Ben")
    moderator = make_employee(role=Role.MODERATOR, name="Mo")
    template = make_template(fleet=[anna, ben])
    ticket = make_ticket(make_flow(template), make_device(template), moderator)
    return anna, ben, moderator, ticket


def _state(ticket, employee):
    offer = db.session.scalar(db.select(Offer).filter_by(ticket_id=ticket.id, employee_id=employee.id))
    return None if offer is None else offer.state


def _status(ticket):
    return db.session.get(Ticket, ticket.id, populate_existing=True).status


def test_every_employee_lists_the_offers(client, fleet):
    _anna, _ben, _moderator, ticket = fleet
    bystander = make_employee()
    response = client.get(f"/api/v1/tickets/{ticket.id}/offers", headers=token_headers(bystander, "read"))
    assert response.status_code == 200
    assert response.headers["ETag"] == f'"{ticket.version}"'
    items = response.get_json()["items"]
    assert [(o["employee"]["name"], o["state"], o["responsible"]) for o in items] == [
        ("Anna", "pending", False), ("Ben", "pending", False)]
    assert set(items[0]["employee"]) == {"id", "name", "email"}


def test_member_accepts_their_offer_and_the_ticket_is_assigned(client, fleet):
    anna, _ben, _moderator, ticket = fleet
    response = client.post(f"/api/v1/tickets/{ticket.id}/offers/accept", headers=token_headers(anna))
    assert response.status_code == 200
    assert response.get_json()["state"] == "accepted" and response.get_json()["responsible"] is True
    assert response.headers["ETag"] == f'"{db.session.get(Ticket, ticket.id, populate_existing=True).version}"'
    assert _state(ticket, anna) == OfferState.ACCEPTED and _status(ticket) == TicketStatus.ASSIGNED


def test_member_declines_and_cannot_accept_afterwards(client, fleet):
    anna, _ben, _moderator, ticket = fleet
    headers = token_headers(anna)
    assert client.post(f"/api/v1/tickets/{ticket.id}/offers/decline", headers=headers).get_json()["state"] == "declined"
    assert_problem(client.post(f"/api/v1/tickets/{ticket.id}/offers/accept", headers=headers), 403)
    assert _state(ticket, anna) == OfferState.DECLINED and _status(ticket) == TicketStatus.OPEN


def test_an_outdated_if_match_is_refused_with_409(client, fleet):
    anna, ben, _moderator, ticket = fleet
    seen = client.get(f"/api/v1/tickets/{ticket.id}/offers", headers=token_headers(anna, "read")).headers["ETag"]
    assert client.post(f"/api/v1/tickets/{ticket.id}/offers/accept", headers=token_headers(ben)).status_code == 200
    stale = {**token_headers(anna), "If-Match": seen}
    assert_problem(client.post(f"/api/v1/tickets/{ticket.id}/offers/accept", headers=stale), 409)
    assert _state(ticket, anna) == OfferState.PENDING


def test_moderator_assigns_by_email_and_withdraws_by_id(client, fleet):
    _anna, ben, moderator, ticket = fleet
    carla = make_employee(name="Carla", email="carla@example.com")
    headers = token_headers(moderator)
    assigned = client.post(f"/api/v1/tickets/{ticket.id}/offers/assign", headers=headers, json={"email": "Carla@Example.com "})
    assert assigned.status_code == 200 and assigned.get_json()["state"] == "assigned"
    assert _state(ticket, carla) == OfferState.ASSIGNED and _status(ticket) == TicketStatus.ASSIGNED
    withdrawn = client.post(f"/api/v1/tickets/{ticket.id}/offers/withdraw", headers=headers, json={"employee_id": carla.id})
    assert withdrawn.status_code == 200 and withdrawn.get_json()["state"] == "withdrawn"
    assert _state(ticket, carla) == OfferState.WITHDRAWN and _status(ticket) == TicketStatus.OPEN
    ben_assigned = client.post(f"/api/v1/tickets/{ticket.id}/offers/assign", headers=headers, json={"employee_id": ben.id})
    assert ben_assigned.get_json()["employee"]["id"] == ben.id and _state(ticket, ben) == OfferState.ASSIGNED


def test_member_cannot_assign_or_withdraw(client, fleet):
    anna, ben, _moderator, ticket = fleet
    headers = token_headers(anna)
    assert_problem(client.post(f"/api/v1/tickets/{ticket.id}/offers/assign", headers=headers, json={"employee_id": anna.id}), 403)
    assert_problem(client.post(f"/api/v1/tickets/{ticket.id}/offers/withdraw", headers=headers, json={"employee_id": ben.id}), 403)
    assert (_state(ticket, anna), _state(ticket, ben), _status(ticket)) == (OfferState.PENDING, OfferState.PENDING,
                                                                            TicketStatus.OPEN)


def test_read_scope_cannot_accept(client, fleet):
    anna, _ben, _moderator, ticket = fleet
    assert_problem(client.post(f"/api/v1/tickets/{ticket.id}/offers/accept", headers=token_headers(anna, "read")), 403)
    assert _state(ticket, anna) == OfferState.PENDING


@pytest.mark.parametrize("body", [
    {},
    {"employee_id": 1, "email": "anna@example.com"},
    {"employee_id": "zwei"},
    {"email": ""},
    {"employee_id": 0},
])
def test_bad_choice_is_422_and_assigns_nobody(client, fleet, body):
    _anna, _ben, moderator, ticket = fleet
    assert assert_problem(client.post(f"/api/v1/tickets/{ticket.id}/offers/assign", headers=token_headers(moderator),
                                      json=body), 422)["errors"]
    assert _status(ticket) == TicketStatus.OPEN
    assert db.session.scalar(db.select(db.func.count()).select_from(Offer).filter_by(state=OfferState.ASSIGNED)) == 0


def test_unknown_or_deactivated_employees_cannot_be_assigned(client, fleet):
    _anna, _ben, moderator, ticket = fleet
    gone = make_employee(active=False)
    headers = token_headers(moderator)
    assert_problem(client.post(f"/api/v1/tickets/{ticket.id}/offers/assign", headers=headers,
                               json={"email": "nobody@example.com"}), 404)
    assert_problem(client.post(f"/api/v1/tickets/{ticket.id}/offers/assign", headers=headers,
                               json={"employee_id": gone.id}), 422)
    assert_problem(client.post(f"/api/v1/tickets/{ticket.id}/offers/withdraw", headers=headers,
                               json={"employee_id": gone.id}), 422)
    assert _status(ticket) == TicketStatus.OPEN


def test_drafts_and_unknown_tickets_have_no_offers(client, fleet):
    anna, _ben, moderator, _ticket = fleet
    template = make_template(fleet=[anna])
    draft = make_ticket(make_flow(template), make_device(template), moderator, submit=False)
    assert_problem(client.get(f"/api/v1/tickets/{draft.id}/offers", headers=token_headers(moderator, "read")), 404)
    assert_problem(client.post("/api/v1/tickets/999/offers/accept", headers=token_headers(anna)), 404)
