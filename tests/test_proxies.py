"""Real client addresses behind a proxy: FLASK_TRUSTED_PROXIES applies werkzeug's ProxyFix, else headers are ignored."""
import pytest

from app import create_app
from tests.conftest import base_config
from tests.factories import make_employee

STRICT = {"LOGIN_ADDRESS_RATE_LIMIT": "2 per minute"}


def _wrong_password(client, forwarded_for, proto="http"):
    """One wrong password from a client the proxy names in X-Forwarded-For; returns the status."""
    response = client.post(
        "/login",
        data={"email": "anna@example.com", "password": "wrong"},
        headers={"X-Forwarded-For": forwarded_for, "X-Forwarded-Proto": proto},
    )
    return response.status_code


@pytest.mark.parametrize("app", [{**STRICT, "TRUSTED_PROXIES": 1}], indirect=True)
def test_behind_one_proxy_each_client_has_its_own_limit(app):
    """Two clients that differ only in the address the proxy appended are counted apart."""
    make_employee(email="anna@example.com")
    first, second = app.test_client(), app.test_client()
    assert [_wrong_password(first, "203.0.113.1") for _ in range(3)] == [401, 401, 429]
    assert _wrong_password(second, "203.0.113.2") == 401
    # A client cannot escape its limit by sending its own X-Forwarded-For: the proxy appends the real address.
    assert _wrong_password(first, "198.51.100.9, 203.0.113.1") == 429


@pytest.mark.parametrize("app", [{**STRICT, "TRUSTED_PROXIES": 0}], indirect=True)
def test_without_trusted_proxies_a_forged_header_changes_nothing(app):
    """With no proxy trusted, X-Forwarded-For and -Proto are ignored: one address, one limit, plain HTTP."""
    make_employee(email="anna@example.com")
    client = app.test_client()
    assert [_wrong_password(client, f"203.0.113.{n}") for n in range(1, 4)] == [401, 401, 429]
    response = client.get("/login", headers={"X-Forwarded-Proto": "https", "X-Forwarded-Host": "evil.example"})
    assert "Strict-Transport-Security" not in response.headers
    assert 'action="/login' in response.get_data(as_text=True)


@pytest.mark.parametrize("app", [{"TRUSTED_PROXIES": 1}], indirect=True)
def test_the_proxys_scheme_and_host_count(app):
    """X-Forwarded-Proto https makes the request secure (HSTS), X-Forwarded-Host names the external host."""
    from flask import request

    seen = {}

    @app.get("/_probe")
    def probe():
        """What the app sees of the request."""
        seen.update(addr=request.remote_addr, secure=request.is_secure, host=request.host)
        return "ok"

    response = app.test_client().get(
        "/_probe",
        headers={"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https", "X-Forwarded-Host": "service.example"},
    )
    assert seen == {"addr": "203.0.113.7", "secure": True, "host": "service.example"}
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000"


def test_the_environment_variable_sets_the_number_of_proxies(tmp_path, monkeypatch):
    """FLASK_TRUSTED_PROXIES=1 (read as JSON like every FLASK_* variable) installs ProxyFix for one hop."""
    from werkzeug.middleware.proxy_fix import ProxyFix

    monkeypatch.setenv("FLASK_TRUSTED_PROXIES", "1")
    app = create_app(base_config(tmp_path, f"sqlite:///{tmp_path / 'env.sqlite'}"))
    assert isinstance(app.wsgi_app, ProxyFix) and (app.wsgi_app.x_for, app.wsgi_app.x_proto) == (1, 1)
    monkeypatch.setenv("FLASK_TRUSTED_PROXIES", "0")
    app = create_app(base_config(tmp_path, f"sqlite:///{tmp_path / 'env0.sqlite'}"))
    assert not isinstance(app.wsgi_app, ProxyFix)
