"""One refusal path: every service error becomes its status, the form comes back with what was typed, nothing is
written, and a view without a form of its own still answers clearly (app/refusals.py)."""
import pytest
import sqlalchemy as sa
from flask import Blueprint, redirect

from app.enums import Role
from app.extensions import db
from app.models import Code, Customer, Rating, Ticket, Update
from app.refusals import on_refusal
from app.services import offers
from app.services import tickets as ticket_service
from app.services.errors import (
    ConflictError,
    InvalidTransition,
    NotAllowed,
    NotFound,
    ServiceError,
    ValidationError,
)
from tests import factories
from tests.test_public import visitor_of
from tests.test_tickets import make_people, make_world

TYPED = "Dichtung 4711 bestellt – Lieferung Dienstag"


@pytest.fixture
def world(app):
    """An ASSIGNED public ticket with its people (see tests/test_tickets.py)."""
    return make_world(make_people())


def _stale(world):
    """The ticket's version before someone else changed it."""
    ticket = world["ticket"]
    stale = ticket.version
    ticket_service.set_priority(ticket, "high", actor=world["people"]["moderator"])
    return stale


STAFF_CASES = {
    # name: (who, path under /tickets/<n>, form (callable on world), status, what the answer must show)
    "stale version is a conflict": (
        "responsible",
        "/priority",
        lambda w: {"priority": "low", "version": _stale(w)},
        409,
        "inzwischen von Mo Derator",
    ),
    "event the status does not allow": ("responsible", "/events", lambda w: {"event": "reopen"}, 409, None),
    "member who is not responsible": ("member", "/priority", lambda w: {"priority": "low"}, 403, None),
    "update too long keeps the text": (
        "responsible",
        "/updates",
        lambda w: {"body": TYPED + " " + "x" * 20000},
        422,
        TYPED,
    ),
    "empty update": ("responsible", "/updates", lambda w: {"body": "   "}, 422, "Bitte schreiben Sie etwas"),
    "delete without confirmation": ("moderator", "/delete", lambda w: {}, 422, "bestätigen"),
}


@pytest.mark.parametrize("case", STAFF_CASES)
@pytest.mark.parametrize("htmx", [False, True], ids=["page", "fragment"])
def test_staff_refusals_answer_their_status_and_write_nothing(app, login, world, as_htmx, case, htmx):
    who, path, form, status, shown = STAFF_CASES[case]
    ticket = world["ticket"]
    data = {"version": ticket.version, **form(world)}
    before = (db.session.get(Ticket, ticket.id).version, db.session.scalar(sa.select(sa.func.count(Update.id))))
    client = login(world["people"][who])
    response = client.post(f"/tickets/{ticket.id}{path}", data=data, headers=as_htmx if htmx else {})
    assert response.status_code == status
    html = response.get_data(as_text=True)
    assert 'data-testid="ticket-status"' in html  # the ticket's block again, refreshed, not a bare error page
    if shown:
        assert shown.lower() in html.lower()
    db.session.expire_all()
    assert (db.session.get(Ticket, ticket.id).version, db.session.scalar(sa.select(sa.func.count(Update.id)))) == before
    if path != "/delete":
        assert "HX-Trigger" in response.headers  # the composer and other widgets still hear that something was tried


def test_code_user_rating_refusal_keeps_the_comment(app, demo, client):
    code = db.session.scalar(sa.select(Code).filter_by(token="demo-press"))
    client.get("/c/demo-press")
    ticket = factories.make_ticket(code.device.template.active_flows[0], code.device, visitor_of(client))
    admin = factories.make_employee(Role.ADMIN)
    offers.assign_employee(ticket, admin, actor=admin)
    ticket_service.fire_event(ticket, "finish", actor=admin)
    comment = "Sehr freundlich, Ölwechsel gleich mitgemacht"
    response = client.post(f"/c/demo-press/t/{ticket.number}/rate", data={"score": "9", "comment": comment})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert comment in html and "fünf" in html
    assert db.session.scalar(sa.select(sa.func.count(Rating.id))) == 0


ERRORS = [
    (NotAllowed("Nein."), 403),
    (NotFound("Weg."), 404),
    (ConflictError("Zwischendurch geändert."), 409),
    (InvalidTransition("Nicht jetzt."), 409),
    (ValidationError("Bitte prüfen.", field="name"), 422),
    (ServiceError("Geht nicht."), 400),
]


@pytest.fixture
def refusing_app(app):
    """Routes that write, then raise each service error: without a renderer, with a form, with a redirect."""
    probe = Blueprint("probe", __name__)
    app.config["WTF_CSRF_ENABLED"] = False

    def write_then_raise(index):
        """A write the handler must roll back, then the refusal."""
        db.session.add(Customer(name="Nie gespeichert"))
        db.session.flush()
        raise ERRORS[index][0]

    @probe.post("/probe/bare/<int:index>")
    def bare(index):
        """No renderer: the message alone."""
        write_then_raise(index)

    @probe.post("/probe/form/<int:index>")
    def form(index):
        """A form re-rendered with what was typed."""
        from flask import request

        on_refusal(lambda error: f"<form><input name=name value='{request.form['name']}'><p>{error.message}</p></form>")
        write_then_raise(index)

    @probe.post("/probe/back/<int:index>")
    def back(index):
        """A one-click action: go back."""
        on_refusal(lambda error: redirect("/somewhere", code=303))
        write_then_raise(index)

    app.register_blueprint(probe)
    return app


@pytest.mark.parametrize("index", range(len(ERRORS)), ids=[type(e).__name__ for e, _ in ERRORS])
def test_each_service_error_becomes_its_status(refusing_app, index, as_htmx):
    error, status = ERRORS[index]
    client = refusing_app.test_client()
    page = client.post(f"/probe/bare/{index}")
    assert page.status_code == status and error.message in page.get_data(as_text=True)
    assert "<html" in page.get_data(as_text=True)
    fragment = client.post(f"/probe/bare/{index}", headers=as_htmx)
    assert fragment.status_code == status and "<html" not in fragment.get_data(as_text=True)
    typed = client.post(f"/probe/form/{index}", data={"name": "Kühlraum K-9"})
    assert typed.status_code == status
    assert "Kühlraum K-9" in typed.get_data(as_text=True) and error.message in typed.get_data(as_text=True)
    went_back = client.post(f"/probe/back/{index}")
    assert went_back.status_code == 303 and went_back.headers["Location"] == "/somewhere"
    assert db.session.scalar(sa.select(sa.func.count(Customer.id))) == 0  # every write before the refusal rolled back
