"""Every time shown is local: the organisation's zone (Europe/Berlin by default) or an employee's own, across
daylight-saving changes, on pages, in e-mails and in pushed message fragments; storage stays UTC."""
import re
from datetime import UTC, date, datetime

import pytest
import time_machine

from app import time_zones
from app.extensions import db
from app.models import Message, Organisation, Ticket
from app.services import accounts, dispatcher, messenger, organisation
from app.services.errors import ValidationError
from tests import test_notifications_helpers as endpoints

smtp = endpoints.smtp  # fixture: a real SMTP server on loopback

# Berlin leaves CET for CEST at 01:00 UTC on 29 March 2026 and returns at 01:00 UTC on 25 October 2026; New York
# is on EDT (UTC-4) at both moments in March and on EDT in late October too (it changes on 1 November).
MOMENTS = [
    # (UTC instant, Berlin text, Berlin ISO, New York text, New York ISO)
    (datetime(2026, 3, 29, 0, 30, tzinfo=UTC), "29.03.2026, 01:30", "2026-03-29T01:30:00+01:00",
     "28.03.2026, 20:30", "2026-03-28T20:30:00-04:00"),
    (datetime(2026, 3, 29, 1, 30, tzinfo=UTC), "29.03.2026, 03:30", "2026-03-29T03:30:00+02:00",
     "28.03.2026, 21:30", "2026-03-28T21:30:00-04:00"),
    (datetime(2026, 10, 25, 0, 30, tzinfo=UTC), "25.10.2026, 02:30", "2026-10-25T02:30:00+02:00",
     "24.10.2026, 20:30", "2026-10-24T20:30:00-04:00"),
    (datetime(2026, 10, 25, 1, 30, tzinfo=UTC), "25.10.2026, 02:30", "2026-10-25T02:30:00+01:00",
     "24.10.2026, 21:30", "2026-10-24T21:30:00-04:00"),
]
MOMENT_IDS = ["before-spring", "after-spring", "before-autumn", "after-autumn"]


def _message_time(html, message_id):
    """(datetime attribute, text) of the <time> in message `message_id`'s element of `html`."""
    element = html[html.index(f'id="message-{message_id}"'):]
    found = re.search(r'<time datetime="([^"]+)">([^<]+)</time>', element)
    return found.group(1), found.group(2).strip()


@pytest.fixture
def new_yorker(scene):
    """The bystander member, who reads times in America/New_York."""
    accounts.update_own_account(scene.bystander, name=scene.bystander.name, language="de", time_zone="America/New_York",
                                actor=scene.bystander, languages=["de", "en"])
    return scene.bystander


@pytest.mark.parametrize(("moment", "berlin", "berlin_iso", "new_york", "new_york_iso"), MOMENTS, ids=MOMENT_IDS)
def test_ticket_page_shows_the_readers_local_time(app, client, login, scene, new_yorker, moment, berlin, berlin_iso,
                                                  new_york, new_york_iso):
    with time_machine.travel(moment, tick=False):
        message = messenger.post_message(scene.ticket, "Läuft wieder?", actor=scene.visitor)
    assert db.session.get(Message, message.id).created_at == moment  # stored as UTC

    login(scene.member)
    page = client.get(f"/tickets/{scene.ticket.id}").get_data(as_text=True)
    assert _message_time(page, message.id) == (berlin_iso, berlin)
    assert 'data-time-zone="Europe/Berlin"' in page

    login(new_yorker)
    page = client.get(f"/tickets/{scene.ticket.id}").get_data(as_text=True)
    assert _message_time(page, message.id) == (new_york_iso, new_york)
    assert 'data-time-zone="America/New_York"' in page

    code_page = scene.code_client(app.test_client()).get(f"/c/{scene.code.token}/t/{scene.ticket.id}").get_data(as_text=True)
    assert _message_time(code_page, message.id) == (berlin_iso, berlin)  # code users: the organisation's zone


@pytest.mark.parametrize(("moment", "berlin", "berlin_iso", "new_york", "new_york_iso"), MOMENTS, ids=MOMENT_IDS)
def test_pushed_message_fragment_is_in_each_readers_zone(app, scene, sockets, new_yorker, moment, berlin, berlin_iso,
                                                         new_york, new_york_iso):
    in_berlin, in_new_york = sockets(employee=scene.member), sockets(employee=new_yorker)
    code_user = sockets(scene=scene)
    for client, side in ((in_berlin, "staff"), (in_new_york, "staff"), (code_user, "code")):
        assert client.emit("join_ticket", {"ticket": scene.ticket.id, "as": side}, callback=True)["ok"]
        client.get_received()
    with time_machine.travel(moment, tick=False):
        message = messenger.post_message(scene.ticket, "Ersatzteil ist da", actor=scene.moderator)

    def pushed(client):
        frames = [frame for frame in client.get_received() if frame["name"] == "message-posted"]
        assert len(frames) == 1  # one frame per reader, not one per zone
        return _message_time(frames[0]["args"][0]["html"], message.id)

    assert pushed(in_berlin) == (berlin_iso, berlin)
    assert pushed(in_new_york) == (new_york_iso, new_york)
    assert pushed(code_user) == (berlin_iso, berlin)


@pytest.mark.parametrize(("moment", "berlin", "berlin_iso", "new_york", "new_york_iso"), MOMENTS, ids=MOMENT_IDS)
def test_mail_body_shows_the_recipients_local_time(app, scene, smtp, moment, berlin, berlin_iso, new_york,
                                                   new_york_iso):
    with time_machine.travel(moment, tick=False):
        messenger.post_message(scene.ticket, "Bitte kommen Sie vorbei", actor=scene.visitor)
    dispatcher.dispatch_due(now=moment)
    text = smtp.inbox.to(scene.member.email)[-1].get_body(("plain",)).get_content()
    assert berlin in text

    accounts.update_own_account(scene.member, name=scene.member.name, language="de", time_zone="America/New_York",
                                actor=scene.member, languages=["de", "en"])
    with time_machine.travel(moment, tick=False):
        messenger.post_message(scene.ticket, "Noch eine Frage", actor=scene.visitor)
    dispatcher.dispatch_due(now=moment)
    mail = smtp.inbox.to(scene.member.email)[-1]
    assert new_york in mail.get_body(("plain",)).get_content()
    assert new_york in mail.get_body(("html",)).get_content()


def test_organisation_zone_is_set_in_the_settings_and_applies_to_code_users(app, client, login, scene):
    admin = scene.moderator
    from app.enums import Role

    admin.role = Role.ADMIN
    db.session.commit()
    login(admin)
    answer = client.post("/admin/organisation", data={"name": "Kältetechnik Süd", "autoclose_days": "14",
                                                       "time_zone": "America/New_York"})
    assert answer.status_code in (200, 302, 303)
    assert db.session.get(Organisation, 1).time_zone == "America/New_York"
    with time_machine.travel(MOMENTS[0][0], tick=False):
        message = messenger.post_message(scene.ticket, "Hallo", actor=scene.visitor)
    code_page = scene.code_client(app.test_client()).get(f"/c/{scene.code.token}/t/{scene.ticket.id}").get_data(as_text=True)
    assert _message_time(code_page, message.id) == (MOMENTS[0][4], MOMENTS[0][3])


def test_an_unknown_zone_is_refused_with_a_message_and_changes_nothing(app, client, login, scene):
    login(scene.member)
    answer = client.post("/account", data={"name": "Anna", "language": "de", "time_zone": "Mars/Olympus"})
    assert answer.status_code == 422
    assert "Bitte wählen Sie eine Zeitzone aus der Liste." in answer.get_data(as_text=True)
    db.session.refresh(scene.member)
    assert scene.member.time_zone is None and scene.member.name != "Anna"
    with pytest.raises(ValidationError) as refused:
        organisation.update_settings(name="X", time_zone="Europe/Atlantis", actor=_admin())
    assert refused.value.field == "time_zone"
    db.session.rollback()
    assert time_zones.organisation_zone() == "Europe/Berlin"


def _admin():
    """An administrator."""
    from app.enums import Role
    from tests.factories import make_employee

    return make_employee(Role.ADMIN)


def test_employee_can_go_back_to_the_organisations_zone(app, client, login, scene, new_yorker):
    login(new_yorker)
    page = client.get("/account").get_data(as_text=True)
    assert '<option selected value="America/New_York">' in page or 'value="America/New_York" selected' in page
    assert client.post("/account", data={"name": new_yorker.name, "language": "de", "time_zone": ""}).status_code == 302
    db.session.refresh(new_yorker)
    assert new_yorker.time_zone is None
    assert time_zones.zone_of(new_yorker) == "Europe/Berlin"


def test_created_date_filter_means_local_days(app, client, login, scene):
    """A ticket created at 23:30 Berlin time on 28 March (22:30 UTC) belongs to 28 March, not to the 29th's UTC
    neighbour; one at 00:30 Berlin on 29 March (23:30 UTC on the 28th) belongs to the 29th."""
    late = Ticket(**_ticket_fields(scene, "Spät am Abend"), created_at=datetime(2026, 3, 28, 22, 30, tzinfo=UTC))
    early = Ticket(**_ticket_fields(scene, "Kurz nach Mitternacht"), created_at=datetime(2026, 3, 28, 23, 30, tzinfo=UTC))
    db.session.add_all([late, early])
    db.session.commit()
    login(scene.member)

    def listed(first, last):
        html = client.get(f"/tickets?created_from={first}&created_to={last}").get_data(as_text=True)
        return {number for number in (late.id, early.id) if f'data-ticket-number="{number}"' in html}

    assert listed("2026-03-28", "2026-03-28") == {late.id}
    assert listed("2026-03-29", "2026-03-29") == {early.id}
    assert listed("2026-03-28", "2026-03-29") == {late.id, early.id}


def _ticket_fields(scene, title):
    """Columns of a submitted PUBLIC ticket like the scene's, with another title."""
    source = scene.ticket
    return {
        "title": title, "status": source.status, "visibility": source.visibility, "priority": source.priority,
        "template_id": source.template_id, "flow_id": source.flow_id, "flow_title": source.flow_title,
        "device_id": source.device_id, "customer_id": source.customer_id,
    }


@pytest.mark.parametrize(("day", "zone", "start", "end"), [
    (date(2026, 3, 29), "Europe/Berlin", datetime(2026, 3, 28, 23, 0, tzinfo=UTC), datetime(2026, 3, 29, 22, 0, tzinfo=UTC)),
    (date(2026, 10, 25), "Europe/Berlin", datetime(2026, 10, 24, 22, 0, tzinfo=UTC), datetime(2026, 10, 25, 23, 0, tzinfo=UTC)),
    (date(2026, 11, 1), "America/New_York", datetime(2026, 11, 1, 4, 0, tzinfo=UTC), datetime(2026, 11, 2, 5, 0, tzinfo=UTC)),
])
def test_local_days_are_23_or_25_hours_long_on_a_change(day, zone, start, end):
    assert time_zones.local_day_start(day, zone) == start
    assert time_zones.local_day_end(day, zone) == end


def test_a_new_organisation_zone_recounts_the_report_days(app, scene):
    """Reports count local days: a ticket created at 23:30 UTC is on the next day in Berlin but not in New York;
    changing the organisation's zone recounts the report data."""
    from app.models.report import ReportTicketFacts
    from app.services import reports

    scene.ticket.created_at = datetime(2026, 3, 28, 23, 30, tzinfo=UTC)
    db.session.commit()
    reports.rebuild()
    assert db.session.get(ReportTicketFacts, scene.ticket.id).created_day == date(2026, 3, 29)
    organisation.update_settings(name="Kältetechnik Süd", time_zone="America/New_York", actor=_admin())
    db.session.expire_all()
    assert db.session.get(ReportTicketFacts, scene.ticket.id).created_day == date(2026, 3, 28)
