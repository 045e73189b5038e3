"""The query helpers that list what an actor may see agree with the policy's own answer, row by row."""
from app import policy
from app.enums import Role, Visibility
from app.extensions import db
from app.models import Ticket, Update
from app.services import tickets as ticket_service
from tests.factories import (
    make_code,
    make_code_visitor,
    make_device,
    make_employee,
    make_flow,
    make_template,
    make_ticket,
)

RUN_ON_POSTGRES = True


def _world():
    """Two devices, code users on each, employees, and tickets of every kind with public and internal updates."""
    admin = make_employee(Role.ADMIN)
    member = make_employee(Role.MEMBER)
    template = make_template(fleet=[admin, member])
    flow = make_flow(template)
    press, lathe = make_device(template, name="Presse P-1"), make_device(template, name="Drehbank D-2")
    press_code, lathe_code = make_code(press), make_code(lathe)
    creator, neighbour, stranger = (
        make_code_visitor(press_code),
        make_code_visitor(press_code),
        make_code_visitor(lathe_code),
    )
    made = [
        make_ticket(flow, press, creator, submit=False),
        make_ticket(flow, press, creator),
        make_ticket(flow, press, member, submit=False),
        make_ticket(flow, press, member, visibility=Visibility.INTERNAL),
        make_ticket(flow, press, member, visibility=Visibility.PUBLIC),
        make_ticket(flow, lathe, stranger),
        make_ticket(flow, lathe, stranger, submit=False),
    ]
    for ticket in made:
        if ticket.status.name != "DRAFT":
            ticket_service.post_update(ticket, "Öffentlich", Visibility.PUBLIC, actor=admin)
            ticket_service.post_update(ticket, "Intern", Visibility.INTERNAL, actor=admin)
    actors = {
        "anonymous": None,
        "creator": creator,
        "neighbour": neighbour,
        "stranger": stranger,
        "member": member,
        "admin": admin,
        "no devices": make_code_visitor(),
    }
    return actors, press


def test_visible_tickets_are_exactly_those_the_policy_lets_each_actor_view(app):
    actors, _ = _world()
    every = db.session.scalars(db.select(Ticket)).all()
    for name, actor in actors.items():
        listed = {t.id for t in db.session.scalars(Ticket.visible_to(actor))}
        allowed = {t.id for t in every if policy.can_view_ticket(actor, t)}
        assert listed == allowed, name
    assert len({t.id for t in db.session.scalars(Ticket.visible_to(actors["creator"]))}) == 3  # a draft and two public


def test_visible_updates_are_exactly_those_the_policy_lets_each_actor_view(app):
    actors, _ = _world()
    every = db.session.scalars(db.select(Update)).all()
    for name, actor in actors.items():
        listed = {u.id for u in db.session.scalars(Update.visible_to(actor))}
        allowed = {u.id for u in every if policy.can_view_ticket(actor, u.ticket) and policy.can_view_update(actor, u)}
        assert listed == allowed, name
    assert not any(u.visibility == Visibility.INTERNAL for u in db.session.scalars(Update.visible_to(actors["creator"])))


def test_service_history_holds_what_every_code_user_of_the_device_may_read(app):
    actors, press = _world()
    history = db.session.execute(Update.public_history(press.id)).all()
    assert history
    for update, ticket in history:
        assert ticket.device_id == press.id
        assert policy.can_view_update(actors["neighbour"], update) and policy.can_view_ticket(actors["neighbour"], ticket)
