"""Code-user pages under /c/<token>: device tabs, assistant, flow choice, wizard, ticket page."""

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    send_from_directory,
    url_for,
)
from flask_babel import gettext as _
from sqlalchemy.orm import selectinload

from app import identity, policy
from app.blueprints.wizard.views import step_view
from app.enums import ButtonTarget, Visibility
from app.extensions import db, limiter
from app.htmx import is_htmx, redirect_after_write, render
from app.models import AssistantElement, Attachment, Flow, Ticket, Update
from app.redirects import safe_next
from app.refusals import back_on_refusal, on_refusal
from app.services import code_access, tickets, uploads
from app.workflow import TicketStatus

bp = Blueprint("public", __name__)
limiter.limit(lambda: current_app.config["PUBLIC_RATE_LIMIT"])(bp)

TABS = ("assistant", "tickets", "history")
SAFE_URL_SCHEMES = ("https://", "http://", "mailto:", "tel:")
LIST_LIMIT = 100
STATUS_PATH = (
    TicketStatus.OPEN,
    TicketStatus.ASSIGNED,
    TicketStatus.IN_PROGRESS,
    TicketStatus.DONE,
    TicketStatus.CLOSED,
)


@bp.before_request
def resolve_code():
    """Every /c/<token> page: a usable code, then a valid code session (PIN first where the code has one)."""
    # An app context shared by several requests (tests, CLI) must not answer for another browser.
    for cached in ("code_user", "code_visitor", "visitor"):
        g.pop(cached, None)
    code = code_access.find_usable_code((request.view_args or {}).get("token"))
    if code is None:
        return render_template("public/inactive.html"), 404
    g.code, g.device = code, code.device
    if request.endpoint == "public.pin":
        return None
    code_user = identity.current_code_user(create=not code.has_pin)
    if code_access.session_for(code, code_user) is None:
        if code.has_pin:
            if request.method == "GET":
                return render("public/pin.html", next_url=request.full_path, error=None)
            next_url = url_for("public.device", token=code.token)
            return render("public/pin.html", next_url=next_url, error=None, status=403)
        code_access.open_code_session(code, code_user)
        identity.forget_code_visitor()
    g.visitor = identity.current_code_visitor()
    if not policy.can_reach_device(g.visitor, g.device.id):
        abort(404)
    return None


def _safe_next(target, token):
    """Only pages of this code after the PIN: a same-site path (`app.redirects.safe_next`) under the code's page."""
    prefix = url_for("public.device", token=token)
    target = safe_next(target, None)
    if target and (target == prefix or target.startswith((prefix + "/", prefix + "?"))):
        return target
    return prefix


@bp.post("/c/<token>/pin")
def pin(token):
    """Check the PIN and open the code session (too many wrong PINs: 429 with the wait, nothing checked)."""
    next_url = request.form.get("next", "")
    on_refusal(lambda error: render("public/pin.html", next_url=next_url, error=error.message))
    code_access.open_code_session(g.code, identity.current_code_user(create=True), pin=request.form.get("pin"))
    identity.forget_code_visitor()
    return redirect(_safe_next(next_url, token))


@bp.get("/c/<token>")
def device(token):
    """The device page with its three tabs."""
    tab = request.args.get("tab", "assistant")
    if tab not in TABS:
        tab = "assistant"
    context = {"tab": tab}
    if tab == "assistant":
        context["element"] = g.device.template.start_element
    elif tab == "tickets":
        context["drafts"], context["public_tickets"] = _my_drafts(), _public_tickets()
    else:
        context["history"] = _service_history()
    return render("public/device.html", **context)


def _my_drafts():
    """This browser's drafts on this device, newest first (drafts are visible to their creator only)."""
    return db.session.scalars(
        Ticket.visible_to(g.visitor)
        .where(Ticket.device_id == g.device.id, Ticket.status == TicketStatus.DRAFT)
        .order_by(Ticket.created_at.desc(), Ticket.id.desc())
        .options(selectinload(Ticket.answers))
    ).all()


def _public_tickets():
    """The device's submitted tickets the code user may see (PUBLIC ones), newest first."""
    return db.session.scalars(
        Ticket.visible_to(g.visitor)
        .where(Ticket.device_id == g.device.id, Ticket.status != TicketStatus.DRAFT)
        .order_by(Ticket.created_at.desc(), Ticket.id.desc())
        .limit(LIST_LIMIT)
    ).all()


def _service_history():
    """The device's service history, newest first, in one query (files loaded alongside)."""
    return db.session.execute(
        Update.public_history(g.device.id)
        .order_by(Update.created_at.desc(), Update.id.desc())
        .limit(LIST_LIMIT)
        .options(selectinload(Update.attachments))
    ).all()


@bp.get("/c/<token>/picture")
def picture(token):
    """The device's picture for everyone who reaches the device through this code."""
    if not g.device.picture_name:
        abort(404)
    return send_from_directory(uploads.folder(), g.device.picture_name, mimetype="image/jpeg", max_age=3600)


@bp.get("/c/<token>/a/<int:element_id>")
def element(token, element_id):
    """Another page of the device's assistant."""
    found = db.session.get(AssistantElement, element_id)
    if found is None or found.template_id != g.device.template_id:
        abort(404)
    return render("public/device.html", tab="assistant", element=found)


@bp.get("/c/<token>/new")
def new_ticket(token):
    """Choose one of the template's active creation flows."""
    return render("public/new.html", flows=g.device.template.active_flows)


@bp.post("/c/<token>/flows/<int:flow_id>")
def start_flow(token, flow_id):
    """Start a draft from a flow and go to its first step."""
    flow = db.session.get(Flow, flow_id)
    if flow is None or flow.template_id != g.device.template_id or not flow.active:
        abort(404)
    back_on_refusal(url_for("public.new_ticket", token=token))
    ticket = tickets.start_draft(flow, g.device, actor=g.visitor)
    return redirect(url_for("public.wizard_step", token=token, number=ticket.number, position=0))


# The ticket page shows the ticket's answers and ratings: loaded with it, one SELECT each.
PAGE_OPTIONS = (selectinload(Ticket.answers), selectinload(Ticket.ratings))


def _ticket_or_404(number, options=()):
    """A ticket of this code's device the visitor may see; otherwise a 404 that says so and leads back to the
    device page, the same whether the ticket never existed, was deleted or turned INTERNAL (DESIGN.md §5: code
    users learn nothing about INTERNAL tickets). `options` are loader options for a ticket not yet in the session."""
    ticket = db.session.get(Ticket, number, options=options)
    if ticket is None or ticket.device_id != g.device.id or not policy.can_view_ticket(g.visitor, ticket):
        abort(render("public/ticket_unavailable.html", block="message", status=404))
    return ticket


@bp.route("/c/<token>/t/<int:number>/step/<int:position>", methods=["GET", "POST"])
def wizard_step(token, number, position):
    """One step of a draft: show it, or answer it and go on (the last step submits)."""
    return step_view(
        _ticket_or_404(number),
        position,
        actor=g.visitor,
        template="public/wizard.html",
        step_url=lambda at: url_for("public.wizard_step", token=token, number=number, position=at),
        exit_url=url_for("public.device", token=token, tab="tickets"),
        done_url=url_for("public.ticket", token=token, number=number),
    )


@bp.post("/c/<token>/t/<int:number>/delete")
def delete_draft(token, number):
    """Throw away one of this browser's drafts."""
    ticket = _ticket_or_404(number)
    back = url_for("public.device", token=token, tab="tickets")
    back_on_refusal(back, code=303)
    tickets.delete_draft(ticket, actor=g.visitor)
    flash(_("The draft was deleted."), "success")
    return redirect(back, code=303)


def _public_updates(ticket, with_answers):
    """The ticket's updates the code user may see (PUBLIC ones), newest first, with their files; with those of the
    ticket's answers too when `with_answers` (one SELECT for both)."""
    updates = db.session.scalars(
        Update.visible_to(g.visitor).where(Update.ticket_id == ticket.id).order_by(Update.created_at.desc(), Update.id.desc())
    ).all()
    Attachment.fill(ticket.id, answers=ticket.answers if with_answers else (), updates=updates)
    return updates


def _ticket_page(ticket, block=None, status=200, error=None, form=None, update_error=None):
    """The ticket page (or its live block) for the code user."""
    return render(
        "public/ticket.html",
        block=block,
        status=status,
        ticket=ticket,
        updates=_public_updates(ticket, with_answers=block is None or not is_htmx()),  # a block shows no answers
        status_path=STATUS_PATH,
        error=error,
        update_error=update_error,
        form=form or {},
        accept=uploads.ACCEPT_ATTRIBUTE,
        public_visibility=Visibility.PUBLIC,
    )


@bp.get("/c/<token>/t/<int:number>")
def ticket(token, number):
    """The ticket page: status, answers, updates, messenger, cancel and rating."""
    found = _ticket_or_404(number, PAGE_OPTIONS)
    if found.status == TicketStatus.DRAFT:
        position = tickets.first_open_step(found)
        position = len(found.answers) - 1 if position is None else position
        return redirect(url_for("public.wizard_step", token=token, number=number, position=position))
    return _ticket_page(found)


@bp.get("/c/<token>/t/<int:number>/live")
def ticket_live(token, number):
    """The status and actions block (or with ?part=updates the updates), refetched when the ticket changes."""
    found = _ticket_or_404(number)
    if found.status == TicketStatus.DRAFT:
        abort(404)
    return _ticket_page(found, block="updates" if request.args.get("part") == "updates" else "live")


def _after_write(token, number, call, success, block="live"):
    """Run one service call on the ticket; back to the page, or the page with the message on refusal.

    A posted update answers htmx with the fresh updates block, so text typed meanwhile stays on the page.
    """
    found = _ticket_or_404(number)
    on_refusal(
        lambda error: _ticket_page(
            _ticket_or_404(number),
            block=block,
            form=request.form,
            **{"update_error" if block == "updates" else "error": error.message},
        )
    )
    call(found)
    if block == "updates" and is_htmx():
        return _ticket_page(_ticket_or_404(number), block=block)
    flash(success, "success")
    return redirect_after_write(url_for("public.ticket", token=token, number=number))


@bp.post("/c/<token>/t/<int:number>/updates")
def post_update(token, number):
    """A public update with optional files from the code user (an append: no version to match)."""
    return _after_write(
        token,
        number,
        lambda found: tickets.post_update(
            found, request.form.get("body"), Visibility.PUBLIC, actor=g.visitor, files=request.files.getlist("files")
        ),
        _("Your update was added."),
        block="updates",
    )


@bp.post("/c/<token>/t/<int:number>/cancel")
def cancel(token, number):
    """The creator cancels their ticket while it is still OPEN."""
    return _after_write(
        token,
        number,
        lambda found: tickets.cancel_ticket(found, actor=g.visitor),
        _("The ticket was cancelled."),
    )


@bp.post("/c/<token>/t/<int:number>/rate")
def rate(token, number):
    """Rate a DONE ticket with one to five smileys; this closes it."""
    return _after_write(
        token,
        number,
        lambda found: tickets.rate_ticket(
            found,
            request.form.get("score"),
            request.form.get("comment"),
            actor=g.visitor,
        ),
        _("Thank you for your rating."),
    )


@bp.app_template_global()
def button_url(button, token):
    """Where an assistant action button leads (flows start with a POST, see the template)."""
    if button.target == ButtonTarget.ELEMENT and button.target_element_id:
        return url_for("public.element", token=token, element_id=button.target_element_id)
    if button.target == ButtonTarget.URL and (button.url or "").lower().startswith(SAFE_URL_SCHEMES):
        return button.url
    return None


@bp.app_template_global()
def upload_accept():
    """The accept attribute for file inputs: the types uploads.py lets through."""
    return uploads.ACCEPT_ATTRIBUTE
