"""The employee's own account page: name and language, password change, two-factor status, signing out everywhere;
and an administrator signing an employee out everywhere."""
import pytest

from app.enums import Role
from tests.factories import PASSWORD, make_employee
from tests.test_sessions import SESSION_COOKIE, sign_in, signed_in

pytestmark = pytest.mark.usefixtures("english")


def test_the_account_page_shows_every_part_and_the_header_links_to_it(app, client, login):
    anna = make_employee(name="Anna Berg")
    login(anna)
    page = client.get("/account")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for hook in ("account-name", "account-language", "password-current", "password-new", "password-repeat",
                 "nav-two-factor", "sign-out-everywhere", "account-notification-settings", "nav-account",
                 "account-time-zone"):
        assert f'data-testid="{hook}"' in html, hook
    assert "Anna Berg" in html and 'data-enabled="false"' in html and 'href="/settings/notifications"' in html
    assert 'name="time_zone"' in html and "Wie die Organisation (Europe/Berlin)" in html
    for path in ("/", "/tickets", "/settings/notifications", "/account/two-factor"):
        assert b'data-testid="nav-account"' in client.get(path).data, path


def test_the_header_links_to_the_account_on_administration_pages(app, client, login):
    login(make_employee(Role.ADMIN))
    for path in ("/admin/employees", "/admin/organisation", "/admin/devices"):
        assert b'data-testid="nav-account"' in client.get(path).data, path


def test_the_account_page_needs_a_login(client):
    for path in ("/account", "/account/two-factor"):
        response = client.get(path)
        assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert client.post("/account/sign-out-everywhere").status_code == 302


def test_name_and_language_are_saved(app, client, login):
    anna = make_employee(name="Anna", language="de")
    login(anna)
    saved = client.post("/account", data={"name": "  Anna Berg ", "language": "en"})
    assert b'<html lang="en"' in client.get("/account").data
    assert saved.status_code == 302 and saved.headers["Location"] == "/account"
    assert (anna.name, anna.language) == ("Anna Berg", "en")
    refused = client.post("/account", data={"name": "", "language": "en"})
    assert refused.status_code == 422 and b"Please enter a name" in refused.data
    odd = client.post("/account", data={"name": "Anna", "language": "fr"})
    assert odd.status_code == 422 and anna.language == "en"


def test_changing_the_password_keeps_this_browser_and_signs_out_every_other(app, client):
    anna = make_employee()
    old_session, old_remember = sign_in(client, anna)
    elsewhere = app.test_client()
    sign_in(elsewhere, anna)
    changed = client.post("/account/password", data={"current": PASSWORD, "password": "brand-new-secret",
                                                      "confirmation": "brand-new-secret"})
    assert changed.status_code == 302 and changed.headers["Location"] == "/account"
    assert client.get("/account").status_code == 200
    assert elsewhere.get("/").status_code == 302
    assert not signed_in(app, SESSION_COOKIE, old_session) and not signed_in(app, "remember_token", old_remember)
    assert anna.check_password("brand-new-secret")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"current": "not-my-password", "password": "brand-new-secret", "confirmation": "brand-new-secret"},
         b"The current password is wrong."),
        ({"current": PASSWORD, "password": "brand-new-secret", "confirmation": "brand-new-secreT"},
         b"The two passwords differ."),
        ({"current": PASSWORD, "password": "short", "confirmation": "short"}, b"at least 8 characters"),
        ({"current": "", "password": "brand-new-secret", "confirmation": "brand-new-secret"},
         b"Please enter your current password."),
    ],
)
def test_a_refused_password_change_changes_nothing(app, client, login, data, message):
    anna = make_employee(language="en")
    login(anna)
    refused = client.post("/account/password", data=data)
    assert refused.status_code == 422 and message in refused.data
    assert anna.check_password(PASSWORD) and anna.session_generation == 0
    assert client.get("/account").status_code == 200


def test_sign_out_everywhere_ends_this_and_every_other_sign_in(app, client):
    anna = make_employee()
    old_session, old_remember = sign_in(client, anna)
    elsewhere = app.test_client()
    sign_in(elsewhere, anna)
    response = client.post("/account/sign-out-everywhere")
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert client.get("/").status_code == 302 and elsewhere.get("/").status_code == 302
    assert not signed_in(app, SESSION_COOKIE, old_session) and not signed_in(app, "remember_token", old_remember)


def test_an_administrator_signs_an_employee_out_everywhere(app, client, login):
    admin, anna = make_employee(Role.ADMIN), make_employee()
    anna_browser = app.test_client()
    anna_session, _ = sign_in(anna_browser, anna)
    login(admin)
    page = client.get(f"/admin/employees/{anna.id}")
    assert b'data-testid="employee-sign-out-everywhere"' in page.data
    response = client.post(f"/admin/employees/{anna.id}/sign-out")
    assert response.status_code == 302 and response.headers["Location"] == f"/admin/employees/{anna.id}"
    assert anna_browser.get("/").status_code == 302 and not signed_in(app, SESSION_COOKIE, anna_session)
    assert client.get("/").status_code == 200  # the administrator stays


@pytest.mark.parametrize("role", [Role.MEMBER, Role.MODERATOR])
def test_only_administrators_sign_others_out(app, client, login, role):
    anna = make_employee()
    anna_session, _ = sign_in(app.test_client(), anna)
    login(make_employee(role))
    assert client.post(f"/admin/employees/{anna.id}/sign-out").status_code == 403
    assert signed_in(app, SESSION_COOKIE, anna_session)
