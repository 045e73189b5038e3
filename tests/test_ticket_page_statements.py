"""The ticket page, for staff and for the code user, runs the same number of SQL statements for a ticket with a
dozen messages and updates as for one with 500 messages and 100 updates, and in a database with 150 or 300 more
tickets: no query per message, update, file, offer, answer or delivery, none that grows with the ticket count."""
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.enums import (
    Channel,
    DeliveryStatus,
    MessageKind,
    NotificationEvent,
    OfferState,
    Visibility,
)
from app.extensions import db
from app.models import (
    Attachment,
    Code,
    Delivery,
    Employee,
    Message,
    Notification,
    Offer,
    Update,
)
from app.models._types import utcnow
from app.workflow import TicketStatus
from tests.factories import make_public_ticket
from tests.test_statements_per_page import _fresh_count

WORDS = "Die Presse verliert Öl an der Dichtung, bitte **prüfen** und Rückmeldung geben."


def _thread(ticket, messages, updates, people, notified):
    """Give `ticket` `messages` messages and `updates` updates (every third INTERNAL) by alternating authors, a
    file on some of them and on each answer, and a delivered notification for each of `notified`."""
    start = utcnow() - timedelta(days=3)
    rows = []
    for index in range(messages):
        author = people[index % len(people)] if index % 3 else None
        rows.append(Message(ticket_id=ticket.id, kind=MessageKind.TEXT, body=f"{index}: {WORDS}",
                            author_employee_id=author.id if author else None, created_at=start + timedelta(minutes=index)))
    for index in range(updates):
        rows.append(Update(ticket_id=ticket.id, body=f"Update {index}: {WORDS}", author_employee_id=people[index % len(people)].id,
                           visibility=Visibility.INTERNAL if index % 3 == 0 else Visibility.PUBLIC,
                           created_at=start + timedelta(minutes=index * 5 + 2)))
    db.session.add_all(rows)
    db.session.flush()
    files = [row for row in rows if row.id % 4 == 0] + list(ticket.answers)
    for row in files:
        link = {"message_id": row.id} if isinstance(row, Message) else (
            {"update_id": row.id} if isinstance(row, Update) else {"answer_id": row.id})
        db.session.add(Attachment(ticket_id=ticket.id, stored_name=f"{type(row).__name__}-{row.id}.pdf",
                                  original_name="Protokoll.pdf", content_type="application/pdf", size=10, **link))
    for person in notified:
        notification = Notification(employee_id=person.id, ticket_id=ticket.id, event=NotificationEvent.MESSAGE_POSTED)
        db.session.add(notification)
        db.session.flush()
        db.session.add(Delivery(notification_id=notification.id, channel=Channel.EMAIL, status=DeliveryStatus.SENT))
    db.session.commit()


@pytest.fixture
def two_tickets(app, demo):
    """Two public in-progress tickets of the demo press, both with offers to every fleet member (the first
    accepted): one with 12 messages and 12 updates, one with 500 messages and 100 updates. Returns their numbers."""
    code = db.session.scalar(sa.select(Code).filter_by(token="demo-press"))
    people = db.session.scalars(sa.select(Employee).order_by(Employee.email).where(Employee.email.in_(["anna@example.com", "ben@example.com", "moderator@example.com"]))).all()
    device = code.device
    tickets = [make_public_ticket(device.template.active_flows[0], device, people[0]) for _ in range(2)]
    people, moderator = people[:2], people[2]
    # The long thread has more authors and notified employees too: a query per distinct author would show.
    threads = ((12, 12, people[:1], people[:1]), (500, 100, people, [*people, moderator]))
    for ticket, (messages, updates, authors, notified) in zip(tickets, threads, strict=True):
        ticket.status, ticket.visibility = TicketStatus.IN_PROGRESS, Visibility.PUBLIC
        for person in people:
            if ticket.offer_for(person.id) is None:
                state = OfferState.ACCEPTED if person is people[0] else OfferState.PENDING
                db.session.add(Offer(ticket_id=ticket.id, employee_id=person.id, state=state))
        db.session.commit()
        _thread(ticket, messages, updates, authors, notified)
    return [ticket.number for ticket in tickets]


@pytest.mark.parametrize("as_staff", [True, False], ids=["staff", "code-user"])
def test_ticket_page_statements_do_not_grow_with_the_thread_or_the_ticket_count(app, client, login, two_tickets, as_staff):
    from app.demo_data import load_bulk_tickets

    if as_staff:
        login(db.session.scalar(sa.select(Employee).filter_by(email="anna@example.com")))
        urls = [f"/tickets/{number}" for number in two_tickets]
    else:
        assert client.get("/c/demo-press").status_code == 200
        urls = [f"/c/demo-press/t/{number}" for number in two_tickets]
    load_bulk_tickets(150)
    few = [_fresh_count(app, client, url, None) for url in urls]
    load_bulk_tickets(150, seed=7)
    many = [_fresh_count(app, client, url, None) for url in urls]
    assert few[0] == few[1] == many[0] == many[1], (few, many)
    assert many[0] <= (16 if as_staff else 14)


def test_code_user_page_shows_public_updates_and_their_files_but_nothing_internal(app, client, two_tickets):
    from flask import url_for

    assert client.get("/c/demo-press").status_code == 200
    html = client.get(f"/c/demo-press/t/{two_tickets[0]}").get_data(as_text=True)
    updates = db.session.scalars(sa.select(Update).where(Update.ticket_id == two_tickets[0])).all()
    files = {file.update_id: file.id for file in db.session.scalars(sa.select(Attachment).where(Attachment.update_id.is_not(None)))}
    with app.test_request_context():
        for update in updates:
            shown = update.visibility == Visibility.PUBLIC
            assert (f">{update.body.split(':')[0]}:" in html) == shown
            if update.id in files:
                assert (url_for("files.download", attachment_id=files[update.id]) in html) == shown
