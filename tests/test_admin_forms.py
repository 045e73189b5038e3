"""Administration forms: bad input re-renders with a clear message (422), good input saves and redirects."""
import io

import pytest
from flask import g
from PIL import Image

from app.enums import GroupKind, Role, StepType
from app.extensions import db
from app.models import (
    AssistantElement,
    Code,
    Customer,
    Device,
    Flow,
    Organisation,
    Team,
    Template,
)
from tests.factories import (
    make_device,
    make_employee,
    make_flow,
    make_template,
    make_ticket,
)


@pytest.fixture
def admin_client(app, client, login):
    g.pop("_login_user", None)
    admin = make_employee(role=Role.ADMIN)
    login(admin)
    client.admin = admin
    return client


def _png():
    data = io.BytesIO()
    Image.new("RGB", (20, 20), "blue").save(data, "PNG")
    data.seek(0)
    return data


def test_template_flow_step_forms(app, admin_client):
    response = admin_client.post("/admin/templates/new", data={"name": ""})
    assert response.status_code == 422 and 'aria-invalid="true"' in response.get_data(as_text=True)
    response = admin_client.post("/admin/templates/new", data={"name": "Presse", "ratings_enabled": "on"})
    template = db.session.scalar(db.select(Template).filter_by(name="Presse"))
    assert response.status_code == 302 and template.ratings_enabled
    assert admin_client.post(f"/admin/templates/{template.id}", data={"name": ""}).status_code == 422
    admin_client.post(f"/admin/templates/{template.id}", data={"name": "Presse 2"})
    assert template.name == "Presse 2" and not template.ratings_enabled

    assert admin_client.post(f"/admin/templates/{template.id}/flows/new", data={"title": ""}).status_code == 422
    admin_client.post(f"/admin/templates/{template.id}/flows/new", data={"title": "Störung"})
    flow = template.flows[0]
    response = admin_client.post(f"/admin/flows/{flow.id}/steps", data={"type": "single_choice", "question": "Wo?",
                                                                        "options": "nur eins"})
    assert response.status_code == 422 and "Wo?" in response.get_data(as_text=True)
    admin_client.post(f"/admin/flows/{flow.id}/steps", data={"type": "text_short", "question": "Was?", "is_title": "on",
                                                            "required": "on"})
    admin_client.post(f"/admin/flows/{flow.id}/steps", data={"type": "yes_no", "question": "Steht sie?"})
    assert [s.type for s in flow.steps] == [StepType.TEXT_SHORT, StepType.YES_NO]
    step = flow.steps[1]
    assert admin_client.post(f"/admin/steps/{step.id}", data={"type": "text_short", "question": "Titel",
                                                             "is_title": "on"}).status_code == 422
    admin_client.post(f"/admin/steps/{step.id}/move", data={"direction": "-1"})
    db.session.expire(flow, ["steps"])
    assert flow.steps[0].question == "Steht sie?"
    admin_client.post(f"/admin/flows/{flow.id}/active", data={"active": "on"})
    assert flow.active
    assert admin_client.get(f"/admin/flows/{flow.id}/preview").get_data(as_text=True).count('data-testid="preview-step"') == 2
    response = admin_client.post(f"/admin/flows/{flow.id}", data={"title": "Störung", "fleet_group_id": "999"})
    assert response.status_code == 422


def test_deleting_things_in_use_explains_itself(app, admin_client):
    template = make_template(fleet=[admin_client.admin])
    flow = make_flow(template)
    make_ticket(flow, make_device(template), admin_client.admin)
    response = admin_client.post(f"/admin/flows/{flow.id}/delete", follow_redirects=True)
    assert response.status_code == 200 and db.session.get(Flow, flow.id) is not None and not flow.active
    assert 'class="flash-info"' in response.get_data(as_text=True)
    admin_client.post(f"/admin/templates/{template.id}/delete")
    assert db.session.get(Template, template.id).archived


def test_groups_and_assistant_forms(app, admin_client):
    template = make_template()
    carla = make_employee(name="Carla")
    team = Team(name="Kälte")
    db.session.add(team)
    db.session.commit()
    assert admin_client.post(f"/admin/templates/{template.id}/groups/new", data={"kind": "notify", "name": ""}).status_code == 422
    admin_client.post(f"/admin/templates/{template.id}/groups/new",
                      data={"kind": "notify", "name": "Büro", "employee_ids": [str(carla.id)], "team_ids": [str(team.id)]})
    notify = template.default_group(GroupKind.NOTIFY)
    assert notify.employees == [carla] and notify.teams == [team]
    assert admin_client.post(f"/admin/templates/{template.id}/assistant", data={"title": ""}).status_code == 422
    admin_client.post(f"/admin/templates/{template.id}/assistant", data={"title": "Start", "body": "**Hallo**"})
    element = db.session.scalar(db.select(AssistantElement).filter_by(template_id=template.id))
    response = admin_client.post(f"/admin/elements/{element.id}/buttons", data={"label": "Los", "target": "flow"})
    assert response.status_code == 422
    admin_client.post(f"/admin/elements/{element.id}/buttons", data={"label": "Hilfe", "target": "url",
                                                                    "url": "https://example.com/hilfe"})
    assert [b.url for b in element.buttons] == ["https://example.com/hilfe"]
    assert "<strong>Hallo</strong>" in admin_client.get(f"/admin/elements/{element.id}/preview").get_data(as_text=True)


def test_device_customer_code_forms(app, admin_client):
    template = make_template()
    assert admin_client.post("/admin/customers/new", data={"name": "", "kind": "company"}).status_code == 422
    admin_client.post("/admin/customers/new", data={"name": "Muster GmbH", "kind": "company"})
    customer = db.session.scalar(db.select(Customer))
    response = admin_client.post("/admin/devices/new", data={"template_id": template.id, "name": "P1",
                                                             "picture": (io.BytesIO(b"not an image"), "x.png")},
                                 content_type="multipart/form-data")
    assert response.status_code == 422
    admin_client.post("/admin/devices/new", data={"template_id": template.id, "customer_id": customer.id, "name": "P1",
                                                  "picture": (_png(), "p.png")}, content_type="multipart/form-data")
    device = db.session.scalar(db.select(Device))
    assert device.customer == customer and device.picture_name
    picture = admin_client.get(f"/admin/devices/{device.id}/picture")
    assert picture.status_code == 200 and picture.mimetype == "image/jpeg"
    picture.close()
    admin_client.post("/admin/codes", data={"count": "1", "device_id": device.id})
    code = db.session.scalar(db.select(Code))
    assert code.device == device
    admin_client.post(f"/admin/codes/{code.id}/pair", data={"device_id": ""})
    assert code.device is None
    admin_client.post(f"/admin/devices/{device.id}/archive", data={"archived": "on"})
    assert device.archived


def test_a_refused_form_says_that_its_chosen_picture_was_not_kept(app, admin_client):
    template = make_template()
    response = admin_client.post("/admin/devices/new", data={"template_id": template.id, "name": "",
                                                             "picture": (_png(), "Typenschild-Halle-3.png")},
                                 content_type="multipart/form-data")
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and db.session.scalar(db.select(Device)) is None
    assert "Typenschild-Halle-3.png" in html and "nicht gespeichert" in html
    bad_picture = admin_client.post("/admin/devices/new", data={"template_id": template.id, "name": "P1",
                                                                "picture": (io.BytesIO(b"not an image"), "x.png")},
                                    content_type="multipart/form-data")
    assert bad_picture.status_code == 422 and "nicht gespeichert" not in bad_picture.get_data(as_text=True)


def test_organisation_settings(app, admin_client):
    response = admin_client.post("/admin/organisation", data={"name": "Service AG", "public_base_url": "ftp://x",
                                                              "autoclose_days": "14"})
    assert response.status_code == 422
    assert admin_client.post("/admin/organisation", data={"name": "Service AG", "autoclose_days": "0"}).status_code == 422
    response = admin_client.post("/admin/organisation", data={
        "name": "Service AG", "public_base_url": "https://service.example.com/", "video_base_url": "https://meet.example.com/",
        "autoclose_days": "7", "upload_limit_mb": "10", "logo": (_png(), "logo.png"),
    }, content_type="multipart/form-data")
    assert response.status_code == 302
    org = Organisation.current()
    assert (org.name, org.public_base_url, org.autoclose_days, org.upload_limit_mb) == (
        "Service AG", "https://service.example.com", 7, 10)
    logo = app.test_client().get("/logo")
    assert logo.mimetype == "image/png"
    logo.close()


def test_new_employee_with_password_and_team(app, admin_client):
    response = admin_client.post("/admin/employees/new", data={"name": "Eva", "email": "eva@example.com",
                                                               "role": "moderator", "language": "en", "mode": "password"})
    assert response.status_code == 422
    admin_client.post("/admin/employees/new", data={"name": "Eva", "email": "eva@example.com", "role": "moderator",
                                                    "language": "en", "mode": "password", "password": "geheim123"})
    from app.models import Employee

    eva = db.session.scalar(db.select(Employee).filter_by(email="eva@example.com"))
    assert eva.role == Role.MODERATOR and eva.check_password("geheim123")
    admin_client.post("/admin/teams/new", data={"name": "Service", "member_ids": [str(eva.id)]})
    assert db.session.scalar(db.select(Team)).members == [eva]
    admin_client.post(f"/admin/employees/{eva.id}", data={"name": "Eva", "email": "eva@example.com", "role": "member",
                                                          "language": "de"})
    assert not eva.active


def test_a_service_refusal_shows_at_its_field_with_the_typed_input_kept(app, admin_client):
    make_template(name="Presse")
    response = admin_client.post("/admin/templates/new", data={"name": "Presse", "description": "Zweite Halle"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert '<p class="error" id="f-name-error" role="alert">Es gibt bereits eine Vorlage mit diesem Namen.</p>' in html
    assert 'aria-describedby="f-name-error' in html and 'aria-invalid="true"' in html and "Zweite Halle" in html
    assert db.session.scalar(db.select(db.func.count()).select_from(Template)) == 1


def test_form_checks_answer_422_in_the_services_words(app, admin_client):
    response = admin_client.post("/admin/customers/new", data={"name": "Muster GmbH", "kind": "company",
                                                               "email": "kein-mail", "phone": "0711 123"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and 'value="0711 123"' in html
    assert '<p class="error" id="f-email-error" role="alert">Bitte geben Sie eine gültige E-Mail-Adresse ein.</p>' in html
    response = admin_client.post("/admin/codes", data={"count": "viele", "label": "Halle 3"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and 'value="Halle 3"' in html
    assert '<p class="error" id="f-count-error" role="alert">Bitte geben Sie eine Zahl von 1 bis 500 ein.</p>' in html
    assert db.session.scalar(db.select(db.func.count()).select_from(Code)) == 0


def test_refused_one_click_actions_flash_the_reason_and_go_back(app, admin_client):
    flow = Flow(template=make_template(), title="Leer", position=0, active=False)
    db.session.add(flow)
    db.session.commit()
    response = admin_client.post(f"/admin/flows/{flow.id}/active", data={"active": "on"})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/admin/flows/{flow.id}")
    assert not db.session.get(Flow, flow.id).active
    device = make_device(make_template(name="Kran"))
    created = admin_client.post("/admin/codes", data={"count": "1", "device_id": device.id})
    code = db.session.scalar(db.select(Code).filter_by(device_id=device.id))
    assert created.status_code == 302 and code is not None
    page = admin_client.post(f"/admin/codes/{code.id}/pin", data={"pin": "12a4"}, follow_redirects=True)
    assert "Die PIN muss 4 bis 12 Ziffern haben." in page.get_data(as_text=True) and not code.has_pin
    for foreign_digits in ("٤٧١١", "４７１１"):  # Arabic-Indic and full-width digits are not what a code user types in
        page = admin_client.post(f"/admin/codes/{code.id}/pin", data={"pin": foreign_digits}, follow_redirects=True)
        assert "Die PIN muss 4 bis 12 Ziffern haben." in page.get_data(as_text=True) and not code.has_pin


@pytest.mark.parametrize("name", ["Eve\nEvil", "Eve\r\nBcc: x@example.com", "Eve\u202elivE", "Eve\x00", "Eve\u2028Evil"])
def test_names_that_go_into_mail_subjects_refuse_control_characters(app, admin_client, name):
    admin_client.admin.language = "en"  # the pages speak the administrator's language
    db.session.commit()
    message = "Please remove line breaks and invisible control characters from the name."
    eva = make_employee(name="Eva", email="eva@example.com")
    refusals = [
        admin_client.post(f"/admin/employees/{eva.id}", data={"name": name, "email": "eva@example.com",
                                                              "role": "member", "language": "de", "active": "y"}),
        admin_client.post("/admin/employees/new", data={"name": name, "email": "neu@example.com", "role": "member",
                                                        "language": "de", "mode": "password", "password": "geheim123"}),
        admin_client.post("/admin/organisation", data={"name": name, "autoclose_days": "7"}),
        admin_client.post("/admin/customers/new", data={"name": name, "kind": "company"}),
        admin_client.post("/admin/devices/new", data={"name": name, "template_id": str(make_template().id)}),
    ]
    for response in refusals:
        if "\x00" in name:  # refused before any view runs (refusals.refuse_control_bytes)
            assert response.status_code == 400 and "NUL" in response.get_data(as_text=True)
        else:
            assert response.status_code == 422 and message in response.get_data(as_text=True)
    db.session.refresh(eva)
    assert eva.name == "Eva" and Organisation.current().name != name
    assert db.session.scalar(db.select(db.func.count()).select_from(Customer)) == 0
    assert db.session.scalar(db.select(db.func.count()).select_from(Device)) == 0


def test_services_refuse_control_characters_in_names_for_every_caller(app, english):
    from app.services import customers, organisation, staff
    from app.services.errors import ValidationError

    admin = make_employee(role=Role.ADMIN)
    for call in (
        lambda: staff.create_employee(name="Eve\nEvil", email="eve@example.com", password="geheim123", actor=admin),
        lambda: staff.update_employee(admin, name="Ad\u202emin", email=admin.email, role="admin", language="de",
                                      active=True, actor=admin),
        lambda: organisation.update_settings(name="Service\r\nAG", actor=admin),
        lambda: customers.save_customer(None, name="Muster\u200bGmbH", actor=admin),
    ):
        with pytest.raises(ValidationError) as refused:
            call()
        assert refused.value.field == "name" and "control characters" in str(refused.value)
    assert "Please remove" in str(refused.value)
