"""All models, importable from one place."""
from app.models.api_token import ApiToken
from app.models.audit import AuditEvent
from app.models.device import Code, CodeSession, CodeUser, Customer, Device
from app.models.message import Message, MessageRead, Update, VideoSession
from app.models.notification import (
    Delivery,
    Notification,
    PushSubscription,
    TicketReceiver,
)
from app.models.org import Organisation
from app.models.report import ReportDay, ReportDurationMonth, ReportTicketFacts
from app.models.sla import BusinessCalendar, ServiceLevel, TicketSla
from app.models.template import (
    ActionButton,
    AssistantElement,
    Flow,
    Group,
    Step,
    Template,
)
from app.models.ticket import (
    Answer,
    Attachment,
    Offer,
    Rating,
    Ticket,
    TicketEvent,
    format_number,
    parse_number,
)
from app.models.user import Employee, NotificationPreference, RecoveryCode, Team
from app.models.webhook import WebhookEndpoint, WebhookEvent

__all__ = [
    "ActionButton", "Answer", "ApiToken", "AssistantElement", "Attachment", "AuditEvent", "BusinessCalendar", "Code",
    "CodeSession", "CodeUser", "Customer",
    "Delivery", "Device", "Employee", "Flow", "Group", "Message", "MessageRead", "Notification",
    "NotificationPreference", "Offer", "Organisation", "PushSubscription", "Rating", "RecoveryCode", "ReportDay",
    "ReportDurationMonth", "ReportTicketFacts", "ServiceLevel", "Step", "Team", "Template", "Ticket", "TicketEvent",
    "TicketReceiver", "TicketSla", "Update", "VideoSession", "WebhookEndpoint", "WebhookEvent", "format_number",
    "parse_number",
]
