"""File downloads: only for those who may see the ticket and update; safe headers; 404 for everyone else."""

import io

import pytest
import sqlalchemy as sa
from PIL import Image
from werkzeug.datastructures import FileStorage

from app.enums import Role, Visibility
from app.extensions import db
from app.models import Code, Flow
from app.services import tickets as ticket_service
from app.services import uploads
from tests.factories import make_employee, make_ticket


def file_storage(name, content):
    """An uploaded file as Flask hands it to views."""
    return FileStorage(stream=io.BytesIO(content), filename=name)


def png():
    """A small real PNG."""
    out = io.BytesIO()
    Image.new("RGB", (50, 40), "green").save(out, "PNG")
    return out.getvalue()


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF"


@pytest.fixture
def files(demo):
    """Public and internal updates with files on the press, plus a file on an INTERNAL ticket."""
    code = db.session.scalar(sa.select(Code).filter_by(token="demo-press"))
    flow = db.session.scalar(sa.select(Flow).filter_by(template_id=code.device.template_id, title="Störung melden"))
    admin = make_employee(role=Role.ADMIN)
    public = make_ticket(flow, code.device, admin, visibility=Visibility.PUBLIC)
    internal = make_ticket(flow, code.device, admin, visibility=Visibility.INTERNAL)

    def attach(ticket, visibility, name, content):
        """One update with one file."""
        stored = uploads.store_uploads([file_storage(name, content)], ticket=ticket, actor=admin)
        ticket_service.post_update(ticket, "", visibility, actor=admin, attachments=stored)
        return stored[0]

    return {
        "admin": admin,
        "public_photo": attach(public, Visibility.PUBLIC, "photo.png", png()),
        "public_pdf": attach(public, Visibility.PUBLIC, "manual.pdf", PDF),
        "internal_update_photo": attach(public, Visibility.INTERNAL, "secret.png", png()),
        "internal_ticket_photo": attach(internal, Visibility.PUBLIC, "hidden.png", png()),
    }


def fetch(client, url):
    """GET a file and close the stream; returns the (closed) response with its headers."""
    with client.get(url) as response:
        response.get_data()
    return response


def test_code_user_gets_public_photo_inline_with_safe_headers(files, client):
    client.get("/c/demo-press")
    response = fetch(client, f"/files/{files['public_photo'].id}")
    assert response.status_code == 200 and response.mimetype == "image/png"
    assert "attachment" not in response.headers.get("Content-Disposition", "")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Security-Policy"].startswith("sandbox")
    assert fetch(client, f"/files/{files['public_photo'].id}/thumb").mimetype == "image/jpeg"


def test_documents_are_downloads(files, client):
    client.get("/c/demo-press")
    response = fetch(client, f"/files/{files['public_pdf'].id}")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert fetch(client, f"/files/{files['public_pdf'].id}/thumb").status_code == 404


@pytest.mark.parametrize("which", ["internal_update_photo", "internal_ticket_photo"])
def test_code_user_cannot_fetch_internal_files(files, client, which):
    client.get("/c/demo-press")
    assert fetch(client, f"/files/{files[which].id}").status_code == 404
    assert fetch(client, f"/files/{files[which].id}/thumb").status_code == 404


def test_other_devices_visitor_and_strangers_get_404(files, client, app):
    client.get("/c/demo-cooler")
    assert fetch(client, f"/files/{files['public_photo'].id}").status_code == 404
    assert fetch(app.test_client(), f"/files/{files['public_photo'].id}").status_code == 404
    assert fetch(client, "/files/999999").status_code == 404


def test_employee_sees_internal_files(files, client, login):
    login(files["admin"])
    assert fetch(client, f"/files/{files['internal_update_photo'].id}").status_code == 200
    assert fetch(client, f"/files/{files['internal_ticket_photo'].id}").status_code == 200
