"""Webhooks against a real HTTP receiver on loopback: each event once, signed; retries with backoff while it
answers 500; nothing to a switched-off endpoint; INTERNAL content only to internal endpoints; the address guard;
the administration pages (administrators only, German refusals that change nothing)."""
import hashlib
import hmac
import json
import time
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.enums import Channel, DeliveryStatus, Role, Visibility
from app.extensions import db
from app.models import Delivery, WebhookEndpoint, WebhookEvent
from app.models._types import utcnow
from app.services import dispatcher, messenger, offers, tickets, webhooks
from app.services.errors import NotAllowed
from tests.factories import make_employee, make_ticket
from tests.test_notifications import World
from tests.test_notifications_helpers import LoopbackReceiver

RUN_ON_POSTGRES = True

ALL_EVENTS = [
    "ticket.created", "ticket.status_changed", "ticket.assigned", "ticket.unassigned", "ticket.rated",
    "offer.accepted", "offer.declined", "message.posted", "update.posted",
]


class Receiver(LoopbackReceiver):
    """An HTTP server on loopback that checks each request's signature as a receiving system would (with its own
    HMAC code, not the app's) and answers with the status set per path (200 unless told)."""

    def __init__(self):
        self.secrets = {}
        super().__init__()

    def record(self, path, headers, body):
        """Whether the request's signature checks out with the path's secret."""
        return {"verified": self.verify(path, headers, body)}

    def verify(self, path, headers, body):
        """The documented check: t and v1 from Ticketwerk-Signature, HMAC-SHA256 of "<t>.<body>", within 5 min."""
        secret = self.secrets.get(path)
        fields = dict(part.split("=", 1) for part in headers.get("ticketwerk-signature", "").split(",") if "=" in part)
        if not secret or "t" not in fields or "v1" not in fields:
            return False
        expected = hmac.new(secret.encode(), fields["t"].encode() + b"." + body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected, fields["v1"]) and abs(time.time() - int(fields["t"])) < 300

    def to(self, path):
        """Requests that reached one path, as (headers, payload, verified)."""
        return [(r["headers"], json.loads(r["body"]), r["verified"]) for r in self.requests if r["path"] == path]

    def types(self, path):
        """The event types that reached one path, in order."""
        return [payload["type"] for _, payload, _ in self.to(path)]


@pytest.fixture
def receiver(app):
    """A receiver on loopback; private endpoints allowed as on a closed network."""
    app.config["OUTBOUND_ALLOW_PRIVATE_ADDRESSES"] = True
    server = Receiver()
    yield server
    server.stop()


@pytest.fixture
def world(app):
    world = World()
    world.admin = make_employee(Role.ADMIN, name="Ada")
    return world


def register(world, receiver, path, *, events=ALL_EVENTS, internal=False, active=True):
    """An endpoint at `path` of the receiver, registered through the service; the receiver learns its secret."""
    endpoint = webhooks.save_endpoint(None, url=receiver.url + path, description=path, events=events,
                                      internal=internal, active=active, actor=world.admin)
    receiver.secrets[path] = endpoint.secret
    return endpoint


def hook_deliveries(endpoint):
    """The endpoint's deliveries, oldest first."""
    return list(db.session.scalars(
        sa.select(Delivery).where(Delivery.webhook_endpoint_id == endpoint.id).order_by(Delivery.id)))


def dispatch(now=None):
    """Run the dispatcher over everything due."""
    while dispatcher.dispatch_due(now=now):
        pass


def test_each_event_reaches_the_endpoint_once_signed_with_stable_fields(app, world, receiver):
    register(world, receiver, "/erp")
    ticket = world.code_user_ticket()
    offers.accept_offer(ticket, actor=world.anna)
    offers.decline_offer(ticket, actor=world.ben)
    offers.assign_employee(ticket, world.carla, actor=world.mod)
    offers.withdraw_employee(ticket, world.carla, actor=world.mod)
    messenger.post_message(ticket, "Bitte Foto vom Typenschild", actor=world.anna)
    tickets.post_update(ticket, "Dichtung getauscht", Visibility.PUBLIC, actor=world.anna)
    tickets.fire_event(ticket, "start", actor=world.anna)
    tickets.fire_event(ticket, "finish", actor=world.anna)
    tickets.rate_ticket(ticket, 5, "Schnell repariert", actor=world.visitor)
    dispatch()
    dispatch(utcnow() + timedelta(hours=1))  # nothing is sent twice, however often the dispatcher looks

    assert receiver.types("/erp") == [
        "ticket.created", "offer.accepted", "offer.declined", "ticket.assigned", "ticket.unassigned",
        "message.posted", "update.posted", "ticket.status_changed", "ticket.status_changed", "ticket.rated",
    ]
    received = receiver.to("/erp")
    assert all(verified for _, _, verified in received)
    ids = [payload["id"] for _, payload, _ in received]
    assert len(set(ids)) == len(ids)
    assert [headers["ticketwerk-event-id"] for headers, _, _ in received] == ids
    assert all(headers["content-type"].startswith("application/json") for headers, _, _ in received)

    by_type = {}
    for _, payload, _ in received:
        by_type.setdefault(payload["type"], []).append(payload)
    created = by_type["ticket.created"][0]
    assert set(created) == {"id", "type", "created_at", "data"} and created["created_at"].endswith("Z")
    data = created["data"]
    assert data["ticket"]["number"] == ticket.id and data["ticket"]["display_number"] == f"T-{ticket.id:05d}"
    assert data["ticket"]["status"] == "open" and data["ticket"]["visibility"] == "public"
    assert data["ticket"]["device"]["name"] == world.device.name
    assert data["ticket"]["url"].endswith(f"/tickets/{ticket.id}")
    assert data["actor"] == {"type": "code_user"}
    assert by_type["offer.accepted"][0]["data"]["employee"] == {"id": world.anna.id, "name": "Anna"}
    assert by_type["offer.accepted"][0]["data"]["ticket"]["status"] == "assigned"
    assert by_type["ticket.assigned"][0]["data"]["employee"]["name"] == "Carla"
    assert by_type["message.posted"][0]["data"]["message"]["text"] == "Bitte Foto vom Typenschild"
    assert by_type["update.posted"][0]["data"]["update"]["text"] == "Dichtung getauscht"
    assert [p["data"]["status"] for p in by_type["ticket.status_changed"]] == [
        {"before": "assigned", "after": "in_progress"}, {"before": "in_progress", "after": "done"}]
    assert by_type["ticket.rated"][0]["data"]["rating"] == {"score": 5, "comment": "Schnell repariert"}
    assert by_type["ticket.rated"][0]["data"]["ticket"]["status"] == "closed"
    sent = hook_deliveries(db.session.get(WebhookEndpoint, 1))
    assert {d.status for d in sent} == {DeliveryStatus.SENT} and {d.response_status for d in sent} == {200}
    assert {d.channel for d in sent} == {Channel.WEBHOOK}


def test_an_endpoint_gets_only_the_events_it_chose(app, world, receiver):
    register(world, receiver, "/messages", events=["message.posted"])
    ticket = world.code_user_ticket()
    offers.accept_offer(ticket, actor=world.anna)
    messenger.post_message(ticket, "Hallo", actor=world.visitor)
    tickets.post_update(ticket, "Unterwegs", Visibility.PUBLIC, actor=world.anna)
    dispatch()
    assert receiver.types("/messages") == ["message.posted"]


def test_events_are_written_in_the_transaction_of_the_change(app, world, receiver):
    from app.enums import NotificationEvent
    from app.services import notifications

    endpoint = register(world, receiver, "/erp", events=["ticket.status_changed"])
    ticket = world.code_user_ticket()
    notifications.record(NotificationEvent.STATUS_CHANGED, ticket, actor=None, before="OPEN", after="CANCELLED")
    db.session.rollback()  # the change failed: its event goes with it
    assert db.session.scalar(sa.select(sa.func.count()).select_from(WebhookEvent)) == 0
    with pytest.raises(NotAllowed):
        tickets.rate_ticket(ticket, 5, "", actor=world.visitor)  # refused (not done): nothing recorded
    tickets.fire_event(ticket, "cancel", actor=world.visitor)
    dispatch()
    assert receiver.types("/erp") == ["ticket.status_changed"] and len(hook_deliveries(endpoint)) == 1


def test_a_500_is_retried_with_backoff_until_the_receiver_answers_200(app, world, receiver):
    endpoint = register(world, receiver, "/flaky", events=["ticket.created"])
    receiver.status["/flaky"] = 500
    world.code_user_ticket()
    start = utcnow()
    dispatcher.dispatch_due(now=start)
    [delivery] = hook_deliveries(endpoint)
    assert (delivery.status, delivery.attempts, delivery.response_status) == (DeliveryStatus.PENDING, 1, 500)
    assert delivery.last_error == "endpoint answered 500"
    assert delivery.next_attempt_at - start == timedelta(seconds=dispatcher.BACKOFF_BASE_SECONDS)

    dispatcher.dispatch_due(now=start + timedelta(seconds=dispatcher.BACKOFF_BASE_SECONDS - 1))
    assert len(receiver.to("/flaky")) == 1  # not before its time

    second = start + timedelta(seconds=dispatcher.BACKOFF_BASE_SECONDS)
    dispatcher.dispatch_due(now=second)
    db.session.refresh(delivery)
    assert len(receiver.to("/flaky")) == 2 and delivery.attempts == 2
    assert delivery.next_attempt_at - second == timedelta(seconds=2 * dispatcher.BACKOFF_BASE_SECONDS)  # doubled

    receiver.status["/flaky"] = 200
    dispatcher.dispatch_due(now=delivery.next_attempt_at)
    db.session.refresh(delivery)
    assert (delivery.status, delivery.attempts, delivery.response_status) == (DeliveryStatus.SENT, 3, 200)
    bodies = receiver.to("/flaky")
    assert len(bodies) == 3 and all(verified for _, _, verified in bodies)
    assert len({payload["id"] for _, payload, _ in bodies}) == 1  # the same event each time: one id to de-duplicate


def test_a_delivery_fails_for_good_after_the_configured_attempts(app, world, receiver):
    app.config["DELIVERY_MAX_ATTEMPTS"] = 3
    endpoint = register(world, receiver, "/down", events=["ticket.created"])
    receiver.status["/down"] = 503
    world.code_user_ticket()
    now = utcnow()
    for _ in range(6):
        dispatcher.dispatch_due(now=now)
        now += timedelta(hours=7)  # past any backoff
    [delivery] = hook_deliveries(endpoint)
    assert (delivery.status, delivery.attempts, delivery.response_status) == (DeliveryStatus.FAILED, 3, 503)
    assert len(receiver.to("/down")) == 3


def test_a_redirect_is_not_followed(app, world, receiver):
    endpoint = register(world, receiver, "/moved", events=["ticket.created"])
    receiver.status["/moved"] = 302
    receiver.locations["/moved"] = receiver.url + "/elsewhere"
    world.code_user_ticket()
    dispatch()
    [delivery] = hook_deliveries(endpoint)
    assert delivery.status == DeliveryStatus.FAILED and delivery.attempts == 1 and delivery.response_status == 302
    assert not receiver.to("/elsewhere")


def test_a_switched_off_endpoint_gets_nothing(app, world, receiver):
    off = register(world, receiver, "/off", active=False)
    later = register(world, receiver, "/later")
    ticket = world.code_user_ticket()
    assert hook_deliveries(off) == []  # not even queued
    webhooks.save_endpoint(later, url=later.url, events=later.events, active=False, actor=world.admin)
    messenger.post_message(ticket, "Hallo", actor=world.visitor)
    dispatch()
    assert receiver.to("/off") == [] and receiver.to("/later") == []
    [queued_before] = hook_deliveries(later)  # queued while it was on, cancelled before sending
    assert queued_before.status == DeliveryStatus.CANCELLED and "switched off" in queued_before.last_error


def test_internal_updates_and_tickets_reach_only_internal_endpoints(app, world, receiver):
    chosen = ["ticket.created", "update.posted", "message.posted"]
    register(world, receiver, "/outside", events=chosen)
    register(world, receiver, "/inside", events=chosen, internal=True)
    ticket = world.code_user_ticket()
    offers.accept_offer(ticket, actor=world.anna)
    tickets.post_update(ticket, "Kunde zahlt nicht, nur intern", Visibility.INTERNAL, actor=world.anna)
    tickets.post_update(ticket, "Termin am Montag", Visibility.PUBLIC, actor=world.anna)
    staff_ticket = make_ticket(world.flow, world.device, world.anna, visibility=Visibility.INTERNAL)
    offers.accept_offer(staff_ticket, actor=world.ben)
    messenger.post_message(staff_ticket, "Interne Rückfrage", actor=world.ben)
    dispatch()

    outside = [payload for _, payload, _ in receiver.to("/outside")]
    assert [p["type"] for p in outside] == ["ticket.created", "update.posted"]
    assert outside[1]["data"]["update"]["text"] == "Termin am Montag"
    assert "nur intern" not in json.dumps(outside) and "Interne Rückfrage" not in json.dumps(outside)
    assert all(p["data"]["ticket"]["number"] != staff_ticket.id for p in outside)

    inside = [payload for _, payload, _ in receiver.to("/inside")]
    assert [p["type"] for p in inside] == ["ticket.created", "update.posted", "update.posted", "ticket.created",
                                           "message.posted"]
    assert inside[1]["data"]["update"] == {**inside[1]["data"]["update"], "visibility": "internal",
                                           "text": "Kunde zahlt nicht, nur intern"}
    assert inside[3]["data"]["ticket"]["visibility"] == "internal"


def test_an_event_queued_before_the_ticket_became_internal_is_not_sent_outside(app, world, receiver):
    outside = register(world, receiver, "/outside", events=["message.posted"])
    ticket = world.code_user_ticket()
    messenger.post_message(ticket, "Seriennummer 4711", actor=world.visitor)
    tickets.set_visibility(ticket, Visibility.INTERNAL, actor=world.mod)
    dispatch()
    assert receiver.to("/outside") == []
    [delivery] = hook_deliveries(outside)
    assert delivery.status == DeliveryStatus.CANCELLED and "internal" in delivery.last_error


def test_the_address_is_checked_again_before_each_send(app, world, receiver, public_dns):
    app.config["OUTBOUND_ALLOW_PRIVATE_ADDRESSES"] = False
    public_dns["erp.example.com"] = ["93.184.215.14"]
    endpoint = webhooks.save_endpoint(None, url="https://erp.example.com/hook", events=["ticket.created"],
                                      actor=world.admin)
    public_dns["erp.example.com"] = ["10.0.0.5"]  # the name points into the closed network now
    world.code_user_ticket()
    dispatch()
    [delivery] = hook_deliveries(endpoint)
    assert delivery.status == DeliveryStatus.FAILED and delivery.attempts == 1
    assert "endpoint refused" in delivery.last_error and delivery.response_status is None


def test_the_old_push_setting_still_allows_private_endpoints(app, world):
    app.config["PUSH_ALLOW_PRIVATE_ENDPOINTS"] = True
    endpoint = webhooks.save_endpoint(None, url="http://127.0.0.1:9/hook", events=["ticket.created"], actor=world.admin)
    assert endpoint.id


def test_signature_helper_accepts_only_the_signed_body_within_five_minutes():
    body = b'{"id":"evt_1"}'
    header = webhooks.signature_header("whsec_x", 1_700_000_000, body)
    assert header == "t=1700000000,v1=" + hmac.new(b"whsec_x", b"1700000000." + body, hashlib.sha256).hexdigest()
    assert webhooks.verify("whsec_x", header, body, now=1_700_000_100)
    assert not webhooks.verify("whsec_x", header, body + b" ", now=1_700_000_100)
    assert not webhooks.verify("whsec_y", header, body, now=1_700_000_100)
    assert not webhooks.verify("whsec_x", header, body, now=1_700_000_000 + 301)
    assert not webhooks.verify("whsec_x", "v1=abc", body, now=1_700_000_000)


# The administration ----------------------------------------------------------------------------------------


PAGES = ["/admin/webhooks", "/admin/webhooks/new", "/admin/webhooks/{id}", "/admin/webhooks/{id}/deliveries"]
ACTIONS = ["/admin/webhooks/new", "/admin/webhooks/{id}", "/admin/webhooks/{id}/secret", "/admin/webhooks/{id}/ping",
           "/admin/webhooks/{id}/delete"]


@pytest.mark.parametrize("role", [Role.MEMBER, Role.MODERATOR])
def test_members_and_moderators_cannot_open_or_use_the_webhook_pages(app, client, login, world, receiver, role):
    endpoint = register(world, receiver, "/erp")
    secret = endpoint.secret
    login(make_employee(role))
    for page in PAGES:
        assert client.get(page.format(id=endpoint.id)).status_code == 403, page
    for action in ACTIONS:
        response = client.post(action.format(id=endpoint.id), data={"url": receiver.url + "/x", "events": ["ping"]})
        assert response.status_code == 403, action
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(WebhookEndpoint)) == 1
    assert db.session.get(WebhookEndpoint, endpoint.id).secret == secret
    assert db.session.scalar(sa.select(sa.func.count()).select_from(WebhookEvent)) == 0
    assert "/admin/webhooks" not in client.get("/admin/").get_data(as_text=True)


def test_anonymous_visitors_are_sent_to_the_login(client, world):
    assert client.get("/admin/webhooks").status_code == 302


def test_administrator_registers_an_endpoint_and_sees_its_secret(app, client, login, world, receiver):
    login(world.admin)
    assert 'data-testid="nav-webhooks"' in client.get("/admin/").get_data(as_text=True)
    response = client.post("/admin/webhooks/new", data={
        "url": receiver.url + "/erp", "description": "ERP", "events": ["ticket.created", "update.posted"],
        "active": "y",
    })
    assert response.status_code == 302
    endpoint = db.session.scalar(sa.select(WebhookEndpoint))
    assert (endpoint.url, endpoint.events, endpoint.active, endpoint.internal) == (
        receiver.url + "/erp", ["ticket.created", "update.posted"], True, False)
    assert endpoint.secret.startswith("whsec_") and len(endpoint.secret) > 40
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert endpoint.secret in page and 'data-testid="webhook-ping"' in page
    # The signature's format reads whole in German too (no part of it taken for markup).
    assert "Ticketwerk-Signature: t=1764532800,v1=" in page and "Sekunden seit 1970 (UTC)" in page
    assert receiver.url + "/erp" in client.get("/admin/webhooks").get_data(as_text=True)


def test_rotating_the_secret_signs_with_the_new_one(app, client, login, world, receiver):
    endpoint = register(world, receiver, "/erp", events=["ticket.created"])
    old = endpoint.secret
    login(world.admin)
    assert client.post(f"/admin/webhooks/{endpoint.id}/secret").status_code == 302
    db.session.refresh(endpoint)
    assert endpoint.secret != old and endpoint.secret in client.get(f"/admin/webhooks/{endpoint.id}").get_data(as_text=True)
    receiver.secrets["/erp"] = endpoint.secret
    world.code_user_ticket()
    dispatch()
    [(_, _, verified)] = receiver.to("/erp")
    assert verified


def test_test_event_is_delivered_and_listed_in_the_log(app, client, login, world, receiver):
    endpoint = register(world, receiver, "/erp", events=["ticket.created"])
    login(world.admin)
    response = client.post(f"/admin/webhooks/{endpoint.id}/ping")
    assert response.headers["Location"].endswith(f"/admin/webhooks/{endpoint.id}/deliveries")
    dispatch()
    [(headers, payload, verified)] = receiver.to("/erp")
    assert payload["type"] == "ping" and verified and headers["ticketwerk-event-type"] == "ping"
    assert payload["data"]["endpoint"] == {"id": endpoint.id, "url": endpoint.url}
    log = client.get(f"/admin/webhooks/{endpoint.id}/deliveries", headers={"Accept-Language": "de"}).get_data(as_text=True)
    assert payload["id"] in log and 'data-delivery-status="sent"' in log and ">200<" in log


def test_test_event_for_a_switched_off_endpoint_is_refused(app, client, login, world, receiver):
    endpoint = register(world, receiver, "/erp", active=False)
    login(world.admin)
    response = client.post(f"/admin/webhooks/{endpoint.id}/ping")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/admin/webhooks/{endpoint.id}")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(WebhookEvent)) == 0


def test_the_log_shows_attempts_answer_error_and_next_attempt(app, client, login, world, receiver):
    endpoint = register(world, receiver, "/flaky", events=["ticket.created"])
    receiver.status["/flaky"] = 500
    ticket = world.code_user_ticket()
    dispatch()
    login(world.admin)
    log = client.get(f"/admin/webhooks/{endpoint.id}/deliveries").get_data(as_text=True)
    assert 'data-delivery-status="pending"' in log and ">500<" in log and "endpoint answered 500" in log
    assert f"T-{ticket.id:05d}" in log and log.count("<time") == 2  # the event's time and the next attempt


BAD_ADDRESSES = [
    ("", "Bitte geben Sie die Webadresse ein."),
    ("kein link", "Die Adresse muss mit https:// beginnen"),
    ("ftp://erp.example.com/hook", "Die Adresse muss mit https:// beginnen"),
    ("http://erp.example.com/hook", "Die Adresse muss mit https:// beginnen"),
    ("https://127.0.0.1/hook", "lokales oder privates Netz"),
    ("https://localhost:8443/hook", "lokales oder privates Netz"),
    ("https://10.0.0.5/hook", "lokales oder privates Netz"),
    ("https://[::1]/hook", "lokales oder privates Netz"),
    ("https://intranet.example.com/hook", "lokales oder privates Netz"),
]


@pytest.mark.parametrize(("url", "message"), BAD_ADDRESSES)
def test_a_bad_or_private_address_is_refused_in_german_and_nothing_changes(app, client, login, world, public_dns,
                                                                          url, message):
    public_dns["erp.example.com"] = ["93.184.215.14"]
    public_dns["intranet.example.com"] = ["192.168.10.4"]
    endpoint = webhooks.save_endpoint(None, url="https://erp.example.com/hook", events=["ticket.created"],
                                      actor=world.admin)
    login(world.admin)
    german = {"Accept-Language": "de"}
    form = {"url": url, "events": ["ticket.created"], "active": "y"}
    created = client.post("/admin/webhooks/new", data=form, headers=german)
    assert created.status_code == 422 and message in created.get_data(as_text=True)
    edited = client.post(f"/admin/webhooks/{endpoint.id}", data=form, headers=german)
    assert edited.status_code == 422 and message in edited.get_data(as_text=True)
    assert url in edited.get_data(as_text=True)  # what was typed stays in the field
    db.session.expire_all()
    assert [e.url for e in db.session.scalars(sa.select(WebhookEndpoint))] == ["https://erp.example.com/hook"]


def test_an_endpoint_needs_at_least_one_event(app, client, login, world, receiver):
    login(world.admin)
    response = client.post("/admin/webhooks/new", data={"url": receiver.url + "/erp", "active": "y"})
    assert response.status_code == 422
    assert db.session.scalar(sa.select(sa.func.count()).select_from(WebhookEndpoint)) == 0
    response = client.post("/admin/webhooks/new", data={"url": receiver.url + "/erp", "events": ["ping"]})
    assert response.status_code == 422  # the test event is sent by the button, never subscribed to


def test_deleting_an_endpoint_drops_its_pending_deliveries(app, client, login, world, receiver):
    endpoint = register(world, receiver, "/erp", events=["ticket.created"])
    world.code_user_ticket()
    login(world.admin)
    assert client.post(f"/admin/webhooks/{endpoint.id}/delete").status_code == 302
    dispatch()
    assert receiver.to("/erp") == []
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Delivery).where(
        Delivery.channel == Channel.WEBHOOK)) == 0
