"""A ticket's offers over the API: list them; accept or decline one's own offer; assign an employee (by id or
e-mail) or withdraw one (moderators and administrators).

Under /api/v1/tickets/{number}/offers, beside the ticket itself. The same services as the ticket page's buttons
(app/services/offers.py, with the policy's can_accept_offer, can_assign, can_withdraw); a change answers with the
offer it touched and the ticket's new version as ETag, and takes `If-Match` like the ticket's other changes: 409
when the ticket changed meanwhile.
"""
from flask_babel import gettext as _
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from app import policy
from app.blueprints.api import core
from app.blueprints.api.problems import PREFIX
from app.blueprints.api.resources import ID, fresh, row_or_404
from app.blueprints.api.schemas import EmployeeRef, enum_field
from app.enums import OfferState
from app.extensions import db
from app.models import Employee, Offer, Ticket
from app.services import offers
from app.workflow import TicketStatus

blp = core.resource("offers", "A ticket's offers: list, accept, decline; assign and withdraw employees "
                              "(moderators and administrators).")
blp.url_prefix = f"{PREFIX}/tickets"  # offers belong to their ticket: /api/v1/tickets/<number>/offers

ETAG_HEADER = {"ETag": {"description": "The ticket's version after the change.", "schema": {"type": "string"}}}


class OfferSchema(Schema):
    """One employee's offer on the ticket: pending, accepted, declined, assigned or withdrawn."""

    id = fields.Integer(required=True)
    employee = fields.Nested(EmployeeRef, required=True)
    state = enum_field(OfferState, required=True)
    responsible = fields.Boolean(required=True, attribute="is_responsible",
                                 metadata={"description": "Accepted or assigned: the employee works on the ticket."})
    created_at = fields.AwareDateTime(required=True)
    updated_at = fields.AwareDateTime(required=True)


class OfferListSchema(Schema):
    """Every offer on the ticket, oldest first."""

    items = fields.List(fields.Nested(OfferSchema), required=True)


class EmployeeChoice(Schema):
    """The employee to assign or withdraw: by `employee_id` or by `email`, exactly one of them."""

    employee_id = fields.Integer(validate=ID)
    email = fields.String(validate=validate.Length(min=1, max=254))

    @validates_schema
    def _exactly_one(self, data, **_kwargs):
        """Refuse both or neither."""
        if ("employee_id" in data) == ("email" in data):
            raise ValidationError(_("Please name the employee either by employee_id or by email."), "employee_id")


def _ticket(number):
    """The submitted ticket if the employee may see it, else 404 (drafts have no offers)."""
    return row_or_404(Ticket, number,
                      lambda row: policy.can_view_ticket(core.actor(), row) and row.status != TicketStatus.DRAFT,
                      _("This ticket does not exist or is not available to you."))


def _employee(choice):
    """The employee the choice names, or None when there is no such employee."""
    if "employee_id" in choice:
        return db.session.get(Employee, choice["employee_id"])
    return offers.employee_by_email(choice["email"])


def _change(number, change, choice=None):
    """Apply `change` (an app.services.offers function) to the ticket `number`, for the employee the `choice`
    names if any, expecting the version If-Match names; the offer as stored now, with the ticket's new version as
    ETag. 404 for a ticket the employee may not see; what the service raises (409 for an outdated version)."""
    ticket = _ticket(number)
    employee = () if choice is None else (_employee(choice),)
    offer = change(ticket, *employee, actor=core.actor(), expected_version=core.if_match_version())
    ticket = fresh(Ticket, offer.ticket_id)
    return fresh(Offer, offer.id), 200, {"ETag": core.etag_of(ticket.version)}


@blp.get("/<int:number>/offers")
@core.require_scope("read")
@blp.response(200, OfferListSchema, headers={"ETag": {"description": "The ticket's version.",
                                                      "schema": {"type": "string"}}})
@core.documented("The ticket's offers, oldest first, as the ticket page lists them for every employee.", 404)
def list_offers(number):
    ticket = _ticket(number)
    rows = sorted(ticket.offers, key=lambda offer: offer.id)
    return {"items": rows}, 200, {"ETag": core.etag_of(ticket.version)}


@blp.post("/<int:number>/offers/accept")
@core.require_scope("write")
@blp.response(200, OfferSchema, headers=ETAG_HEADER)
@core.takes_if_match
@core.documented(
    "Accept the token's employee's pending offer: they become responsible (the first one assigns the ticket).",
    404, 409,
)
def accept_offer(number):
    return _change(number, offers.accept_offer)


@blp.post("/<int:number>/offers/decline")
@core.require_scope("write")
@blp.response(200, OfferSchema, headers=ETAG_HEADER)
@core.takes_if_match
@core.documented("Decline the token's employee's pending offer: they hear nothing more of this ticket.", 404, 409)
def decline_offer(number):
    return _change(number, offers.decline_offer)


@blp.post("/<int:number>/offers/assign")
@core.require_scope("write")
@blp.arguments(EmployeeChoice)
@blp.response(200, OfferSchema, headers=ETAG_HEADER)
@core.takes_if_match
@core.documented(
    "Make an active employee responsible, whatever their offer said (moderators and administrators).",
    400, 404, 409, 413, 415, 422,
)
def assign_employee(data, number):
    return _change(number, offers.assign_employee, data)


@blp.post("/<int:number>/offers/withdraw")
@core.require_scope("write")
@blp.arguments(EmployeeChoice)
@blp.response(200, OfferSchema, headers=ETAG_HEADER)
@core.takes_if_match
@core.documented(
    "Take an employee's offer or responsibility away; the last responsible gone sends the ticket back to OPEN "
    "(moderators and administrators).",
    400, 404, 409, 413, 415, 422,
)
def withdraw_employee(data, number):
    return _change(number, offers.withdraw_employee, data)
