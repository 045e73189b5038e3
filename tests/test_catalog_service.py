"""Catalog services: validation, ordering, and refusing (or archiving) what is still in use."""
import pytest

from app.enums import ButtonTarget, GroupKind, Role
from app.extensions import db
from app.models import Customer, Device, Flow, Template
from app.services import assistant, codes, customers, devices, flows, groups, templates
from app.services.errors import NotAllowed, ValidationError
from tests.factories import (
    make_code,
    make_device,
    make_employee,
    make_flow,
    make_template,
    make_ticket,
)


@pytest.fixture
def moderator(app):
    return make_employee(role=Role.MODERATOR)


def test_members_may_not_touch_the_catalog(app):
    member = make_employee()
    with pytest.raises(NotAllowed):
        templates.save_template(None, name="X", actor=member)
    with pytest.raises(NotAllowed):
        codes.create_codes(1, actor=None)


def test_new_template_gets_a_default_fleet_group_and_names_are_unique(moderator):
    template = templates.save_template(None, name="  Presse  ", ratings_enabled=False, actor=moderator)
    assert template.name == "Presse" and not template.ratings_enabled
    assert template.default_group(GroupKind.FLEET) is not None
    with pytest.raises(ValidationError) as error:
        templates.save_template(None, name="Presse", actor=moderator)
    assert error.value.field == "name"
    with pytest.raises(ValidationError):
        templates.save_template(None, name="   ", actor=moderator)


def test_template_with_devices_is_archived_not_deleted(moderator):
    used = make_template()
    make_device(used)
    assert templates.delete_template(used, actor=moderator) == "archived"
    assert used.archived
    unused = templates.save_template(None, name="Leer", actor=moderator)
    make_flow(unused)
    assert templates.delete_template(unused, actor=moderator) == "deleted"
    assert db.session.get(Template, unused.id) is None


def test_flow_with_tickets_is_deactivated_not_deleted(moderator):
    template = make_template(fleet=[moderator])
    flow = make_flow(template)
    ticket = make_ticket(flow, make_device(template), moderator)
    assert flows.delete_flow(flow, actor=moderator) == "deactivated"
    assert db.session.get(Flow, flow.id) is not None and not flow.active
    questions = [a.question for a in ticket.answers]
    flows.save_step(flow.steps[0], type="text_short", question="Neu formuliert", is_title=True, actor=moderator)
    db.session.refresh(ticket)
    assert [a.question for a in ticket.answers] == questions


def test_step_rules(moderator):
    flow = flows.save_flow(None, template=make_template(), title="Ersatzteil", actor=moderator)
    assert not flow.active
    with pytest.raises(ValidationError) as error:
        flows.set_flow_active(flow, True, actor=moderator)
    assert error.value.field == "active"
    with pytest.raises(ValidationError) as error:
        flows.save_step(None, flow=flow, type="visibility", question="Sichtbar?", actor=moderator)
    assert error.value.field == "type"
    with pytest.raises(ValidationError) as error:
        flows.save_step(None, flow=flow, type="single_choice", question="Welche?", options="nur eine", actor=moderator)
    assert error.value.field == "options"
    with pytest.raises(ValidationError) as error:
        flows.save_step(None, flow=flow, type="number", question="Menge", is_title=True, actor=moderator)
    assert error.value.field == "is_title"
    with pytest.raises(ValidationError):
        flows.save_step(None, flow=flow, type="text_short", question="", actor=moderator)
    title = flows.save_step(None, flow=flow, type="text_short", question="Teil", is_title=True, actor=moderator)
    with pytest.raises(ValidationError) as error:
        flows.save_step(None, flow=flow, type="text_short", question="Noch ein Titel", is_title=True, actor=moderator)
    assert error.value.field == "is_title"
    choice = flows.save_step(None, flow=flow, type="single_choice", question="Farbe",
                               options="rot\n\n blau \nrot", required=True, actor=moderator)
    assert choice.options == ["rot", "blau"] and choice.position == 1
    flows.move_step(choice, -1, actor=moderator)
    assert [s.question for s in flow.steps] == ["Farbe", "Teil"]
    flows.set_flow_active(flow, True, actor=moderator)
    flows.delete_step(title, actor=moderator)
    flows.delete_step(choice, actor=moderator)
    assert flow.steps == [] and not flow.active


def test_flow_groups_must_belong_to_the_template(moderator):
    template, other = make_template(), make_template()
    foreign = other.default_group(GroupKind.FLEET)
    with pytest.raises(ValidationError) as error:
        flows.save_flow(None, template=template, title="X", fleet_group_id=foreign.id, actor=moderator)
    assert error.value.field == "fleet_group_id"
    notify = groups.save_group(None, template=template, kind="notify", name="Büro", employee_ids=[str(moderator.id)],
                                actor=moderator)
    flow = flows.save_flow(None, template=template, title="X", notify_group_id=notify.id, actor=moderator)
    assert flow.effective_group(GroupKind.NOTIFY) == notify
    groups.delete_group(notify, actor=moderator)
    db.session.refresh(flow)
    assert flow.notify_group_id is None


def test_group_order_decides_the_default(moderator):
    template = make_template()
    first = template.default_group(GroupKind.FLEET)
    second = groups.save_group(None, template=template, kind="fleet", name="Zweite", actor=moderator)
    groups.move_group(second, -1, actor=moderator)
    db.session.expire(template, ["groups"])
    assert template.default_group(GroupKind.FLEET) == second
    assert first.position > second.position


def test_assistant_buttons_check_their_target(moderator):
    template = make_template()
    flow = make_flow(template)
    foreign_flow = make_flow(make_template())
    start = assistant.save_element(None, template=template, title="Start", body="Hallo", actor=moderator)
    manual = assistant.save_element(None, template=template, title="Anleitung", actor=moderator)
    with pytest.raises(ValidationError) as error:
        assistant.save_button(None, element=start, label="X", target="flow", target_flow_id=foreign_flow.id, actor=moderator)
    assert error.value.field == "target_flow_id"
    with pytest.raises(ValidationError) as error:
        assistant.save_button(None, element=start, label="X", target="url", url="javascript:alert(1)", actor=moderator)
    assert error.value.field == "url"
    button = assistant.save_button(None, element=start, label="Störung", target="flow", target_flow_id=flow.id,
                                 actor=moderator)
    assistant.save_button(None, element=start, label="Anleitung", target=ButtonTarget.ELEMENT,
                        target_element_id=manual.id, actor=moderator)
    assert button.target_flow == flow
    assistant.make_start_element(manual, actor=moderator)
    db.session.expire(template, ["elements"])
    assert template.start_element == manual
    assistant.delete_element(manual, actor=moderator)
    assert [b.label for b in start.buttons] == ["Störung"]


def test_devices_and_customers_archive_when_in_use(moderator):
    template = make_template(fleet=[moderator])
    customer = customers.save_customer(None, name="Muster GmbH", email="info@muster.de", actor=moderator)
    with pytest.raises(ValidationError) as error:
        customers.save_customer(None, name="X", email="kein-mail", actor=moderator)
    assert error.value.field == "email"
    with pytest.raises(ValidationError) as error:
        devices.save_device(None, template_id="", name="Presse", actor=moderator)
    assert error.value.field == "template_id"
    device = devices.save_device(None, template_id=template.id, customer_id=customer.id, name="Presse 1",
                                 serial_number="SN-1", actor=moderator)
    assert customers.delete_customer(customer, actor=moderator) == "archived"
    make_ticket(make_flow(template), device, moderator)
    assert devices.delete_device(device, actor=moderator) == "archived"
    spare = devices.save_device(None, template_id=template.id, name="Ersatz", actor=moderator)
    code = make_code(spare)
    assert devices.delete_device(spare, actor=moderator) == "deleted"
    db.session.refresh(code)
    assert code.device_id is None and db.session.get(Device, spare.id) is None
    lonely = customers.save_customer(None, name="Privat", kind="private", actor=moderator)
    assert customers.delete_customer(lonely, actor=moderator) == "deleted"
    assert db.session.get(Customer, lonely.id) is None


def test_device_picture_must_be_an_image(moderator, tmp_path):
    import io

    from PIL import Image
    from werkzeug.datastructures import FileStorage

    template = make_template()
    with pytest.raises(ValidationError) as error:
        devices.save_device(None, template_id=template.id, name="X", actor=moderator,
                            picture=FileStorage(io.BytesIO(b"%PDF-1.4 nope"), filename="x.pdf"))
    assert error.value.field == "picture"
    data = io.BytesIO()
    Image.new("RGB", (40, 30), "red").save(data, "PNG")
    data.seek(0)
    device = devices.save_device(None, template_id=template.id, name="X", actor=moderator,
                                 picture=FileStorage(data, filename="x.png"))
    assert device.picture_name.endswith(".jpg")


def test_codes_many_at_once_pairing_and_pin(moderator):
    device = make_device(make_template())
    created = codes.create_codes("24", actor=moderator)
    assert len(created) == 24 and len({c.token for c in created}) == 24
    for bad in ("0", "abc", "501"):
        with pytest.raises(ValidationError):
            codes.create_codes(bad, actor=moderator)
    with pytest.raises(ValidationError):
        codes.create_codes(2, device_id=device.id, actor=moderator)
    code = created[0]
    epoch = code.session_epoch
    codes.pair_code(code, device.id, actor=moderator)
    assert code.device == device and code.session_epoch == epoch + 1
    with pytest.raises(ValidationError):
        codes.set_code_pin(code, "12a4", actor=moderator)
    codes.set_code_pin(code, "4711", actor=moderator)
    assert code.check_pin("4711")
    codes.set_code_pin(code, "", actor=moderator)
    assert not code.has_pin
    codes.pair_code(code, "", actor=moderator)
    assert code.device is None
    assert [c.id for c in codes.codes_by_ids([f"{created[2].id},{created[1].id}", "x"])] == [created[2].id, created[1].id]
