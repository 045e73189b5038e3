"""The tickets overview: filters read from the URL, one query per page, a capped count, keyset paging.

Pages after the first are reached by a keyset cursor (`after`/`before`: the sort value and number of the row next
to the page) rather than an OFFSET, so page 20,000 costs what page 2 costs and a ticket created meanwhile neither
repeats nor skips a row. A bare `page=N` (a typed or bookmarked URL) still works by OFFSET within the counted part
(COUNT_CAP rows).
"""
import operator
from dataclasses import dataclass, field
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import selectinload
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import UnaryExpression

from app import time_zones
from app.enums import RESPONSIBLE_STATES, OfferState, Priority, Visibility
from app.extensions import db
from app.ids import decode_cursor, encode_cursor, parse_date, parse_id
from app.models import Offer, Ticket, parse_number
from app.models._types import utcnow
from app.services import search, service_levels
from app.workflow import FINAL_STATUSES, OPEN_STATUSES, TicketStatus

LISTED_STATUSES = [status for status in TicketStatus if status != TicketStatus.DRAFT]
DEFAULT_STATUSES = [status for status in LISTED_STATUSES if status not in FINAL_STATUSES]
COUNT_CAP = 1000  # the list says "more than 1,000 tickets" beyond this
PLAN_CAP = 20000  # a list with a created range counts this far to choose its plan (see _count)
PRIORITY_ORDER = [Priority.LOW, Priority.NORMAL, Priority.HIGH]
SORTS = {
    "activity": Ticket.last_activity_at,
    "created": Ticket.created_at,
    "number": Ticket.id,
    "priority": None,  # one index-ordered arm per priority, see _arms
    "due": Ticket.sla_due_at,  # the next service-level due time; tickets without one come last (two arms, _arms)
}
DUE_FILTERS = ("soon", "overdue")  # services/service_levels.py: due within DUE_SOON_MINUTES working minutes, or past
DEFAULT_SORT = "-activity"


def _unindexed(column):
    """`column` in a form no index answers (SQLite's unary plus, PostgreSQL's coalesce of the column with itself):
    keeps the planner off that column's indexes."""
    if db.engine.dialect.name == "sqlite":
        return UnaryExpression(column, operator=operators.custom_op("+"))
    return sa.func.coalesce(column, column)


def _enum_values(enum_cls, raw_values):
    """Members named by their values in the URL; unknown values are ignored."""
    by_value = {member.value: member for member in enum_cls}
    return [by_value[value] for value in raw_values if value in by_value]




@dataclass
class Filters:
    """Everything the overview can be narrowed and sorted by, as it appears in the URL."""

    statuses: list = field(default_factory=list)
    visibility: Visibility | None = None
    priority: Priority | None = None
    template_id: int | None = None
    flow_id: int | None = None
    device_id: int | None = None
    customer_id: int | None = None
    responsible: str = ""  # "me", "none" or an employee id
    offers_for_me: bool = False
    rating: str = ""  # "1".."5" or "none"
    due: str = ""  # "soon" or "overdue" (service levels)
    created_from: date | None = None
    created_to: date | None = None
    q: str = ""
    sort: str = DEFAULT_SORT
    page: int = 1
    after: str = ""  # keyset cursor: the page starts after this row (Position.encode)
    before: str = ""  # keyset cursor: the page ends before this row (going back)

    @classmethod
    def from_args(cls, args):
        """Read the filters from request.args, ignoring what does not fit."""
        visibility = _enum_values(Visibility, [args.get("visibility", "")])
        priority = _enum_values(Priority, [args.get("priority", "")])
        sort = args.get("sort", DEFAULT_SORT)
        if sort.lstrip("-") not in SORTS:
            sort = DEFAULT_SORT
        responsible = args.get("responsible", "")
        if responsible not in ("me", "none") and parse_id(responsible) is None:
            responsible = ""
        rating = args.get("rating", "")
        if rating not in ("1", "2", "3", "4", "5", "none"):
            rating = ""
        return cls(
            statuses=[s for s in _enum_values(TicketStatus, args.getlist("status")) if s != TicketStatus.DRAFT],
            visibility=visibility[0] if visibility else None,
            priority=priority[0] if priority else None,
            template_id=parse_id(args.get("template")),
            flow_id=parse_id(args.get("flow")),
            device_id=parse_id(args.get("device")),
            customer_id=parse_id(args.get("customer")),
            responsible=responsible,
            offers_for_me=args.get("offers") == "me",
            rating=rating,
            due=args.get("due", "") if args.get("due", "") in DUE_FILTERS else "",
            created_from=parse_date(args.get("created_from")),
            created_to=parse_date(args.get("created_to")),
            q=(args.get("q") or "").strip()[:200],
            sort=sort,
            page=max(1, min(parse_id(args.get("page")) or 1, 100000)),
            after=(args.get("after") or "")[:400],
            before=(args.get("before") or "")[:400],
        )

    @property
    def effective_statuses(self):
        """The chosen statuses, or everything but CLOSED and CANCELLED."""
        return self.statuses or DEFAULT_STATUSES

    def to_args(self, **changes):
        """The URL query for these filters (with `changes`), leaving defaults out."""
        values = {
            "status": [s.value for s in self.statuses],
            "visibility": self.visibility.value if self.visibility else "",
            "priority": self.priority.value if self.priority else "",
            "template": self.template_id or "",
            "flow": self.flow_id or "",
            "device": self.device_id or "",
            "customer": self.customer_id or "",
            "responsible": self.responsible,
            "offers": "me" if self.offers_for_me else "",
            "rating": self.rating,
            "due": self.due,
            "created_from": self.created_from.isoformat() if self.created_from else "",
            "created_to": self.created_to.isoformat() if self.created_to else "",
            "q": self.q,
            "sort": "" if self.sort == DEFAULT_SORT else self.sort,
            "page": self.page if self.page > 1 else "",
            "after": self.after,
            "before": self.before,
        }
        values.update(changes)
        return {key: value for key, value in values.items() if value not in ("", None) and value != []}

    @property
    def number(self):
        """The ticket number the search quotes ("42", "T-00042", "t42", "#42", "T 42"), or None."""
        return parse_number(self.q) if self.q else None

    @property
    def unsearchable(self):
        """A search was typed that has neither words nor a ticket number (only punctuation): it finds nothing."""
        return bool(self.q) and self.number is None and not search.has_terms(self.q)

    def conditions(self, me, search_by_sort_index=False, *, by_status=True, by_search=True):
        """WHERE clauses for these filters, seen by employee `me`.

        With `search_by_sort_index` (SQLite) the search's id list only filters while the sort index is walked.
        Without `by_status` / `by_search` the status filter / the search is left out (see `number_match`).
        """
        clauses = [Ticket.status.in_(self.effective_statuses)] if by_status else []
        if self.visibility:
            clauses.append(Ticket.visibility == self.visibility)
        if self.priority:
            clauses.append(Ticket.priority == self.priority)
        for column, value in (
            (Ticket.template_id, self.template_id),
            (Ticket.flow_id, self.flow_id),
            (Ticket.device_id, self.device_id),
            (Ticket.customer_id, self.customer_id),
        ):
            if value:
                clauses.append(column == value)
        responsible_states = [state for state in OfferState if state in RESPONSIBLE_STATES]
        # Correlated EXISTS probes the (ticket, employee) unique index while the sort index is walked.
        if self.responsible == "none":
            clauses.append(~sa.exists().where(Offer.ticket_id == Ticket.id, Offer.state.in_(responsible_states)))
        elif self.responsible:
            employee_id = me.id if self.responsible == "me" else int(self.responsible)
            clauses.append(
                sa.exists().where(
                    Offer.ticket_id == Ticket.id, Offer.employee_id == employee_id, Offer.state.in_(responsible_states)
                )
            )
        if self.offers_for_me:  # offers that can still be taken (policy.can_accept_offer): on tickets still in work
            clauses.append(
                sa.exists().where(Offer.ticket_id == Ticket.id, Offer.employee_id == me.id, Offer.state == OfferState.PENDING)
            )
            clauses.append(Ticket.status.in_(OPEN_STATUSES))
        if self.rating == "none":
            clauses.append(Ticket.rating_score.is_(None))
        elif self.rating:
            clauses.append(Ticket.rating_score == int(self.rating))
        if self.due:
            now = utcnow()
            if self.due == "overdue":
                clauses.append(Ticket.sla_due_at <= now)
            else:
                clauses.append(Ticket.sla_due_at > now)
                clauses.append(Ticket.sla_due_at <= service_levels.due_soon_horizon(now))
        created_from, created_to = time_zones.local_days(self.created_from, self.created_to)
        if created_from:
            clauses.append(Ticket.created_at >= created_from)
        if created_to:
            clauses.append(Ticket.created_at < created_to)
        if self.q and by_search:
            matched = search.condition(self.q, _unindexed(Ticket.id) if search_by_sort_index else Ticket.id)
            clauses.append(matched if matched is not None else sa.false())
        return clauses

    @property
    def descending(self):
        """Highest or newest first."""
        return self.sort.startswith("-")

    def order_by(self, by_index=True, backwards=False):
        """ORDER BY for the chosen sort (a time sort or the number; priority and due time page by arms, _arms),
        the number breaking ties; `backwards` reverses it (for the page before a cursor).

        Without `by_index` (SQLite) the sort column's index is not used: the rows are found by the filters' best
        index and sorted afterwards, which is faster when few rows match.
        """
        column = SORTS[self.sort.lstrip("-")]
        descending = self.descending != backwards
        tie = Ticket.id.desc() if descending else Ticket.id.asc()
        if column is Ticket.id:
            return [tie]
        if not by_index:
            column = _unindexed(column)
        return [column.desc() if descending else column.asc(), tie]

    @property
    def is_default(self):
        """Nothing chosen beyond the defaults."""
        return not self.to_args(sort="", page="", after="", before="")

    def position(self):
        """The keyset position the URL's cursor names, as (Position, backwards), or None: without a cursor, or
        with one this sort did not make (a changed sort, a cut or made-up cursor), which shows the first pages."""
        text, backwards = (self.before, True) if self.before else (self.after, False)
        position = Position.decode(text, self.sort) if text else None
        return (position, backwards) if position else None


@dataclass(frozen=True)
class Position:
    """A row's place in one sort order: the sort ("-activity", "priority", …), the row's sort value (an ISO
    datetime in UTC, a priority name, or None for the number sort and for tickets without a due time) and its
    number, which breaks ties. Encoded as an opaque URL cursor (app.ids.encode_cursor)."""

    sort: str
    value: str | None
    ticket_id: int

    @classmethod
    def of(cls, ticket, sort):
        """The position of `ticket` (a Ticket) in `sort`."""
        name = sort.lstrip("-")
        if name == "priority":
            value = ticket.priority.name
        elif SORTS[name] is Ticket.id:
            value = None
        else:
            moment = getattr(ticket, SORTS[name].key)
            value = moment.isoformat() if moment is not None else None
        return cls(sort, value, ticket.id)

    def encode(self):
        """The cursor text for a URL."""
        return encode_cursor([self.sort, self.value, self.ticket_id])

    @classmethod
    def decode(cls, cursor, sort):
        """The position a cursor holds when it was made for `sort`, else None (never raises)."""
        values = decode_cursor(cursor, 3)
        if values is None:
            return None
        cursor_sort, value, ticket_id = values
        if cursor_sort != sort or parse_id(ticket_id) is None or type(ticket_id) is not int:
            return None
        name = sort.lstrip("-")
        if name == "priority":
            return cls(sort, value, ticket_id) if value in Priority.__members__ else None
        if SORTS[name] is Ticket.id:
            return cls(sort, None, ticket_id) if value is None else None
        if value is None:
            return cls(sort, None, ticket_id) if name == "due" else None
        try:
            moment = datetime.fromisoformat(value) if isinstance(value, str) else None
        except ValueError:
            moment = None
        return cls(sort, value, ticket_id) if moment is not None and moment.tzinfo is not None else None

    def moment(self):
        """The sort value as an aware datetime (UTC), for the time sorts."""
        return datetime.fromisoformat(self.value)


def keyset_condition(position, *, backwards=False):
    """WHERE clause for the rows after `position` in its sort (or before it, `backwards`): the time sorts and the
    number; priority and due time page by arms (see _arm_ids).

    The shape `col <= v AND (col < v OR id < n)` (descending) lets the sort column's index bound the scan on
    SQLite and PostgreSQL alike, where `(col, id) < (v, n)` or an OR alone would not.
    """
    descending = position.sort.startswith("-") != backwards
    beyond = operator.lt if descending else operator.gt
    column = SORTS[position.sort.lstrip("-")]
    if column is Ticket.id:
        return beyond(Ticket.id, position.ticket_id)
    reach = operator.le if descending else operator.ge
    moment = position.moment()
    return sa.and_(reach(column, moment), sa.or_(beyond(column, moment), beyond(Ticket.id, position.ticket_id)))


@dataclass
class Page:
    """One page of the overview."""

    tickets: list
    total: int
    capped: bool
    number: int
    size: int
    number_match: Ticket | None = None  # the ticket the search's number names, whatever the status filter shows
    statuses: tuple = ()  # the statuses the list shows
    has_next: bool = False
    next_args: dict = field(default_factory=dict)  # the URL query of the next page (a keyset cursor)
    previous_args: dict = field(default_factory=dict)  # the URL query of the previous page

    @property
    def hidden_match(self):
        """The number's ticket when the status filter hides it from the list (shown apart, saying why)."""
        if self.number_match is not None and self.number_match.status not in self.statuses:
            return self.number_match
        return None

    @property
    def has_previous(self):
        """There is a page before this one."""
        return self.number > 1

    @property
    def last(self):
        """The number of the last page (of the counted part)."""
        return max(1, -(-self.total // self.size))


def load_page(filters, me, size):
    """The tickets of one overview page with what the rows show, in a constant number of statements.

    Returns a Page whose `next_args` / `previous_args` carry keyset cursors. A page reached by cursor costs the
    same at any depth; a bare `page=N` is read by OFFSET and kept within the counted part (COUNT_CAP rows).
    Going back by cursor to fewer than a page of rows (tickets were created meanwhile) shows the first page.
    """
    clauses = filters.conditions(me)
    total, by_index = _count(filters, me, clauses)
    capped = total > COUNT_CAP
    total = min(total, COUNT_CAP)
    located = filters.position()
    tickets = None
    if located and located[1]:
        tickets = _fetch(filters, me, clauses, by_index, size + 1, 0, *located)
        if len(tickets) > size:
            number, tickets = max(2, filters.page), list(reversed(tickets[:size]))
        elif len(tickets) == size:
            number, tickets = 1, list(reversed(tickets))
        else:  # back at the start with fewer than a page before the cursor (tickets came or went): the first page
            located, tickets = None, None
        # Rows follow: the one the cursor names, unless it left the list meanwhile (then look past the page).
        has_next = tickets is not None and (
            _still_listed(clauses, located[0].ticket_id)
            or bool(_fetch(filters, me, clauses, by_index, 1, 0, Position.of(tickets[-1], filters.sort)))
        )
    if tickets is None:
        if located:
            number, offset = max(2, filters.page), 0
        else:
            last = -(-COUNT_CAP // size) if capped else -(-total // size)
            number = max(1, min(filters.page, last))
            offset = (number - 1) * size
        tickets = _fetch(filters, me, clauses, by_index, size + 1, offset, *(located or ()))
        has_next, tickets = len(tickets) > size, tickets[:size]
    first_page = filters.to_args(page="", after="", before="")
    next_args = filters.to_args(page=number + 1, after=Position.of(tickets[-1], filters.sort).encode(), before="") if has_next else {}
    if number <= 2 or not tickets:
        previous_args = first_page
    else:
        previous_args = filters.to_args(page=number - 1, before=Position.of(tickets[0], filters.sort).encode(), after="")
    return Page(
        tickets=tickets, total=total, capped=capped, number=number, size=size, number_match=number_match(filters, me),
        statuses=tuple(filters.effective_statuses), has_next=has_next, next_args=next_args,
        previous_args=previous_args,
    )


def _still_listed(clauses, ticket_id):
    """Whether ticket `ticket_id` still matches the overview's conditions `clauses` (a primary-key lookup)."""
    return db.session.scalar(sa.select(Ticket.id).where(Ticket.id == ticket_id, *clauses)) is not None


def _count(filters, me, clauses):
    """(matches counted up to a cap, whether the list walks its sort index), in one statement.

    The count tells the planner what it cannot know. With few matches, finding them by the filters' best index
    and sorting them is cheap, while walking the sort index may pass most tickets. With many, the sort index reaches
    a page soon, as long as the matches are spread along it. A created range is not: among the newest activity the
    walk passes every ticket created after the range. So a list with a created range counts up to PLAN_CAP;
    others up to COUNT_CAP, which costs little more than the page (counting further would look up every counted
    row, and probe the full-text index or the offers for a search or the offer filters). A search of words alone is counted from the full-text index on SQLite, which then
    stops after COUNT_CAP matches instead of listing every match first.
    """
    narrowed = filters.to_args(q="", sort="", page="", after="", before="", status=[])
    probed = filters.q or filters.responsible or filters.offers_for_me  # each counted row costs a probe
    dated = filters.created_from or filters.created_to  # creation runs with the activity and number orders
    cap = PLAN_CAP if dated and not probed else COUNT_CAP
    if filters.q and not narrowed and filters.number is None and db.engine.dialect.name == "sqlite":
        matches = search.matching_ids(filters.q)
        if matches is None:
            return 0, False
        matches = matches.subquery()
        inner = (
            sa.select(Ticket.id)
            .select_from(matches)
            .join(Ticket, Ticket.id == matches.c.rowid)
            .where(*filters.conditions(me, by_search=False))
        )
    else:
        inner = sa.select(Ticket.id).where(*clauses)
    counted = db.session.scalar(sa.select(sa.func.count()).select_from(inner.limit(cap + 1).subquery()))
    return counted, counted > cap


def _fetch(filters, me, clauses, by_index, limit, offset, position=None, backwards=False):
    """Up to `limit` tickets of the overview in its order (reversed when `backwards`), after `offset` rows or
    beyond `position`, with device, customer and offers loaded; `by_index` walks the sort index (see _count)."""
    options = (
        selectinload(Ticket.device),
        selectinload(Ticket.customer),
        selectinload(Ticket.offers).selectinload(Offer.employee),
    )
    if filters.sort.lstrip("-") in ("priority", "due"):
        ids = _arm_ids(clauses, filters.sort.lstrip("-"), filters.descending, offset, limit, position, backwards,
                       only_priority=filters.priority)
        by_id = {ticket.id: ticket for ticket in db.session.scalars(sa.select(Ticket).options(*options).where(Ticket.id.in_(ids)))}
        return [by_id[ticket_id] for ticket_id in ids if ticket_id in by_id]
    if by_index and filters.q and db.engine.dialect.name == "sqlite":
        clauses = filters.conditions(me, search_by_sort_index=True)  # the search's id list only filters
    if position is not None:
        clauses = [*clauses, keyset_condition(position, backwards=backwards)]
    order_by = filters.order_by(by_index=by_index, backwards=backwards)
    if not by_index:
        # Few matches, sorted: the page's numbers come from the filters' index alone (the status/created and
        # status/rating/created indexes carry the activity time), and only the page's rows are read. Sorting whole
        # rows read one by one from the table had cost 35 ms for 10,000 matches at a million tickets on SQLite.
        page = sa.select(Ticket.id).where(*clauses).order_by(*order_by).limit(limit).correlate(None)
        query = sa.select(Ticket).options(*options).where(Ticket.id.in_(page.offset(offset) if offset else page))
        return db.session.scalars(query.order_by(*order_by)).all()
    query = sa.select(Ticket).options(*options).where(*clauses).order_by(*order_by).limit(limit)
    return db.session.scalars(query.offset(offset) if offset else query).all()


def number_match(filters, me):
    """The ticket whose number the search quotes, else None, whatever its status.

    A number always finds its ticket, first: the overview shows it above the list (a search for 42 also matches
    every text holding "42", sorted by activity), and when the status filter hides it (ticket 42 is CLOSED and the
    overview shows open work) says why. Every other filter still applies, and so does what `me` may see
    (Ticket.visible_clause: never a draft, never another's). One lookup by primary key.
    """
    if filters.number is None:
        return None
    return db.session.scalar(
        sa.select(Ticket)
        .where(
            Ticket.id == filters.number,
            Ticket.status != TicketStatus.DRAFT,
            Ticket.visible_clause(me),
            *filters.conditions(me, by_status=False, by_search=False),
        )
        .options(
            selectinload(Ticket.device),
            selectinload(Ticket.customer),
            selectinload(Ticket.offers).selectinload(Offer.employee),
        )
    )


def _arms(sort, descending, position, only_priority=None):
    """The arms of a sort that no single index orders, in the order they are shown: [(where, value column or
    None, condition for the arm of `position` or None) or None for an arm the filters leave empty], and the index
    of the arm `position` lies in (0 without one).

    Priority (stored by name, so no index sorts LOW < NORMAL < HIGH): one arm per priority, each walking the
    priority index in number order; with `only_priority` (the priority filter) the other arms are None. Due time:
    the tickets with a due time by the due-time index, then those without one by number ("soonest first" puts
    tickets without a due time last, in both directions).
    """
    beyond = operator.lt if descending else operator.gt
    if sort == "priority":
        order = list(reversed(PRIORITY_ORDER)) if descending else PRIORITY_ORDER
        reached = order.index(Priority[position.value]) if position is not None else 0
        within = beyond(Ticket.id, position.ticket_id) if position is not None else None
        return [([Ticket.priority == priority], None, within if rank == reached else None)
                if only_priority in (None, priority) else None
                for rank, priority in enumerate(order)], reached
    column = Ticket.sla_due_at
    timed = [column.is_not(None)]
    untimed = [column.is_(None)]
    if position is None:
        arms, reached = [(timed, column, None), (untimed, None, None)], 0
    elif position.value is None:
        arms, reached = [(timed, column, None), (untimed, None, beyond(Ticket.id, position.ticket_id))], 1
    else:
        reach = operator.le if descending else operator.ge
        moment = position.moment()
        within = sa.and_(reach(column, moment), sa.or_(beyond(column, moment), beyond(Ticket.id, position.ticket_id)))
        arms, reached = [(timed, column, within), (untimed, None, None)], 0
    return arms, reached


def _arm_ids(clauses, sort, descending, offset, limit, position=None, backwards=False, only_priority=None):
    """Ids of up to `limit` tickets in a sort made of arms (_arms: priority, due time), after `offset` rows or
    beyond `position`; `backwards` walks the display order in reverse (the page before a cursor).

    Each arm walks its index in order and stops after offset + limit rows; only those few rows are merged and
    sorted. Arms the position has passed are left out, and so are the arms of priorities other than
    `only_priority` (the priority filter). Those would find nothing, yet PostgreSQL does not see that from
    `priority = 'HIGH' AND priority = 'LOW'` before it has started parallel workers for them (about 6 ms per arm
    at a million tickets).
    """
    descending = descending != backwards
    arms, reached = _arms(sort, descending, position, only_priority)
    if sort == "due" and backwards:  # the arms themselves come in reverse order; a priority's reverse is the other sort
        arms, reached = list(reversed(arms)), len(arms) - 1 - reached
    direction = sa.desc if descending else sa.asc
    selects = []
    for rank, arm in enumerate(arms):
        if rank < reached or arm is None:
            continue
        where, value, within = arm
        walk = (
            sa.select(
                Ticket.id.label("id"), sa.literal(rank).label("rank"),
                (value if value is not None else sa.cast(sa.null(), Ticket.sla_due_at.type)).label("value"),
            )
            .where(*clauses, *where, *([within] if within is not None else []))
            .order_by(*([direction(value)] if value is not None else []), direction(Ticket.id))
            .limit(offset + limit)
            .subquery()
        )
        selects.append(sa.select(walk.c.id, walk.c.rank, walk.c.value))
    if not selects:
        return []
    merged = (sa.union_all(*selects) if len(selects) > 1 else selects[0]).subquery()
    query = sa.select(merged.c.id).order_by(merged.c.rank, direction(merged.c.value), direction(merged.c.id))
    return db.session.scalars(query.limit(limit).offset(offset) if offset else query.limit(limit)).all()
