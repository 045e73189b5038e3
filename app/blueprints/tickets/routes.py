"""Back office: tickets overview, ticket detail with its actions, and ticket creation by staff."""
from datetime import UTC, datetime
from functools import cache
from types import SimpleNamespace

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import joinedload, selectinload

from app import identity, policy, tabular, workflow
from app.blueprints.tickets import export as ticket_export
from app.blueprints.tickets import overview, timeline
from app.blueprints.wizard.views import step_view
from app.enums import Priority, Visibility
from app.extensions import db
from app.htmx import is_htmx, redirect_after_write, render, trigger
from app.ids import parse_id
from app.models import (
    Answer,
    Attachment,
    Customer,
    Device,
    Employee,
    Flow,
    Message,
    Offer,
    Template,
    Ticket,
    TicketEvent,
    Update,
)
from app.models._types import utcnow
from app.refusals import back_on_refusal, on_refusal
from app.services import inbox, offers, service_levels, tickets, uploads
from app.workflow import TicketStatus

bp = Blueprint("tickets", __name__, url_prefix="/tickets")
DEVICE_CHOICES = 50
TIMELINE_SIZE = 50  # newest entries shown at first; the messenger pages through older messages itself
TIMELINE_ALL = 2000  # entries shown when the whole timeline is asked for
UPDATES_SHOWN = 50  # newest updates shown per tab at first


bp.before_request(identity.require_back_office)


@bp.app_template_filter("translated")
def translated(label_table):
    """A label table with its lazy strings translated once, for templates that use them in long loops."""
    return {key: str(value) for key, value in label_table.items()}


def _filter_choices():
    """The option lists of the filter form: ids and names only (rows, not entities; hundreds of devices)."""
    execute = db.session.execute
    return {
        "templates": execute(sa.select(Template.id, Template.name).order_by(Template.name)).all(),
        "flows": execute(
            sa.select(Flow.id, Flow.title, Template.name.label("template_name"))
            .join(Template, Flow.template_id == Template.id)
            .order_by(Flow.title)
        ).all(),
        "devices": execute(sa.select(Device.id, Device.name).where(Device.archived.is_(False)).order_by(Device.name)).all(),
        "customers": execute(sa.select(Customer.id, Customer.name).order_by(Customer.name)).all(),
        "employees": execute(
            sa.select(Employee.id, Employee.name).where(Employee.active.is_(True)).order_by(Employee.name)
        ).all(),
    }


@bp.get("")
def index():
    """All tickets, filtered and sorted as the URL says; htmx gets only the results block."""
    filters = overview.Filters.from_args(request.args)
    page = overview.load_page(filters, current_user, current_app.config["OVERVIEW_PAGE_SIZE"])
    choices = {} if is_htmx() else _filter_choices()
    return render(
        "tickets/index.html",
        block="results",
        filters=filters,
        page=page,
        statuses=overview.LISTED_STATUSES,
        sorts=overview.SORTS,
        now=utcnow(),
        **choices,
    )


@bp.get("/export.<any(csv, xlsx):kind>")
def export(kind):
    """The overview's tickets (its filters from the URL, every page) as a streamed CSV or XLSX download."""
    if not policy.can_export_tickets(current_user):
        abort(403)
    filters = overview.Filters.from_args(request.args)
    rows = ticket_export.ticket_rows(filters, current_user)
    name = f"tickets-{datetime.now(UTC):%Y-%m-%d}.{kind}"
    if kind == "csv":
        return tabular.csv_response(ticket_export.header(), rows, name)
    return tabular.xlsx_response(ticket_export.header(), rows, name, _("Tickets"))


# What the ticket page shows of the ticket itself, loaded with it: its device, customer, template, creator and
# service-level clocks in the same SELECT, its offers (with their employees) and ratings in one more each.
PAGE_OPTIONS = (
    joinedload(Ticket.device),
    joinedload(Ticket.customer),
    joinedload(Ticket.template),
    joinedload(Ticket.creator_employee),
    joinedload(Ticket.sla),
    selectinload(Ticket.offers).joinedload(Offer.employee),
    selectinload(Ticket.ratings),
)


@cache
def _page_ticket_query():
    """SELECT of one ticket (bound `number`) with what its page shows (PAGE_OPTIONS); built once per process, as
    building and keying a statement costs about as much as running it."""
    return sa.select(Ticket).where(Ticket.id == sa.bindparam("number")).options(*PAGE_OPTIONS)


@cache
def _detail_queries():
    """The statements of the ticket page's rows (bound `ticket_id`, and `limit` for the timeline's messages), built
    once per process."""
    ticket_id = sa.bindparam("ticket_id")
    return SimpleNamespace(
        events=sa.select(TicketEvent)
        .where(TicketEvent.ticket_id == ticket_id)
        .options(joinedload(TicketEvent.actor_employee), joinedload(TicketEvent.subject_employee)),
        updates=sa.select(Update)
        .where(Update.ticket_id == ticket_id)
        .order_by(Update.created_at.desc(), Update.id.desc())
        .options(joinedload(Update.author_employee)),
        messages=sa.select(Message.created_at, Message.body, Employee.name.label("author_name"))
        .outerjoin(Employee, Employee.id == Message.author_employee_id)
        .where(Message.ticket_id == ticket_id)
        .order_by(Message.id.desc())
        .limit(sa.bindparam("limit")),
        answers=sa.select(Answer).where(Answer.ticket_id == ticket_id).order_by(Answer.position),
    )


def _ticket_or_404(number, query=None):
    """The ticket if the employee may see it (drafts only their creator's); 404 otherwise. `query` (a SELECT of
    Ticket with a bound `number`) loads it with more, else it comes from the session or by primary key."""
    ticket = db.session.get(Ticket, number) if query is None else db.session.scalar(query, {"number": number})
    if ticket is None or not policy.can_view_ticket(current_user, ticket):
        abort(404)
    return ticket


def _detail(ticket, *, status=200, error=None, notice=None, form=None, block="main", tab=None, error_at=None):
    """The ticket page, or for htmx its head (#ticket-main) with the body (#ticket-body) as an out-of-band swap.

    `error_at="update"` shows the error beside the update form. The messenger between head and body is never part
    of the htmx answer: its composer may hold text being typed.
    """
    whole_timeline = request.args.get("timeline") == "all"
    timeline_size = TIMELINE_ALL if whole_timeline else TIMELINE_SIZE
    all_updates = request.args.get("all_updates") == "1"
    # One statement per kind of row, none per row; the timeline's messages are plain rows (no ORM objects).
    queries, bound = _detail_queries(), {"ticket_id": ticket.id}
    events = db.session.scalars(queries.events, bound).all()
    updates = db.session.scalars(queries.updates, bound).all()
    messages = db.session.execute(queries.messages, {**bound, "limit": timeline_size}).all()
    answers = db.session.scalars(queries.answers, bound).all()
    Attachment.fill(ticket.id, answers=answers, updates=updates)
    if tab is None:
        tab = request.args.get("updates") if request.args.get("updates") in ("public", "internal") else "public"
    events_now = [e for e in workflow.available_events(ticket.status, manual_only=True) if policy.can_fire(current_user, ticket, e)]
    assignable = []
    if policy.can_assign(current_user, ticket):
        responsible = ticket.responsible_employee_ids
        people = sa.select(Employee.id, Employee.name, Employee.email).where(Employee.active.is_(True))
        assignable = [e for e in db.session.execute(people.order_by(Employee.name)) if e.id not in responsible]
    entries = timeline.build(ticket, events, messages, updates)
    return render(
        "tickets/show.html",
        block=block,
        status=status,
        ticket=ticket,
        answers=answers,
        public_updates=[u for u in updates if u.visibility == Visibility.PUBLIC],
        internal_updates=[u for u in updates if u.visibility == Visibility.INTERNAL],
        timeline=entries[:timeline_size],
        timeline_more=len(entries) > timeline_size,
        updates_shown=None if all_updates else UPDATES_SHOWN,
        view_args={
            key: value
            for key, value in (
                ("updates", tab if tab == "internal" else ""),
                ("all_updates", "1" if all_updates else ""),
                ("timeline", "all" if whole_timeline else ""),
            )
            if value
        },
        status_events=events_now,
        status_path=[s for s in TicketStatus if s not in (TicketStatus.DRAFT, TicketStatus.CANCELLED)],
        assignable=assignable,
        my_offer=ticket.offer_for(current_user.id),
        tab=tab,
        body_out_of_band=is_htmx(),
        error=error,
        error_at=error_at,
        notice=notice,
        form=form or {},
        accept=uploads.ACCEPT_ATTRIBUTE,
        visibilities=list(Visibility),
        priorities=list(Priority),
        sla=service_levels.clocks(ticket),
    )


@bp.get("/<int:number>")
def show(number):
    """The ticket page; a draft of mine continues in the wizard."""
    ticket = _ticket_or_404(number, _page_ticket_query())
    if ticket.status == TicketStatus.DRAFT:
        position = tickets.first_open_step(ticket)
        position = len(ticket.answers) - 1 if position is None else position
        return redirect(url_for("tickets.draft_step", number=number, position=position))
    return _detail(ticket)


@bp.get("/<int:number>/deliveries")
def deliveries(number):
    """The ticket's whole notification delivery log (its newest DELIVERY_LOG_ROWS deliveries), for the employees
    who may read it (policy.can_view_delivery_log); 404 for anyone else and for drafts."""
    ticket = _ticket_or_404(number)
    if not policy.can_view_delivery_log(current_user, ticket):
        abort(404)
    log_rows, log_total = inbox.delivery_log(ticket)
    return render("tickets/deliveries.html", ticket=ticket, log_rows=log_rows, log_total=log_total)


def _act(number, call, success, tab=None, error_at=None):
    """Run one service call on the ticket; back to the page, or the refreshed page with the message on refusal.

    Every answer rings `ticket-changed` (with the ticket's id) so widgets outside the main block, such as the
    messenger's composer, follow the change at once for the person who acted.
    """
    ticket = _ticket_or_404(number)
    if ticket.status == TicketStatus.DRAFT:
        abort(404)
    # Rung on body (the acting element may be swapped away); "-<id>" for widgets of this ticket only.
    changed = {"ticket-changed": {"ticket": ticket.id, "target": "body"}, f"ticket-changed-{ticket.id}": {"target": "body"}}
    on_refusal(
        lambda error: trigger(
            _detail(_ticket_or_404(number), error=error.message, form=request.form, tab=tab, error_at=error_at),
            **changed,
        )
    )
    call(ticket, request.form.get("version"))
    if is_htmx():
        response = _detail(_ticket_or_404(number), notice=success, tab=tab)
    else:
        flash(success, "success")
        args = {"updates": tab} if tab == "internal" else {}
        response = redirect(url_for("tickets.show", number=number, **args), code=303)
    return trigger(response, **changed)


@bp.post("/<int:number>/events")
def fire(number):
    """A status button: start, pause, finish, close, cancel, reopen."""
    event = request.form.get("event", "")
    return _act(
        number,
        lambda ticket, version: tickets.fire_event(ticket, event, actor=current_user, expected_version=version),
        _("Status changed."),
    )


@bp.post("/<int:number>/visibility")
def visibility(number):
    """Switch between internal and public."""
    return _act(
        number,
        lambda ticket, version: tickets.set_visibility(
            ticket, request.form.get("visibility"), actor=current_user, expected_version=version
        ),
        _("Visibility saved."),
    )


@bp.post("/<int:number>/priority")
def priority(number):
    """Change the priority."""
    return _act(
        number,
        lambda ticket, version: tickets.set_priority(
            ticket, request.form.get("priority"), actor=current_user, expected_version=version
        ),
        _("Priority saved."),
    )


@bp.post("/<int:number>/offer/accept")
def accept(number):
    """Accept my offer: I become responsible."""
    return _act(
        number,
        lambda ticket, version: offers.accept_offer(ticket, actor=current_user, expected_version=version),
        _("You are now responsible for this ticket."),
    )


@bp.post("/<int:number>/offer/decline")
def decline(number):
    """Decline my offer."""
    return _act(
        number,
        lambda ticket, version: offers.decline_offer(ticket, actor=current_user, expected_version=version),
        _("Offer declined."),
    )


@bp.post("/<int:number>/assign")
def assign(number):
    """A moderator makes an employee (chosen by e-mail) responsible."""
    return _act(
        number,
        lambda ticket, version: offers.assign_employee(
            ticket, offers.employee_by_email(request.form.get("employee")), actor=current_user, expected_version=version
        ),
        _("Employee assigned."),
    )


@bp.post("/<int:number>/withdraw")
def withdraw(number):
    """A moderator takes an employee's responsibility away."""
    return _act(
        number,
        lambda ticket, version: offers.withdraw_employee(
            ticket, offers.employee_by_email(request.form.get("employee")), actor=current_user, expected_version=version
        ),
        _("Employee withdrawn."),
    )


@bp.post("/<int:number>/updates")
def post_update(number):
    """A public or internal update with optional files."""

    def call(ticket, _version):
        """An update is an append, so the page's version does not matter."""
        visibility = Visibility.INTERNAL if request.form.get("internal") else Visibility.PUBLIC
        tickets.post_update(
            ticket, request.form.get("body"), visibility, actor=current_user, files=request.files.getlist("files")
        )

    tab = "internal" if request.form.get("internal") else "public"
    return _act(number, call, _("Update posted."), tab=tab, error_at="update")


@bp.post("/<int:number>/delete")
def delete(number):
    """A moderator deletes the ticket for good."""
    ticket = _ticket_or_404(number)
    on_refusal(lambda error: _detail(_ticket_or_404(number), error=error.message))
    tickets.delete_ticket(ticket, confirmed=bool(request.form.get("confirm")), actor=current_user)
    flash(_("Ticket %(number)s was deleted.", number=ticket.display_number), "success")
    return redirect_after_write(url_for("tickets.index"))


def _device_named(value):
    """A device by name or id from the creation form, or None."""
    value = (value or "").strip()
    if not value:
        return None
    query = sa.select(Device).where(Device.archived.is_(False))
    by_name = db.session.scalar(query.where(Device.name == value).limit(1))
    if by_name is None and parse_id(value) is not None:
        return db.session.scalar(query.where(Device.id == parse_id(value)))
    return by_name


@bp.get("/new")
def new():
    """Creating a ticket: choose the device (searchable), then the creation flow."""
    device = _device_named(request.args.get("device"))
    if request.args.get("device") and device is None:
        abort(404)
    if device is not None:
        return render("tickets/new.html", device=device, flows=device.template.active_flows)
    q = (request.args.get("q") or "").strip()[:100]
    query = sa.select(Device).where(Device.archived.is_(False)).options(selectinload(Device.customer))
    condition = Device.search_condition(q)  # folded, see app.text_folding
    if condition is not None:
        query = query.where(condition)
    devices = db.session.scalars(query.order_by(Device.name).limit(DEVICE_CHOICES + 1)).all()
    return render(
        "tickets/new.html",
        block="devices",
        device=None,
        devices=devices[:DEVICE_CHOICES],
        more=len(devices) > DEVICE_CHOICES,
        q=q,
    )


@bp.post("/new")
def start():
    """Start a draft for the chosen device and flow, then go to its first step."""
    device = _device_named(request.form.get("device"))
    flow_id = parse_id(request.form.get("flow"))
    flow = db.session.get(Flow, flow_id) if flow_id else None
    if device is None or flow is None:
        abort(404)
    back_on_refusal(url_for("tickets.new", device=device.name), code=303)
    ticket = tickets.start_draft(flow, device, actor=current_user)
    return redirect_after_write(url_for("tickets.draft_step", number=ticket.number, position=0))


@bp.route("/drafts/<int:number>/step/<int:position>", methods=["GET", "POST"])
def draft_step(number, position):
    """One step of my draft: show it, or answer it and go on (the last step submits)."""
    ticket = _ticket_or_404(number)
    return step_view(
        ticket,
        position,
        actor=current_user,
        template="tickets/wizard.html",
        step_url=lambda at: url_for("tickets.draft_step", number=number, position=at),
        exit_url=url_for("tickets.new", device=ticket.device.name),
        done_url=url_for("tickets.show", number=number),
        done_message=_("Ticket %(number)s was created.", number=ticket.display_number),
    )


@bp.post("/drafts/<int:number>/delete")
def delete_draft(number):
    """Throw away my draft."""
    ticket = _ticket_or_404(number)
    back_on_refusal(url_for("tickets.show", number=number), code=303)
    tickets.delete_draft(ticket, actor=current_user)
    flash(_("The draft was deleted."), "success")
    return redirect(url_for("tickets.index"), code=303)
