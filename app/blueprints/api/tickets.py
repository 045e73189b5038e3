"""Tickets over the API: list (the overview's filters, search, cursor paging), read with answers, create with a
flow's answers, status events, priority and visibility, messages, updates and attachments.

Every call goes through the same services and policy as the ticket pages, acting as the token's employee. A
ticket's `version` is its ETag; a change sent with `If-Match` on an outdated version is refused with 409.
"""
import os

import sqlalchemy as sa
from flask import request, send_file, url_for
from flask_babel import gettext as _
from marshmallow import Schema, fields, validate
from sqlalchemy.orm import selectinload

from app import file_names, labels, policy, workflow
from app.blueprints.api import core
from app.blueprints.api.problems import ApiProblem
from app.blueprints.api.resources import not_found, row_or_404
from app.blueprints.api.schemas import (
    AttachmentSchema,
    EmployeeRef,
    IdNameRef,
    ListArgs,
    cursor_page,
    enum_field,
)
from app.blueprints.tickets import overview
from app.enums import Priority, Visibility
from app.extensions import db
from app.formatting import question_of
from app.models import Attachment, Device, Flow, Offer, Ticket, Update
from app.services import messenger, tickets, uploads
from app.workflow import MANUAL_EVENTS, TicketStatus

blp = core.resource("tickets", "Tickets: list, read, create, status events, priority, visibility, messages, "
                               "updates and attachments.")

KEYSET_SORTS = {"-activity", "activity", "-created", "created", "-number", "number"}
ID_RANGE = validate.Range(min=1, max=2**63 - 1)
ETAG_HEADER = {"ETag": {"description": "The ticket's version.", "schema": {"type": "string"}}}


# --- schemas -----------------------------------------------------------------


def _attachments_field():
    """The `attachments` of an answer, message or update: its files, each with the API address of its content."""
    return fields.Function(lambda item: AttachmentSchema(many=True).dump([_with_url(a) for a in item.attachments]),
                           required=True)


class DeviceRef(IdNameRef):
    """The device a ticket is about."""


class TicketSchema(Schema):
    """A ticket as lists show it."""

    number = fields.Integer(required=True)
    display_number = fields.String(required=True, metadata={"description": "T-00042"})
    title = fields.String(required=True)
    status = enum_field(TicketStatus, required=True)
    visibility = enum_field(Visibility, required=True)
    priority = enum_field(Priority, required=True)
    flow_title = fields.String(required=True)
    device = fields.Nested(DeviceRef, required=True)
    template_id = fields.Integer(required=True)
    flow_id = fields.Integer(required=True, allow_none=True)
    customer_id = fields.Integer(required=True, allow_none=True)
    created_at = fields.AwareDateTime(required=True)
    submitted_at = fields.AwareDateTime(required=True, allow_none=True)
    last_activity_at = fields.AwareDateTime(required=True)
    done_at = fields.AwareDateTime(required=True, allow_none=True)
    closed_at = fields.AwareDateTime(required=True, allow_none=True)
    rating_score = fields.Integer(required=True, allow_none=True)
    version = fields.Integer(required=True, metadata={"description": "Also sent as the ETag."})
    responsible = fields.List(fields.Nested(EmployeeRef), required=True, attribute="responsible_employees")


class AnswerSchema(Schema):
    """One answered (or skipped) step, with the question as it was asked."""

    position = fields.Integer(required=True)
    step_id = fields.Integer(required=True, allow_none=True)
    question = fields.Function(lambda answer: str(question_of(answer)), required=True, metadata={
        "description": "The question as asked; system steps (priority, visibility) in the reader's language"})
    type = fields.Function(lambda answer: answer.type.value, required=True)
    required = fields.Boolean(required=True)
    answered = fields.Boolean(required=True)
    value = fields.Raw(required=True, allow_none=True, metadata={"description": "The answer as stored, for machines"})
    text = fields.Function(lambda answer: str(labels.answer_text(answer)) if answer.text else "", required=True,
                           metadata={"description": "The answer as the pages show it, in the reader's language"})
    attachments = _attachments_field()


class TicketDetailSchema(TicketSchema):
    """A ticket with its answers and what the token's employee may do with it now."""

    answers = fields.List(fields.Nested(AnswerSchema), required=True)
    events = fields.List(fields.String(), required=True, attribute="allowed_events",
                         metadata={"description": "Status events the employee may fire now."})


TicketPageSchema = cursor_page(TicketSchema, "One page of tickets.")


class TicketListArgs(ListArgs):
    """The overview's filters (the same names as its URL) and the sort order."""

    status = fields.List(enum_field(TicketStatus), metadata={"description": "Default: every status still in work."})
    visibility = enum_field(Visibility)
    priority = enum_field(Priority)
    template = fields.Integer(validate=ID_RANGE)
    flow = fields.Integer(validate=ID_RANGE)
    device = fields.Integer(validate=ID_RANGE)
    customer = fields.Integer(validate=ID_RANGE)
    responsible = fields.String(validate=validate.Regexp(r"^(me|none|[1-9][0-9]{0,17})$"),
                                metadata={"description": "me, none or an employee id."})
    offers = fields.String(validate=validate.OneOf(["me"]), metadata={"description": "me: my pending offers."})
    rating = fields.String(validate=validate.OneOf(["1", "2", "3", "4", "5", "none"]))
    created_from = fields.Date()
    created_to = fields.Date()
    q = fields.String(validate=validate.Length(max=200), metadata={"description": "Full-text search."})
    sort = fields.String(load_default="-activity", validate=validate.OneOf(sorted(KEYSET_SORTS)))


class AnswerInput(Schema):
    """The answer to one step of the flow, as the wizard's form would send it."""

    step_id = fields.Integer(required=True, validate=ID_RANGE)
    value = fields.Raw(required=True, allow_none=True, metadata={
        "description": "Text, a number or date as text, yes/no, an option's text, a list of options, or "
                       "{name, email, phone} for a requester step.",
    })


class TicketCreateSchema(Schema):
    """A new ticket: device, creation flow and its answers; it is submitted at once."""

    device = fields.Integer(required=True, validate=ID_RANGE)
    flow = fields.Integer(required=True, validate=ID_RANGE)
    answers = fields.List(fields.Nested(AnswerInput), load_default=list)
    visibility = enum_field(Visibility, metadata={"description": "Default internal."})


class TicketChangeSchema(Schema):
    """Priority and/or visibility to set."""

    priority = enum_field(Priority)
    visibility = enum_field(Visibility)


class EventSchema(Schema):
    """A status event."""

    event = fields.String(required=True, validate=validate.OneOf(MANUAL_EVENTS))


class MessageSchema(Schema):
    """A message in the ticket's messenger."""

    id = fields.Integer(required=True)
    kind = fields.Function(lambda message: message.kind.value, required=True)
    body = fields.String(required=True)
    author = fields.Nested(EmployeeRef, required=True, allow_none=True, attribute="author_employee",
                           metadata={"description": "null: the code user."})
    created_at = fields.AwareDateTime(required=True)
    attachments = _attachments_field()


MessagePageSchema = cursor_page(MessageSchema, "Messages, newest first.")


class MessageInput(Schema):
    """A text message."""

    body = fields.String(required=True, validate=validate.Length(min=1, max=messenger.MAX_BODY))
    client_id = fields.String(validate=validate.Regexp(messenger.CLIENT_ID.pattern + "$"), metadata={
        "description": "Your id for this message: sending it again stores it once."})


class UpdateSchema(Schema):
    """A public (service history) or internal update."""

    id = fields.Integer(required=True)
    internal = fields.Function(lambda update: update.visibility == Visibility.INTERNAL, required=True)
    body = fields.String(required=True)
    author = fields.Nested(EmployeeRef, required=True, allow_none=True, attribute="author_employee")
    created_at = fields.AwareDateTime(required=True)
    attachments = _attachments_field()


UpdatePageSchema = cursor_page(UpdateSchema, "Updates, newest first.")


class UpdateInput(Schema):
    """A text update."""

    body = fields.String(required=True, validate=validate.Length(min=1, max=20000))
    internal = fields.Boolean(load_default=False)


class UploadInput(Schema):
    """Files with an optional text, posted as one update (default) or one message."""

    body = fields.String(load_default="", validate=validate.Length(max=5000))
    internal = fields.Boolean(load_default=False)
    into = fields.String(load_default="update", validate=validate.OneOf(["update", "message"]))


class UploadFiles(Schema):
    """The files themselves (multipart field `files`, repeated)."""

    files = fields.List(fields.Raw(metadata={"type": "string", "format": "binary"}), required=True)


class UploadResultSchema(Schema):
    """Where the files went."""

    update = fields.Nested(UpdateSchema, allow_none=True)
    message = fields.Nested(MessageSchema, allow_none=True)


class AttachmentListSchema(Schema):
    """The ticket's files the employee may fetch."""

    items = fields.List(fields.Nested(AttachmentSchema), required=True)


# --- helpers -----------------------------------------------------------------


def _with_url(attachment):
    """An attachment with the API address of its content."""
    attachment.url = url_for("api_tickets.attachment_content", number=attachment.ticket_id, attachment_id=attachment.id)
    return attachment


def _ticket(number):
    """The ticket if the token's employee may see it, else 404 (drafts only their creator's)."""
    return row_or_404(Ticket, number, lambda row: policy.can_view_ticket(core.actor(), row),
                      _("This ticket does not exist or is not available to you."))


def _detail(ticket, status=200, headers=None):
    """The ticket with answers and allowed events, its ETag, and `headers`."""
    ticket = db.session.get(Ticket, ticket.id, populate_existing=True)
    ticket.allowed_events = [e for e in workflow.available_events(ticket.status, manual_only=True)
                     if policy.can_fire(core.actor(), ticket, e)]
    return ticket, status, {"ETag": core.etag_of(ticket.version), **(headers or {})}


def _submitted(ticket):
    """Messages, updates and files belong to submitted tickets: 404 for a draft, as on the pages."""
    if ticket.status == TicketStatus.DRAFT:
        raise not_found(_("This ticket is still a draft."))
    return ticket


# --- tickets -----------------------------------------------------------------


@blp.get("")
@core.require_scope("read")
@blp.arguments(TicketListArgs, location="query", as_kwargs=True)
@blp.response(200, TicketPageSchema)
@core.documented(
    "Tickets the employee sees, filtered like the overview (default: all still in work), newest activity first; "
    '`q` searches their text. A `q` that is a ticket number ("42", "T-00042", "t42") searches every status unless'
    " `status` is given, so the number always finds its ticket.",
    400, 422,
)
def list_tickets(cursor=None, limit=50, sort="-activity", **_filters):
    filters = overview.Filters.from_args(request.args)
    if filters.number is not None and not filters.statuses:
        filters.statuses = list(overview.LISTED_STATUSES)  # a ticket number finds its ticket in every status
    filters.sort = sort
    query = sa.select(Ticket).where(Ticket.visible_clause(core.actor()), *filters.conditions(core.actor()))
    if cursor:
        position = overview.Position.decode(cursor, sort)
        if position is None:
            raise core.bad_cursor()
        query = query.where(overview.keyset_condition(position))
    rows = db.session.scalars(
        query.order_by(*filters.order_by()).limit(limit + 1).options(
            selectinload(Ticket.device), selectinload(Ticket.offers).selectinload(Offer.employee)
        )
    ).all()
    next_cursor = overview.Position.of(rows[limit - 1], sort).encode() if len(rows) > limit else None
    return {"items": rows[:limit], "next_cursor": next_cursor}


@blp.post("")
@core.require_scope("write")
@blp.arguments(TicketCreateSchema)
@blp.response(201, TicketDetailSchema, headers={**ETAG_HEADER, **core.LOCATION_HEADER})
@core.documented(
    "Create a ticket as the employee: the device, one of its template's active creation flows, the answers to its"
    " steps (by step id); it is submitted at once, offers and notifications go out as from the pages.",
    400, 404, 413, 415, 422,
)
def create_ticket(data):
    device = db.session.get(Device, data["device"])
    flow = db.session.get(Flow, data["flow"])
    answers = {}
    for item in data["answers"]:
        answers[item["step_id"]] = item["value"]
    visibility = data.get("visibility")
    ticket = tickets.create_ticket(flow, device, answers, actor=core.actor(),
                                   visibility=visibility.value if visibility else None)
    return _detail(ticket, 201, {"Location": url_for("api_tickets.get_ticket", number=ticket.id)})


@blp.get("/<int:number>")
@core.require_scope("read")
@blp.response(200, TicketDetailSchema, headers=ETAG_HEADER)
@core.documented("One ticket with its answers.", 404)
def get_ticket(number):
    return _detail(_ticket(number))


@blp.patch("/<int:number>")
@core.require_scope("write")
@blp.arguments(TicketChangeSchema)
@blp.response(200, TicketDetailSchema, headers=ETAG_HEADER)
@core.takes_if_match
@core.documented(
    "Set the priority and/or the visibility (employees who work on the ticket).",
    400, 404, 409, 413, 415, 422,
)
def change_ticket(data, number):
    ticket = _submitted(_ticket(number))
    expected = core.if_match_version()
    if data.get("priority") is not None:
        tickets.set_priority(ticket, data["priority"], actor=core.actor(), expected_version=expected)
        expected = None  # the first change moved the version this request saw
    if data.get("visibility") is not None:
        tickets.set_visibility(ticket, data["visibility"], actor=core.actor(), expected_version=expected)
    return _detail(ticket)


@blp.post("/<int:number>/events")
@core.require_scope("write")
@blp.arguments(EventSchema)
@blp.response(200, TicketDetailSchema, headers=ETAG_HEADER)
@core.takes_if_match
@core.documented(
    "Fire a status event: start, pause, finish, close, cancel or reopen (409 when the status does not allow it).",
    400, 404, 409, 413, 415, 422,
)
def fire_event(data, number):
    ticket = _submitted(_ticket(number))
    tickets.fire_event(ticket, data["event"], actor=core.actor(), expected_version=core.if_match_version())
    return _detail(ticket)


# --- messages and updates ----------------------------------------------------


@blp.get("/<int:number>/messages")
@core.require_scope("read")
@blp.arguments(ListArgs, location="query", as_kwargs=True)
@blp.response(200, MessagePageSchema)
@core.documented("The ticket's messages, newest first.", 400, 404, 422)
def list_messages(number, cursor=None, limit=50):
    ticket = _submitted(_ticket(number))
    messenger.require_reader(core.actor(), ticket)
    rows, has_older = messenger.thread_page(ticket, before=core.after_id(cursor), limit=limit)
    rows = list(reversed(rows))
    return {"items": rows, "next_cursor": core.next_id_cursor(rows, has_older)}


@blp.post("/<int:number>/messages")
@core.require_scope("write")
@blp.arguments(MessageInput)
@blp.response(201, MessageSchema)
@core.documented(
    "Write a message (employees responsible for the ticket, and moderators).",
    400, 404, 409, 413, 415, 422,
)
def post_message(data, number):
    ticket = _submitted(_ticket(number))
    return messenger.post_message(ticket, data["body"], actor=core.actor(), client_id=data.get("client_id"))


@blp.get("/<int:number>/updates")
@core.require_scope("read")
@blp.arguments(ListArgs, location="query", as_kwargs=True)
@blp.response(200, UpdatePageSchema)
@core.documented("The ticket's public and internal updates, newest first.", 400, 404, 422)
def list_updates(number, cursor=None, limit=50):
    ticket = _submitted(_ticket(number))
    query = Update.visible_to(core.actor()).where(Update.ticket_id == ticket.id)
    before = core.after_id(cursor)
    if before:
        query = query.where(Update.id < before)
    rows, next_cursor = core.id_cursor_page(db.session.scalars(
        query.order_by(Update.id.desc()).limit(limit + 1)
        .options(selectinload(Update.attachments), selectinload(Update.author_employee))
    ).all(), limit)
    return {"items": rows, "next_cursor": next_cursor}


@blp.post("/<int:number>/updates")
@core.require_scope("write")
@blp.arguments(UpdateInput)
@blp.response(201, UpdateSchema)
@core.documented("Post a public or internal update (employees who work on the ticket).", 400, 404, 413, 415, 422)
def post_update(data, number):
    ticket = _submitted(_ticket(number))
    visibility = Visibility.INTERNAL if data["internal"] else Visibility.PUBLIC
    return tickets.post_update(ticket, data["body"], visibility, actor=core.actor())


# --- attachments -------------------------------------------------------------


@blp.get("/<int:number>/attachments")
@core.require_scope("read")
@blp.response(200, AttachmentListSchema)
@core.documented("The ticket's files (answers, messages, updates) the employee may fetch.", 404)
def list_attachments(number):
    ticket = _submitted(_ticket(number))
    rows = db.session.scalars(
        sa.select(Attachment).where(Attachment.ticket_id == ticket.id).order_by(Attachment.id)
    ).all()
    updates = {u.id: u for u in db.session.scalars(sa.select(Update).where(Update.ticket_id == ticket.id))}
    visible = [
        _with_url(a) for a in rows
        if policy.can_view_attachment(core.actor(), ticket, updates.get(a.update_id), in_message=a.message_id is not None)
    ]
    return {"items": visible}


@blp.post("/<int:number>/attachments")
@core.require_scope("write")
@blp.arguments(UploadInput, location="form")
@blp.arguments(UploadFiles, location="files")
@blp.response(201, UploadResultSchema)
@core.documented(
    "Upload files (multipart `files`, up to the per-message limit) as one update (`into=update`, public or "
    "`internal`) or one message (`into=message`), with an optional `body`.",
    400, 404, 409, 413, 415, 422,
)
def upload(data, files, number):
    ticket = _submitted(_ticket(number))
    stored = [storage for storage in request.files.getlist("files") if storage and storage.filename]
    if not stored:
        raise ApiProblem(422, _("Please attach at least one file."), errors={"files": [_("Missing.")]})
    if data["into"] == "message":
        message = messenger.post_files_message(ticket, data["body"], stored, actor=core.actor())
        return {"message": message, "update": None}
    visibility = Visibility.INTERNAL if data["internal"] else Visibility.PUBLIC
    update = tickets.post_update(ticket, data["body"], visibility, actor=core.actor(), files=stored)
    return {"update": update, "message": None}


@blp.get("/<int:number>/attachments/<int:attachment_id>")
@core.require_scope("read")
@blp.response(200, {"type": "string", "format": "binary"}, content_type="*/*",
              description="The file as it was uploaded.")
@core.documented("Download one file of the ticket.", 404)
def attachment_content(number, attachment_id):
    ticket = _submitted(_ticket(number))

    def visible(attachment):
        """A file of this ticket the employee may see (as on the ticket page)."""
        if attachment.ticket_id != ticket.id:
            return False
        update = db.session.get(Update, attachment.update_id) if attachment.update_id else None
        return policy.can_view_attachment(core.actor(), ticket, update, in_message=attachment.message_id is not None)

    attachment = row_or_404(Attachment, attachment_id, visible, _("This file does not exist or is not available to you."))
    path = os.path.join(uploads.folder(), attachment.stored_name)
    if not os.path.isfile(path):
        raise not_found(_("This file is missing from the storage."))
    return send_file(path, mimetype=attachment.content_type, as_attachment=True,
                     download_name=file_names.clean(attachment.original_name) or "file")

