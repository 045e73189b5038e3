"""The security audit log: `record` writes one event; `events` reads a filtered page of them, newest first.

Events name employees by id (actor: who did it; subject: whom it concerns) and keep the client's address and
User-Agent when they happen inside a request. The address is `request.remote_addr`, whatever the WSGI server
(and, where configured, the proxy handling) made of it.
"""
from datetime import timedelta

import sqlalchemy as sa
from flask import has_request_context, request
from sqlalchemy.orm import joinedload

from app.enums import AuditKind
from app.extensions import db
from app.models import AuditEvent
from app.models._types import utcnow
from app.models.audit import ADDRESS_LENGTH, USER_AGENT_LENGTH

DETAIL_TEXT_LENGTH = 200  # characters kept of each text value in `detail` (a typed e-mail address, a label)
PAGE_SIZE = 50  # events per page of the audit log
LOCKOUT_REPEAT_SECONDS = 60  # one lockout event per client address and minute, however often it knocks


def _id(value):
    """An employee's or code's id from the object or the id itself (None stays None)."""
    return getattr(value, "id", value)


def _clean(detail):
    """`detail` with text values cut to DETAIL_TEXT_LENGTH characters and None values dropped."""
    cleaned = {}
    for key, value in (detail or {}).items():
        if value is None:
            continue
        cleaned[str(key)] = value[:DETAIL_TEXT_LENGTH] if isinstance(value, str) else value
    return cleaned


def record(kind, *, actor=None, subject=None, code=None, detail=None):
    """Write one security event of `kind` (an AuditKind) and commit, together with what the session holds.

    `actor` is the employee who acted and `subject` the employee it concerns (Employee objects or ids, None for
    nobody: a failed sign-in with an unknown address has neither); `code` a Code or its id; `detail` a small
    JSON-able dict (text values are cut to DETAIL_TEXT_LENGTH characters). Inside a request the client address
    (`request.remote_addr`) and the User-Agent (first 300 characters) are kept; outside one (CLI) both stay
    empty. Returns the AuditEvent. Callers that change something record in the same transaction: call `record`
    instead of their own commit, so the change and its event are stored together or not at all.
    """
    event = AuditEvent(
        kind=AuditKind(kind),
        actor_id=_id(actor),
        subject_id=_id(subject),
        code_id=_id(code),
        detail=_clean(detail),
        created_at=utcnow(),
    )
    if has_request_context():
        event.address = (request.remote_addr or "")[:ADDRESS_LENGTH] or None
        event.user_agent = (request.user_agent.string or "")[:USER_AGENT_LENGTH]
    db.session.add(event)
    db.session.commit()
    return event


def record_lockout(email=None):
    """Record that the sign-in limit refused this client, once per address and LOCKOUT_REPEAT_SECONDS.

    `email` is what was typed (kept cut, for the administrator). Returns the event, or None when this address
    was recorded as locked out within the last minute already.
    """
    address = request.remote_addr if has_request_context() else None
    since = utcnow() - timedelta(seconds=LOCKOUT_REPEAT_SECONDS)
    recent = db.session.scalar(
        sa.select(AuditEvent.id)
        .where(AuditEvent.kind == AuditKind.SIGN_IN_LOCKED, AuditEvent.address == address, AuditEvent.created_at >= since)
        .limit(1)
    )
    if recent is not None:
        return None
    return record(AuditKind.SIGN_IN_LOCKED, detail={"email": email})


def filtered(*, kind=None, employee_id=None, start=None, end=None, address=None):
    """The SELECT of audit events matching every given filter, newest first.

    `kind` an AuditKind; `employee_id` matches the actor or the subject; `start`/`end` aware datetimes (UTC),
    `start` inclusive, `end` exclusive; `address` the exact client address.
    """
    query = sa.select(AuditEvent)
    if kind is not None:
        query = query.where(AuditEvent.kind == kind)
    if employee_id is not None:
        query = query.where(sa.or_(AuditEvent.actor_id == employee_id, AuditEvent.subject_id == employee_id))
    if start is not None:
        query = query.where(AuditEvent.created_at >= start)
    if end is not None:
        query = query.where(AuditEvent.created_at < end)
    if address:
        query = query.where(AuditEvent.address == address)
    return query.order_by(AuditEvent.id.desc())


def page(query, *, before=None, size=PAGE_SIZE):
    """One page of `query` (from `filtered`) older than event id `before`: (events, id for the next page or None).

    Keyset pagination on the id, one SELECT whatever the depth: the actor, subject and code come joined.
    """
    if before is not None:
        query = query.where(AuditEvent.id < before)
    query = query.options(
        joinedload(AuditEvent.actor), joinedload(AuditEvent.subject), joinedload(AuditEvent.code)
    ).limit(size + 1)
    events = list(db.session.scalars(query).unique())
    more = len(events) > size
    events = events[:size]
    return events, (events[-1].id if more else None)
