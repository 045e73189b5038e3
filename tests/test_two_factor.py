"""Two-factor sign-in: set-up with a QR code and recovery codes, the code step after the password, codes that
work once, turning it off, and the organisation requiring it per role."""
import re

import pyotp
import pytest

from app import identity
from app.enums import Role
from app.extensions import db
from app.models import Organisation, RecoveryCode
from app.services import two_factor
from app.services.errors import ValidationError
from tests.factories import PASSWORD, make_employee

pytestmark = pytest.mark.usefixtures("english")
START = 1_800_000_000  # a moment on the 30 s grid


@pytest.fixture
def clock(monkeypatch):
    """One clock for the TOTP checks and the sign-in steps, moved by the test."""
    now = {"t": START}
    monkeypatch.setattr(two_factor, "clock", lambda: now["t"])
    monkeypatch.setattr(identity, "clock", lambda: now["t"])
    return now


def code_at(secret, t):
    """The authenticator app's code at time t."""
    return pyotp.TOTP(secret).at(t)


def set_up(client, login, employee, clock):
    """Set up two-factor sign-in through the pages; returns (secret, recovery codes)."""
    login(employee)
    page = client.get("/account/two-factor")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    secret = re.search(r'data-testid="totp-secret">([A-Z2-7]+)<', html).group(1)
    assert 'src="data:image/png;base64,' in html and 'data-testid="totp-code"' in html and 'data-testid="totp-submit"' in html
    assert 'href="otpauth://totp/' in html and f"secret={secret}" in html  # a phone opens its own authenticator app
    done = client.post("/account/two-factor", data={"code": code_at(secret, clock["t"])})
    assert done.status_code == 200, done.data[:400]
    codes = re.findall(r'data-testid="recovery-code">([a-z0-9-]+)<', done.get_data(as_text=True))
    assert len(codes) == 10 and len(set(codes)) == 10
    client.post("/logout")
    return secret, codes


def password_step(client, employee, remember=False):
    """Submit the password form; the code step follows on the same URL."""
    response = client.post("/login", data={"email": employee.email, "password": PASSWORD, "remember": "y" if remember else ""})
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    return response


def code_step(client, code):
    return client.post("/login", data={"code": code})


def test_set_up_shows_secret_and_qr_and_stores_only_hashes(app, client, login, clock):
    anna = make_employee(language="en")
    secret, codes = set_up(client, login, anna, clock)
    assert anna.totp_secret == secret and anna.has_two_factor
    stored = db.session.scalars(db.select(RecoveryCode).filter_by(employee_id=anna.id)).all()
    assert len(stored) == 10 and not any(code in row.code_hash or code.replace("-", "") in row.code_hash
                                         for row in stored for code in codes)
    assert all(row.code_hash.count("$") == 1 for row in stored)
    assert len({row.code_hash.split("$")[0] for row in stored}) == 10  # a salt per code


def test_set_up_keeps_the_secret_across_reloads_and_refuses_a_wrong_code(app, client, login, clock):
    anna = make_employee(language="en")
    login(anna)
    first = client.get("/account/two-factor").get_data(as_text=True)
    again = client.get("/account/two-factor").get_data(as_text=True)
    secret = re.search(r'data-testid="totp-secret">([A-Z2-7]+)<', first).group(1)
    assert secret in again
    wrong = client.post("/account/two-factor", data={"code": "000000" if code_at(secret, START) != "000000" else "111111"})
    assert wrong.status_code == 422 and b"The code is wrong" in wrong.data and secret.encode() in wrong.data
    assert not anna.has_two_factor


def test_sign_in_asks_for_the_code_after_the_password(app, client, login, clock):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"  # not signed in yet: the browser's language
    anna = make_employee(language="en")
    secret, _codes = set_up(client, login, anna, clock)
    password_step(client, anna)
    assert client.get("/").status_code == 302  # not signed in yet
    page = client.get("/login")
    assert b'data-testid="totp-code"' in page.data and b'data-testid="totp-submit"' in page.data
    clock["t"] += 60
    wrong = code_step(client, "123456" if code_at(secret, clock["t"]) != "123456" else "654321")
    assert wrong.status_code == 401 and b"The code is wrong or was used already" in wrong.data
    assert client.get("/").status_code == 302
    assert code_step(client, code_at(secret, clock["t"])).status_code == 302
    assert client.get("/").status_code == 200


def test_a_code_is_not_accepted_twice_in_its_window(app, client, login, clock):
    anna = make_employee(language="en")
    secret, _codes = set_up(client, login, anna, clock)
    clock["t"] += 90
    code = code_at(secret, clock["t"])
    password_step(client, anna)
    assert code_step(client, code).status_code == 302
    client.post("/logout")
    clock["t"] += 5
    password_step(client, anna)
    assert code_step(client, code).status_code == 401
    earlier = code_at(secret, clock["t"] - 30)  # the step before the used one: also spent
    assert code_step(client, earlier).status_code == 401
    clock["t"] += 30
    assert code_step(client, code_at(secret, clock["t"])).status_code == 302


def test_the_set_up_code_cannot_sign_in(app, client, login, clock):
    anna = make_employee(language="en")
    secret, _codes = set_up(client, login, anna, clock)
    password_step(client, anna)
    assert code_step(client, code_at(secret, START)).status_code == 401


def test_a_recovery_code_works_once_and_only_once(app, client, login, clock):
    anna = make_employee(language="en")
    _secret, codes = set_up(client, login, anna, clock)
    password_step(client, anna)
    signed_in = code_step(client, codes[3].upper().replace("-", " "))
    assert signed_in.status_code == 302
    assert b"9 are left" in client.get("/").data
    client.post("/logout")
    password_step(client, anna)
    again = code_step(client, codes[3])
    assert again.status_code == 401
    assert code_step(client, codes[4]).status_code == 302
    assert two_factor.recovery_codes_left(anna) == 8


def test_the_code_step_expires_and_can_be_restarted(app, client, login, clock):
    anna = make_employee(language="en")
    secret, _codes = set_up(client, login, anna, clock)
    password_step(client, anna)
    restarted = client.post("/login", data={"restart": "1"})
    assert restarted.status_code == 302 and b"login-password" in client.get("/login").data
    password_step(client, anna)
    clock["t"] += 301
    late = code_step(client, code_at(secret, clock["t"]))
    assert late.status_code == 302 and client.get("/").status_code == 302


def test_stay_logged_in_survives_the_code_step(app, client, login, clock):
    anna = make_employee(language="en")
    secret, _codes = set_up(client, login, anna, clock)
    clock["t"] += 60
    password_step(client, anna, remember=True)
    code_step(client, code_at(secret, clock["t"]))
    assert client.get_cookie("remember_token") is not None


@pytest.mark.parametrize("app", [{"LOGIN_FREE_FAILURES": 3}], indirect=True)
def test_wrong_codes_count_against_the_account(app, client, login, clock):
    anna = make_employee(language="en")
    secret, _codes = set_up(client, login, anna, clock)
    clock["t"] += 60
    password_step(client, anna)
    for _attempt in range(3):
        assert code_step(client, "999999" if code_at(secret, clock["t"]) != "999999" else "888888").status_code == 401
    assert code_step(client, code_at(secret, clock["t"])).status_code == 429
    # The account waits in every browser, the password step included.
    assert app.test_client().post("/login", data={"email": anna.email, "password": PASSWORD}).status_code == 429


def test_turning_it_off_needs_the_password_or_a_current_code(app, client, login, clock):
    anna = make_employee(language="en")
    set_up(client, login, anna, clock)
    login(anna)
    refused = client.post("/account/two-factor/off", data={"password": "wrong-password"})
    assert refused.status_code == 422 and anna.has_two_factor
    empty = client.post("/account/two-factor/off", data={})
    assert empty.status_code == 422 and b"password or a current code" in empty.data
    off = client.post("/account/two-factor/off", data={"password": PASSWORD})
    assert off.status_code == 302 and not anna.has_two_factor and anna.recovery_codes == []
    assert b'data-enabled="false"' in client.get("/account/two-factor").data
    client.post("/logout")
    assert client.post("/login", data={"email": anna.email, "password": PASSWORD}).headers["Location"] == "/"


def test_turning_it_off_with_a_current_code(app, client, login, clock):
    anna = make_employee(language="en")
    secret, _codes = set_up(client, login, anna, clock)
    login(anna)
    clock["t"] += 60
    assert client.post("/account/two-factor/off", data={"code": code_at(secret, clock["t"])}).status_code == 302
    assert not anna.has_two_factor


def test_only_the_employee_changes_their_two_factor(app, clock):
    anna, admin = make_employee(), make_employee(Role.ADMIN)
    secret = two_factor.new_secret()
    from app.services.errors import NotAllowed

    with pytest.raises(NotAllowed):
        two_factor.enable(anna, secret=secret, code=code_at(secret, START), actor=admin)
    with pytest.raises(ValidationError):
        two_factor.enable(anna, secret=secret, code="12345", actor=anna)
    assert len(two_factor.enable(anna, secret=secret, code=code_at(secret, START), actor=anna)) == 10
    with pytest.raises(NotAllowed):
        two_factor.disable(anna, password=PASSWORD, actor=admin)


def test_the_pages_need_a_login(app, client):
    assert client.get("/account/two-factor").status_code == 302
    assert client.post("/account/two-factor/off").status_code == 302


# Required by the organisation ------------------------------------------------------------------------------------


def require_roles(*names):
    org = Organisation.current()
    org.two_factor_roles = list(names)
    db.session.commit()


def test_a_required_employee_is_sent_to_set_up_before_any_other_page(app, client, login, clock):
    require_roles("MEMBER")
    anna, boss = make_employee(Role.MEMBER), make_employee(Role.ADMIN)
    assert client.post("/login", data={"email": anna.email, "password": PASSWORD}).status_code == 302
    for path in ("/", "/tickets", "/settings/notifications", "/admin/organisation"):
        response = client.get(path)
        assert response.status_code == 302 and response.headers["Location"] == "/account/two-factor", path
    fragment = client.get("/tickets", headers={"HX-Request": "true"})
    assert fragment.status_code == 401 and fragment.headers["HX-Redirect"] == "/account/two-factor"
    page = client.get("/account/two-factor")
    assert page.status_code == 200 and b'data-testid="two-factor-required"' in page.data
    secret = re.search(rb'data-testid="totp-secret">([A-Z2-7]+)<', page.data).group(1).decode()
    assert client.post("/account/two-factor", data={"code": code_at(secret, clock["t"])}).status_code == 200
    assert client.get("/").status_code == 200
    other = app.test_client()
    login(boss, other)
    assert other.get("/").status_code == 200  # administrators were not required


def test_an_administrator_requires_two_factor_per_role_in_the_settings(app, client, login):
    admin = make_employee(Role.ADMIN)
    login(admin)
    page = client.get("/admin/organisation")
    assert page.data.count(b'data-testid="org-two-factor-role"') == 3
    saved = client.post("/admin/organisation", data={"name": "Service", "autoclose_days": "14",
                                                     "two_factor_roles": ["MEMBER", "MODERATOR"]})
    assert saved.status_code == 302
    assert Organisation.current().two_factor_roles == ["MEMBER", "MODERATOR"]
    assert client.get("/").status_code == 200
    bad = client.post("/admin/organisation", data={"name": "Service", "autoclose_days": "14", "two_factor_roles": ["BOSS"]})
    assert bad.status_code == 422
    everyone = client.post("/admin/organisation", data={"name": "Service", "autoclose_days": "14",
                                                        "two_factor_roles": ["ADMIN", "MEMBER", "MODERATOR"]})
    assert everyone.status_code == 302 and Organisation.current().two_factor_roles == ["MEMBER", "MODERATOR", "ADMIN"]
    assert client.get("/").headers["Location"] == "/account/two-factor"


def test_every_two_factor_change_and_sign_in_lands_in_the_security_log(app, client, login, clock):
    import sqlalchemy as sa

    from app.enums import AuditKind
    from app.extensions import db
    from app.models import AuditEvent

    anna = make_employee(language="en")
    secret, codes = set_up(client, login, anna, clock)  # enables, then logs out (ends her sessions)
    password_step(client, anna)
    assert code_step(client, "000000" if code_at(secret, clock["t"]) != "000000" else "111111").status_code == 401
    assert code_step(client, codes[0]).status_code == 302
    client.post("/account/two-factor/off", data={"password": PASSWORD})
    kinds = list(db.session.scalars(sa.select(AuditEvent.kind).where(AuditEvent.subject_id == anna.id).order_by(AuditEvent.id)))
    assert kinds == [
        AuditKind.TWO_FACTOR_ENABLED, AuditKind.SESSIONS_ENDED, AuditKind.SIGN_IN_SECOND_FACTOR_FAILED,
        AuditKind.RECOVERY_CODE_USED, AuditKind.SIGN_IN, AuditKind.TWO_FACTOR_DISABLED,
    ], kinds
