"""Messages are appends, not edits: no conflicts with concurrent writers, a browser-made id stored once, clear refusals.

Runs on SQLite and, when TEST_POSTGRES_URL is set, on PostgreSQL.
"""
import io
import os
import threading

import pytest
import sqlalchemy as sa

from app.enums import Priority, Visibility
from app.extensions import db
from app.identity import sign_code_user_key
from app.models import Attachment, Message, MessageRead, Notification, Ticket
from app.services import messenger, tickets
from app.services.errors import ConflictError, NotAllowed, ValidationError
from app.workflow import TicketStatus

RUN_ON_POSTGRES = True
HTMX = {"HX-Request": "true"}


def _count(model, **filters):
    """Rows of `model` matching `filters`."""
    return db.session.scalar(sa.select(sa.func.count()).select_from(model).filter_by(**filters))


def _uploads(app):
    """Files in the upload folder."""
    folder = app.config["UPLOAD_FOLDER"]
    return sorted(os.listdir(folder)) if os.path.isdir(folder) else []


def test_repeated_client_id_answers_the_stored_message_without_a_second_row_or_notification(scene, client, login):
    """The browser sends again after a lost answer: same message back, nothing new written, nobody told twice."""
    login(scene.member)
    data = {"body": "Ventil getauscht", "client_id": "b1d4c0ffee-0001"}
    first = client.post(f"/tickets/{scene.ticket.id}/messages", data=data, headers=HTMX)
    assert first.status_code == 200
    notified = _count(Notification)
    version = db.session.get(Ticket, scene.ticket.id, populate_existing=True).version
    again = client.post(f"/tickets/{scene.ticket.id}/messages", data=data, headers=HTMX)
    assert again.status_code == 200
    message = db.session.scalar(sa.select(Message))
    assert _count(Message) == 1 and message.client_id == "b1d4c0ffee-0001"
    assert f'id="message-{message.id}"' in first.get_data(as_text=True)
    assert f'id="message-{message.id}"' in again.get_data(as_text=True)
    assert 'data-client-id="b1d4c0ffee-0001"' in again.get_data(as_text=True)
    assert _count(Notification) == notified
    assert db.session.get(Ticket, scene.ticket.id, populate_existing=True).version == version


def test_repeated_client_id_with_a_file_stores_the_file_once(scene, client, login):
    """A photo sent twice under one id: one message, one attachment, one file on disk."""
    login(scene.member)
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    for _ in range(2):
        response = client.post(
            f"/tickets/{scene.ticket.id}/messages",
            data={"body": "Foto", "client_id": "photo-once-01", "files": (io.BytesIO(png), "typenschild.png")},
            headers=HTMX,
            content_type="multipart/form-data",
        )
        assert response.status_code in (200, 422), response.get_data(as_text=True)
    assert _count(Message) <= 1
    assert _count(Attachment) == _count(Message)
    assert len([name for name in _uploads(scene.app) if not name.startswith("thumb")]) <= _count(Attachment)


def test_client_id_of_someone_else_is_refused_and_keeps_theirs(scene):
    """An id another author already used is not a repeat: refused, their message untouched."""
    messenger.post_message(scene.ticket, "Von Anna", actor=scene.member, client_id="shared-id-0001")
    with pytest.raises(ConflictError):
        messenger.post_message(scene.ticket, "Vom Kunden", actor=scene.visitor, client_id="shared-id-0001")
    db.session.rollback()
    assert [m.body for m in db.session.scalars(sa.select(Message))] == ["Von Anna"]


@pytest.mark.parametrize("client_id", ["kurz", "mit leerzeichen drin", "<script>x</script>", "x" * 65])
def test_malformed_client_id_is_refused(scene, client_id):
    """Only 8–64 URL-safe characters are an id."""
    with pytest.raises(ValidationError):
        messenger.post_message(scene.ticket, "Hallo", actor=scene.member, client_id=client_id)
    db.session.rollback()
    assert _count(Message) == 0


def test_a_message_does_not_move_the_ticket_version(scene):
    """A form opened before a message was posted still saves: messages are not edits."""
    version = scene.ticket.version
    messenger.post_message(scene.ticket, "Zwischendurch", actor=scene.visitor)
    messenger.mark_read(scene.ticket, actor=scene.member)
    ticket = db.session.get(Ticket, scene.ticket.id, populate_existing=True)
    assert ticket.version == version
    tickets.set_priority(ticket, Priority.HIGH, actor=scene.member, expected_version=version)
    assert db.session.get(Ticket, scene.ticket.id, populate_existing=True).priority == Priority.HIGH


@pytest.mark.parametrize("change", ["closed", "internal"])
def test_posting_to_a_ticket_that_just_changed_is_a_clear_refusal_and_leaves_no_file(scene, client, change):
    """The page still shows the composer, but the ticket became CLOSED or INTERNAL meanwhile: 403/404, no 500, no file."""
    scene.code_client(client)
    if change == "closed":
        scene.ticket.status = TicketStatus.CLOSED
        db.session.commit()
    else:
        tickets.set_visibility(scene.ticket, Visibility.INTERNAL, actor=scene.moderator)
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    response = client.post(
        f"/tickets/{scene.ticket.id}/messages",
        data={"body": "Noch eine Frage", "as": "code", "client_id": "late-message-1", "files": (io.BytesIO(png), "a.png")},
        headers=HTMX,
        content_type="multipart/form-data",
    )
    assert response.status_code in (403, 404)
    assert 'data-testid="message-error"' in response.get_data(as_text=True)
    assert _count(Message) == 0 and _count(Attachment) == 0
    assert _uploads(scene.app) == []


def test_refusal_between_the_check_and_the_write_is_caught_under_the_lock(scene, monkeypatch):
    """The ticket closes after the first policy check but before the write: the check under the row lock refuses."""
    original = messenger.lock_for_append

    def close_first(ticket, **kwargs):
        """Another request closes the ticket just before this one takes the lock."""
        db.session.execute(
            sa.update(Ticket.__table__).where(Ticket.__table__.c.id == ticket.id).values(status=TicketStatus.CLOSED.name)
        )
        return original(ticket, **kwargs)

    monkeypatch.setattr(messenger, "lock_for_append", close_first)
    with pytest.raises(NotAllowed):
        messenger.post_message(scene.ticket, "Zu spät", actor=scene.visitor)
    db.session.rollback()
    assert _count(Message) == 0


def test_twenty_writers_and_a_flipper_lose_no_acknowledged_message(scene):
    """20 threads post while another flips visibility and priority: every acknowledged post is stored once, no 5xx."""
    app = scene.app
    ticket_id, member_id, member_cookie_id = scene.ticket.id, scene.member.id, scene.member.get_id()
    cookie = sign_code_user_key(scene.visitor.code_user.key)
    acknowledged, failures, flips = [], [], []
    start = threading.Barrier(21)

    def writer(number):
        """Post five messages, as the responsible member (even threads) or the code user (odd threads)."""
        client = app.test_client()
        if number % 2:
            client.set_cookie(app.config["CODE_USER_COOKIE"], cookie, domain="localhost")
            extra = {"as": "code"}
        else:
            with client.session_transaction() as session:
                session["_user_id"] = member_cookie_id
                session["_fresh"] = True
            extra = {}
        start.wait()
        for round_number in range(5):
            body = f"Schreiber {number} Nachricht {round_number}"
            data = {"body": body, "client_id": f"w{number:02d}-r{round_number}-abcdef", **extra}
            try:
                response = client.post(f"/tickets/{ticket_id}/messages", data=data, headers=HTMX)
            except Exception as error:  # noqa: BLE001 - a 500 in TESTING mode: the test client raises it here
                failures.append((number, 500, repr(error)))
                continue
            if response.status_code == 200:
                acknowledged.append(body)
            elif response.status_code >= 500 or (response.status_code != 404 or not number % 2):
                failures.append((number, response.status_code, response.get_data(as_text=True)[:200]))

    def flipper():
        """Flip visibility and priority back and forth through the services."""
        with app.app_context():
            start.wait()
            for round_number in range(8):
                ticket = db.session.get(Ticket, ticket_id, populate_existing=True)
                visibility = Visibility.INTERNAL if round_number % 2 == 0 else Visibility.PUBLIC
                moderator = db.session.merge(scene.moderator)
                tickets.set_visibility(ticket, visibility, actor=moderator)
                ticket = db.session.get(Ticket, ticket_id, populate_existing=True)
                tickets.set_priority(ticket, Priority.HIGH if round_number % 2 else Priority.LOW, actor=moderator)
                flips.append(round_number)
            db.session.remove()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(20)] + [threading.Thread(target=flipper)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not failures, failures[:5]
    assert len(flips) == 8
    db.session.expire_all()
    stored = list(db.session.scalars(sa.select(Message.body).where(Message.ticket_id == ticket_id)))
    assert sorted(stored) == sorted(acknowledged)
    assert len(stored) == len(set(stored))
    # Every employee message went through: they may always write on a ticket they are responsible for.
    assert all(f"Schreiber {n} Nachricht {r}" in stored for n in range(0, 20, 2) for r in range(5))
    assert _count(MessageRead, ticket_id=ticket_id, employee_id=member_id) == 1
