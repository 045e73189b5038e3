"""Human, translatable names for the domain vocabularies.

Labels whose English word has another meaning elsewhere in the UI carry a gettext context (pgettext), so German
can tell them apart: the ticket status *Assigned* (ZUGEWIESEN) is not an offer that was *assigned* (Zugewiesen),
the step type *Number* (Zahl) is not a ticket number (Nummer), the action *Close* closes a ticket while a
toast's *Close* only hides it. Contexts: "ticket status", "visibility", "offer state", "ticket action",
"step type".
"""
from flask_babel import format_decimal, lazy_pgettext
from flask_babel import lazy_gettext as _l

from app.enums import (
    AuditKind,
    MessageKind,
    NotificationEvent,
    OfferState,
    Priority,
    Role,
    StepType,
    Visibility,
    WebhookEventType,
)
from app.workflow import OPEN_STATUSES, TicketStatus

STATUS = {
    TicketStatus.DRAFT: lazy_pgettext("ticket status", "Draft"),
    TicketStatus.OPEN: lazy_pgettext("ticket status", "Open"),
    TicketStatus.ASSIGNED: lazy_pgettext("ticket status", "Assigned"),
    TicketStatus.IN_PROGRESS: lazy_pgettext("ticket status", "In progress"),
    TicketStatus.DONE: lazy_pgettext("ticket status", "Done"),
    TicketStatus.CLOSED: lazy_pgettext("ticket status", "Closed"),
    TicketStatus.CANCELLED: lazy_pgettext("ticket status", "Cancelled"),
}
VISIBILITY = {Visibility.INTERNAL: lazy_pgettext("visibility", "Internal"), Visibility.PUBLIC: lazy_pgettext("visibility", "Public")}
PRIORITY = {Priority.LOW: _l("Low"), Priority.NORMAL: _l("Normal"), Priority.HIGH: _l("High")}
# A priority shown on its own (a badge beside the ticket number) names what it is: "Hoch" alone says nothing.
PRIORITY_BADGE = {
    Priority.LOW: _l("Low priority"), Priority.NORMAL: _l("Normal priority"), Priority.HIGH: _l("High priority"),
}
ROLE = {Role.MEMBER: _l("Member"), Role.MODERATOR: _l("Moderator"), Role.ADMIN: _l("Administrator")}
OFFER_STATE = {
    OfferState.PENDING: lazy_pgettext("offer state", "Offered"),
    OfferState.ACCEPTED: lazy_pgettext("offer state", "Accepted"),
    OfferState.DECLINED: lazy_pgettext("offer state", "Declined"),
    OfferState.ASSIGNED: lazy_pgettext("offer state", "Assigned"),
    OfferState.WITHDRAWN: lazy_pgettext("offer state", "Withdrawn"),
}
EVENT = {
    "start": lazy_pgettext("ticket action", "Start work"),
    "pause": lazy_pgettext("ticket action", "Pause"),
    "finish": lazy_pgettext("ticket action", "Finish"),
    "close": lazy_pgettext("ticket action", "Close"),
    "cancel": lazy_pgettext("ticket action", "Cancel ticket"),
    "reopen": lazy_pgettext("ticket action", "Reopen"),
    "submit": lazy_pgettext("ticket action", "Submit"),
    "assign": lazy_pgettext("ticket action", "Assign"),
    "unassign": lazy_pgettext("ticket action", "Unassign"),
    "rate": lazy_pgettext("ticket action", "Rate"),
}
STEP_TYPE = {
    StepType.TEXT_SHORT: lazy_pgettext("step type", "Short text"),
    StepType.TEXT_LONG: lazy_pgettext("step type", "Long text"),
    StepType.SINGLE_CHOICE: lazy_pgettext("step type", "Single choice"),
    StepType.MULTI_CHOICE: lazy_pgettext("step type", "Multiple choice"),
    StepType.YES_NO: lazy_pgettext("step type", "Yes / no"),
    StepType.NUMBER: lazy_pgettext("step type", "Number"),
    StepType.DATE: lazy_pgettext("step type", "Date"),
    StepType.MEDIA: lazy_pgettext("step type", "Photos, videos, files"),
    StepType.PRIORITY: lazy_pgettext("step type", "Priority"),
    StepType.REQUESTER: lazy_pgettext("step type", "Contact details"),
    StepType.VISIBILITY: lazy_pgettext("step type", "Visibility"),
    StepType.DEVICE: lazy_pgettext("step type", "Device"),
}
MESSAGE_KIND = {
    MessageKind.TEXT: _l("Text"),
    MessageKind.ATTACHMENT: _l("File"),
    MessageKind.VOICE: _l("Voice message"),
    MessageKind.ASSISTANT_LINK: _l("Assistant link"),
    MessageKind.VIDEO_SESSION: _l("Video session"),
    MessageKind.SYSTEM: _l("System"),
}
NOTIFICATION_EVENT = {
    NotificationEvent.OFFER_RECEIVED: _l("New ticket offer"),
    NotificationEvent.TICKET_CREATED: _l("New ticket"),
    NotificationEvent.OFFER_ACCEPTED: _l("Offer accepted"),
    NotificationEvent.OFFER_DECLINED: _l("Offer declined"),
    NotificationEvent.ASSIGNED: _l("Employee assigned"),
    NotificationEvent.WITHDRAWN: _l("Employee withdrawn"),
    NotificationEvent.STATUS_CHANGED: _l("Status changed"),
    NotificationEvent.MESSAGE_POSTED: _l("New message"),
    NotificationEvent.UPDATE_POSTED: _l("New update"),
    NotificationEvent.RATED: _l("Ticket rated"),
    NotificationEvent.REOPENED: _l("Ticket reopened"),
    NotificationEvent.PASSWORD_RESET: _l("Password reset link"),
    NotificationEvent.SLA_WARNING: _l("Service level nearly used (80 percent)"),
    NotificationEvent.SLA_MISSED: _l("Service level missed"),
}
AUDIT_KIND = {
    AuditKind.SIGN_IN: _l("Signed in"),
    AuditKind.SIGN_IN_FAILED: _l("Sign-in failed"),
    AuditKind.SIGN_IN_LOCKED: _l("Sign-in locked (too many attempts)"),
    AuditKind.SIGN_IN_SECOND_FACTOR_FAILED: _l("Second factor wrong"),
    AuditKind.SESSIONS_ENDED: _l("Sessions ended"),
    AuditKind.PASSWORD_CHANGED: _l("Password changed"),
    AuditKind.PASSWORD_RESET_REQUESTED: _l("Password reset requested"),
    AuditKind.PASSWORD_RESET: _l("Password reset"),
    AuditKind.INVITATION_ACCEPTED: _l("Invitation accepted"),
    AuditKind.TWO_FACTOR_ENABLED: _l("Two-factor sign-in enabled"),
    AuditKind.TWO_FACTOR_DISABLED: _l("Two-factor sign-in disabled"),
    AuditKind.RECOVERY_CODE_USED: _l("Recovery code used"),
    AuditKind.ROLE_CHANGED: _l("Role changed"),
    AuditKind.EMPLOYEE_DEACTIVATED: _l("Employee deactivated"),
    AuditKind.EMPLOYEE_REACTIVATED: _l("Employee reactivated"),
    AuditKind.CODE_DISABLED: _l("Code disabled"),
    AuditKind.CODE_ENABLED: _l("Code enabled"),
    AuditKind.CODE_USERS_LOGGED_OUT: _l("Code users logged out"),
    AuditKind.API_TOKEN_CREATED: _l("API token created"),
    AuditKind.API_TOKEN_REVOKED: _l("API token revoked"),
}


UNANSWERED_OFFER = _l("Not answered")
WEBHOOK_EVENT = {
    WebhookEventType.TICKET_CREATED: _l("Ticket created"),
    WebhookEventType.TICKET_STATUS_CHANGED: _l("Status changed (also reopened)"),
    WebhookEventType.TICKET_ASSIGNED: _l("Employee assigned"),
    WebhookEventType.TICKET_UNASSIGNED: _l("Assignment withdrawn"),
    WebhookEventType.TICKET_RATED: _l("Ticket rated"),
    WebhookEventType.OFFER_ACCEPTED: _l("Offer accepted"),
    WebhookEventType.OFFER_DECLINED: _l("Offer declined"),
    WebhookEventType.MESSAGE_POSTED: _l("Message posted"),
    WebhookEventType.UPDATE_POSTED: _l("Update posted"),
    WebhookEventType.PING: _l("Test event"),
}


def offer_state_label(offer, ticket):
    """The offer's state as staff read it: a pending offer on a ticket that is done, closed or cancelled can no
    longer be accepted (policy.can_accept_offer), so it reads "Not answered" instead of "Offered"."""
    if offer.state == OfferState.PENDING and ticket.status not in OPEN_STATUSES:
        return UNANSWERED_OFFER
    return OFFER_STATE[offer.state]


YES_NO = {True: _l("Yes"), False: _l("No")}


def answer_text(answer):
    """An answer as the viewer reads it (str): yes/no, priority and visibility in the viewer's language, a number
    in the viewer's number format (1.500 and 2,5 in German); any other answer as stored (Answer.text). Answer.text
    holds what the code user saw when answering (an English priority name, their own language's yes/no)."""
    value = answer.value
    if value is None:
        return answer.text
    if answer.type == StepType.YES_NO and isinstance(value, bool):
        return str(YES_NO[value])
    if answer.type == StepType.NUMBER and isinstance(value, (int, float)) and not isinstance(value, bool):
        return format_decimal(value)
    for step_type, enum_cls, table in ((StepType.PRIORITY, Priority, PRIORITY), (StepType.VISIBILITY, Visibility, VISIBILITY)):
        if answer.type == step_type and value in {member.value for member in enum_cls}:
            return str(table[enum_cls(value)])
    return answer.text


def jinja_globals():
    """Label tables for templates."""
    return {
        "STATUS_LABELS": STATUS,
        "VISIBILITY_LABELS": VISIBILITY,
        "PRIORITY_LABELS": PRIORITY,
        "PRIORITY_BADGES": PRIORITY_BADGE,
        "ROLE_LABELS": ROLE,
        "OFFER_STATE_LABELS": OFFER_STATE,
        "offer_state_label": offer_state_label,
        "answer_text": answer_text,
        "EVENT_LABELS": EVENT,
        "STEP_TYPE_LABELS": STEP_TYPE,
        "MESSAGE_KIND_LABELS": MESSAGE_KIND,
        "NOTIFICATION_EVENT_LABELS": NOTIFICATION_EVENT,
        "AUDIT_KIND_LABELS": AUDIT_KIND,
    }
