"""Offers and responsibility: send to the fleet group, accept, decline, assign, withdraw."""
from flask_babel import gettext as _

from app import policy, workflow
from app.enums import GroupKind, NotificationEvent, OfferState
from app.extensions import db
from app.models import Offer
from app.services import notifications, service_levels
from app.services.errors import NotFound, ValidationError, require
from app.services.ticket_changes import (
    check_version,
    commit_ticket,
    guards_conflicts,
    record_event,
)
from app.workflow import TicketStatus


def send_offers(ticket, *, actor):
    """Offer a freshly submitted ticket to every active member of its fleet group (teams expanded)."""
    group = ticket.flow.effective_group(GroupKind.FLEET) if ticket.flow else ticket.template.default_group(GroupKind.FLEET)
    recipients = group.all_employees() if group else []
    for employee in recipients:
        if ticket.offer_for(employee.id) is None:
            offer = Offer(employee=employee, state=OfferState.PENDING)
            ticket.offers.append(offer)
            record_event(ticket, "offer", actor=actor, after=OfferState.PENDING.name, subject=employee)
            notifications.record(NotificationEvent.OFFER_RECEIVED, ticket, actor=actor, recipient=employee)
    return recipients


def _follow_responsibility(ticket, *, actor):
    """First responsible ⇒ ASSIGNED; last responsible gone ⇒ back to OPEN. Returns whether the status moved."""
    from app.services.tickets import _fire

    status = ticket.status
    responsible = bool(ticket.responsible_employee_ids)
    if responsible and ticket.status == TicketStatus.OPEN:
        _fire(ticket, "assign", actor=actor)
    elif not responsible and ticket.status == TicketStatus.IN_PROGRESS:
        _fire(ticket, "pause", actor=actor)
        _fire(ticket, "unassign", actor=actor)
    elif not responsible and ticket.status == TicketStatus.ASSIGNED:
        _fire(ticket, "unassign", actor=actor)
    return ticket.status != status


@guards_conflicts
def accept_offer(ticket, *, actor, expected_version=None):
    """The employee takes on the ticket; the first acceptance assigns it."""
    check_version(ticket, expected_version)
    require(policy.can_accept_offer(actor, ticket), _("There is no open offer for you on this ticket."))
    offer = ticket.offer_for(actor.id)
    offer.state = OfferState.ACCEPTED
    record_event(ticket, "offer", actor=actor, before=OfferState.PENDING.name, after=OfferState.ACCEPTED.name, subject=actor)
    moved = _follow_responsibility(ticket, actor=actor)
    service_levels.track(ticket, responded=True)
    notifications.record(NotificationEvent.OFFER_ACCEPTED, ticket, actor=actor, subject=actor)
    commit_ticket(ticket)
    notifications.after_commit(ticket, internal=not moved)
    return offer


@guards_conflicts
def decline_offer(ticket, *, actor, expected_version=None):
    """The employee declines; they hear nothing more of this ticket."""
    check_version(ticket, expected_version)
    require(policy.can_decline_offer(actor, ticket), _("There is no open offer for you on this ticket."))
    offer = ticket.offer_for(actor.id)
    offer.state = OfferState.DECLINED
    record_event(ticket, "offer", actor=actor, before=OfferState.PENDING.name, after=OfferState.DECLINED.name, subject=actor)
    notifications.record(NotificationEvent.OFFER_DECLINED, ticket, actor=actor, subject=actor)
    commit_ticket(ticket)
    notifications.after_commit(ticket, internal=True)  # code users' page shows no offers
    return offer


@guards_conflicts
def assign_employee(ticket, employee, *, actor, expected_version=None):
    """A moderator makes `employee` responsible, whatever their offer said."""
    check_version(ticket, expected_version)
    require(policy.can_assign(actor, ticket), _("You cannot assign employees to this ticket."))
    if employee is None:
        raise NotFound(_("This employee does not exist."))
    if not employee.active:
        raise ValidationError(_("%(name)s is deactivated and cannot be assigned.", name=employee.name), field="employee")
    offer = ticket.offer_for(employee.id)
    if offer is not None and offer.is_responsible:
        raise ValidationError(_("%(name)s is already responsible.", name=employee.name), field="employee")
    before = offer.state.name if offer else None
    if offer is None:
        offer = Offer(employee=employee)
        ticket.offers.append(offer)
    offer.state = OfferState.ASSIGNED
    record_event(ticket, "assignment", actor=actor, before=before, after=OfferState.ASSIGNED.name, subject=employee)
    moved = _follow_responsibility(ticket, actor=actor)
    notifications.record(NotificationEvent.ASSIGNED, ticket, actor=actor, subject=employee)
    commit_ticket(ticket)
    notifications.after_commit(ticket, internal=not moved)
    return offer


@guards_conflicts
def withdraw_employee(ticket, employee, *, actor, expected_version=None):
    """A moderator takes responsibility away; the last one gone sends the ticket back to OPEN."""
    check_version(ticket, expected_version)
    require(policy.can_withdraw(actor, ticket), _("You cannot withdraw employees from this ticket."))
    offer = ticket.offer_for(employee.id) if employee is not None else None
    if offer is None or offer.state in (OfferState.WITHDRAWN, OfferState.DECLINED):
        raise ValidationError(_("This employee has nothing to withdraw on this ticket."), field="employee")
    before = offer.state.name
    offer.state = OfferState.WITHDRAWN
    record_event(ticket, "assignment", actor=actor, before=before, after=OfferState.WITHDRAWN.name, subject=employee)
    moved = False
    if ticket.status not in workflow.FINAL_STATUSES and ticket.status != TicketStatus.DONE:
        moved = _follow_responsibility(ticket, actor=actor)
    notifications.record(NotificationEvent.WITHDRAWN, ticket, actor=actor, subject=employee)
    commit_ticket(ticket)
    notifications.after_commit(ticket, internal=not moved)
    return offer


def employee_by_email(email):
    """The employee with this e-mail address, or None."""
    from app.models import Employee

    return db.session.scalar(db.select(Employee).filter_by(email=(email or "").strip().lower()))
