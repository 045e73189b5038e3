"""The outbox against a real SMTP server and a real push service on loopback: content, language, strategies,
retries with backoff, crash safety, and the code user's signed link."""
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.enums import (
    Channel,
    DeliveryStatus,
    GroupKind,
    NotificationEvent,
    Origin,
    Role,
    Strategy,
    Visibility,
)
from app.extensions import db
from app.models import (
    CodeSession,
    Delivery,
    Employee,
    Notification,
    PushSubscription,
    TicketReceiver,
)
from app.models._types import utcnow
from app.services import (
    dispatcher,
    notification_links,
    notification_preferences,
    notifications,
    offers,
    push,
    tickets,
)
from tests import test_notifications_helpers as endpoints
from tests.test_notifications import World, forget_request_state
from tests.test_notifications_helpers import Browser, verify_vapid

RUN_ON_POSTGRES = True

smtp = endpoints.smtp  # fixtures: a real SMTP server and a real push service on loopback
push_service = endpoints.push_service


@pytest.fixture
def world(app):
    return World()


def deliveries(channel, person=None, receiver=False):
    """Deliveries of news on one channel, for one employee or for code users (not address confirmations)."""
    query = sa.select(Delivery).join(Notification).where(
        Delivery.channel == channel, Notification.event != NotificationEvent.EMAIL_CONFIRMATION)
    if person is not None:
        query = query.where(Notification.employee_id == person.id)
    if receiver:
        query = query.where(Notification.receiver_id.is_not(None))
    return list(db.session.scalars(query.order_by(Delivery.id)))


def prefer(employee, event, channels, strategy=Strategy.ALL):
    notification_preferences.save_preferences(employee, {event: (set(channels), Origin.OTHERS, strategy)})
    db.session.commit()


def run_until_quiet(start, steps=12, step=timedelta(minutes=5)):
    """Drive the dispatcher synchronously through `steps` clock ticks."""
    now = start
    for _ in range(steps):
        dispatcher.dispatch_due(now=now)
        now += step
    return now


def test_offer_mail_in_recipients_language_with_ticket_link(app, world, smtp):
    world.ben.language = "en"
    db.session.commit()
    ticket = world.code_user_ticket()
    assert all(d.status == DeliveryStatus.PENDING for d in deliveries(Channel.EMAIL))  # nothing sent in the request
    dispatcher.dispatch_due()
    anna_mail = smtp.inbox.to(world.anna.email)
    ben_mail = smtp.inbox.to(world.ben.email)
    assert len(anna_mail) == 1 and len(ben_mail) == 1
    assert anna_mail[0]["Content-Language"] == "de" and ben_mail[0]["Content-Language"] == "en"
    assert ticket.display_number in ben_mail[0]["Subject"]
    assert ben_mail[0]["Subject"] == f"New ticket offered to you: {ticket.display_number}"
    assert anna_mail[0]["Subject"] != ben_mail[0]["Subject"]  # German for Anna
    html = ben_mail[0].get_body(("html",)).get_content()
    text = ben_mail[0].get_body(("plain",)).get_content()
    link = f"http://localhost/tickets/{ticket.id}"
    assert link in html and link in text and '<html lang="en">' in html
    assert "Presse fährt nicht hoch" in text
    assert smtp.inbox.to(world.nora.email)  # notify group: ticket created
    assert all(d.status == DeliveryStatus.SENT and d.attempts == 1 for d in deliveries(Channel.EMAIL))
    assert dispatcher.dispatch_due() == 0


def test_code_user_mail_signed_link_opens_ticket_on_any_device_and_expires(app, world, smtp, monkeypatch):
    ticket = world.code_user_ticket()
    offers.accept_offer(ticket, actor=world.anna)
    tickets.post_update(ticket, "Intern: Lieferant wechseln", Visibility.INTERNAL, actor=world.anna)
    tickets.post_update(ticket, "Techniker kommt morgen", Visibility.PUBLIC, actor=world.anna)
    dispatcher.dispatch_due()
    mails = smtp.inbox.to("max@example.com")
    assert len(mails) == 2  # "Anna took on your ticket", the public update; never the internal one
    for mail in mails:
        assert "Intern" not in mail.get_body(("plain",)).get_content()
    update_mail = mails[-1].get_body(("plain",)).get_content()
    assert "Techniker kommt morgen" in update_mail
    url = next(word for word in update_mail.split() if "/r/" in word)
    path = url.removeprefix("http://localhost")
    phone = app.test_client()
    forget_request_state()
    response = phone.get(path)
    assert response.status_code == 302
    assert response.headers["Location"] == f"/c/{world.code.token}/t/{ticket.id}"
    sessions = db.session.scalars(sa.select(CodeSession).filter_by(code_id=world.code.id)).all()
    assert len(sessions) == 2  # the new phone got its own code session
    forget_request_state()
    assert app.test_client().get(path[:-3] + "abc").status_code == 404  # tampered
    import itsdangerous.timed

    later = utcnow().timestamp() + (app.config["CODE_USER_LINK_DAYS"] + 1) * 86400
    monkeypatch.setattr(itsdangerous.timed.time, "time", lambda: later)
    forget_request_state()
    assert app.test_client().get(path).status_code == 410


def test_signed_link_dies_when_code_users_are_logged_out(app, world, smtp):
    from app.services.code_access import logout_code_users

    ticket = world.code_user_ticket()
    receiver = db.session.scalar(sa.select(TicketReceiver).filter_by(ticket_id=ticket.id))
    path = notification_links.code_user_ticket_url(receiver).removeprefix("http://localhost")
    logout_code_users(world.code, actor=world.mod)
    forget_request_state()
    assert app.test_client().get(path).status_code == 410


def test_push_is_encrypted_signed_and_gone_subscriptions_are_removed(app, world, push_service):
    laptop, phone = Browser(push_service, "anna-laptop"), Browser(push_service, "anna-phone")
    laptop.subscribe(employee_id=world.anna.id)
    phone.subscribe(employee_id=world.anna.id)
    push_service.status[phone.path] = 410
    ticket = world.code_user_ticket()
    assert [d.channel for d in deliveries(Channel.PUSH, world.anna)] == [Channel.PUSH]  # default: push when subscribed
    assert not push_service.requests
    dispatcher.dispatch_due()
    [request] = push_service.to(laptop.path)
    payload = laptop.decrypt(request)
    assert ticket.display_number in payload["title"] and payload["title"] != f"New ticket offered to you: {ticket.display_number}"
    assert payload["url"] == f"http://localhost/tickets/{ticket.id}"
    verify_vapid(request, push.application_server_key(), push_service.url)
    assert request["headers"]["content-encoding"] == "aes128gcm"
    assert [s.endpoint for s in db.session.scalars(sa.select(PushSubscription))] == [laptop.endpoint]
    assert deliveries(Channel.PUSH, world.anna)[0].status == DeliveryStatus.SENT


def test_code_user_push_never_carries_internal_content(app, world, push_service):
    ticket = world.code_user_ticket()
    receiver = db.session.scalar(sa.select(TicketReceiver).filter_by(ticket_id=ticket.id))
    browser = Browser(push_service, "max")
    browser.subscribe(receiver_id=receiver.id)
    offers.accept_offer(ticket, actor=world.anna)
    tickets.post_update(ticket, "Intern: Preis 4711", Visibility.INTERNAL, actor=world.anna)
    tickets.post_update(ticket, "Teil ist da", Visibility.PUBLIC, actor=world.anna)
    dispatcher.dispatch_due()
    payloads = [browser.decrypt(request) for request in push_service.to(browser.path)]
    assert len(payloads) == 2
    assert "Teil ist da" in payloads[-1]["body"]
    assert all("4711" not in str(payload) for payload in payloads)
    assert all("/r/" in payload["url"] for payload in payloads)


def test_first_success_falls_through_to_push_while_smtp_is_down(app, world, smtp, push_service):
    browser = Browser(push_service, "anna")
    browser.subscribe(employee_id=world.anna.id)
    prefer(world.anna, NotificationEvent.OFFER_RECEIVED, [Channel.EMAIL, Channel.PUSH], Strategy.FIRST_SUCCESS)
    smtp.stop()
    ticket = world.code_user_ticket()
    start = utcnow()
    dispatcher.dispatch_due(now=start)
    [mail] = deliveries(Channel.EMAIL, world.anna)
    assert mail.status == DeliveryStatus.PENDING and mail.attempts == 1 and "unreachable" in mail.last_error
    assert not push_service.requests  # push waits while e-mail may still work
    run_until_quiet(start + timedelta(minutes=1))
    db.session.expire_all()
    [mail] = deliveries(Channel.EMAIL, world.anna)
    [push_delivery] = deliveries(Channel.PUSH, world.anna)
    assert mail.status == DeliveryStatus.FAILED and mail.attempts == notifications.CHAIN_ATTEMPTS
    assert push_delivery.status == DeliveryStatus.SENT
    [request] = push_service.to(browser.path)
    assert ticket.display_number in browser.decrypt(request)["title"]


def test_first_success_stops_after_mail_succeeds(app, world, smtp, push_service):
    browser = Browser(push_service, "anna")
    browser.subscribe(employee_id=world.anna.id)
    prefer(world.anna, NotificationEvent.OFFER_RECEIVED, [Channel.EMAIL, Channel.PUSH], Strategy.FIRST_SUCCESS)
    world.code_user_ticket()
    run_until_quiet(utcnow(), steps=3)
    db.session.expire_all()
    assert len(smtp.inbox.to(world.anna.email)) == 1
    assert deliveries(Channel.PUSH, world.anna)[0].status == DeliveryStatus.SKIPPED
    assert not push_service.to(browser.path)


def test_all_channels_retries_mail_with_backoff_until_server_is_back(app, world, smtp, push_service):
    browser = Browser(push_service, "anna")
    browser.subscribe(employee_id=world.anna.id)
    prefer(world.anna, NotificationEvent.OFFER_RECEIVED, [Channel.EMAIL, Channel.PUSH], Strategy.ALL)
    smtp.stop()
    world.code_user_ticket()
    start = utcnow()
    dispatcher.dispatch_due(now=start)
    assert len(push_service.to(browser.path)) == 1  # push does not wait for e-mail
    [mail] = deliveries(Channel.EMAIL, world.anna)
    assert mail.status == DeliveryStatus.PENDING and mail.next_attempt_at >= start + timedelta(seconds=30)
    dispatcher.dispatch_due(now=start + timedelta(seconds=10))
    db.session.expire_all()
    assert deliveries(Channel.EMAIL, world.anna)[0].attempts == 1  # not due yet: backoff
    dispatcher.dispatch_due(now=start + timedelta(seconds=31))
    db.session.expire_all()
    [mail] = deliveries(Channel.EMAIL, world.anna)
    assert mail.attempts == 2 and mail.next_attempt_at >= start + timedelta(seconds=31 + 60)  # doubled
    smtp.start()
    run_until_quiet(start + timedelta(minutes=2), steps=3)
    db.session.expire_all()
    [mail] = deliveries(Channel.EMAIL, world.anna)
    assert mail.status == DeliveryStatus.SENT and mail.attempts == 3
    assert len(smtp.inbox.to(world.anna.email)) == 1
    assert len(push_service.to(browser.path)) == 1


def test_gives_up_after_max_attempts_and_says_why(app, world, smtp):
    app.config["DELIVERY_MAX_ATTEMPTS"] = 3
    smtp.stop()
    world.code_user_ticket()
    run_until_quiet(utcnow(), steps=10, step=timedelta(hours=1))
    db.session.expire_all()
    mails = deliveries(Channel.EMAIL, world.anna)
    assert mails[0].status == DeliveryStatus.FAILED and mails[0].attempts == 3
    assert "127.0.0.1" in mails[0].last_error


def test_crash_between_claim_and_send_sends_exactly_once_after_restart(app, world, smtp):
    world.code_user_ticket()
    [mail] = deliveries(Channel.EMAIL, world.anna)
    now = utcnow()
    assert dispatcher.claim(mail.id, now)  # the first dispatcher claims ... and dies before sending
    # Every other mail, and the code user's address confirmation (cancelled: the address was confirmed meanwhile).
    assert dispatcher.dispatch_due(now=now + timedelta(seconds=5)) == len(deliveries(Channel.EMAIL)) - 1 + 1
    assert not smtp.inbox.to(world.anna.email)  # the lease protects it from a second sender meanwhile
    restarted = now + timedelta(seconds=dispatcher.LEASE_SECONDS + 1)
    dispatcher.dispatch_due(now=restarted)  # a new dispatcher after the lease ran out
    dispatcher.dispatch_due(now=restarted + timedelta(minutes=10))
    assert len(smtp.inbox.to(world.anna.email)) == 1
    db.session.expire_all()
    [mail] = deliveries(Channel.EMAIL, world.anna)
    assert mail.status == DeliveryStatus.SENT and mail.attempts == 2


def test_competing_claims_only_one_wins(app, world, smtp):
    world.code_user_ticket()
    [mail] = deliveries(Channel.EMAIL, world.anna)
    now = utcnow()
    assert dispatcher.claim(mail.id, now) is True
    assert dispatcher.claim(mail.id, now) is False


def test_cli_dispatch_once(app, world, smtp):
    world.code_user_ticket()
    result = app.test_cli_runner().invoke(args=["notifications", "dispatch", "--once"])
    assert result.exit_code == 0 and "Processed" in result.output
    assert len(smtp.inbox.to(world.anna.email)) == 1


def test_vapid_keys_are_generated_once(app, tmp_path):
    app.config["VAPID_PRIVATE_KEY_FILE"] = str(tmp_path / "keys" / "vapid_private.pem")
    first = push.application_server_key()
    assert push.application_server_key() == first
    assert (tmp_path / "keys" / "vapid_private.pem").stat().st_mode & 0o777 == 0o600


def delivery_log_html(app, ticket, viewer):
    """The staff delivery log of `ticket` as `viewer` sees it."""
    from flask import render_template_string
    from flask_login import login_user

    with app.test_request_context():
        login_user(viewer)
        return render_template_string('{% include "notifications/_delivery_log.html" %}', ticket=ticket)


def test_employee_deactivated_while_mail_waits_gets_none_and_delivery_says_why(app, world, smtp, english):
    from app.services import staff
    from tests.factories import make_employee

    smtp.stop()
    ticket = world.code_user_ticket()
    start = utcnow()
    dispatcher.dispatch_due(now=start)
    [waiting] = deliveries(Channel.EMAIL, world.ben)
    assert waiting.status == DeliveryStatus.PENDING and waiting.attempts == 1  # the offer mail waits in the outbox
    staff.set_employee_active(world.ben, False, actor=make_employee(Role.ADMIN))
    smtp.start()
    run_until_quiet(start + timedelta(minutes=1), steps=3)
    db.session.expire_all()
    assert smtp.inbox.to(world.anna.email) and not smtp.inbox.to(world.ben.email)
    [cancelled] = deliveries(Channel.EMAIL, world.ben)
    assert cancelled.status == DeliveryStatus.CANCELLED and cancelled.attempts == 2
    assert cancelled.last_error == "the employee is no longer active"
    html = delivery_log_html(app, ticket, world.mod)
    assert 'data-delivery-status="cancelled"' in html
    assert "Cancelled before sending" in html and "the employee is no longer active" in html


def test_mail_waiting_for_someone_who_left_the_fleet_or_a_ticket_gone_internal_is_cancelled(app, world, smtp):
    smtp.stop()
    ticket = world.code_user_ticket()
    offers.accept_offer(ticket, actor=world.anna)
    start = utcnow()
    dispatcher.dispatch_due(now=start)
    fleet = ticket.flow.effective_group(GroupKind.FLEET)
    fleet.employees.remove(world.carla)  # Carla leaves the fleet; Anna stays responsible
    tickets.set_visibility(ticket, Visibility.INTERNAL, actor=world.mod)
    db.session.commit()
    smtp.start()
    run_until_quiet(start + timedelta(minutes=1), steps=3)
    db.session.expire_all()
    [carla_offer] = deliveries(Channel.EMAIL, world.carla)
    assert carla_offer.status == DeliveryStatus.CANCELLED
    assert carla_offer.last_error == "the employee is no longer in the ticket's fleet group nor responsible for it"
    assert not smtp.inbox.to(world.carla.email)
    assert all(d.status == DeliveryStatus.SENT for d in deliveries(Channel.EMAIL, world.anna))
    code_user_mails = deliveries(Channel.EMAIL, receiver=True)
    assert code_user_mails and all(d.status == DeliveryStatus.CANCELLED for d in code_user_mails)
    assert {d.last_error for d in code_user_mails} == {"the ticket is no longer public"}
    assert not smtp.inbox.to("max@example.com")


def test_mail_naming_someone_with_a_line_break_is_sent_once_with_the_name_made_safe(app, world, smtp):
    db.session.execute(
        sa.update(Employee).where(Employee.id == world.anna.id).values(name="Anna\r\nBcc: evil@example.com\u202e\t")
    )  # older data, stored before the forms refused such names
    db.session.commit()
    db.session.refresh(world.anna)
    ticket = world.code_user_ticket()
    offers.accept_offer(ticket, actor=world.anna)
    dispatcher.dispatch_due()
    [mail] = [m for m in smtp.inbox.to("max@example.com") if "took on" in m["Subject"] or "übernommen" in m["Subject"]]
    subject = mail["Subject"]
    assert subject.startswith("Anna Bcc: evil@example.com ")
    assert not any(character in subject for character in "\r\n\u202e\t")
    assert all("evil@example.com" not in rcpt for rcpt, _ in smtp.inbox.messages) and mail["Bcc"] is None
    receiver_mails = deliveries(Channel.EMAIL, receiver=True)
    assert all(d.status == DeliveryStatus.SENT and d.attempts == 1 for d in receiver_mails)


def test_mail_to_an_address_no_header_can_carry_fails_once_with_the_reason(app, world, smtp):
    ticket = world.code_user_ticket()
    receiver = db.session.scalar(sa.select(TicketReceiver).filter_by(ticket_id=ticket.id))
    receiver.email = "max@example.com\nBcc: evil@example.com"  # older data, stored before the checks
    db.session.commit()
    offers.accept_offer(ticket, actor=world.anna)
    run_until_quiet(utcnow(), steps=3, step=timedelta(hours=1))
    db.session.expire_all()
    [failed] = deliveries(Channel.EMAIL, receiver=True)
    assert failed.status == DeliveryStatus.FAILED and failed.attempts == 1
    assert "cannot build the mail headers" in failed.last_error
    assert not smtp.inbox.to("max@example.com") and not smtp.inbox.to("evil@example.com")
