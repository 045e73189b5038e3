"""Back office routes: who may open and do what, the overview's filters, constant queries, conflicts."""
import re

import pytest
import sqlalchemy as sa

from app.enums import OfferState, Role, Visibility
from app.extensions import db
from app.identity import sign_code_user_key
from app.models import Device, Ticket
from app.services import offers
from app.services import tickets as ticket_service
from app.workflow import TicketStatus
from tests import factories

ROLES = ["anonymous", "code_user", "member", "responsible", "moderator", "admin"]


def make_people():
    """One employee per back-office role, plus a spare member to assign."""
    return {
        "member": factories.make_employee(Role.MEMBER, name="Mona Member"),
        "responsible": factories.make_employee(Role.MEMBER, name="Rita Responsible"),
        "moderator": factories.make_employee(Role.MODERATOR, name="Mo Derator"),
        "admin": factories.make_employee(Role.ADMIN, name="Ada Admin"),
        "spare": factories.make_employee(Role.MEMBER, name="Sam Spare"),
    }


def make_world(people, template=None):
    """An ASSIGNED public ticket: `responsible` accepted it; `member` has nothing to do with it; plus a draft."""
    template = template or factories.make_template(fleet=[people["responsible"]])
    flow = template.flows[0] if template.flows else factories.make_flow(template)
    device = template_device(template)
    code = factories.make_code(device)
    visitor = factories.make_code_visitor(code)
    ticket = factories.make_public_ticket(flow, device, visitor)
    offers.accept_offer(ticket, actor=people["responsible"])
    draft = factories.make_ticket(flow, device, people["moderator"], submit=False)
    return {"people": people, "ticket": ticket, "draft": draft, "visitor": visitor, "flow": flow, "device": device,
            "template": template}


def template_device(template):
    """The template's device "Presse 7", made on first use."""
    device = db.session.scalar(sa.select(Device).filter_by(name="Presse 7"))
    return device or factories.make_device(template, name="Presse 7")


@pytest.fixture
def world(app):
    """People and one ASSIGNED ticket."""
    return make_world(make_people())


def client_as(app, login, world, role):
    """A test client acting as `role`."""
    client = app.test_client()
    if role == "code_user":
        client.set_cookie(app.config["CODE_USER_COOKIE"], sign_code_user_key(world["visitor"].code_user.key))
    elif role != "anonymous":
        login(world["people"][role], client)
    return client


def _forbidden_for_all_but(*roles):
    """Expected codes for an action: 303 for `roles`, 403 for other employees, 302 (to login) for the rest."""
    return {role: 303 if role in roles else 302 if role in ("anonymous", "code_user") else 403 for role in ROLES}


VIEW = {role: 302 if role in ("anonymous", "code_user") else 200 for role in ROLES}
WORKERS = ("responsible", "moderator", "admin")
MODERATORS = ("moderator", "admin")
CASES = [
    ("GET", "/tickets", None, VIEW),
    ("GET", "/tickets/{n}", None, VIEW),
    ("GET", "/tickets/new", None, VIEW),
    ("GET", "/tickets/new?device=Presse+7", None, VIEW),
    ("GET", "/", None, VIEW),
    ("GET", "/tickets/drafts/{d}/step/0", None, {**VIEW, "member": 404, "responsible": 404, "admin": 404}),
    ("GET", "/tickets/{d}", None, {**VIEW, "member": 404, "responsible": 404, "admin": 404, "moderator": 302}),
    ("GET", "/tickets/999999", None, {**VIEW, **{r: 404 for r in ("member", "responsible", "moderator", "admin")}}),
    ("POST", "/tickets/new", {"device": "Presse 7", "flow": "{flow}"}, {**VIEW, **{r: 303 for r in ("member", "responsible", "moderator", "admin")}}),
    ("POST", "/tickets/{n}/events", {"event": "start"}, _forbidden_for_all_but(*WORKERS)),
    ("POST", "/tickets/{n}/visibility", {"visibility": "internal"}, _forbidden_for_all_but(*WORKERS)),
    ("POST", "/tickets/{n}/priority", {"priority": "high"}, _forbidden_for_all_but(*WORKERS)),
    ("POST", "/tickets/{n}/offer/accept", {}, _forbidden_for_all_but()),
    ("POST", "/tickets/{n}/offer/decline", {}, _forbidden_for_all_but()),
    ("POST", "/tickets/{n}/assign", {"employee": "{spare}"}, _forbidden_for_all_but(*MODERATORS)),
    ("POST", "/tickets/{n}/withdraw", {"employee": "{responsible}"}, _forbidden_for_all_but(*MODERATORS)),
    ("POST", "/tickets/{n}/updates", {"body": "Ventil getauscht", "internal": "1"}, _forbidden_for_all_but(*WORKERS)),
    ("POST", "/tickets/{n}/delete", {"confirm": "yes"}, _forbidden_for_all_but(*MODERATORS)),
]


@pytest.mark.parametrize("method, path, data, expected", CASES, ids=[f"{c[0]} {c[1]}" for c in CASES])
def test_back_office_route_answers_each_role(app, login, method, path, data, expected):
    people = make_people()
    template = None
    answers = {}
    for role in ROLES:
        world = make_world(people, template)  # a fresh ticket for each role: actions change it
        template = world["template"]
        values = {
            "n": world["ticket"].id,
            "d": world["draft"].id,
            "flow": world["flow"].id,
            "spare": people["spare"].email,
            "responsible": people["responsible"].email,
        }
        client = client_as(app, login, world, role)
        url = path.format(**values)
        if method == "GET":
            response = client.get(url)
        else:
            form = {key: value.format(**values) for key, value in (data or {}).items()}
            form["version"] = str(db.session.get(Ticket, world["ticket"].id).version)
            response = client.post(url, data=form)
        answers[role] = response.status_code
        if role in ("anonymous", "code_user"):
            assert "/login" in response.headers["Location"]
    assert answers == expected


def test_members_offer_can_be_accepted_and_declined(app, login, world):
    ticket, member = world["ticket"], world["people"]["member"]
    other = factories.make_employee()
    for employee in (member, other):
        ticket.offers.append(offers.Offer(employee=employee, state=OfferState.PENDING))
    db.session.commit()
    client = login(member)
    page = client.get(f"/tickets/{ticket.id}").get_data(as_text=True)
    assert 'data-testid="offer-accept"' in page and 'data-testid="offer-decline"' in page
    response = client.post(f"/tickets/{ticket.id}/offer/accept", data={"version": ticket.version})
    assert response.status_code == 303
    assert ticket.offer_for(member.id).state == OfferState.ACCEPTED
    response = login(other, app.test_client()).post(f"/tickets/{ticket.id}/offer/decline", data={"version": ticket.version})
    assert response.status_code == 303
    assert ticket.offer_for(other.id).state == OfferState.DECLINED


def test_an_offer_nobody_answered_reads_so_once_the_ticket_is_finished(app, login, world):
    ticket, member = world["ticket"], world["people"]["member"]
    ticket.offers.append(offers.Offer(employee=member, state=OfferState.PENDING))
    db.session.commit()
    client = login(world["people"]["moderator"])

    def shown_state():
        page = client.get(f"/tickets/{ticket.id}").get_data(as_text=True)
        match = re.search(rf'data-employee="{re.escape(member.email)}" data-state="pending">.*?<span class="badge">([^<]+)</span>', page, re.DOTALL)
        return match.group(1)

    assert shown_state() == "Angeboten"
    ticket_service.fire_event(ticket, "close", actor=world["people"]["moderator"])
    assert shown_state() == "Nicht beantwortet"
    ticket_service.fire_event(ticket, "reopen", actor=world["people"]["moderator"])
    assert shown_state() == "Angeboten"  # open again: the offer can be accepted again


def test_status_buttons_are_the_allowed_events_only(app, login, world):
    ticket = world["ticket"]
    page = login(world["people"]["responsible"]).get(f"/tickets/{ticket.id}").get_data(as_text=True)
    for event in ("start", "finish", "close", "cancel"):
        assert f'value="{event}" data-testid="status-event"' in page
    assert 'value="reopen"' not in page and 'value="pause"' not in page
    member_page = login(world["people"]["member"], app.test_client()).get(f"/tickets/{ticket.id}").get_data(as_text=True)
    assert 'data-testid="status-event"' not in member_page
    assert 'data-testid="assign-employee"' not in member_page


def test_moderator_sees_assign_select_with_emails(app, login, world):
    page = login(world["people"]["moderator"]).get(f"/tickets/{world['ticket'].id}").get_data(as_text=True)
    assert 'data-testid="assign-employee"' in page
    assert f'<option value="{world["people"]["spare"].email}">' in page
    assert f'<option value="{world["people"]["responsible"].email}">' not in page  # already responsible


def test_htmx_action_returns_the_main_block(app, login, world, as_htmx):
    ticket = world["ticket"]
    response = login(world["people"]["responsible"]).post(
        f"/tickets/{ticket.id}/events", data={"event": "start", "version": ticket.version}, headers=as_htmx
    )
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert body.lstrip().startswith('<div id="ticket-main"') and "<html" not in body
    assert 'data-status="in_progress"' in body


def test_page_reads_head_then_conversation_then_body_then_delivery_log(app, login, world):
    page = login(world["people"]["responsible"]).get(f"/tickets/{world['ticket'].id}").get_data(as_text=True)
    order = ['id="ticket-main"', 'data-testid="status-event"', 'data-testid="messenger"', 'data-testid="message-input"',
             'id="ticket-body"', 'data-testid="update-input"', 'id="answers-title"', 'id="timeline-title"',
             'id="delivery-log"']
    assert [page.index(marker) for marker in order] == sorted(page.index(marker) for marker in order)
    assert "hx-swap-oob" not in page


def test_head_refresh_brings_the_body_out_of_band_and_never_the_messenger(app, login, world, as_htmx):
    ticket = world["ticket"]
    body = login(world["people"]["responsible"]).get(f"/tickets/{ticket.id}", headers=as_htmx).get_data(as_text=True)
    assert body.lstrip().startswith('<div id="ticket-main"')
    assert '<div id="ticket-body" class="ticket-body stack" hx-swap-oob="true">' in body
    assert '<form id="update-form"' in body and "hx-preserve" in body
    assert 'data-testid="messenger"' not in body and 'data-testid="message-input"' not in body
    assert 'id="delivery-log"' not in body


def test_stale_version_gets_409_with_refreshed_block_and_who_changed_it(app, login, world, as_htmx):
    ticket = world["ticket"]
    stale = ticket.version
    ticket_service.fire_event(ticket, "start", actor=world["people"]["moderator"])
    response = login(world["people"]["responsible"]).post(
        f"/tickets/{ticket.id}/events", data={"event": "finish", "version": stale}, headers=as_htmx
    )
    body = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "Mo Derator" in body
    assert 'data-status="in_progress"' in body
    assert db.session.get(Ticket, ticket.id).status == TicketStatus.IN_PROGRESS


def test_stale_version_without_htmx_is_a_full_page_409(app, login, world):
    ticket = world["ticket"]
    stale = ticket.version
    ticket_service.set_priority(ticket, "high", actor=world["people"]["moderator"])
    response = login(world["people"]["responsible"]).post(
        f"/tickets/{ticket.id}/visibility", data={"visibility": "internal", "version": stale}
    )
    assert response.status_code == 409
    assert "<html" in response.get_data(as_text=True)
    assert db.session.get(Ticket, ticket.id).visibility == Visibility.PUBLIC


def test_event_the_workflow_forbids_is_409(app, login, world):
    ticket = world["ticket"]
    response = login(world["people"]["moderator"]).post(
        f"/tickets/{ticket.id}/events", data={"event": "reopen", "version": ticket.version}
    )
    assert response.status_code == 409


def test_empty_update_is_422(app, login, world):
    ticket = world["ticket"]
    response = login(world["people"]["responsible"]).post(
        f"/tickets/{ticket.id}/updates", data={"body": "  ", "version": ticket.version}
    )
    assert response.status_code == 422


def test_delete_needs_confirmation(app, login, world):
    ticket = world["ticket"]
    response = login(world["people"]["moderator"]).post(f"/tickets/{ticket.id}/delete", data={})
    assert response.status_code == 422
    assert db.session.get(Ticket, ticket.id) is not None


def test_internal_and_public_updates_sit_in_their_tabs(app, login, world):
    ticket, responsible = world["ticket"], world["people"]["responsible"]
    client = login(responsible)
    client.post(f"/tickets/{ticket.id}/updates", data={"body": "Nur für uns", "internal": "1"})
    client.post(f"/tickets/{ticket.id}/updates", data={"body": "Techniker kommt morgen"})
    public_tab = client.get(f"/tickets/{ticket.id}").get_data(as_text=True)
    internal_tab = client.get(f"/tickets/{ticket.id}?updates=internal").get_data(as_text=True)
    assert "Techniker kommt morgen" in public_tab and 'data-visibility="public"' in public_tab
    assert 'data-testid="update" data-visibility="internal"' in internal_tab


def test_timeline_merges_events_messages_and_updates(app, login, world):
    from app.models import Message

    ticket, responsible = world["ticket"], world["people"]["responsible"]
    db.session.add(Message(ticket_id=ticket.id, body="Foto vom Typenschild bitte", author_employee_id=responsible.id))
    db.session.commit()
    ticket_service.post_update(ticket, "Dichtung bestellt", Visibility.INTERNAL, actor=responsible)
    ticket_service.fire_event(ticket, "start", actor=responsible)
    page = login(responsible).get(f"/tickets/{ticket.id}").get_data(as_text=True)
    timeline = page[page.index('id="timeline-title"'):].lower()
    assert "foto vom typenschild bitte" in timeline
    assert "dichtung bestellt" in timeline
    assert timeline.index("in arbeit") < timeline.index("dichtung bestellt")  # newest first
    assert "rita responsible" in timeline


def test_long_ticket_shows_newest_updates_and_entries_with_links_to_all(app, login, world):
    from app.blueprints.tickets.routes import TIMELINE_SIZE, UPDATES_SHOWN
    from app.models import Update

    ticket, responsible = world["ticket"], world["people"]["responsible"]
    count = max(UPDATES_SHOWN, TIMELINE_SIZE) + 5
    for index in range(count):
        db.session.add(Update(ticket_id=ticket.id, body=f"Schritt {index}", author_employee_id=responsible.id,
                              visibility=Visibility.PUBLIC))
    db.session.commit()
    client = login(responsible)
    page = client.get(f"/tickets/{ticket.id}").get_data(as_text=True)
    assert page.count('data-testid="update"') == UPDATES_SHOWN
    assert "all_updates=1#updates-title" in page
    assert page.count('<li class="timeline-') == TIMELINE_SIZE and "timeline=all#timeline-title" in page
    full = client.get(f"/tickets/{ticket.id}?all_updates=1&timeline=all").get_data(as_text=True)
    assert full.count('data-testid="update"') == count
    assert full.count('<li class="timeline-') > count
    assert "all_updates=1#updates-title" not in full
    assert "timeline=all#timeline-title" not in full
