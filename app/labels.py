"""Human, translatable names for the domain vocabularies."""
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
)
from app.workflow import OPEN_STATUSES, TicketStatus

STATUS = {
    TicketStatus.DRAFT: _l("Draft"),
    TicketStatus.OPEN: _l("Open"),
    TicketStatus.ASSIGNED: _l("Assigned"),
    TicketStatus.IN_PROGRESS: _l("In progress"),
    TicketStatus.DONE: _l("Done"),
    TicketStatus.CLOSED: _l("Closed"),
    TicketStatus.CANCELLED: _l("Cancelled"),
}
VISIBILITY = {Visibility.INTERNAL: _l("Internal"), Visibility.PUBLIC: _l("Public")}
PRIORITY = {Priority.LOW: _l("Low"), Priority.NORMAL: _l("Normal"), Priority.HIGH: _l("High")}
ROLE = {Role.MEMBER: _l("Member"), Role.MODERATOR: _l("Moderator"), Role.ADMIN: _l("Administrator")}
OFFER_STATE = {
    OfferState.PENDING: _l("Offered"),
    OfferState.ACCEPTED: _l("Accepted"),
    OfferState.DECLINED: _l("Declined"),
    OfferState.ASSIGNED: _l("Assigned"),
    OfferState.WITHDRAWN: _l("Withdrawn"),
}
EVENT = {
    "start": _l("Start work"),
    "pause": _l("Pause"),
    "finish": _l("Finish"),
    "close": _l("Close"),
    "cancel": _l("Cancel ticket"),
    "reopen": _l("Reopen"),
    "submit": _l("Submit"),
    "assign": _l("Assign"),
    "unassign": _l("Unassign"),
    "rate": _l("Rate"),
}
STEP_TYPE = {
    StepType.TEXT_SHORT: _l("Short text"),
    StepType.TEXT_LONG: _l("Long text"),
    StepType.SINGLE_CHOICE: _l("Single choice"),
    StepType.MULTI_CHOICE: _l("Multiple choice"),
    StepType.YES_NO: _l("Yes / no"),
    StepType.NUMBER: _l("Number"),
    StepType.DATE: _l("Date"),
    StepType.MEDIA: _l("Photos, videos, files"),
    StepType.PRIORITY: _l("Priority"),
    StepType.REQUESTER: _l("Contact details"),
    StepType.VISIBILITY: _l("Visibility"),
    StepType.DEVICE: _l("Device"),
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


def offer_state_label(offer, ticket):
    """The offer's state as staff read it: a pending offer on a ticket that is done, closed or cancelled can no
    longer be accepted (policy.can_accept_offer), so it reads "Not answered" instead of "Offered"."""
    if offer.state == OfferState.PENDING and ticket.status not in OPEN_STATUSES:
        return UNANSWERED_OFFER
    return OFFER_STATE[offer.state]


def jinja_globals():
    """Label tables for templates."""
    return {
        "STATUS_LABELS": STATUS,
        "VISIBILITY_LABELS": VISIBILITY,
        "PRIORITY_LABELS": PRIORITY,
        "ROLE_LABELS": ROLE,
        "OFFER_STATE_LABELS": OFFER_STATE,
        "offer_state_label": offer_state_label,
        "EVENT_LABELS": EVENT,
        "STEP_TYPE_LABELS": STEP_TYPE,
        "MESSAGE_KIND_LABELS": MESSAGE_KIND,
        "NOTIFICATION_EVENT_LABELS": NOTIFICATION_EVENT,
        "AUDIT_KIND_LABELS": AUDIT_KIND,
    }
