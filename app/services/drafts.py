"""A draft answered one wizard step at a time: `answer_step` stores one answer and submits with the last one."""
from dataclasses import dataclass

from flask_babel import gettext as _

from app import policy
from app.enums import StepType
from app.extensions import db
from app.services import notifications, tickets, uploads
from app.services.errors import ServiceError, require
from app.services.ticket_changes import commit_ticket, guards_conflicts


@dataclass(frozen=True)
class Progress:
    """Where the wizard goes after an answer: the next step's position, or None once the ticket was submitted."""

    next_position: int | None

    @property
    def submitted(self):
        """Whether the answer was the last one and the ticket is OPEN now."""
        return self.next_position is None


def answer_step(ticket, position, data, files=(), *, actor, going_back=False):
    """Validate and store the answer of step `position` of a draft; on the last step submit the ticket in the
    same commit (offers, audit trail, search document).

    `data` maps the step form's field names to their values (`value`; `name`/`email`/`phone` for the requester;
    `remove`, ids of stored files to drop, for a media step); `files` are a media step's new uploads. Returns
    Progress. Raises NotAllowed, NotFound, ConflictError, or ValidationError whose `field` names the form field at
    fault, or is the position of an earlier step still unanswered (this answer is kept then). A refusal leaves no
    row and no stored file behind.

    `going_back` keeps what was given on the way back to the previous step: an empty required answer is
    accepted (the step stays open), nothing is submitted, and Progress points at the previous step (-1 from
    the first step: the wizard is left). Text that does not fit the step is still refused, so the person
    sees why instead of losing it.
    """
    require(policy.can_edit_draft(actor, ticket), _("This draft cannot be changed any more."))
    answer = tickets.answer_at(ticket, position)
    dropped, uploaded = [], []
    if answer.type == StepType.MEDIA:
        removed_ids = {str(item) for item in data.get("remove") or ()}
        dropped = [attachment for attachment in answer.attachments if str(attachment.id) in removed_ids]
        kept = len(answer.attachments) - len(dropped)
        uploaded = uploads.store_uploads(files, ticket=ticket, actor=actor, already=kept)
        raw = [attachment.id for attachment in answer.attachments if attachment not in dropped]
    elif answer.type == StepType.REQUESTER:
        raw = {key: data.get(key) or "" for key in ("name", "email", "phone")}
    else:
        raw = data.get("value")
    try:
        progress, missing = _store(ticket, answer, raw, uploaded, dropped, actor=actor, going_back=going_back)
    except ServiceError:
        uploads.remove_files(uploaded)  # nothing was committed: no file may stay behind on disk
        raise
    uploads.remove_files(dropped)
    if missing is not None:
        raise tickets.unanswered(missing)
    if progress.submitted:
        notifications.after_commit(ticket)
    return progress


@guards_conflicts
def _store(ticket, answer, raw, uploaded, dropped, *, actor, going_back=False):
    """Fill the answer, drop removed files' rows and, after the last step, open the ticket; one commit.

    Returns (Progress, missing answer or None). With a required answer missing elsewhere the given answer is
    committed all the same, so the person finds it again after filling the gap."""
    tickets.fill_answer(ticket, answer, raw, uploaded, partial=going_back)
    for attachment in dropped:
        db.session.delete(attachment)
    progress, missing = Progress(answer.position + (-1 if going_back else 1)), None
    if answer.position == len(ticket.answers) - 1 and not going_back:
        missing = tickets.missing_answer(ticket)
        if missing is None:
            tickets.open_draft(ticket, actor=actor)
            progress = Progress(None)
    commit_ticket(ticket)
    return progress, missing
