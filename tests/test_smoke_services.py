"""Quick end-to-end check of the ticket services."""
from app.enums import Role, Visibility
from app.workflow import TicketStatus
from app.services import offers, tickets
from tests.factories import make_code, make_code_visitor, make_device, make_employee, make_flow, make_template, make_ticket


def test_code_user_ticket_goes_through_its_life(app):
    anna = make_employee()
    mod = make_employee(Role.MODERATOR)
    template = make_template(fleet=[anna])
    flow = make_flow(template)
    device = make_device(template)
    visitor = make_code_visitor(make_code(device))
    ticket = make_ticket(flow, device, visitor)
    assert ticket.status == TicketStatus.OPEN
    assert ticket.title == "Presse fährt nicht hoch"
    assert ticket.visibility == Visibility.PUBLIC
    offers.accept_offer(ticket, actor=anna)
    assert ticket.status == TicketStatus.ASSIGNED
    tickets.fire_event(ticket, "start", actor=anna)
    tickets.fire_event(ticket, "finish", actor=anna)
    tickets.rate_ticket(ticket, 4, "gut", actor=visitor)
    assert ticket.status == TicketStatus.CLOSED
    tickets.fire_event(ticket, "reopen", actor=mod)
    assert ticket.status == TicketStatus.ASSIGNED
    offers.withdraw_employee(ticket, anna, actor=mod)
    assert ticket.status == TicketStatus.OPEN
