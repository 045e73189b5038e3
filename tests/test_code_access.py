"""Code-user identity: signed cookie, code sessions, PIN, enabling, the epoch that logs code users out."""
import pytest

from app.enums import Role
from app.extensions import db
from app.identity import read_code_user_key, sign_code_user_key, valid_device_ids
from app.models import CodeUser
from app.services import code_access
from app.services.errors import NotAllowed, NotFound, ValidationError
from tests.factories import make_code, make_device, make_employee, make_template

RUN_ON_POSTGRES = True


@pytest.fixture
def device(app):
    """A device of a fresh template."""
    return make_device(make_template())


@pytest.fixture
def code_user(app):
    """An anonymous browser."""
    user = CodeUser(key="browser-key")
    db.session.add(user)
    db.session.commit()
    return user


def test_cookie_is_signed_and_tampering_is_detected(app):
    with app.test_request_context():
        value = sign_code_user_key("abc")
        assert read_code_user_key(value) == "abc"
        assert read_code_user_key(value[:-2] + "xx") is None
        assert read_code_user_key("abc") is None


def test_code_without_pin_grants_access_at_once(device, code_user):
    code = make_code(device)
    code_access.open_code_session(code, code_user)
    assert valid_device_ids(code_user) == {device.id}


def test_pin_must_match(device, code_user):
    code = make_code(device, pin="4711")
    with pytest.raises(ValidationError, match="PIN"):
        code_access.open_code_session(code, code_user, pin="1234")
    assert valid_device_ids(code_user) == set()
    code_access.open_code_session(code, code_user, pin=" 4711 ")
    assert valid_device_ids(code_user) == {device.id}


def test_logout_code_users_bumps_the_epoch_and_ends_access(device, code_user):
    moderator = make_employee(Role.MODERATOR)
    code = make_code(device)
    code_access.open_code_session(code, code_user)
    code_access.logout_code_users(code, actor=moderator)
    assert valid_device_ids(code_user) == set()
    code_access.open_code_session(code, code_user)
    assert valid_device_ids(code_user) == {device.id}


def test_disabled_code_ends_access_and_is_not_found(device, code_user):
    moderator = make_employee(Role.MODERATOR)
    code = make_code(device)
    code_access.open_code_session(code, code_user)
    code_access.set_code_enabled(code, False, actor=moderator)
    assert valid_device_ids(code_user) == set()
    assert code_access.find_usable_code(code.token) is None
    with pytest.raises(NotFound):
        code_access.open_code_session(code, code_user)


def test_members_cannot_log_code_users_out(device):
    code = make_code(device)
    with pytest.raises(NotAllowed):
        code_access.logout_code_users(code, actor=make_employee(Role.MEMBER))


def test_unpaired_or_unknown_codes_are_not_usable(app):
    assert code_access.find_usable_code("nope") is None
    assert code_access.find_usable_code("") is None
    code = make_code(None)
    assert code_access.find_usable_code(code.token) is None
