"""Plain factory functions with sensible defaults for tests."""
import functools
import itertools

from werkzeug.security import generate_password_hash

from app.enums import GroupKind, Role, StepType, Visibility
from app.extensions import db
from app.identity import CodeVisitor
from app.models import (
    Code,
    CodeSession,
    CodeUser,
    Device,
    Employee,
    Flow,
    Group,
    Step,
    Template,
)
from app.services import tickets as ticket_service

_sequence = itertools.count(1)
PASSWORD = "correct-horse-battery"


@functools.lru_cache(maxsize=16)
def password_hash(password):
    """One real scrypt hash per password for the whole run: each costs about 0.1 s of CPU, and tests make hundreds."""
    return generate_password_hash(password)


def make_employee(role=Role.MEMBER, name=None, email=None, active=True, password=PASSWORD, language="de"):
    """An employee who can log in with PASSWORD."""
    n = next(_sequence)
    employee = Employee(
        name=name or f"Employee {n}", email=email or f"employee{n}@example.com", role=role, active=active, language=language
    )
    employee.password_hash = password_hash(password)
    db.session.add(employee)
    db.session.commit()
    return employee


def make_template(name=None, ratings_enabled=True, fleet=(), notify=()):
    """A template with a default fleet group (and notify group when given)."""
    template = Template(name=name or f"Template {next(_sequence)}", ratings_enabled=ratings_enabled)
    db.session.add(template)
    db.session.flush()
    fleet_group = Group(template=template, kind=GroupKind.FLEET, name="Fleet", position=0, employees=list(fleet))
    db.session.add(fleet_group)
    if notify:
        db.session.add(Group(template=template, kind=GroupKind.NOTIFY, name="Notify", position=1, employees=list(notify)))
    db.session.commit()
    return template


DEFAULT_STEPS = [
    ("Kurzbeschreibung", StepType.TEXT_SHORT, True, True, []),
    ("Was ist passiert?", StepType.TEXT_LONG, True, False, []),
    ("Foto", StepType.MEDIA, False, False, []),
    ("Steht die Maschine still?", StepType.YES_NO, True, False, []),
]


def make_flow(template, title="Störung melden", steps=DEFAULT_STEPS, active=True):
    """A flow with the given (question, type, required, is_title, options) steps."""
    flow = Flow(template=template, title=title, active=active)
    for position, (question, kind, required, is_title, options) in enumerate(steps):
        flow.steps.append(
            Step(position=position, question=question, type=kind, required=required, is_title=is_title, options=options)
        )
    db.session.add(flow)
    db.session.commit()
    return flow


def make_device(template, name=None, customer=None):
    """A device of `template`."""
    device = Device(template=template, name=name or f"Device {next(_sequence)}", customer=customer)
    db.session.add(device)
    db.session.commit()
    return device


def make_code(device, token=None, pin=None, enabled=True):
    """A code paired with `device`."""
    code = Code(token=token or f"tok{next(_sequence)}", device=device, enabled=enabled)
    code.set_pin(pin)
    db.session.add(code)
    db.session.commit()
    return code


def make_code_visitor(*codes):
    """A code user with valid sessions on `codes`, as the policy sees them."""
    code_user = CodeUser(key=f"key{next(_sequence)}")
    db.session.add(code_user)
    db.session.flush()
    for code in codes:
        db.session.add(CodeSession(code_user=code_user, code_id=code.id, epoch=code.session_epoch))
    db.session.commit()
    return CodeVisitor(code_user, {code.device_id for code in codes})


def answer_all(ticket, actor, overrides=None):
    """Answer every step of a draft with a valid value."""
    overrides = overrides or {}
    defaults = {
        StepType.TEXT_SHORT: "Presse fährt nicht hoch",
        StepType.TEXT_LONG: "Seit heute Morgen.",
        StepType.YES_NO: "yes",
        StepType.NUMBER: "2",
        StepType.DATE: "2026-11-30",
        StepType.PRIORITY: "high",
        StepType.VISIBILITY: None,
    }
    for answer in list(ticket.answers):
        if answer.type == StepType.VISIBILITY and answer.position not in overrides:
            continue
        if answer.type == StepType.MEDIA:
            raw = []
        elif answer.type in (StepType.SINGLE_CHOICE,):
            raw = answer.options[0]
        elif answer.type == StepType.MULTI_CHOICE:
            raw = answer.options[:1]
        elif answer.type == StepType.REQUESTER:
            raw = {"name": "Max Mustermann", "email": "max@example.com"}
        else:
            raw = defaults[answer.type]
        ticket_service.save_answer(ticket, answer.position, overrides.get(answer.position, raw), actor=actor)


def make_ticket(flow, device, actor, *, submit=True, visibility=None):
    """A ticket created through the services, submitted unless asked otherwise."""
    ticket = ticket_service.start_draft(flow, device, actor=actor)
    overrides = {}
    if visibility is not None and actor.is_employee:
        overrides = {a.position: visibility.value for a in ticket.answers if a.type == StepType.VISIBILITY}
    answer_all(ticket, actor, overrides)
    if submit:
        ticket_service.submit_ticket(ticket, actor=actor)
    return ticket


def make_public_ticket(flow, device, actor):
    """A submitted PUBLIC ticket."""
    return make_ticket(flow, device, actor, visibility=Visibility.PUBLIC)
