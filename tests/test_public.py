"""Code-user pages: code access, PIN, tabs, assistant, wizard, ticket page, and what must never leak."""

import re

import pytest
import sqlalchemy as sa

from app.enums import Role, StepType, Visibility
from app.extensions import db
from app.models import Code, CodeUser, Flow, Ticket, Update
from app.services import tickets as ticket_service
from app.workflow import TicketStatus
from tests.factories import (
    make_employee,
    make_flow,
    make_ticket,
)


@pytest.fixture
def press(demo):
    """The demo press code, its device and its Störung flow."""
    code = db.session.scalar(sa.select(Code).filter_by(token="demo-press"))
    flow = db.session.scalar(sa.select(Flow).filter_by(template_id=code.device.template_id, title="Störung melden"))
    return code, code.device, flow


def visitor_of(client):
    """The code visitor the client's cookie belongs to (after it opened a code page)."""
    from app.identity import CodeVisitor, read_code_user_key, valid_device_ids

    cookie = client.get_cookie("tw_code_user")
    key = read_code_user_key(cookie.value)
    code_user = db.session.scalar(sa.select(CodeUser).filter_by(key=key))
    return CodeVisitor(code_user, valid_device_ids(code_user))


def start_draft(client, flow):
    """Start a draft through the flow route; returns the ticket number."""
    response = client.post(f"/c/demo-press/flows/{flow.id}")
    assert response.status_code == 302
    number = int(re.search(r"/t/(\d+)/step/0", response.headers["Location"]).group(1))
    return number


def test_unknown_and_disabled_codes_show_the_inactive_page(press, client):
    code, device, _ = press
    response = client.get("/c/no-such-code")
    assert response.status_code == 404
    assert "not active" in response.get_data(as_text=True) or "nicht aktiv" in response.get_data(as_text=True)
    code.enabled = False
    db.session.commit()
    response = client.get("/c/demo-press")
    assert response.status_code == 404
    assert device.name not in response.get_data(as_text=True)


def test_device_page_shows_assistant_with_action_buttons(press, client):
    response = client.get("/c/demo-press", headers={"Accept-Language": "en"})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "HP-200 Halle 1" in html
    assert html.count('data-testid="action-button"') == 3
    assert 'data-testid="nav-tickets"' in html
    assert "tw_code_user" in response.headers.get("Set-Cookie", "")


def test_assistant_element_and_foreign_element(press, client):
    _code, device, _ = press
    manual = next(e for e in device.template.elements if e.title == "Bedienungsanleitung")
    assert client.get(f"/c/demo-press/a/{manual.id}").status_code == 200
    cooler = db.session.scalar(sa.select(Code).filter_by(token="demo-cooler"))
    foreign = cooler.device.template.elements[0]
    assert client.get(f"/c/demo-press/a/{foreign.id}").status_code == 404


def test_flow_choice_lists_active_flows(press, client):
    html = client.get("/c/demo-press/new").get_data(as_text=True)
    assert html.count('data-testid="flow-choice"') == 2
    assert "Ersatzteil bestellen" in html


def test_foreign_flow_cannot_be_started(press, client):
    cooler = db.session.scalar(sa.select(Code).filter_by(token="demo-cooler"))
    foreign_flow = cooler.device.template.flows[0]
    client.get("/c/demo-press")
    assert client.post(f"/c/demo-press/flows/{foreign_flow.id}").status_code == 404
    assert db.session.scalar(sa.select(sa.func.count(Ticket.id))) == 0


def test_pin_code_asks_for_pin_and_refuses_wrong_one(demo, client):
    response = client.get("/c/demo-pin")
    html = response.get_data(as_text=True)
    assert 'data-testid="pin-input"' in html and "HP-200 Halle 2" not in html
    wrong = client.post(
        "/c/demo-pin/pin",
        data={"pin": "0000", "next": "/c/demo-pin"},
        headers={"Accept-Language": "en"},
    )
    assert wrong.status_code == 422
    assert "PIN is not correct" in wrong.get_data(as_text=True)
    right = client.post("/c/demo-pin/pin", data={"pin": "4711", "next": "/c/demo-pin?tab=tickets"})
    assert right.status_code == 302 and right.headers["Location"].endswith("/c/demo-pin?tab=tickets")
    assert "HP-200 Halle 2" in client.get("/c/demo-pin").get_data(as_text=True)


def test_pin_redirect_stays_on_the_code(demo, client):
    response = client.post("/c/demo-pin/pin", data={"pin": "4711", "next": "https://evil.example/"})
    assert response.headers["Location"].endswith("/c/demo-pin")


def test_pin_pages_behind_the_pin_are_closed(demo, client):
    assert 'data-testid="pin-input"' in client.get("/c/demo-pin?tab=history").get_data(as_text=True)
    assert client.post("/c/demo-pin/flows/1").status_code == 403
    assert db.session.scalar(sa.select(sa.func.count(Ticket.id))) == 0


@pytest.mark.parametrize("app", [{"PIN_FREE_FAILURES": 3}], indirect=True)
def test_repeated_wrong_pins_make_the_client_wait(demo, client):
    for _ in range(3):
        assert client.post("/c/demo-pin/pin", data={"pin": "1"}).status_code == 422
    limited = client.post("/c/demo-pin/pin", data={"pin": "4711"})
    assert limited.status_code == 429


def test_wizard_walks_every_step_and_submits(press, client):
    _, _device, flow = press
    client.get("/c/demo-press")
    number = start_draft(client, flow)
    base = f"/c/demo-press/t/{number}/step"
    page = client.get(f"{base}/0", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert 'data-testid="step-input"' in page and 'data-testid="wizard-next"' in page and "Step 1 of 4" in page
    assert client.post(f"{base}/0", data={"value": "Presse klemmt"}).headers["Location"].endswith(f"{base}/1")
    assert client.post(f"{base}/1", data={"value": "Seit heute früh."}).status_code == 303
    assert client.post(f"{base}/2", data={}).status_code == 303
    page = client.get(f"{base}/3").get_data(as_text=True)
    assert page.count('data-testid="step-option"') == 2
    response = client.post(f"{base}/3", data={"value": "yes"})
    assert response.headers["Location"].endswith(f"/c/demo-press/t/{number}")
    ticket = db.session.get(Ticket, number)
    assert ticket.status == TicketStatus.OPEN and ticket.title == "Presse klemmt"
    html = client.get(f"/c/demo-press/t/{number}").get_data(as_text=True)
    assert 'data-status="open"' in html and "Seit heute früh." in html and 'data-testid="ticket-cancel"' in html


def test_wizard_htmx_success_redirects_on_the_client(press, client, as_htmx):
    _, _, flow = press
    client.get("/c/demo-press")
    number = start_draft(client, flow)
    response = client.post(f"/c/demo-press/t/{number}/step/0", data={"value": "x"}, headers=as_htmx)
    assert response.headers["HX-Redirect"].endswith(f"/t/{number}/step/1")


@pytest.mark.parametrize(
    ("position", "data", "message"),
    [
        (0, {"value": ""}, "This question needs an answer."),
        (0, {"value": "x" * 300}, "Please keep it under 255 characters."),
        (3, {"value": "maybe"}, "Please answer yes or no."),
        (3, {}, "This question needs an answer."),
    ],
)
def test_wizard_refuses_bad_answers_with_422(press, client, as_htmx, position, data, message):
    _, _, flow = press
    client.get("/c/demo-press")
    number = start_draft(client, flow)
    response = client.post(
        f"/c/demo-press/t/{number}/step/{position}",
        data=data,
        headers={**as_htmx, "Accept-Language": "en"},
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in html and html.lstrip().startswith("<form")
    assert db.session.get(Ticket, number).answers[position].answered is False


def test_wizard_number_and_choice_steps(demo, client):
    code = db.session.scalar(sa.select(Code).filter_by(token="demo-press"))
    steps = [
        ("Menge", StepType.NUMBER, True, False, []),
        ("Wann?", StepType.DATE, True, False, []),
        ("Art", StepType.SINGLE_CHOICE, True, False, ["Öl", "Strom"]),
        ("Teile", StepType.MULTI_CHOICE, False, False, ["A", "B"]),
        ("Wie dringend?", StepType.PRIORITY, True, False, []),
        ("Kontakt", StepType.REQUESTER, False, False, []),
    ]
    flow = make_flow(code.device.template, title="Alles", steps=steps)
    client.get("/c/demo-press")
    number = start_draft(client, flow)
    base = f"/c/demo-press/t/{number}/step"
    en = {"Accept-Language": "en"}
    assert "Please enter a number" in client.post(f"{base}/0", data={"value": "viele"}, headers=en).get_data(
        as_text=True
    )
    assert client.post(f"{base}/0", data={"value": "2,5"}).status_code == 303
    assert client.post(f"{base}/1", data={"value": "31.12."}).status_code == 422
    assert client.post(f"{base}/1", data={"value": "2026-12-31"}).status_code == 303
    assert client.post(f"{base}/2", data={"value": "Wasser"}).status_code == 422
    assert client.post(f"{base}/2", data={"value": "Öl"}).status_code == 303
    assert client.post(f"{base}/3", data={"value": ["A", "C"]}).status_code == 422
    assert client.post(f"{base}/3", data={"value": ["B", "A"]}).status_code == 303
    page = client.get(f"{base}/4").get_data(as_text=True)
    assert page.count('data-testid="step-option"') == 3
    assert client.post(f"{base}/4", data={"value": "high"}).status_code == 303
    assert client.post(f"{base}/5", data={"name": "", "email": "a@b.de"}).status_code == 422
    assert client.post(f"{base}/5", data={"name": "Max", "email": "kaputt"}).status_code == 422
    assert client.post(f"{base}/5", data={"name": "Max", "email": "max@example.com"}).status_code == 303
    ticket = db.session.get(Ticket, number)
    assert ticket.status == TicketStatus.OPEN
    assert [a.value for a in ticket.answers][:4] == [
        2.5,
        "2026-12-31",
        "Öl",
        ["A", "B"],
    ]
    assert ticket.priority.value == "high"


def test_reload_resumes_the_draft_from_the_tickets_tab(press, client):
    _, _, flow = press
    client.get("/c/demo-press")
    number = start_draft(client, flow)
    client.post(f"/c/demo-press/t/{number}/step/0", data={"value": "Gespeichert"})
    tab = client.get("/c/demo-press?tab=tickets", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Your drafts" in tab
    resume = client.get(f"/c/demo-press/t/{number}")
    assert resume.headers["Location"].endswith(f"/t/{number}/step/1")
    assert 'value="Gespeichert"' in client.get(f"/c/demo-press/t/{number}/step/0").get_data(as_text=True)


def test_submitting_with_a_missing_answer_goes_back_to_that_step(press, client):
    _, _, flow = press
    client.get("/c/demo-press")
    number = start_draft(client, flow)
    response = client.post(f"/c/demo-press/t/{number}/step/3", data={"value": "no"})
    assert response.headers["Location"].endswith(f"/t/{number}/step/0")
    assert db.session.get(Ticket, number).status == TicketStatus.DRAFT


def test_drafts_are_only_for_their_browser(press, client, app):
    _, _, flow = press
    client.get("/c/demo-press")
    number = start_draft(client, flow)
    other = app.test_client()
    other.get("/c/demo-press")
    assert other.get(f"/c/demo-press/t/{number}/step/0").status_code == 404
    assert other.post(f"/c/demo-press/t/{number}/step/0", data={"value": "x"}).status_code == 404
    assert other.post(f"/c/demo-press/t/{number}/delete").status_code == 404
    assert "Gespeichert" not in other.get("/c/demo-press?tab=tickets").get_data(as_text=True)


def test_delete_draft(press, client):
    _, _, flow = press
    client.get("/c/demo-press")
    number = start_draft(client, flow)
    assert client.post(f"/c/demo-press/t/{number}/delete").status_code == 303
    assert db.session.get(Ticket, number) is None


def employee_tickets(device, flow):
    """An INTERNAL ticket with an internal update, and a PUBLIC one with public and internal updates."""
    admin = make_employee(role=Role.ADMIN)
    internal = make_ticket(flow, device, admin, visibility=Visibility.INTERNAL)
    ticket_service.post_update(internal, "Geheimer interner Vermerk", Visibility.INTERNAL, actor=admin)
    public = make_ticket(flow, device, admin, visibility=Visibility.PUBLIC)
    ticket_service.post_update(public, "Öffentlicher Fortschritt", Visibility.PUBLIC, actor=admin)
    ticket_service.post_update(public, "Interne Notiz zum Öffentlichen", Visibility.INTERNAL, actor=admin)
    return admin, internal, public


def test_internal_tickets_and_updates_never_reach_code_users(press, client):
    _, device, flow = press
    _, internal, public = employee_tickets(device, flow)
    client.get("/c/demo-press")
    tickets_tab = client.get("/c/demo-press?tab=tickets").get_data(as_text=True)
    assert f'data-ticket-number="{public.number}"' in tickets_tab
    assert f'data-ticket-number="{internal.number}"' not in tickets_tab
    history = client.get("/c/demo-press?tab=history").get_data(as_text=True)
    assert "Öffentlicher Fortschritt" in history
    assert "Geheim" not in history and "Interne Notiz" not in history
    page = client.get(f"/c/demo-press/t/{public.number}").get_data(as_text=True)
    assert "Öffentlicher Fortschritt" in page and "Interne Notiz" not in page
    assert page.count('data-testid="update"') == 1
    for url in (
        f"/c/demo-press/t/{internal.number}",
        f"/c/demo-press/t/{internal.number}/live",
        "/c/demo-press/t/99999",
    ):
        assert client.get(url).status_code == 404
    assert client.post(f"/c/demo-press/t/{internal.number}/updates", data={"body": "hi"}).status_code == 404
    assert client.post(f"/c/demo-press/t/{internal.number}/cancel").status_code == 404


def test_a_ticket_that_turned_internal_says_so_and_leads_back_to_the_device(press, client, as_htmx):
    _, device, flow = press
    admin, _, public = employee_tickets(device, flow)
    client.get("/c/demo-press")
    assert client.get(f"/c/demo-press/t/{public.number}").status_code == 200
    ticket_service.set_visibility(public, Visibility.INTERNAL, actor=admin)
    pages = [client.get(f"/c/demo-press/t/{number}") for number in (public.number, 99999)]
    assert [page.status_code for page in pages] == [404, 404]
    gone, never = (page.get_data(as_text=True).replace(f"/t/{number}?", "/t/N?") for page, number in zip(pages, (public.number, 99999)))
    assert gone == never  # gone and never there read alike (but for the language switch's way back)
    html = pages[0].get_data(as_text=True)
    assert 'data-testid="ticket-unavailable"' in html and 'href="/c/demo-press"' in html
    assert "Öffentlicher Fortschritt" not in html and "Interne Notiz" not in html
    live = client.get(f"/c/demo-press/t/{public.number}/live", headers=as_htmx)
    fragment = live.get_data(as_text=True)
    assert live.status_code == 404 and fragment.lstrip().startswith('<div class="card" data-testid="ticket-unavailable"')
    assert 'href="/c/demo-press"' in fragment


def test_another_devices_ticket_is_not_found(press, client):
    _, _, _ = press
    cooler = db.session.scalar(sa.select(Code).filter_by(token="demo-cooler"))
    admin = make_employee(role=Role.ADMIN)
    foreign = make_ticket(
        cooler.device.template.flows[0],
        cooler.device,
        admin,
        visibility=Visibility.PUBLIC,
    )
    client.get("/c/demo-press")
    client.get("/c/demo-cooler")
    # Reachable through its own code, never through another device's code.
    assert client.get(f"/c/demo-cooler/t/{foreign.number}").status_code == 200
    assert client.get(f"/c/demo-press/t/{foreign.number}").status_code == 404


def test_live_block_is_a_fragment(press, client, as_htmx):
    _, device, flow = press
    _, _, public = employee_tickets(device, flow)
    client.get("/c/demo-press")
    response = client.get(f"/c/demo-press/t/{public.number}/live", headers=as_htmx)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and html.lstrip().startswith('<section id="ticket-live"')
    assert "Interne Notiz" not in html and 'data-testid="ticket-status"' in html


def test_code_user_posts_public_update_and_cancels(press, client):
    _, _, flow = press
    client.get("/c/demo-press")
    visitor = visitor_of(client)
    ticket = make_ticket(flow, press[1], visitor)
    url = f"/c/demo-press/t/{ticket.number}"
    assert client.post(f"{url}/updates", data={"body": ""}).status_code == 422
    assert client.post(f"{url}/updates", data={"body": "Es tropft jetzt auch."}).status_code == 303
    update = db.session.scalar(sa.select(Update).filter_by(ticket_id=ticket.number))
    assert update.visibility == Visibility.PUBLIC and update.author_code_user_id == visitor.id
    assert client.post(f"{url}/cancel").status_code == 303
    db.session.refresh(ticket)
    assert ticket.status == TicketStatus.CANCELLED
    html = client.get(url).get_data(as_text=True)
    assert 'data-testid="ticket-cancel"' not in html and 'data-testid="update-input"' not in html
    assert 'data-testid="new-ticket"' in html


def test_rating_closes_and_closed_ticket_refuses_writes(press, client):
    _, device, flow = press
    client.get("/c/demo-press")
    visitor = visitor_of(client)
    admin = make_employee(role=Role.ADMIN)
    ticket = make_ticket(flow, device, visitor)
    from app.services import offers

    offers.assign_employee(ticket, admin, actor=admin)
    ticket_service.fire_event(ticket, "finish", actor=admin)
    url = f"/c/demo-press/t/{ticket.number}"
    html = client.get(url).get_data(as_text=True)
    assert html.count('data-testid="rating-option"') == 5
    assert client.post(f"{url}/rate", data={"score": "9"}).status_code == 422
    assert client.post(f"{url}/rate", data={"score": "4", "comment": "Schnell"}).status_code == 303
    db.session.refresh(ticket)
    assert ticket.status == TicketStatus.CLOSED and ticket.rating.score == 4
    before = db.session.scalar(sa.select(sa.func.count(Update.id)))
    refused = client.post(f"{url}/updates", data={"body": "Noch was"}, headers={"Accept-Language": "en"})
    assert refused.status_code == 403 and "cannot post updates" in refused.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(Update.id))) == before
    assert client.post(f"{url}/rate", data={"score": "5"}).status_code == 403
    assert client.post(f"{url}/cancel").status_code == 403


def test_updates_block_is_a_fragment(press, client, as_htmx):
    _, device, flow = press
    _, _, public = employee_tickets(device, flow)
    client.get("/c/demo-press")
    html = client.get(f"/c/demo-press/t/{public.number}/live?part=updates", headers=as_htmx).get_data(as_text=True)
    assert html.lstrip().startswith('<section id="ticket-updates"')
    assert "Öffentlicher Fortschritt" in html and "Interne Notiz" not in html


@pytest.mark.parametrize("app", [{"PUBLIC_RATE_LIMIT": "3 per minute"}], indirect=True)
def test_public_pages_are_rate_limited(demo, client):
    for _ in range(3):
        assert client.get("/c/demo-press").status_code == 200
    assert client.get("/c/demo-press").status_code == 429


def test_code_pages_stay_small(press, client):
    """HTML, CSS and JS of the ticket page stay under 100 KB gzipped."""
    import gzip

    _, device, flow = press
    _, _, public = employee_tickets(device, flow)
    client.get("/c/demo-press")
    for url in (
        f"/c/demo-press/t/{public.number}",
        "/c/demo-press",
        f"/c/demo-press/t/{start_draft(client, flow)}/step/2",
    ):
        html = client.get(url).get_data()
        total = len(gzip.compress(html))
        for asset in re.findall(rb'(?:src|href)="(/static/[^"]+)"', html):
            with client.get(asset.decode()) as response:
                total += len(gzip.compress(response.get_data()))
        assert total < 100 * 1024, (url, total)


@pytest.mark.parametrize(
    ("kind", "options", "expected"),
    [
        (StepType.VISIBILITY, ["internal", "public"], ["internal", "public"]),
        (StepType.PRIORITY, [], ["low", "normal", "high"]),
        (StepType.YES_NO, [], ["yes", "no"]),
        (StepType.SINGLE_CHOICE, ["Öl", "Strom"], ["Öl", "Strom"]),
    ],
)
def test_step_partial_renders_choice_hooks_for_every_choice_type(app, kind, options, expected):
    """The staff wizard reuses wizard/_step.html; every choice carries step-option with the contract value."""
    from types import SimpleNamespace

    from flask import render_template

    from app.blueprints.wizard.forms import step_form

    answer = SimpleNamespace(
        type=kind, question="Frage", help_text="", required=True, options=options, value=None, attachments=[]
    )
    with app.test_request_context("/"):
        html = render_template(
            "wizard/_step.html",
            form=step_form(answer),
            form_action="/x",
            back_url="/y",
            answer=answer,
            position=0,
            total=1,
        )
    values = re.findall(r'value="([^"]*)"\s+data-testid="step-option"', html)
    assert values == expected
    assert 'data-testid="wizard-next"' in html and 'data-testid="wizard-back"' in html


def test_device_picture_is_shown_to_code_users_of_that_device(app, client):
    import io
    import os

    from PIL import Image

    from app.services import uploads
    from tests.factories import make_code, make_device, make_template

    device = make_device(make_template(), name="Presse mit Bild")
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), "navy").save(buffer, "JPEG")
    device.picture_name = "devicepicture.jpg"
    with open(os.path.join(uploads.folder(), device.picture_name), "wb") as handle:
        handle.write(buffer.getvalue())
    db.session.commit()
    code = make_code(device)
    page = client.get(f"/c/{code.token}").get_data(as_text=True)
    assert f"/c/{code.token}/picture" in page
    response = client.get(f"/c/{code.token}/picture")
    assert response.status_code == 200 and response.mimetype == "image/jpeg"
    response.close()
    bare = make_code(make_device(make_template()))
    assert client.get(f"/c/{bare.token}/picture").status_code == 404
