"""Every form that takes typing keeps it: refusals re-render what was typed, updates are appends that no concurrent
change refuses, an upload over the limit answers without a form to swap, and staff actions ring `ticket-changed`."""
import io
import json
import os
import re

import pytest
import sqlalchemy as sa
from PIL import Image

from app.enums import Priority, Role, Visibility
from app.extensions import db
from app.models import Code, Flow, Template, Ticket, Update
from app.services import tickets as ticket_service
from tests import factories
from tests.test_tickets import make_people, make_world


@pytest.fixture
def world(app):
    """People and one ASSIGNED public ticket that `responsible` works on."""
    return make_world(make_people())


@pytest.fixture
def worker(app, login, world):
    """A client logged in as the responsible employee, and the ticket."""
    return login(world["people"]["responsible"], app.test_client()), world["ticket"]


HTMX = {"HX-Request": "true", "Accept-Language": "en"}


def _png():
    """A small real photo."""
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 40, 40)).save(out, "PNG")
    return out.getvalue()


def _stored_files(app):
    """What lies in the upload folder."""
    folder = app.config["UPLOAD_FOLDER"]
    return sorted(os.listdir(folder)) if os.path.isdir(folder) else []


def _update_bodies(ticket):
    """The ticket's update texts in the order they were stored."""
    return list(db.session.scalars(sa.select(Update.body).where(Update.ticket_id == ticket.id).order_by(Update.id)))


def test_update_refused_as_invalid_keeps_the_text_beside_the_form(worker):
    client, ticket = worker
    too_long = "Ventil getauscht. " + "x" * 20000
    response = client.post(f"/tickets/{ticket.id}/updates", data={"body": too_long, "internal": "1"}, headers=HTMX)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert too_long in html and 'data-testid="update-error"' in html
    assert re.search(r'<input type="checkbox" id="update-internal"[^>]*checked', html)
    assert _update_bodies(ticket) == []


def test_update_on_a_ticket_closed_meanwhile_keeps_the_form_with_the_text_and_says_why(worker, world):
    client, ticket = worker
    page = client.get(f"/tickets/{ticket.id}").get_data(as_text=True)
    assert 'id="update-form"' in page
    ticket_service.fire_event(ticket, "finish", actor=world["people"]["responsible"])
    ticket_service.fire_event(ticket, "close", actor=world["people"]["moderator"])
    response = client.post(
        f"/tickets/{ticket.id}/updates",
        data={"body": "Noch ein Nachtrag", "files": (io.BytesIO(_png()), "foto.png")},
        content_type="multipart/form-data",
        headers=HTMX,
    )
    assert response.status_code == 403
    html = response.get_data(as_text=True)
    assert "geschlossen oder abgebrochen" in html and 'data-testid="update-error"' in html
    assert 'id="update-form"' in html and "Noch ein Nachtrag" in html
    assert _update_bodies(ticket) == [] and _stored_files(client.application) == []


@pytest.mark.parametrize("change", ["visibility", "priority", "status"])
def test_update_after_a_change_the_page_has_not_seen_is_posted(worker, world, change):
    client, ticket = worker
    stale_version = ticket.version
    if change == "visibility":
        ticket_service.set_visibility(ticket, Visibility.INTERNAL, actor=world["people"]["moderator"])
    elif change == "priority":
        ticket_service.set_priority(ticket, Priority.HIGH, actor=world["people"]["moderator"])
    else:
        ticket_service.fire_event(ticket, "start", actor=world["people"]["responsible"])
    assert ticket.version != stale_version
    response = client.post(
        f"/tickets/{ticket.id}/updates", data={"body": "Dichtung bestellt", "version": stale_version}, headers=HTMX
    )
    assert response.status_code == 200
    assert _update_bodies(ticket) == ["Dichtung bestellt"]
    form = re.search(r'<form id="update-form".*?</form>', response.get_data(as_text=True), re.DOTALL).group(0)
    assert 'name="version"' not in form


def test_update_is_an_append_a_concurrent_commit_does_not_refuse(world):
    """Another request commits a priority change between loading the ticket and storing the update."""
    ticket = world["ticket"]
    version_before = ticket.version
    table = Ticket.__table__
    with db.engine.begin() as other_request:
        other_request.execute(
            sa.update(table).where(table.c.id == ticket.id).values(priority=Priority.HIGH.name, version=table.c.version + 1)
        )
    update = ticket_service.post_update(ticket, "Teil bestellt", Visibility.PUBLIC, actor=world["people"]["responsible"])
    assert update.id and _update_bodies(ticket) == ["Teil bestellt"]
    db.session.refresh(ticket)
    assert ticket.version == version_before + 1  # the update itself did not move the version
    assert ticket.priority == Priority.HIGH


def test_update_over_the_request_limit_answers_without_a_form_to_swap(app, worker):
    client, ticket = worker
    app.config["MAX_CONTENT_LENGTH"] = 64 * 1024
    page = client.get(f"/tickets/{ticket.id}").get_data(as_text=True)
    response = client.post(
        f"/tickets/{ticket.id}/updates",
        data={"body": "Messprotokoll anbei", "files": (io.BytesIO(b"%PDF-1.4\n" + b"0" * 100_000), "protokoll.pdf")},
        content_type="multipart/form-data",
        headers=HTMX,
    )
    assert response.status_code == 413
    html = response.get_data(as_text=True)
    assert re.search(r"zu groß \(höchstens 0,1 MB\)", html) and "<form" not in html
    # htmx does not swap a 413 into the page; the form shows the reason in its error line.
    config = json.loads(re.search(r"<meta name=\"htmx-config\" content='([^']*)'>", page).group(1))
    assert 413 in config["noSwap"] and "5xx" in config["noSwap"]
    assert re.search(r'<form id="update-form"[^>]*hx-preserve[^>]*data-clear-on-send>\s*<input[^>]*>\s*<p[^>]*data-form-error', page)
    assert 'data-max-bytes="65536"' in page and re.search(r"zu groß \(höchstens 0,1 MB\)", page)
    assert _update_bodies(ticket) == [] and _stored_files(app) == []


def test_update_form_is_kept_across_refreshes_and_queues_its_sends(worker):
    client, ticket = worker
    html = client.get(f"/tickets/{ticket.id}", headers=HTMX).get_data(as_text=True)
    form = re.search(r'<form id="update-form"[^>]*>', html).group(0)
    for attribute in ("hx-preserve", 'hx-sync="this:queue all"', 'hx-swap="outerHTML target:#ticket-main"'):
        assert attribute in form
    assert "hx-target" not in form  # the target is found when the answer arrives, not when the form was sent


ACTIONS = [
    ("responsible", "events", lambda w: {"event": "start"}),
    ("responsible", "visibility", lambda w: {"visibility": "internal"}),
    ("responsible", "priority", lambda w: {"priority": "high"}),
    ("responsible", "updates", lambda w: {"body": "Ventil getauscht"}),
    ("moderator", "assign", lambda w: {"employee": w["people"]["spare"].email}),
    ("moderator", "withdraw", lambda w: {"employee": w["people"]["responsible"].email}),
    ("spare", "offer/accept", lambda w: {}),
    ("spare", "offer/decline", lambda w: {}),
    ("member", "events", lambda w: {"event": "start"}),  # refused: the answer rings too
]


@pytest.mark.parametrize(("who", "action", "data"), ACTIONS, ids=[f"{a[0]}-{a[1]}" for a in ACTIONS])
def test_every_staff_action_answer_rings_ticket_changed(app, login, world, who, action, data):
    ticket = world["ticket"]
    if action.startswith("offer/"):  # a fresh ticket offered to `spare` alone
        template = factories.make_template(fleet=[world["people"]["spare"]])
        device = factories.make_device(template)
        ticket = factories.make_public_ticket(factories.make_flow(template), device, world["people"]["admin"])
    client = login(world["people"][who], app.test_client())
    response = client.post(f"/tickets/{ticket.id}/{action}", data=data(world), headers=HTMX)
    rung = json.loads(response.headers["HX-Trigger"])
    assert rung["ticket-changed"]["ticket"] == ticket.id
    assert rung[f"ticket-changed-{ticket.id}"] == {"target": "body"}  # the composer of this ticket listens for it


def test_accepting_the_offer_shows_the_update_form_at_once(app, login, world):
    """The accept answer re-renders the main block, update form included: no reload needed."""
    people = make_people()
    template = factories.make_template(fleet=[people["spare"]])
    ticket = factories.make_public_ticket(factories.make_flow(template), factories.make_device(template), people["admin"])
    client = login(people["spare"], app.test_client())
    before = client.get(f"/tickets/{ticket.id}", headers=HTMX).get_data(as_text=True)
    assert 'data-testid="offer-accept"' in before and 'data-testid="update-input"' not in before
    response = client.post(f"/tickets/{ticket.id}/offer/accept", headers=HTMX)
    assert response.status_code == 200 and 'data-testid="update-input"' in response.get_data(as_text=True)
    assert "ticket-changed" in response.headers["HX-Trigger"]


@pytest.fixture
def press(demo):
    """The demo press code and its flows by title."""
    code = db.session.scalar(sa.select(Code).filter_by(token="demo-press"))
    flows = {f.title: f for f in db.session.scalars(sa.select(Flow).filter_by(template_id=code.device.template_id))}
    return code, flows


def _code_user_ticket(client, press, status_events=()):
    """A PUBLIC ticket the client's code user reported, moved on by an administrator with `status_events`."""
    from app.services import offers
    from tests.test_public import visitor_of

    code, flows = press
    client.get("/c/demo-press")
    ticket = factories.make_ticket(flows["Störung melden"], code.device, visitor_of(client))
    admin = factories.make_employee(role=Role.ADMIN)
    offers.assign_employee(ticket, admin, actor=admin)
    for event in status_events:
        ticket_service.fire_event(ticket, event, actor=admin)
    return ticket


def test_code_user_forms_outlive_live_refreshes(press, client):
    ticket = _code_user_ticket(client, press, ("finish",))
    html = client.get(f"/c/demo-press/t/{ticket.number}").get_data(as_text=True)
    rating = re.search(r'<form id="rating-form"[^>]*>', html).group(0)
    update = re.search(r'<form id="update-form"[^>]*>', html).group(0)
    assert "hx-preserve" in rating and 'hx-swap="outerHTML target:#ticket-live"' in rating
    assert "hx-preserve" in update and 'hx-sync="this:queue all"' in update and "data-clear-on-send" in update


def test_code_user_update_answers_htmx_with_the_updates_block(press, client):
    ticket = _code_user_ticket(client, press)
    url = f"/c/demo-press/t/{ticket.number}/updates"
    response = client.post(url, data={"body": "Läuft wieder"}, headers=HTMX)
    assert response.status_code == 200 and "HX-Redirect" not in response.headers
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith('<section id="ticket-updates"') and "Läuft wieder" in html
    refused = client.post(url, data={"body": "x" * 20001}, headers=HTMX)
    assert refused.status_code == 422 and "x" * 20001 in refused.get_data(as_text=True)


def test_rating_refused_keeps_the_comment(press, client):
    ticket = _code_user_ticket(client, press, ("finish",))
    response = client.post(
        f"/c/demo-press/t/{ticket.number}/rate", data={"comment": "Schnell und freundlich"}, headers=HTMX
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Schnell und freundlich" in html and 'id="rating-form"' in html


def test_wizard_answer_refused_keeps_what_was_typed(press, client):
    _, flows = press
    from tests.test_public import start_draft

    client.get("/c/demo-press")
    number = start_draft(client, flows["Ersatzteil bestellen"])
    url = f"/c/demo-press/t/{number}/step/1"
    response = client.post(url, data={"value": "zwölf Stück"}, headers=HTMX)
    assert response.status_code == 422
    assert 'value="zwölf Stück"' in response.get_data(as_text=True)


def test_staff_wizard_answer_refused_keeps_what_was_typed(app, login, press):
    _, flows = press
    moderator = factories.make_employee(role=Role.MODERATOR)
    client = login(moderator, app.test_client())
    code, _ = press
    draft = ticket_service.start_draft(flows["Ersatzteil bestellen"], code.device, actor=moderator)
    position = next(a.position for a in draft.answers if a.question == "Menge")
    response = client.post(f"/tickets/drafts/{draft.number}/step/{position}", data={"value": "zwölf Stück"}, headers=HTMX)
    assert response.status_code == 422
    assert 'value="zwölf Stück"' in response.get_data(as_text=True)


def test_wizard_photo_over_the_request_limit_answers_without_a_form_to_swap(app, press, client):
    _, flows = press
    from tests.test_public import start_draft

    app.config["MAX_CONTENT_LENGTH"] = 64 * 1024
    client.get("/c/demo-press")
    number = start_draft(client, flows["Störung melden"])
    response = client.post(
        f"/c/demo-press/t/{number}/step/2",
        data={"files": (io.BytesIO(b"\x89PNG" + b"0" * 100_000), "foto.png")},
        content_type="multipart/form-data",
        headers=HTMX,
    )
    assert response.status_code == 413 and "<form" not in response.get_data(as_text=True)
    assert _stored_files(app) == []


@pytest.fixture
def admin_client(app, login):
    """A client logged in as an administrator."""
    return login(factories.make_employee(role=Role.ADMIN), app.test_client())


def test_admin_forms_refused_keep_the_typed_values(admin_client):
    template = factories.make_template(name="Presse HX")
    response = admin_client.post(
        "/admin/devices/new",
        data={"template_id": template.id, "name": "Presse Halle 9", "serial_number": "SN-4711",
              "picture": (io.BytesIO(b"not an image"), "x.png")},
        content_type="multipart/form-data",
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and 'value="Presse Halle 9"' in html and 'value="SN-4711"' in html

    response = admin_client.post("/admin/employees/new", data={"name": "Eva Neu", "email": "eva.neu@example.com",
                                                               "role": "moderator", "language": "en", "mode": "password"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and 'value="Eva Neu"' in html and 'value="eva.neu@example.com"' in html

    response = admin_client.post(f"/admin/templates/{template.id}", data={"name": "", "notes": "Nur Halle 9"})
    assert response.status_code == 422
    flow = factories.make_flow(db.session.get(Template, template.id))
    response = admin_client.post(f"/admin/flows/{flow.id}/steps",
                                 data={"type": "single_choice", "question": "Welche Seite?", "options": "links"})
    assert response.status_code == 422 and "Welche Seite?" in response.get_data(as_text=True)


def test_admin_typing_forms_are_boosted_and_boosted_requests_get_whole_pages(admin_client):
    page = admin_client.get("/admin/devices/new").get_data(as_text=True)
    assert re.search(r'<form method="post"[^>]*hx-boost="true"', page)
    missing = admin_client.get("/admin/devices/999999", headers={"HX-Request": "true", "HX-Boosted": "true"})
    assert missing.status_code == 404 and "<html" in missing.get_data(as_text=True)


def test_rating_no_longer_possible_keeps_the_form_with_the_comment(press, client):
    ticket = _code_user_ticket(client, press, ("finish", "reopen"))
    response = client.post(
        f"/c/demo-press/t/{ticket.number}/rate", data={"score": "4", "comment": "Schnell und freundlich"}, headers=HTMX
    )
    assert response.status_code in (403, 409)
    html = response.get_data(as_text=True)
    assert "Schnell und freundlich" in html and 'id="rating-form"' in html and 'role="alert"' in html
