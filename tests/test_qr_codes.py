"""QR images decode back to the code URL; the label sheet prints 24 codes."""
import io

import PIL.Image
import pytest
import zxingcpp
from flask import g

from app.enums import Role
from app.extensions import db
from app.models import Organisation
from app.services import codes
from tests.factories import make_code, make_device, make_employee, make_template


@pytest.fixture
def moderator_client(app, client, login):
    g.pop("_login_user", None)
    login(make_employee(role=Role.MODERATOR))
    return client


def _decode(png_bytes):
    results = zxingcpp.read_barcodes(PIL.Image.open(io.BytesIO(png_bytes)))
    return [result.text for result in results]


def test_png_decodes_to_the_code_url(app, moderator_client):
    code = make_code(make_device(make_template()), token="abc123XYZ")
    response = moderator_client.get(f"/admin/codes/{code.id}/qr.png")
    assert response.mimetype == "image/png"
    assert _decode(response.data) == ["http://localhost/c/abc123XYZ"]


def test_organisation_base_url_wins_and_svg_carries_the_same_code(app, moderator_client):
    org = Organisation.current()
    org.public_base_url = "https://service.example.com"
    db.session.commit()
    code = make_code(make_device(make_template()), token="tok-9")
    assert _decode(moderator_client.get(f"/admin/codes/{code.id}/qr.png").data) == ["https://service.example.com/c/tok-9"]
    svg = moderator_client.get(f"/admin/codes/{code.id}/qr.svg")
    assert svg.mimetype == "image/svg+xml"
    text = svg.get_data(as_text=True)
    assert "<svg" in text and "<path" in text and ' d="M' in text
    try:
        import cairosvg
    except ImportError:
        return
    assert _decode(cairosvg.svg2png(bytestring=svg.data, output_width=400)) == ["https://service.example.com/c/tok-9"]


def test_label_sheet_renders_24_codes(app, moderator_client):
    moderator = make_employee(role=Role.MODERATOR)
    device = make_device(make_template(), name="Presse Halle 1")
    sheet = codes.create_codes(23, actor=moderator) + [make_code(device, token="paired")]
    ids = ",".join(str(c.id) for c in sheet)
    response = moderator_client.get(f"/admin/codes/labels?ids={ids}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert html.count('data-testid="label"') == 24
    assert 'class="label-sheet"' in html and "Presse Halle 1" in html and "http://localhost/c/paired" in html
    assert html.count('src="data:image/svg+xml;base64,') == 24


def test_label_sheet_without_codes_goes_back(app, moderator_client):
    response = moderator_client.get("/admin/codes/labels")
    assert response.status_code == 302 and response.headers["Location"].endswith("/admin/codes")


def test_code_actions(app, moderator_client):
    code = make_code(make_device(make_template()))
    epoch = code.session_epoch
    moderator_client.post(f"/admin/codes/{code.id}/enabled", data={})
    moderator_client.post(f"/admin/codes/{code.id}/logout")
    moderator_client.post(f"/admin/codes/{code.id}/pin", data={"pin": "4711"})
    db.session.refresh(code)
    assert not code.enabled and code.check_pin("4711") and code.session_epoch >= epoch + 2
    response = moderator_client.post(f"/admin/codes/{code.id}/pin", data={"pin": "12"}, follow_redirects=True)
    assert "4" in response.get_data(as_text=True) and code.check_pin("4711")
    response = moderator_client.post("/admin/codes", data={"count": "3"})
    assert response.status_code == 302
    assert moderator_client.post("/admin/codes", data={"count": "0"}).status_code == 422
