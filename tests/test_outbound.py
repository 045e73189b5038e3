"""Outbound requests only where they belong: push endpoints must be https URLs of public hosts, checked when a
browser subscribes and again before each send; redirects are not followed."""
import pytest
import sqlalchemy as sa

from app.enums import Channel, DeliveryStatus
from app.extensions import db
from app.models import PushSubscription, TicketReceiver
from app.services import dispatcher, outbound
from app.services.errors import ValidationError
from tests import test_notifications_helpers as endpoints
from tests.test_dispatcher import deliveries
from tests.test_notifications import World, forget_request_state
from tests.test_notifications_helpers import Browser

push_service = endpoints.push_service

pytestmark = pytest.mark.usefixtures("english")

KEYS = {"p256dh": "BPk", "auth": "xyz"}
REFUSED_ENDPOINTS = [
    ("http://127.0.0.1:22/", "must start with https://"),
    ("https://127.0.0.1/push", "local or private network"),
    ("https://localhost/push", "local or private network"),
    ("https://10.1.2.3/push", "local or private network"),
    ("https://192.168.0.10/push", "local or private network"),
    ("https://169.254.169.254/latest/meta-data", "local or private network"),
    ("https://[::1]/push", "local or private network"),
    ("https://[fd00::1]/push", "local or private network"),
    ("https://224.0.0.1/push", "local or private network"),
    ("https://internal.example.com/push", "local or private network"),
    ("https://mixed.example.com/push", "local or private network"),
    ("https://no-such-host.invalid/push", "could not be found"),
    ("http://push.example.com/push", "must start with https://"),
    ("https://user:secret@push.example.com/push", "user name or password"),
    ("ftp://push.example.com/push", "must start with https://"),
]


@pytest.fixture
def world(app):
    return World()


@pytest.fixture
def dns(public_dns):
    """Public names plus names that resolve into the private network."""
    public_dns["internal.example.com"] = ["10.0.0.5"]
    public_dns["mixed.example.com"] = ["93.184.215.14", "192.168.1.1"]
    return public_dns


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("93.184.215.14", True),
        ("2606:2800:220:1::", True),
        ("127.0.0.1", False),
        ("10.0.0.1", False),
        ("172.16.5.4", False),
        ("192.168.1.1", False),
        ("100.64.0.1", False),  # shared address space (carrier-grade NAT)
        ("169.254.169.254", False),  # link-local: cloud metadata services
        ("224.0.0.1", False),
        ("239.255.255.250", False),
        ("240.0.0.1", False),
        ("0.0.0.0", False),
        ("192.0.2.1", False),  # documentation
        ("::1", False),
        ("fe80::1", False),
        ("fd00::1", False),
        ("ff02::1", False),
        ("::ffff:127.0.0.1", False),  # IPv4-mapped loopback
        ("2002:7f00:1::", False),  # 6to4 of 127.0.0.1
        ("64:ff9b::a00:1", False),  # NAT64 of 10.0.0.1
    ],
)
def test_only_public_unicast_addresses_count_as_public(address, public):
    assert outbound.is_public_address(address) is public


def test_check_public_url_resolves_the_host_and_allows_private_only_when_asked(app, dns):
    assert outbound.check_public_url("https://push.example.com/abc") is None
    assert outbound.check_public_url("https://fcm.example.com:8443/abc") is None
    for url, words in REFUSED_ENDPOINTS:
        with pytest.raises(ValidationError) as refused:
            outbound.check_public_url(url, field="endpoint")
        assert words in refused.value.message and refused.value.field == "endpoint", url
    with pytest.raises(outbound.HostNotFound):
        outbound.check_public_url("https://no-such-host.invalid/")
    assert outbound.check_public_url("http://127.0.0.1:8080/push", allow_private=True) is None
    assert outbound.check_public_url("https://internal.example.com/push", allow_private=True) is None
    with pytest.raises(ValidationError):
        outbound.check_public_url("ftp://127.0.0.1/push", allow_private=True)


def test_subscribing_to_a_non_public_endpoint_is_refused_with_a_message(app, client, login, world, tmp_path, dns):
    app.config["VAPID_PRIVATE_KEY_FILE"] = str(tmp_path / "vapid.pem")
    world.anna.language = "en"  # the messages are asserted in English; Anna reads her account's language
    db.session.commit()
    login(world.anna)
    for url, words in REFUSED_ENDPOINTS[:-1]:  # ftp:// is an incomplete subscription, refused before
        response = client.post("/push/subscribe", json={"endpoint": url, "keys": KEYS})
        assert response.status_code == 422 and words in response.get_json()["error"], url
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PushSubscription)) == 0
    ok = client.post("/push/subscribe", json={"endpoint": "https://push.example.com/anna", "keys": KEYS})
    assert ok.status_code == 200


def test_code_user_cannot_subscribe_a_private_endpoint(app, client, world, tmp_path, dns):
    from app.identity import sign_code_user_key

    app.config["VAPID_PRIVATE_KEY_FILE"] = str(tmp_path / "vapid.pem")
    ticket = world.code_user_ticket()
    forget_request_state()
    client.set_cookie(app.config["CODE_USER_COOKIE"], sign_code_user_key(world.visitor.code_user.key), domain="localhost")
    receivers_before = db.session.scalar(sa.select(sa.func.count()).select_from(TicketReceiver))
    for url in ("http://127.0.0.1:22/", "https://169.254.169.254/", "https://internal.example.com/x"):
        response = client.post(f"/receivers/{ticket.id}/push", json={"endpoint": url, "keys": KEYS})
        assert response.status_code == 422 and response.get_json()["error"], url
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PushSubscription)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(TicketReceiver)) == receivers_before


def test_a_stored_private_subscription_is_not_sent_to(app, world, push_service):
    browser = Browser(push_service, "anna")
    browser.subscribe(employee_id=world.anna.id)  # stored while private endpoints were allowed, or before the check
    db.session.add(PushSubscription(endpoint="https://10.0.0.5/push", p256dh=browser.p256dh, auth=browser.auth,
                                    employee_id=world.anna.id))
    db.session.commit()
    app.config["PUSH_ALLOW_PRIVATE_ENDPOINTS"] = False
    world.code_user_ticket()
    dispatcher.dispatch_due()
    assert not push_service.requests
    [refused] = deliveries(Channel.PUSH, world.anna)
    assert refused.status == DeliveryStatus.FAILED and refused.attempts == 1
    assert refused.last_error.count("push endpoint refused") == 2
    assert "must start with https://" in refused.last_error and "local or private network" in refused.last_error


def test_a_redirect_from_the_push_service_is_not_followed(app, world, push_service):
    browser = Browser(push_service, "anna")
    browser.subscribe(employee_id=world.anna.id)
    push_service.status[browser.path] = 307
    push_service.locations[browser.path] = push_service.url + "/elsewhere"
    world.code_user_ticket()
    dispatcher.dispatch_due()
    assert len(push_service.to(browser.path)) == 1 and not push_service.to("/elsewhere")
    [refused] = deliveries(Channel.PUSH, world.anna)
    assert refused.status == DeliveryStatus.FAILED and refused.attempts == 1
    assert "redirects are not followed" in refused.last_error
