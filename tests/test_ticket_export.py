"""Ticket export: the overview's filters and access as a streamed CSV or XLSX download, times in the reader's zone,
formulas defused, and memory that stays flat however many tickets there are."""
import csv
import io
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from app.enums import Role, Visibility
from app.extensions import db
from app.models import Ticket
from app.services import offers
from app.workflow import TicketStatus
from tests.factories import (
    make_device,
    make_employee,
    make_flow,
    make_template,
    make_ticket,
)

RUN_ON_POSTGRES = True


@pytest.fixture
def world(app):
    """The scene of make_world."""
    return make_world()


def make_world():
    """A template with Anna in its fleet, a public ticket Anna accepted, an internal one, another member's draft."""
    anna = make_employee(Role.MEMBER, name="Anna", language="en")
    ben = make_employee(Role.MEMBER, name="Ben", language="en")
    moderator = make_employee(Role.MODERATOR, name="Mona", language="en")
    template = make_template("Hydraulikpresse HP-200", fleet=[anna, ben])
    flow = make_flow(template)
    device = make_device(template, name="HP-200 Halle 1")
    public = make_ticket(flow, device, moderator, visibility=Visibility.PUBLIC)
    offers.accept_offer(public, actor=anna)
    internal = make_ticket(flow, device, moderator, visibility=Visibility.INTERNAL)
    draft = make_ticket(flow, device, ben, submit=False)
    return {"anna": anna, "ben": ben, "moderator": moderator, "public": public, "internal": internal, "draft": draft,
            "device": device, "flow": flow}


def download(client, query="", kind="csv"):
    """The export's response, read and closed (as a WSGI server closes it)."""
    response = client.get(f"/tickets/export.{kind}{query}")
    assert response.status_code == 200, response.get_data(as_text=True)
    data = response.get_data()
    response.close()
    return response, data


def csv_rows(data):
    """The rows of a CSV export (after its BOM), split on the separator the reader's language uses."""
    text = data.decode("utf-8")
    assert text.startswith("\ufeff")
    delimiter = ";" if text[1:].split("\r\n", 1)[0].count(";") else ","
    return list(csv.reader(io.StringIO(text[1:], newline=""), delimiter=delimiter))


def numbers(rows):
    """The ticket numbers (T-00042) of the data rows."""
    return [row[0] for row in rows[1:]]


def test_csv_export_has_the_columns_and_honours_the_filters(app, login, world):
    client = login(world["anna"])
    public, internal = world["public"], world["internal"]
    response, data = download(client)
    assert response.mimetype == "text/csv"
    assert 'attachment; filename="tickets-' in response.headers["Content-Disposition"]
    rows = csv_rows(data)
    assert rows[0] == ["Number", "Title", "Status", "Priority", "Visibility", "Device", "Customer", "Responsible",
                       "Created", "Last activity", "Closed at", "Rating"]
    assert numbers(rows) == [public.display_number, internal.display_number]
    first = rows[1]
    assert first[2:8] == ["Assigned", "Normal", "Public", "HP-200 Halle 1", "", "Anna"]
    assert numbers(csv_rows(download(client, "?visibility=internal")[1])) == [internal.display_number]
    assert numbers(csv_rows(download(client, "?responsible=me")[1])) == [public.display_number]
    assert numbers(csv_rows(download(client, "?status=closed")[1])) == []
    assert numbers(csv_rows(download(client, f"?q={public.display_number}")[1])) == [public.display_number]


def test_german_readers_get_semicolons_and_german_labels(app, login, world):
    world["anna"].language = "de"
    db.session.commit()
    data = download(login(world["anna"]))[1]
    assert data.decode("utf-8")[1:].split("\r\n", 1)[0].count(";") == 11
    rows = csv_rows(data)
    assert rows[0][:3] == ["Nummer", "Titel", "Status"]
    assert rows[1][4] == "ÖFFENTLICH"


def test_export_leaves_out_drafts_of_others_and_follows_the_visibility_rule(app, login, world, monkeypatch):
    client = login(world["anna"])
    visible = {t.id for t in db.session.scalars(Ticket.visible_to(world["anna"])) if t.status != TicketStatus.DRAFT}
    exported = numbers(csv_rows(download(client, "?status=" + "&status=".join(s.value for s in TicketStatus))[1]))
    assert world["draft"].display_number not in exported
    assert sorted(exported) == sorted(f"T-{number:05d}" for number in visible)

    # Should members ever see fewer INTERNAL tickets, the export follows Ticket.visible_clause, not a rule of its own.
    real = Ticket.visible_clause.__func__

    def members_see_public_only(cls, actor):
        clause = real(cls, actor)
        return sa.and_(clause, cls.visibility == Visibility.PUBLIC) if actor.role == Role.MEMBER else clause

    monkeypatch.setattr(Ticket, "visible_clause", classmethod(members_see_public_only))
    assert numbers(csv_rows(download(client)[1])) == [world["public"].display_number]
    moderator = login(world["moderator"], app.test_client())
    assert len(numbers(csv_rows(download(moderator)[1]))) == 2


@pytest.mark.parametrize("app", [{"BABEL_DEFAULT_TIMEZONE": "Europe/Berlin"}], indirect=True)
def test_times_come_out_in_the_readers_time_zone(app, login, world):
    ticket = world["public"]
    db.session.execute(sa.update(Ticket).where(Ticket.id == ticket.id).values(
        created_at=datetime(2026, 11, 30, 23, 30, tzinfo=UTC), last_activity_at=datetime(2026, 7, 1, 10, 0, tzinfo=UTC)))
    db.session.commit()
    client = login(world["anna"])
    row = csv_rows(download(client, "?responsible=me")[1])[1]
    assert row[8:10] == ["2026-12-01 00:30", "2026-07-01 12:00"]  # CET in winter, CEST in summer
    _response, data = download(client, "?responsible=me", kind="xlsx")
    sheet = load_workbook(io.BytesIO(data)).active
    assert sheet.cell(2, 9).value == datetime(2026, 12, 1, 0, 30)


def test_formula_cells_are_defused(app, login, world):
    ticket = world["public"]
    db.session.execute(sa.update(Ticket).where(Ticket.id == ticket.id).values(title='=HYPERLINK("http://evil","x")'))
    world["device"].name = "+491234"
    db.session.commit()
    client = login(world["anna"])
    row = csv_rows(download(client, "?responsible=me")[1])[1]
    assert row[1] == "'=HYPERLINK(\"http://evil\",\"x\")"
    assert row[5] == "'+491234"
    _response, data = download(client, "?responsible=me", kind="xlsx")
    sheet = load_workbook(io.BytesIO(data)).active
    assert sheet.cell(2, 2).data_type == "s"  # a string, never a formula
    assert sheet.cell(2, 2).value == '=HYPERLINK("http://evil","x")'


def test_exports_are_streamed(app, login, world):
    client = login(world["anna"])
    for kind in ("csv", "xlsx"):
        response = client.get(f"/tickets/export.{kind}", buffered=False)
        assert response.is_streamed
        response.close()
    with app.test_request_context():
        from app import tabular

        csv_answer = tabular.csv_response(["a"], iter([["b"]]), "x.csv")
        xlsx_answer = tabular.xlsx_response(["a"], iter([["b"]]), "x.xlsx", "Sheet")
        assert csv_answer.is_streamed and not isinstance(csv_answer.response, list | tuple)
        assert xlsx_answer.is_streamed and xlsx_answer.direct_passthrough  # the file is sent in chunks as it is read
        assert xlsx_answer.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        csv_answer.close()
        xlsx_answer.close()


def test_the_overview_links_its_filters_to_the_export(app, login, world):
    html = login(world["anna"]).get("/tickets?visibility=internal&priority=high").get_data(as_text=True)
    assert "/tickets/export.csv?visibility=internal&amp;priority=high" in html
    assert "/tickets/export.xlsx?visibility=internal&amp;priority=high" in html


def test_code_users_and_anonymous_get_no_export(app, client, world):
    response = client.get("/tickets/export.csv")
    assert response.status_code in (302, 401, 403)
    assert b"T-0" not in response.get_data()
