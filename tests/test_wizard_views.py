"""The one wizard view: code users and staff get the same WTForms field markup, with aria attributes on error."""
import re

import pytest

from app.enums import Role, StepType
from app.extensions import db
from app.services import tickets
from tests.factories import (
    make_code,
    make_device,
    make_employee,
    make_flow,
    make_template,
)
from tests.test_public import start_draft

STEPS = [
    ("Kurzbeschreibung", StepType.TEXT_SHORT, True, True, []),
    ("Art", StepType.SINGLE_CHOICE, True, False, ["Öl", "Strom"]),
]
HTMX = {"HX-Request": "true", "Accept-Language": "de"}  # employees read their account language, German here


@pytest.fixture
def wizards(app, login):
    """The step URL of a code user's draft and of a moderator's draft of the same flow, with their clients."""
    device = make_device(make_template())
    make_code(device, token="demo-press")
    flow = make_flow(device.template, title="Mit Hilfe", steps=STEPS)
    for step in flow.steps:
        step.help_text = f"Hilfe zu {step.question}"
    db.session.commit()
    code_client = app.test_client()
    code_client.get("/c/demo-press")
    code_url = f"/c/demo-press/t/{start_draft(code_client, flow)}/step"
    moderator = make_employee(Role.MODERATOR)
    staff_client = login(moderator, app.test_client())
    draft = tickets.start_draft(flow, device, actor=moderator)
    return [(code_client, code_url), (staff_client, f"/tickets/drafts/{draft.number}/step")]


def _field(html):
    """The step's field block: label or legend, help, control(s) and error line."""
    return re.search(r'<(div|fieldset) class="field.*?</\1>', html, re.DOTALL).group(0)


@pytest.mark.parametrize(("position", "data"), [(0, {"value": "x" * 300}), (1, {"value": "Wasser"})])
def test_both_wizards_render_the_same_field_with_aria_on_error(wizards, position, data):
    fields = []
    for client, url in wizards:
        response = client.post(f"{url}/{position}", data=data, headers=HTMX)
        assert response.status_code == 422
        fields.append(_field(response.get_data(as_text=True)))
    assert fields[0] == fields[1]
    field = fields[0]
    assert "field-invalid" in field and 'aria-invalid="true"' in field
    described = re.search(r'aria-describedby="([^"]*)"', field).group(1).split()
    assert described == ["step-error", "step-value-help"]  # the error is read first
    for element_id in described:
        assert f'id="{element_id}"' in field
    assert re.search(r'<p class="error" id="step-error" role="alert">Bitte (verwenden Sie höchstens 255|wählen Sie)', field)
    if position == 0:
        assert 'value="' + "x" * 300 + '"' in field  # what was typed is kept


def test_both_wizards_render_the_same_field_without_error(wizards):
    fields = [_field(client.get(f"{url}/0").get_data(as_text=True)) for client, url in wizards]
    assert fields[0] == fields[1]
    assert 'aria-describedby="step-value-help"' in fields[0] and "aria-invalid" not in fields[0]
    assert '<label for="step-value" class="step-question">Kurzbeschreibung</label>' in fields[0]


def test_back_keeps_what_was_typed_in_both_wizards(wizards):
    for client, url in wizards:
        assert client.post(f"{url}/0", data={"value": "Öl läuft aus"}).status_code in (302, 303)
        back = client.post(f"{url}/1", data={"value": "Strom", "go": "back"})
        assert back.status_code in (302, 303) and back.headers["Location"].endswith(f"{url}/0")
        assert re.search(r'value="Strom"[^>]*checked', client.get(f"{url}/1").get_data(as_text=True))
        # An empty required answer does not hold the person back; the step stays open and nothing is submitted.
        assert client.post(f"{url}/1", data={"go": "back"}).status_code in (302, 303)
        leaving = client.post(f"{url}/0", data={"value": "Öl läuft aus, viel", "go": "back"})
        assert leaving.status_code in (302, 303) and f"{url}/" not in leaving.headers["Location"]
        assert 'value="Öl läuft aus, viel"' in client.get(f"{url}/0").get_data(as_text=True)
        # Text that does not fit the step is shown with the reason instead of being dropped.
        refused = client.post(f"{url}/0", data={"value": "x" * 300, "go": "back"}, headers=HTMX)
        assert refused.status_code == 422 and 'value="' + "x" * 300 + '"' in refused.get_data(as_text=True)
        assert client.post(f"{url}/1", data={"go": "back"}, headers=HTMX).status_code == 204
