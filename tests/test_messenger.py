"""Messenger over HTTP: posting, permissions, thread pages, media, voice, assistant links, video sessions."""
import io
import os

import pytest
import sqlalchemy as sa
from PIL import Image

from app.enums import MessageKind, Visibility
from app.extensions import db
from app.models import Message, Organisation
from app.services import messenger, tickets
from app.services.errors import NotAllowed, NotFound, ValidationError
from app.workflow import TicketStatus


def _png():
    """A small real PNG."""
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 30, 30)).save(out, "PNG")
    return out.getvalue()


def test_post_and_thread_as_employee(scene, client, login, as_htmx):
    """The responsible member posts; the stored message comes back rendered as Markdown, never the composer."""
    login(scene.member)
    response = client.post(f"/tickets/{scene.ticket.id}/messages", data={"body": "Hallo **Welt**"}, headers=as_htmx)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'data-testid="message"' in html and "<strong>Welt</strong>" in html
    assert 'data-testid="message-input"' not in html and "mine" in html and 'data-state="sent"' in html
    response = client.get(f"/tickets/{scene.ticket.id}/messages")
    assert "<strong>Welt</strong>" in response.get_data(as_text=True)


def test_plain_form_redirects_back(scene, client, login):
    """Without JavaScript the form posts and returns to the ticket page."""
    login(scene.moderator)
    response = client.post(
        f"/tickets/{scene.ticket.id}/messages", data={"body": "Ohne JS", "next": f"/tickets/{scene.ticket.id}"}
    )
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/tickets/{scene.ticket.id}")
    response = client.post(f"/tickets/{scene.ticket.id}/messages", data={"body": "x", "next": "//evil.example"})
    assert "evil" not in response.headers["Location"]


def test_code_user_posts(scene, client):
    """The code user writes on their PUBLIC ticket."""
    scene.code_client(client)
    response = client.post(
        f"/tickets/{scene.ticket.id}/messages", data={"body": "Von der Halle", "as": "code"}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    message = db.session.scalar(sa.select(Message).filter_by(ticket_id=scene.ticket.id))
    assert message.author_code_user_id == scene.visitor.id


def test_bystander_member_may_read_not_write(scene, client, login, as_htmx):
    """A member who is not responsible gets 403 with a reason and no composer."""
    login(scene.bystander)
    response = client.post(f"/tickets/{scene.ticket.id}/messages", data={"body": "Hi"}, headers=as_htmx)
    assert response.status_code == 403
    html = response.get_data(as_text=True)
    assert 'data-testid="message-error"' in html and 'data-testid="message-input"' not in html
    assert db.session.scalar(sa.select(sa.func.count(Message.id))) == 0


def test_refused_plain_form_goes_back_with_the_reason(scene, client, login):
    """Without JavaScript a refused post returns to the ticket page, which shows why; nothing is stored."""
    login(scene.bystander)
    page = f"/tickets/{scene.ticket.id}"
    response = client.post(f"{page}/messages", data={"body": "Hi", "next": page})
    assert response.status_code == 303 and response.headers["Location"].endswith(page)
    with client.session_transaction() as session:
        assert session["_flashes"] == [("error", messenger.write_refusal(scene.bystander, scene.ticket))]
    assert db.session.scalar(sa.select(sa.func.count(Message.id))) == 0


def test_hidden_ticket_is_404_for_code_user(scene, client):
    """An INTERNAL ticket does not exist for code users; anonymous visitors get 404 too."""
    tickets.set_visibility(scene.ticket, Visibility.INTERNAL, actor=scene.moderator)
    assert client.get(f"/tickets/{scene.ticket.id}/messages").status_code == 404
    scene.code_client(client)
    assert client.get(f"/tickets/{scene.ticket.id}/messages?as=code").status_code == 404
    response = client.post(f"/tickets/{scene.ticket.id}/messages", data={"body": "x", "as": "code"})
    assert response.status_code == 404


def test_code_user_cannot_write_on_closed_ticket(scene):
    """Finished tickets are read-only for code users."""
    scene.ticket.status = TicketStatus.CLOSED
    db.session.commit()
    with pytest.raises(NotAllowed):
        messenger.post_message(scene.ticket, "Hallo", actor=scene.visitor)


def test_empty_message_refused(scene):
    """An empty message is a validation error."""
    with pytest.raises(ValidationError):
        messenger.post_message(scene.ticket, "   ", actor=scene.moderator)


def test_photo_message_shows_thumbnail(scene, client, login, as_htmx):
    """A photo comes with a thumbnail linking to the full image."""
    login(scene.member)
    data = {"body": "", "files": (io.BytesIO(_png()), "foto.png")}
    response = client.post(
        f"/tickets/{scene.ticket.id}/messages", data=data, headers=as_htmx, content_type="multipart/form-data"
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    assert 'data-testid="message-thumbnail"' in response.get_data(as_text=True)
    message = db.session.scalar(sa.select(Message))
    assert message.kind == MessageKind.ATTACHMENT and message.attachments[0].thumbnail_name


def test_bad_file_refused_with_message(scene, client, login, as_htmx):
    """A file outside the allowed list is refused with a clear message; nothing is stored, no file stays on disk."""
    login(scene.member)
    data = {"body": "Siehe Datei", "files": (io.BytesIO(b"MZ\x90\x00binary"), "tool.exe")}
    response = client.post(
        f"/tickets/{scene.ticket.id}/messages", data=data, headers=as_htmx, content_type="multipart/form-data"
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'data-testid="message-error"' in html and "tool.exe" in html and 'data-testid="message-input"' not in html
    assert db.session.scalar(sa.select(sa.func.count(Message.id))) == 0
    assert not os.listdir(scene.app.config["UPLOAD_FOLDER"]) if os.path.isdir(scene.app.config["UPLOAD_FOLDER"]) else True


def test_voice_message(scene, client, login, as_htmx):
    """A recorded clip becomes a VOICE message with an audio player."""
    login(scene.member)
    ogg = b"OggS" + b"\x00" * 200
    response = client.post(
        f"/tickets/{scene.ticket.id}/messages/voice",
        data={"audio": (io.BytesIO(ogg), "voice.ogg")},
        headers=as_htmx,
        content_type="multipart/form-data",
    )
    assert response.status_code == 200
    assert 'data-testid="voice-message"' in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(Message)).kind == MessageKind.VOICE


def test_video_session_needs_base_url(scene, client, login, as_htmx):
    """No base URL: no button, and the service refuses; with one, the join link is sent."""
    login(scene.moderator)
    page = client.get(f"/tickets/{scene.ticket.id}/messages/read")
    assert page.status_code == 405
    with pytest.raises(ValidationError):
        messenger.start_video_session(scene.ticket, actor=scene.moderator)
    Organisation.current().video_base_url = "https://meet.example.com/"
    db.session.commit()
    response = client.post(f"/tickets/{scene.ticket.id}/video-session", headers=as_htmx)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "https://meet.example.com/ticketwerk-" in html
    assert 'data-testid="video-link"' in html


def test_code_user_cannot_start_video(scene):
    """Video sessions are started by employees."""
    Organisation.current().video_base_url = "https://meet.example.com/"
    db.session.commit()
    with pytest.raises(NotAllowed):
        messenger.start_video_session(scene.ticket, actor=scene.visitor)


def test_older_messages_page(scene, client, login):
    """The thread shows the newest page; ?before= returns the older ones."""
    for number in range(messenger.PAGE_SIZE + 5):
        db.session.add(Message(ticket_id=scene.ticket.id, body=f"Nachricht {number}", author_employee_id=scene.member.id))
    db.session.commit()
    login(scene.member)
    html = client.get(f"/tickets/{scene.ticket.id}/messages").get_data(as_text=True)
    assert html.count('data-testid="message"') == messenger.PAGE_SIZE and 'data-testid="messages-older"' in html
    first = db.session.scalars(sa.select(Message.id).order_by(Message.id)).all()[5]
    older = client.get(f"/tickets/{scene.ticket.id}/messages?before={first}").get_data(as_text=True)
    assert older.count('data-testid="message"') == 5 and "messages-older" not in older


def test_unread_marker_and_mark_read(scene, client, login):
    """Messages by others after the reader's marker are unread until marked read."""
    messenger.post_message(scene.ticket, "Eins", actor=scene.visitor)
    assert messenger.unread_count(scene.ticket, scene.member) == 1
    login(scene.member)
    html = client.get(f"/tickets/{scene.ticket.id}/messages").get_data(as_text=True)
    assert "unread-marker" not in html  # never read anything: no marker before the first message
    assert client.post(f"/tickets/{scene.ticket.id}/messages/read").status_code == 204
    assert messenger.unread_count(scene.ticket, scene.member) == 0
    messenger.post_message(scene.ticket, "Zwei", actor=scene.visitor)
    html = client.get(f"/tickets/{scene.ticket.id}/messages").get_data(as_text=True)
    assert html.index("unread-marker") < html.index("Zwei") and html.index("Eins") < html.index("unread-marker")


def test_missing_ticket_is_404(scene, client, login):
    """Unknown tickets are 404 everywhere."""
    login(scene.moderator)
    assert client.post("/tickets/9999/messages", data={"body": "x"}).status_code == 404
    with pytest.raises(NotFound):
        messenger.require_reader(scene.moderator, None)


def test_assistant_link_opens_on_code_users_device_page(scene, client, login, as_htmx):
    """Employees send an assistant page; the code user's link leads to it on their device page."""
    from app.models import AssistantElement

    element = AssistantElement(template_id=scene.ticket.template_id, title="Druck prüfen", body="**Ventil** öffnen")
    db.session.add(element)
    db.session.commit()
    login(scene.member)
    response = client.post(
        f"/tickets/{scene.ticket.id}/messages/assistant-link", data={"element": element.id}, headers=as_htmx
    )
    assert response.status_code == 200 and 'data-testid="assistant-link"' in response.get_data(as_text=True)
    message = db.session.scalar(sa.select(Message).filter_by(kind=MessageKind.ASSISTANT_LINK))
    preview = client.get(f"/tickets/{scene.ticket.id}/messages/{message.id}/open")
    assert preview.status_code == 200 and "<strong>Ventil</strong>" in preview.get_data(as_text=True)
    code_browser = scene.code_client(scene.app.test_client())
    opened = code_browser.get(f"/tickets/{scene.ticket.id}/messages/{message.id}/open?as=code")
    assert opened.status_code == 302 and f"/c/{scene.code.token}/a/{element.id}" in opened.headers["Location"]


def test_assistant_link_refuses_foreign_element(scene):
    """Only pages of the ticket's own assistant can be sent."""
    with pytest.raises(ValidationError):
        messenger.send_assistant_link(scene.ticket, 99999, actor=scene.moderator)
