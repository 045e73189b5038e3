"""Self-service password reset: the mail through the outbox to a real SMTP server on loopback, a link that works
once and expires, the same answer for unknown addresses, clear pages for tampered links, and the rate limit."""
import re
import time

import pytest
import sqlalchemy as sa
from itsdangerous import URLSafeTimedSerializer

from app.enums import Channel, DeliveryStatus, NotificationEvent
from app.extensions import db
from app.models import Delivery, Notification
from app.services import dispatcher, password_reset
from tests import test_notifications_helpers as endpoints
from tests.factories import PASSWORD, make_employee

pytestmark = pytest.mark.usefixtures("english")

smtp = endpoints.smtp  # fixture: a real SMTP server on loopback
NEW_PASSWORD = "a-brand-new-secret"


@pytest.fixture(autouse=True)
def generous_limit(app):
    """Most tests ask more often than the default limit allows one address."""
    app.config["PASSWORD_RESET_RATE_LIMIT"] = "1000 per minute"


@pytest.fixture
def client(client):
    """A client whose browser asks for English pages."""
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def ask(client, email):
    """Submit the forgot-password form."""
    return client.post("/password/forgot", data={"email": email})


def link_in(message):
    """The reset link of the mail's text part."""
    text = message.get_body(("plain",)).get_content()
    return re.search(r"http://localhost(/password/reset/\S+)", text).group(1)


def reset_mails():
    """Outbox rows of reset mails."""
    return list(db.session.scalars(sa.select(Delivery).join(Notification).where(Notification.event == NotificationEvent.PASSWORD_RESET)))


def test_login_page_links_to_the_form_when_mail_can_be_sent(app, client):
    without_mail = client.get("/login")
    assert b'data-testid="forgot-password"' not in without_mail.data  # no reset link could reach anyone
    app.config["MAIL_SERVER"] = "127.0.0.1"
    page = client.get("/login")
    assert b'data-testid="forgot-password"' in page.data and b'href="/password/forgot"' in page.data
    assert client.get("/password/forgot").status_code == 200


def test_mail_in_the_employees_language_and_its_link_works_once(app, client, smtp):
    anna = make_employee(email="anna@example.com", name="Anna", language="en")
    answer = ask(client, "Anna@Example.com ")
    assert answer.status_code == 200 and b'data-testid="reset-requested"' in answer.data
    assert smtp.inbox.messages == []  # the request only fills the outbox
    assert dispatcher.dispatch_due() == 1
    [message] = smtp.inbox.to("anna@example.com")
    assert message["Content-Language"] == "en" and message["Subject"] == "Reset your Ticketwerk password"
    assert "Hello Anna" in message.get_body(("plain",)).get_content()
    link = link_in(message)

    form = client.get(link)
    assert form.status_code == 200 and b"anna@example.com" in form.data
    done = client.post(link, data={"password": NEW_PASSWORD, "confirmation": NEW_PASSWORD})
    assert done.status_code == 302 and done.headers["Location"] == "/login"
    db.session.refresh(anna)
    assert anna.check_password(NEW_PASSWORD) and not anna.check_password(PASSWORD)
    assert client.post("/login", data={"email": "anna@example.com", "password": NEW_PASSWORD}).status_code == 302

    client.post("/logout")
    again = client.get(link)
    assert again.status_code == 404 and b"was used already" in again.data
    second_try = client.post(link, data={"password": "another-secret-1", "confirmation": "another-secret-1"})
    assert second_try.status_code == 404
    db.session.refresh(anna)
    assert anna.check_password(NEW_PASSWORD)


def test_new_password_follows_the_account_rules(client):
    anna = make_employee(email="anna@example.com")
    link = password_reset.RESET_PATH + password_reset.token_for(anna)
    short = client.post(link, data={"password": "short", "confirmation": "short"})
    assert short.status_code == 422 and b"at least 8 characters" in short.data
    differ = client.post(link, data={"password": NEW_PASSWORD, "confirmation": NEW_PASSWORD + "x"})
    assert differ.status_code == 422 and b"differ" in differ.data
    db.session.refresh(anna)
    assert anna.check_password(PASSWORD)
    assert client.get(link).status_code == 200  # a refused attempt does not use the link up


def test_expired_link_is_refused_with_a_clear_message(app, client, monkeypatch):
    anna = make_employee(email="anna@example.com")
    link = password_reset.RESET_PATH + password_reset.token_for(anna)
    later = time.time() + 61 * 60
    monkeypatch.setattr(password_reset, "now_seconds", lambda: later)
    page = client.get(link)
    assert page.status_code == 410 and b"This link has expired" in page.data
    assert b'data-testid="reset-link-error"' in page.data and b'href="/password/forgot"' in page.data
    post = client.post(link, data={"password": NEW_PASSWORD, "confirmation": NEW_PASSWORD})
    assert post.status_code == 410
    db.session.refresh(anna)
    assert anna.check_password(PASSWORD)


@pytest.mark.parametrize("app", [{"PASSWORD_RESET_MINUTES": 5}], indirect=True)
def test_lifetime_follows_the_setting(app, client, monkeypatch):
    anna = make_employee(email="anna@example.com")
    link = password_reset.RESET_PATH + password_reset.token_for(anna)
    start = time.time()
    monkeypatch.setattr(password_reset, "now_seconds", lambda: start + 4 * 60)
    assert client.get(link).status_code == 200
    monkeypatch.setattr(password_reset, "now_seconds", lambda: start + 6 * 60)
    assert client.get(link).status_code == 410


def test_unknown_address_gets_the_same_page_and_no_mail(app, client, smtp):
    make_employee(email="anna@example.com", language="de")
    known = ask(client, "anna@example.com")
    unknown = ask(client, "nobody@example.com")
    assert unknown.status_code == known.status_code == 200
    assert unknown.data == known.data
    known_mail, unknown_mail = reset_mails()
    assert (known_mail.status, unknown_mail.status) == (DeliveryStatus.PENDING, DeliveryStatus.SKIPPED)
    dispatcher.dispatch_due()
    assert [rcpt for rcpt, _ in smtp.inbox.messages] == [["anna@example.com"]]
    assert smtp.inbox.messages[0][1]["Content-Language"] == "de"


def test_deactivated_employee_gets_no_mail(app, client, smtp):
    make_employee(email="ben@example.com", active=False)
    answer = ask(client, "ben@example.com")
    assert answer.status_code == 200 and b'data-testid="reset-requested"' in answer.data
    assert [mail.status for mail in reset_mails()] == [DeliveryStatus.SKIPPED]
    dispatcher.dispatch_due()
    assert smtp.inbox.messages == []


def test_employee_deactivated_after_asking_gets_no_mail(app, client, smtp):
    ben = make_employee(email="ben@example.com")
    ask(client, "ben@example.com")
    ben.active = False
    db.session.commit()
    dispatcher.dispatch_due()
    assert smtp.inbox.messages == [] and reset_mails()[0].status == DeliveryStatus.CANCELLED


@pytest.mark.parametrize(
    "token",
    ["nonsense", "eyJpZCI6MX0.ZZZZZZ.AAAAAAAAAAAAAAAAAAAAAAAAAAA", "%ff%fe", "a" * 500],
)
def test_tampered_token_gets_a_clear_404(client, token):
    make_employee(email="anna@example.com")
    page = client.get(password_reset.RESET_PATH + token)
    assert page.status_code == 404 and b"not valid" in page.data
    assert client.post(password_reset.RESET_PATH + token, data={"password": NEW_PASSWORD, "confirmation": NEW_PASSWORD}).status_code == 404


def test_token_signed_for_someone_else_or_with_an_edited_payload_is_refused(client):
    anna = make_employee(email="anna@example.com")
    token = password_reset.token_for(anna)
    _payload, timestamp, signature = token.split(".")
    ben = make_employee(email="ben@example.com")
    forged = password_reset.token_for(ben).split(".")[0] + f".{timestamp}.{signature}"
    assert client.get(password_reset.RESET_PATH + forged).status_code == 404
    other_salt = URLSafeTimedSerializer("test-secret", salt="employee-invitation").dumps({"id": anna.id, "pw": ""})
    assert client.get(password_reset.RESET_PATH + other_salt).status_code == 404


def test_mail_that_waited_past_the_lifetime_is_not_sent(app, client, smtp):
    from datetime import timedelta

    from app.models._types import utcnow

    make_employee(email="anna@example.com")
    ask(client, "anna@example.com")
    dispatcher.dispatch_due(now=utcnow() + timedelta(minutes=61))
    assert smtp.inbox.messages == [] and reset_mails()[0].status == DeliveryStatus.CANCELLED


def test_reset_mails_are_not_among_the_notification_choices(client, login):
    login(make_employee())
    page = client.get("/settings/notifications")
    assert page.status_code == 200 and b"password_reset" not in page.data


def test_requests_are_rate_limited_per_address(app, client):
    app.config["PASSWORD_RESET_RATE_LIMIT"] = "2 per minute"
    assert ask(client, "a@example.com").status_code == 200
    assert ask(client, "b@example.com").status_code == 200
    assert ask(client, "c@example.com").status_code == 429
    assert client.get("/password/forgot").status_code == 200  # the page itself stays reachable
    other = client.post("/password/forgot", data={"email": "d@example.com"}, environ_overrides={"REMOTE_ADDR": "10.0.0.9"})
    assert other.status_code == 200


def test_channel_of_a_reset_mail_is_email_only(client):
    make_employee(email="anna@example.com")
    ask(client, "anna@example.com")
    assert [delivery.channel for delivery in reset_mails()] == [Channel.EMAIL]
    assert db.session.scalar(sa.select(Notification).filter_by(event=NotificationEvent.PASSWORD_RESET)).employee_id is None


def test_known_and_unknown_addresses_cost_the_same_statements(app, client, monkeypatch):
    """The same work either way (same SQL statements, one signing), so the answer's timing tells nothing."""
    make_employee(email="anna@example.com")
    ask(client, "warm-up@example.com")
    statements, signed = [], []
    real_token_for = password_reset.token_for

    def spy(employee, issued_at=None):
        signed.append(employee)
        return real_token_for(employee, issued_at)

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(" ".join(statement.split()[:3]))

    monkeypatch.setattr(password_reset, "token_for", spy)
    sa.event.listen(db.engine, "before_cursor_execute", count)
    try:
        ask(client, "anna@example.com")
        known = list(statements)
        statements.clear()
        ask(client, "nobody@example.com")
        unknown = list(statements)
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", count)
    assert known == unknown
    assert sorted(s for s in known if s.startswith("INSERT")) == [
        "INSERT INTO audit_events", "INSERT INTO deliveries", "INSERT INTO notifications"
    ]
    assert len(signed) == 2 and signed[1] is None


def test_an_address_without_an_at_sign_is_refused_with_a_message(app, client):
    page = client.post("/password/forgot", data={"email": "kein-at-zeichen"})
    assert page.status_code == 422 and "valid e-mail address" in page.get_data(as_text=True)
