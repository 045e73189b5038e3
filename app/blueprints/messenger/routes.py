"""Messenger over HTTP: the thread fragment and posting (the fallback when no socket is connected)."""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from app import identity, policy, realtime
from app.extensions import db
from app.htmx import is_htmx, render
from app.ids import parse_id
from app.models import Code, CodeSession, Message, Ticket
from app.redirects import safe_next
from app.refusals import on_refusal
from app.services import messenger, uploads

bp = Blueprint("messenger", __name__)


def file_url(attachment):
    """Where an attachment is served (permission-checked by the files area)."""
    return url_for("files.download", attachment_id=attachment.id)


def thumbnail_url(attachment):
    """The attachment's thumbnail, or the file itself."""
    if attachment.thumbnail_name:
        return url_for("files.thumb", attachment_id=attachment.id)
    return file_url(attachment)


def view_url(attachment):
    """The picture a browser can show for an image attachment (a HEIC photo's JPEG view)."""
    return url_for("files.view", attachment_id=attachment.id)


def speaks_as_code_user():
    """Whether this request acts for the browser's code user (code-user pages and their messenger posts)."""
    return request.blueprint == "public" or request.values.get("as") == "code"


def messenger_actor():
    """The actor of the messenger on this page: the code visitor on code-user pages, else the current actor."""
    if speaks_as_code_user():
        return identity.current_code_visitor()
    return identity.current_actor()


def _safe_path(target):
    """Only same-site paths (`app.redirects.safe_next`), else None."""
    return safe_next(target, None)


def page_path():
    """The ticket page the panel sits on (for the no-JavaScript redirect after posting)."""
    if request.blueprint == "messenger":
        return _safe_path(request.values.get("next")) or ""
    return request.path


def composer_context(ticket, actor):
    """What _composer.html shows: the form and its tools for those who may write, else the reason."""
    can_post = policy.can_post_message(actor, ticket)
    is_staff = policy.is_employee(actor)
    return {
        "can_post": can_post,
        "as_code": not is_staff,
        "refusal": None if can_post else messenger.write_refusal(actor, ticket),
        "elements": messenger.assistant_elements(ticket) if can_post and is_staff else [],
        "video_enabled": bool(can_post and is_staff and messenger.video_base_url()),
        "max_file_bytes": uploads.upload_limit_bytes() if can_post else 0,
        "max_files": uploads.max_files(),
        "next": page_path(),
    }


def panel_context(ticket):
    """Everything _panel.html shows for `ticket` and the actor of this page."""
    actor = messenger_actor()
    readable = ticket is not None and policy.can_read_messages(actor, ticket)
    if not readable:
        return {"visible": False}
    messages, has_older = messenger.thread_page(ticket)
    return {
        "visible": True,
        "ticket": ticket,
        "actor": actor,
        "me": realtime.actor_key(actor),
        "as_code": not policy.is_employee(actor),
        "messages": messages,
        "has_older": has_older,
        "last_read": messenger.last_read_id(ticket, actor),
        "composer": composer_context(ticket, actor),
    }


@bp.app_context_processor
def messenger_helpers():
    """Jinja helpers for the panel included by the ticket pages."""
    return {
        "messenger_panel": panel_context,
        "message_file_url": file_url,
        "message_thumbnail_url": thumbnail_url,
        "message_view_url": view_url,
        "message_author_key": realtime.author_key,
    }


def _ticket(number):
    """The ticket, readable by this actor, or 404."""
    ticket = db.session.get(Ticket, number)
    actor = messenger_actor()
    if ticket is None or not policy.can_read_messages(actor, ticket):
        abort(404)
    return ticket, actor


def _back_to_page(ticket):
    """Where a plain (no-JavaScript) form returns after posting: the page it came from, else the thread."""
    return _safe_path(request.values.get("next")) or url_for("messenger.thread", number=ticket.id)


def _answer(ticket, actor, message):
    """After a post. htmx and the browser's outbox: the stored message, so nothing on the page is replaced but the
    thread grows. A plain form: back to the ticket page (303)."""
    if is_htmx():
        return render("messenger/_message.html", message=message, me=realtime.actor_key(actor))
    return redirect(_back_to_page(ticket), 303)


def _refused(ticket, error):
    """A refused post: the reason alone for htmx and the outbox (answered with the error's status); a plain form
    goes back to the ticket page with the reason flashed, or gets the not-found page when the ticket is hidden."""
    if is_htmx():
        return render("messenger/_refusal.html", message=error.message)
    if error.status_code == 404:
        return render_template("errors/error.html", title=_("Not found"), text=error.message, status=404), 404
    flash(error.message, "error")
    return redirect(_back_to_page(ticket), 303)


def _post(number, operation):
    """Run one posting service for this request's actor and answer with `_answer` (the service checks access)."""
    ticket, actor = db.session.get(Ticket, number), messenger_actor()
    if ticket is None:
        abort(404)
    on_refusal(lambda error: _refused(ticket, error))
    return _answer(ticket, actor, operation(ticket, actor))


@bp.get("/tickets/<int:number>/messages")
def thread(number):
    """The thread fragment: the newest page, or with ?before=<id> the page of older messages."""
    ticket, actor = _ticket(number)
    before = parse_id(request.args.get("before"))
    messages, has_older = messenger.thread_page(ticket, before=before)
    template = "messenger/_older.html" if before else "messenger/_thread.html"
    return render(
        template,
        ticket=ticket,
        messages=messages,
        has_older=has_older,
        me=realtime.actor_key(actor),
        last_read=messenger.last_read_id(ticket, actor),
        as_code=not policy.is_employee(actor),
    )


@bp.post("/tickets/<int:number>/messages")
def post(number):
    """Post a text message with optional files; `client_id` (made by the browser) makes a repeat harmless."""
    body, client_id = request.form.get("body", ""), request.form.get("client_id")
    files = [f for f in request.files.getlist("files") if f and f.filename]
    if files:
        return _post(number, lambda t, a: messenger.post_files_message(t, body, files, actor=a, client_id=client_id))
    return _post(number, lambda t, a: messenger.post_message(t, body, actor=a, client_id=client_id))


@bp.post("/tickets/<int:number>/messages/voice")
def voice(number):
    """Post a recorded voice message."""
    audio, client_id = request.files.get("audio"), request.form.get("client_id")
    return _post(number, lambda t, a: messenger.post_voice_message(t, audio, actor=a, client_id=client_id))


@bp.post("/tickets/<int:number>/messages/assistant-link")
def assistant_link(number):
    """Send a link to a page of the device's assistant."""
    element = request.form.get("element")
    return _post(number, lambda t, a: messenger.send_assistant_link(t, element, actor=a))


@bp.post("/tickets/<int:number>/video-session")
def video_session(number):
    """Start a video session and send its join link."""
    return _post(number, lambda t, a: messenger.start_video_session(t, actor=a))


@bp.get("/tickets/<int:number>/messages/composer")
def composer(number):
    """The composer slot, or 204 while the actor's right to write is still `have` (write/read) as the page shows."""
    ticket, actor = _ticket(number)
    writable = policy.can_post_message(actor, ticket)
    if request.args.get("have") == ("write" if writable else "read"):
        return "", 204
    return render("messenger/_composer.html", ticket=ticket, c=composer_context(ticket, actor))


@bp.post("/tickets/<int:number>/messages/read")
def read(number):
    """Move the reader's marker to the given (or newest) message."""
    ticket, actor = _ticket(number)
    messenger.mark_read(ticket, actor=actor, message_id=parse_id(request.form.get("message")))
    return "", 204


def _code_token_for(actor, ticket):
    """A code token through which this code user reaches the ticket's device."""
    return db.session.scalar(
        db.select(Code.token)
        .join(CodeSession, CodeSession.code_id == Code.id)
        .where(
            CodeSession.code_user_id == actor.id,
            CodeSession.epoch == Code.session_epoch,
            Code.enabled.is_(True),
            Code.device_id == ticket.device_id,
        )
        .limit(1)
    )


@bp.get("/tickets/<int:number>/messages/<int:message_id>/open")
def open_link(number, message_id):
    """Open an assistant link: on the code user's device page, or as a preview for employees."""
    ticket, actor = _ticket(number)
    message = db.session.get(Message, message_id)
    if message is None or message.ticket_id != ticket.id or message.assistant_element is None:
        abort(404)
    element = message.assistant_element
    if policy.is_employee(actor):
        return render("messenger/element.html", ticket=ticket, element=element)
    token = _code_token_for(actor, ticket)
    if token is None:
        abort(404)
    return redirect(url_for("public.element", token=token, element_id=element.id))
