"""Reading one wizard step's answer from a submitted form; shared by the code-user and the staff wizard."""

from app.enums import StepType
from app.services import tickets, uploads
from app.services.errors import ServiceError

REQUESTER_FIELDS = ("name", "email", "phone")


def raw_answer(answer, form, devices=()):
    """The submitted value of `answer` in the shape tickets.save_answer expects."""
    kind = answer.type
    if kind == StepType.MULTI_CHOICE:
        return form.getlist("value")
    if kind == StepType.REQUESTER:
        return {field: form.get(field, "") for field in REQUESTER_FIELDS}
    if kind == StepType.DEVICE:
        chosen = form.get("value", "").strip()
        match = next((d for d in devices if d.name == chosen or str(d.id) == chosen), None)
        if match is not None:
            return str(match.id)
        return "?" if chosen else ""
    return form.get("value", "")


def save_step(ticket, answer, form, files, *, actor, devices=()):
    """Store the answer of one step; media steps keep the ticked files and add the new uploads."""
    if answer.type != StepType.MEDIA:
        return tickets.save_answer(ticket, answer.position, raw_answer(answer, form, devices), actor=actor)
    removed_ids = set(form.getlist("remove"))
    removed = [attachment for attachment in answer.attachments if str(attachment.id) in removed_ids]
    kept = [attachment.id for attachment in answer.attachments if attachment not in removed]
    new = uploads.store_uploads(files.getlist("files"), ticket=ticket, actor=actor)
    try:
        saved = tickets.save_answer(ticket, answer.position, kept, actor=actor, attachments=new)
    except ServiceError:
        uploads.remove_files(new)
        raise
    tickets.discard_attachments(ticket, removed, actor=actor)
    return saved
