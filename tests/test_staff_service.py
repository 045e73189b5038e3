"""Employees, invitations, teams: last-admin protection, deactivation, one-time set-password links."""
import pytest
from flask import g

from app.enums import GroupKind, Role
from app.extensions import db
from app.services import staff
from app.services.errors import NotAllowed, ValidationError
from tests.factories import make_employee, make_template


@pytest.fixture
def admin(app):
    return make_employee(role=Role.ADMIN, email="chef@example.com")


def test_only_admins_manage_employees(app):
    moderator = make_employee(role=Role.MODERATOR)
    with pytest.raises(NotAllowed):
        staff.create_employee(name="X", email="x@example.com", actor=moderator)


def test_the_last_active_admin_cannot_be_demoted_or_deactivated(admin):
    with pytest.raises(ValidationError) as error:
        staff.update_employee(admin, name=admin.name, email=admin.email, role="member", language="de", active=True,
                              actor=admin)
    assert error.value.field == "role"
    db.session.rollback()
    with pytest.raises(ValidationError):
        staff.set_employee_active(admin, False, actor=admin)
    db.session.rollback()
    other = staff.create_employee(name="Zweite", email="zweite@example.com", role="admin", password="geheim123",
                                  actor=admin)
    staff.update_employee(admin, name=admin.name, email=admin.email, role="moderator", language="en", active=True,
                          actor=other)
    assert admin.role == Role.MODERATOR and admin.language == "en"


def test_create_validates_and_deactivated_employees_get_no_offers(admin):
    with pytest.raises(ValidationError) as error:
        staff.create_employee(name="X", email="kaputt", actor=admin)
    assert error.value.field == "email"
    with pytest.raises(ValidationError) as error:
        staff.create_employee(name="X", email="x@example.com", role="boss", actor=admin)
    assert error.value.field == "role"
    with pytest.raises(ValidationError) as error:
        staff.create_employee(name="X", email="x@example.com", password="kurz", actor=admin)
    assert error.value.field == "password"
    db.session.rollback()
    carla = staff.create_employee(name="Carla", email="Carla@Example.com", actor=admin)
    assert carla.email == "carla@example.com" and carla.password_hash is None
    template = make_template(fleet=[carla])
    staff.set_employee_active(carla, False, actor=admin)
    assert template.default_group(GroupKind.FLEET).all_employees() == []


def test_invitation_link_sets_the_password_once(app, admin):
    carla = staff.create_employee(name="Carla", email="carla@example.com", actor=admin)
    with app.test_request_context():
        link, sent = staff.invite(carla, actor=admin)
    assert not sent and link.startswith("http://localhost/invite/")
    token = link.rsplit("/", 1)[1]
    assert staff.employee_for_invitation(token) == carla
    assert staff.employee_for_invitation(token + "x") is None
    with pytest.raises(ValidationError):
        staff.accept_invitation(carla, "geheim123", "anders123")
    staff.accept_invitation(carla, "geheim123", "geheim123")
    assert carla.check_password("geheim123")
    assert staff.employee_for_invitation(token) is None


def test_invitation_page(app, client, admin):
    carla = staff.create_employee(name="Carla", email="carla@example.com", actor=admin)
    with app.test_request_context():
        token = staff.invitation_token(carla)
    assert client.get("/invite/nonsense").status_code == 404
    assert client.post(f"/invite/{token}", data={"password": "kurz", "confirmation": "kurz"}).status_code == 422
    response = client.post(f"/invite/{token}", data={"password": "geheim123", "confirmation": "geheim123"})
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert client.get(f"/invite/{token}").status_code == 404


def test_invitation_mail_goes_out_when_smtp_is_configured(app, admin, monkeypatch):
    sent = []
    monkeypatch.setitem(app.config, "MAIL_SERVER", "smtp.example.com")
    monkeypatch.setattr(staff, "send_invitation_mail", lambda employee, link: sent.append((employee.email, link)))
    carla = staff.create_employee(name="Carla", email="carla@example.com", actor=admin)
    with app.test_request_context():
        link, delivered = staff.invite(carla, actor=admin)
    assert delivered and sent == [("carla@example.com", link)]


def test_teams(admin):
    anna = make_employee(name="Anna")
    team = staff.save_team(None, name="Außendienst", member_ids=[str(anna.id), "x"], actor=admin)
    assert team.members == [anna]
    with pytest.raises(ValidationError):
        staff.save_team(None, name="Außendienst", actor=admin)
    staff.delete_team(team, actor=admin)
    assert anna.teams == []


def test_employee_forms(app, client, login, admin):
    g.pop("_login_user", None)
    login(admin)
    response = client.post("/admin/employees/new", data={"name": "", "email": "x@example.com", "role": "member",
                                                          "language": "de", "mode": "invite"})
    assert response.status_code == 422 and 'class="error"' in response.get_data(as_text=True)
    response = client.post("/admin/employees/new", data={"name": "Dora", "email": "dora@example.com", "role": "member",
                                                          "language": "de", "mode": "invite"})
    assert response.status_code == 200 and 'data-testid="invitation-link"' in response.get_data(as_text=True)
    response = client.post(f"/admin/employees/{admin.id}", data={"name": admin.name, "email": admin.email,
                                                                 "role": "member", "language": "de", "active": "on"})
    assert response.status_code == 422
    db.session.refresh(admin)
    assert admin.role == Role.ADMIN
