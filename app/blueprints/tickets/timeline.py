"""A ticket's timeline: ticket events, messages and updates in one list, newest first."""
from dataclasses import dataclass

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app import labels
from app.enums import OfferState, Priority, Visibility
from app.workflow import TicketStatus


@dataclass
class Entry:
    """One line of the timeline."""

    at: object
    kind: str
    text: str
    who: str = ""
    internal: bool = False


# Whole sentences per value rather than a label glued into one sentence: German words each differently.
CREATED = {
    Visibility.INTERNAL.name: _l("Ticket created (internal)."),
    Visibility.PUBLIC.name: _l("Ticket created (public)."),
}
OFFER_SENTENCES = {
    OfferState.PENDING.name: _l("Ticket offered to %(name)s."),
    OfferState.ACCEPTED.name: _l("%(name)s accepted the offer."),
    OfferState.DECLINED.name: _l("%(name)s declined the offer."),
    OfferState.ASSIGNED.name: _l("%(name)s was assigned."),
    OfferState.WITHDRAWN.name: _l("%(name)s was withdrawn."),
}


def _label(table, enum_cls, name):
    """The translated label of an enum member stored by name (the raw name when unknown)."""
    try:
        return str(table[enum_cls[name]])
    except (KeyError, TypeError):
        return name or "–"


def describe(event):
    """A sentence for one ticket event."""
    subject = event.subject_employee.name if event.subject_employee else ""
    if event.kind == "created":
        return str(CREATED.get(event.after, _l("Ticket created.")))
    if event.kind == "status":
        return _(
            "Status: %(before)s → %(after)s",
            before=_label(labels.STATUS, TicketStatus, event.before),
            after=_label(labels.STATUS, TicketStatus, event.after),
        )
    if event.kind == "visibility":
        return _(
            "Visibility: %(before)s → %(after)s",
            before=_label(labels.VISIBILITY, Visibility, event.before),
            after=_label(labels.VISIBILITY, Visibility, event.after),
        )
    if event.kind == "priority":
        return _(
            "Priority: %(before)s → %(after)s",
            before=_label(labels.PRIORITY, Priority, event.before),
            after=_label(labels.PRIORITY, Priority, event.after),
        )
    if event.kind in ("offer", "assignment"):
        sentence = OFFER_SENTENCES.get(event.after)
        return sentence % {"name": subject} if sentence else f"{subject}: {event.after or '–'}"
    if event.kind == "rating":
        return _("Rated %(score)s of 5.", score=event.after)
    return f"{event.kind}: {event.before or ''} → {event.after or ''}"


def build(ticket, events, messages, updates):
    """Merge events, messages and updates into timeline entries, newest first. `messages` are rows with
    created_at, body and author_name (None: a code user or a removed employee)."""
    entries = [
        Entry(event.created_at, "event", describe(event), event.actor_employee.name if event.actor_employee else "")
        for event in events
    ]
    # Each sentence translated once, not once per entry (a long thread has hundreds).
    code_user, file_only = _("Code user"), _("(file)")
    internal_sentence, public_sentence = _("Internal update: %(text)s"), _("Update: %(text)s")
    for message in messages:
        who = message.author_name if message.author_name is not None else code_user
        entries.append(Entry(message.created_at, "message", message.body or file_only, who))
    for update in updates:
        who = update.author_employee.name if update.author_employee else code_user
        internal = update.visibility == Visibility.INTERNAL
        text = (internal_sentence if internal else public_sentence) % {"text": update.body}
        entries.append(Entry(update.created_at, "update", text, who, internal))
    entries.sort(key=lambda entry: entry.at, reverse=True)
    return entries
