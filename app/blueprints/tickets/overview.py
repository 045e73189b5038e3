"""The tickets overview: filters read from the URL, one query per page, a capped count."""
from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import selectinload
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import UnaryExpression

from app import time_zones
from app.enums import RESPONSIBLE_STATES, OfferState, Priority, Visibility
from app.extensions import db
from app.ids import parse_date, parse_id
from app.models import Offer, Ticket, parse_number
from app.models._types import utcnow
from app.services import search, service_levels
from app.workflow import FINAL_STATUSES, OPEN_STATUSES, TicketStatus

LISTED_STATUSES = [status for status in TicketStatus if status != TicketStatus.DRAFT]
DEFAULT_STATUSES = [status for status in LISTED_STATUSES if status not in FINAL_STATUSES]
COUNT_CAP = 1000
PRIORITY_ORDER = [Priority.LOW, Priority.NORMAL, Priority.HIGH]
SORTS = {
    "activity": Ticket.last_activity_at,
    "created": Ticket.created_at,
    "number": Ticket.id,
    "priority": None,  # one index-ordered arm per priority, see _priority_page
    "due": Ticket.sla_due_at,  # the next service-level due time; tickets without one come last
}
DUE_FILTERS = ("soon", "overdue")  # services/service_levels.py: due within DUE_SOON_MINUTES working minutes, or past
DEFAULT_SORT = "-activity"


def _unindexed(column):
    """`column` as SQLite's unary plus, which no index answers: keeps the planner off that column's indexes."""
    return UnaryExpression(column, operator=operators.custom_op("+"))


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

    def order_by(self, by_index=True):
        """ORDER BY for the chosen sort (not priority), the number breaking ties.

        Without `by_index` (SQLite) the sort column's index is not used: the rows are found by the filters' best
        index and sorted afterwards, which is faster when few rows match.
        """
        column = SORTS[self.sort.lstrip("-")]
        tie = Ticket.id.desc() if self.descending else Ticket.id.asc()
        if column is Ticket.id:
            return [tie]
        if not by_index:
            column = _unindexed(column)
        ordered = column.desc() if self.descending else column.asc()
        if self.sort.lstrip("-") == "due":
            ordered = ordered.nulls_last()
        return [ordered, tie]

    @property
    def is_default(self):
        """Nothing chosen beyond the defaults."""
        return not self.to_args(sort="", page="")


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
    def has_next(self):
        """There is a page after this one."""
        return len(self.tickets) == self.size and (self.capped or self.number * self.size < self.total)

    @property
    def last(self):
        """The number of the last page (of the counted part)."""
        return max(1, -(-self.total // self.size))


def load_page(filters, me, size):
    """The tickets of one overview page with what the rows show, in a constant number of statements."""
    clauses = filters.conditions(me)
    total = db.session.scalar(
        sa.select(sa.func.count()).select_from(sa.select(Ticket.id).where(*clauses).limit(COUNT_CAP + 1).subquery())
    )
    capped = total > COUNT_CAP
    total = min(total, COUNT_CAP)
    number = max(1, filters.page if capped else min(filters.page, -(-total // size)))
    offset = (number - 1) * size
    query = sa.select(Ticket).options(
        selectinload(Ticket.device),
        selectinload(Ticket.customer),
        selectinload(Ticket.offers).selectinload(Offer.employee),
    )
    if filters.sort.lstrip("-") == "priority":
        ids = _priority_page(clauses, filters.descending, offset, size)
        by_id = {ticket.id: ticket for ticket in db.session.scalars(query.where(Ticket.id.in_(ids)))}
        tickets = [by_id[ticket_id] for ticket_id in ids if ticket_id in by_id]
    else:
        order_by = filters.order_by()
        if db.engine.dialect.name == "sqlite":
            # The count tells SQLite's planner what it cannot know: with at most COUNT_CAP matches, finding them by
            # the filters and sorting them is cheap, while walking the sort index may pass every ticket; with more
            # matches the sort index reaches a page soon, so a search's id list only filters.
            if not capped:
                order_by = filters.order_by(by_index=False)
            elif filters.q:
                clauses = filters.conditions(me, search_by_sort_index=True)
        tickets = db.session.scalars(query.where(*clauses).order_by(*order_by).limit(size).offset(offset)).all()
    return Page(
        tickets=tickets, total=total, capped=capped, number=number, size=size, number_match=number_match(filters, me),
        statuses=tuple(filters.effective_statuses),
    )


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


def _priority_page(clauses, descending, offset, size):
    """Ids of one page sorted by priority, then number.

    Priorities are stored by name, so no index sorts them LOW < NORMAL < HIGH. Instead each priority gets its own
    arm that walks the priority index (already ordered by number) and stops after offset + size rows; only those
    few rows are sorted.
    """
    order = list(reversed(PRIORITY_ORDER)) if descending else PRIORITY_ORDER
    arms = []
    for rank, priority in enumerate(order):
        arm = (
            sa.select(Ticket.id.label("id"), sa.literal(rank).label("rank"))
            .where(*clauses, Ticket.priority == priority)
            .order_by(Ticket.id.desc() if descending else Ticket.id.asc())
            .limit(offset + size)
            .subquery()
        )
        arms.append(sa.select(arm.c.id, arm.c.rank))
    merged = sa.union_all(*arms).subquery()
    return db.session.scalars(
        sa.select(merged.c.id)
        .order_by(merged.c.rank, merged.c.id.desc() if descending else merged.c.id.asc())
        .limit(size)
        .offset(offset)
    ).all()
