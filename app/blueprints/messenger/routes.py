"""Messenger over HTTP: the thread fragment and posting (the fallback when no socket is connected)."""
from flask import Blueprint, abort, current_app, flash, redirect, request, url_for
from werkzeug.routing import BuildError

from app import identity, policy, realtime
from app.extensions import db
from app.htmx import is_htmx, render
from app.models import Code, CodeSession, Message, Ticket
from app.services import messenger, uploads
from app.services.errors import NotFound, ServiceError

bp = Blueprint("messenger", __name__)

FILE_ENDPOINTS = ("files.show", "files.download")
THUMB_ENDPOINTS = ("files.thumbnail", "files.thumb")


def _first_url(endpoints, **values):
    """The URL of the first endpoint that exists."""
    for endpoint in endpoints:
        try:
            return url_for(endpoint, **values)
        except BuildError:
            continue
    return None


def file_url(attachment):
    """Where an attachment is served (permission-checked by the files area)."""
    return _first_url(FILE_ENDPOINTS, attachment_id=attachment.id) or "#"


def thumbnail_url(attachment):
    """The attachment's thumbnail, or the file itself."""
    if attachment.thumbnail_name:
        return _first_url(THUMB_ENDPOINTS, attachment_id=attachment.id) or file_url(attachment)
    return file_url(attachment)


def speaks_as_code_user():
    """Whether this request acts for the browser's code user (code-user pages and their messenger posts)."""
    return request.blueprint == "public" or request.values.get("as") == "code"


def messenger_actor():
    """The actor of the messenger on this page: the code visitor on code-user pages, else the current actor."""
    if speaks_as_code_user():
        return identity.current_code_visitor()
    return identity.current_actor()


def _safe_path(target):
    """Only same-site relative paths."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return None


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
        "message_author_key": realtime.author_key,
    }


def _ticket(number):
    """The ticket, readable by this actor, or 404."""
    ticket = db.session.get(Ticket, number)
    actor = messenger_actor()
    if ticket is None or not policy.can_read_messages(actor, ticket):
        abort(404)
    return ticket, actor


def _answer(ticket, actor, message=None, error=None):
    """After a post. htmx and the browser's outbox: the stored message (200) or the refusal with its status, so
    nothing on the page is replaced but the thread grows. A plain form: back to the ticket page (303)."""
    if is_htmx():
        if error is not None:
            return render("messenger/_refusal.html", status=error.status_code, message=error.message)
        return render("messenger/_message.html", message=message, me=realtime.actor_key(actor))
    if error is not None:
        if error.status_code == 404:
            abort(404)
        flash(error.message, "error")
    target = _safe_path(request.values.get("next"))
    if not target:
        target = url_for("messenger.thread", number=ticket.id)
    return redirect(target, 303)


def _post(number, operation):
    """Run one posting service for this request's actor and answer with `_answer` (the service checks access)."""
    ticket, actor = db.session.get(Ticket, number), messenger_actor()
    if ticket is None:
        abort(404)
    try:
        message = operation(ticket, actor)
    except ServiceError as error:
        db.session.rollback()
        return _answer(ticket, actor, error=error)
    return _answer(ticket, actor, message=message)


@bp.get("/tickets/<int:number>/messages")
def thread(number):
    """The thread fragment: the newest page, or with ?before=<id> the page of older messages."""
    ticket, actor = _ticket(number)
    before = request.args.get("before", type=int)
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
    try:
        messenger.mark_read(ticket, actor=actor, message_id=request.form.get("message", type=int))
    except NotFound:
        abort(404)
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
    for endpoint, values in (
        ("public.assistant_element", {"token": token, "element_id": element.id}),
        ("public.element", {"token": token, "element_id": element.id}),
        ("public.assistant", {"token": token, "element": element.id}),
        ("public.device", {"token": token, "element": element.id}),
    ):
        try:
            return redirect(url_for(endpoint, **values))
        except BuildError:
            continue
    current_app.logger.info("No assistant page endpoint for element %s", element.id)
    return redirect(f"/c/{token}?element={element.id}")
