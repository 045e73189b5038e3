"""The figures of the reports, read from the report tables only (app/models/report.py), never from tickets.

Days are local days of the organisation's zone (the zone the report data counts in). Every figure is a `Chart`
or `Table`: the same rows feed the chart, its table view and its CSV export.
"""
import math
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app import labels, time_zones
from app.enums import GroupKind
from app.extensions import db
from app.ids import parse_date, parse_id
from app.models import (
    Customer,
    Device,
    Employee,
    Group,
    Rating,
    ReportDay,
    ReportDurationMonth,
    ReportTicketFacts,
    Template,
)
from app.services.reports import DURATIONS, SLA_TARGETS, report_zone, shown_tenths
from app.workflow import TicketStatus

DEFAULT_DAYS = 30  # the range shown first: the last 30 local days, today included
MAX_DAYS = 3700  # about ten years; longer ranges are cut to this
FIRST_DAY, LAST_DAY = date(1970, 1, 1), date(2999, 12, 31)  # days outside are no filter (the default applies)
PERIODS = ("day", "week", "month")
# (upper limit in days, exclusive; label): ages in whole local days since the creation day
AGE_BUCKETS = ((1, _l("today")), (3, _l("1–2 days")), (7, _l("3–6 days")), (30, _l("7–29 days")), (None, _l("30 days or more")))
BACKLOG_STATUSES = (TicketStatus.OPEN, TicketStatus.ASSIGNED, TicketStatus.IN_PROGRESS)
TOP_DEVICES = 10
LATEST_COMMENTS = 5


@dataclass
class ReportFilters:
    """What the reader filters by: local days `start`..`end` (both included), template, customer, fleet group and
    the period the time series counts in ("day", "week" or "month")."""

    start: date
    end: date
    template_id: int | None = None
    customer_id: int | None = None
    group_id: int | None = None
    period: str = "day"

    @classmethod
    def from_args(cls, args, today=None):
        """Read the filters from request.args; what does not fit falls back to the defaults (never an error)."""
        today = today or time_zones.local_today(report_zone())
        end = _day(args.get("end")) or today
        start = _day(args.get("start")) or end - timedelta(days=DEFAULT_DAYS - 1)
        if start > end:
            start, end = end, start
        start = max(start, end - timedelta(days=MAX_DAYS - 1))
        period = args.get("period")
        return cls(
            start=start,
            end=end,
            template_id=parse_id(args.get("template")),
            customer_id=parse_id(args.get("customer")),
            group_id=parse_id(args.get("group")),
            period=period if period in PERIODS else "day",
        )

    def to_args(self):
        """The URL query for these filters, leaving empty ones out."""
        values = {
            "start": self.start.isoformat(), "end": self.end.isoformat(), "template": self.template_id,
            "customer": self.customer_id, "group": self.group_id, "period": self.period,
        }
        return {key: value for key, value in values.items() if value not in ("", None)}

    def dimensions(self, table):
        """WHERE conditions for the template, customer and group filters on `table` (facts or daily rows)."""
        conditions = []
        for name in ("template_id", "customer_id", "group_id"):
            value = getattr(self, name)
            if value is not None:
                conditions.append(table.c[name] == value)
        return conditions


def _day(text):
    """The date `text` spells (YYYY-MM-DD) between FIRST_DAY and LAST_DAY, else None."""
    day = parse_date(text)
    return day if day is not None and FIRST_DAY <= day <= LAST_DAY else None


@dataclass
class Chart:
    """One figure: `labels` along the axis and `series` [(name, values)]; `kind` is "line" or "bar"; `unit` names
    the values (tickets, hours, ratings). `table_head` is the first column's heading."""

    name: str
    title: str
    kind: str
    labels: list
    series: list
    unit: str
    table_head: str
    stacked: bool = False
    horizontal: bool = False
    note: str = ""
    table_only: list = field(default_factory=list)  # [(name, values)] shown in the table and CSV, not drawn
    whole: bool = True  # the values are counts: the axis shows no fractions

    @property
    def headers(self):
        """Column headings of the table view and the CSV."""
        return [self.table_head, *[name for name, _values in [*self.series, *self.table_only]]]

    @property
    def rows(self):
        """One row per label: the label and each series' value."""
        columns = [values for _name, values in [*self.series, *self.table_only]]
        return [[label, *[values[index] for values in columns]] for index, label in enumerate(self.labels)]

    @property
    def is_empty(self):
        """No value above zero: the chart would show nothing."""
        return not any(value for _name, values in self.series for value in values if value)

    def spec(self):
        """What app/static/js/reports.js draws: JSON-able, read from the canvas' data-chart attribute."""
        return {
            "kind": self.kind, "labels": [str(label) for label in self.labels], "stacked": self.stacked,
            "horizontal": self.horizontal, "unit": self.unit, "whole": self.whole,
            "series": [{"name": str(name), "values": values} for name, values in self.series],
        }


@dataclass
class Table:
    """A figure shown as a table only (ratings per template, device, ...): `headers` and `rows`."""

    name: str
    title: str
    headers: list
    rows: list = field(default_factory=list)


def percentile(values, fraction):
    """Nearest-rank percentile of `values` (numbers): the smallest value with at least `fraction` of all values at or
    below it; None for no values. The median is percentile(values, 0.5)."""
    ordered = sorted(values)
    if not ordered:
        return None
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def period_start(day, period):
    """The first day of the period (day, ISO week from Monday, month) `day` lies in."""
    if period == "week":
        return day - timedelta(days=day.weekday())
    if period == "month":
        return day.replace(day=1)
    return day


def period_label(start, period):
    """How a period is named on the axis: 2026-11-30, 2026-W49 or 2026-11."""
    if period == "week":
        year, week, _weekday = start.isocalendar()
        return f"{year}-W{week:02d}"
    if period == "month":
        return f"{start.year}-{start.month:02d}"
    return start.isoformat()


def periods(filters):
    """The period starts from the filter's first to its last day, in order."""
    starts, day = [], period_start(filters.start, filters.period)
    while day <= filters.end:
        starts.append(day)
        if filters.period == "month":
            day = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
        else:
            day += timedelta(days=7 if filters.period == "week" else 1)
    return starts


def created_closed(filters):
    """Chart: tickets created and closed per period (daily rows summed)."""
    table = ReportDay.__table__
    rows = db.session.execute(
        sa.select(table.c.day, sa.func.sum(table.c.created), sa.func.sum(table.c.closed))
        .where(table.c.day.between(filters.start, filters.end), *filters.dimensions(table))
        .group_by(table.c.day)
    ).all()
    starts = periods(filters)
    index = {start: position for position, start in enumerate(starts)}
    created, closed = [0] * len(starts), [0] * len(starts)
    for day, made, finished in rows:
        position = index[period_start(day, filters.period)]
        created[position] += int(made or 0)
        closed[position] += int(finished or 0)
    return Chart(
        "created-closed", _("Tickets created and closed"), "line",
        [period_label(start, filters.period) for start in starts],
        [(_("Tickets created"), created), (_("Tickets closed"), closed)], _("Tickets"), _("Period"),
    )


def backlog(filters, today=None):
    """Chart: open tickets now by status and age in local days (today's date minus the creation day); the date
    range does not apply. Reads the daily rows (one per day and template, customer, group)."""
    today = today or time_zones.local_today(report_zone())
    table = ReportDay.__table__
    columns = [table.c[f"backlog_{status.name.lower()}"] for status in BACKLOG_STATUSES]
    rows = db.session.execute(
        sa.select(table.c.day, *[sa.func.sum(column) for column in columns])
        .where(sa.or_(*[column > 0 for column in columns]), *filters.dimensions(table))
        .group_by(table.c.day)
    ).all()
    counts = [[0] * len(AGE_BUCKETS) for _status in BACKLOG_STATUSES]
    for day, *per_status in rows:
        position = age_bucket((today - day).days)
        for index, count in enumerate(per_status):
            counts[index][position] += int(count or 0)
    return Chart(
        "backlog", _("Backlog by status and age"), "bar", [str(label) for _days, label in AGE_BUCKETS],
        [(str(labels.STATUS[status]), counts[index]) for index, status in enumerate(BACKLOG_STATUSES)],
        _("Tickets"), _("Age"), stacked=True, note=_("Open tickets now, by days since creation; the date range does not apply."),
    )


def age_bucket(days):
    """The position in AGE_BUCKETS of an age in whole local days."""
    return next((position for position, (limit, _label) in enumerate(AGE_BUCKETS) if limit is not None and days < limit),
                len(AGE_BUCKETS) - 1)


def next_month(day):
    """The first day of the month after `day`'s."""
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def whole_months(filters):
    """The first days of the months lying wholly inside the filter's days, in order."""
    month = filters.start if filters.start.day == 1 else next_month(filters.start)
    months = []
    while next_month(month) - timedelta(days=1) <= filters.end:
        months.append(month)
        month = next_month(month)
    return months


def tenths_percentile(histogram, fraction):
    """Nearest-rank percentile of a histogram {shown tenths: tickets}, or None when it is empty."""
    total = sum(histogram.values())
    if not total:
        return None
    rank, seen = max(1, math.ceil(fraction * total)), 0
    for tenths in sorted(histogram):
        seen += histogram[tenths]
        if seen >= rank:
            return tenths
    return None


def duration_histograms(filters):
    """[{shown tenths: tickets}] for first response, assignment and resolution of the tickets created in the range.

    Without template, customer or group filter, whole months come from the monthly counts (a few hundred rows
    each) and only the days before and after them from the facts; with one, from the facts (one covering index)."""
    table = ReportTicketFacts.__table__
    histograms = [Counter() for _name in DURATIONS]
    ranges = [(filters.start, filters.end)]
    months = [] if filters.dimensions(table) else whole_months(filters)
    if months:
        monthly = ReportDurationMonth.__table__
        rows = db.session.execute(
            sa.select(monthly.c.metric, monthly.c.tenths, sa.func.sum(monthly.c.tickets))
            .where(monthly.c.month.between(months[0], months[-1])).group_by(monthly.c.metric, monthly.c.tenths)
        )
        for metric, tenths, tickets in rows:
            histograms[metric][tenths] += int(tickets or 0)
        ranges = [(filters.start, months[0] - timedelta(days=1)), (next_month(months[-1]), filters.end)]
    for first, last in ranges:
        if first > last:
            continue
        rows = db.session.execute(
            sa.select(*[table.c[name] for name in DURATIONS])
            .where(table.c.created_day.between(first, last), *filters.dimensions(table))
        )
        for row in rows:
            for metric, seconds in enumerate(row):
                if seconds is not None:
                    histograms[metric][shown_tenths(seconds)] += 1
    return histograms


def durations(filters):
    """Chart: median and 90th percentile (hours, as `shown_tenths` rounds them) of first response, assignment and
    resolution of the tickets created in the range; the table also gives how many tickets each figure counts."""
    histograms = duration_histograms(filters)
    hours = lambda tenths: None if tenths is None else tenths / 10
    return Chart(
        "durations", _("Response, assignment and resolution times"), "bar",
        [_("First response"), _("Assignment"), _("Resolution")],
        [
            (_("Median (hours)"), [hours(tenths_percentile(histogram, 0.5)) for histogram in histograms]),
            (_("90th percentile (hours)"), [hours(tenths_percentile(histogram, 0.9)) for histogram in histograms]),
        ],
        _("Hours"), _("Time to"), note=_("Tickets created in the range; hours since creation."),
        table_only=[(_("Tickets counted"), [sum(histogram.values()) for histogram in histograms])], whole=False,
    )


def sla_attainment(filters):
    """Chart: the share (percent, one decimal) of the service-level targets reached in time, of the tickets created in
    the range whose target was reached; the table also gives how many were met and missed."""
    table = ReportDay.__table__
    sums = db.session.execute(
        sa.select(*[sa.func.sum(table.c[f"sla_{state}_{target}"]) for target in SLA_TARGETS for state in ("met", "missed")])
        .where(table.c.day.between(filters.start, filters.end), *filters.dimensions(table))
    ).one()
    met = [int(sums[2 * index] or 0) for index in range(len(SLA_TARGETS))]
    missed = [int(sums[2 * index + 1] or 0) for index in range(len(SLA_TARGETS))]
    shares = [round(100 * hit / (hit + miss), 1) if hit + miss else None for hit, miss in zip(met, missed, strict=True)]
    return Chart(
        "sla-attainment", _("Service levels met"), "bar", [_("First response"), _("Assignment"), _("Resolution")],
        [(_("Met in time (%)"), shares)], _("Percent"), _("Target"),
        note=_("Tickets created in the range whose target was reached, in time or late."),
        table_only=[(_("Met"), met), (_("Missed"), missed)], whole=False,
    )


def rating_distribution(filters):
    """Chart: how many ratings of each score (1–5) were given in the range."""
    table = ReportDay.__table__
    sums = db.session.execute(
        sa.select(*[sa.func.sum(table.c[f"rating_{score}"]) for score in range(1, 6)])
        .where(table.c.day.between(filters.start, filters.end), *filters.dimensions(table))
    ).one()
    return Chart(
        "rating-distribution", _("Ratings"), "bar", [_("%(score)d of 5", score=score) for score in range(1, 6)],
        [(_("Ratings"), [int(value or 0) for value in sums])], _("Ratings"), _("Score"),
    )


def top_devices(filters):
    """Chart: the ten devices with most tickets created in the range (ties: lower device id first)."""
    table = ReportTicketFacts.__table__
    count = sa.func.count().label("tickets")
    rows = db.session.execute(
        sa.select(table.c.device_id, count)
        .where(table.c.created_day.between(filters.start, filters.end), *filters.dimensions(table))
        .group_by(table.c.device_id).order_by(count.desc(), table.c.device_id).limit(TOP_DEVICES)
    ).all()
    names = _names(Device, [device_id for device_id, _count in rows])
    return Chart(
        "top-devices", _("Devices with most tickets"), "bar", [names.get(device_id, "–") for device_id, _n in rows],
        [(_("Tickets"), [n for _device_id, n in rows])], _("Tickets"), _("Device"), horizontal=True,
    )


def _names(model, ids):
    """{id: name} of `model` rows (templates, customers, devices, employees)."""
    if not ids:
        return {}
    return dict(db.session.execute(sa.select(model.id, model.name).where(model.id.in_(set(ids)))).all())


def _group_names(ids):
    """{group id: "template · group"}."""
    if not ids:
        return {}
    rows = db.session.execute(
        sa.select(Group.id, Template.name, Group.name).join(Template, Group.template_id == Template.id)
        .where(Group.id.in_(set(ids)))
    )
    return {group_id: f"{template} · {name}" for group_id, template, name in rows}


def _rating_rows(rows, names):
    """Table rows [name, count, average, n1..n5] from (key, count, sum, n1..n5) rows, most ratings first."""
    result = []
    for key, count, total, *scores in sorted(rows, key=lambda row: (-int(row[1] or 0), str(names.get(row[0], "")))):
        count = int(count or 0)
        if not count:
            continue
        average = round(int(total or 0) / count, 2)
        result.append([names.get(key, _("none")) if key else _("none"), count, average, *[int(n or 0) for n in scores]])
    return result


def _rating_headers(first):
    """Headings of a ratings table."""
    return [first, _("Ratings"), _("Average"), *[_("%(score)d of 5", score=score) for score in range(1, 6)]]


def ratings_by(filters, dimension):
    """Table: ratings given in the range per template, customer or fleet group (from the daily rows)."""
    table = ReportDay.__table__
    column = table.c[f"{dimension}_id"]
    rows = db.session.execute(
        sa.select(column, sa.func.sum(table.c.rated), sa.func.sum(table.c.rating_sum),
                  *[sa.func.sum(table.c[f"rating_{score}"]) for score in range(1, 6)])
        .where(table.c.day.between(filters.start, filters.end), table.c.rated > 0, *filters.dimensions(table))
        .group_by(column)
    ).all()
    keys = [row[0] for row in rows if row[0]]
    if dimension == "template":
        names, title, head = _names(Template, keys), _("Ratings per template"), _("Template")
    elif dimension == "customer":
        names, title, head = _names(Customer, keys), _("Ratings per customer"), _("Customer")
    else:
        names, title, head = _group_names(keys), _("Ratings per fleet group"), _("Fleet group")
    return Table(f"ratings-{dimension}", title, _rating_headers(head), _rating_rows(rows, names))


def _score_sums(column):
    """count, sum and the five per-score counts of a ratings column, as SELECT expressions."""
    return [sa.func.count(column), sa.func.sum(column),
            *[sa.func.sum(sa.case((column == score, 1), else_=0)) for score in range(1, 6)]]


def ratings_by_device(filters):
    """Table: ratings given in the range for the ten devices with most ratings."""
    table = ReportTicketFacts.__table__
    count = sa.func.count(table.c.rating_score)
    rows = db.session.execute(
        sa.select(table.c.device_id, *_score_sums(table.c.rating_score))
        .where(table.c.rated_day.between(filters.start, filters.end), table.c.rating_score.is_not(None),
               *filters.dimensions(table))
        .group_by(table.c.device_id).order_by(count.desc(), table.c.device_id).limit(TOP_DEVICES)
    ).all()
    names = _names(Device, [row[0] for row in rows])
    return Table("ratings-device", _("Ratings per device (ten with most ratings)"), _rating_headers(_("Device")),
                 _rating_rows(rows, names))


def ratings_by_employee(filters):
    """Table: ratings given in the range per employee responsible for the ticket (the first by offer of those
    accepted or assigned)."""
    table = ReportTicketFacts.__table__
    rows = db.session.execute(
        sa.select(table.c.employee_id, *_score_sums(table.c.rating_score))
        .where(table.c.rated_day.between(filters.start, filters.end), table.c.rating_score.is_not(None),
               *filters.dimensions(table))
        .group_by(table.c.employee_id)
    ).all()
    names = _names(Employee, [row[0] for row in rows])
    return Table("ratings-employee", _("Ratings per employee"), _rating_headers(_("Employee")),
                 _rating_rows(rows, names))


def latest_comments(filters):
    """Table: the latest rating comments given in the range (newest first)."""
    table = ReportTicketFacts.__table__
    start, end = time_zones.local_days(filters.start, filters.end, report_zone())
    rows = db.session.execute(
        sa.select(Rating.created_at, Rating.ticket_id, Rating.score, Rating.comment)
        .join(table, table.c.ticket_id == Rating.ticket_id)
        .where(Rating.comment != "", Rating.created_at >= start, Rating.created_at < end, *filters.dimensions(table))
        .order_by(Rating.id.desc()).limit(LATEST_COMMENTS)
    ).all()
    return rows


@dataclass
class Report:
    """Every figure of one report page."""

    filters: ReportFilters
    charts: list
    tables: list
    comments: list
    zone: str

    def figure(self, name):
        """The chart or table called `name`, or None."""
        return next((figure for figure in [*self.charts, *self.tables] if figure.name == name), None)


def build(filters, now=None):
    """All figures for `filters` (about a dozen indexed queries on the report tables)."""
    today = now.astimezone(ZoneInfo(report_zone())).date() if now else None
    charts = [created_closed(filters), backlog(filters, today), durations(filters), sla_attainment(filters),
              rating_distribution(filters),
              top_devices(filters)]
    tables = [ratings_by(filters, "template"), ratings_by_device(filters), ratings_by(filters, "customer"),
              ratings_by(filters, "group"), ratings_by_employee(filters)]
    return Report(filters, charts, tables, latest_comments(filters), report_zone())


def filter_choices():
    """(templates, customers, fleet groups) as (id, name) lists for the filter form."""
    templates = db.session.execute(sa.select(Template.id, Template.name).order_by(Template.name)).all()
    customers = db.session.execute(sa.select(Customer.id, Customer.name).order_by(Customer.name)).all()
    groups = db.session.execute(
        sa.select(Group.id, Template.name, Group.name).join(Template, Group.template_id == Template.id)
        .where(Group.kind == GroupKind.FLEET).order_by(Template.name, Group.position, Group.id)
    ).all()
    return templates, customers, [(group_id, f"{template} · {name}") for group_id, template, name in groups]


FIGURES = {
    "created-closed": created_closed,
    "backlog": backlog,
    "durations": durations,
    "sla-attainment": sla_attainment,
    "rating-distribution": rating_distribution,
    "top-devices": top_devices,
    "ratings-template": lambda filters: ratings_by(filters, "template"),
    "ratings-device": ratings_by_device,
    "ratings-customer": lambda filters: ratings_by(filters, "customer"),
    "ratings-group": lambda filters: ratings_by(filters, "group"),
    "ratings-employee": ratings_by_employee,
}
FIGURE_NAMES = tuple(FIGURES)


def one_figure(name, filters):
    """The chart or table called `name` (one of FIGURE_NAMES) for `filters`; KeyError for other names."""
    return FIGURES[name](filters)
