"""The access policy as tables: every role and action, with responsibility, visibility and code-user access."""
from pathlib import Path
from types import SimpleNamespace

import pytest

from app import policy
from app.enums import GroupKind, NotificationEvent, OfferState, Role, Visibility
from app.workflow import TicketStatus

DEVICE = 7
OTHER_DEVICE = 8


def employee(role, id):
    """An employee as the policy sees them."""
    return SimpleNamespace(is_employee=True, is_code_user=False, role=role, id=id, active=True)


def code_user(id, devices=(DEVICE,)):
    """A code visitor as the policy sees them."""
    return SimpleNamespace(is_employee=False, is_code_user=True, role=None, id=id, device_ids=frozenset(devices))


ACTORS = {
    "anonymous": None,
    "code_user": code_user(100),
    "creator": code_user(101),
    "stranger": code_user(102, devices=(OTHER_DEVICE,)),
    "member": employee(Role.MEMBER, 1),
    "offered": employee(Role.MEMBER, 2),
    "responsible": employee(Role.MEMBER, 3),
    "moderator": employee(Role.MODERATOR, 4),
    "admin": employee(Role.ADMIN, 5),
}


class FakeTicket(SimpleNamespace):
    """A ticket as the policy sees it."""

    @property
    def responsible_employee_ids(self):
        """Accepted or assigned."""
        return frozenset(o.employee_id for o in self.offers if o.state in (OfferState.ACCEPTED, OfferState.ASSIGNED))

    def offer_for(self, employee_id):
        """This employee's offer."""
        return next((o for o in self.offers if o.employee_id == employee_id), None)


def ticket(status=TicketStatus.OPEN, visibility=Visibility.PUBLIC, creator_code_user_id=101, creator_employee_id=None):
    """A ticket on DEVICE with one pending offer (employee 2) and one acceptance (employee 3)."""
    return FakeTicket(
        status=status,
        visibility=visibility,
        device_id=DEVICE,
        creator_code_user_id=creator_code_user_id,
        creator_employee_id=creator_employee_id,
        offers=[
            SimpleNamespace(employee_id=2, state=OfferState.PENDING),
            SimpleNamespace(employee_id=3, state=OfferState.ACCEPTED),
        ],
    )


EVERYONE = set(ACTORS)
STAFF = {"member", "offered", "responsible", "moderator", "admin"}
WORKERS = {"responsible", "moderator", "admin"}
DEVICE_CODE_USERS = {"code_user", "creator"}
CODE_USERS = DEVICE_CODE_USERS | {"stranger"}  # receivers: their access was checked when they joined or opted in

# (check name, callable(actor), set of actors allowed)
CASES = [
    ("view public open", lambda a: policy.can_view_ticket(a, ticket()), STAFF | DEVICE_CODE_USERS),
    ("view internal open", lambda a: policy.can_view_ticket(a, ticket(visibility=Visibility.INTERNAL)), STAFF),
    ("view public closed", lambda a: policy.can_view_ticket(a, ticket(TicketStatus.CLOSED)), STAFF | DEVICE_CODE_USERS),
    ("view own draft", lambda a: policy.can_view_ticket(a, ticket(TicketStatus.DRAFT)), {"creator"}),
    (
        "view employee draft",
        lambda a: policy.can_view_ticket(a, ticket(TicketStatus.DRAFT, creator_code_user_id=None, creator_employee_id=1)),
        {"member"},
    ),
    ("edit own draft", lambda a: policy.can_edit_draft(a, ticket(TicketStatus.DRAFT)), {"creator"}),
    ("delete own draft", lambda a: policy.can_delete_draft(a, ticket(TicketStatus.DRAFT)), {"creator"}),
    ("create on device", lambda a: policy.can_create_ticket(a, DEVICE), STAFF | DEVICE_CODE_USERS),
    ("create on other device", lambda a: policy.can_create_ticket(a, OTHER_DEVICE), STAFF | {"stranger"}),
    ("message public open", lambda a: policy.can_post_message(a, ticket()), WORKERS | DEVICE_CODE_USERS),
    ("message internal open", lambda a: policy.can_post_message(a, ticket(visibility=Visibility.INTERNAL)), WORKERS),
    ("message public closed", lambda a: policy.can_post_message(a, ticket(TicketStatus.CLOSED)), WORKERS),
    ("message public cancelled", lambda a: policy.can_post_message(a, ticket(TicketStatus.CANCELLED)), WORKERS),
    ("message draft", lambda a: policy.can_post_message(a, ticket(TicketStatus.DRAFT)), set()),
    ("read messages public", lambda a: policy.can_read_messages(a, ticket()), STAFF | DEVICE_CODE_USERS),
    ("read messages internal", lambda a: policy.can_read_messages(a, ticket(visibility=Visibility.INTERNAL)), STAFF),
    ("public update", lambda a: policy.can_post_update(a, ticket(), Visibility.PUBLIC), WORKERS | DEVICE_CODE_USERS),
    ("internal update", lambda a: policy.can_post_update(a, ticket(), Visibility.INTERNAL), WORKERS),
    (
        "see internal update",
        lambda a: policy.can_view_update(a, SimpleNamespace(visibility=Visibility.INTERNAL)),
        STAFF,
    ),
    ("see public update", lambda a: policy.can_view_update(a, SimpleNamespace(visibility=Visibility.PUBLIC)), EVERYONE),
    ("start assigned", lambda a: policy.can_fire(a, ticket(TicketStatus.ASSIGNED), "start"), WORKERS),
    ("start open (workflow says no)", lambda a: policy.can_fire(a, ticket(TicketStatus.OPEN), "start"), set()),
    ("finish in progress", lambda a: policy.can_fire(a, ticket(TicketStatus.IN_PROGRESS), "finish"), WORKERS),
    ("close done", lambda a: policy.can_fire(a, ticket(TicketStatus.DONE), "close"), WORKERS),
    ("reopen closed", lambda a: policy.can_fire(a, ticket(TicketStatus.CLOSED), "reopen"), WORKERS),
    ("assign is automatic", lambda a: policy.can_fire(a, ticket(TicketStatus.OPEN), "assign"), set()),
    ("cancel open", lambda a: policy.can_cancel(a, ticket()), WORKERS | {"creator"}),
    ("cancel assigned", lambda a: policy.can_cancel(a, ticket(TicketStatus.ASSIGNED)), WORKERS),
    ("fire cancel open", lambda a: policy.can_fire(a, ticket(), "cancel"), WORKERS | {"creator"}),
    ("rate done", lambda a: policy.can_rate(a, ticket(TicketStatus.DONE)), DEVICE_CODE_USERS),
    ("rate internal done", lambda a: policy.can_rate(a, ticket(TicketStatus.DONE, Visibility.INTERNAL)), set()),
    ("rate open", lambda a: policy.can_rate(a, ticket()), set()),
    ("change visibility", lambda a: policy.can_change_visibility(a, ticket()), WORKERS),
    ("change priority", lambda a: policy.can_change_priority(a, ticket()), WORKERS),
    ("accept offer", lambda a: policy.can_accept_offer(a, ticket()), {"offered"}),
    ("decline offer", lambda a: policy.can_decline_offer(a, ticket()), {"offered"}),
    ("accept offer on closed", lambda a: policy.can_accept_offer(a, ticket(TicketStatus.CLOSED)), set()),
    ("assign employees", lambda a: policy.can_assign(a, ticket()), {"moderator", "admin"}),
    ("assign on closed", lambda a: policy.can_assign(a, ticket(TicketStatus.CLOSED)), set()),
    ("withdraw employees", lambda a: policy.can_withdraw(a, ticket()), {"moderator", "admin"}),
    ("delete ticket", lambda a: policy.can_delete_ticket(a, ticket()), {"moderator", "admin"}),
    ("delivery log", lambda a: policy.can_view_delivery_log(a, ticket()), STAFF),
    (  # the member's own draft: they see it, but it has told nobody anything
        "delivery log of a draft",
        lambda a: policy.can_view_delivery_log(
            a, ticket(TicketStatus.DRAFT, creator_code_user_id=None, creator_employee_id=1)
        ),
        set(),
    ),
    ("attachment of public ticket", lambda a: policy.can_view_attachment(a, ticket()), STAFF | DEVICE_CODE_USERS),
    (
        "attachment of internal update",
        lambda a: policy.can_view_attachment(a, ticket(), SimpleNamespace(visibility=Visibility.INTERNAL)),
        STAFF,
    ),
    (
        "attachment of internal ticket",
        lambda a: policy.can_view_attachment(a, ticket(visibility=Visibility.INTERNAL)),
        STAFF,
    ),
    ("message file of public ticket", lambda a: policy.can_view_attachment(a, ticket(), in_message=True), STAFF | DEVICE_CODE_USERS),
    (
        "message file of a draft",
        lambda a: policy.can_view_attachment(a, ticket(TicketStatus.DRAFT), in_message=True),
        set(),
    ),
    ("follow public ticket", lambda a: policy.can_follow_ticket(a, ticket()), DEVICE_CODE_USERS),
    ("follow internal ticket", lambda a: policy.can_follow_ticket(a, ticket(visibility=Visibility.INTERNAL)), set()),
    ("follow own draft", lambda a: policy.can_follow_ticket(a, ticket(TicketStatus.DRAFT)), set()),
    ("receive news of public ticket", lambda a: policy.can_receive(a, ticket()), STAFF | CODE_USERS),
    ("receive news of internal ticket", lambda a: policy.can_receive(a, ticket(visibility=Visibility.INTERNAL)), STAFF),
    ("receive news of a draft", lambda a: policy.can_receive(a, ticket(TicketStatus.DRAFT)), STAFF),
    (
        "receive internal update of public ticket",
        lambda a: policy.can_receive(
            a, ticket(), NotificationEvent.UPDATE_POSTED, update=SimpleNamespace(visibility=Visibility.INTERNAL)
        ),
        STAFF,
    ),
    (
        "receive public update",
        lambda a: policy.can_receive(
            a, ticket(), NotificationEvent.UPDATE_POSTED, update=SimpleNamespace(visibility=Visibility.PUBLIC)
        ),
        STAFF | CODE_USERS,
    ),
    ("receive internal content", lambda a: policy.can_receive(a, ticket(), internal=True), STAFF),
    ("receive a rating", lambda a: policy.can_receive(a, ticket(), NotificationEvent.RATED), STAFF),
    ("receive an offer", lambda a: policy.can_receive(a, ticket(), NotificationEvent.OFFER_RECEIVED), STAFF),
    (
        "receive a message the creator wrote",
        lambda a: policy.can_receive(a, ticket(), NotificationEvent.MESSAGE_POSTED, actor=ACTORS["creator"]),
        STAFF | {"code_user", "stranger"},
    ),
    (
        "read own notification",
        lambda a: policy.can_read_notification(a, SimpleNamespace(employee_id=1)),
        {"member"},
    ),
    ("read a missing notification", lambda a: policy.can_read_notification(a, None), set()),
    ("reach device", lambda a: policy.can_reach_device(a, DEVICE), STAFF | DEVICE_CODE_USERS),
    ("work on open ticket", lambda a: policy.can_work_on(a, ticket()), WORKERS),
    ("work on a draft", lambda a: policy.can_work_on(a, ticket(TicketStatus.DRAFT)), set()),
    ("manage catalog", policy.can_manage_catalog, {"moderator", "admin"}),
    ("manage employees", policy.can_manage_employees, {"admin"}),
    ("view a device", lambda a: policy.can_view_device(a, SimpleNamespace(archived=False)), STAFF),
    ("view an archived device", lambda a: policy.can_view_device(a, SimpleNamespace(archived=True)), {"moderator", "admin"}),
    ("view an active flow", lambda a: policy.can_view_flow(a, SimpleNamespace(active=True)), STAFF),
    ("view an inactive flow", lambda a: policy.can_view_flow(a, SimpleNamespace(active=False)), {"moderator", "admin"}),
    ("view an active employee", lambda a: policy.can_view_employee(a, SimpleNamespace(active=True)), STAFF),
    ("view a deactivated employee", lambda a: policy.can_view_employee(a, SimpleNamespace(active=False)), {"admin"}),
    ("manage organisation", policy.can_manage_organisation, {"admin"}),
    ("read audit log", policy.can_read_audit_log, {"admin"}),
    ("view reports", policy.can_view_reports, {"moderator", "admin"}),
    ("manage the business calendar", policy.can_manage_calendar, {"admin"}),
    ("manage service levels", policy.can_manage_service_levels, {"admin"}),
    ("manage webhooks", policy.can_manage_webhooks, {"admin"}),
    ("use back office", policy.can_use_back_office, STAFF),
    ("export tickets", policy.can_export_tickets, STAFF),
    ("see internal", policy.can_see_internal, STAFF),
    ("manage own account", lambda a: policy.can_manage_own_account(a, ACTORS["member"]), {"member"}),
    ("end a member's sign-ins", lambda a: policy.can_end_sessions(a, ACTORS["member"]), {"member", "admin"}),
    ("hold the API read scope", lambda a: policy.can_hold_api_scope(a, "read"), STAFF),
    ("hold the API write scope", lambda a: policy.can_hold_api_scope(a, "write"), STAFF),
    ("hold the API admin scope", lambda a: policy.can_hold_api_scope(a, "admin"), {"admin"}),
    ("hold an unknown API scope", lambda a: policy.can_hold_api_scope(a, "root"), set()),
]
MATRIX = [(name, check, actor, actor in allowed) for name, check, allowed in CASES for actor in ACTORS]


@pytest.mark.parametrize(("name", "check", "actor", "expected"), MATRIX, ids=[f"{m[0]}-{m[2]}" for m in MATRIX])
def test_policy_matrix(name, check, actor, expected):
    assert bool(check(ACTORS[actor])) is expected


def test_policy_functions_are_template_globals(app):
    assert app.jinja_env.globals["can_view_ticket"] is policy.can_view_ticket
    assert "can_post_message" in app.jinja_env.globals


def test_every_policy_function_is_in_the_table():
    source = Path(__file__).read_text()
    missing = [name for name in policy.PUBLIC_NAMES if name.startswith("can_") and f"policy.{name}" not in source]
    assert not missing


def test_inactive_employees_receive_nothing():
    inactive = SimpleNamespace(is_employee=True, is_code_user=False, role=Role.MEMBER, id=9, active=False)
    assert not policy.can_receive(inactive, ticket())


def test_receiver_rows_hear_public_news_but_not_of_their_own_actions():
    receiver = SimpleNamespace(code_user_id=101)
    assert policy.can_receive(receiver, ticket(), NotificationEvent.STATUS_CHANGED)
    assert not policy.can_receive(receiver, ticket(visibility=Visibility.INTERNAL), NotificationEvent.STATUS_CHANGED)
    assert not policy.can_receive(receiver, ticket(), NotificationEvent.STATUS_CHANGED, actor=ACTORS["creator"])
    assert policy.can_receive(receiver, ticket(), NotificationEvent.STATUS_CHANGED, actor=ACTORS["code_user"])


@pytest.mark.parametrize(
    ("active", "marked_internal", "internal", "expected"),
    [
        (True, False, False, True),
        (True, False, True, False),  # INTERNAL content never reaches an endpoint not marked internal
        (True, True, True, True),
        (True, True, False, True),
        (False, True, False, False),  # a switched-off endpoint hears of nothing
        (False, False, False, False),
    ],
)
def test_webhook_endpoints_hear_internal_content_only_when_marked_internal(active, marked_internal, internal, expected):
    endpoint = SimpleNamespace(active=active, internal=marked_internal)
    assert policy.can_receive_webhook(endpoint, internal=internal) is expected
    assert policy.can_receive_webhook(None) is False


def grouped_ticket(fleet=(), notify=()):
    """A ticket (pending offer: employee 2, accepted: employee 3) whose flow has fleet and notify groups."""
    def group(ids):
        members = [SimpleNamespace(id=i) for i in ids]
        return SimpleNamespace(all_employees=lambda: members)

    groups = {GroupKind.FLEET: group(fleet), GroupKind.NOTIFY: group(notify)}
    concerned = ticket()
    concerned.flow = SimpleNamespace(effective_group=groups.get)
    return concerned


@pytest.mark.parametrize(
    ("employee_id", "event", "subject_id", "expected"),
    [
        (1, NotificationEvent.OFFER_RECEIVED, None, True),  # in the fleet group
        (9, NotificationEvent.OFFER_RECEIVED, None, False),  # left the fleet group
        (3, NotificationEvent.STATUS_CHANGED, None, True),  # responsible, though not in the fleet group
        (2, NotificationEvent.STATUS_CHANGED, None, False),  # a pending offer, but no longer in the fleet group
        (9, NotificationEvent.WITHDRAWN, 9, True),  # the withdrawn employee hears of it
        (9, NotificationEvent.MESSAGE_POSTED, 9, False),  # a subject only for ASSIGNED and WITHDRAWN
        (5, NotificationEvent.TICKET_CREATED, None, True),  # in the notify group
        (1, NotificationEvent.TICKET_CREATED, None, False),  # the fleet hears of it by its offer
    ],
)
def test_who_is_concerned_by_an_event_now(employee_id, event, subject_id, expected):
    person = employee(Role.MEMBER, employee_id)
    assert policy.is_concerned(person, grouped_ticket(fleet=[1], notify=[5]), event, subject_id=subject_id) is expected
    assert not policy.is_concerned(ACTORS["code_user"], grouped_ticket(fleet=[100]), event)


WHO_HEARS_WHAT = [
    "app/realtime.py",
    "app/services/notifications.py",
    "app/services/dispatcher.py",
    "app/services/receivers.py",
    "app/services/live.py",
    "app/services/notification_links.py",
    "app/services/subscriptions.py",
    "app/blueprints/notifications/routes.py",
    "app/templates/notifications/_code_user_optin.html",
    "app/templates/notifications/_delivery_log.html",
]


@pytest.mark.parametrize("path", WHO_HEARS_WHAT)
def test_who_hears_what_is_decided_by_policy_only(path):
    """Notifications, receivers, links and rooms ask policy; none compares visibility, status or flags itself."""
    source = (Path(__file__).parent.parent / path).read_text()
    for rule in ("Visibility.PUBLIC", "visibility.value", "visibility !=", "TicketStatus.DRAFT", ".active", "is_authenticated", "employee_id !="):
        assert rule not in source, f"{path} decides access itself ({rule})"


@pytest.mark.parametrize(
    ("role", "required", "enrolled", "must_enrol"),
    [
        (Role.MEMBER, [], False, False),
        (Role.MEMBER, ["MEMBER", "MODERATOR", "ADMIN"], False, True),
        (Role.MEMBER, ["MEMBER", "MODERATOR", "ADMIN"], True, False),
        (Role.MEMBER, ["ADMIN"], False, False),
        (Role.ADMIN, ["ADMIN"], False, True),
        (Role.MODERATOR, ["ADMIN", "MODERATOR"], False, True),
    ],
)
def test_two_factor_is_required_per_role(role, required, enrolled, must_enrol):
    someone = employee(role, 1)
    someone.totp_secret = "JBSWY3DPEHPK3PXP" if enrolled else None
    assert policy.needs_two_factor(someone, required) is (role.name in required)
    assert policy.must_enrol_two_factor(someone, required) is must_enrol
    assert not policy.must_enrol_two_factor(ACTORS["code_user"], required)
