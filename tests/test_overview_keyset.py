"""Keyset paging of the tickets overview (and the API list): every sort walks every ticket once in its order,
forwards and backwards, tickets created or moved meanwhile neither repeat nor push rows off, deep pages cost the
statements of the first, and cursors from outside cannot break a page (they are ignored). On SQLite and PostgreSQL."""
import html
import random
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.blueprints.tickets import overview
from app.extensions import db
from app.models import Employee, Ticket
from app.models._types import utcnow
from app.services import tickets
from app.workflow import TicketStatus
from tests.test_tickets_overview import count_statements, rows

RUN_ON_POSTGRES = True
EVERY_STATUS = "&".join(f"status={status.value}" for status in overview.LISTED_STATUSES)
SORTS = [f"{sign}{name}" for name in overview.SORTS for sign in ("", "-")]
RANK = {"LOW": 0, "NORMAL": 1, "HIGH": 2}
SIZE = 7


@pytest.fixture
def moderator_client(app, login, demo):
    """A moderator's client over 40 bulk tickets with tied activity times and some due times (ties, gaps)."""
    from app.demo_data import load_bulk_tickets

    load_bulk_tickets(40)
    rng = random.Random(5)
    ids = db.session.scalars(sa.select(Ticket.id).where(Ticket.status != TicketStatus.DRAFT)).all()
    moment = utcnow().replace(microsecond=0)
    for ticket_id in ids:
        tied = rng.random() < 0.3  # many tickets share one activity time and one due time
        due = None if rng.random() < 0.4 else moment + timedelta(hours=0 if tied else rng.randint(1, 50))
        db.session.execute(
            sa.update(Ticket).where(Ticket.id == ticket_id).values(
                last_activity_at=moment if tied else moment - timedelta(minutes=rng.randint(1, 5000)), sla_due_at=due,
            )
        )
    db.session.commit()
    app.config["OVERVIEW_PAGE_SIZE"] = SIZE
    return login(db.session.scalar(sa.select(Employee).filter_by(email="moderator@example.com")))


def expected_order(sort):
    """Every listed ticket's number in `sort`'s order, computed in Python."""
    db.session.expire_all()
    tickets = db.session.scalars(sa.select(Ticket).where(Ticket.status != TicketStatus.DRAFT)).all()
    name, descending = sort.lstrip("-"), sort.startswith("-")
    sign = -1 if descending else 1
    if name == "priority":
        key = lambda t: (sign * RANK[t.priority.name], sign * t.id)
    elif name == "number":
        key = lambda t: sign * t.id
    elif name == "due":  # without a due time last, in both directions
        key = lambda t: (t.sla_due_at is None, sign * (t.sla_due_at.timestamp() if t.sla_due_at else 0), sign * t.id)
    else:
        column = overview.SORTS[name].key
        key = lambda t: (sign * getattr(t, column).timestamp(), sign * t.id)
    return [ticket.id for ticket in sorted(tickets, key=key)]


def link(response, rel):
    """The URL of the page's rel="next"/"prev" link, or None."""
    match = re.search(rf'<a href="([^"]+)" rel="{rel}"', response.get_data(as_text=True))
    return html.unescape(match.group(1)) if match else None


def walk(client, url, rel="next"):
    """[(url, [numbers])] of every page from `url`, following `rel` links."""
    pages = []
    while url and len(pages) < 100:
        response = client.get(url)
        assert response.status_code == 200
        pages.append((url, rows(response)))
        url = link(response, rel)
    return pages


def test_every_sort_walks_every_ticket_once_in_order_forwards_and_back(app, moderator_client):
    for sort in SORTS:
        pages = walk(moderator_client, f"/tickets?{EVERY_STATUS}&sort={sort}")
        assert [number for _url, numbers in pages for number in numbers] == expected_order(sort), sort
        assert all(len(numbers) == SIZE for _url, numbers in pages[:-1])
        assert all("after=" in url for url, _numbers in pages[1:])  # past the first page by cursor, not by offset
        backwards = walk(moderator_client, pages[-1][0], rel="prev")
        assert [numbers for _url, numbers in reversed(backwards)] == [numbers for _url, numbers in pages], sort
        assert not re.search("after=|before=|page=", backwards[-1][0])


def test_tickets_created_meanwhile_neither_repeat_nor_push_rows_off(app, moderator_client):
    from app.demo_data import load_bulk_tickets

    for seed, sort in enumerate(["-activity", "priority", "due", "-created"], start=11):
        before = expected_order(sort)
        first = moderator_client.get(f"/tickets?{EVERY_STATUS}&sort={sort}")
        seen = rows(first)
        load_bulk_tickets(6, seed=seed)  # new tickets, many of them sorting before the cursor
        rest = walk(moderator_client, link(first, "next"))
        later = [number for _url, numbers in rest for number in numbers]
        assert not set(seen) & set(later), sort
        old = set(before)
        assert [number for number in later if number in old] == before[len(seen):], sort


def test_going_back_after_new_tickets_ends_on_the_full_first_page(app, moderator_client):
    from app.demo_data import load_bulk_tickets

    pages = walk(moderator_client, f"/tickets?{EVERY_STATUS}&sort=-number")[:2]
    load_bulk_tickets(3, seed=12)
    back = moderator_client.get(link(moderator_client.get(pages[1][0]), "prev"))
    assert rows(back) == expected_order("-number")[:SIZE]
    assert link(back, "prev") is None


def test_going_back_offers_next_only_while_rows_follow(app, moderator_client):
    """Back from the last page after every ticket on it was cancelled (the default list hides CANCELLED): the page
    before offers no Next link into an empty page; while rows remain beyond it, Next is offered and leads to them."""
    pages = walk(moderator_client, "/tickets?sort=-number")
    assert len(pages) >= 3
    last_url, last_numbers = pages[-1]
    back_url = link(moderator_client.get(last_url), "prev")
    assert link(moderator_client.get(back_url), "next")  # nothing changed yet: the last page follows
    moderator = db.session.scalar(sa.select(Employee).filter_by(email="moderator@example.com"))
    for number in last_numbers[1:]:  # all but the row the cursor names: rows still follow
        tickets.cancel_ticket(db.session.get(Ticket, number), actor=moderator)
    back = moderator_client.get(back_url)
    assert rows(back) == pages[-2][1]
    assert rows(moderator_client.get(link(back, "next"))) == [last_numbers[0]]
    tickets.cancel_ticket(db.session.get(Ticket, last_numbers[0]), actor=moderator)  # now the cursor's row is gone
    back = moderator_client.get(back_url)
    assert rows(back) == pages[-2][1] and link(back, "next") is None


def test_a_deep_page_by_cursor_runs_the_statements_of_the_first(app, moderator_client):
    pages = walk(moderator_client, f"/tickets?{EVERY_STATUS}")
    assert len(pages) > 5
    first = count_statements(app, moderator_client, pages[0][0])
    assert count_statements(app, moderator_client, pages[-2][0]) == first


def test_a_priority_filter_walks_only_its_own_arm_of_the_priority_sort(app, moderator_client):
    """With priority=high the priority sort reads one index-ordered arm, not three (the other two are empty, but
    PostgreSQL starts parallel workers for them); the pages still list every high-priority ticket once, in order,
    forwards and back. A cursor of another priority (from a link made before the filter changed) gives the page
    the order puts there: after a NORMAL ticket no HIGH one follows in descending order, all of them in ascending."""
    high = [number for number in expected_order("-priority")
            if db.session.get(Ticket, number).priority.name == "HIGH"]
    assert 0 < len(high) < len(expected_order("-priority"))
    for sort in ("-priority", "priority"):
        expected = high if sort == "-priority" else list(reversed(high))
        pages = walk(moderator_client, f"/tickets?{EVERY_STATUS}&priority=high&sort={sort}")
        assert [number for _url, numbers in pages for number in numbers] == expected, sort
        backwards = walk(moderator_client, pages[-1][0], rel="prev")
        assert [numbers for _url, numbers in reversed(backwards)] == [numbers for _url, numbers in pages], sort

    statements = []

    def remember(conn, cursor, statement, *args):
        statements.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", remember)
    try:
        assert moderator_client.get(f"/tickets?{EVERY_STATUS}&priority=high&sort=-priority").status_code == 200
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", remember)
    walks = [statement for statement in statements if "AS rank" in statement]
    assert len(walks) == 1 and "UNION" not in walks[0].upper()

    normal = next(number for number in expected_order("-priority") if db.session.get(Ticket, number).priority.name == "NORMAL")
    for sort, expected in (("-priority", []), ("priority", list(reversed(high))[:SIZE])):
        cursor = overview.Position.of(db.session.get(Ticket, normal), sort).encode()
        response = moderator_client.get(f"/tickets?{EVERY_STATUS}&priority=high&sort={sort}&after={cursor}&page=2")
        assert response.status_code == 200
        assert rows(response) == expected, sort


BAD_CURSORS = [
    "garbage", "W10", "WyJhY3Rpdml0eSIsbnVsbCwxXQ", "%E2%82%AC", "W251bGwsbnVsbCxudWxsXQ",
    overview.Position("-number", None, 3).encode(), overview.Position("-activity", "yesterday", 3).encode(),
    overview.Position("-activity", "2026-11-29T10:00:00", 3).encode(), overview.Position("priority", "URGENT", 3).encode(),
    overview.Position("-activity", None, 2**40).encode(),
]


def test_a_cursor_that_this_sort_did_not_make_is_ignored(app, moderator_client):
    by_number = rows(moderator_client.get(f"/tickets?{EVERY_STATUS}&page=4"))
    assert by_number == expected_order("-activity")[3 * SIZE:4 * SIZE]
    for cursor in BAD_CURSORS:
        for key in ("after", "before"):
            response = moderator_client.get(f"/tickets?{EVERY_STATUS}&{key}={cursor}&page=4")
            assert response.status_code == 200, cursor
            assert rows(response) == by_number, cursor


def test_a_bare_page_number_stays_within_the_counted_part(app, moderator_client):
    order = expected_order("-activity")
    assert rows(moderator_client.get(f"/tickets?{EVERY_STATUS}&page=2")) == order[SIZE:2 * SIZE]
    last = -(-len(order) // SIZE)
    assert rows(moderator_client.get(f"/tickets?{EVERY_STATUS}&page=100000")) == order[(last - 1) * SIZE:]


def test_the_api_list_pages_by_the_same_keyset(app, moderator_client):
    from app.demo_data import load_bulk_tickets
    from tests.api_helpers import bearer, token_for

    moderator = db.session.scalar(sa.select(Employee).filter_by(email="moderator@example.com"))
    headers = bearer(token_for(moderator))
    existing = set(expected_order("-created"))
    first = moderator_client.get(f"/api/v1/tickets?{EVERY_STATUS}&limit=10&sort=-created", headers=headers).get_json()
    load_bulk_tickets(5, seed=13)
    numbers, cursor = [item["number"] for item in first["items"]], first["next_cursor"]
    while cursor:
        page = moderator_client.get(f"/api/v1/tickets?{EVERY_STATUS}&limit=10&sort=-created&cursor={cursor}", headers=headers).get_json()
        numbers += [item["number"] for item in page["items"]]
        cursor = page["next_cursor"]
    assert len(numbers) == len(set(numbers))
    assert existing <= set(numbers)
    assert numbers == [number for number in expected_order("-created") if number in set(numbers)]
    wrong_sort = overview.Position("-number", None, 5).encode()
    response = moderator_client.get(f"/api/v1/tickets?sort=-created&cursor={wrong_sort}", headers=headers)
    assert response.status_code == 400


@pytest.mark.parametrize("filters", ["rating=5&created_from=2020-01-01&created_to=2099-12-31",
                                     "created_from=2020-01-01&created_to=2099-12-31"])
def test_a_created_range_sorted_by_activity_reads_only_the_pages_rows(app, moderator_client, filters):
    """Few matches are sorted rather than walked along the sort index: one statement finds the page's numbers in a
    subquery and reads only those rows, and the page is still the right one. The index of the filters holds the
    activity time, so SQLite can sort the matches without reading a table row (its plan for the subquery on that
    index says COVERING INDEX; which index the planner picks for 40 tickets is its own choice)."""
    url = f"/tickets?{EVERY_STATUS}&{filters}"
    statements = []

    def remember(conn, cursor, statement, parameters, *args):
        statements.append((statement, parameters))

    sa.event.listen(db.engine, "before_cursor_execute", remember)
    try:
        response = moderator_client.get(url)
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", remember)
    assert response.status_code == 200
    rated = [number for number in expected_order("-activity")
             if "rating" not in filters or db.session.get(Ticket, number).rating_score == 5]
    assert rated and rows(response) == rated[:SIZE]
    statement, parameters = next((s, p) for s, p in statements if "IN (SELECT tickets.id" in s)
    if db.engine.dialect.name == "sqlite":
        page = re.search(r"IN \((SELECT tickets\.id .*? LIMIT \? OFFSET \?)\)", statement, re.DOTALL).group(1)
        index = "ix_tickets_status_rating_created_activity" if "rating" in filters else "ix_tickets_status_created_activity"
        forced = page.replace("FROM tickets", f"FROM tickets INDEXED BY {index}", 1)
        with db.engine.connect() as connection:
            plan = " ".join(row[-1] for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {forced}", tuple(parameters)))
        assert f"COVERING INDEX {index}" in plan, plan
    else:
        # PostgreSQL's index entries point at rows: only with the number in the index (migration 0017) and the table
        # vacuumed can it answer from the index.
        start = statement.index("IN (SELECT tickets.id") + 4
        depth, end = 0, start
        for end, character in enumerate(statement[start:], start):
            depth += {"(": 1, ")": -1}.get(character, 0)
            if depth < 0:  # the parenthesis that closes the subquery
                break
        db.session.rollback()  # its read locks would keep DROP INDEX below waiting
        with db.engine.connect() as connection:
            connection.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("VACUUM ANALYZE tickets")
        with db.engine.connect() as connection:
            # For 40 tickets any index (or the table) would do: the filters' two indexes are left as the only
            # choice, the others dropped in this transaction and back after its rollback.
            for setting in ("enable_seqscan", "enable_bitmapscan"):
                connection.exec_driver_sql(f"SET LOCAL {setting} = off")
            others = connection.exec_driver_sql(
                "SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = "
                "'tickets'::regclass AND NOT i.indisunique AND c.relname NOT IN "
                "('ix_tickets_status_created_activity', 'ix_tickets_status_rating_created_activity')"
            ).scalars().all()
            for name in others:
                connection.exec_driver_sql(f'DROP INDEX "{name}"')
            plan = " ".join(row[0] for row in connection.exec_driver_sql(f"EXPLAIN {statement[start:end]}", parameters))
            connection.rollback()
        assert "Index Only Scan using ix_tickets_status_" in plan, plan
