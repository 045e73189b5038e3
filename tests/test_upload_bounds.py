"""Uploads bounded for a small server: files per message, update and media answer; image pixels; file names."""
import io
import os
import resource
import struct
import zlib

import pytest
import sqlalchemy as sa
from PIL import Image
from werkzeug.datastructures import FileStorage

from app import file_names
from app.extensions import db
from app.models import Attachment, Message, Ticket, Update
from app.services import pictures, uploads
from app.services.errors import ValidationError
from tests.test_uploads import MEDIA_STEP, draft, upload  # noqa: F401  (the draft fixture)

pytestmark = pytest.mark.usefixtures("english")

HTMX = {"HX-Request": "true", "Accept-Language": "en"}
ENGLISH = {"Accept-Language": "en"}


def png_bytes(color="red", size=(32, 24)):
    """A small real PNG."""
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "PNG")
    return out.getvalue()


def _chunk(kind, body):
    """One PNG chunk with its length and CRC."""
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


@pytest.fixture(scope="module")
def huge_png():
    """A valid 11,000 × 11,000 RGB PNG of black rows: a few hundred KB that would decode to about 480 MB."""
    width = height = 11_000
    compressor = zlib.compressobj(9)
    row = b"\0" * (1 + width * 3)  # filter byte, then the pixels
    data = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", data) + _chunk(b"IEND", b"")


def stored_files(app):
    """What lies in the upload folder."""
    return os.listdir(app.config["UPLOAD_FOLDER"])


def peak_rss_mb():
    """This process's peak resident memory so far, in MB (Linux reports KB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def test_code_user_cannot_attach_more_than_ten_files_to_a_message(scene, client, app):
    scene.code_client(client)
    files = [(io.BytesIO(png_bytes()), f"p{i}.png") for i in range(11)]
    response = client.post(
        f"/tickets/{scene.ticket.id}/messages",
        data={"body": "Fotos", "as": "code", "files": files},
        content_type="multipart/form-data",
        headers=HTMX,
    )
    assert response.status_code == 422
    assert "At most 10 files can be attached here; these are 11." in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(Message.id))) == 0
    assert db.session.scalar(sa.select(sa.func.count(Attachment.id))) == 0
    assert stored_files(app) == []


def test_ten_files_are_one_message(scene, client):
    scene.code_client(client)
    files = [(io.BytesIO(png_bytes()), f"p{i}.png") for i in range(10)]
    response = client.post(
        f"/tickets/{scene.ticket.id}/messages",
        data={"as": "code", "files": files},
        content_type="multipart/form-data",
        headers=HTMX,
    )
    assert response.status_code == 200
    assert db.session.scalar(sa.select(sa.func.count(Attachment.id)).where(Attachment.message_id.is_not(None))) == 10


def test_composer_tells_the_browser_the_file_limit(scene, client):
    scene.code_client(client)
    html = client.get(f"/tickets/{scene.ticket.id}/messages/composer?as=code").get_data(as_text=True)
    assert 'data-max-files="10"' in html


@pytest.mark.parametrize("app", [{"MAX_FILES_PER_MESSAGE": 2}], indirect=True)
def test_update_with_too_many_files_is_refused(scene, client, login, app):
    scene.member.language = "en"  # staff read their account's language
    db.session.commit()
    login(scene.member)
    files = [(io.BytesIO(png_bytes()), f"p{i}.png") for i in range(3)]
    response = client.post(
        f"/tickets/{scene.ticket.id}/updates",
        data={"body": "Fotos vom Einsatz", "version": scene.ticket.version, "files": files},
        content_type="multipart/form-data",
        headers=ENGLISH,
    )
    assert response.status_code == 422
    assert "At most 2 files can be attached here; these are 3." in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(Update.id))) == 0
    assert stored_files(app) == []


@pytest.mark.parametrize("app", [{"MAX_FILES_PER_MESSAGE": 2}], indirect=True)
def test_media_answer_counts_the_files_it_already_holds(draft, client, app):  # noqa: F811
    number, url = draft
    assert upload(client, url, ("a.png", png_bytes()), ("b.png", png_bytes("blue"))).status_code == 303
    response = upload(client, url, ("c.png", png_bytes("green")), headers=ENGLISH)
    assert response.status_code == 422
    assert "At most 2 files can be attached here; these are 3." in response.get_data(as_text=True)
    answer = db.session.get(Ticket, number).answers[MEDIA_STEP]
    assert len(answer.attachments) == 2 and len(stored_files(app)) == 4  # two photos, two thumbnails
    # Removing one makes room for another.
    response = upload(client, url, ("c.png", png_bytes("green")), extra={"remove": str(answer.attachments[0].id)})
    assert response.status_code == 303
    db.session.expire_all()
    assert len(db.session.get(Ticket, number).answers[MEDIA_STEP].attachments) == 2


def test_huge_image_is_refused_from_its_header(draft, client, app, huge_png):  # noqa: F811
    url = draft[1]
    assert len(huge_png) < 1024 * 1024
    before = peak_rss_mb()
    response = upload(client, url, ("riesig.png", huge_png), headers=ENGLISH)
    assert peak_rss_mb() - before < 100  # decoding it would take about 480 MB
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert "“riesig.png” is too large an image: at most 25 megapixels are accepted." in text
    assert db.session.scalar(sa.select(sa.func.count(Attachment.id))) == 0
    assert stored_files(app) == []


def test_huge_image_in_a_message_is_refused(scene, client, app, huge_png):
    scene.code_client(client)
    response = client.post(
        f"/tickets/{scene.ticket.id}/messages",
        data={"as": "code", "files": [(io.BytesIO(png_bytes()), "ok.png"), (io.BytesIO(huge_png), "riesig.png")]},
        content_type="multipart/form-data",
        headers=HTMX,
    )
    assert response.status_code == 422 and "too large an image" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(Message.id))) == 0
    assert stored_files(app) == []


def test_huge_device_picture_and_logo_are_refused(app, huge_png):
    with pytest.raises(ValidationError, match="too large an image") as refused:
        pictures.store_device_picture(FileStorage(io.BytesIO(huge_png), filename="geraet.png"))
    assert refused.value.field == "picture"
    with pytest.raises(ValidationError, match="too large an image"):
        pictures.store_logo(FileStorage(io.BytesIO(huge_png), filename="logo.png"))
    assert stored_files(app) == []


@pytest.mark.parametrize("app", [{"MAX_IMAGE_PIXELS": 1_000_000}], indirect=True)
def test_pixel_limit_is_configurable(scene, app):
    just_in = FileStorage(io.BytesIO(png_bytes(size=(1000, 1000))), filename="in.png")
    assert uploads.store_upload(just_in, ticket=scene.ticket, actor=scene.member).thumbnail_name
    too_big = FileStorage(io.BytesIO(png_bytes(size=(1001, 1000))), filename="out.png")
    with pytest.raises(ValidationError, match="at most 1 megapixels"):
        uploads.store_upload(too_big, ticket=scene.ticket, actor=scene.member)


@pytest.mark.parametrize(
    "name, shown",
    [
        ("rechnung\u202egnp.exe", "rechnunggnp.exe"),
        ("\u2066a\u2069\u2067b\u2068c.pdf", "abc.pdf"),
        ("\u200eleft\u200fright\u061c.pdf", "leftright.pdf"),
        ("\u202a\u202b\u202c\u202dx.pdf", "x.pdf"),
        ("nul\x00bell\x07line\nbreak\r\ttab\x1b\x7f\x85.pdf", "nulbelllinebreaktab.pdf"),
        ("Prüfbericht 🔧 العربية.pdf", "Prüfbericht 🔧 العربية.pdf"),
    ],
)
def test_file_names_lose_direction_and_control_characters(name, shown):
    assert file_names.clean(name) == shown


def test_disguised_file_name_is_neither_stored_shown_nor_sent(scene, client):
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF"
    scene.code_client(client)
    response = client.post(
        f"/tickets/{scene.ticket.id}/messages",
        data={"as": "code", "files": [(io.BytesIO(pdf), "rechnung\u202egnp.exe")]},
        content_type="multipart/form-data",
        headers=HTMX,
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "\u202e" not in html and "rechnunggnp.exe" in html
    attachment = db.session.scalar(sa.select(Attachment))
    assert attachment.original_name == "rechnunggnp.exe"
    # A row stored before names were cleaned is cleaned where it is shown and sent.
    attachment.original_name = "alt\u202efdp.exe\x00"
    db.session.commit()
    thread = client.get(f"/tickets/{scene.ticket.id}/messages?as=code").get_data(as_text=True)
    assert "\u202e" not in thread and "altfdp.exe" in thread
    with client.get(f"/files/{attachment.id}") as download:
        disposition = download.headers["Content-Disposition"]
    assert download.status_code == 200 and disposition.startswith("attachment")
    assert "altfdp.exe" in disposition and "%E2%80%AE" not in disposition.upper() and "%00" not in disposition
