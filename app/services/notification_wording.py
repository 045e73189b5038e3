"""What a notification says (title, body, who) and its in-app path, in the current locale."""
from flask_babel import gettext as _

from app.enums import NotificationEvent
from app.labels import STATUS as STATUS_LABELS
from app.workflow import TicketStatus


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
        return _("%(name)s declined %(number)s", name=detail.get("subject", who), number=number)
    if event == NotificationEvent.ASSIGNED:
        return _("%(name)s was assigned to %(number)s", name=detail.get("subject", ""), number=number)
    if event == NotificationEvent.WITHDRAWN:
        return _("%(name)s was withdrawn from %(number)s", name=detail.get("subject", ""), number=number)
    if event == NotificationEvent.STATUS_CHANGED:
        return _("%(number)s is now %(status)s", number=number, status=_status_label(detail.get("after")))
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
        return _("%(number)s: 80 %% of the time for “%(target)s” is used", number=number, target=_target(detail))
    if event == NotificationEvent.SLA_MISSED:
        return _("%(number)s missed the target “%(target)s”", number=number, target=_target(detail))
    if event == NotificationEvent.RATED:
        return _("%(number)s was rated %(score)s of 5", number=number, score=detail.get("score", "?"))
    return number


def _target(detail):
    """The translated service-level target a notification names (first response, assignment, resolution)."""
    from app.services.service_levels import target_label

    return target_label(detail.get("target", ""))


def _status_label(name):
    """Translated status label for a stored status name."""
    try:
        return str(STATUS_LABELS[TicketStatus[name]])
    except (KeyError, TypeError):
        return name or ""
