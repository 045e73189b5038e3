"""Codes over the API: moderators create, pair, enable, protect and print them; nobody else reaches them."""
import io
import re
from xml.etree import ElementTree

import PIL.Image
import PIL.ImageDraw
import pytest
import zxingcpp

from app.enums import Role
from app.extensions import db
from app.models import Code
from tests.api_helpers import assert_problem, token_headers
from tests.factories import make_code, make_device, make_employee, make_template

SQUARE = re.compile(r"M(\d+),(\d+)H(\d+)V(\d+)H\d+z")


@pytest.fixture
def moderator():
    return make_employee(role=Role.MODERATOR)


def _count():
    return db.session.scalar(db.select(db.func.count()).select_from(Code))


def _decode_png(data):
    return [result.text for result in zxingcpp.read_barcodes(PIL.Image.open(io.BytesIO(data)))]


def _decode_svg(data):
    """Draw the SVG's path of unit squares (qrcode's SvgPathFillImage) at 10 px per module and decode it."""
    root = ElementTree.fromstring(data)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    size = int(root.get("viewBox").split()[2])
    path = root.find("{http://www.w3.org/2000/svg}path").get("d")
    squares = SQUARE.findall(path)
    assert squares and len("".join(f"M{x},{y}H{x2}V{y2}H{x}z" for x, y, x2, y2 in squares)) == len(path)
    image = PIL.Image.new("L", (size * 10, size * 10), 255)
    draw = PIL.ImageDraw.Draw(image)
    for x, y, x2, y2 in squares:
        draw.rectangle([int(x) * 10, int(y) * 10, int(x2) * 10 - 1, int(y2) * 10 - 1], fill=0)
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return _decode_png(buffer.getvalue())


def test_moderator_creates_codes_in_bulk(client, moderator):
    response = client.post("/api/v1/codes", headers=token_headers(moderator), json={"count": 3, "label": "Charge 7"})
    assert response.status_code == 201
    items = response.get_json()["items"]
    assert len(items) == 3 and _count() == 3
    assert {(c["label"], c["device"], c["enabled"], c["has_pin"], c["usable"]) for c in items} == {
        ("Charge 7", None, True, False, False)}
    assert all(c["url"] == f"http://localhost/c/{c['token']}" for c in items)
    assert len({c["token"] for c in items}) == 3


def test_a_single_new_code_is_paired_with_a_device(client, moderator):
    device = make_device(make_template(), name="Presse")
    response = client.post("/api/v1/codes", headers=token_headers(moderator), json={"count": 1, "device_id": device.id})
    assert response.status_code == 201
    assert response.get_json()["items"][0]["device"] == {"id": device.id, "name": "Presse"}
    assert response.get_json()["items"][0]["usable"] is True


@pytest.mark.parametrize("body", [
    {},
    {"count": 0},
    {"count": 501},
    {"count": "drei"},
    {"count": 2, "device_id": 1},
    {"count": 1, "device_id": 999},
    {"count": 1, "label": "x" * 121},
])
def test_bad_input_creates_no_code(client, moderator, body):
    make_device(make_template())
    assert assert_problem(client.post("/api/v1/codes", headers=token_headers(moderator), json=body), 422)["errors"]
    assert _count() == 0


def test_pair_unpair_label_and_disable(client, moderator):
    template = make_template()
    old, new = make_device(template, name="Alt"), make_device(template, name="Neu")
    code = make_code(old)
    epoch = code.session_epoch
    headers = token_headers(moderator)
    paired = client.patch(f"/api/v1/codes/{code.id}", headers=headers, json={"device_id": new.id, "label": "Tür"})
    assert paired.status_code == 200
    assert paired.get_json()["device"] == {"id": new.id, "name": "Neu"} and paired.get_json()["label"] == "Tür"
    db.session.refresh(code)
    assert code.device_id == new.id and code.session_epoch == epoch + 1  # code users of the old device are out
    unpaired = client.patch(f"/api/v1/codes/{code.id}", headers=headers, json={"device_id": None, "enabled": False})
    assert unpaired.get_json()["device"] is None and unpaired.get_json()["enabled"] is False
    db.session.refresh(code)
    assert code.device_id is None and not code.enabled
    assert client.patch(f"/api/v1/codes/{code.id}", headers=headers, json={"enabled": True}).get_json()["enabled"]


def test_pairing_with_an_archived_device_changes_nothing(client, moderator):
    device = make_device(make_template())
    code = make_code(device)
    archived = make_device(device.template)
    archived.archived = True
    db.session.commit()
    body = assert_problem(client.patch(f"/api/v1/codes/{code.id}", headers=token_headers(moderator),
                                       json={"device_id": archived.id, "label": "neu", "enabled": False}), 422)
    assert "device_id" in body["errors"]
    db.session.refresh(code)
    assert (code.device_id, code.label, code.enabled) == (device.id, "", True)


def test_pin_set_refused_and_removed(client, moderator):
    code = make_code(make_device(make_template()))
    epoch = code.session_epoch
    headers = token_headers(moderator)
    response = client.put(f"/api/v1/codes/{code.id}/pin", headers=headers, json={"pin": "4711"})
    assert response.status_code == 200 and response.get_json()["has_pin"] is True
    assert "pin" not in response.get_json() and "pin_hash" not in response.get_json()
    db.session.refresh(code)
    assert code.check_pin("4711") and code.session_epoch == epoch + 1
    for bad in ("12", "١٢٣٤", "12ab", "1" * 13):
        problem = assert_problem(client.put(f"/api/v1/codes/{code.id}/pin", headers=headers, json={"pin": bad}), 422)
        assert problem["errors"] == {"json": {"pin": ["Die PIN muss 4 bis 12 Ziffern haben."]}}
    db.session.refresh(code)
    assert code.check_pin("4711")
    removed = client.delete(f"/api/v1/codes/{code.id}/pin", headers=headers)
    assert removed.status_code == 200 and removed.get_json()["has_pin"] is False
    db.session.refresh(code)
    assert not code.has_pin


def test_logout_ends_code_user_access(client, moderator):
    code = make_code(make_device(make_template()))
    epoch = code.session_epoch
    assert client.post(f"/api/v1/codes/{code.id}/logout", headers=token_headers(moderator)).status_code == 200
    db.session.refresh(code)
    assert code.session_epoch == epoch + 1


def test_list_filters_and_pages(client, moderator):
    device = make_device(make_template())
    paired = [make_code(device) for _ in range(3)]
    make_code(None)
    headers = token_headers(moderator, "read")
    first = client.get("/api/v1/codes", query_string={"device": device.id, "limit": 2}, headers=headers).get_json()
    rest = client.get("/api/v1/codes", query_string={"device": device.id, "cursor": first["next_cursor"]},
                      headers=headers).get_json()
    assert [c["id"] for c in first["items"] + rest["items"]] == [c.id for c in paired]
    assert rest["next_cursor"] is None
    unpaired = client.get("/api/v1/codes", query_string={"paired": "false"}, headers=headers).get_json()["items"]
    assert [c["device"] for c in unpaired] == [None]
    assert_problem(client.get("/api/v1/codes", query_string={"cursor": "bm90LWEtY3Vyc29y"}, headers=headers), 400)


def test_png_decodes_to_the_code_url(client, moderator):
    code = make_code(make_device(make_template()), token="api-png-1")
    response = client.get(f"/api/v1/codes/{code.id}/qr.png", headers=token_headers(moderator, "read"))
    assert response.status_code == 200 and response.mimetype == "image/png"
    assert _decode_png(response.data) == ["http://localhost/c/api-png-1"]
    small = client.get(f"/api/v1/codes/{code.id}/qr.png", query_string={"box_size": 3},
                       headers=token_headers(moderator, "read"))
    assert PIL.Image.open(io.BytesIO(small.data)).width < PIL.Image.open(io.BytesIO(response.data)).width
    assert _decode_png(small.data) == ["http://localhost/c/api-png-1"]


def test_svg_is_a_download_that_decodes_to_the_code_url(client, moderator):
    code = make_code(make_device(make_template()), token="api-svg-1")
    response = client.get(f"/api/v1/codes/{code.id}/qr.svg", headers=token_headers(moderator, "read"))
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"
    assert response.headers["Content-Disposition"] == f'attachment; filename="code-{code.id}.svg"'
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert b"<script" not in response.data and b"<html" not in response.data
    assert _decode_svg(response.data) == ["http://localhost/c/api-svg-1"]


@pytest.mark.parametrize("role", [Role.MEMBER])
def test_member_reaches_no_code(client, role):
    code = make_code(make_device(make_template()))
    headers = token_headers(make_employee(role=role))
    for method, url, body in [
        ("get", "/api/v1/codes", None),
        ("get", f"/api/v1/codes/{code.id}", None),
        ("get", f"/api/v1/codes/{code.id}/qr.png", None),
        ("get", f"/api/v1/codes/{code.id}/qr.svg", None),
        ("post", "/api/v1/codes", {"count": 1}),
        ("patch", f"/api/v1/codes/{code.id}", {"enabled": False}),
        ("put", f"/api/v1/codes/{code.id}/pin", {"pin": "1234"}),
        ("delete", f"/api/v1/codes/{code.id}/pin", None),
        ("post", f"/api/v1/codes/{code.id}/logout", None),
    ]:
        body = assert_problem(getattr(client, method)(url, headers=headers, json=body), 403)
        assert code.token not in str(body)
    db.session.refresh(code)
    assert code.enabled and not code.has_pin and _count() == 1


def test_read_scope_cannot_write(client, moderator):
    code = make_code(make_device(make_template()))
    headers = token_headers(moderator, "read")
    assert_problem(client.patch(f"/api/v1/codes/{code.id}", headers=headers, json={"enabled": False}), 403)
    assert_problem(client.put(f"/api/v1/codes/{code.id}/pin", headers=headers, json={"pin": "1234"}), 403)
    assert_problem(client.post("/api/v1/codes", headers=headers, json={"count": 1}), 403)
    db.session.refresh(code)
    assert code.enabled and not code.has_pin and _count() == 1


def test_unknown_code_is_404(client, moderator):
    assert_problem(client.get("/api/v1/codes/999/qr.svg", headers=token_headers(moderator, "read")), 404)
