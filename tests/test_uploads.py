"""Photo uploads in the wizard's media step: stored, thumbnailed, removable; disguised and oversized files refused."""

import io
import os
import re

import pytest
import sqlalchemy as sa
from PIL import Image

from app.extensions import db
from app.models import Attachment, Code, Flow, Ticket

MEDIA_STEP = 2


def png_bytes(color="red", size=(640, 480)):
    """A real PNG photo made with Pillow."""
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "PNG")
    return out.getvalue()


@pytest.fixture
def draft(demo, client):
    """A code user's Störung draft on the demo press, at its media step."""
    code = db.session.scalar(sa.select(Code).filter_by(token="demo-press"))
    flow = db.session.scalar(sa.select(Flow).filter_by(template_id=code.device.template_id, title="Störung melden"))
    client.get("/c/demo-press")
    response = client.post(f"/c/demo-press/flows/{flow.id}")
    number = int(re.search(r"/t/(\d+)/", response.headers["Location"]).group(1))
    return number, f"/c/demo-press/t/{number}/step/{MEDIA_STEP}"


def upload(client, url, *files, extra=None, headers=None):
    """POST files to a media step as multipart form data."""
    data = {"files": [(io.BytesIO(content), name) for name, content in files]}
    data.update(extra or {})
    return client.post(url, data=data, content_type="multipart/form-data", headers=headers or {})


def test_media_step_has_camera_capture_input(draft, client):
    html = client.get(draft[1]).get_data(as_text=True)
    assert re.search(
        r'<input[^>]*type="file"[^>]*multiple[^>]*capture="environment"[^>]*data-testid="step-input"',
        html,
    )
    assert 'accept="image/*' in html


def test_photos_are_stored_with_thumbnails_and_can_be_removed(draft, client, app):
    number, url = draft
    # Names no stored name can contain by chance (a random URL-safe token + ".png": "…b.png" once in 64 runs).
    response = upload(client, url, ("Pumpe vorne.png", png_bytes()), ("Ölstand hinten.png", png_bytes("blue")))
    assert response.status_code == 303
    ticket = db.session.get(Ticket, number)
    answer = ticket.answers[MEDIA_STEP]
    assert len(answer.value) == 2
    files = db.session.scalars(sa.select(Attachment).where(Attachment.answer_id == answer.id)).all()
    assert all(f.thumbnail_name and f.content_type == "image/png" for f in files)
    assert all(os.path.exists(os.path.join(app.config["UPLOAD_FOLDER"], f.stored_name)) for f in files)
    assert {f.original_name for f in files} == {"Pumpe vorne.png", "Ölstand hinten.png"}
    assert all("Pumpe" not in f.stored_name and "stand" not in f.stored_name for f in files)
    page = client.get(url).get_data(as_text=True)
    assert page.count("/thumb") == 2
    with client.get(f"/files/{files[0].id}/thumb") as thumb:
        assert thumb.status_code == 200 and thumb.mimetype == "image/jpeg"
    response = upload(client, url, extra={"remove": str(files[0].id)})
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(Ticket, number).answers[MEDIA_STEP].value == [files[1].id]
    assert db.session.get(Attachment, files[0].id) is None
    assert not os.path.exists(os.path.join(app.config["UPLOAD_FOLDER"], files[0].stored_name))


def test_html_named_jpg_is_refused(draft, client):
    number, url = draft
    response = upload(
        client,
        url,
        ("photo.jpg", b"<html><script>alert(1)</script></html>"),
        headers={"Accept-Language": "en"},
    )
    assert response.status_code == 422
    assert "“photo.jpg” is not a supported file type" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(Attachment.id))) == 0
    assert db.session.get(Ticket, number).answers[MEDIA_STEP].answered is False


def test_svg_is_refused(draft, client):
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    assert upload(client, draft[1], ("x.svg", svg)).status_code == 422


@pytest.mark.parametrize("app", [{"UPLOAD_LIMIT_MB": 1}], indirect=True)
def test_oversized_file_gets_a_clear_message(draft, client, app):
    big = png_bytes(size=(10, 10)) + b"\0" * (1024 * 1024 + 10)
    boundary = "tw-test-boundary"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="huge.png"\r\n'
            "Content-Type: image/png\r\n\r\n"
        ).encode()
        + big
        + f"\r\n--{boundary}--\r\n".encode()
    )
    # A prepared body: the test client would otherwise spool it to a temporary file it never closes.
    response = client.post(
        draft[1],
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
        headers={"Accept-Language": "en"},
    )
    assert response.status_code == 422
    assert "“huge.png” is larger than 1 MB." in response.get_data(as_text=True)
    assert os.listdir(app.config["UPLOAD_FOLDER"]) == []


def test_one_bad_file_stores_none_of_the_batch(draft, client, app):
    response = upload(client, draft[1], ("good.png", png_bytes()), ("bad.jpg", b"not an image at all"))
    assert response.status_code == 422
    assert db.session.scalar(sa.select(sa.func.count(Attachment.id))) == 0
    assert os.listdir(app.config["UPLOAD_FOLDER"]) == []


def test_broken_image_is_refused(draft, client):
    broken = png_bytes()[:60]
    assert upload(client, draft[1], ("broken.png", broken)).status_code == 422
