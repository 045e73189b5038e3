"""Who may do what (DESIGN.md §1) as pure functions over actors and loaded rows; also Jinja globals.

An actor is an employee (``is_employee``, ``role``, ``id``), a code visitor (``is_code_user``, ``id``,
``device_ids``: the devices its valid code sessions reach) or None for anonymous.
"""
from app.enums import GroupKind, NotificationEvent, OfferState, Role, Visibility
from app.workflow import FINAL_STATUSES, MANUAL_EVENTS, OPEN_STATUSES, TicketStatus
from app.workflow import can_fire as status_allows

MODERATING_ROLES = frozenset({Role.MODERATOR, Role.ADMIN})
CODE_USER_EVENTS = frozenset(
    {
        NotificationEvent.OFFER_ACCEPTED,
        NotificationEvent.ASSIGNED,
        NotificationEvent.STATUS_CHANGED,
        NotificationEvent.REOPENED,
        NotificationEvent.MESSAGE_POSTED,
        NotificationEvent.UPDATE_POSTED,
    }
)
SUBJECT_EVENTS = frozenset({NotificationEvent.ASSIGNED, NotificationEvent.WITHDRAWN})
# Service-level alerts go to the responsible employees and the ticket's notify group.
SLA_EVENTS = frozenset({NotificationEvent.SLA_WARNING, NotificationEvent.SLA_MISSED})


def is_employee(actor):
    """A logged-in employee of any role."""
    return actor is not None and getattr(actor, "is_employee", False)


def is_code_user(actor):
    """A code visitor with a browser cookie."""
    return actor is not None and getattr(actor, "is_code_user", False)


def is_moderator(actor):
    """Moderator or administrator."""
    return is_employee(actor) and actor.role in MODERATING_ROLES


def is_admin(actor):
    """Administrator."""
    return is_employee(actor) and actor.role == Role.ADMIN


def is_responsible(actor, ticket):
    """The employee accepted the ticket's offer or was assigned to it."""
    return is_employee(actor) and actor.id in ticket.responsible_employee_ids


def can_work_on(actor, ticket):
    """Moderators always; members while responsible. Not on drafts."""
    if ticket.status == TicketStatus.DRAFT:
        return False
    return is_moderator(actor) or is_responsible(actor, ticket)


def is_creator(actor, ticket):
    """The actor started this ticket."""
    if is_employee(actor):
        return ticket.creator_employee_id == actor.id
    if is_code_user(actor):
        return ticket.creator_code_user_id == actor.id
    return False


def can_reach_device(actor, device_id):
    """Employees reach every device; code visitors the devices of their valid code sessions."""
    if is_employee(actor):
        return True
    return is_code_user(actor) and device_id in actor.device_ids


def can_view_ticket(actor, ticket):
    """Drafts only for their creator; code users only PUBLIC tickets of their devices."""
    if ticket.status == TicketStatus.DRAFT:
        return is_creator(actor, ticket) and can_reach_device(actor, ticket.device_id)
    if is_employee(actor):
        return True
    return is_code_user(actor) and ticket.visibility == Visibility.PUBLIC and ticket.device_id in actor.device_ids


def can_see_internal(actor):
    """Only employees ever see INTERNAL tickets and updates."""
    return is_employee(actor)


def can_view_update(actor, update):
    """Internal updates are for employees only."""
    return update.visibility == Visibility.PUBLIC or can_see_internal(actor)


def can_edit_draft(actor, ticket):
    """The creator answers the steps of their own draft."""
    return ticket.status == TicketStatus.DRAFT and is_creator(actor, ticket) and can_reach_device(actor, ticket.device_id)


def can_delete_draft(actor, ticket):
    """Creators delete their own drafts."""
    return can_edit_draft(actor, ticket)


def can_create_ticket(actor, device_id):
    """Employees for any device; code visitors for the devices they reach."""
    return can_reach_device(actor, device_id)


def can_fire(actor, ticket, event):
    """Whether the actor may trigger the manual workflow `event` on the ticket now."""
    if event not in MANUAL_EVENTS or not status_allows(ticket.status, event):
        return False
    if is_employee(actor):
        return can_work_on(actor, ticket)
    if event == "cancel":
        return can_cancel(actor, ticket)
    return False


def can_cancel(actor, ticket):
    """Employees who work on it; the creating code user while OPEN."""
    if not status_allows(ticket.status, "cancel"):
        return False
    if is_employee(actor):
        return can_work_on(actor, ticket)
    return (
        is_code_user(actor)
        and ticket.status == TicketStatus.OPEN
        and is_creator(actor, ticket)
        and can_view_ticket(actor, ticket)
    )


def can_rate(actor, ticket):
    """A code user who sees the ticket rates it while DONE."""
    return is_code_user(actor) and ticket.status == TicketStatus.DONE and can_view_ticket(actor, ticket)


def can_post_message(actor, ticket):
    """Code users on visible, unfinished tickets; members while responsible; moderators always."""
    if ticket.status == TicketStatus.DRAFT:
        return False
    if is_employee(actor):
        return can_work_on(actor, ticket)
    return can_view_ticket(actor, ticket) and ticket.status not in FINAL_STATUSES


def can_read_messages(actor, ticket):
    """Everyone who may see the ticket may read its thread."""
    return ticket.status != TicketStatus.DRAFT and can_view_ticket(actor, ticket)


def can_post_update(actor, ticket, visibility):
    """Like messages; internal updates only for employees who work on the ticket."""
    if visibility == Visibility.INTERNAL and not is_employee(actor):
        return False
    return can_post_message(actor, ticket)


def can_change_visibility(actor, ticket):
    """Employees who work on the ticket."""
    return is_employee(actor) and can_work_on(actor, ticket)


def can_change_priority(actor, ticket):
    """Employees who work on the ticket."""
    return is_employee(actor) and can_work_on(actor, ticket)


def can_accept_offer(actor, ticket):
    """An employee with a pending offer on a ticket still in work."""
    if not is_employee(actor) or ticket.status not in OPEN_STATUSES:
        return False
    offer = ticket.offer_for(actor.id)
    return offer is not None and offer.state == OfferState.PENDING


def can_decline_offer(actor, ticket):
    """Same as accepting: only a pending offer can be declined."""
    return can_accept_offer(actor, ticket)


def can_assign(actor, ticket):
    """Moderators assign employees to tickets that are not drafts or finished."""
    return is_moderator(actor) and ticket.status not in FINAL_STATUSES and ticket.status != TicketStatus.DRAFT


def can_withdraw(actor, ticket):
    """Moderators withdraw responsible employees."""
    return is_moderator(actor) and ticket.status != TicketStatus.DRAFT


def can_delete_ticket(actor, ticket):
    """Moderators delete tickets."""
    return is_moderator(actor)


def can_follow_ticket(actor, ticket):
    """A code user who sees a submitted PUBLIC ticket may hear back about it by push or e-mail."""
    return (
        is_code_user(actor)
        and ticket.status != TicketStatus.DRAFT
        and ticket.visibility == Visibility.PUBLIC
        and can_view_ticket(actor, ticket)
    )


def _code_user_id(receiver):
    """The code user behind a receiver row (``code_user_id``) or a code visitor (``id``); None for a room."""
    if getattr(receiver, "code_user_id", None) is not None:
        return receiver.code_user_id
    return getattr(receiver, "id", None)


def can_receive(receiver, ticket, event=None, *, update=None, internal=False, actor=None):
    """Whether `receiver` may hear of `ticket`: a notification of `event`, or a live ring when `event` is None.

    A receiver is an active employee, a code user's side (a code visitor, a TicketReceiver row with
    ``code_user_id``, or a room of code users' sockets), or a room of employees' sockets. Who is in a room or
    holds a receiver row was checked when they joined or opted in; this decides each piece of news: code users
    hear only of submitted PUBLIC tickets, never of INTERNAL content (`update`, `internal`), only of
    CODE_USER_EVENTS, and not of their own actions (`actor`).
    """
    if is_employee(receiver):
        return bool(receiver.active)
    if not (is_code_user(receiver) or getattr(receiver, "code_user_id", None) is not None):
        return False
    if ticket.visibility != Visibility.PUBLIC or ticket.status == TicketStatus.DRAFT or internal:
        return False
    if update is not None and update.visibility != Visibility.PUBLIC:
        return False
    if event is not None and event not in CODE_USER_EVENTS:
        return False
    return not (is_code_user(actor) and actor.id == _code_user_id(receiver))


def _group_member_ids(ticket, kind):
    """Ids of the active members of the ticket's group of `kind` (the flow's own, else the template's default)."""
    if ticket.flow is not None:
        group = ticket.flow.effective_group(kind)
    else:
        group = ticket.template.default_group(kind) if getattr(ticket, "template", None) is not None else None
    return {employee.id for employee in group.all_employees()} if group is not None else set()


def is_concerned(employee, ticket, event, *, subject_id=None):
    """Whether `event` on `ticket` concerns the employee now (DESIGN.md §5), checked on record and again on send.

    The notify group hears of a new ticket (TICKET_CREATED); every other event is for the ticket's fleet group
    and its responsible employees; the employee an ASSIGNED or WITHDRAWN event names (`subject_id`) hears of it.
    Whether they may hear at all (active) is `can_receive`.
    """
    if not is_employee(employee):
        return False
    if event == NotificationEvent.TICKET_CREATED:
        return employee.id in _group_member_ids(ticket, GroupKind.NOTIFY)
    if event in SLA_EVENTS:
        return is_responsible(employee, ticket) or employee.id in _group_member_ids(ticket, GroupKind.NOTIFY)
    if event in SUBJECT_EVENTS and subject_id is not None and subject_id == employee.id:
        return True
    return is_responsible(employee, ticket) or employee.id in _group_member_ids(ticket, GroupKind.FLEET)


def can_read_notification(actor, notification):
    """An employee reads and marks only their own notifications."""
    return notification is not None and is_employee(actor) and notification.employee_id == actor.id


def can_view_delivery_log(actor, ticket):
    """Employees see whom a submitted ticket's notifications reached (a draft has told nobody anything)."""
    return is_employee(actor) and ticket.status != TicketStatus.DRAFT and can_view_ticket(actor, ticket)


def can_view_attachment(actor, ticket, update=None, *, in_message=False):
    """Whoever sees the ticket (and the update it hangs on, or its thread for a message's file) may fetch the file."""
    if ticket is None or not can_view_ticket(actor, ticket):
        return False
    if in_message and not can_read_messages(actor, ticket):
        return False
    return update is None or can_view_update(actor, update)


def can_manage_catalog(actor):
    """Templates, flows, groups, assistant, devices, codes and customers: moderators and admins."""
    return is_moderator(actor)


def can_export_tickets(actor):
    """Employees download the overview as a spreadsheet: only the tickets they may see (`Ticket.visible_clause`)."""
    return is_employee(actor)


def can_view_device(actor, device):
    """Catalog managers see every device; other employees the devices a ticket can be made for (not archived),
    as the ticket creation page lists them."""
    if can_manage_catalog(actor):
        return True
    return is_employee(actor) and not device.archived


def can_view_flow(actor, flow):
    """Catalog managers see every creation flow; other employees the active ones they can create tickets with."""
    if can_manage_catalog(actor):
        return True
    return is_employee(actor) and flow.active


def can_view_employee(actor, employee):
    """Administrators see every employee; other employees the active ones, by name (the overview's filter)."""
    if can_manage_employees(actor):
        return True
    return is_employee(actor) and employee.active


def can_manage_employees(actor):
    """Employees, roles and teams: administrators."""
    return is_admin(actor)


def can_manage_organisation(actor):
    """Organisation settings: administrators."""
    return is_admin(actor)


def can_manage_calendar(actor):
    """The business calendar (working days, hours, holidays): administrators."""
    return is_admin(actor)


def can_manage_service_levels(actor):
    """Service-level targets per template, flow and priority: administrators."""
    return is_admin(actor)


def can_read_audit_log(actor):
    """The security audit log (sign-ins, password and role changes, codes): administrators."""
    return is_admin(actor)


def can_view_reports(actor):
    """Reports (tickets created and closed, backlog, response times, ratings): moderators and administrators."""
    return is_moderator(actor)


def can_manage_webhooks(actor):
    """Webhook endpoints, their secrets and delivery logs: administrators (they send ticket data out)."""
    return is_admin(actor)


def can_receive_webhook(endpoint, *, internal=False):
    """An active endpoint hears of ticket events; of INTERNAL content (an INTERNAL ticket or update) only when it
    is marked internal."""
    return endpoint is not None and bool(endpoint.active) and (bool(endpoint.internal) or not internal)


def can_use_back_office(actor):
    """The staff area is for employees."""
    return is_employee(actor)


def can_manage_own_account(actor, employee):
    """Password, two-factor sign-in, language and sign-ins of an account: only the employee themself."""
    return is_employee(actor) and actor.id == employee.id


def can_end_sessions(actor, employee):
    """Signing an employee out everywhere: the employee themself, or an administrator."""
    return can_manage_own_account(actor, employee) or is_admin(actor)


def can_hold_api_scope(employee, scope):
    """API token scopes an employee may hold: read and write for every employee, admin for administrators."""
    if scope == "admin":
        return is_admin(employee)
    return is_employee(employee) and scope in ("read", "write")


def needs_two_factor(employee, required_roles):
    """Whether the organisation requires a second factor of this employee (`required_roles`: role names)."""
    return is_employee(employee) and employee.role.name in set(required_roles or ())


def must_enrol_two_factor(employee, required_roles):
    """A signed-in employee who is required to have two-factor sign-in and has not set it up yet."""
    return needs_two_factor(employee, required_roles) and not employee.totp_secret


PUBLIC_NAMES = [name for name in dir() if name.startswith(("can_", "is_"))]


def jinja_globals():
    """The policy functions under their own names, for templates."""
    return {name: globals()[name] for name in PUBLIC_NAMES}
