"""The ticket status machine (DESIGN.md §3) on `transitions`: pure, no Flask, no database."""
import enum

from transitions import Machine, MachineError


class TicketStatus(enum.Enum):
    """Where a ticket is in its life."""

    DRAFT = "draft"
    OPEN = "open"
    ASSIGNED = "assigned"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    CLOSED = "closed"
    CANCELLED = "cancelled"


S = TicketStatus

# (event, sources, destination, condition or None); reopen has two rows, chosen by the condition.
TRANSITIONS = [
    ("submit", [S.DRAFT], S.OPEN, None),
    ("assign", [S.OPEN], S.ASSIGNED, None),
    ("unassign", [S.ASSIGNED], S.OPEN, None),
    ("start", [S.ASSIGNED], S.IN_PROGRESS, None),
    ("pause", [S.IN_PROGRESS], S.ASSIGNED, None),
    ("finish", [S.ASSIGNED, S.IN_PROGRESS], S.DONE, None),
    ("rate", [S.DONE], S.CLOSED, None),
    ("close", [S.OPEN, S.ASSIGNED, S.IN_PROGRESS, S.DONE], S.CLOSED, None),
    ("cancel", [S.OPEN, S.ASSIGNED, S.IN_PROGRESS], S.CANCELLED, None),
    ("reopen", [S.DONE, S.CLOSED, S.CANCELLED], S.ASSIGNED, "has_responsible"),
    ("reopen", [S.DONE, S.CLOSED, S.CANCELLED], S.OPEN, None),
]

EVENTS = tuple(dict.fromkeys(row[0] for row in TRANSITIONS))
# Events that people trigger with a button; the others happen automatically.
MANUAL_EVENTS = ("start", "pause", "finish", "close", "cancel", "reopen")
OPEN_STATUSES = frozenset({S.OPEN, S.ASSIGNED, S.IN_PROGRESS})
FINAL_STATUSES = frozenset({S.CLOSED, S.CANCELLED})


class InvalidTransition(Exception):
    """The event is not allowed in the ticket's current status."""

    def __init__(self, status, event):
        self.status, self.event = status, event
        super().__init__(f"'{event}' is not possible while the ticket is {status.name}")


class _Subject:
    """The object the machine moves: a status plus the facts conditions read."""

    def __init__(self, status, has_responsible):
        self.status = status
        self._has_responsible = has_responsible

    def has_responsible(self):
        """Whether at least one employee is responsible for the ticket."""
        return self._has_responsible


def _machine(subject):
    """Build a machine over one subject; cheap enough to make per call."""
    machine = Machine(
        model=subject,
        states=list(TicketStatus),
        initial=subject.status,
        model_attribute="status",
        auto_transitions=False,
        send_event=False,
    )
    for event, sources, dest, condition in TRANSITIONS:
        machine.add_transition(event, sources, dest, conditions=[condition] if condition else None)
    return machine


def fire(status, event, *, has_responsible=False):
    """Return the status after `event`; raise InvalidTransition if it is not allowed."""
    if event not in EVENTS:
        raise InvalidTransition(status, event)
    subject = _Subject(status, has_responsible)
    _machine(subject)
    try:
        moved = getattr(subject, event)()
    except MachineError as error:
        raise InvalidTransition(status, event) from error
    if not moved:
        raise InvalidTransition(status, event)
    return subject.status


def can_fire(status, event):
    """Whether `event` is defined for `status` at all."""
    return any(event == row[0] and status in row[1] for row in TRANSITIONS)


def available_events(status, *, manual_only=False):
    """The events that may be fired in `status`, in table order."""
    names = MANUAL_EVENTS if manual_only else EVENTS
    return [event for event in names if can_fire(status, event)]
