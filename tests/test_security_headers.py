"""Every kind of answer carries the security headers: CSP with connect-src 'self' (no blanket ws:/wss:), and
HSTS exactly when the request came over HTTPS (directly, or as the trusted proxy tells through ProxyFix)."""
import pytest

from app.enums import Role, Visibility
from app.services import tickets as ticket_service
from app.services import uploads
from tests.factories import make_employee, make_ticket
from tests.test_files import PDF, file_storage

HSTS = "max-age=31536000"


@pytest.fixture
def pages(demo, login, client):
    """One URL per kind of answer, with the logged-in admin's client: (url, extra headers) by kind."""
    import sqlalchemy as sa

    from app.extensions import db
    from app.models import Code, Flow

    admin = make_employee(role=Role.ADMIN)
    code = db.session.scalar(sa.select(Code).filter_by(token="demo-press"))
    flow = db.session.scalar(sa.select(Flow).filter_by(template_id=code.device.template_id, active=True))
    ticket = make_ticket(flow, code.device, admin, visibility=Visibility.PUBLIC)
    stored = uploads.store_uploads([file_storage("manual.pdf", PDF)], ticket=ticket, actor=admin)
    ticket_service.post_update(ticket, "", Visibility.PUBLIC, actor=admin, attachments=stored)
    login(admin)
    return {
        "HTML page": (f"/tickets/{ticket.id}", {}),
        "fragment": (f"/tickets/{ticket.id}/messages", {"HX-Request": "true"}),
        "JSON": ("/push/key", {}),
        "static file": ("/static/css/app.css", {}),
        "file download": (f"/files/{stored[0].id}", {}),
        "not found": ("/no-such-page", {}),
    }


def _get(client, url, headers, https):
    """GET `url` over HTTP or HTTPS; the body is read and the stream closed."""
    base = "https://localhost" if https else "http://localhost"
    with client.get(url, base_url=base, headers=headers) as response:
        response.get_data()
    return response


def test_every_kind_of_answer_carries_the_headers(pages, client):
    """CSP, nosniff and framing rules always; HSTS over HTTPS only; connect-src without blanket ws:/wss:."""
    assert set(pages) == {"HTML page", "fragment", "JSON", "static file", "file download", "not found"}
    for kind, (url, headers) in pages.items():
        _check_kind(client, kind, url, headers)


def _check_kind(client, kind, url, headers):
    """The headers of one kind of answer, over HTTP and over HTTPS."""
    plain = _get(client, url, headers, https=False)
    secure = _get(client, url, headers, https=True)
    assert plain.status_code == secure.status_code == (404 if kind == "not found" else 200), kind
    for response in (plain, secure):
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        if kind == "static file":  # a script or style: the document headers would only cost bytes (app/security.py)
            assert "Content-Security-Policy" not in response.headers and "X-Frame-Options" not in response.headers
            continue
        csp = response.headers["Content-Security-Policy"]
        assert "ws:" not in csp and "wss:" not in csp, kind
        if kind == "file download":
            assert csp.startswith("sandbox")
        else:
            assert "connect-src 'self';" in csp and response.headers["X-Frame-Options"] == "DENY"
    assert "Strict-Transport-Security" not in plain.headers, kind
    assert secure.headers["Strict-Transport-Security"] == HSTS, kind


@pytest.mark.parametrize("app", [{"TRUSTED_PROXIES": 1}], indirect=True)
def test_hsts_behind_the_proxy_follows_x_forwarded_proto(app, client):
    """Behind Caddy or nginx the app itself speaks HTTP; the proxy's X-Forwarded-Proto decides."""
    assert client.get("/login", headers={"X-Forwarded-Proto": "https"}).headers["Strict-Transport-Security"] == HSTS
    assert "Strict-Transport-Security" not in client.get("/login", headers={"X-Forwarded-Proto": "http"}).headers
