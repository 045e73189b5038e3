"""Pages speak the viewer's language: system wizard steps, number formats."""
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


def test_capped_ticket_count_uses_the_viewers_number_format(demo, client, login):
    import sqlalchemy as sa

    from app.demo_data import load_bulk_tickets
    from app.extensions import db
    from app.models import Employee

    load_bulk_tickets(2500)
    login(db.session.scalar(sa.select(Employee).filter_by(email="anna@example.com")))
    german = client.get("/tickets", headers={"Accept-Language": "de"}).get_data(as_text=True)
    assert "Mehr als 1.000 Tickets" in german
