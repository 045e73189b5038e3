"""A code user's e-mail address for ticket news is confirmed by a mailed link before any news goes to it: the link
arrives through the outbox (a real SMTP server on loopback), news waits until it is opened, a tampered or expired
link gets a clear page, and the code user's page says a link was sent until then."""
import re

import pytest
import sqlalchemy as sa

from app.enums import Channel, DeliveryStatus, NotificationEvent, Visibility
from app.extensions import db
from app.identity import sign_code_user_key
from app.models import Delivery, Notification, TicketReceiver
from app.services import dispatcher, offers, receiver_emails, tickets
from tests import test_notifications_helpers as endpoints
from tests.test_notifications import World, forget_request_state

pytestmark = pytest.mark.usefixtures("english")

smtp = endpoints.smtp  # fixture: a real SMTP server on loopback


@pytest.fixture
def world(app, smtp):
    return World()


def receiver_of(ticket):
    """The code user's receiver row of the ticket."""
    return db.session.scalar(sa.select(TicketReceiver).filter_by(ticket_id=ticket.id))


def news_deliveries(ticket):
    """E-mail deliveries of news (not the address confirmation) to the ticket's code users."""
    return list(db.session.scalars(
        sa.select(Delivery).join(Notification).where(
            Notification.ticket_id == ticket.id, Notification.receiver_id.is_not(None), Delivery.channel == Channel.EMAIL,
            Notification.event != NotificationEvent.EMAIL_CONFIRMATION,
        ).order_by(Delivery.id)
    ))


def link_in(mail):
    """The confirmation link's path in a mail's text body."""
    text = mail.get_body(("plain",)).get_content()
    url = next(word for word in text.split() if receiver_emails.CONFIRM_PATH in word)
    return url.removeprefix("http://localhost")


def code_user_browser(app, world):
    """A test client that is the World's code user's phone."""
    client = app.test_client()
    client.set_cookie(app.config["CODE_USER_COOKIE"], sign_code_user_key(world.visitor.code_user.key), domain="localhost")
    return client


def test_news_waits_until_the_mailed_link_is_opened(app, world, smtp):
    ticket = world.code_user_ticket(confirmed=False)
    offers.accept_offer(ticket, actor=world.anna)  # news for the code user: "Anna took on your ticket"
    dispatcher.dispatch_due()
    [confirmation] = smtp.inbox.to("max@example.com")  # the link, and no news
    assert ticket.display_number in confirmation["Subject"]
    assert confirmation["Content-Language"] == receiver_of(ticket).language
    [held] = news_deliveries(ticket)
    assert (held.status, held.last_error) == (DeliveryStatus.CANCELLED, "the e-mail address is not confirmed yet")
    assert receiver_of(ticket).email_confirmed_at is None

    path = link_in(confirmation)
    phone = app.test_client()
    forget_request_state()
    page = phone.get(path)
    assert page.status_code == 200 and 'data-testid="confirm-email"' in page.get_data(as_text=True)
    assert receiver_of(ticket).email_confirmed_at is None  # opening the page (or a mail scanner) confirms nothing
    assert phone.post(path).status_code == 302
    db.session.expire_all()
    assert receiver_of(ticket).email_confirmed_at is not None
    confirmed = phone.get(path)
    assert 'data-testid="email-confirmed"' in confirmed.get_data(as_text=True)
    assert "max@example.com" in confirmed.get_data(as_text=True)  # named in the confirmation, in the reader's language

    tickets.post_update(ticket, "Techniker kommt morgen", Visibility.PUBLIC, actor=world.anna)
    dispatcher.dispatch_due()
    mails = smtp.inbox.to("max@example.com")
    assert len(mails) == 2 and "Techniker kommt morgen" in mails[-1].get_body(("plain",)).get_content()
    assert news_deliveries(ticket)[-1].status == DeliveryStatus.SENT


def test_the_code_users_page_says_a_link_was_sent_until_confirmed(app, world, smtp):
    ticket = world.code_user_ticket(confirmed=False)
    dispatcher.dispatch_due()
    [old] = smtp.inbox.to("max@example.com")
    phone = code_user_browser(app, world)
    url = f"/c/{world.code.token}/t/{ticket.id}"
    pending = phone.get(url, headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert 'data-testid="email-confirmation-pending"' in pending and "We sent you a link to max@example.com" in pending
    changed = phone.post(f"/receivers/{ticket.id}/email", data={"email": "moritz@example.com"},
                         headers={"HX-Request": "true", "Accept-Language": "en"})
    assert "We sent you a link to moritz@example.com" in changed.get_data(as_text=True)
    dispatcher.dispatch_due()
    [new] = smtp.inbox.to("moritz@example.com")
    forget_request_state()
    assert app.test_client().get(link_in(old)).status_code == 404  # the link for the address left before
    forget_request_state()
    assert app.test_client().post(link_in(new)).status_code == 302
    forget_request_state()
    confirmed = phone.get(url, headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert 'data-testid="email-confirmation-pending"' not in confirmed
    assert 'data-testid="email-confirmed"' in confirmed


def test_a_change_before_the_dispatcher_ran_cancels_the_old_confirmation_mail(app, world, smtp):
    ticket = world.code_user_ticket(confirmed=False)
    receiver = receiver_of(ticket)
    receiver_emails.set_email(receiver, "moritz@example.com")
    db.session.commit()
    dispatcher.dispatch_due()
    assert not smtp.inbox.to("max@example.com") and len(smtp.inbox.to("moritz@example.com")) == 1
    cancelled = db.session.scalars(sa.select(Delivery).where(Delivery.status == DeliveryStatus.CANCELLED)).all()
    assert [delivery.last_error for delivery in cancelled] == ["the e-mail address was changed"]


@pytest.mark.parametrize("tamper", [lambda path: path[:-3] + "abc", lambda path: path + "x", lambda path: path[:30]])
def test_a_tampered_link_gets_a_clear_page(app, world, smtp, tamper):
    ticket = world.code_user_ticket(confirmed=False)
    dispatcher.dispatch_due()
    path = tamper(link_in(smtp.inbox.to("max@example.com")[0]))
    for method in ("get", "post"):
        forget_request_state()
        response = getattr(app.test_client(), method)(path, headers={"Accept-Language": "en"})
        assert response.status_code == 404
        assert "This link is not valid" in response.get_data(as_text=True)
    assert receiver_of(ticket).email_confirmed_at is None


def test_an_expired_link_gets_a_clear_page(app, world, smtp, monkeypatch):
    ticket = world.code_user_ticket(confirmed=False)
    dispatcher.dispatch_due()
    path = link_in(smtp.inbox.to("max@example.com")[0])
    later = receiver_emails.now_seconds() + (receiver_emails.lifetime_hours() + 1) * 3600
    import itsdangerous.timed

    monkeypatch.setattr(itsdangerous.timed.time, "time", lambda: later)
    for method in ("get", "post"):
        forget_request_state()
        response = getattr(app.test_client(), method)(path, headers={"Accept-Language": "en"})
        assert response.status_code == 410
        assert "This link has expired" in response.get_data(as_text=True)
    assert receiver_of(ticket).email_confirmed_at is None


def test_an_address_confirmed_on_another_ticket_needs_no_new_link(app, world, smtp):
    first = world.code_user_ticket()  # confirmed through its link
    second = world.code_user_ticket(confirmed=False)
    assert receiver_of(second).email_confirmed_at is not None
    dispatcher.dispatch_due()
    assert not smtp.inbox.to("max@example.com")  # neither ticket's confirmation went out: both confirmed
    assert receiver_emails.is_confirmed(receiver_of(first))


def test_the_link_in_the_mail_is_signed_at_the_time_the_address_was_left(app, world, smtp, monkeypatch):
    """A mail the dispatcher sends late (SMTP down for a while) still expires counted from the request."""
    ticket = world.code_user_ticket(confirmed=False)
    token = re.sub(r".*/", "", receiver_emails.confirmation_url(receiver_of(ticket), issued_at=1_000_000))
    with pytest.raises(receiver_emails.LinkExpired):
        receiver_emails.receiver_for_token(token)
