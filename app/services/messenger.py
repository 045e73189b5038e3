"""The ticket messenger: text with attachments, voice messages, assistant links, video sessions, read markers.

Posting is an append, not an edit of the ticket (DESIGN.md §7): it never moves the ticket's version and never
fails because someone else wrote at the same moment. A message may carry an id made by the sender's browser
(`client_id`); the same id on the same ticket is stored once, and a repeat answers the stored message.
"""
import re
import secrets
from functools import cache

import sqlalchemy as sa
from flask import current_app
from flask_babel import format_decimal
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload

from app import policy, realtime
from app.enums import MessageKind, NotificationEvent
from app.extensions import db
from app.ids import parse_id
from app.models import (
    AssistantElement,
    Message,
    MessageRead,
    Organisation,
    VideoSession,
)
from app.services import notifications, reports, search, service_levels, uploads
from app.services.errors import (
    ConflictError,
    NotFound,
    ServiceError,
    ValidationError,
    require,
)
from app.services.ticket_changes import actor_fields, lock_for_append

PAGE_SIZE = 30
MAX_BODY = 5000
CLIENT_ID = re.compile(r"[A-Za-z0-9_-]{8,64}")  # what the browser makes: a UUID or another URL-safe random string


def require_reader(actor, ticket):
    """404 for anyone who may not see the ticket's thread."""
    if ticket is None or not policy.can_read_messages(actor, ticket):
        raise NotFound(_("This ticket does not exist or is not available to you."))


def require_writer(actor, ticket):
    """404 when hidden, 403 with a reason when the thread is read-only for this actor."""
    require_reader(actor, ticket)
    require(policy.can_post_message(actor, ticket), write_refusal(actor, ticket))


def write_refusal(actor, ticket):
    """Why this actor may read but not write."""
    if policy.is_employee(actor):
        return _("Only employees responsible for this ticket can write messages.")
    return _("This ticket is finished; no more messages can be sent.")


@cache
def _thread_query(older):
    """SELECT of a page of messages (bound `ticket_id`, `limit`, and `before` when `older`), newest first, with what
    each shows: its author and attachments, loaded with the page, not one query per message. Built once per
    process: building and keying a statement costs about as much as running it."""
    query = (
        sa.select(Message)
        .where(Message.ticket_id == sa.bindparam("ticket_id"))
        .options(joinedload(Message.author_employee), selectinload(Message.attachments))
    )
    if older:
        query = query.where(Message.id < sa.bindparam("before"))
    return query.order_by(Message.id.desc()).limit(sa.bindparam("limit"))


def thread_page(ticket, *, before=None, limit=PAGE_SIZE):
    """Up to `limit` messages older than message `before` (newest page by default), oldest first; plus has_older."""
    bound = {"ticket_id": ticket.id, "limit": limit + 1}
    if before:
        bound["before"] = before
    rows = list(db.session.scalars(_thread_query(bool(before)), bound))
    has_older = len(rows) > limit
    return list(reversed(rows[:limit])), has_older


def _clean_body(body):
    """Trim and length-check a message text."""
    body = (body or "").replace("\r\n", "\n").strip()
    if len(body) > MAX_BODY:
        raise ValidationError(_("A message can have at most %(count)s characters.", count=format_decimal(MAX_BODY)), field="body")
    return body


def clean_client_id(value):
    """The browser-made message id: None when absent, else 8–64 URL-safe characters; ValidationError otherwise."""
    value = (value or "").strip()
    if not value:
        return None
    if not CLIENT_ID.fullmatch(value):
        raise ValidationError(_("This message cannot be sent: its id is not valid."), field="client_id")
    return value


def sent_before(ticket, client_id, *, actor):
    """The message this actor already stored on `ticket` under `client_id`, or None.

    Raises ConflictError when another author used the id (ids are random; this is not a repeat)."""
    if not client_id:
        return None
    message = db.session.scalar(sa.select(Message).where(Message.ticket_id == ticket.id, Message.client_id == client_id))
    if message is not None and realtime.author_key(message) != realtime.actor_key(actor):
        raise ConflictError(_("This message cannot be sent: its id is taken."), ticket_id=ticket.id)
    return message


def _discard(attachments):
    """Undo a write that did not happen: roll back and delete the files already stored on disk."""
    db.session.rollback()
    uploads.remove_files(attachments)


def _write(ticket, message, *, actor, attachments=()):
    """Store a message with its attachments, notify, commit, ring the room; a repeated client id answers the stored one.

    Takes the ticket's row lock first (`lock_for_append`) and checks the policy against the ticket as committed
    now, so a message never meets a half-done status or visibility change. On any refusal nothing is written and
    no file stays on disk. Raises NotFound, NotAllowed (the ticket became CLOSED, CANCELLED or INTERNAL)."""
    try:
        lock_for_append(ticket)
        require_writer(actor, ticket)
        stored = sent_before(ticket, message.client_id, actor=actor)
        if stored is None:
            db.session.add(message)
            db.session.flush()
    except IntegrityError:
        # The same browser id won a race on another connection: answer what it stored.
        _discard(attachments)
        stored = sent_before(ticket, message.client_id, actor=actor)
        if stored is None:
            raise
        return stored
    except (ServiceError, sa.exc.SQLAlchemyError):
        _discard(attachments)
        raise
    if stored is not None:
        _discard(attachments)
        return sent_before(ticket, message.client_id, actor=actor)
    for attachment in attachments:
        attachment.message_id = message.id
        attachment.ticket_id = ticket.id
    notifications.record(NotificationEvent.MESSAGE_POSTED, ticket, actor=actor, kind=message.kind.value, message=message)
    if message.author_code_user_id is not None or service_levels.responds(message):
        service_levels.track(ticket, responded=service_levels.responds(message), waiting=service_levels.responds(message))
    _mark_read_row(ticket, actor, message.id)
    try:
        db.session.flush()  # the search document reads the message back
        search.reindex_ticket(ticket.id, commit=False)  # in the message's transaction: stored means indexed
        if policy.is_employee(actor):  # a staff message may be the ticket's first response
            reports.sync_ticket(ticket)
        db.session.commit()
    except Exception:
        _discard(attachments)
        raise
    # The message itself first: everyone in the room waits for it, while the ticket-updated ring (a refetch
    # hint for the same sockets) and the bells can follow a moment later.
    realtime.message_posted(ticket, message)
    notifications.after_commit(ticket)
    return message


def post_message(ticket, body, *, actor, attachments=(), client_id=None):
    """A text message, optionally with already stored attachments (photos, videos, documents).

    `client_id`: the id the sender's browser made (see `clean_client_id`); a repeat answers the stored message
    and writes and notifies nothing. Raises ValidationError (empty, longer than MAX_BODY characters, more than
    MAX_FILES_PER_MESSAGE files), NotAllowed,
    NotFound, ConflictError (the id belongs to someone else)."""
    attachments = list(attachments)
    try:
        require_writer(actor, ticket)
        body = _clean_body(body)
        client_id = clean_client_id(client_id)
        uploads.check_file_count(len(attachments))
        if not body and not attachments:
            raise ValidationError(_("Write a message or attach a file."), field="body")
    except ServiceError:
        _discard(attachments)
        raise
    kind = MessageKind.TEXT if not attachments else MessageKind.ATTACHMENT
    message = Message(ticket_id=ticket.id, kind=kind, body=body, client_id=client_id, **actor_fields(actor, "author"))
    return _write(ticket, message, actor=actor, attachments=attachments)


def post_files_message(ticket, body, files, *, actor, client_id=None):
    """Check the uploads, store them and post them with the text in one message (a repeat stores no file).

    Raises ValidationError before anything is stored when there are more than MAX_FILES_PER_MESSAGE files."""
    require_writer(actor, ticket)
    body = _clean_body(body)
    client_id = clean_client_id(client_id)
    stored = sent_before(ticket, client_id, actor=actor)
    if stored is not None:
        return stored
    attachments = uploads.store_uploads(files, ticket=ticket, actor=actor)
    return post_message(ticket, body, actor=actor, attachments=attachments, client_id=client_id)


def post_voice_message(ticket, file_storage, *, actor, client_id=None):
    """A recorded voice message, stored as audio and played inline (a repeat stores no file)."""
    require_writer(actor, ticket)
    client_id = clean_client_id(client_id)
    stored = sent_before(ticket, client_id, actor=actor)
    if stored is not None:
        return stored
    if file_storage is None or not file_storage.filename:
        raise ValidationError(_("The recording is missing."), field="audio")
    attachment = uploads.store_upload(file_storage, ticket=ticket, actor=actor, audio_hint=True)
    if attachment.kind != "audio":
        _discard([attachment])
        raise ValidationError(_("This recording is not an audio file."), field="audio")
    message = Message(
        ticket_id=ticket.id, kind=MessageKind.VOICE, body="", client_id=client_id, **actor_fields(actor, "author")
    )
    return _write(ticket, message, actor=actor, attachments=[attachment])


@cache
def _elements_query():
    """SELECT of a template's assistant pages (bound `template_id`), id and title, in order; built once."""
    return (
        sa.select(AssistantElement.id, AssistantElement.title)
        .where(AssistantElement.template_id == sa.bindparam("template_id"))
        .order_by(AssistantElement.position, AssistantElement.id)
    )


def assistant_elements(ticket):
    """The assistant pages of the ticket's template, in order: rows of (id, title), not their bodies."""
    return db.session.execute(_elements_query(), {"template_id": ticket.template_id}).all()


def send_assistant_link(ticket, element_id, *, actor):
    """A link to a page of the device's assistant, opened on the code user's device page."""
    require_writer(actor, ticket)
    require(policy.is_employee(actor), _("Only employees can send assistant links."))
    number = parse_id(element_id)  # beyond the database's range or not digits: names no page
    element = db.session.get(AssistantElement, number) if number is not None else None
    if element is None or element.template_id != ticket.template_id:
        raise ValidationError(_("Choose a page of this device's assistant."), field="element")
    message = Message(
        ticket_id=ticket.id,
        kind=MessageKind.ASSISTANT_LINK,
        body=element.title,
        assistant_element_id=element.id,
        **actor_fields(actor, "author"),
    )
    return _write(ticket, message, actor=actor)


def video_base_url():
    """The configured video service (organisation setting first), or None."""
    org = Organisation.settings()
    return (org.video_base_url if org is not None else None) or current_app.config.get("VIDEO_BASE_URL") or None


def start_video_session(ticket, *, actor):
    """Create a video room for the ticket and send its join link."""
    require_writer(actor, ticket)
    require(policy.is_employee(actor), _("Only employees can start video sessions."))
    base = video_base_url()
    if not base:
        raise ValidationError(_("No video service is configured."))
    room = f"ticketwerk-{ticket.display_number}-{secrets.token_urlsafe(12)}".lower()
    session = VideoSession(ticket_id=ticket.id, room=room, url=base.rstrip("/") + "/" + room, created_by_id=actor.id)
    db.session.add(session)
    db.session.flush()
    message = Message(
        ticket_id=ticket.id,
        kind=MessageKind.VIDEO_SESSION,
        body="",
        video_session_id=session.id,
        **actor_fields(actor, "author"),
    )
    return _write(ticket, message, actor=actor)


def _reader_filter(actor):
    """Columns identifying the reader's MessageRead row."""
    if policy.is_employee(actor):
        return {"employee_id": actor.id, "code_user_id": None}
    return {"employee_id": None, "code_user_id": actor.id}


def _mark_read_row(ticket, actor, message_id):
    """Move the reader's marker forward (never back) in the current transaction."""
    if actor is None:
        return
    row = db.session.scalar(sa.select(MessageRead).filter_by(ticket_id=ticket.id, **_reader_filter(actor)))
    if row is None:
        row = MessageRead(ticket_id=ticket.id, last_read_message_id=0, **_reader_filter(actor))
        db.session.add(row)
    row.last_read_message_id = max(row.last_read_message_id or 0, int(message_id))


@cache
def _last_read_query(employee):
    """SELECT of a reader's marker (bound `ticket_id` and `reader`: an employee's or a code user's id), built once."""
    reader, other = (
        (MessageRead.employee_id, MessageRead.code_user_id) if employee else (MessageRead.code_user_id, MessageRead.employee_id)
    )
    return sa.select(MessageRead.last_read_message_id).where(
        MessageRead.ticket_id == sa.bindparam("ticket_id"), reader == sa.bindparam("reader"), other.is_(None)
    )


def last_read_id(ticket, actor):
    """The id of the newest message this reader has seen (0 when none)."""
    if actor is None:
        return 0
    query = _last_read_query(policy.is_employee(actor))
    return db.session.scalar(query, {"ticket_id": ticket.id, "reader": actor.id}) or 0


def latest_message_id(ticket):
    """The newest message id of the thread (0 when empty)."""
    return db.session.scalar(sa.select(sa.func.max(Message.id)).where(Message.ticket_id == ticket.id)) or 0


def mark_read(ticket, *, actor, message_id=None):
    """Record that the reader has seen the thread up to `message_id` (the newest by default)."""
    require_reader(actor, ticket)
    lock_for_append(ticket, activity=False)
    newest = latest_message_id(ticket)
    target = newest if message_id is None else min(int(message_id), newest)
    _mark_read_row(ticket, actor, target)
    db.session.commit()
    return target


def unread_count(ticket, actor):
    """Messages by others after the reader's marker."""
    query = sa.select(sa.func.count(Message.id)).where(
        Message.ticket_id == ticket.id, Message.id > last_read_id(ticket, actor)
    )
    if policy.is_employee(actor):
        query = query.where(sa.or_(Message.author_employee_id.is_(None), Message.author_employee_id != actor.id))
    elif actor is not None:
        query = query.where(sa.or_(Message.author_code_user_id.is_(None), Message.author_code_user_id != actor.id))
    return db.session.scalar(query) or 0
