"""Service levels on the business calendar (services/service_levels.py) with a frozen clock: due times across a
weekend, a state holiday and a daylight-saving change; pausing while waiting for the code user; the 80 % and
missed notifications once each; the overview's due filters and sort; only administrators edit the settings."""
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
import time_machine

from app.enums import NotificationEvent, Priority, Role
from app.extensions import db
from app.models import Notification, ServiceLevel, TicketSla
from app.services import dispatcher, messenger, offers, service_levels
from app.services import tickets as ticket_service
from app.services.errors import NotAllowed, ValidationError
from tests.factories import (
    make_code,
    make_code_visitor,
    make_device,
    make_employee,
    make_flow,
    make_public_ticket,
    make_template,
    make_ticket,
)

RUN_ON_POSTGRES = True  # the due-time sort puts tickets without a due time last on both

def utc(*parts):
    return datetime(*parts, tzinfo=UTC)


class Setting:
    """A template with a level, a fleet member, a notify-group member, an administrator and a code user."""

    def __init__(self, *, first_response=60, assignment=120, resolution=600, pause=True, state="", priority=None):
        self.admin = make_employee(Role.ADMIN)
        self.member = make_employee(Role.MEMBER)
        self.watcher = make_employee(Role.MEMBER)
        self.template = make_template(fleet=[self.member], notify=[self.watcher])
        self.flow = make_flow(self.template)
        self.device = make_device(self.template)
        self.code = make_code(self.device)
        self.visitor = make_code_visitor(self.code)
        service_levels.save_calendar(time_zone="Europe/Berlin", weekdays=[0, 1, 2, 3, 4], start="08:00", end="17:00",
                                     holiday_state=state, closed_days="", actor=self.admin)
        self.level = service_levels.save_level(
            None, template_id=self.template.id, priority=priority, first_response_minutes=first_response,
            assignment_minutes=assignment, resolution_minutes=resolution, pause_while_waiting=pause, actor=self.admin)

    def staff_ticket(self):
        return make_ticket(self.flow, self.device, self.member)

    def public_ticket(self):
        return make_public_ticket(self.flow, self.device, self.visitor)


def clocks(ticket):
    db.session.expire_all()
    return db.session.get(TicketSla, ticket.id)


def test_due_times_across_a_weekend_and_the_results(app):
    setting = Setting()
    with time_machine.travel(utc(2026, 11, 27, 15, 0), tick=False):  # Friday 16:00 in Berlin
        ticket = setting.staff_ticket()
    row = clocks(ticket)
    assert row.started_at == utc(2026, 11, 27, 15, 0)
    assert row.first_response_due_at == utc(2026, 11, 27, 16, 0)  # Friday 17:00
    assert row.assignment_due_at == utc(2026, 11, 30, 8, 0)  # Monday 09:00: 60 on Friday, 60 on Monday
    assert row.resolution_due_at == utc(2026, 11, 30, 16, 0)  # Monday 17:00: 60 + 540
    assert ticket.sla_due_at == utc(2026, 11, 27, 16, 0)
    with time_machine.travel(utc(2026, 11, 30, 7, 30), tick=False):  # Monday 08:30
        offers.accept_offer(ticket, actor=setting.member)
    row = clocks(ticket)
    assert (row.first_response_at, row.first_response_met) == (utc(2026, 11, 30, 7, 30), False)
    assert (row.assignment_at, row.assignment_met) == (utc(2026, 11, 30, 7, 30), True)
    assert row.resolution_met is None and ticket.sla_due_at == utc(2026, 11, 30, 16, 0)
    with time_machine.travel(utc(2026, 11, 30, 15, 0), tick=False):
        ticket_service.fire_event(ticket, "finish", actor=setting.member)
    row = clocks(ticket)
    assert row.resolution_at == utc(2026, 11, 30, 15, 0) and row.resolution_met is True
    assert ticket.sla_due_at is None and row.next_alert_at is None


@pytest.mark.parametrize(("state", "due"), [("BY", utc(2026, 6, 5, 7, 0)), ("BE", utc(2026, 6, 4, 7, 0))])
def test_fronleichnam_moves_the_due_time_in_bavaria_only(app, state, due):
    setting = Setting(first_response=120, state=state)
    with time_machine.travel(utc(2026, 6, 3, 14, 0), tick=False):  # Wednesday 16:00 CEST
        ticket = setting.staff_ticket()
    assert clocks(ticket).first_response_due_at == due


def test_due_time_across_the_change_to_winter_time(app):
    setting = Setting(first_response=120)
    with time_machine.travel(utc(2026, 10, 23, 14, 0), tick=False):  # Friday 16:00 CEST
        ticket = setting.staff_ticket()
    assert clocks(ticket).first_response_due_at == utc(2026, 10, 26, 8, 0)  # Monday 09:00 CET


def test_the_clock_stops_while_waiting_for_the_code_user(app):
    setting = Setting(first_response=60, assignment=None, resolution=240)
    with time_machine.travel(utc(2026, 12, 1, 8, 0), tick=False):  # Tuesday 09:00 CET
        ticket = setting.public_ticket()
    assert clocks(ticket).resolution_due_at == utc(2026, 12, 1, 12, 0)
    with time_machine.travel(utc(2026, 12, 1, 8, 30), tick=False):
        offers.accept_offer(ticket, actor=setting.member)
    assert clocks(ticket).paused_since is None  # taking it on is no question to the code user
    with time_machine.travel(utc(2026, 12, 1, 9, 0), tick=False):
        messenger.post_message(ticket, "Welche Fehlernummer zeigt das Display?", actor=setting.member)
    row = clocks(ticket)
    assert row.first_response_met is True and row.paused_since == utc(2026, 12, 1, 9, 0)
    assert row.resolution_due_at is None and ticket.sla_due_at is None
    with time_machine.travel(utc(2026, 12, 1, 10, 0), tick=False):
        states = {clock["target"]: clock["state"] for clock in service_levels.clocks(ticket)}
        assert states == {"first_response": "met", "resolution": "paused"}
    with time_machine.travel(utc(2026, 12, 1, 11, 0), tick=False):
        messenger.post_message(ticket, "E-17", actor=setting.visitor)
    row = clocks(ticket)
    assert row.paused_since is None and row.paused_minutes == 120
    assert row.resolution_due_at == utc(2026, 12, 1, 14, 0)  # 4 working hours plus the 2 paused
    db.session.refresh(ticket)
    assert ticket.sla_due_at == utc(2026, 12, 1, 14, 0)


def test_without_the_pausing_rule_the_clock_runs_on(app):
    setting = Setting(first_response=60, assignment=None, resolution=240, pause=False)
    with time_machine.travel(utc(2026, 12, 1, 8, 0), tick=False):
        ticket = setting.public_ticket()
    with time_machine.travel(utc(2026, 12, 1, 9, 0), tick=False):
        offers.accept_offer(ticket, actor=setting.member)
        messenger.post_message(ticket, "Welche Fehlernummer?", actor=setting.member)
    row = clocks(ticket)
    assert row.paused_since is None and row.resolution_due_at == utc(2026, 12, 1, 12, 0)


def test_the_most_specific_level_wins_and_a_priority_change_picks_again(app):
    setting = Setting(first_response=240)
    service_levels.save_level(None, template_id=setting.template.id, priority="high", first_response_minutes=30,
                              actor=setting.admin)
    service_levels.save_level(None, template_id=setting.template.id, flow_id=setting.flow.id,
                              first_response_minutes=90, actor=setting.admin)
    with time_machine.travel(utc(2026, 12, 1, 8, 0), tick=False):
        ticket = setting.staff_ticket()  # NORMAL: the flow's level
        assert clocks(ticket).first_response_due_at == utc(2026, 12, 1, 9, 30)
        service_levels.save_level(None, template_id=setting.template.id, flow_id=setting.flow.id, priority="high",
                                  first_response_minutes=15, actor=setting.admin)
        moderator = make_employee(Role.MODERATOR)
        ticket_service.set_priority(ticket, Priority.HIGH, actor=moderator)
    assert clocks(ticket).first_response_due_at == utc(2026, 12, 1, 8, 15)


def _sla_notices():
    return db.session.execute(
        sa.select(Notification.event, Notification.employee_id, Notification.detail).where(
            Notification.event.in_([NotificationEvent.SLA_WARNING, NotificationEvent.SLA_MISSED])
        ).order_by(Notification.id)
    ).all()


def test_warning_at_80_percent_and_miss_are_notified_once_each(app):
    setting = Setting(first_response=None, assignment=None, resolution=100)
    with time_machine.travel(utc(2026, 12, 1, 8, 0), tick=False):  # Tuesday 09:00
        ticket = setting.staff_ticket()
        offers.accept_offer(ticket, actor=setting.member)
    assert clocks(ticket).next_alert_at == utc(2026, 12, 1, 9, 20)  # 80 of 100 minutes
    assert service_levels.send_alerts(utc(2026, 12, 1, 9, 19)) == 0
    with time_machine.travel(utc(2026, 12, 1, 9, 21), tick=False):
        assert dispatcher.check_service_levels() == 1
        assert service_levels.send_alerts() == 0
    notices = _sla_notices()
    assert {(event, employee) for event, employee, _detail in notices} == {
        (NotificationEvent.SLA_WARNING, setting.member.id), (NotificationEvent.SLA_WARNING, setting.watcher.id)}
    assert notices[0].detail["target"] == "resolution"
    assert clocks(ticket).next_alert_at == utc(2026, 12, 1, 9, 40)
    assert service_levels.send_alerts(utc(2026, 12, 1, 9, 41)) == 1
    assert service_levels.send_alerts(utc(2026, 12, 1, 12, 0)) == 0
    assert service_levels.send_alerts(utc(2026, 12, 7, 12, 0)) == 0
    events = [event for event, _employee, _detail in _sla_notices()]
    assert events.count(NotificationEvent.SLA_WARNING) == 2 and events.count(NotificationEvent.SLA_MISSED) == 2
    row = clocks(ticket)
    assert row.resolution_warned_at == utc(2026, 12, 1, 9, 21) and row.resolution_missed_at == utc(2026, 12, 1, 9, 41)
    assert row.next_alert_at is None


def test_a_late_check_sends_only_the_miss(app):
    setting = Setting(first_response=60, assignment=None, resolution=None)
    with time_machine.travel(utc(2026, 12, 1, 8, 0), tick=False):
        setting.staff_ticket()
    assert service_levels.send_alerts(utc(2026, 12, 2, 8, 0)) == 1
    assert {event for event, _employee, _detail in _sla_notices()} == {NotificationEvent.SLA_MISSED}
    assert service_levels.send_alerts(utc(2026, 12, 3, 8, 0)) == 0


def test_notices_name_ticket_and_target(app):
    from flask_babel import force_locale

    from app.services.notification_wording import describe

    setting = Setting(first_response=60, assignment=None, resolution=None)
    with time_machine.travel(utc(2026, 12, 1, 8, 0), tick=False):
        ticket = setting.staff_ticket()
    service_levels.send_alerts(utc(2026, 12, 1, 8, 50))
    service_levels.send_alerts(utc(2026, 12, 1, 9, 10))
    warning, missed = db.session.scalars(
        sa.select(Notification).where(
            Notification.employee_id == setting.watcher.id,
            Notification.event.in_([NotificationEvent.SLA_WARNING, NotificationEvent.SLA_MISSED]),
        ).order_by(Notification.id)).all()
    with force_locale("en"):
        assert describe(warning)["title"] == f"{ticket.display_number}: 80 % of the time for the first response is used"
        assert describe(missed)["title"] == f"{ticket.display_number} missed its first-response target"


def test_only_administrators_edit_the_calendar_and_levels(app):
    setting = Setting()
    moderator = make_employee(Role.MODERATOR)
    for person in (setting.member, moderator):
        with pytest.raises(NotAllowed):
            service_levels.save_calendar(time_zone="Europe/Berlin", weekdays=[0], start="08:00", end="12:00",
                                         holiday_state="", closed_days="", actor=person)
        with pytest.raises(NotAllowed):
            service_levels.save_level(setting.level, template_id=setting.template.id, first_response_minutes=1,
                                      actor=person)
        with pytest.raises(NotAllowed):
            service_levels.delete_level(setting.level, actor=person)
    assert db.session.get(ServiceLevel, setting.level.id).first_response_minutes == 60


@pytest.mark.parametrize(("changes", "field"), [
    ({"weekdays": []}, "weekdays"),
    ({"weekdays": ["7"]}, "weekdays"),
    ({"start": "17:00", "end": "08:00"}, "end"),
    ({"start": "8 Uhr"}, "start"),
    ({"end": "24:01"}, "end"),
    ({"holiday_state": "XX"}, "holiday_state"),
    ({"closed_days": "24.12.2026\nHeiligabend"}, "closed_days"),
    ({"time_zone": "Mars/Olympus"}, "time_zone"),
])
def test_calendar_input_is_checked(app, changes, field):
    admin = make_employee(Role.ADMIN)
    values = {"time_zone": "Europe/Berlin", "weekdays": ["0", "1"], "start": "08:00", "end": "17:00",
              "holiday_state": "BY", "closed_days": "24.12.2026, 2026-12-31", **changes}
    with pytest.raises(ValidationError) as refused:
        service_levels.save_calendar(**values, actor=admin)
    assert refused.value.field == field


def test_level_input_is_checked(app):
    setting = Setting()
    other_flow = make_flow(make_template())
    attempts = [
        ({"template_id": 999999}, "template_id"),
        ({"flow_id": other_flow.id}, "flow_id"),
        ({"priority": "urgent"}, "priority"),
        ({"first_response_minutes": "-5"}, "first_response_minutes"),
        ({"first_response_minutes": None, "assignment_minutes": None, "resolution_minutes": None}, "first_response_minutes"),
        ({}, "template_id"),  # the same scope as the existing level
    ]
    for changes, field in attempts:
        values = {"template_id": setting.template.id, "first_response_minutes": "30", **changes}
        with pytest.raises(ValidationError) as refused:
            service_levels.save_level(None, **values, actor=setting.admin)
        assert refused.value.field == field


# --- Pages --------------------------------------------------------------------------------------------------

ADMIN_PAGES = ["/admin/calendar", "/admin/service-levels", "/admin/service-levels/new", "/admin/service-levels/{level}"]


@pytest.mark.parametrize("role", [Role.MEMBER, Role.MODERATOR])
def test_members_and_moderators_cannot_open_or_change_the_settings(app, client, login, role):
    setting = Setting()
    login(make_employee(role))
    for page in ADMIN_PAGES:
        assert client.get(page.format(level=setting.level.id)).status_code == 403
    assert client.post("/admin/calendar", data={"time_zone": "UTC", "weekdays": ["0"], "start": "00:00",
                                                "end": "01:00"}).status_code == 403
    assert client.post(f"/admin/service-levels/{setting.level.id}/delete").status_code == 403
    assert client.post(f"/admin/service-levels/{setting.level.id}", data={
        "template_id": setting.template.id, "first_response_minutes": "1"}).status_code == 403
    db.session.expire_all()
    assert db.session.get(ServiceLevel, setting.level.id).first_response_minutes == 60
    assert service_levels.calendar().start_minute == 8 * 60


def test_an_administrator_edits_calendar_and_levels(app, client, login):
    setting = Setting()
    login(setting.admin)
    for page in ADMIN_PAGES:
        assert client.get(page.format(level=setting.level.id)).status_code == 200
    page = client.get("/admin/calendar").get_data(as_text=True)
    assert 'value="08:00"' in page and 'name="weekdays" value="0"' in page
    answer = client.post("/admin/calendar", data={
        "time_zone": "Europe/Berlin", "weekdays": ["0", "1", "2", "3"], "start": "07:30", "end": "16:00",
        "holiday_state": "BY", "closed_days": "24.12.2026\n31.12.2026"})
    assert answer.status_code == 302
    calendar = service_levels.calendar()
    assert calendar.weekdays == frozenset({0, 1, 2, 3}) and (calendar.start_minute, calendar.end_minute) == (450, 960)
    assert calendar.state == "BY" and len(calendar.closed_days) == 2
    assert "Fronleichnam" in client.get("/admin/calendar").get_data(as_text=True)
    refused = client.post("/admin/calendar", data={"time_zone": "Europe/Berlin", "weekdays": ["0"], "start": "18:00",
                                                   "end": "09:00", "holiday_state": ""})
    assert refused.status_code == 422 and 'value="18:00"' in refused.get_data(as_text=True)
    answer = client.post(f"/admin/service-levels/{setting.level.id}", data={
        "template_id": setting.template.id, "flow_id": setting.flow.id, "priority": "high",
        "first_response_minutes": "45", "resolution_minutes": "", "assignment_minutes": "90"})
    assert answer.status_code == 302
    db.session.expire_all()
    level = db.session.get(ServiceLevel, setting.level.id)
    assert (level.flow_id, level.priority, level.first_response_minutes, level.resolution_minutes) == (
        setting.flow.id, Priority.HIGH, 45, None)
    assert level.pause_while_waiting is False
    listing = client.get("/admin/service-levels").get_data(as_text=True)
    assert "0:45" in listing and "1:30" in listing
    bad = client.post("/admin/service-levels/new", data={"template_id": setting.template.id, "first_response_minutes": "x"})
    assert bad.status_code == 422
    assert client.post(f"/admin/service-levels/{setting.level.id}/delete").status_code == 302
    assert db.session.get(ServiceLevel, setting.level.id) is None


def _listed(client, query):
    import re

    page = client.get(f"/tickets?{query}").get_data(as_text=True)
    return [int(number) for number in re.findall(r'data-ticket-number="(\d+)"', page)]


def test_overview_filters_due_soon_and_overdue_and_sorts_by_due_time(app, client, login):
    setting = Setting(first_response=60, assignment=None, resolution=None)
    slow = make_template(fleet=[setting.member])
    slow_flow, slow_device = make_flow(slow), make_device(slow)
    service_levels.save_level(None, template_id=slow.id, first_response_minutes=6000, actor=setting.admin)
    without = make_template(fleet=[setting.member])
    without_flow, without_device = make_flow(without), make_device(without)
    with time_machine.travel(utc(2026, 12, 1, 8, 0), tick=False):
        overdue = setting.staff_ticket()  # due 09:00 UTC
        far = make_ticket(slow_flow, slow_device, setting.member)
        none = make_ticket(without_flow, without_device, setting.member)
    with time_machine.travel(utc(2026, 12, 1, 9, 30), tick=False):
        soon = setting.staff_ticket()  # due 10:30 UTC
    login(setting.member)
    with time_machine.travel(utc(2026, 12, 1, 9, 45), tick=False):
        assert _listed(client, "due=overdue") == [overdue.id]
        assert _listed(client, "due=soon") == [soon.id]
        assert _listed(client, "sort=due") == [overdue.id, soon.id, far.id, none.id]
        assert _listed(client, "sort=-due")[-1] == none.id
        assert set(_listed(client, "due=later")) == {overdue.id, soon.id, far.id, none.id}  # unknown: ignored
        page = client.get(f"/tickets/{overdue.id}").get_data(as_text=True)
        assert 'data-testid="sla-first_response" data-state="overdue"' in page
        assert "0:45" in page  # 45 working minutes over
        page = client.get(f"/tickets/{soon.id}").get_data(as_text=True)
        assert 'data-testid="sla-first_response" data-state="running"' in page
        assert 'data-testid="ticket-sla"' not in client.get(f"/tickets/{none.id}").get_data(as_text=True)
    with time_machine.travel(utc(2026, 12, 1, 10, 0), tick=False):
        offers.accept_offer(overdue, actor=setting.member)
        assert _listed(client, "due=overdue") == []
        page = client.get(f"/tickets/{overdue.id}").get_data(as_text=True)
        assert 'data-testid="sla-first_response" data-state="missed"' in page


def test_a_level_made_later_leaves_older_tickets_without_clocks(app):
    setting = Setting()
    other = make_template(fleet=[setting.member])
    flow, device = make_flow(other), make_device(other)
    with time_machine.travel(utc(2026, 11, 2, 8, 0), tick=False):
        old = make_ticket(flow, device, setting.member)
    service_levels.save_level(None, template_id=other.id, first_response_minutes=60, actor=setting.admin)
    with time_machine.travel(utc(2026, 12, 1, 8, 0), tick=False):
        offers.accept_offer(old, actor=setting.member)
        ticket_service.set_priority(old, Priority.HIGH, actor=setting.admin)
        new = make_ticket(flow, device, setting.member)
    assert clocks(old) is None and old.sla_due_at is None
    assert clocks(new).first_response_due_at == utc(2026, 12, 1, 9, 0)


def test_the_command_and_the_dispatcher_loop_send_the_alerts(app):
    import threading

    setting = Setting(first_response=60, assignment=None, resolution=None)
    with time_machine.travel(utc(2026, 12, 1, 8, 0), tick=False):
        setting.staff_ticket()
        setting.staff_ticket()
    with time_machine.travel(utc(2026, 12, 1, 8, 50), tick=False):
        result = app.test_cli_runner().invoke(args=["tickets", "sla-check"])
        assert "Recorded 2 service-level notifications." in result.output
    with time_machine.travel(utc(2026, 12, 1, 9, 30), tick=False):
        stop = threading.Event()
        original = service_levels.send_alerts

        def once_then_stop(now=None):
            sent = original(now)
            stop.set()
            return sent

        service_levels.send_alerts = once_then_stop
        try:
            dispatcher.run_forever(app, interval=0.01, stop=stop)
        finally:
            service_levels.send_alerts = original
    db.session.remove()
    events = [event for event, _employee, _detail in _sla_notices()]
    # Two tickets; nobody is responsible yet, so only the notify group hears of them.
    assert events.count(NotificationEvent.SLA_WARNING) == 2 and events.count(NotificationEvent.SLA_MISSED) == 2
    assert {employee for _event, employee, _detail in _sla_notices()} == {setting.watcher.id}


def test_deleting_a_ticket_takes_its_clocks_along(app):
    setting = Setting()
    moderator = make_employee(Role.MODERATOR)
    ticket = setting.staff_ticket()
    ticket_id = ticket.id
    assert clocks(ticket) is not None
    ticket_service.delete_ticket(ticket, actor=moderator)
    assert db.session.get(TicketSla, ticket_id) is None


def test_deleting_a_flow_or_template_removes_its_levels(app):
    from app.services import flows, templates

    admin = make_employee(Role.ADMIN)
    template = make_template()
    flow = make_flow(template)
    service_levels.save_level(None, template_id=template.id, first_response_minutes=60, actor=admin)
    service_levels.save_level(None, template_id=template.id, flow_id=flow.id, first_response_minutes=30, actor=admin)
    assert flows.delete_flow(flow, actor=admin) == "deleted"
    assert [level.flow_id for level in service_levels.all_levels()] == [None]
    assert templates.delete_template(template, actor=admin) == "deleted"
    assert service_levels.all_levels() == []
