"""Pages speak the viewer's language: system wizard steps, number formats."""
import pytest

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


def test_counts_on_the_staff_home_use_the_viewers_number_format(demo, client, login):
    """The home's ticket counts per status: 1.225 for a German reader, 1,225 for an English one."""
    import re

    import sqlalchemy as sa

    from app.demo_data import load_bulk_tickets
    from app.extensions import db
    from app.models import Employee, Ticket
    from app.workflow import TicketStatus

    load_bulk_tickets(3500)
    closed = db.session.scalar(sa.select(sa.func.count()).select_from(Ticket).where(Ticket.status == TicketStatus.CLOSED))
    assert closed >= 1000
    anna = db.session.scalar(sa.select(Employee).filter_by(email="anna@example.com"))
    login(anna)

    def closed_badge(language):
        anna.language = language
        db.session.commit()
        page = client.get("/").get_data(as_text=True)
        return re.search(r'data-status="closed"[^>]*>([^<]*)</a>', page).group(1)

    thousands, rest = divmod(closed, 1000)
    assert closed_badge("de") == f"GESCHLOSSEN: {thousands}.{rest:03d}"
    assert closed_badge("en") == f"Closed: {thousands},{rest:03d}"


def test_answers_read_in_the_viewers_language_and_number_format(client, login):
    """A number answer reads 1.500,5 in German and 1,500.5 in English; yes/no and priority in the viewer's words."""
    import re

    from app.extensions import db
    from tests.factories import answer_all

    steps = [
        ("Kurzbeschreibung", StepType.TEXT_SHORT, True, True, []),
        ("Menge", StepType.NUMBER, True, False, []),
        ("Steht die Maschine still?", StepType.YES_NO, True, False, []),
        ("Dringlichkeit", StepType.PRIORITY, True, False, []),
    ]
    employee = make_employee(Role.MODERATOR)
    device = make_device(make_template())
    ticket = tickets.start_draft(make_flow(device.template, steps=steps), device, actor=employee)
    answer_all(ticket, employee, {a.position: "1500,5" for a in ticket.answers if a.type == StepType.NUMBER})
    tickets.submit_ticket(ticket, actor=employee)
    login(employee)

    def answers(language):
        employee.language = language
        db.session.commit()
        page = client.get(f"/tickets/{ticket.number}").get_data(as_text=True)
        return re.findall(r'<span class="typed">([^<]*)</span>', page)

    assert answers("de") == ["Presse fährt nicht hoch", "1.500,5", "Ja", "Hoch"]
    assert answers("en") == ["Presse fährt nicht hoch", "1,500.5", "Yes", "High"]


@pytest.mark.parametrize(("language", "typed", "number"), [
    ("de", "1.500", 1500), ("de", "2,5", 2.5), ("de", "2.5", 2.5), ("de", "1.500,5", 1500.5), ("de", "1 500", 1500),
    ("de", "1.000.000", 1000000), ("de", "1,500", 1.5), ("de", "-3", -3),
    ("en", "1,500", 1500), ("en", "2.5", 2.5), ("en", "2,5", 2.5), ("en", "1,500.5", 1500.5), ("en", "1.500", 1.5),
])
def test_a_number_answer_is_read_the_way_its_reader_writes_numbers(app, language, typed, number):
    from flask_babel import force_locale

    from app.services.answers import _number

    with app.test_request_context(), force_locale(language):
        assert _number(None, typed)[0] == number


@pytest.mark.parametrize("language", ["de", "en"])
def test_a_stored_number_shown_again_reads_back_as_the_same_number(app, language):
    from types import SimpleNamespace

    from flask_babel import force_locale

    from app.blueprints.wizard.forms import NumberForm
    from app.services.answers import _number

    with app.test_request_context(), force_locale(language):
        for stored in (1.234, 1500, 1500.5, -0.5):
            shown = NumberForm.stored(None, SimpleNamespace(value=stored))["value"]
            assert _number(None, shown)[0] == stored, shown


def test_templates_print_counts_in_the_readers_number_format():
    """A count printed into a page goes through the `decimal` filter (1.000 in German), never raw: `{{ x|length }}`,
    `counts.get(...)` and ngettext's `num` (which defaults to the raw count) are the ways a raw number slips in."""
    import re
    from pathlib import Path

    raw = [
        re.compile(r"\{\{[^}]*\|length\s*\}\}"),
        re.compile(r"\{\{[^}]*counts\.get\([^)]*\)\s*\}\}"),
        re.compile(r"ngettext\((?:[^()]|\([^()]*\))*%\(num\)d"),
        re.compile(r"ngettext\(\"[^\"]*%\(num\)s[^\"]*\", \"[^\"]*\", [^,()]+\)"),  # num not given: the raw count
    ]
    # Counts that stay small by rule: buttons of one element, steps of one flow, printed labels (MAX_CODES_AT_ONCE
    # = 500), recovery codes (10), delivery attempts.
    small = ("%(num)d button", "%(num)d step", "%(num)d label,", "%(num)d unused recovery code", "%(num)s attempt")
    root = Path(__file__).resolve().parent.parent / "app" / "templates"
    problems = []
    for path in sorted(root.rglob("*.html")) + sorted(root.rglob("*.txt")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if any(pattern.search(line) for pattern in raw) and not any(text in line for text in small):
                problems.append(f"{path.relative_to(root)}:{number}: {line.strip()[:120]}")
    assert not problems, "\n".join(problems)
