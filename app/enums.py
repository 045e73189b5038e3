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


class Channel(enum.Enum):
    """Delivery channels besides the always-on in-app list."""

    WEBSOCKET = "websocket"
    PUSH = "push"
    EMAIL = "email"


class DeliveryStatus(enum.Enum):
    """Outbox state of one delivery."""

    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"
    SKIPPED = "skipped"
    CANCELLED = "cancelled"  # the recipient may no longer hear of it (checked just before sending)


class Strategy(enum.Enum):
    """Send on every chosen channel, or stop at the first that succeeds."""

    ALL = "all"
    FIRST_SUCCESS = "first_success"


class Origin(enum.Enum):
    """Whose actions an employee wants to hear about."""

    OTHERS = "others"
    ALL = "all"
