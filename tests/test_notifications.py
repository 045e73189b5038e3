"""Who hears of what (DESIGN.md §5), the in-app list and bell, settings, the delivery log."""
import pytest
import sqlalchemy as sa

from app.enums import (
    Channel,
    DeliveryStatus,
    NotificationEvent,
    Origin,
    Role,
    StepType,
    Strategy,
    Visibility,
)
from app.extensions import db, socketio
from app.models import Delivery, Notification, NotificationPreference, TicketReceiver
from app.services import (
    inbox,
    live,
    messenger,
    notification_preferences,
    notifications,
    offers,
    receiver_emails,
    tickets,
)
from app.services.notification_wording import describe
from tests.factories import (
    DEFAULT_STEPS,
    make_code,
    make_code_visitor,
    make_device,
    make_employee,
    make_flow,
    make_template,
    make_ticket,
)

STEPS_WITH_REQUESTER = DEFAULT_STEPS + [("Kontakt", StepType.REQUESTER, False, False, [])]


class World:
    """A template with a fleet (Anna, Ben, Carla), a notify group (Nora), a moderator and a code user."""

    def __init__(self):
        self.anna = make_employee(name="Anna", language="de")
        self.ben = make_employee(name="Ben", language="en")
        self.carla = make_employee(name="Carla")
        self.nora = make_employee(name="Nora")
        self.mod = make_employee(Role.MODERATOR, name="Moritz")
        self.template = make_template(fleet=[self.anna, self.ben, self.carla], notify=[self.nora])
        self.flow = make_flow(self.template, steps=STEPS_WITH_REQUESTER)
        self.device = make_device(self.template)
        self.code = make_code(self.device)
        self.visitor = make_code_visitor(self.code)

    def code_user_ticket(self, confirmed=True):
        """A PUBLIC ticket submitted by the code user, who left max@example.com and (unless `confirmed` is False)
        confirmed it through the link of the confirmation mail before anything was sent."""
        ticket = make_ticket(self.flow, self.device, self.visitor)
        if confirmed:
            receiver = db.session.scalar(sa.select(TicketReceiver).filter_by(ticket_id=ticket.id))
            receiver_emails.confirm_email(receiver_emails.confirmation_url(receiver).rsplit("/", 1)[1])
        return ticket


def of(ticket, person=None, event=None):
    """Notifications of a ticket, optionally for one employee and event."""
    query = sa.select(Notification).filter_by(ticket_id=ticket.id)
    if person is not None:
        query = query.filter_by(employee_id=person.id)
    if event is not None:
        query = query.filter_by(event=event)
    return list(db.session.scalars(query.order_by(Notification.id)))


def employees_told(ticket, event):
    """Names of employees notified of `event`."""
    return sorted(n.employee.name for n in of(ticket, event=event) if n.employee_id)


def forget_request_state():
    """Tests share one app context (and g) across requests: drop who was asking."""
    from flask import g

    for key in ("_login_user", "code_user", "code_visitor"):
        g.pop(key, None)


@pytest.fixture
def world(app):
    return World()


def test_submit_offers_to_fleet_and_tells_notify_group(world):
    ticket = world.code_user_ticket()
    assert employees_told(ticket, NotificationEvent.OFFER_RECEIVED) == ["Anna", "Ben", "Carla"]
    assert employees_told(ticket, NotificationEvent.TICKET_CREATED) == ["Nora"]
    assert not of(ticket, world.mod)
    receiver = db.session.scalar(sa.select(TicketReceiver).filter_by(ticket_id=ticket.id))
    assert receiver.email == "max@example.com" and receiver.code_user_id == world.visitor.id


def test_declined_offer_stops_notifications_pending_and_responsible_hear(world):
    ticket = world.code_user_ticket()
    offers.decline_offer(ticket, actor=world.ben)
    offers.accept_offer(ticket, actor=world.anna)
    tickets.fire_event(ticket, "start", actor=world.mod)
    told = employees_told(ticket, NotificationEvent.STATUS_CHANGED)
    assert told == ["Anna", "Carla"]  # Anna responsible, Carla's offer still pending, Ben declined
    assert employees_told(ticket, NotificationEvent.OFFER_ACCEPTED) == ["Carla"]  # not Anna herself, not Ben


def test_assigned_and_withdrawn_employee_hears_it(world):
    ticket = world.code_user_ticket()
    outsider = make_employee(name="Olga")
    offers.assign_employee(ticket, outsider, actor=world.mod)
    assert "Olga" in employees_told(ticket, NotificationEvent.ASSIGNED)
    offers.withdraw_employee(ticket, outsider, actor=world.mod)
    assert "Olga" in employees_told(ticket, NotificationEvent.WITHDRAWN)
    assert "Moritz" not in employees_told(ticket, NotificationEvent.WITHDRAWN)


def test_origin_filter_own_actions(world):
    ticket = world.code_user_ticket()
    offers.accept_offer(ticket, actor=world.anna)
    tickets.fire_event(ticket, "start", actor=world.anna)
    assert not of(ticket, world.anna, NotificationEvent.STATUS_CHANGED)
    db.session.add(
        NotificationPreference(
            employee_id=world.anna.id, event=NotificationEvent.STATUS_CHANGED, channels=[], origin=Origin.ALL
        )
    )
    db.session.commit()
    tickets.fire_event(ticket, "pause", actor=world.anna)
    assert len(of(ticket, world.anna, NotificationEvent.STATUS_CHANGED)) == 1


def _receiver_notifications(ticket):
    """News for the ticket's code users (not the mail that confirms their address)."""
    return list(db.session.scalars(sa.select(Notification).filter(
        Notification.ticket_id == ticket.id, Notification.receiver_id.is_not(None),
        Notification.event != NotificationEvent.EMAIL_CONFIRMATION)))


def test_code_user_hears_public_never_internal(app, world):
    app.config["MAIL_SERVER"] = "127.0.0.1"
    ticket = world.code_user_ticket()
    offers.accept_offer(ticket, actor=world.anna)
    before = len(_receiver_notifications(ticket))
    assert before == 1  # "Anna took on your ticket"
    tickets.post_update(ticket, "Geheim: Lieferant wechseln", Visibility.INTERNAL, actor=world.anna)
    assert len(_receiver_notifications(ticket)) == before
    internal_staff = of(ticket, world.carla, NotificationEvent.UPDATE_POSTED)
    assert internal_staff and internal_staff[0].detail["internal"] is True
    tickets.post_update(ticket, "Ersatzteil bestellt", Visibility.PUBLIC, actor=world.anna)
    public = _receiver_notifications(ticket)[-1]
    assert public.event == NotificationEvent.UPDATE_POSTED and public.detail["excerpt"] == "Ersatzteil bestellt"
    assert [d.channel for d in public.deliveries] == [Channel.EMAIL]
    tickets.set_visibility(ticket, Visibility.INTERNAL, actor=world.anna)
    count = len(_receiver_notifications(ticket))
    tickets.fire_event(ticket, "start", actor=world.anna)
    tickets.post_update(ticket, "Jetzt intern", Visibility.INTERNAL, actor=world.anna)
    assert len(_receiver_notifications(ticket)) == count
    for notification in _receiver_notifications(ticket):
        assert "Geheim" not in str(notification.detail) and not notification.detail.get("internal")


def test_code_user_not_told_of_own_rating(world):
    ticket = world.code_user_ticket()
    offers.accept_offer(ticket, actor=world.anna)
    tickets.fire_event(ticket, "finish", actor=world.anna)
    count = len(_receiver_notifications(ticket))
    tickets.rate_ticket(ticket, 5, "", actor=world.visitor)
    assert len(_receiver_notifications(ticket)) == count
    assert employees_told(ticket, NotificationEvent.RATED) == ["Anna", "Ben", "Carla"]


def test_default_channels_and_strategy_chain(app, world):
    ticket = world.code_user_ticket()
    offer = of(ticket, world.anna, NotificationEvent.OFFER_RECEIVED)[0]
    assert [d.channel for d in offer.deliveries] == [Channel.WEBSOCKET]  # no SMTP configured, no push subscription
    app.config["MAIL_SERVER"] = "127.0.0.1"
    notification_preferences.save_preferences(
        world.anna, {NotificationEvent.OFFER_RECEIVED: ({Channel.PUSH, Channel.EMAIL}, Origin.OTHERS, Strategy.FIRST_SUCCESS)}
    )
    db.session.commit()
    second = make_ticket(world.flow, world.device, world.visitor)
    chain = of(second, world.anna, NotificationEvent.OFFER_RECEIVED)[0].deliveries
    assert [(d.channel, d.position, d.first_success_only) for d in chain] == [
        (Channel.EMAIL, 1, True),
        (Channel.PUSH, 2, True),
    ]
    assert chain[1].next_attempt_at == notifications.WAITING
    ben = of(second, world.ben, NotificationEvent.OFFER_RECEIVED)[0].deliveries
    assert [d.channel for d in ben] == [Channel.WEBSOCKET, Channel.EMAIL]


def test_live_toast_after_commit_marks_websocket_sent_once(app, world, monkeypatch):
    emitted = []
    monkeypatch.setattr(socketio, "emit", lambda event, payload=None, **kw: emitted.append((event, payload, kw.get("to"))))
    ticket = world.code_user_ticket()
    rings = [(payload, room) for event, payload, room in emitted if event == "notification-added"]
    rooms = {room for _, room in rings}
    assert rooms == {f"user:{e.id}" for e in (world.anna, world.ben, world.carla, world.nora)}
    anna_ring = next(payload for payload, room in rings if room == f"user:{world.anna.id}")["html"]
    assert 'data-testid="notification-count"' in anna_ring and 'data-count="1"' in anna_ring
    assert anna_ring.count('class="toast"') == 1 and f'href="/tickets/{ticket.id}"' in anna_ring
    assert ticket.display_number in anna_ring
    sent = db.session.scalars(sa.select(Delivery).filter_by(channel=Channel.WEBSOCKET)).all()
    assert sent and all(d.status == DeliveryStatus.SENT and d.attempts == 1 for d in sent)
    assert not live.claim_live(sent[0].id)  # a second sender finds nothing to send


def test_live_frame_is_rendered_in_the_employees_language_outside_a_request(app, world, monkeypatch):
    """The dispatcher's thread has no request: the frame still renders, in the reader's language, escaped."""
    from flask import has_request_context

    ticket = world.code_user_ticket()
    offer = of(ticket, world.anna, NotificationEvent.OFFER_RECEIVED)[0]
    offer.actor_name = "<b>Max</b>"
    emitted = []
    monkeypatch.setattr(socketio, "emit", lambda event, payload=None, **kw: emitted.append((event, payload, kw.get("to"))))
    assert not has_request_context()
    live.emit_live(world.anna, [offer])
    (event, payload, room), = emitted
    assert event == "notification-added" and room == f"user:{world.anna.id}"
    assert f"Neues Ticketangebot für Sie: {ticket.display_number}" in payload["html"]
    assert f'data-notification-id="{offer.id}"' in payload["html"] and 'data-testid="notification-count"' in payload["html"]
    assert "<b>" not in payload["html"]


def test_bell_list_stacks_and_mark_read(client, login, world, as_htmx):
    ticket = world.code_user_ticket()
    offers.accept_offer(ticket, actor=world.ben)
    tickets.post_update(ticket, "eins", Visibility.PUBLIC, actor=world.ben)
    tickets.post_update(ticket, "zwei", Visibility.PUBLIC, actor=world.ben)
    login(world.anna)
    bell = client.get("/notifications/bell")
    assert b'data-testid="notification-count"' in bell.data and b">4</span>" in bell.data
    page = client.get("/notifications").get_data(as_text=True)
    assert page.count('data-testid="notification"') == 3  # offer, accepted, updates ×2 stacked
    assert f'href="/tickets/{ticket.id}"' in page and "&times;2" in page
    newest = of(ticket, world.anna, NotificationEvent.UPDATE_POSTED)[-1]
    response = client.post(f"/notifications/{newest.id}/read", headers=as_htmx)
    assert response.status_code == 200 and b'id="notification-list"' in response.data
    assert b'hx-swap-oob="true">2</span>' in response.data  # the bell's count follows out of band
    assert inbox.unread_count(world.anna.id) == 2
    client.post("/notifications/read-all")
    assert inbox.unread_count(world.anna.id) == 0
    login(world.ben)
    from flask import g

    g.pop("_login_user", None)  # the test shares one app context (and g) across requests
    response = client.post(f"/notifications/{newest.id}/read")
    assert response.status_code == 404, response.headers.get("Location")  # not Ben's


def test_nav_shows_bell_on_staff_pages(client, login, world):
    world.code_user_ticket()
    login(world.anna)
    page = client.get("/").get_data(as_text=True)
    assert 'data-testid="notification-count"' in page and "js/notifications.js" in page


def test_settings_page_saves_per_event_choices(client, login, world):
    login(world.anna)
    page = client.get("/settings/notifications")
    assert page.status_code == 200 and b"offer_received-email" in page.data
    form = {"offer_received-push": "1", "offer_received-origin": "all", "offer_received-strategy": "first_success"}
    for event in NotificationEvent:
        form.setdefault(f"{event.value}-origin", "others")
        form.setdefault(f"{event.value}-strategy", "all")
    assert client.post("/settings/notifications", data=form).status_code == 302
    preference = notification_preferences.preference_for(world.anna, NotificationEvent.OFFER_RECEIVED)
    assert preference.channels == {Channel.PUSH}
    assert preference.origin == Origin.ALL and preference.strategy == Strategy.FIRST_SUCCESS
    assert notification_preferences.preference_for(world.anna, NotificationEvent.RATED).channels == set()
    form["rated-origin"] = "everyone"
    form["rated-email"] = "1"
    refused = client.post("/settings/notifications", data=form)
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert page.count('class="has-error"') == 1 and 'aria-invalid="true"' in page
    assert 'checked id="rated-email"' in page and 'checked id="rated-push"' not in page  # what was ticked stays
    assert notification_preferences.preference_for(world.anna, NotificationEvent.RATED).channels == set()


def test_settings_requires_login(client):
    assert client.get("/settings/notifications").status_code == 302
    assert client.get("/notifications").status_code == 302


def test_service_worker_and_manifest(client):
    worker = client.get("/service-worker.js")
    assert worker.status_code == 200 and worker.mimetype == "text/javascript"
    assert worker.headers["Service-Worker-Allowed"] == "/" and "no-cache" in worker.headers["Cache-Control"]
    assert b'addEventListener("push"' in worker.data
    manifest = client.get("/manifest.webmanifest")
    assert manifest.mimetype == "application/manifest+json"
    body = manifest.get_json()
    assert body["display"] == "standalone" and {i["sizes"] for i in body["icons"]} >= {"192x192", "512x512"}
    icon = client.get(body["icons"][0]["src"])
    assert icon.status_code == 200 and icon.mimetype == "image/png"
    icon.close()


def test_delivery_log_for_staff_only(app, world):
    from flask import render_template_string

    ticket = world.code_user_ticket()
    template = '{% include "notifications/_delivery_log.html" %}'
    with app.test_request_context():
        from flask_login import login_user

        login_user(world.mod)
        html = render_template_string(template, ticket=ticket)
    assert "Anna" in html and 'data-delivery-status="sent"' in html
    with app.test_request_context():
        from flask import g

        g.pop("_login_user", None)
        assert render_template_string(template, ticket=ticket).strip() == ""


def _deliveries_of(ticket):
    """Ids of the ticket's deliveries, newest first."""
    query = sa.select(Delivery.id).join(Notification, Notification.id == Delivery.notification_id)
    return list(db.session.scalars(query.where(Notification.ticket_id == ticket.id).order_by(Delivery.id.desc())))


def _shown_statuses(html):
    """How many delivery entries a page shows."""
    return html.count("data-delivery-status=")


def test_ticket_page_shows_the_newest_deliveries_and_links_to_the_whole_log(app, client, login, world):
    ticket = world.code_user_ticket()
    for number in range(8):  # each message rings the fleet: far more deliveries than the page shows
        messenger.post_message(ticket, f"Unterwegs, Nachricht {number}", actor=world.mod)
    total = len(_deliveries_of(ticket))
    assert total > inbox.DELIVERY_LOG_SHOWN
    login(world.mod)
    page = client.get(f"/tickets/{ticket.id}").get_data(as_text=True)
    log = page[page.index('id="delivery-log"'):]
    assert _shown_statuses(log) == inbox.DELIVERY_LOG_SHOWN
    assert f'<span class="fold-count">({total})</span>' in log
    assert f'href="/tickets/{ticket.id}/deliveries" data-testid="delivery-log-all"' in log
    whole = client.get(f"/tickets/{ticket.id}/deliveries")
    assert whole.status_code == 200
    html = whole.get_data(as_text=True)
    assert _shown_statuses(html) == total and 'data-testid="delivery-log-page"' in html
    assert "Anna" in html and "Moritz" not in html.split('id="delivery-log"')[1]  # the writer is not told
    assert ticket.display_number in html


def test_a_short_delivery_log_needs_no_link_and_the_long_one_shows_its_newest_rows(app, client, login, world, monkeypatch):
    ticket = world.code_user_ticket()
    login(world.mod)
    total = len(_deliveries_of(ticket))
    assert 0 < total <= inbox.DELIVERY_LOG_SHOWN
    page = client.get(f"/tickets/{ticket.id}").get_data(as_text=True)
    assert _shown_statuses(page) == total and 'data-testid="delivery-log-all"' not in page
    monkeypatch.setattr(inbox, "DELIVERY_LOG_ROWS", 2)
    html = client.get(f"/tickets/{ticket.id}/deliveries").get_data(as_text=True)
    assert _shown_statuses(html) == 2
    assert f"newest 2 of {total} deliveries" in html or f"neuesten 2 von {total} Zustellungen" in html


def test_a_ticket_without_deliveries_says_so_on_its_page_and_its_log_page(app, client, login, world):
    ticket = world.code_user_ticket()
    db.session.execute(sa.delete(Delivery).where(Delivery.id.in_(_deliveries_of(ticket))))
    db.session.commit()
    login(world.mod)
    page = client.get(f"/tickets/{ticket.id}").get_data(as_text=True)
    log = page[page.index('id="delivery-log"'):]
    assert '<span class="fold-count">(0)</span>' in log and _shown_statuses(log) == 0
    whole = client.get(f"/tickets/{ticket.id}/deliveries").get_data(as_text=True)
    for html in (log, whole):
        assert "Zu diesem Ticket wurden noch keine Benachrichtigungen gesendet." in html
        assert '<ol class="delivery-list">' not in html and 'data-testid="delivery-log-all"' not in html


def test_the_whole_delivery_log_is_for_employees_only_and_never_for_drafts(app, client, login, world):
    ticket = world.code_user_ticket()
    url = f"/tickets/{ticket.id}/deliveries"
    assert client.get(url).status_code in (302, 303, 404)  # nobody signed in: to the login page
    client.get(f"/c/{world.code.token}")  # a code user is no employee either
    answer = client.get(url)
    assert answer.status_code in (302, 303, 404) and b"data-delivery-status" not in answer.data
    stranger = make_employee(name="Fremde")  # outside the template's groups: employees see every ticket, and its log
    login(stranger)
    assert client.get(url).status_code == 200
    draft = tickets.start_draft(world.flow, world.device, actor=world.anna)
    login(world.anna)  # even its creator: a draft has told nobody anything
    assert client.get(f"/tickets/{draft.id}/deliveries").status_code == 404
    assert client.get("/tickets/999999/deliveries").status_code == 404


def test_code_user_opts_in_by_email_and_push(app, client, world, tmp_path, public_dns):
    app.config["VAPID_PRIVATE_KEY_FILE"] = str(tmp_path / "vapid.pem")
    ticket = world.code_user_ticket()
    from app.identity import sign_code_user_key

    client.set_cookie(app.config["CODE_USER_COOKIE"], sign_code_user_key(world.visitor.code_user.key), domain="localhost")
    response = client.post(f"/receivers/{ticket.id}/email", data={"email": "neu@example.com"}, headers={"HX-Request": "true"})
    assert response.status_code == 200 and b"neu@example.com" in response.data
    assert client.post(f"/receivers/{ticket.id}/email", data={"email": "kaputt"}).status_code == 422
    body = {"endpoint": "https://push.example.com/abc", "keys": {"p256dh": "BPk", "auth": "xyz"}}
    assert client.post(f"/receivers/{ticket.id}/push", json=body).status_code == 200
    receiver = db.session.scalar(sa.select(TicketReceiver).filter_by(ticket_id=ticket.id))
    assert receiver.email == "neu@example.com" and notification_preferences.has_push_subscription(receiver_id=receiver.id)
    assert client.post(f"/receivers/{ticket.id}/push/unsubscribe", json=body).get_json()["removed"] is True
    stranger = app.test_client()
    forget_request_state()
    assert stranger.post(f"/receivers/{ticket.id}/email", data={"email": "x@example.com"}).status_code == 404
    tickets.set_visibility(ticket, Visibility.INTERNAL, actor=world.mod)
    forget_request_state()
    assert client.post(f"/receivers/{ticket.id}/email", data={"email": "neu@example.com"}).status_code == 404


def test_employee_push_subscription_routes(app, client, login, world, tmp_path, public_dns):
    app.config["VAPID_PRIVATE_KEY_FILE"] = str(tmp_path / "vapid.pem")
    login(world.anna)
    key = client.get("/push/key").get_json()["key"]
    assert len(key) == 87  # 65-byte uncompressed P-256 point, base64url
    body = {"endpoint": "https://push.example.com/anna", "keys": {"p256dh": "BPk", "auth": "xyz"}}
    assert client.post("/push/subscribe", json=body).status_code == 200
    assert notification_preferences.has_push_subscription(employee_id=world.anna.id)
    refused = client.post("/push/subscribe", json={"endpoint": "ftp://x"})
    assert refused.status_code == 422 and refused.get_json()["error"]
    assert client.post("/push/unsubscribe", json=body).get_json()["removed"] is True
    assert (tmp_path / "vapid.pem").exists() and (tmp_path / "vapid_public.pem").exists()


def test_code_user_optin_partial_renders_for_public_tickets_only(app, world, tmp_path):
    from flask import render_template_string

    from app.identity import sign_code_user_key

    app.config["VAPID_PRIVATE_KEY_FILE"] = str(tmp_path / "vapid.pem")
    ticket = world.code_user_ticket()
    cookie = f"{app.config['CODE_USER_COOKIE']}={sign_code_user_key(world.visitor.code_user.key)}"
    template = '{% include "notifications/_code_user_optin.html" %}'
    with app.test_request_context(headers={"Cookie": cookie}):
        forget_request_state()
        html = render_template_string(template, ticket=ticket)
    assert f"/receivers/{ticket.id}/push" in html and 'value="max@example.com"' in html
    assert "js/notifications.js" in html
    tickets.set_visibility(ticket, Visibility.INTERNAL, actor=world.mod)
    with app.test_request_context(headers={"Cookie": cookie}):
        forget_request_state()
        assert render_template_string(template, ticket=ticket).strip() == ""


def test_message_excerpt_reaches_the_notification(world):
    from app.models import Message

    ticket = world.code_user_ticket()
    message = Message(ticket_id=ticket.id, body="Bitte   Foto\nvom Typenschild")
    notifications.record(NotificationEvent.MESSAGE_POSTED, ticket, actor=world.visitor, message=message)
    db.session.commit()
    told = of(ticket, world.anna, NotificationEvent.MESSAGE_POSTED)[0]
    assert told.detail["excerpt"] == "Bitte Foto vom Typenschild"
    assert describe(told)["body"].endswith("Bitte Foto vom Typenschild")
