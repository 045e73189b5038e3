"""Staff login: hashed passwords, rate limit, deactivated accounts, logout, CSRF, create-admin."""
import pytest
import sqlalchemy as sa

from app.enums import Role
from app.extensions import db
from app.models import Employee
from tests.factories import PASSWORD, make_employee


def post_login(client, email, password):
    """Submit the login form."""
    return client.post("/login", data={"email": email, "password": password})


def test_login_page_renders_with_hooks(client):
    response = client.get("/login", headers={"Accept-Language": "de"})
    assert response.status_code == 200
    for hook in ("login-email", "login-password", "login-submit"):
        assert f'data-testid="{hook}"'.encode() in response.data
    assert b"Anmelden" in response.data or b"Log in" in response.data


def test_employee_logs_in_and_out(client):
    anna = make_employee(email="anna@example.com")
    response = post_login(client, "ANNA@example.com ", PASSWORD)
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert client.get("/").status_code == 200
    assert client.post("/logout").status_code == 302
    assert client.get("/").status_code == 302
    assert anna.password_hash != PASSWORD and anna.password_hash.startswith("scrypt")


def test_wrong_password_is_refused_with_a_message(client):
    make_employee(email="anna@example.com")
    response = post_login(client, "anna@example.com", "nope")
    assert response.status_code == 401
    assert b"wrong" in response.data or b"falsch" in response.data


def test_deactivated_employee_cannot_log_in_and_is_logged_out(client, login):
    ben = make_employee(email="ben@example.com", active=False)
    assert post_login(client, "ben@example.com", PASSWORD).status_code == 401
    login(ben)
    assert client.get("/").status_code == 302


def test_login_redirects_only_to_local_targets(client):
    make_employee(email="anna@example.com")
    response = client.post("/login?next=//evil.example/x", data={"email": "anna@example.com", "password": PASSWORD})
    assert response.headers["Location"] == "/"


@pytest.mark.parametrize("app", [{"LOGIN_FREE_FAILURES": 3}], indirect=True)
def test_repeated_wrong_passwords_make_the_account_wait(client):
    make_employee(email="anna@example.com")
    for _ in range(3):
        assert post_login(client, "anna@example.com", "wrong").status_code == 401
    response = post_login(client, "anna@example.com", PASSWORD)
    assert response.status_code == 429
    assert b"30 seconds" in response.data or b"30 Sekunden" in response.data
    assert response.headers["Retry-After"] == "30"


@pytest.mark.parametrize("app", [{"WTF_CSRF_ENABLED": True}], indirect=True)
def test_login_without_csrf_token_is_refused(client):
    make_employee(email="anna@example.com")
    response = post_login(client, "anna@example.com", PASSWORD)
    assert response.status_code == 400
    assert client.get("/").status_code == 302


@pytest.mark.parametrize("app", [{"SESSION_COOKIE_SECURE": True}], indirect=True)
def test_session_cookie_is_secure_and_http_only(client):
    make_employee(email="anna@example.com")
    response = post_login(client, "anna@example.com", PASSWORD)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "Secure" in cookie and "SameSite=Lax" in cookie


def test_create_admin_command(app):
    from flask_babel import force_locale

    with force_locale("en"):
        _check_create_admin(app)


def _check_create_admin(app):
    """Create an admin, then refuse a duplicate and a short password."""
    runner = app.test_cli_runner()
    result = runner.invoke(args=["create-admin", "--email", "Boss@Example.com", "--name", "Boss", "--password", "long-enough-pw"])
    assert result.exit_code == 0, result.output
    boss = db.session.scalar(sa.select(Employee).filter_by(email="boss@example.com"))
    assert boss.role == Role.ADMIN and boss.check_password("long-enough-pw")
    again = runner.invoke(args=["create-admin", "--email", "boss@example.com", "--password", "long-enough-pw"])
    assert again.exit_code != 0 and "already exists" in again.output
    short = runner.invoke(args=["create-admin", "--email", "x@example.com", "--password", "short"])
    assert short.exit_code != 0 and "at least 8" in short.output


def test_language_switch_changes_the_ui(client):
    client.post("/language", data={"language": "en", "next": "/login"})
    assert b"Log in" in client.get("/login").data
    client.post("/language", data={"language": "de", "next": "/login"})
    assert b"Anmelden" in client.get("/login").data


def test_the_footer_offers_the_other_language_in_that_language(client):
    html = client.get("/login", headers={"Accept-Language": "de"}).get_data(as_text=True)
    assert 'name="language" value="en" lang="en">English</button>' in html and "<select" not in html.split("<footer")[1]
    client.post("/language", data={"language": "en", "next": "/login"})
    assert 'value="de" lang="de">Deutsch</button>' in client.get("/login").get_data(as_text=True)


def test_an_employees_language_is_kept_on_the_account_for_every_device(app, client):
    anna = make_employee(email="anna@example.com", language="de")
    post_login(client, "anna@example.com", PASSWORD)
    client.post("/language", data={"language": "en", "next": "/"})
    db.session.expire_all()
    assert db.session.get(Employee, anna.id).language == "en"
    other_device = app.test_client()
    post_login(other_device, "anna@example.com", PASSWORD)
    assert b"Log out" in other_device.get("/", headers={"Accept-Language": "de"}).data


def test_every_back_office_page_offers_the_account_and_sign_out(demo, client, login):
    from app.services.offers import employee_by_email

    login(employee_by_email("admin@example.com"))
    for url in ("/", "/tickets", "/admin/devices", "/notifications", "/account"):
        html = client.get(url).get_data(as_text=True)
        assert 'data-testid="logout"' in html and 'data-testid="nav-account"' in html, url
