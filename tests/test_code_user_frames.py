"""What a code user's socket receives while staff work: only news about what the code user may see.

The code user's socket joins its PUBLIC ticket; staff then work through a whole day on it and on an INTERNAL
ticket of the same device. After every step the frames the code user received are checked against what the
public ticket page shows (status, PUBLIC updates, messages, typing in the thread): a step only staff can see
must leave the socket silent.
"""
import pytest

from app.enums import OfferState, Visibility
from app.extensions import db, socketio
from app.models import Offer
from app.services import messenger, offers, tickets
from tests.factories import make_ticket
from tests.messenger_helpers import Scene

SECRET = "GEHEIM-intern-4711"
VISIBLE_EVENTS = {"joined", "ticket-updated", "ticket-hidden", "message-posted", "typing"}


@pytest.fixture
def scene(app):
    """A PUBLIC ticket with a code user, a moderator, a responsible member and a bystander."""
    return Scene(app)


@pytest.fixture
def sockets(app, login):
    """Socket.IO test clients as an employee or as the scene's code user; all closed at the end."""
    opened = []

    def connect(employee=None, scene=None):
        """A socket with the cookies of a fresh HTTP client."""
        http = app.test_client()
        if employee is not None:
            login(employee, http)
        if scene is not None:
            scene.code_client(http)
        client = socketio.test_client(app, flask_test_client=http)
        assert client.is_connected()
        opened.append(client)
        return client

    yield connect
    for client in opened:
        if client.is_connected():
            client.disconnect()


class Ear:
    """The code user's socket: every frame it received, checked step by step."""

    def __init__(self, client, ticket):
        self.client = client
        self.ticket = ticket
        self.log = []

    def heard(self, step):
        """The event names received since the last step, each checked to be about the code user's ticket."""
        frames = self.client.get_received()
        for frame in frames:
            self.log.append((step, frame))
            assert frame["name"] in VISIBLE_EVENTS, (step, frame)
            payload = frame["args"][0] if frame["args"] else {}
            assert payload.get("ticket") == self.ticket.id, (step, frame)
            assert SECRET not in repr(payload), (step, frame)
        return [frame["name"] for frame in frames]

    def silent(self, step):
        """Nothing at all arrived for a step only staff can see."""
        assert self.heard(step) == [], step


def _join(client, ticket, as_code=False):
    """Ask to join the ticket's room; returns the ack."""
    return client.emit("join_ticket", {"ticket": ticket.id, "as": "code" if as_code else "staff"}, callback=True)


def _offer(ticket, employee):
    """A pending offer for `employee` on `ticket` (as the fleet group's offer would be)."""
    ticket.offers.append(Offer(employee=employee, state=OfferState.PENDING))
    db.session.commit()


def test_code_user_socket_hears_only_what_its_public_ticket_page_shows(scene, sockets):
    """A working day of staff on the code user's PUBLIC ticket and on an INTERNAL ticket of the same device."""
    internal_ticket = make_ticket(scene.flow, scene.device, scene.moderator, visibility=Visibility.INTERNAL)
    assert internal_ticket.visibility == Visibility.INTERNAL
    offers.assign_employee(internal_ticket, scene.member, actor=scene.moderator)
    customer = sockets(scene=scene)
    member = sockets(scene.member)
    moderator = sockets(scene.moderator)
    assert _join(customer, scene.ticket, as_code=True)["ok"]
    assert _join(customer, internal_ticket, as_code=True)["ok"] is False
    assert _join(member, scene.ticket)["ok"] and _join(member, internal_ticket)["ok"]
    assert _join(moderator, scene.ticket)["ok"]
    customer.get_received()
    ear = Ear(customer, scene.ticket)

    # A second employee accepts an offer: the ticket was assigned already, its page does not change.
    _offer(scene.ticket, scene.bystander)
    offers.accept_offer(scene.ticket, actor=scene.bystander)
    ear.silent("second acceptance")

    tickets.fire_event(scene.ticket, "start", actor=scene.member)
    assert "ticket-updated" in ear.heard("status to in progress")

    tickets.post_update(scene.ticket, "Ersatzteil bestellt", Visibility.PUBLIC, actor=scene.member)
    assert "ticket-updated" in ear.heard("public update")

    tickets.post_update(scene.ticket, f"{SECRET} Kunde zahlt spät", Visibility.INTERNAL, actor=scene.member)
    ear.silent("internal update")

    tickets.set_priority(scene.ticket, "low", actor=scene.moderator)
    ear.silent("priority")

    assert member.emit("mark_read", {"ticket": scene.ticket.id}, callback=True)["ok"]
    ear.silent("staff read marker")

    assert member.emit("typing", {"ticket": scene.ticket.id}, callback=True)["ok"]
    assert ear.heard("staff typing in the thread") == ["typing"]

    assert member.emit("send_message", {"ticket": scene.ticket.id, "body": "Wir kommen morgen"}, callback=True)["ok"]
    assert "message-posted" in ear.heard("staff message")

    # The INTERNAL ticket of the same device is worked on.
    assert member.emit("typing", {"ticket": internal_ticket.id}, callback=True)["ok"]
    answer = member.emit("send_message", {"ticket": internal_ticket.id, "body": SECRET}, callback=True)
    assert answer["ok"]
    assert member.emit("mark_read", {"ticket": internal_ticket.id}, callback=True)["ok"]
    tickets.fire_event(internal_ticket, "start", actor=scene.member)
    tickets.post_update(internal_ticket, SECRET, Visibility.INTERNAL, actor=scene.member)
    tickets.post_update(internal_ticket, SECRET, Visibility.PUBLIC, actor=scene.member)
    tickets.set_priority(internal_ticket, "high", actor=scene.moderator)
    ear.silent("internal ticket worked on")

    # The code user's ticket turns INTERNAL: one `ticket-hidden`, then nothing of what happens meanwhile.
    tickets.set_visibility(scene.ticket, Visibility.INTERNAL, actor=scene.moderator)
    assert "ticket-hidden" in ear.heard("visibility to internal")
    messenger.post_message(scene.ticket, SECRET, actor=scene.member)
    tickets.post_update(scene.ticket, SECRET, Visibility.PUBLIC, actor=scene.member)
    tickets.post_update(scene.ticket, SECRET, Visibility.INTERNAL, actor=scene.member)
    tickets.fire_event(scene.ticket, "pause", actor=scene.member)
    assert member.emit("typing", {"ticket": scene.ticket.id}, callback=True)["ok"]
    assert _join(customer, scene.ticket, as_code=True)["ok"] is False
    customer.get_received()  # the refusal of the join above
    ear.silent("while internal")

    # Back to PUBLIC: the code user's page joins again and hears public news once more, internal news still not.
    tickets.set_visibility(scene.ticket, Visibility.PUBLIC, actor=scene.moderator)
    ear.silent("visibility back to public (room was closed)")
    assert _join(customer, scene.ticket, as_code=True)["ok"]
    assert ear.heard("joined again") == ["joined"]
    tickets.post_update(scene.ticket, f"{SECRET} nochmal", Visibility.INTERNAL, actor=scene.member)
    ear.silent("internal update after going public again")
    offers.withdraw_employee(scene.ticket, scene.bystander, actor=scene.moderator)
    ear.silent("one of two responsible withdrawn")
    tickets.post_update(scene.ticket, "Techniker ist unterwegs", Visibility.PUBLIC, actor=scene.member)
    assert "ticket-updated" in ear.heard("public update after going public again")
    assert customer.is_connected()
    assert any(step == "staff message" for step, _frame in ear.log)
