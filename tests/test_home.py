"""Back-office home: counts per status, offers waiting for me, my tickets, latest activity."""
import re

import pytest

from app.enums import Role
from app.services import offers
from tests import factories


@pytest.fixture
def tickets_for_anna(app):
    """Two open tickets offered to Anna; she accepted the first."""
    anna = factories.make_employee(Role.MEMBER, name="Anna")
    template = factories.make_template(fleet=[anna])
    flow = factories.make_flow(template)
    device = factories.make_device(template)
    visitor = factories.make_code_visitor(factories.make_code(device))
    accepted = factories.make_public_ticket(flow, device, visitor)
    offered = factories.make_public_ticket(flow, device, visitor)
    offers.accept_offer(accepted, actor=anna)
    return anna, accepted, offered


def numbers(page, testid):
    """Ticket numbers listed under a data-testid."""
    return [int(n) for n in re.findall(rf'data-testid="{testid}" data-ticket-number="(\d+)"', page)]


def test_home_lists_my_offers_and_my_tickets(client, login, tickets_for_anna):
    anna, accepted, offered = tickets_for_anna
    page = login(anna).get("/").get_data(as_text=True)
    assert numbers(page, "home-offer") == [offered.id]
    assert numbers(page, "home-mine") == [accepted.id]


def test_home_counts_tickets_per_status(client, login, tickets_for_anna):
    anna, _, _ = tickets_for_anna
    page = login(anna).get("/").get_data(as_text=True)
    assert re.search(r'data-status="open"[^>]*>[^<]*: 1<', page)
    assert re.search(r'data-status="assigned"[^>]*>[^<]*: 1<', page)
    assert re.search(r'data-status="closed"[^>]*>[^<]*: 0<', page)


def test_home_shows_latest_activity(client, login, tickets_for_anna):
    anna, accepted, _ = tickets_for_anna
    page = login(anna).get("/").get_data(as_text=True)
    assert f"/tickets/{accepted.id}" in page
    assert "Anna" in page


def test_other_employee_has_no_offers(client, login, tickets_for_anna, app):
    other = factories.make_employee()
    page = login(other).get("/").get_data(as_text=True)
    assert numbers(page, "home-offer") == [] and numbers(page, "home-mine") == []


def test_home_needs_login(client):
    assert client.get("/").status_code == 302


def test_home_live_region_is_a_fragment_that_follows_ticket_changes(client, login, tickets_for_anna):
    anna, _, offered = tickets_for_anna
    login(anna)
    fragment = client.get("/", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert fragment.lstrip().startswith('<div id="home-live"') and "<html" not in fragment
    assert "ticket-updated from:body" in fragment.split(">", 1)[0]
    assert numbers(fragment, "home-offer") == [offered.number]
