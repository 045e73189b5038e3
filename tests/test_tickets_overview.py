"""Tickets overview: filters, search, sorts, the htmx block and a constant number of statements, on both databases."""
import re

import pytest
import sqlalchemy as sa

from app.enums import Visibility
from app.extensions import db
from app.models import Employee, Ticket
from app.services import tickets as ticket_service
from app.workflow import TicketStatus
from tests import test_tickets as route_tests

RUN_ON_POSTGRES = True


@pytest.fixture
def world(app):
    """People and one ASSIGNED public ticket (see tests/test_tickets.py)."""
    return route_tests.make_world(route_tests.make_people())


def rows(response):
    """Ticket numbers of the overview rows in a response."""
    return [int(n) for n in re.findall(r'data-testid="ticket-row" data-ticket-number="(\d+)"', response.get_data(as_text=True))]


def test_overview_hides_closed_and_cancelled_unless_asked(app, login, world):
    ticket, moderator = world["ticket"], world["people"]["moderator"]
    client = login(moderator)
    assert rows(client.get("/tickets")) == [ticket.id]
    ticket_service.fire_event(ticket, "close", actor=moderator)
    assert rows(client.get("/tickets")) == []
    assert rows(client.get("/tickets?status=closed")) == [ticket.id]
    page = client.get("/tickets?status=closed").get_data(as_text=True)
    assert 'value="closed" checked' in page  # the filter state comes back from the URL


def test_overview_filters(app, login, world):
    ticket, people = world["ticket"], world["people"]
    client = login(people["responsible"])
    assert rows(client.get("/tickets?responsible=me")) == [ticket.id]
    assert rows(login(people["member"], app.test_client()).get("/tickets?responsible=me")) == []
    assert rows(client.get(f"/tickets?device={world['device'].id}")) == [ticket.id]
    assert rows(client.get("/tickets?visibility=internal")) == []
    assert rows(client.get("/tickets?visibility=public&priority=normal")) == [ticket.id]
    assert rows(client.get("/tickets?responsible=none")) == []
    assert rows(client.get("/tickets?offers=me")) == []
    assert rows(client.get("/tickets?created_from=2000-01-01&created_to=2000-12-31")) == []
    assert rows(client.get("/tickets?rating=none")) == [ticket.id]
    assert rows(client.get("/tickets?status=bogus&sort=nonsense&page=x")) == [ticket.id]


def test_overview_search_finds_number_answers_and_updates(app, login, world):
    ticket, responsible = world["ticket"], world["people"]["responsible"]
    ticket_service.post_update(ticket, "Hydraulikpumpe ersetzt", Visibility.INTERNAL, actor=responsible)
    client = login(responsible)
    assert rows(client.get("/tickets?q=hydraulikpumpe")) == [ticket.id]
    assert rows(client.get(f"/tickets?q=T-{ticket.id:05d}")) == [ticket.id]
    assert rows(client.get("/tickets?q=Morgen")) == [ticket.id]
    assert rows(client.get("/tickets?q=nichtvorhanden")) == []


def test_htmx_overview_returns_only_the_results_block(app, login, world, as_htmx):
    response = login(world["people"]["member"]).get("/tickets?priority=normal", headers=as_htmx)
    body = response.get_data(as_text=True)
    assert body.lstrip().startswith('<section id="results"')
    assert "<html" not in body and 'data-testid="ticket-search"' not in body
    assert response.headers["Vary"] == "HX-Request" or "HX-Request" in response.headers["Vary"]


@pytest.mark.parametrize("sort", ["-activity", "activity", "-created", "created", "-number", "number", "-priority", "priority"])
def test_every_sort_lists_every_ticket_once(app, login, demo, sort):
    from app.demo_data import load_bulk_tickets

    load_bulk_tickets(40)
    client = login(db.session.scalar(sa.select(Employee).filter_by(email="moderator@example.com")))
    everything = "&".join(f"status={s.value}" for s in TicketStatus if s != TicketStatus.DRAFT)
    app.config["OVERVIEW_PAGE_SIZE"] = 15
    seen = []
    for page in (1, 2, 3):
        seen += rows(client.get(f"/tickets?{everything}&sort={sort}&page={page}"))
    assert sorted(seen) == sorted(db.session.scalars(sa.select(Ticket.id).where(Ticket.status != TicketStatus.DRAFT)))
    if sort.endswith("priority"):
        ranks = {"LOW": 0, "NORMAL": 1, "HIGH": 2}
        priorities = [ranks[db.session.get(Ticket, n).priority.name] for n in seen]
        assert priorities == sorted(priorities, reverse=sort.startswith("-"))


def count_statements(app, client, url, headers=None):
    """How many SQL statements rendering `url` runs."""
    statements = []

    def count(*args):
        statements.append(1)

    engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        assert client.get(url, headers=headers).status_code == 200
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)
    return len(statements)


@pytest.mark.parametrize("url", ["/tickets?status=open&status=assigned&status=in_progress&status=done&status=closed&status=cancelled",
                                 "/tickets?sort=-priority&status=closed&status=open", "/tickets?q=Presse&status=closed"])
def test_overview_runs_the_same_number_of_statements_for_10_and_150_tickets(app, login, demo, url):
    from app.demo_data import load_bulk_tickets

    client = login(db.session.scalar(sa.select(Employee).filter_by(email="anna@example.com")))
    load_bulk_tickets(10)
    few = count_statements(app, client, url), count_statements(app, client, url, {"HX-Request": "true"})
    load_bulk_tickets(140, seed=7)
    many = count_statements(app, client, url), count_statements(app, client, url, {"HX-Request": "true"})
    assert few == many
    assert many[0] < 20
