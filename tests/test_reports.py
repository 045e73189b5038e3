"""Reports: the figures kept on write equal a brute-force recomputation from the raw rows; who may read them."""
import math
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
import time_machine
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from app.blueprints.reports import figures
from app.enums import OfferState, Role
from app.extensions import db
from app.models import (
    Customer,
    Message,
    Rating,
    ReportDay,
    ReportTicketFacts,
    ServiceLevel,
    Ticket,
    TicketEvent,
    TicketSla,
    Update,
)
from app.services import messenger, notifications, offers, reports, tickets
from app.services.errors import ServiceError
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
ZONE = ZoneInfo("Europe/Berlin")
EPOCH = datetime(2026, 3, 20, 8, 0, tzinfo=UTC)  # the range crosses the change to summer time (29 March)
SLA = ("first_response", "assignment", "resolution")
ACTIONS = ("staff message", "code message", "accept", "assign", "start", "finish", "rate", "close", "cancel", "reopen")


class World:
    """Two templates with fleet groups, three devices of two customers (one without), staff and a code user."""

    def __init__(self):
        self.anna = make_employee(name="Anna")
        self.ben = make_employee(name="Ben")
        self.moderator = make_employee(Role.MODERATOR, name="Mona")
        press = make_template(fleet=[self.anna, self.ben], ratings_enabled=True)
        cooler = make_template(fleet=[self.ben], ratings_enabled=True)
        north, south = Customer(name="Nord AG"), Customer(name="Süd GmbH")
        db.session.add_all([north, south])
        db.session.commit()
        self.flows = {press.id: make_flow(press), cooler.id: make_flow(cooler)}
        self.devices = [
            make_device(press, customer=north), make_device(press, customer=south), make_device(cooler),
        ]
        self.visitor = make_code_visitor(*[make_code(device) for device in self.devices])
        # Press tickets run service-level clocks (working time Monday to Friday, 8 to 17 h).
        db.session.add(ServiceLevel(template_id=press.id, first_response_minutes=60, assignment_minutes=240,
                                    resolution_minutes=960, pause_while_waiting=False))
        db.session.commit()

    def run(self, action, ticket):
        """One person's action on the ticket through the services; a refused action changes nothing."""
        moves = {
            "staff message": lambda: messenger.post_message(ticket, "Wir kommen.", actor=self.ben),
            "code message": lambda: messenger.post_message(ticket, "Danke", actor=self.visitor),
            "accept": lambda: offers.accept_offer(ticket, actor=self.ben),
            "assign": lambda: offers.assign_employee(ticket, self.anna, actor=self.moderator),
            "start": lambda: tickets.fire_event(ticket, "start", actor=self.ben),
            "finish": lambda: tickets.fire_event(ticket, "finish", actor=self.moderator),
            "rate": lambda: tickets.rate_ticket(ticket, 1 + ticket.id % 5, f"Kommentar {ticket.id}", actor=self.visitor),
            "close": lambda: tickets.fire_event(ticket, "close", actor=self.moderator),
            "cancel": lambda: tickets.fire_event(ticket, "cancel", actor=self.moderator),
            "reopen": lambda: tickets.fire_event(ticket, "reopen", actor=self.moderator),
        }
        try:
            moves[action]()
        except ServiceError:
            db.session.rollback()


@pytest.fixture
def world(app, monkeypatch):
    """The world, with live pushes left out (they do not touch report data)."""
    monkeypatch.setattr(notifications, "after_commit", lambda *args, **kwargs: None)
    return World()


script = st.tuples(
    st.integers(0, 2),  # device
    st.integers(0, 60 * 24 * 20),  # minutes after EPOCH the ticket is created
    st.lists(st.tuples(st.sampled_from(ACTIONS), st.integers(1, 60 * 40)), max_size=6),  # (action, minutes later)
)


def local_day(moment):
    """The Berlin calendar day of an aware datetime."""
    return moment.astimezone(ZONE).date()


def brute_force_facts():
    """Per submitted ticket, the report facts recomputed from the raw rows with plain Python loops."""
    facts = {}
    events = db.session.scalars(sa.select(TicketEvent)).all()
    messages = db.session.scalars(sa.select(Message)).all()
    updates = db.session.scalars(sa.select(Update)).all()
    ratings = db.session.scalars(sa.select(Rating).order_by(Rating.id)).all()
    slas = {row.ticket_id: row for row in db.session.scalars(sa.select(TicketSla))}
    for ticket in db.session.scalars(sa.select(Ticket).where(Ticket.status != TicketStatus.DRAFT)):
        own = [e for e in events if e.ticket_id == ticket.id]
        response = [m.created_at for m in messages if m.ticket_id == ticket.id and m.author_employee_id]
        response += [u.created_at for u in updates if u.ticket_id == ticket.id and u.author_employee_id]
        accepted = [e.created_at for e in own if e.kind in ("offer", "assignment") and e.after in ("ACCEPTED", "ASSIGNED")]
        response += accepted + [e.created_at for e in own if e.kind == "status" and e.actor_employee_id]
        assignment = accepted + [
            e.created_at for e in own
            if e.kind == "status" and e.before == "OPEN" and e.after in ("ASSIGNED", "IN_PROGRESS", "DONE")
        ]
        done = [e.created_at for e in own if e.kind == "status" and e.after == "DONE"]
        rated = [r for r in ratings if r.ticket_id == ticket.id]
        sla = slas.get(ticket.id)
        flow = ticket.flow
        group = flow.fleet_group_id or (ticket.template.groups[0].id if ticket.template.groups else None)

        def hours_to(times, start=ticket.created_at):
            return max(0, int((min(times) - start).total_seconds())) if times else None

        facts[ticket.id] = {
            "template": ticket.template_id, "customer": ticket.customer_id, "group": group, "device": ticket.device_id,
            "status": ticket.status, "created_at": ticket.created_at, "created_day": local_day(ticket.created_at),
            "closed_day": local_day(ticket.closed_at) if ticket.closed_at else None,
            "rated_day": local_day(rated[-1].created_at) if rated else None,
            "score": rated[-1].score if rated else None,
            **{f"sla_{target}": getattr(sla, f"{target}_met") if sla else None
               for target in ("first_response", "assignment", "resolution")},
            "first_response_s": hours_to(response), "assignment_s": hours_to(assignment),
            "resolution_s": hours_to(done or ([ticket.done_at] if ticket.done_at else [])),  # done_at: imported tickets
            "responsible": next(
                (o.employee_id for o in sorted(ticket.offers, key=lambda o: o.id)
                 if o.state in (OfferState.ACCEPTED, OfferState.ASSIGNED)), None,
            ),
        }
    return facts


def nearest_rank(values, fraction):
    """Nearest-rank percentile, written out again."""
    if not values:
        return None
    ordered = sorted(values)
    rank = math.ceil(fraction * len(ordered))
    return ordered[rank - 1] if rank >= 1 else ordered[0]


def expected_figures(facts, filters, now):
    """What each figure must show for `filters`, from the brute-force facts."""
    def selected(fact):
        return all(
            wanted is None or fact[key] == wanted
            for key, wanted in (("template", filters.template_id), ("customer", filters.customer_id),
                                ("group", filters.group_id))
        )

    rows = [fact for fact in facts.values() if selected(fact)]
    in_range = lambda day: day is not None and filters.start <= day <= filters.end
    created, closed = Counter(), Counter()
    for fact in rows:
        if in_range(fact["created_day"]):
            created[figures.period_start(fact["created_day"], filters.period)] += 1
        if in_range(fact["closed_day"]):
            closed[figures.period_start(fact["closed_day"], filters.period)] += 1
    starts = figures.periods(filters)
    expected = {
        "created": [created[start] for start in starts],
        "closed": [closed[start] for start in starts],
    }
    backlog = defaultdict(lambda: [0] * len(figures.AGE_BUCKETS))
    today = local_day(now)
    for fact in rows:
        if fact["status"] in figures.BACKLOG_STATUSES:
            age = (today - fact["created_day"]).days
            limits = [days for days, _label in figures.AGE_BUCKETS if days is not None]
            position = next((i for i, days in enumerate(limits) if age < days), len(limits))
            backlog[fact["status"]][position] += 1
    expected["backlog"] = [backlog[status] for status in figures.BACKLOG_STATUSES]
    made = [fact for fact in rows if in_range(fact["created_day"])]
    hours = lambda seconds: None if seconds is None else reports.shown_tenths(seconds) / 10
    columns = [[fact[name] for fact in made if fact[name] is not None] for name in figures.DURATIONS]
    expected["median"] = [hours(nearest_rank(values, 0.5)) for values in columns]
    expected["p90"] = [hours(nearest_rank(values, 0.9)) for values in columns]
    expected["counted"] = [len(values) for values in columns]
    met = [sum(1 for fact in made if fact[f"sla_{target}"] is True) for target in SLA]
    missed = [sum(1 for fact in made if fact[f"sla_{target}"] is False) for target in SLA]
    expected["sla"] = (met, missed, [round(100 * a / (a + b), 1) if a + b else None for a, b in zip(met, missed)])
    rated = [fact for fact in rows if in_range(fact["rated_day"]) and fact["score"]]
    expected["distribution"] = [sum(1 for fact in rated if fact["score"] == score) for score in range(1, 6)]
    devices = Counter(fact["device"] for fact in made)
    expected["top_devices"] = sorted(devices.values(), reverse=True)[: figures.TOP_DEVICES]

    def per(key):
        result = {}
        for fact in rated:
            result.setdefault(fact[key] or None, []).append(fact["score"])
        return {value: (len(scores), round(sum(scores) / len(scores), 2)) for value, scores in result.items()}

    expected["ratings"] = {name: per(key) for name, key in (
        ("template", "template"), ("customer", "customer"), ("group", "group"), ("device", "device"),
        ("employee", "responsible"),
    )}
    by_device = expected["ratings"]["device"]  # the report lists the devices with most ratings only
    top = sorted(by_device, key=lambda device: (-by_device[device][0], device))[: figures.TOP_DEVICES]
    expected["ratings"]["device"] = {device: by_device[device] for device in top}
    return expected


def shown_ratings(table, names_to_ids):
    """{id: (count, average)} of a ratings table (names mapped back to ids)."""
    return {names_to_ids.get(row[0]): (row[1], row[2]) for row in table.rows}


def check_figures(filters, now):
    """The report for `filters` equals the brute-force figures."""
    expected = expected_figures(brute_force_facts(), filters, now)
    report = figures.build(filters, now=now)
    series = {chart.name: chart for chart in report.charts}
    assert series["created-closed"].series[0][1] == expected["created"]
    assert series["created-closed"].series[1][1] == expected["closed"]
    assert [values for _name, values in series["backlog"].series] == expected["backlog"]
    durations = series["durations"]
    assert durations.series[0][1] == expected["median"]
    assert durations.series[1][1] == expected["p90"]
    assert durations.table_only[0][1] == expected["counted"]
    sla = series["sla-attainment"]
    assert (sla.table_only[0][1], sla.table_only[1][1], sla.series[0][1]) == expected["sla"]
    assert series["rating-distribution"].series[0][1] == expected["distribution"]
    assert series["top-devices"].series[0][1] == expected["top_devices"]
    from app.models import Device, Employee, Group, Template

    names = {}
    for model in (Template, Customer, Device, Employee):
        names.update({row.name: row.id for row in db.session.scalars(sa.select(model))})
    for group in db.session.scalars(sa.select(Group)):
        names[f"{group.template.name} · {group.name}"] = group.id
    for dimension in ("template", "customer", "group", "device", "employee"):
        table = report.figure(f"ratings-{dimension}")
        assert shown_ratings(table, names) == expected["ratings"][dimension], dimension


def stored_report_data():
    """Everything in the report tables, comparable across a rebuild."""
    facts = [tuple(row) for row in db.session.execute(sa.select(ReportTicketFacts.__table__).order_by("ticket_id"))]
    days = db.session.execute(
        sa.select(ReportDay.day, ReportDay.template_id, ReportDay.customer_id, ReportDay.group_id,
                  *[ReportDay.__table__.c[name] for name in reports.DAY_COUNTS])
    ).all()
    nonzero = sorted(tuple(row) for row in days if any(row[4:]))
    return facts, nonzero


@settings(max_examples=6, derandomize=True, deadline=None, phases=[Phase.explicit, Phase.generate],
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(scripts=st.lists(script, min_size=1, max_size=4))
def test_report_figures_equal_a_brute_force_recomputation(world, scripts):
    """Tickets created and worked on through the services at generated times (across a DST change): every
    figure, unfiltered and filtered, equals the figures recomputed from the raw rows, and the data kept on write
    equals a rebuild from scratch."""
    for device_index, offset, steps in scripts:
        moment = EPOCH + timedelta(minutes=offset)
        device = world.devices[device_index]
        with time_machine.travel(moment, tick=False):
            ticket = make_ticket(world.flows[device.template_id], device, world.visitor)
        for action, minutes in steps:
            moment += timedelta(minutes=minutes)
            with time_machine.travel(moment, tick=False):
                world.run(action, ticket)
    now = EPOCH + timedelta(days=30)
    first, last = local_day(EPOCH), local_day(now)
    press = world.devices[0]
    cases = [
        figures.ReportFilters(first, last),
        figures.ReportFilters(first, last, period="week"),
        figures.ReportFilters(local_day(EPOCH + timedelta(days=6)), local_day(EPOCH + timedelta(days=12)), period="month"),
        figures.ReportFilters(date(2026, 3, 1), date(2026, 4, 30)),  # two whole months: durations from monthly counts
        figures.ReportFilters(date(2026, 3, 25), date(2026, 5, 2)),  # April whole, days before and after it
        figures.ReportFilters(first, last, template_id=press.template_id),
        figures.ReportFilters(first, last, customer_id=press.customer_id),
        figures.ReportFilters(first, last, group_id=world.flows[press.template_id].template.groups[0].id),
    ]
    with time_machine.travel(now, tick=False):
        for filters in cases:
            check_figures(filters, now)
        kept = stored_report_data()
        reports.rebuild()
        assert stored_report_data() == kept


@pytest.mark.parametrize(("seconds", "tenths"), [
    (0, 0), (359, 0), (360, 1), (35999, 99), (36000, 100), (50040, 130), (359999, 990), (360000, 1000),
    (541800, 1500), (5418000, 15000), (3600 * 12345, 120000),
])
def test_durations_are_shown_rounded_down_to_two_significant_digits(seconds, tenths):
    """0.1 h below 10 h, whole hours below 100 h, then two significant digits; always rounded down."""
    assert reports.shown_tenths(seconds) == tenths


def test_deleting_a_ticket_takes_it_out_of_the_counts(world):
    """A moderator deletes a ticket: the day counts no longer include it."""
    ticket = make_ticket(world.flows[world.devices[0].template_id], world.devices[0], world.visitor)
    day = db.session.scalar(sa.select(sa.func.sum(ReportDay.created)))
    assert day == 1
    tickets.delete_ticket(ticket, actor=world.moderator, confirmed=True)
    assert db.session.scalar(sa.select(sa.func.sum(ReportDay.created))) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ReportTicketFacts)) == 0


def test_autoclose_counts_the_ticket_as_closed(world):
    """A DONE ticket nobody rated is closed by the clock: it counts as closed that day."""
    ticket = make_ticket(world.flows[world.devices[0].template_id], world.devices[0], world.visitor)
    offers.accept_offer(ticket, actor=world.ben)
    tickets.fire_event(ticket, "finish", actor=world.ben)
    with time_machine.travel(datetime.now(UTC) + timedelta(days=20), tick=False):
        assert tickets.autoclose_done_tickets(14) == 1
        closed_day = local_day(datetime.now(UTC))
    assert db.session.scalar(sa.select(ReportDay.closed).where(ReportDay.day == closed_day)) == 1


@pytest.fixture
def staff(app):
    """A member and a moderator."""
    return make_employee(Role.MEMBER, name="Mia"), make_employee(Role.MODERATOR, name="Max")


def test_moderator_reads_the_reports_with_charts_tables_and_csv(client, login, staff):
    """The report page shows six charts, each with a table and a CSV link; nav-reports leads there."""
    _member, moderator = staff
    login(moderator)
    home = client.get("/").get_data(as_text=True)
    assert 'data-testid="nav-reports"' in home
    page = client.get("/reports?start=2026-11-01&end=2026-11-30&period=week")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert html.count('data-testid="report-chart"') == 6
    assert html.count('data-testid="report-csv"') == 6
    assert 'value="2026-11-01"' in html
    csv = client.get("/reports/created-closed.csv?start=2026-11-01&end=2026-11-30&period=week")
    assert csv.status_code == 200 and csv.mimetype == "text/csv"
    lines = csv.get_data(as_text=True).lstrip("\ufeff").splitlines()
    assert len(lines) == 1 + 6  # header plus the six ISO weeks touching November 2026 (W44 to W49)
    assert lines[1].startswith("2026-W44,0,0")


def test_htmx_gets_only_the_report_body(client, login, staff, as_htmx):
    """The filter form swaps the report body only."""
    login(staff[1])
    html = client.get("/reports?start=2026-11-01", headers=as_htmx).get_data(as_text=True)
    assert html.lstrip().startswith('<div id="report-body"')
    assert "report-filters" not in html


def test_member_cannot_open_reports(client, login, staff):
    """Members get 403 and no nav-reports; anonymous visitors are sent to log in."""
    assert client.get("/reports").status_code == 302
    login(staff[0])
    assert 'data-testid="nav-reports"' not in client.get("/").get_data(as_text=True)
    assert client.get("/reports").status_code == 403
    assert client.get("/reports/backlog.csv").status_code == 403


@pytest.mark.parametrize("query", [
    "start=2026-13-01", "start=x&end=y", "end=1900-01-01&start=9999-12-30", "template=abc&customer=-1&group=99999999999",
    "period=year", "start=0001-01-01",
])
def test_bad_filters_fall_back_to_defaults(client, login, staff, query):
    """Filters that name no day, id or period are ignored, never an error."""
    login(staff[1])
    assert client.get(f"/reports?{query}").status_code == 200
    assert client.get(f"/reports/durations.csv?{query}").status_code == 200


def test_unknown_figure_is_not_found(client, login, staff):
    """Only the figures the page links to can be downloaded."""
    login(staff[1])
    assert client.get("/reports/tickets.csv").status_code == 404
