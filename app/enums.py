"""Domain vocabularies shared by models, workflow, policy and templates; pure Python."""
import enum


class Role(enum.Enum):
    """What an employee may do, from least to most."""

    MEMBER = "member"
    MODERATOR = "moderator"
    ADMIN = "admin"


class Visibility(enum.Enum):
    """Who may see a ticket or an update."""

    INTERNAL = "internal"
    PUBLIC = "public"


class Priority(enum.Enum):
    """Ticket priority; NORMAL unless someone says otherwise."""

    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"


class OfferState(enum.Enum):
    """State of one employee's offer on one ticket."""

    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    ASSIGNED = "assigned"
    WITHDRAWN = "withdrawn"


RESPONSIBLE_STATES = frozenset({OfferState.ACCEPTED, OfferState.ASSIGNED})


class StepType(enum.Enum):
    """The kinds of question a creation flow step can ask."""

    TEXT_SHORT = "text_short"
    TEXT_LONG = "text_long"
    SINGLE_CHOICE = "single_choice"
    MULTI_CHOICE = "multi_choice"
    YES_NO = "yes_no"
    NUMBER = "number"
    DATE = "date"
    MEDIA = "media"
    PRIORITY = "priority"
    REQUESTER = "requester"
    # System steps, added by the app and never stored on a flow.
    VISIBILITY = "visibility"
    DEVICE = "device"


SYSTEM_STEP_TYPES = frozenset({StepType.VISIBILITY, StepType.DEVICE})  # not offered in the flow editor; asked in the reader's language


class GroupKind(enum.Enum):
    """A fleet group receives offers; a notify group is only told."""

    FLEET = "fleet"
    NOTIFY = "notify"


class ButtonTarget(enum.Enum):
    """Where an assistant action button leads."""

    ELEMENT = "element"
    FLOW = "flow"
    URL = "url"


class MessageKind(enum.Enum):
    """What a messenger entry carries."""

    TEXT = "text"
    ATTACHMENT = "attachment"
    VOICE = "voice"
    ASSISTANT_LINK = "assistant_link"
    VIDEO_SESSION = "video_session"
    SYSTEM = "system"


class CustomerKind(enum.Enum):
    """Private person or company."""

    PRIVATE = "private"
    COMPANY = "company"


class NotificationEvent(enum.Enum):
    """Things that happen to a ticket that someone may want to hear about."""

    OFFER_RECEIVED = "offer_received"
    TICKET_CREATED = "ticket_created"
    OFFER_ACCEPTED = "offer_accepted"
    OFFER_DECLINED = "offer_declined"
    ASSIGNED = "assigned"
    WITHDRAWN = "withdrawn"
    STATUS_CHANGED = "status_changed"
    MESSAGE_POSTED = "message_posted"
    UPDATE_POSTED = "update_posted"
    RATED = "rated"
    REOPENED = "reopened"
    PASSWORD_RESET = "password_reset"
    EMAIL_CONFIRMATION = "email_confirmation"  # a code user's address for ticket news, confirmed by a link
    SLA_WARNING = "sla_warning"  # 80 % of a service-level target's working time used
    SLA_MISSED = "sla_missed"  # a service-level target was not reached in time


# Mails about an account or an address (an employee's password, a code user's e-mail address): always sent by
# e-mail, never listed among the notification choices.
ACCOUNT_EVENTS = frozenset({NotificationEvent.PASSWORD_RESET, NotificationEvent.EMAIL_CONFIRMATION})
PREFERENCE_EVENTS = tuple(event for event in NotificationEvent if event not in ACCOUNT_EVENTS)


class Channel(enum.Enum):
    """Delivery channels besides the always-on in-app list."""

    WEBSOCKET = "websocket"
    PUSH = "push"
    EMAIL = "email"
    WEBHOOK = "webhook"  # an event to an administrator's webhook endpoint (services/webhooks.py), not a person


class DeliveryStatus(enum.Enum):
    """Outbox state of one delivery."""

    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"
    SKIPPED = "skipped"
    CANCELLED = "cancelled"  # the recipient may no longer hear of it (checked just before sending)


class WebhookEventType(enum.Enum):
    """What a webhook endpoint can subscribe to; the value is the payload's `type` (docs/webhooks.md)."""

    TICKET_CREATED = "ticket.created"
    TICKET_STATUS_CHANGED = "ticket.status_changed"
    TICKET_ASSIGNED = "ticket.assigned"
    TICKET_UNASSIGNED = "ticket.unassigned"
    TICKET_RATED = "ticket.rated"
    OFFER_ACCEPTED = "offer.accepted"
    OFFER_DECLINED = "offer.declined"
    MESSAGE_POSTED = "message.posted"
    UPDATE_POSTED = "update.posted"
    PING = "ping"  # the administration's "send test event"; never subscribed to


SUBSCRIBABLE_WEBHOOK_EVENTS = tuple(kind for kind in WebhookEventType if kind != WebhookEventType.PING)


class Strategy(enum.Enum):
    """Send on every chosen channel, or stop at the first that succeeds."""

    ALL = "all"
    FIRST_SUCCESS = "first_success"


class Origin(enum.Enum):
    """Whose actions an employee wants to hear about."""

    OTHERS = "others"
    ALL = "all"


class AuditKind(enum.Enum):
    """Security events the audit log keeps (app/services/audit.py records them)."""

    SIGN_IN = "sign_in"
    SIGN_IN_FAILED = "sign_in_failed"
    SIGN_IN_LOCKED = "sign_in_locked"
    SIGN_IN_SECOND_FACTOR_FAILED = "sign_in_second_factor_failed"
    SESSIONS_ENDED = "sessions_ended"
    PASSWORD_CHANGED = "password_changed"
    PASSWORD_RESET_REQUESTED = "password_reset_requested"
    PASSWORD_RESET = "password_reset"
    INVITATION_ACCEPTED = "invitation_accepted"
    TWO_FACTOR_ENABLED = "two_factor_enabled"
    TWO_FACTOR_DISABLED = "two_factor_disabled"
    RECOVERY_CODE_USED = "recovery_code_used"
    ROLE_CHANGED = "role_changed"
    EMPLOYEE_DEACTIVATED = "employee_deactivated"
    EMPLOYEE_REACTIVATED = "employee_reactivated"
    CODE_DISABLED = "code_disabled"
    CODE_ENABLED = "code_enabled"
    CODE_USERS_LOGGED_OUT = "code_users_logged_out"
    API_TOKEN_CREATED = "api_token_created"
    API_TOKEN_REVOKED = "api_token_revoked"
