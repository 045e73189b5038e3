"""Ticket operations: drafts, answers, submission, workflow events, visibility, priority, updates, ratings."""
from datetime import timedelta

import sqlalchemy as sa
from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app import policy, workflow
from app.enums import NotificationEvent, Priority, StepType, Visibility
from app.extensions import db
from app.models import Answer, Attachment, Rating, Ticket, Update
from app.models._types import utcnow
from app.services import answers as answer_rules
from app.services import (
    notifications,
    offers,
    receivers,
    reports,
    search,
    service_levels,
)
from app.services.errors import (
    InvalidTransition,
    NotAllowed,
    NotFound,
    ServiceError,
    ValidationError,
    require,
)
from app.services.ticket_changes import (
    actor_fields,
    check_version,
    commit_ticket,
    guards_conflicts,
    lock_for_append,
    record_event,
    touch,
)
from app.workflow import TicketStatus

SYSTEM_STEP_QUESTIONS = {StepType.VISIBILITY: "Visibility"}
# The refusal of an action the ticket's status does not allow: one whole sentence per status (not a status name
# glued into one sentence), so German can word each one.
NOT_POSSIBLE_IN_STATUS = {
    TicketStatus.DRAFT: _l("This is not possible while the ticket is a draft."),
    TicketStatus.OPEN: _l("This is not possible while the ticket is open."),
    TicketStatus.ASSIGNED: _l("This is not possible while the ticket is assigned."),
    TicketStatus.IN_PROGRESS: _l("This is not possible while the ticket is in progress."),
    TicketStatus.DONE: _l("This is not possible while the ticket is done."),
    TicketStatus.CLOSED: _l("This is not possible while the ticket is closed."),
    TicketStatus.CANCELLED: _l("This is not possible while the ticket is cancelled."),
}


def start_draft(flow, device, *, actor):
    """Create a DRAFT for `device` from `flow`, copying every step so later flow edits change nothing."""
    ticket = _new_draft(flow, device, actor=actor)
    db.session.commit()
    return ticket


def _new_draft(flow, device, *, actor):
    """The DRAFT of `start_draft`, added to the session without committing."""
    if flow is None or device is None:
        raise NotFound(_("This creation flow or device does not exist."))
    require(policy.can_create_ticket(actor, device.id), _("You cannot create tickets for this device."))
    if not flow.active or flow.template_id != device.template_id:
        raise ValidationError(_("This creation flow is not available for this device."))
    ticket = Ticket(
        device=device,
        template_id=device.template_id,
        flow=flow,
        flow_title=flow.title,
        customer_id=device.customer_id,
        status=TicketStatus.DRAFT,
        visibility=Visibility.PUBLIC,
        **actor_fields(actor, "creator"),
    )
    for position, step in enumerate(flow.steps):
        ticket.answers.append(
            Answer(
                step_id=step.id,
                position=position,
                question=step.question,
                type=step.type,
                help_text=step.help_text,
                required=step.required,
                options=list(step.options or []),
                is_title=step.is_title,
            )
        )
    if policy.is_employee(actor):
        ticket.visibility = Visibility.INTERNAL
        ticket.answers.append(
            Answer(
                position=len(flow.steps),
                question=SYSTEM_STEP_QUESTIONS[StepType.VISIBILITY],
                type=StepType.VISIBILITY,
                required=True,
                options=[v.value for v in Visibility],
                value=Visibility.INTERNAL.value,
                text=Visibility.INTERNAL.name,
            )
        )
    db.session.add(ticket)
    return ticket


def create_ticket(flow, device, answers, *, actor, visibility=None):
    """Create and submit a ticket in one go (the API's way): a draft from `flow` for `device` with `answers`
    ({step id: raw value as the wizard's form would send it}) and, for employees, `visibility` (default INTERNAL, as
    the back office pre-selects), opened at once; one commit, then the notify group is told.

    Media steps take no answer here (files are added as updates afterwards). Raises NotFound (no flow or device),
    NotAllowed, ValidationError (field: "device", "flow", "visibility", or the step id at fault, for an unknown
    step, an answer that does not fit or a required answer missing); a refusal stores nothing."""
    if device is not None and device.archived:
        raise ValidationError(_("This device is archived."), field="device")
    try:
        ticket = _fill_new_ticket(_new_draft(flow, device, actor=actor), answers, visibility, actor=actor)
    except ServiceError:
        db.session.rollback()
        raise
    commit_ticket(ticket)
    notifications.after_commit(ticket)
    return ticket


def _fill_new_ticket(ticket, answers, visibility, *, actor):
    """Answer the steps of a new draft in the session and open it (see create_ticket); returns the ticket."""
    by_step = {answer.step_id: answer for answer in ticket.answers if answer.step_id is not None}
    db.session.flush()
    for step_id, raw in (answers or {}).items():
        answer = by_step.get(step_id)
        if answer is None:
            raise ValidationError(_("This creation flow has no such step."), field=str(step_id))
        if answer.type == StepType.MEDIA:
            raise ValidationError(_("Files are added as updates once the ticket exists."), field=str(step_id))
        try:
            fill_answer(ticket, answer, raw)
        except ValidationError as error:
            raise ValidationError(error.message, field=str(step_id)) from None
    if visibility is not None:
        system = next((a for a in ticket.answers if a.type == StepType.VISIBILITY), None)
        require(system is not None, _("Only employees choose the visibility."))
        fill_answer(ticket, system, _enum(Visibility, visibility, _("Please choose internal or public.")).value)
    missing = missing_answer(ticket)
    if missing is not None:
        raise ValidationError(_("Please answer “%(question)s” first.", question=missing.question),
                              field=str(missing.step_id if missing.step_id is not None else "visibility"))
    return open_draft(ticket, actor=actor)


def answer_at(ticket, position):
    """The answer row at `position` of a ticket's steps."""
    answer = next((a for a in ticket.answers if a.position == position), None)
    if answer is None:
        raise NotFound(_("This step does not exist."))
    return answer


@guards_conflicts
def save_answer(ticket, position, raw, *, actor, attachments=()):
    """Validate and store one answer of a draft at once, so the draft survives a reload."""
    require(policy.can_edit_draft(actor, ticket), _("This draft cannot be changed any more."))
    answer = fill_answer(ticket, answer_at(ticket, position), raw, attachments)
    commit_ticket(ticket)
    return answer


def fill_answer(ticket, answer, raw, attachments=(), *, partial=False):
    """Set `answer` from `raw` in the session without committing; a media step keeps the ids in `raw` and adds
    `attachments`. Raises ValidationError when the value does not fit the step. `partial` keeps what was given
    even where a required answer is still empty (going back a step); such a step stays open."""
    if answer.type == StepType.MEDIA:
        kept = [a for a in answer.attachments if a.id in set(raw or [])] if isinstance(raw, list) else list(answer.attachments)
        attachments = kept + [a for a in attachments if a not in kept]
    value, text = answer_rules.parse(answer, raw, attachments, required=False if partial else None)
    answered = True if not partial else (answer.answered or value is not None)
    answer.value, answer.text, answer.answered = value, text, answered
    if answer.type == StepType.MEDIA:
        for attachment in answer.attachments:
            if attachment not in attachments:
                attachment.answer_id = None
        for attachment in attachments:
            attachment.answer_id = answer.id
            attachment.ticket_id = ticket.id
    if answer.type == StepType.PRIORITY and value:
        ticket.priority = Priority(value)
    if answer.type == StepType.VISIBILITY and value:
        ticket.visibility = Visibility(value)
    touch(ticket)
    return answer


def first_open_step(ticket):
    """Position of the first required step without an answer (or of the first unvisited step), else None."""
    for answer in ticket.answers:
        if not answer.answered or (answer.required and answer.value in (None, "", [])):
            return answer.position
    return None


def missing_answer(ticket):
    """The first required answer still empty, or None when the draft can be submitted."""
    return next((a for a in ticket.answers if a.required and a.value in (None, "", [])), None)


def unanswered(answer):
    """The refusal naming a required answer still missing; its field is the step's position."""
    return ValidationError(_("Please answer “%(question)s” first.", question=answer.question), field=answer.position)


@guards_conflicts
def submit_ticket(ticket, *, actor):
    """DRAFT → OPEN once every required step has an answer; offers, audit trail and search document in one commit,
    then the notify group is told. Raises ValidationError (field = position of the missing answer)."""
    require(policy.can_edit_draft(actor, ticket), _("This draft cannot be submitted."))
    open_draft(ticket, actor=actor)
    commit_ticket(ticket)
    notifications.after_commit(ticket)
    return ticket


def open_draft(ticket, *, actor):
    """Move a complete DRAFT to OPEN in the session without committing: title, offers, notifications and search
    document. Raises ValidationError (field = position of the first missing answer) or InvalidTransition."""
    missing = missing_answer(ticket)
    if missing is not None:
        raise unanswered(missing)
    _fire(ticket, "submit", actor=actor)
    ticket.title = _title_from_answers(ticket)
    ticket.submitted_at = utcnow()
    ticket.created_at = ticket.submitted_at
    record_event(ticket, "created", actor=actor, after=ticket.visibility.name)
    offers.send_offers(ticket, actor=actor)
    notifications.record(NotificationEvent.TICKET_CREATED, ticket, actor=actor)
    receivers.register_creator_receiver(ticket, actor=actor)
    service_levels.track(ticket, start=True, now=ticket.submitted_at)
    db.session.flush()  # the search document reads the ticket back; its row lock must not reload unflushed changes
    search.reindex_ticket(ticket.id, commit=False)
    return ticket


def _title_from_answers(ticket):
    """The answer of the title step, else the flow's title."""
    for answer in ticket.answers:
        if answer.is_title and answer.text:
            return answer.text[:255]
    return ticket.flow_title or _("Ticket")


def _fire(ticket, event, *, actor):
    """Move the status with the workflow and record it; InvalidTransition when the workflow says no."""
    before = ticket.status
    try:
        ticket.status = workflow.fire(before, event, has_responsible=bool(ticket.responsible_employee_ids))
    except workflow.InvalidTransition:
        raise InvalidTransition(
            str(NOT_POSSIBLE_IN_STATUS[before]), event=event, status=before
        ) from None
    record_event(ticket, "status", actor=actor, before=before.name, after=ticket.status.name)
    if ticket.status == TicketStatus.DONE:
        ticket.done_at = utcnow()
    if ticket.status in workflow.FINAL_STATUSES:
        ticket.closed_at = utcnow()
    elif before in workflow.FINAL_STATUSES:
        ticket.closed_at = None
    if event != "submit":
        service_levels.track(ticket)
    return ticket.status


@guards_conflicts
def fire_event(ticket, event, *, actor, expected_version=None):
    """A person's workflow event (start, pause, finish, close, cancel, reopen) with its automatic follow-ups."""
    check_version(ticket, expected_version)
    if event not in workflow.MANUAL_EVENTS:
        raise InvalidTransition(_("This action does not exist."), event=event, status=ticket.status)
    if not workflow.can_fire(ticket.status, event):
        raise InvalidTransition(
            str(NOT_POSSIBLE_IN_STATUS[ticket.status]),
            event=event,
            status=ticket.status,
        )
    require(policy.can_fire(actor, ticket, event))
    before = ticket.status
    _fire(ticket, event, actor=actor)
    if ticket.status == TicketStatus.DONE and not ticket.template.ratings_enabled:
        _fire(ticket, "close", actor=actor)
    kind = NotificationEvent.REOPENED if event == "reopen" else NotificationEvent.STATUS_CHANGED
    notifications.record(kind, ticket, actor=actor, before=before.name, after=ticket.status.name)
    commit_ticket(ticket)
    notifications.after_commit(ticket)
    return ticket


@guards_conflicts
def cancel_ticket(ticket, *, actor, expected_version=None):
    """Cancel: the creating code user while OPEN, or an employee who works on it."""
    require(policy.can_cancel(actor, ticket), _("This ticket cannot be cancelled by you now."))
    return fire_event(ticket, "cancel", actor=actor, expected_version=expected_version)


@guards_conflicts
def set_visibility(ticket, visibility, *, actor, expected_version=None):
    """Switch INTERNAL/PUBLIC; code users lose sight of an INTERNAL ticket at once."""
    check_version(ticket, expected_version)
    require(policy.can_change_visibility(actor, ticket))
    visibility = _enum(Visibility, visibility, _("Please choose internal or public."))
    if visibility == ticket.visibility:
        return ticket
    before = ticket.visibility
    ticket.visibility = visibility
    record_event(ticket, "visibility", actor=actor, before=before.name, after=visibility.name)
    service_levels.track(ticket)
    commit_ticket(ticket)
    notifications.after_commit(ticket, visibility_changed=True)
    return ticket


@guards_conflicts
def set_priority(ticket, priority, *, actor, expected_version=None):
    """Change LOW/NORMAL/HIGH."""
    check_version(ticket, expected_version)
    require(policy.can_change_priority(actor, ticket))
    priority = _enum(Priority, priority, _("Please choose a priority."))
    if priority == ticket.priority:
        return ticket
    before = ticket.priority
    ticket.priority = priority
    record_event(ticket, "priority", actor=actor, before=before.name, after=priority.name)
    service_levels.track(ticket, repick=True)
    commit_ticket(ticket)
    notifications.after_commit(ticket, internal=True)  # code users' page shows no priority
    return ticket


def _enum(enum_cls, value, message):
    """Accept a member, its value or its name; ValidationError otherwise."""
    if isinstance(value, enum_cls):
        return value
    text = str(value or "").strip()
    for member in enum_cls:
        if text in (member.value, member.name):
            return member
    raise ValidationError(message)


def require_update_allowed(ticket, visibility, *, actor):
    """Refuse an update the actor may not post now, saying why when the ticket is finished."""
    if ticket.status in workflow.FINAL_STATUSES:
        raise NotAllowed(_("This ticket is closed or cancelled, so you cannot post updates on it anymore; nothing was posted."))
    require(policy.can_post_update(actor, ticket, visibility), _("You cannot post updates on this ticket."))


def post_update(ticket, body, visibility, *, actor, attachments=(), files=()):
    """Add a public (service history) or internal update with optional files; returns the Update.

    `attachments` are stored Attachment rows; `files` are uploads (werkzeug FileStorage) stored here after the
    policy check and removed from disk again when the update is refused, so a refusal leaves no file behind.
    An update is an append, not an edit: it takes the ticket's row lock without moving its version, so a
    concurrent status, visibility or priority change never refuses it; the policy is checked on the ticket as
    committed now, so an update on a ticket that was just closed is refused with a clear message. Raises
    NotAllowed, ValidationError (empty, too long, a refused file, more than MAX_FILES_PER_MESSAGE files).
    """
    from app.services import uploads

    visibility = _enum(Visibility, visibility, _("Please choose internal or public."))
    require_update_allowed(ticket, visibility, actor=actor)
    attachments = list(attachments)
    attachments += uploads.store_uploads(files, ticket=ticket, actor=actor, already=len(attachments))
    try:
        return _append_update(ticket, body, visibility, actor=actor, attachments=attachments)
    except ServiceError:
        uploads.remove_files(attachments)
        raise


def _append_update(ticket, body, visibility, *, actor, attachments):
    """Write the update under the ticket's append lock, then index and notify."""
    body = (body or "").strip()
    if not body and not attachments:
        raise ValidationError(_("Please write something or attach a file."), field="body")
    if len(body) > answer_rules.LONG_LIMIT:
        raise ValidationError(_("Please keep it under %(n)s characters.", n=format_decimal(answer_rules.LONG_LIMIT)), field="body")
    lock_for_append(ticket)
    require_update_allowed(ticket, visibility, actor=actor)
    update = Update(ticket_id=ticket.id, visibility=visibility, body=body, **actor_fields(actor, "author"))
    db.session.add(update)
    db.session.flush()
    for attachment in attachments:
        attachment.update_id = update.id
        attachment.ticket_id = ticket.id
    notifications.record(NotificationEvent.UPDATE_POSTED, ticket, actor=actor, update=update)
    db.session.flush()  # the search document reads the update back
    search.reindex_ticket(ticket.id, commit=False)  # in the update's transaction: stored means indexed
    commit_ticket(ticket)
    notifications.after_commit(ticket, update=update)
    return update


@guards_conflicts
def rate_ticket(ticket, score, comment, *, actor):
    """A code user's 1–5 rating of a DONE ticket closes it. A ticket reopened and done again is rated again: each
    rating is kept (staff see them all), the latest sets `rating_score`. Raises NotAllowed, ValidationError
    (`score`, `comment`), ConflictError."""
    require(policy.can_rate(actor, ticket), _("This ticket cannot be rated now."))
    try:
        score = int(score)
    except (TypeError, ValueError):
        score = 0
    if not 1 <= score <= 5:
        raise ValidationError(_("Please choose one of the five smileys."), field="score")
    comment = (comment or "").strip()
    if len(comment) > 2000:
        raise ValidationError(_("Please keep the comment under 2000 characters."), field="comment")
    ticket.ratings.append(Rating(score=score, comment=comment, code_user_id=actor.id))
    ticket.rating_score = score
    record_event(ticket, "rating", actor=actor, after=score)
    _fire(ticket, "rate", actor=actor)
    notifications.record(NotificationEvent.RATED, ticket, actor=actor, score=score)
    commit_ticket(ticket)
    notifications.after_commit(ticket)
    return ticket


def delete_ticket(ticket, *, actor, confirmed=True):
    """A moderator removes a ticket with everything that hangs on it; `confirmed` is the form's confirmation box.

    Raises NotAllowed (not a moderator) and ValidationError (field "confirm") when not confirmed.
    """
    require(policy.can_delete_ticket(actor, ticket), _("Only moderators can delete tickets."))
    if not confirmed:
        raise ValidationError(_("Please confirm that the ticket should be deleted."), field="confirm")
    _delete(ticket)


def delete_draft(ticket, *, actor):
    """The creator throws away a draft."""
    require(policy.can_delete_draft(actor, ticket), _("Only your own drafts can be deleted."))
    _delete(ticket)


def _delete(ticket):
    """Delete the row and forget its files."""
    from app.services import uploads

    ticket_id = ticket.id
    reports.forget_ticket(ticket_id)
    files = db.session.scalars(sa.select(Attachment).where(Attachment.ticket_id == ticket_id)).all()
    db.session.delete(ticket)
    db.session.commit()
    uploads.remove_files(files)
    notifications.after_commit_deleted(ticket_id)


def autoclose_done_tickets(days, *, now=None):
    """Close DONE tickets nobody rated within `days`; returns how many."""
    now = now or utcnow()
    cutoff = now - timedelta(days=days)
    due = db.session.scalars(
        sa.select(Ticket).where(Ticket.status == TicketStatus.DONE, Ticket.done_at <= cutoff).order_by(Ticket.id)
    ).all()
    for ticket in due:
        _fire(ticket, "close", actor=None)
        notifications.record(NotificationEvent.STATUS_CHANGED, ticket, actor=None, before="DONE", after="CLOSED")
        reports.sync_ticket(ticket)
    db.session.commit()
    for ticket in due:
        notifications.after_commit(ticket)
    return len(due)
