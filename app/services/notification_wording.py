"""What a notification says (title, body, who) and its in-app path, in the current locale."""
from flask_babel import gettext as _

from app.enums import NotificationEvent
from app.workflow import TicketStatus


def N_(message):
    """Mark `message` for extraction only; it is translated with its number where it is used."""
    return message


# One whole sentence per new status (not a status label glued into one sentence), keyed by the stored name.
STATUS_NOW = {
    TicketStatus.DRAFT.name: N_("%(number)s is now a draft"),
    TicketStatus.OPEN.name: N_("%(number)s is now open"),
    TicketStatus.ASSIGNED.name: N_("%(number)s is now assigned"),
    TicketStatus.IN_PROGRESS.name: N_("%(number)s is now in progress"),
    TicketStatus.DONE.name: N_("%(number)s is now done"),
    TicketStatus.CLOSED.name: N_("%(number)s is now closed"),
    TicketStatus.CANCELLED.name: N_("%(number)s is now cancelled"),
}


# Service-level notices, one whole sentence per target (services/service_levels.TARGETS).
SLA_WARNING = {
    "first_response": N_("%(number)s: 80 %% of the time for the first response is used"),
    "assignment": N_("%(number)s: 80 %% of the time for the assignment is used"),
    "resolution": N_("%(number)s: 80 %% of the time for the resolution is used"),
}
SLA_MISSED = {
    "first_response": N_("%(number)s missed its first-response target"),
    "assignment": N_("%(number)s missed its assignment target"),
    "resolution": N_("%(number)s missed its resolution target"),
}


def ticket_path(notification):
    """The in-app path of the notification's ticket."""
    return f"/tickets/{notification.ticket_id}" if notification.ticket_id else "/notifications"


def describe(notification):
    """{title, body, url, by} of a notification in the current locale (force_locale for someone else's)."""
    ticket = notification.ticket
    detail = notification.detail or {}
    number = ticket.display_number if ticket else ""
    title = ticket.title if ticket else ""
    who = notification.actor_name or _("System")
    body = title
    if detail.get("excerpt"):
        body = f"{title} — {detail['excerpt']}" if title else detail["excerpt"]
    return {"title": _headline(notification.event, detail, number, who), "body": body, "url": ticket_path(notification), "by": who}


def _headline(event, detail, number, who):
    """The one-line title of an event on ticket `number`, caused by `who`."""
    if event == NotificationEvent.OFFER_RECEIVED:
        return _("New ticket offered to you: %(number)s", number=number)
    if event == NotificationEvent.TICKET_CREATED:
        return _("New ticket %(number)s", number=number)
    if event == NotificationEvent.OFFER_ACCEPTED:
        return _("%(name)s took on %(number)s", name=detail.get("subject", who), number=number)
    if event == NotificationEvent.OFFER_DECLINED:
        return _("%(name)s declined the ticket offer for %(number)s", name=detail.get("subject", who), number=number)
    if event == NotificationEvent.ASSIGNED:
        return _("%(name)s was assigned to %(number)s", name=detail.get("subject", ""), number=number)
    if event == NotificationEvent.WITHDRAWN:
        return _("%(name)s was withdrawn from %(number)s", name=detail.get("subject", ""), number=number)
    if event == NotificationEvent.STATUS_CHANGED:
        return _(STATUS_NOW.get(detail.get("after"), N_("The status of %(number)s changed")), number=number)
    if event == NotificationEvent.REOPENED:
        return _("%(number)s was reopened", number=number)
    if event == NotificationEvent.MESSAGE_POSTED:
        return _("New message from %(name)s on %(number)s", name=who, number=number)
    if event == NotificationEvent.UPDATE_POSTED:
        if detail.get("internal"):
            return _("New internal update on %(number)s", number=number)
        return _("New update on %(number)s", number=number)
    if event == NotificationEvent.EMAIL_CONFIRMATION:
        return _("E-mail address to confirm for news about %(number)s", number=number)
    if event == NotificationEvent.SLA_WARNING:
        return _(SLA_WARNING.get(detail.get("target"), N_("%(number)s: 80 %% of a service-level target is used")), number=number)
    if event == NotificationEvent.SLA_MISSED:
        return _(SLA_MISSED.get(detail.get("target"), N_("%(number)s missed a service-level target")), number=number)
    if event == NotificationEvent.RATED:
        return _("%(number)s was rated %(score)s of 5", number=number, score=detail.get("score", "?"))
    return number
