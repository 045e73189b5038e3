"""Webhooks: endpoints administrators register, the events recorded for them, and their signed delivery.

Rules (docs/webhooks.md is the receiver's side of the same):
- An event is recorded by `record`, which `notifications.record` calls in the transaction of each change, so an
  event exists exactly when the change was committed. Its payload (`payload`) is built then and stored: every
  attempt sends the same body, and the receiver de-duplicates by its `id` (also the `Ticketwerk-Event-Id` header).
- Each event goes to each subscribed, active endpoint once: one outbox `Delivery` of channel WEBHOOK per
  endpoint (unique per event and endpoint), sent by the same dispatcher as e-mail and web push
  (services/dispatcher.py: claiming, retries with backoff, failure after DELIVERY_MAX_ATTEMPTS attempts).
- INTERNAL content (an INTERNAL ticket, an INTERNAL update) goes only to endpoints marked internal
  (`policy.can_receive_webhook`), asked when the event is recorded and again right before each send
  (`cancel_reason`), like the recipients of notifications.
- Endpoints pass the outbound address guard (services/outbound.py) when they are saved and before each send;
  redirects are not followed.
- Signature: `Ticketwerk-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" with the secret>`.
"""
import hashlib
import hmac
import json
import secrets
import time
from datetime import UTC

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from app import policy
from app.enums import (
    SUBSCRIBABLE_WEBHOOK_EVENTS,
    Channel,
    DeliveryStatus,
    NotificationEvent,
    Visibility,
    WebhookEventType,
)
from app.extensions import db
from app.models import Delivery, WebhookEndpoint, WebhookEvent
from app.models._types import utcnow
from app.services import outbound
from app.services.errors import ValidationError, require
from app.services.input_checks import text
from app.workflow import TicketStatus

SIGNATURE_HEADER = "Ticketwerk-Signature"
EVENT_ID_HEADER = "Ticketwerk-Event-Id"
EVENT_TYPE_HEADER = "Ticketwerk-Event-Type"
SIGNATURE_TOLERANCE_SECONDS = 300  # how old a signature `verify` accepts (replayed requests are refused)
LOG_ROWS = 100  # deliveries the log page shows

# The notification events that are webhook events too; OFFER_RECEIVED (one per fleet member) is part of
# ticket.created, and mails about accounts are no ticket events.
TYPE_OF = {
    NotificationEvent.TICKET_CREATED: WebhookEventType.TICKET_CREATED,
    NotificationEvent.STATUS_CHANGED: WebhookEventType.TICKET_STATUS_CHANGED,
    NotificationEvent.REOPENED: WebhookEventType.TICKET_STATUS_CHANGED,
    NotificationEvent.ASSIGNED: WebhookEventType.TICKET_ASSIGNED,
    NotificationEvent.WITHDRAWN: WebhookEventType.TICKET_UNASSIGNED,
    NotificationEvent.RATED: WebhookEventType.TICKET_RATED,
    NotificationEvent.OFFER_ACCEPTED: WebhookEventType.OFFER_ACCEPTED,
    NotificationEvent.OFFER_DECLINED: WebhookEventType.OFFER_DECLINED,
    NotificationEvent.MESSAGE_POSTED: WebhookEventType.MESSAGE_POSTED,
    NotificationEvent.UPDATE_POSTED: WebhookEventType.UPDATE_POSTED,
}


class WebhookError(outbound.SendError):
    """Sending failed; `permanent` says whether a retry cannot help."""


# Endpoints -------------------------------------------------------------------------------------------------


def new_secret():
    """A fresh signing secret: `whsec_` and 43 URL-safe characters (256 random bits)."""
    return "whsec_" + secrets.token_urlsafe(32)


def check_url(url, field="url"):
    """None when the server may post to `url`; ValidationError on `field` otherwise (outbound.check_public_url with
    OUTBOUND_ALLOW_PRIVATE_ADDRESSES). Resolves the host through DNS."""
    outbound.check_public_url(url, allow_private=outbound.private_addresses_allowed(), field=field)


def _events(values):
    """The subscribed event types as their values, in the order of WebhookEventType; ValidationError ("events")
    when none or an unknown one is chosen."""
    chosen = {str(value) for value in (values or ())}
    known = {kind.value for kind in SUBSCRIBABLE_WEBHOOK_EVENTS}
    if not chosen or chosen - known:
        raise ValidationError(_("Please choose at least one of the listed events."), field="events")
    return [kind.value for kind in SUBSCRIBABLE_WEBHOOK_EVENTS if kind.value in chosen]


def save_endpoint(endpoint, *, url, description="", events=(), active=True, internal=False, actor):
    """Create (endpoint=None, with a new secret) or edit an endpoint; commits and returns it.

    Raises NotAllowed (not an administrator) and ValidationError on "url" (missing, longer than 1000 characters,
    not https, a private or unknown host: outbound.check_public_url), "description" (over 255 characters or
    several lines) or "events" (none chosen); nothing is saved then."""
    require(policy.can_manage_webhooks(actor))
    url = text(url, "url", max_length=1000, required=True, one_line=True)
    check_url(url)
    description = text(description, "description", max_length=255, one_line=True)
    events = _events(events)
    if endpoint is None:
        endpoint = WebhookEndpoint(secret=new_secret(), secret_created_at=utcnow())
        db.session.add(endpoint)
    endpoint.url, endpoint.description, endpoint.events = url, description, events
    endpoint.active, endpoint.internal = bool(active), bool(internal)
    db.session.commit()
    return endpoint


def rotate_secret(endpoint, *, actor):
    """Give the endpoint a new secret (the old one signs nothing from now on, retries included); commits."""
    require(policy.can_manage_webhooks(actor))
    endpoint.secret, endpoint.secret_created_at = new_secret(), utcnow()
    db.session.commit()
    return endpoint.secret


def delete_endpoint(endpoint, *, actor):
    """Remove the endpoint and its deliveries (pending ones are not sent anymore); commits."""
    require(policy.can_manage_webhooks(actor))
    db.session.delete(endpoint)
    db.session.commit()


def send_test_event(endpoint, *, actor):
    """Queue a `ping` event for this endpoint alone; the dispatcher sends it like any other. Returns the event.

    Raises NotAllowed, and ValidationError when the endpoint is switched off (it would receive nothing)."""
    require(policy.can_manage_webhooks(actor))
    if not endpoint.active:
        raise ValidationError(_("This endpoint is switched off; switch it on to send a test event."))
    event = _new_event(
        WebhookEventType.PING, ticket=None, internal=False,
        data={"endpoint": {"id": endpoint.id, "url": endpoint.url}, "actor": _actor(actor)},
    )
    event.deliveries.append(Delivery(channel=Channel.WEBHOOK, webhook_endpoint=endpoint, next_attempt_at=utcnow()))
    db.session.commit()
    return event


def endpoints():
    """Every endpoint, the active ones first, then by address."""
    return list(db.session.scalars(sa.select(WebhookEndpoint).order_by(WebhookEndpoint.active.desc(), WebhookEndpoint.url)))


def delivery_log(endpoint, limit=LOG_ROWS):
    """(delivery, event) pairs of the endpoint, newest first, at most `limit`."""
    query = (
        sa.select(Delivery, WebhookEvent)
        .join(WebhookEvent, Delivery.webhook_event_id == WebhookEvent.id)
        .where(Delivery.webhook_endpoint_id == endpoint.id)
        .order_by(Delivery.id.desc())
        .limit(limit)
    )
    return db.session.execute(query).all()


# Recording ---------------------------------------------------------------------------------------------------


def record(event, ticket, *, actor, subject=None, update=None, message=None, detail=None):
    """Write the webhook event for a notification event and one delivery per endpoint that may hear of it, in the
    current transaction. Returns the WebhookEvent, or None when no endpoint wants it (nothing is stored then).

    `detail` is the notification's detail (`before`/`after` status names, `score`); `subject` the employee an
    offer or assignment is about; `update`/`message` the appended update or message."""
    kind = TYPE_OF.get(event)
    if kind is None or ticket is None:
        return None
    internal = ticket.visibility == Visibility.INTERNAL or (
        update is not None and update.visibility == Visibility.INTERNAL
    )
    targets = [
        endpoint
        for endpoint in db.session.scalars(
            sa.select(WebhookEndpoint).where(WebhookEndpoint.active.is_(True)).order_by(WebhookEndpoint.id)
        )
        if kind.value in (endpoint.events or []) and policy.can_receive_webhook(endpoint, internal=internal)
    ]
    if not targets:
        return None
    data = {"ticket": ticket_data(ticket), "actor": _actor(actor)}
    data.update(_extra(kind, ticket, subject=subject, update=update, message=message, detail=detail or {}))
    row = _new_event(kind, ticket=ticket, internal=internal, data=data)
    now = utcnow()
    for endpoint in targets:
        row.deliveries.append(Delivery(channel=Channel.WEBHOOK, webhook_endpoint=endpoint, next_attempt_at=now))
    return row


def _new_event(kind, *, ticket, internal, data):
    """A WebhookEvent row with a fresh public id, added to the session."""
    row = WebhookEvent(
        public_id="evt_" + secrets.token_hex(12), type=kind.value, ticket=ticket, internal=internal, data=data,
        created_at=utcnow(),
    )
    db.session.add(row)
    return row


def _iso(moment):
    """UTC ISO 8601 with a `Z`, seconds precision; None stays None."""
    if moment is None:
        return None
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def ticket_data(ticket):
    """The ticket as every payload carries it (docs/webhooks.md, "The ticket object")."""
    from app.services.notification_links import base_url

    device = ticket.device
    return {
        "number": ticket.number,
        "display_number": ticket.display_number,
        "title": ticket.title,
        "flow": ticket.flow_title,
        "status": ticket.status.value,
        "visibility": ticket.visibility.value,
        "priority": ticket.priority.value,
        "created_at": _iso(ticket.created_at),
        "url": f"{base_url()}/tickets/{ticket.number}",
        "device": None if device is None else {
            "id": device.id, "name": device.name, "serial_number": device.serial_number, "location": device.location,
        },
        "template": None if ticket.template is None else {"id": ticket.template.id, "name": ticket.template.name},
        "customer": None if ticket.customer is None else {"id": ticket.customer.id, "name": ticket.customer.name},
    }


def _actor(actor):
    """Who acted: an employee by id and name; a code user or the system without anything personal."""
    if actor is None:
        return {"type": "system"}
    if policy.is_employee(actor):
        return {"type": "employee", "id": actor.id, "name": actor.name}
    return {"type": "code_user"}


def _employee(employee):
    """An employee as payloads name them."""
    return None if employee is None else {"id": employee.id, "name": employee.name}


def _status(name):
    """A status value (`closed`) from its stored name (`CLOSED`)."""
    try:
        return TicketStatus[name].value
    except KeyError:
        return None


def _extra(kind, ticket, *, subject, update, message, detail):
    """The event's own fields beside `ticket` and `actor`."""
    if kind == WebhookEventType.TICKET_STATUS_CHANGED:
        return {"status": {"before": _status(detail.get("before")), "after": _status(detail.get("after"))}}
    if kind in (WebhookEventType.TICKET_ASSIGNED, WebhookEventType.TICKET_UNASSIGNED,
                WebhookEventType.OFFER_ACCEPTED, WebhookEventType.OFFER_DECLINED):
        return {"employee": _employee(subject if policy.is_employee(subject) else None)}
    if kind == WebhookEventType.TICKET_RATED:
        rating = ticket.rating
        return {"rating": {"score": detail.get("score"), "comment": rating.comment if rating else ""}}
    if kind == WebhookEventType.UPDATE_POSTED and update is not None:
        return {"update": {
            "id": update.id, "visibility": update.visibility.value, "text": update.body,
            "created_at": _iso(update.created_at or utcnow()),
        }}
    if kind == WebhookEventType.MESSAGE_POSTED and message is not None:
        return {"message": {
            "id": message.id, "kind": message.kind.value, "text": message.body or "",
            "created_at": _iso(message.created_at or utcnow()),
        }}
    return {}


# Sending -----------------------------------------------------------------------------------------------------


def payload(event):
    """The JSON object sent: {id, type, created_at (UTC ISO 8601), data}."""
    return {"id": event.public_id, "type": event.type, "created_at": _iso(event.created_at), "data": event.data}


def body(event):
    """The request body: `payload` as compact UTF-8 JSON, the same bytes on every attempt."""
    return json.dumps(payload(event), ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()


def sign(secret, timestamp, content):
    """Hex HMAC-SHA256 of `"<timestamp>.<body>"` keyed with the secret (UTF-8); `content` is the body's bytes."""
    signed = str(int(timestamp)).encode() + b"." + content
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def signature_header(secret, timestamp, content):
    """The `Ticketwerk-Signature` value: `t=<unix seconds>,v1=<hex>`."""
    return f"t={int(timestamp)},v1={sign(secret, timestamp, content)}"


def verify(secret, header, content, *, now=None, tolerance=SIGNATURE_TOLERANCE_SECONDS):
    """Whether `header` signs `content` with `secret` and is at most `tolerance` seconds old (what a receiver does;
    docs/webhooks.md shows the same in a few lines). Several `v1=` entries are allowed; one must match."""
    parts = [item.split("=", 1) for item in (header or "").split(",") if "=" in item]
    stamps = [value for key, value in parts if key.strip() == "t"]
    signatures = [value.strip() for key, value in parts if key.strip() == "v1"]
    if len(stamps) != 1 or not stamps[0].strip().isdigit() or not signatures:
        return False
    timestamp = int(stamps[0])
    if abs((now if now is not None else time.time()) - timestamp) > tolerance:
        return False
    expected = sign(secret, timestamp, content)
    return any(hmac.compare_digest(expected, signature) for signature in signatures)


def cancel_reason(delivery):
    """Why this webhook delivery must not be sent anymore (asked right before each send), or None.

    The endpoint is gone or switched off, no longer subscribes to the event, or may not hear of INTERNAL content
    while the event is about it or its ticket has become INTERNAL since."""
    endpoint, event = delivery.webhook_endpoint, delivery.webhook_event
    if endpoint is None or event is None:
        return "the endpoint or the event no longer exists"
    if not endpoint.active:
        return "the endpoint is switched off"
    if event.type != WebhookEventType.PING.value and event.type not in (endpoint.events or []):
        return "the endpoint no longer subscribes to this event"
    internal = event.internal or (event.ticket is not None and event.ticket.visibility == Visibility.INTERNAL)
    if not policy.can_receive_webhook(endpoint, internal=internal):
        return "the endpoint is not marked internal and the event is about internal content"
    return None


def send(delivery, now=None):
    """Post the event to its endpoint once; records the answer's status on the delivery. Raises WebhookError.

    The address is checked again first (a refused address is a permanent failure, an unknown host a passing
    one); redirects are not followed (a 3xx answer is a permanent failure); any other answer than 2xx, a
    timeout (WEBHOOK_TIMEOUT_SECONDS) or a broken connection is worth a retry."""
    import requests

    endpoint, event = delivery.webhook_endpoint, delivery.webhook_event
    outbound.check_before_sending(check_url, endpoint.url, WebhookError, "endpoint")
    content = body(event)
    timestamp = int((now or utcnow()).timestamp())
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "Ticketwerk-Webhooks/1",
        SIGNATURE_HEADER: signature_header(endpoint.secret, timestamp, content),
        EVENT_ID_HEADER: event.public_id,
        EVENT_TYPE_HEADER: event.type,
    }
    timeout = float(current_app.config.get("WEBHOOK_TIMEOUT_SECONDS", 10))
    try:
        with requests.post(
            endpoint.url, data=content, headers=headers, timeout=timeout, allow_redirects=False, stream=True
        ) as response:
            status = response.status_code
    except requests.RequestException as error:
        delivery.response_status = None
        raise WebhookError(f"request failed: {type(error).__name__}: {str(error)[:200]}") from None
    delivery.response_status = status
    if 200 <= status < 300:
        return status
    if 300 <= status < 400:
        raise WebhookError(f"endpoint answered {status}: redirects are not followed", permanent=True)
    raise WebhookError(f"endpoint answered {status}")


def pending_count(endpoint):
    """How many deliveries of the endpoint still wait to be sent."""
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(Delivery).where(
            Delivery.webhook_endpoint_id == endpoint.id, Delivery.status == DeliveryStatus.PENDING
        )
    )
