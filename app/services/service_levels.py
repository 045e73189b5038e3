"""Service levels on the business calendar: the calendar and the targets (administrators), each ticket's clocks,
and the 80 % and missed notifications.

Rules (what a service manager reads on the ticket page and in the reports):
- The clocks start when the ticket is submitted (`Ticket.submitted_at`) and count working minutes of the
  business calendar (app/business_hours.py: organisation zone, weekdays, hours, a German state's public holidays,
  extra closed days).
- The level of a ticket is the most specific of its template's levels: one for the ticket's flow and priority
  beats one for the flow, which beats one for the priority, which beats the template's own. Its targets are copied
  onto the ticket when it is submitted and again when its priority changes.
- First response: the first message in the ticket's thread by an employee (not a system line), an employee
  accepting the ticket's offer, or the ticket being finished or closed, whichever comes first.
- Assignment: the first moment an employee is responsible (accepted or assigned).
- Resolution: the first moment the ticket is DONE (or CLOSED straight away). A reopened ticket keeps its first
  resolution; a cancelled one stops its clocks without a result (met stays empty).
- Waiting (the pausing rule, per level, on by default): on a PUBLIC ticket the clock stops when an employee writes
  in the thread and starts again when the code user answers there (or the ticket becomes internal, or is no longer
  open). Only running targets are paused; the paused working minutes move their due times later.
- A target is met when it is reached no later than its due time. 80 % used: 80 % of the target's working minutes
  have passed (paused time not counted); each warning and each miss is notified once per ticket and target, to the
  responsible employees and the ticket's notify group (their notification settings apply).

Writes: `track` runs inside the caller's transaction on every ticket write that can move a clock; it keeps
`TicketSla` and the overview's `Ticket.sla_due_at` (the earliest due time of a running target) current.
"""
from datetime import timedelta

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm.attributes import set_committed_value

from app import business_hours, policy, time_zones
from app.enums import MessageKind, NotificationEvent, Priority, Visibility
from app.extensions import db
from app.models import (
    BusinessCalendar,
    Flow,
    Organisation,
    ServiceLevel,
    Template,
    Ticket,
    TicketSla,
)
from app.models._types import utcnow
from app.models.sla import TARGETS
from app.services import live, notifications, organisation
from app.services.errors import NotFound, ValidationError, require
from app.workflow import OPEN_STATUSES, TicketStatus

WARN_SHARE = 0.8
DUE_SOON_MINUTES = 120  # "due soon" in the overview: due within the next two working hours
MAX_TARGET_MINUTES = 99999  # about 185 working days of nine hours: due times stay within business_hours.MAX_DAYS
RESOLVED_STATUSES = frozenset({TicketStatus.DONE, TicketStatus.CLOSED})
ALERT_BATCH = 200


# --- The business calendar ----------------------------------------------------------------------------------

def calendar_row():
    """The stored calendar row, or None before an administrator saved one (defaults: Mo–Fr 08:00–17:00)."""
    return db.session.get(BusinessCalendar, 1)


def calendar():
    """The organisation's business_hours.WorkCalendar (its zone is the organisation's time zone)."""
    row = calendar_row()
    zone = time_zones.organisation_zone()
    if row is None:
        return business_hours.WorkCalendar(zone=zone)
    closed = frozenset(filter(None, (business_hours.parse_day(day) for day in row.closed_days or [])))
    return business_hours.WorkCalendar(
        zone=zone, weekdays=frozenset(row.weekdays or []), start_minute=row.start_minute, end_minute=row.end_minute,
        state=row.holiday_state or "", closed_days=closed,
    )


def _clock_minutes(text, field):
    """Local minutes after midnight from "08:00" (or "24:00" as the day's end); ValidationError otherwise."""
    text = str(text or "").strip()
    hours, _sep, minutes = text.partition(":")
    if not (hours.isdigit() and minutes.isdigit() and len(minutes) == 2 and len(hours) <= 2):
        raise ValidationError(_("Please enter a time like 08:00."), field=field)
    value = int(hours) * 60 + int(minutes)
    if int(minutes) > 59 or value > 1440:
        raise ValidationError(_("Please enter a time like 08:00."), field=field)
    return value


def save_calendar(*, time_zone, weekdays, start, end, holiday_state, closed_days, actor):
    """Store the business calendar: the organisation's zone (IANA name), working weekdays (ints or digit strings,
    0 = Monday), daily hours `start`/`end` ("08:00", "17:00"; end after start, "24:00" allowed), the German state
    whose public holidays close the office (business_hours.STATES) and extra closed days (text, one date per
    line, "2026-12-24" or "24.12.2026"). Administrators only: NotAllowed. Raises ValidationError (field named).
    Running tickets keep their due times until their next change."""
    require(policy.can_manage_calendar(actor))
    organisation.check_time_zone(time_zone)
    try:
        days = sorted({int(day) for day in weekdays or []})
    except (TypeError, ValueError):
        days = [-1]
    if not days or not set(days) <= set(range(7)):
        raise ValidationError(_("Please choose at least one working day."), field="weekdays")
    start_minute, end_minute = _clock_minutes(start, "start"), _clock_minutes(end, "end")
    if start_minute >= end_minute:
        raise ValidationError(_("The working day must end after it starts."), field="end")
    if (holiday_state or "") not in business_hours.STATES:
        raise ValidationError(_("Please choose a state from the list."), field="holiday_state")
    closed = set()
    for line in str(closed_days or "").replace(",", "\n").splitlines():
        if not line.strip():
            continue
        day = business_hours.parse_day(line)
        if day is None:
            raise ValidationError(_("“%(text)s” is no date; please write dates like 24.12.2026.", text=line.strip()[:40]),
                                  field="closed_days")
        closed.add(day)
    if len(closed) > 400:
        raise ValidationError(_("Please list at most 400 closed days."), field="closed_days")
    row = calendar_row() or BusinessCalendar(id=1)
    row.weekdays, row.start_minute, row.end_minute = days, start_minute, end_minute
    row.holiday_state = holiday_state or ""
    row.closed_days = [day.isoformat() for day in sorted(closed)]
    db.session.add(row)
    zone_changed = organisation.stage_time_zone(Organisation.current(), time_zone)
    db.session.commit()
    if zone_changed:
        organisation.after_time_zone_change()
    return row


# --- Service levels -----------------------------------------------------------------------------------------

def all_levels():
    """Every service level with its template and flow, ordered by template name, flow, priority."""
    rows = db.session.scalars(
        sa.select(ServiceLevel).join(Template, ServiceLevel.template_id == Template.id).order_by(Template.name, ServiceLevel.id)
    ).all()
    return rows


def get_level(level_id, *, actor):
    """One level for an administrator; NotFound or NotAllowed."""
    require(policy.can_manage_service_levels(actor))
    level = db.session.get(ServiceLevel, level_id) if level_id else None
    if level is None:
        raise NotFound(_("This service level does not exist."))
    return level


def _target(value, field):
    """Working minutes from a form (blank: no target); 1 … one year of minutes."""
    if value in (None, ""):
        return None
    try:
        minutes = int(str(value).strip())
    except (TypeError, ValueError):
        raise ValidationError(_("Please enter whole working minutes, or leave it empty."), field=field) from None
    if not 1 <= minutes <= MAX_TARGET_MINUTES:
        raise ValidationError(_("Please enter whole working minutes, or leave it empty."), field=field)
    return minutes


def save_level(level, *, template_id, flow_id=None, priority=None, first_response_minutes=None,
               assignment_minutes=None, resolution_minutes=None, pause_while_waiting=True, actor):
    """Create (`level` None) or change a service level: a template (id), optionally one of its flows (id) and a
    priority (Priority, its value or name; blank: any), targets in working minutes (blank: none) and whether the
    clock stops while waiting for the code user. Administrators only (NotAllowed). Raises ValidationError when
    the flow is not the template's, no target is given, or another level has the same scope. Returns the level."""
    require(policy.can_manage_service_levels(actor))
    template = db.session.get(Template, template_id) if template_id else None
    if template is None:
        raise ValidationError(_("Please choose a template."), field="template_id")
    flow = db.session.get(Flow, flow_id) if flow_id else None
    if flow_id and (flow is None or flow.template_id != template.id):
        raise ValidationError(_("Please choose a creation flow of this template."), field="flow_id")
    chosen = None
    if priority not in (None, ""):
        chosen = next((p for p in Priority if priority in (p, p.value, p.name)), None)
        if chosen is None:
            raise ValidationError(_("Please choose a priority."), field="priority")
    targets = {
        "first_response_minutes": _target(first_response_minutes, "first_response_minutes"),
        "assignment_minutes": _target(assignment_minutes, "assignment_minutes"),
        "resolution_minutes": _target(resolution_minutes, "resolution_minutes"),
    }
    if all(value is None for value in targets.values()):
        raise ValidationError(_("Please enter at least one target."), field="first_response_minutes")
    same = sa.select(ServiceLevel.id).where(
        ServiceLevel.template_id == template.id,
        ServiceLevel.flow_id.is_(None) if flow is None else ServiceLevel.flow_id == flow.id,
        ServiceLevel.priority.is_(None) if chosen is None else ServiceLevel.priority == chosen,
    )
    if level is not None:
        same = same.where(ServiceLevel.id != level.id)
    if db.session.scalar(same.limit(1)) is not None:
        raise ValidationError(_("There is already a service level for this template, flow and priority."),
                              field="template_id")
    level = level or ServiceLevel()
    level.template_id, level.flow_id, level.priority = template.id, flow.id if flow else None, chosen
    for name, value in targets.items():
        setattr(level, name, value)
    level.pause_while_waiting = bool(pause_while_waiting)
    db.session.add(level)
    db.session.commit()
    return level


def delete_level(level, *, actor):
    """Remove a level; tickets keep the targets they were given. Administrators only (NotAllowed)."""
    require(policy.can_manage_service_levels(actor))
    db.session.delete(level)
    db.session.commit()


def level_for(ticket):
    """The most specific level for the ticket's template, flow and priority, or None."""
    candidates = db.session.scalars(sa.select(ServiceLevel).where(ServiceLevel.template_id == ticket.template_id)).all()
    fitting = [
        level for level in candidates
        if level.flow_id in (None, ticket.flow_id) and level.priority in (None, ticket.priority)
    ]
    if not fitting:
        return None
    return max(fitting, key=lambda level: (level.flow_id is not None, level.priority is not None, level.id))


# --- Each ticket's clocks -----------------------------------------------------------------------------------

def _copy_level(row, level):
    """Take the level's targets and pausing rule."""
    row.service_level_id = level.id
    row.pause_while_waiting = level.pause_while_waiting
    for target in TARGETS:
        setattr(row, f"{target}_minutes", getattr(level, f"{target}_minutes"))


def responds(message):
    """Whether a new thread message answers for the staff: written by an employee, not a system line."""
    return message.author_employee_id is not None and message.kind != MessageKind.SYSTEM


def track(ticket, *, responded=False, waiting=None, repick=False, start=False, now=None):
    """Move the ticket's clocks after a write, in the caller's transaction (the caller commits).

    `responded`: an employee answered (first response); `waiting`: True when an employee wrote in the thread,
    False when the code user did, None unchanged; `repick`: choose the level again (the priority changed);
    `start`: the ticket was just submitted. Only then is its TicketSla row created (when a level applies), so a
    level made later never gives old tickets clocks that ran out long ago. Returns the row or None."""
    if ticket.id is None or ticket.status == TicketStatus.DRAFT:
        return None
    now = now or utcnow()
    row = db.session.get(TicketSla, ticket.id)
    if row is None and not start:
        return None
    if row is None or repick:
        level = level_for(ticket)
        if level is None and row is None:
            return None
        if row is None:
            row = TicketSla(ticket_id=ticket.id, started_at=ticket.submitted_at or now, paused_minutes=0.0, waiting=False)
            db.session.add(row)
        if level is not None:
            _copy_level(row, level)
    cal = calendar()
    if responded and row.first_response_at is None:
        row.first_response_at = now
    if ticket.responsible_employee_ids and row.assignment_at is None:
        row.assignment_at = now
    if ticket.status in RESOLVED_STATUSES:
        row.resolution_at = row.resolution_at or now
        row.first_response_at = row.first_response_at or now
    if waiting is not None:
        row.waiting = bool(waiting)
    if ticket.visibility != Visibility.PUBLIC:
        row.waiting = False
    running = ticket.status in OPEN_STATUSES
    paused = running and bool(row.pause_while_waiting) and bool(row.waiting)
    if paused and row.paused_since is None:
        row.paused_since = now
    elif not paused and row.paused_since is not None:
        row.paused_minutes = (row.paused_minutes or 0.0) + max(0.0, cal.between(row.paused_since, now))
        row.paused_since = None
    _schedule(ticket, row, cal, now)
    return row


def paused_total(row, cal, now):
    """Working minutes the ticket's clocks stood still so far, the running pause included."""
    total = row.paused_minutes or 0.0
    if row.paused_since is not None:
        total += max(0.0, cal.between(row.paused_since, now))
    return total


def _due(row, cal, minutes, paused):
    """When `minutes` of working time after the start are used, `paused` working minutes not counting."""
    try:
        return cal.add(row.started_at, minutes + paused)
    except business_hours.NoWorkingTime:
        return None


def _schedule(ticket, row, cal, now):
    """Due times, results, the next alert and the ticket's `sla_due_at` from the row's current state."""
    running = ticket.status in OPEN_STATUSES
    paused = paused_total(row, cal, now)
    dues, alerts = [], []
    for target in TARGETS:
        minutes = getattr(row, f"{target}_minutes")
        reached = getattr(row, f"{target}_at")
        if minutes is None:
            setattr(row, f"{target}_due_at", None)
            continue
        if reached is not None:
            if getattr(row, f"{target}_met") is None:
                due = _due(row, cal, minutes, paused)
                setattr(row, f"{target}_due_at", due)
                setattr(row, f"{target}_met", due is not None and reached <= due)
            continue
        if row.paused_since is not None:
            setattr(row, f"{target}_due_at", None)
            continue
        due = _due(row, cal, minutes, paused)
        setattr(row, f"{target}_due_at", due)
        if not running or due is None:
            continue
        dues.append(due)
        if getattr(row, f"{target}_missed_at") is None:
            alerts.append(due)
        if getattr(row, f"{target}_warned_at") is None:
            warn = _due(row, cal, minutes * WARN_SHARE, paused)
            if warn is not None:
                alerts.append(warn)
    row.next_alert_at = min(alerts) if alerts else None
    due_at = min(dues) if dues else None
    if ticket.sla_due_at != due_at:
        # Core, so the ticket's optimistic-lock version stays (a message is an append, not an edit).
        db.session.execute(sa.update(Ticket.__table__).where(Ticket.__table__.c.id == ticket.id).values(sla_due_at=due_at))
        set_committed_value(ticket, "sla_due_at", due_at)


def send_alerts(now=None, limit=ALERT_BATCH):
    """Notify the 80 % and missed targets whose time has come; returns how many notices were recorded.

    One indexed query (`TicketSla.next_alert_at <= now`), then per ticket a conditional UPDATE of each sent-marker
    (`T_warned_at` / `T_missed_at` IS NULL), so several dispatchers never send one twice. A warning whose target is
    already missed is not sent any more (the miss says more). Commits per ticket. Run by the dispatcher loop every
    SLA_CHECK_SECONDS and by `flask sla check`."""
    now = now or utcnow()
    ticket_ids = db.session.scalars(
        sa.select(TicketSla.ticket_id).where(TicketSla.next_alert_at <= now).order_by(TicketSla.next_alert_at).limit(limit)
    ).all()
    sent = 0
    for ticket_id in ticket_ids:
        row = db.session.get(TicketSla, ticket_id, populate_existing=True)
        ticket = db.session.get(Ticket, ticket_id)
        if row is None or ticket is None:
            continue
        cal = calendar()
        paused = paused_total(row, cal, now)
        for target in TARGETS:
            minutes, due = getattr(row, f"{target}_minutes"), getattr(row, f"{target}_due_at")
            if minutes is None or due is None or getattr(row, f"{target}_at") is not None:
                continue
            if ticket.status not in OPEN_STATUSES or row.paused_since is not None:
                continue
            if due <= now:
                if _mark(row, f"{target}_missed_at", now):
                    _mark(row, f"{target}_warned_at", now)
                    notifications.record(NotificationEvent.SLA_MISSED, ticket, actor=None, target=target,
                                         due=due.isoformat())
                    sent += 1
                continue
            warn = _due(row, cal, minutes * WARN_SHARE, paused)
            if warn is not None and warn <= now and _mark(row, f"{target}_warned_at", now):
                notifications.record(NotificationEvent.SLA_WARNING, ticket, actor=None, target=target,
                                     due=due.isoformat())
                sent += 1
        _schedule(ticket, row, cal, now)
        db.session.commit()
        live.send_live(live.release())
    return sent


def _mark(row, column, now):
    """Set a sent-marker once: True for the one writer whose conditional UPDATE found it empty."""
    table = TicketSla.__table__
    result = db.session.execute(
        sa.update(table).where(table.c.ticket_id == row.ticket_id, table.c[column].is_(None)).values({column: now})
    )
    if result.rowcount == 1:
        set_committed_value(row, column, now)
        return True
    return False


# --- What the pages show ------------------------------------------------------------------------------------

def due_soon_horizon(now=None):
    """The instant up to which a due time counts as "due soon": DUE_SOON_MINUTES working minutes from now."""
    now = now or utcnow()
    try:
        return calendar().add(now, DUE_SOON_MINUTES)
    except business_hours.NoWorkingTime:
        return now + timedelta(minutes=DUE_SOON_MINUTES)


def target_label(target):
    """The translated name of a target ("first_response" …)."""
    labels = {"first_response": _("First response"), "assignment": _("Assignment"), "resolution": _("Resolution")}
    return labels.get(target, target)


def clocks(ticket, now=None):
    """What the staff ticket page shows: None without a level, else a list of dicts per target with a target:
    {target, label, minutes, due_at (UTC or None), reached_at, state ("met", "missed", "running", "overdue",
    "paused", "stopped"), remaining (working minutes left, ≥ 0, or overdue minutes for "overdue")}."""
    row = ticket.sla if ticket.id else None  # loaded with the ticket on its page
    if row is None:
        return None
    now = now or utcnow()
    cal = calendar()
    paused = paused_total(row, cal, now)
    used = max(0.0, cal.between(row.started_at, now) - paused)
    shown = []
    for target in TARGETS:
        minutes = getattr(row, f"{target}_minutes")
        if minutes is None:
            continue
        due, reached, met = getattr(row, f"{target}_due_at"), getattr(row, f"{target}_at"), getattr(row, f"{target}_met")
        remaining = 0.0
        if reached is not None:
            state = "met" if met else "missed"
        elif ticket.status not in OPEN_STATUSES:
            state = "stopped"
        elif row.paused_since is not None:
            state, remaining = "paused", max(0.0, minutes - used)
        elif due is not None and due <= now:
            state, remaining = "overdue", max(0.0, cal.between(due, now))
        else:
            state, remaining = "running", max(0.0, minutes - used)
        shown.append({"target": target, "label": target_label(target), "minutes": minutes, "due_at": due,
                      "reached_at": reached, "state": state, "remaining": remaining,
                      "remaining_text": business_hours.format_minutes(remaining)})
    return shown
