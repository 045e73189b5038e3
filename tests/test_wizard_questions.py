"""System steps of the wizard speak the viewer's language; flow questions stay as the flow wrote them."""
from app.enums import Role, StepType
from app.services import tickets
from tests.factories import make_device, make_employee, make_flow, make_template


def test_visibility_step_is_labelled_in_the_viewers_language(client, login):
    employee = make_employee(Role.MODERATOR)
    device = make_device(make_template())
    draft = tickets.start_draft(make_flow(device.template), device, actor=employee)
    position = next(a.position for a in draft.answers if a.type == StepType.VISIBILITY)
    login(employee)
    german = client.get(f"/tickets/drafts/{draft.number}/step/{position}", headers={"Accept-Language": "de"})
    assert german.status_code == 200 and "Sichtbarkeit" in german.get_data(as_text=True)
    first = client.get(f"/tickets/drafts/{draft.number}/step/0", headers={"Accept-Language": "de"})
    assert "Kurzbeschreibung" in first.get_data(as_text=True)
