"""Messenger over HTTP: the thread fragment and posting (the fallback when no socket is connected)."""
from flask import Blueprint, abort, current_app, flash, redirect, request, url_for
from werkzeug.routing import BuildError

from app import identity, policy, realtime
from app.extensions import db
from app.htmx import is_htmx, render
from app.models import Code, CodeSession, Message, Ticket
from app.services import messenger
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


def panel_context(ticket, error=None, body=""):
    """Everything _panel.html shows for `ticket` and the actor of this page."""
    actor = messenger_actor()
    readable = ticket is not None and policy.can_read_messages(actor, ticket)
    if not readable:
        return {"visible": False}
    messages, has_older = messenger.thread_page(ticket)
    can_post = policy.can_post_message(actor, ticket)
    is_staff = policy.is_employee(actor)
    return {
        "visible": True,
        "ticket": ticket,
        "actor": actor,
        "me": realtime.actor_key(actor),
        "as_code": not is_staff,
        "messages": messages,
        "has_older": has_older,
        "can_post": can_post,
        "refusal": None if can_post else messenger.write_refusal(actor, ticket),
        "last_read": messenger.last_read_id(ticket, actor),
        "elements": messenger.assistant_elements(ticket) if can_post and is_staff else [],
        "video_enabled": bool(can_post and is_staff and messenger.video_base_url()),
        "next": page_path(),
        "error": error,
        "body": body,
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


def _panel_response(ticket, status=200, error=None, body=""):
    """The re-rendered panel for htmx."""
    return render("messenger/_panel.html", "panel", status=status, ticket=ticket, panel_error=error, panel_body=body)


def _after_post(ticket, error=None, body=""):
    """htmx: the fresh panel (with the error); plain form: back to the ticket page."""
    if is_htmx():
        status = error.status_code if error is not None else 200
        return _panel_response(ticket, status, error.message if error is not None else None, body)
    if error is not None:
        if error.status_code == 404:
            abort(404)
        flash(error.message, "error")
    target = _safe_path(request.values.get("next"))
    if not target:
        target = url_for("messenger.thread", number=ticket.id)
    return redirect(target, 303)


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
    """Post a text message with optional files."""
    ticket, actor = _ticket(number)
    body = request.form.get("body", "")
    try:
        files = [f for f in request.files.getlist("files") if f and f.filename]
        if files:
            messenger.post_files_message(ticket, body, files, actor=actor)
        else:
            messenger.post_message(ticket, body, actor=actor)
    except ServiceError as error:
        db.session.rollback()
        return _after_post(ticket, error, body)
    return _after_post(ticket)


@bp.post("/tickets/<int:number>/messages/voice")
def voice(number):
    """Post a recorded voice message."""
    ticket, actor = _ticket(number)
    try:
        messenger.post_voice_message(ticket, request.files.get("audio"), actor=actor)
    except ServiceError as error:
        db.session.rollback()
        return _after_post(ticket, error)
    return _after_post(ticket)


@bp.post("/tickets/<int:number>/messages/assistant-link")
def assistant_link(number):
    """Send a link to a page of the device's assistant."""
    ticket, actor = _ticket(number)
    try:
        messenger.send_assistant_link(ticket, request.form.get("element"), actor=actor)
    except ServiceError as error:
        db.session.rollback()
        return _after_post(ticket, error)
    return _after_post(ticket)


@bp.post("/tickets/<int:number>/video-session")
def video_session(number):
    """Start a video session and send its join link."""
    ticket, actor = _ticket(number)
    try:
        messenger.start_video_session(ticket, actor=actor)
    except ServiceError as error:
        db.session.rollback()
        return _after_post(ticket, error)
    return _after_post(ticket)


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
