"""Photos from real phones: HEIC shown as JPEG, the original kept; orientation applied; location never passed on."""
import io
import subprocess
import sys

import pillow_heif
import pytest
import sqlalchemy as sa
from PIL import Image

from app.extensions import db
from app.models import Attachment, Ticket
from app.services import photo_metadata
from tests.test_uploads import MEDIA_STEP, draft, upload  # noqa: F401  (the draft fixture)

pillow_heif.register_heif_opener()

HTMX = {"HX-Request": "true", "Accept-Language": "en"}
GPS = {1: "N", 2: (52.0, 31.0, 12.5), 3: "E", 4: (13.0, 24.0, 1.0), 29: "2026:11:30"}


def exif_bytes(orientation=1, gps=True, endian=None):
    """An EXIF block with a camera make, an orientation and (by default) a GPS position."""
    exif = Image.Exif()
    if endian:
        exif.endian = endian
    exif[0x010F] = "Fairphone"
    exif[0x0112] = orientation
    if gps:
        exif[0x8825] = GPS
    return exif.tobytes()


def photo(kind, size=(400, 200), **exif):
    """A JPEG or HEIC photo (pillow-heif writes HEIC) of a red left half and a blue right half, with EXIF."""
    image = Image.new("RGB", size, "red")
    image.paste("blue", (size[0] // 2, 0, size[0], size[1]))
    out = io.BytesIO()
    image.save(out, kind, exif=exif_bytes(**exif), quality=90)
    return out.getvalue()


def fetch(client, url):
    """GET a file; (response, body)."""
    with client.get(url) as response:
        body = response.get_data()
    return response, body


def gps_of(data):
    """The GPS IFD Pillow finds in a photo ({} when none) and whether IFD0 still points at one."""
    with Image.open(io.BytesIO(data)) as image:
        exif = image.getexif()
        return exif.get_ifd(0x8825), 0x8825 in exif


def post_files(client, ticket, *files):
    """The code user sends files in one message."""
    return client.post(
        f"/tickets/{ticket.id}/messages",
        data={"as": "code", "files": [(io.BytesIO(content), name) for name, content in files]},
        content_type="multipart/form-data",
        headers=HTMX,
    )


def assert_served_jpeg(client, url, size=None):
    """The URL serves a JPEG that decodes (of `size`, when given)."""
    response, body = fetch(client, url)
    assert response.status_code == 200 and response.mimetype == "image/jpeg"
    with Image.open(io.BytesIO(body)) as image:
        assert image.format == "JPEG"
        image.load()
        if size:
            assert image.size == size
        return image.copy()


def test_heic_in_a_message_shows_as_jpeg_and_downloads_as_heic(scene, client):
    scene.code_client(client)
    heic = photo("HEIF", size=(3000, 2000), gps=False)
    response = post_files(client, scene.ticket, ("IMG_0001.HEIC", heic))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    attachment = db.session.scalar(sa.select(Attachment))
    assert attachment.content_type == "image/heic"
    assert f'src="/files/{attachment.id}/thumb"' in html and 'data-testid="message-thumbnail"' in html
    assert f'href="/files/{attachment.id}/view"' in html and 'data-testid="message-original"' in html
    assert_served_jpeg(client, f"/files/{attachment.id}/thumb", (480, 320))
    view = assert_served_jpeg(client, f"/files/{attachment.id}/view", (2048, 1365))
    assert view.getpixel((100, 600))[0] > 200 and view.getpixel((1900, 600))[2] > 200  # red left, blue right
    response, body = fetch(client, f"/files/{attachment.id}")
    assert response.mimetype == "image/heic" and response.headers["Content-Disposition"].startswith("attachment")
    assert body[4:12] == b"ftypheic" and body == heic


def test_heic_in_a_wizard_step_shows_as_jpeg(draft, client, app):  # noqa: F811
    number, url = draft
    assert upload(client, url, ("IMG_0002.heic", photo("HEIF", gps=False))).status_code == 303
    attachment = db.session.get(Ticket, number).answers[MEDIA_STEP].attachments[0]
    assert attachment.content_type == "image/heic"
    assert f'src="/files/{attachment.id}/thumb"' in client.get(url).get_data(as_text=True)
    assert_served_jpeg(client, f"/files/{attachment.id}/thumb", (400, 200))
    assert_served_jpeg(client, f"/files/{attachment.id}/view", (400, 200))
    response, body = fetch(client, f"/files/{attachment.id}")
    assert response.mimetype == "image/heic" and body[4:12] == b"ftypheic"


def test_heic_in_an_update_links_its_view_and_its_original(scene, client, login):
    login(scene.member)
    response = client.post(
        f"/tickets/{scene.ticket.id}/updates",
        data={"body": "Foto vom Schaden", "version": scene.ticket.version, "files": [(io.BytesIO(photo("HEIF")), "s.heic")]},
        content_type="multipart/form-data",
    )
    assert response.status_code in (200, 303)
    attachment = db.session.scalar(sa.select(Attachment))
    page = client.get(f"/tickets/{scene.ticket.id}").get_data(as_text=True)
    assert f'<img src="/files/{attachment.id}/thumb"' in page
    assert f'href="/files/{attachment.id}/view"' in page and 'data-testid="file-original"' in page
    assert_served_jpeg(client, f"/files/{attachment.id}/view")


def test_jpeg_loses_its_position_and_nothing_else(scene, client):
    original = photo("JPEG", orientation=1)
    assert gps_of(original)[0]
    scene.code_client(client)
    assert post_files(client, scene.ticket, ("foto.jpg", original)).status_code == 200
    attachment = db.session.scalar(sa.select(Attachment))
    response, body = fetch(client, f"/files/{attachment.id}")
    assert response.mimetype == "image/jpeg"
    assert gps_of(body) == ({}, False)
    with Image.open(io.BytesIO(body)) as stored, Image.open(io.BytesIO(original)) as sent:
        assert stored.getexif()[0x010F] == "Fairphone"
        assert stored.tobytes() == sent.tobytes()  # the picture itself was not encoded again
    assert attachment.size == len(body)


def test_heic_original_loses_its_position_in_place(scene, client):
    original = photo("HEIF")
    assert gps_of(original)[0]
    scene.code_client(client)
    assert post_files(client, scene.ticket, ("IMG_0003.HEIC", original)).status_code == 200
    attachment = db.session.scalar(sa.select(Attachment))
    response, body = fetch(client, f"/files/{attachment.id}")
    assert response.mimetype == "image/heic"
    assert gps_of(body) == ({}, False)
    assert len(body) == len(original)  # edited in place: no new encoding
    with Image.open(io.BytesIO(body)) as stored:
        assert stored.getexif()[0x010F] == "Fairphone"
        stored.load()


@pytest.mark.parametrize("endian", ["<", ">"])
def test_location_is_removed_in_both_byte_orders_with_xmp(endian):
    image = Image.new("RGB", (64, 32), "red")
    for kind, content_type in (("JPEG", "image/jpeg"), ("HEIF", "image/heic")):
        out = io.BytesIO()
        xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><exif:GPSLatitude>52,31.2N</exif:GPSLatitude></x:xmpmeta>'
        image.save(out, kind, exif=exif_bytes(endian=endian), xmp=xmp)
        cleaned = photo_metadata.strip_location(out.getvalue(), content_type)
        assert gps_of(cleaned) == ({}, False)
        assert b"GPSLatitude" not in cleaned and b"52,31.2N" not in cleaned


def test_png_and_other_files_pass_unchanged():
    out = io.BytesIO()
    Image.new("RGB", (8, 8)).save(out, "PNG")
    assert photo_metadata.strip_location(out.getvalue(), "image/png") == out.getvalue()
    assert photo_metadata.strip_location(b"%PDF-1.4", "application/pdf") == b"%PDF-1.4"


@pytest.mark.parametrize("kind", ["JPEG", "HEIF"])
def test_display_renditions_are_turned_upright(scene, client, kind):
    scene.code_client(client)
    assert post_files(client, scene.ticket, ("quer.img", photo(kind, orientation=6, gps=False))).status_code == 200
    attachment = db.session.scalar(sa.select(Attachment))
    thumb = assert_served_jpeg(client, f"/files/{attachment.id}/thumb", (200, 400))
    # Orientation 6: the camera was turned right; upright, the left (red) half of the sensor is on top.
    assert thumb.getpixel((100, 50))[0] > 200 and thumb.getpixel((100, 350))[2] > 200
    view = assert_served_jpeg(client, f"/files/{attachment.id}/view")
    if kind == "HEIF":
        assert view.size == (200, 400)  # the JPEG view made from the HEIC
    else:
        assert view.getexif()[0x0112] == 6  # the JPEG itself, which browsers turn by its EXIF orientation


def test_old_heic_without_view_is_a_file_link_not_a_broken_image(scene, client):
    scene.code_client(client)
    assert post_files(client, scene.ticket, ("alt.heic", photo("HEIF", gps=False))).status_code == 200
    attachment = db.session.scalar(sa.select(Attachment))
    attachment.thumbnail_name = None  # as stored before HEIC got thumbnails
    db.session.commit()
    html = client.get(f"/tickets/{scene.ticket.id}/messages?as=code").get_data(as_text=True)
    assert "message-thumbnail" not in html and 'data-testid="message-file"' in html


def test_heic_support_is_loaded_only_when_a_heic_arrives():
    code = (
        "import sys; from app import create_app; "
        "create_app({'TESTING': True, 'SECRET_KEY': 'x', 'SQLALCHEMY_DATABASE_URI': 'sqlite://', "
        "'NOTIFICATION_DISPATCHER_THREAD': False}); "
        "import app.services.uploads, app.services.photo_metadata; "
        "print('pillow_heif' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert result.stdout.strip() == "False"
