"""The status machine as a table: every (status, event) pair, allowed and forbidden."""
import pytest

from app.workflow import EVENTS, InvalidTransition, TicketStatus, available_events, fire

S = TicketStatus
# (status, event) -> status after, for has_responsible False / True; missing pairs are forbidden.
ALLOWED = {
    (S.DRAFT, "submit"): (S.OPEN, S.OPEN),
    (S.OPEN, "assign"): (S.ASSIGNED, S.ASSIGNED),
    (S.ASSIGNED, "unassign"): (S.OPEN, S.OPEN),
    (S.ASSIGNED, "start"): (S.IN_PROGRESS, S.IN_PROGRESS),
    (S.IN_PROGRESS, "pause"): (S.ASSIGNED, S.ASSIGNED),
    (S.ASSIGNED, "finish"): (S.DONE, S.DONE),
    (S.IN_PROGRESS, "finish"): (S.DONE, S.DONE),
    (S.DONE, "rate"): (S.CLOSED, S.CLOSED),
    (S.OPEN, "close"): (S.CLOSED, S.CLOSED),
    (S.ASSIGNED, "close"): (S.CLOSED, S.CLOSED),
    (S.IN_PROGRESS, "close"): (S.CLOSED, S.CLOSED),
    (S.DONE, "close"): (S.CLOSED, S.CLOSED),
    (S.OPEN, "cancel"): (S.CANCELLED, S.CANCELLED),
    (S.ASSIGNED, "cancel"): (S.CANCELLED, S.CANCELLED),
    (S.IN_PROGRESS, "cancel"): (S.CANCELLED, S.CANCELLED),
    (S.DONE, "reopen"): (S.OPEN, S.ASSIGNED),
    (S.CLOSED, "reopen"): (S.OPEN, S.ASSIGNED),
    (S.CANCELLED, "reopen"): (S.OPEN, S.ASSIGNED),
}
PAIRS = [(status, event) for status in TicketStatus for event in EVENTS]


@pytest.mark.parametrize("has_responsible", [False, True])
@pytest.mark.parametrize(("status", "event"), PAIRS, ids=[f"{s.name}-{e}" for s, e in PAIRS])
def test_every_status_event_pair(status, event, has_responsible):
    expected = ALLOWED.get((status, event))
    if expected is None:
        with pytest.raises(InvalidTransition):
            fire(status, event, has_responsible=has_responsible)
    else:
        assert fire(status, event, has_responsible=has_responsible) == expected[has_responsible]


def test_table_covers_every_event():
    assert {event for _, event in ALLOWED} == set(EVENTS)


def test_unknown_event_is_refused():
    with pytest.raises(InvalidTransition, match="not possible"):
        fire(S.OPEN, "explode")


@pytest.mark.parametrize("status", list(TicketStatus))
def test_available_events_match_the_table(status):
    assert set(available_events(status)) == {event for (s, event) in ALLOWED if s == status}


def test_manual_events_leave_out_automatic_ones():
    assert available_events(S.OPEN, manual_only=True) == ["close", "cancel"]
    assert available_events(S.ASSIGNED, manual_only=True) == ["start", "finish", "close", "cancel"]
