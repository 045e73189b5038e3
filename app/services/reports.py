"""Report data kept current on write: per-ticket facts and daily counts (app/models/report.py).

Every write to a ticket goes through `ticket_changes.commit_ticket` (and the messenger's own commit); both call
`sync_ticket` just before committing, in the same transaction. `sync_ticket` recomputes the ticket's facts from
its raw rows and moves the daily counts by the difference between the old and the new facts, so a reopened,
re-closed or re-rated ticket is counted where it stands now. `rebuild` recomputes everything from the raw rows
(`flask --app wsgi reports rebuild`; after bulk imports and after the organisation's zone changed).

Definitions (the figures the reports show; tests/test_reports.py recomputes them from raw rows):
- created: the ticket's `created_at` (its submission), on the local day of the organisation's zone.
- closed: the ticket's current `closed_at` (CLOSED or CANCELLED; a reopened ticket is not closed).
- first response: the earliest of a staff message, a staff update, an offer accepted or an assignment, or a status
  change by an employee; assignment: the earliest offer accepted or assignment, or the first move out of OPEN to
  ASSIGNED, IN_PROGRESS or DONE; resolution: the first move to DONE (else `done_at`). Seconds after `created_at`,
  never negative.
- employee: the first (by offer) of the employees responsible for the ticket now (accepted or assigned).
- service levels: whether each target (first response, assignment, resolution) was reached in time, as the
  ticket's clocks say (`ticket_slas.*_met`); counted on the day the ticket was created.
- rating: the ticket's `rating_score` (the latest rating counts), on the local day of its latest rating (tickets
  rated before rating history existed: of `closed_at`).
"""
from collections import Counter
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from app import time_zones
from app.enums import RESPONSIBLE_STATES, GroupKind
from app.extensions import db
from app.models import (
    Flow,
    Group,
    Message,
    Offer,
    Rating,
    ReportDay,
    ReportDurationMonth,
    ReportTicketFacts,
    Ticket,
    TicketEvent,
    TicketSla,
    Update,
)
from app.workflow import TicketStatus

DURATIONS = ("first_response_s", "assignment_s", "resolution_s")  # metric 0, 1, 2 of ReportDurationMonth
REBUILD_CHUNK = 5000  # tickets per batch of `rebuild`
DAY_COUNTS = (
    "created", "closed", "rated", "rating_sum", "rating_1", "rating_2", "rating_3", "rating_4", "rating_5",
    "backlog_open", "backlog_assigned", "backlog_in_progress",
    "sla_met_first_response", "sla_missed_first_response", "sla_met_assignment", "sla_missed_assignment",
    "sla_met_resolution", "sla_missed_resolution",
)
SLA_TARGETS = ("first_response", "assignment", "resolution")
BACKLOG_STATUSES = ("OPEN", "ASSIGNED", "IN_PROGRESS")  # counted by creation day in backlog_<status>
FACT_COLUMNS = tuple(column.name for column in ReportTicketFacts.__table__.columns)
RESPONSE_STATES = ("ACCEPTED", "ASSIGNED")
LEFT_OPEN = ("ASSIGNED", "IN_PROGRESS", "DONE")


def report_zone():
    """The zone whose local days the report data counts in: the organisation's (an IANA name)."""
    return time_zones.organisation_zone()


def fleet_groups():
    """({flow id: fleet group id}, {template id: default fleet group id}): two small queries. A ticket's group is
    its flow's fleet group, else its template's default one (see `group_of`)."""
    by_flow = dict(db.session.execute(sa.select(Flow.id, Flow.fleet_group_id)).all())
    by_template = {}
    rows = db.session.execute(
        sa.select(Group.template_id, Group.id).where(Group.kind == GroupKind.FLEET).order_by(Group.position, Group.id)
    )
    for template_id, group_id in rows:
        by_template.setdefault(template_id, group_id)
    return by_flow, by_template


def group_of(groups, flow_id, template_id):
    """The fleet group id (or None) a ticket of `flow_id` and `template_id` counts under; `groups` from
    fleet_groups()."""
    by_flow, by_template = groups
    return by_flow.get(flow_id) or by_template.get(template_id)


def compute_facts(first_id, last_id, zone_name=None):
    """Facts rows (dicts with FACT_COLUMNS) of the submitted tickets with ids `first_id`..`last_id` (both included),
    from the raw rows as they are in the session now (flushed). A handful of grouped queries per call."""
    zone = ZoneInfo(zone_name or report_zone())
    in_range = lambda column: column.between(first_id, last_id)
    tickets = db.session.execute(
        sa.select(
            Ticket.id, Ticket.template_id, Ticket.customer_id, Ticket.device_id, Ticket.flow_id, Ticket.status,
            Ticket.created_at, Ticket.closed_at, Ticket.done_at, Ticket.rating_score,
        ).where(in_range(Ticket.id), Ticket.status != TicketStatus.DRAFT)
    ).all()
    if not tickets:
        return []

    def earliest(model, *conditions):
        """{ticket id: earliest created_at of `model` rows matching `conditions`}."""
        query = sa.select(model.ticket_id, sa.func.min(model.created_at)).where(in_range(model.ticket_id), *conditions)
        return dict(db.session.execute(query.group_by(model.ticket_id)).all())

    staff_message = earliest(Message, Message.author_employee_id.is_not(None))
    staff_update = earliest(Update, Update.author_employee_id.is_not(None))
    accepted = earliest(
        TicketEvent, TicketEvent.kind.in_(("offer", "assignment")), TicketEvent.after.in_(RESPONSE_STATES)
    )
    staff_status = earliest(TicketEvent, TicketEvent.kind == "status", TicketEvent.actor_employee_id.is_not(None))
    left_open = earliest(
        TicketEvent, TicketEvent.kind == "status", TicketEvent.before == "OPEN", TicketEvent.after.in_(LEFT_OPEN)
    )
    done = earliest(TicketEvent, TicketEvent.kind == "status", TicketEvent.after == "DONE")
    rated = _latest_ratings(in_range)
    responsible = {}
    for ticket_id, employee_id in db.session.execute(
        sa.select(Offer.ticket_id, Offer.employee_id)
        .where(in_range(Offer.ticket_id), Offer.state.in_(RESPONSIBLE_STATES)).order_by(Offer.id)
    ):
        responsible.setdefault(ticket_id, employee_id)
    slas = {
        row.ticket_id: row
        for row in db.session.execute(
            sa.select(TicketSla.ticket_id, *[getattr(TicketSla, f"{target}_met") for target in SLA_TARGETS])
            .where(in_range(TicketSla.ticket_id))
        )
    }
    groups = fleet_groups()
    return [
        facts_row(
            row.id, row.template_id, row.customer_id, row.device_id, row.status.name, row.created_at, row.closed_at,
            row.rating_score, zone=zone,
            group_id=group_of(groups, row.flow_id, row.template_id),
            employee_id=responsible.get(row.id),
            first_response=_first(staff_message, staff_update, accepted, staff_status, key=row.id),
            assignment=_first(accepted, left_open, key=row.id),
            resolution=done.get(row.id) or row.done_at,
            latest_rating_at=rated.get(row.id),
            sla_met=tuple(getattr(slas[row.id], f"{target}_met") for target in SLA_TARGETS) if row.id in slas else None,
        )
        for row in tickets
    ]


def facts_row(ticket_id, template_id, customer_id, device_id, status, created_at, closed_at, rating_score, *, zone,
              group_id, employee_id, first_response, assignment, resolution, latest_rating_at, sla_met=None):
    """The facts row (a dict with FACT_COLUMNS) of one submitted ticket.

    `status` is the TicketStatus name; times are aware datetimes (or None): `first_response`, `assignment`,
    `resolution` the moments those were reached (as compute_facts defines them), `latest_rating_at` the time of
    the ticket's latest rating row (None: none, then `closed_at` dates a score). `zone` is a ZoneInfo, the local
    days are its; `sla_met` is (first response, assignment, resolution) from the ticket's clocks, or None without
    clocks. Bulk imports that know these moments call it directly instead of reading rows back."""
    rated_at = (latest_rating_at or closed_at) if rating_score else None
    first_response_met, assignment_met, resolution_met = sla_met or (None, None, None)
    return {
        "ticket_id": ticket_id,
        "template_id": template_id,
        "customer_id": customer_id,
        "group_id": group_id,
        "device_id": device_id,
        "employee_id": employee_id,
        "status": status,
        "created_at": created_at,
        "created_day": created_at.astimezone(zone).date(),
        "closed_day": closed_at.astimezone(zone).date() if closed_at else None,
        "rated_day": rated_at.astimezone(zone).date() if rated_at else None,
        "rating_score": rating_score if rated_at else None,
        "sla_first_response": first_response_met,
        "sla_assignment": assignment_met,
        "sla_resolution": resolution_met,
        "first_response_s": _seconds(created_at, first_response),
        "assignment_s": _seconds(created_at, assignment),
        "resolution_s": _seconds(created_at, resolution),
    }


def _latest_ratings(in_range):
    """{ticket id: created_at of its latest rating}."""
    query = sa.select(Rating.ticket_id, sa.func.max(Rating.created_at)).where(in_range(Rating.ticket_id))
    return dict(db.session.execute(query.group_by(Rating.ticket_id)).all())


def _first(*sources, key):
    """The earliest time any of `sources` ({ticket id: time}) holds for `key`, or None."""
    times = [source[key] for source in sources if source.get(key) is not None]
    return min(times) if times else None


def _seconds(start, end):
    """Whole seconds from `start` to `end` (never negative), None without `end`."""
    if end is None:
        return None
    return max(0, int((end - start).total_seconds()))


def shown_tenths(seconds):
    """A duration as the reports show it, in tenths of an hour, rounded down: to 0.1 h below 10 h, to whole hours
    below 100 h, then to two significant digits (100 h, 110 h, …, 1,000 h, 1,100 h, …). Never decreasing in
    `seconds`, so the percentile of the shown values is the shown value of the percentile."""
    tenths = seconds // 360
    unit = 1 if tenths < 100 else 10
    while tenths >= unit * 100:
        unit *= 10
    return tenths - tenths % unit


def month_of(day):
    """The first day of the month `day` lies in."""
    return day.replace(day=1)


def _duration_items(facts):
    """(month, metric, shown tenths) of each duration one facts row adds to the monthly duration counts."""
    month = month_of(facts["created_day"])
    for metric, name in enumerate(DURATIONS):
        if facts[name] is not None:
            yield month, metric, shown_tenths(facts[name])


def _day_items(facts):
    """(day, count name, amount) of each daily count one facts row adds to (under the row's dimensions)."""
    yield facts["created_day"], "created", 1
    if facts["status"] in BACKLOG_STATUSES:
        yield facts["created_day"], f"backlog_{facts['status'].lower()}", 1
    if facts["closed_day"] is not None:
        yield facts["closed_day"], "closed", 1
    for target in SLA_TARGETS:
        met = facts[f"sla_{target}"]
        if met is not None:
            yield facts["created_day"], f"sla_{'met' if met else 'missed'}_{target}", 1
    score = facts["rating_score"]
    if facts["rated_day"] is not None and score:
        for name, value in (("rated", 1), ("rating_sum", score), (f"rating_{score}", 1)):
            yield facts["rated_day"], name, value


def _day_key(facts):
    """(template id, customer id or 0, group id or 0): the dimensions a facts row is counted under."""
    return facts["template_id"], facts["customer_id"] or 0, facts["group_id"] or 0


def duration_contributions(facts):
    """Counter {(month, metric, shown tenths): n} one facts row adds to the monthly duration counts."""
    return Counter(_duration_items(facts)) if facts else Counter()


def day_contributions(facts):
    """Counter {(day, template id, customer id or 0, group id or 0, count name): n} one facts row adds to the
    daily counts."""
    counts = Counter()
    if facts:
        key = _day_key(facts)
        for day, name, value in _day_items(facts):
            counts[(day, *key, name)] += value
    return counts


DAY_KEYS = ("day", "template_id", "customer_id", "group_id")
MONTH_KEYS = ("month", "metric", "tenths")
_DAY_INDEX = {name: index for index, name in enumerate(DAY_COUNTS)}


class ReportCounts:
    """Daily and monthly counts summed up from many facts rows (rebuild, bulk imports), to be written at once by
    `add_counts`. Memory grows with the days, dimensions and durations met, not with the tickets."""

    def __init__(self):
        """Start from zero."""
        self.days = {}  # (day, template id, customer id, group id) -> [n per DAY_COUNTS]
        self.months = Counter()  # (month, metric, tenths) -> tickets

    def add(self, facts):
        """Count one facts row (a dict as compute_facts and facts_row make)."""
        key = _day_key(facts)
        days = self.days
        for day, name, value in _day_items(facts):
            row = days.get((day, *key))
            if row is None:
                row = days[(day, *key)] = [0] * len(DAY_COUNTS)
            row[_DAY_INDEX[name]] += value
        self.months.update(_duration_items(facts))

    def __bool__(self):
        """Whether anything was counted."""
        return bool(self.days or self.months)


def add_counts(counts, connection=None):
    """Add a ReportCounts to the stored daily and monthly counts on `connection` (a SQLAlchemy Connection; the
    session's by default): rows that exist are added to, missing ones inserted; one statement per table. No commit."""
    connection = connection if connection is not None else db.session.connection()
    insert = _upsert_insert(connection.dialect.name)
    for table, keys, names, rows in (
        (ReportDay.__table__, DAY_KEYS, DAY_COUNTS,
         [dict(zip(DAY_KEYS, key, strict=True)) | dict(zip(DAY_COUNTS, values, strict=True))
          for key, values in counts.days.items()]),
        (ReportDurationMonth.__table__, MONTH_KEYS, ("tickets",),
         [dict(zip(MONTH_KEYS, key, strict=True)) | {"tickets": n} for key, n in counts.months.items() if n]),
    ):
        if rows:
            statement = insert(table)
            statement = statement.on_conflict_do_update(
                index_elements=list(keys), set_={name: table.c[name] + statement.excluded[name] for name in names},
            )
            connection.execute(statement, rows)


def _stored_facts(ticket_id):
    """The stored facts row of a ticket as a dict, or None."""
    row = db.session.execute(
        sa.select(ReportTicketFacts.__table__).where(ReportTicketFacts.ticket_id == ticket_id)
    ).mappings().first()
    return dict(row) if row else None


def _upsert_counts(table, keys, counts, deltas):
    """Add `deltas` {(*key values, count name): n} (possibly negative) to `table`'s rows keyed by the `keys`
    columns: one upsert per touched row; concurrent writers add, never overwrite."""
    grouped = {}
    for (*key, name), value in deltas.items():
        if value:
            grouped.setdefault(tuple(key), {})[name] = value
    insert = _upsert_insert(db.session.get_bind().dialect.name)
    for key, values in grouped.items():
        row = dict(zip(keys, key, strict=True)) | {name: 0 for name in counts} | values
        statement = insert(table).values(**row)
        statement = statement.on_conflict_do_update(
            index_elements=list(keys), set_={name: table.c[name] + statement.excluded[name] for name in values},
        )
        db.session.execute(statement)


def _upsert_insert(dialect):
    """The dialect's INSERT with ON CONFLICT; imported here, so a SQLite process never loads the PostgreSQL
    dialect (about 60 modules)."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert


def _apply_deltas(new, old):
    """Move the daily and monthly counts from what facts row `old` added to what `new` adds (either may be None)."""
    days = day_contributions(new)
    days.subtract(day_contributions(old))
    _upsert_counts(ReportDay.__table__, ("day", "template_id", "customer_id", "group_id"), DAY_COUNTS, days)
    months = Counter({(*key, "tickets"): n for key, n in duration_contributions(new).items()})
    months.subtract({(*key, "tickets"): n for key, n in duration_contributions(old).items()})
    _upsert_counts(ReportDurationMonth.__table__, ("month", "metric", "tenths"), ("tickets",), months)


def sync_ticket(ticket):
    """Bring the ticket's facts and the daily counts up to date in the session (no commit).

    Called by the services just before they commit a ticket change; drafts cost nothing. Flushes the session first
    so the ticket's new events, messages and ratings are read back."""
    if ticket.status == TicketStatus.DRAFT or ticket.id is None:
        return
    db.session.flush()
    new = next(iter(compute_facts(ticket.id, ticket.id)), None)
    old = _stored_facts(ticket.id)
    if new == old:
        return
    _apply_deltas(new, old)
    table = ReportTicketFacts.__table__
    if old is None:
        db.session.execute(sa.insert(table).values(**new))
    else:
        db.session.execute(sa.update(table).where(table.c.ticket_id == ticket.id).values(**new))


def forget_ticket(ticket_id):
    """Take a ticket about to be deleted out of the daily counts and drop its facts (no commit)."""
    old = _stored_facts(ticket_id)
    if old is None:
        return
    _apply_deltas(None, old)
    db.session.execute(sa.delete(ReportTicketFacts.__table__).where(ReportTicketFacts.ticket_id == ticket_id))


def needs_rebuild():
    """True when tickets exist but no report data does: an installation upgraded to the report tables (they start
    empty) before its first rebuild."""
    has_facts = db.session.scalar(sa.select(ReportTicketFacts.ticket_id).limit(1)) is not None
    return not has_facts and db.session.scalar(sa.select(Ticket.id).limit(1)) is not None


def rebuild(*, chunk=REBUILD_CHUNK):
    """Recompute all report data from the raw rows and commit; returns the number of tickets counted.

    Runs in batches of `chunk` ticket ids (bounded memory); at 100,000 tickets it takes some seconds."""
    db.session.execute(sa.delete(ReportTicketFacts.__table__))
    db.session.execute(sa.delete(ReportDay.__table__))
    db.session.execute(sa.delete(ReportDurationMonth.__table__))
    first, last = db.session.execute(sa.select(sa.func.min(Ticket.id), sa.func.max(Ticket.id))).one()
    zone_name = report_zone()
    counts = ReportCounts()
    counted = 0
    for start in range(first or 0, (last or -1) + 1, chunk):
        facts = compute_facts(start, start + chunk - 1, zone_name)
        if facts:
            db.session.execute(sa.insert(ReportTicketFacts.__table__), facts)
        for row in facts:
            counts.add(row)
        counted += len(facts)
    add_counts(counts)
    db.session.commit()
    return counted
