"""The demo data the README lists (idempotent) and realistic bulk tickets for benchmarks."""
import random
from datetime import timedelta

import sqlalchemy as sa

from app.enums import (
    ButtonTarget,
    CustomerKind,
    GroupKind,
    MessageKind,
    OfferState,
    Priority,
    Role,
    StepType,
    Visibility,
)
from app.extensions import db
from app.models import (
    ActionButton,
    Answer,
    AssistantElement,
    Code,
    Customer,
    Device,
    Employee,
    Flow,
    Group,
    Message,
    Offer,
    Organisation,
    Step,
    Template,
    Ticket,
    TicketEvent,
    Update,
)
from app.models._types import utcnow
from app.workflow import TicketStatus

DEMO_PASSWORD = "ticketwerk-demo"
EMPLOYEES = [
    ("admin@example.com", "Alex Admin", Role.ADMIN),
    ("moderator@example.com", "Mia Moderator", Role.MODERATOR),
    ("anna@example.com", "Anna Berger", Role.MEMBER),
    ("ben@example.com", "Ben Schulz", Role.MEMBER),
    ("carla@example.com", "Carla Weiß", Role.MEMBER),
]
S = StepType
HP200_FLOWS = [
    (
        "Störung melden",
        [
            ("Kurzbeschreibung", S.TEXT_SHORT, True, True, [], "Zum Beispiel: Presse fährt nicht hoch"),
            ("Was ist passiert?", S.TEXT_LONG, True, False, [], "Was haben Sie beobachtet, seit wann?"),
            ("Foto", S.MEDIA, False, False, [], "Ein Foto vom Display oder der Stelle hilft uns sehr."),
            ("Steht die Maschine still?", S.YES_NO, True, False, [], ""),
        ],
    ),
    (
        "Ersatzteil bestellen",
        [
            ("Teilenummer", S.TEXT_SHORT, True, True, [], "Steht auf dem Typenschild des Teils."),
            ("Menge", S.NUMBER, True, False, [], ""),
        ],
    ),
]
KK9_FLOWS = [("Störung melden", [("Kurzbeschreibung", S.TEXT_SHORT, True, True, [], "")])]
MANUAL_TEXT = (
    "## Bedienungsanleitung HP-200\n\n"
    "1. Hauptschalter einschalten und **Not-Aus** entriegeln.\n"
    "2. Hydraulik warmlaufen lassen (ca. 5 Minuten).\n"
    "3. Werkzeug einlegen, Schutztür schließen, Taste *Start* drücken.\n\n"
    "Bei Störungen bitte über *Störung melden* ein Ticket anlegen."
)


def _get_or_create(model, lookup, **defaults):
    """Return the row matching `lookup`, creating it with `defaults` when missing."""
    row = db.session.scalar(sa.select(model).filter_by(**lookup))
    if row is None:
        row = model(**lookup, **defaults)
        db.session.add(row)
        db.session.flush()
    return row


def load_demo():
    """Create exactly the demo data the README lists; running it again changes nothing."""
    Organisation.current()
    people = {}
    demo_hash = None  # the shared demo password is hashed once (scrypt costs about 0.1 s a time)
    for email, name, role in EMPLOYEES:
        employee = db.session.scalar(sa.select(Employee).filter_by(email=email))
        if employee is None:
            employee = Employee(email=email, name=name, role=role, language="de")
            if demo_hash is None:
                employee.set_password(DEMO_PASSWORD)
                demo_hash = employee.password_hash
            employee.password_hash = demo_hash
            db.session.add(employee)
            db.session.flush()
        people[email.split("@")[0]] = employee
    customer = _get_or_create(
        Customer,
        {"name": "Müller Metallbau GmbH"},
        kind=CustomerKind.COMPANY,
        contact_name="Jana Müller",
        email="service@mueller-metallbau.example",
        phone="+49 711 555 0100",
        address="Industriestraße 12, 70565 Stuttgart",
    )
    press = _template("Hydraulikpresse HP-200", True, [people["anna"], people["ben"]], [people["moderator"]], HP200_FLOWS)
    cooler = _template("Kältekompressor KK-9", False, [people["carla"]], [], KK9_FLOWS)
    _press_assistant(press)
    _cooler_assistant(cooler)
    devices = [
        ("HP-200 Halle 1", press, "demo-press", None, "HP200-10431", "Halle 1, Linie A"),
        ("KK-9 Kühlraum", cooler, "demo-cooler", None, "KK9-2207", "Kühlraum Ost"),
        ("HP-200 Halle 2", press, "demo-pin", "4711", "HP200-10877", "Halle 2"),
    ]
    for name, template, token, pin, serial, location in devices:
        device = _get_or_create(
            Device,
            {"name": name},
            template=template,
            customer=customer,
            serial_number=serial,
            location=location,
            description=f"{template.name} · {location}",
        )
        code = db.session.scalar(sa.select(Code).filter_by(token=token))
        if code is None:
            code = Code(token=token, device=device, label=name, enabled=True)
            code.set_pin(pin)
            db.session.add(code)
    db.session.commit()


def _template(name, ratings, fleet, notify, flows):
    """A template with its fleet and notify groups and flows."""
    template = _get_or_create(Template, {"name": name}, ratings_enabled=ratings, description="")
    fleet_group = _get_or_create(Group, {"template_id": template.id, "kind": GroupKind.FLEET}, name="Service-Team", position=0)
    if not fleet_group.employees:
        fleet_group.employees = list(fleet)
    notify_group = _get_or_create(Group, {"template_id": template.id, "kind": GroupKind.NOTIFY}, name="Leitstand", position=1)
    if not notify_group.employees and notify:
        notify_group.employees = list(notify)
    for position, (title, steps) in enumerate(flows):
        flow = _get_or_create(Flow, {"template_id": template.id, "title": title}, position=position, active=True)
        if not flow.steps:
            for index, (question, kind, required, is_title, options, help_text) in enumerate(steps):
                flow.steps.append(
                    Step(
                        position=index,
                        type=kind,
                        question=question,
                        required=required,
                        is_title=is_title,
                        options=options,
                        help_text=help_text,
                    )
                )
    db.session.flush()
    return template


def _element(template, title, body, position):
    """An assistant element of `template`."""
    return _get_or_create(AssistantElement, {"template_id": template.id, "title": title}, body=body, position=position)


def _press_assistant(template):
    """The start page of the demo assistant with its three action buttons."""
    start = _element(
        template,
        "Willkommen",
        "Hier bekommen Sie schnell Hilfe zu Ihrer **Hydraulikpresse HP-200**. Wählen Sie, was Sie tun möchten.",
        0,
    )
    manual = _element(template, "Bedienungsanleitung", MANUAL_TEXT, 1)
    if not start.buttons:
        flows = {flow.title: flow for flow in template.flows}
        start.buttons = [
            ActionButton(position=0, label="Störung melden", target=ButtonTarget.FLOW, target_flow=flows["Störung melden"]),
            ActionButton(
                position=1, label="Ersatzteil bestellen", target=ButtonTarget.FLOW, target_flow=flows["Ersatzteil bestellen"]
            ),
            ActionButton(position=2, label="Bedienungsanleitung", target=ButtonTarget.ELEMENT, target_element=manual),
        ]


def _cooler_assistant(template):
    """A small start page for the cooler."""
    start = _element(template, "Willkommen", "Hilfe für Ihren **Kältekompressor KK-9**.", 0)
    if not start.buttons:
        start.buttons = [
            ActionButton(position=0, label="Störung melden", target=ButtonTarget.FLOW, target_flow=template.flows[0])
        ]


PROBLEMS = [
    "Presse fährt nicht hoch", "Öl tritt am Zylinder aus", "Lautes Klopfen beim Pressen", "Display zeigt Fehler E42",
    "Not-Aus lässt sich nicht entriegeln", "Druck fällt langsam ab", "Schutztür schließt nicht", "Temperatur zu hoch",
    "Kompressor springt nicht an", "Vereisung am Verdampfer", "Kühlraum wird nicht kalt", "Ungewöhnliche Vibration",
]
DETAILS = [
    "Seit heute Morgen, nach dem Schichtwechsel.", "Tritt nur bei voller Last auf.", "Wir haben bereits neu gestartet.",
    "Das Problem kam schon letzte Woche einmal vor.", "Bitte dringend, die Linie steht.", "Keine Eile, läuft noch.",
]
CHAT = [
    "Können Sie bitte ein Foto vom Typenschild schicken?", "Ich bin in etwa einer Stunde vor Ort.",
    "Danke, das Foto hilft sehr.", "Der Techniker ist unterwegs.", "Bitte die Maschine nicht weiter betreiben.",
    "Läuft wieder, vielen Dank!",
]
STATUS_MIX = [
    (TicketStatus.OPEN, 15), (TicketStatus.ASSIGNED, 15), (TicketStatus.IN_PROGRESS, 15), (TicketStatus.DONE, 10),
    (TicketStatus.CLOSED, 35), (TicketStatus.CANCELLED, 10),
]
BULK_DEVICES = 200


def _bulk_devices(templates, customers):
    """Extra devices so bulk tickets spread like in a real fleet."""
    existing = db.session.scalars(sa.select(Device).where(Device.name.like("Bulk %"))).all()
    for index in range(len(existing), BULK_DEVICES):
        template = templates[index % len(templates)]
        db.session.add(
            Device(
                name=f"Bulk {template.name.split()[-1]} #{index + 1:03d}",
                template=template,
                customer=customers[index % len(customers)],
                serial_number=f"SN-{100000 + index}",
                location=f"Halle {index % 9 + 1}",
            )
        )
    db.session.flush()
    return db.session.scalars(sa.select(Device)).all()


def load_bulk_tickets(count, *, seed=42, chunk=5000):
    """Insert `count` realistic tickets with answers, messages, updates, offers and events, fast (Core inserts)."""
    rng = random.Random(seed)
    templates = db.session.scalars(sa.select(Template)).all()
    customers = [
        _get_or_create(Customer, {"name": name}, kind=CustomerKind.COMPANY)
        for name in ("Müller Metallbau GmbH", "Kühlhaus Nord AG", "Schmidt Umformtechnik", "Bäckerei Sonnenschein")
    ]
    devices = _bulk_devices(templates, customers)
    members = {
        template.id: (template.default_group(GroupKind.FLEET).all_employees() if template.default_group(GroupKind.FLEET) else [])
        for template in templates
    }
    flows = {template.id: [flow for flow in template.flows] for template in templates}
    db.session.commit()
    statuses = [status for status, weight in STATUS_MIX for _ in range(weight)]
    next_id = (db.session.scalar(sa.select(sa.func.max(Ticket.id))) or 0) + 1
    first_id = next_id
    now = utcnow()
    made = 0
    while made < count:
        batch = min(chunk, count - made)
        rows = {name: [] for name in ("tickets", "answers", "messages", "updates", "offers", "events")}
        for offset in range(batch):
            _bulk_ticket(rng, next_id + offset, devices, flows, members, statuses, now, rows)
        for model, key in ((Ticket, "tickets"), (Answer, "answers"), (Message, "messages"), (Update, "updates"), (Offer, "offers"), (TicketEvent, "events")):
            if rows[key]:
                db.session.execute(sa.insert(model), rows[key])
        db.session.commit()
        next_id += batch
        made += batch
    _fix_sequences()
    from app.services import search

    search.reindex_all(min_ticket_id=first_id)
    from app.services import reports

    reports.rebuild()
    # Fresh statistics let the query planner pick the sort indexes of the tickets overview.
    db.session.execute(sa.text("ANALYZE"))
    db.session.commit()
    return made


def _bulk_ticket(rng, ticket_id, devices, flows, members, statuses, now, rows):
    """Append the rows of one bulk ticket."""
    device = rng.choice(devices)
    flow = rng.choice(flows[device.template_id])
    status = rng.choice(statuses)
    created = now - timedelta(minutes=rng.randint(10, 60 * 24 * 720))
    problem = rng.choice(PROBLEMS)
    visibility = Visibility.PUBLIC if rng.random() < 0.75 else Visibility.INTERNAL
    team = members.get(device.template_id) or []
    responsible = rng.choice(team) if team and status not in (TicketStatus.OPEN,) else None
    closed = status in (TicketStatus.CLOSED, TicketStatus.CANCELLED)
    rows["tickets"].append(
        {
            "id": ticket_id, "device_id": device.id, "template_id": device.template_id, "flow_id": flow.id,
            "customer_id": device.customer_id, "flow_title": flow.title, "status": status.name,
            "visibility": visibility.name, "priority": rng.choice(list(Priority)).name,
            "title": f"{problem} ({device.name})", "created_at": created, "submitted_at": created,
            "last_activity_at": created + timedelta(hours=rng.randint(0, 72)),
            "closed_at": created + timedelta(days=2) if closed else None,
            "done_at": created + timedelta(days=1) if status in (TicketStatus.DONE, TicketStatus.CLOSED) else None,
            "rating_score": rng.randint(1, 5) if status == TicketStatus.CLOSED and rng.random() < 0.6 else None,
            "version": 1,
        }
    )
    for position, step in enumerate(flow.steps):
        text = {
            StepType.TEXT_SHORT: problem,
            StepType.TEXT_LONG: rng.choice(DETAILS),
            StepType.YES_NO: rng.choice(["Ja", "Nein"]),
            StepType.NUMBER: str(rng.randint(1, 12)),
        }.get(step.type, "")
        rows["answers"].append(
            {
                "ticket_id": ticket_id, "step_id": step.id, "position": position, "question": step.question,
                "type": step.type.name, "help_text": "", "required": step.required, "options": [],
                "is_title": step.is_title, "answered": True, "value": text or None, "text": text,
            }
        )
    for employee in team:
        state = OfferState.ACCEPTED if responsible is not None and employee.id == responsible.id else OfferState.PENDING
        if responsible is not None and state == OfferState.PENDING:
            state = OfferState.DECLINED if rng.random() < 0.3 else OfferState.PENDING
        rows["offers"].append(
            {"ticket_id": ticket_id, "employee_id": employee.id, "state": state.name, "created_at": created, "updated_at": created}
        )
    rows["events"].append(
        {"ticket_id": ticket_id, "kind": "created", "after": visibility.name, "created_at": created}
    )
    if status != TicketStatus.OPEN:
        rows["events"].append(
            {"ticket_id": ticket_id, "kind": "status", "before": "OPEN", "after": status.name,
             "actor_employee_id": responsible.id if responsible else None, "created_at": created + timedelta(hours=1)}
        )
    for index in range(rng.randint(0, 3) if responsible else 0):
        rows["messages"].append(
            {"ticket_id": ticket_id, "kind": MessageKind.TEXT.name, "body": rng.choice(CHAT),
             "author_employee_id": responsible.id if index % 2 == 0 else None,
             "created_at": created + timedelta(minutes=30 * (index + 1))}
        )
    if responsible and rng.random() < 0.5:
        rows["updates"].append(
            {"ticket_id": ticket_id, "visibility": rng.choice([Visibility.PUBLIC, Visibility.INTERNAL]).name,
             "body": rng.choice(["Dichtung getauscht.", "Ventil gereinigt, Testlauf ok.", "Ersatzteil bestellt."]),
             "author_employee_id": responsible.id, "created_at": created + timedelta(hours=5)}
        )


def _fix_sequences():
    """PostgreSQL sequences must move past explicitly inserted ids."""
    if db.engine.dialect.name == "postgresql":
        db.session.execute(sa.text("SELECT setval(pg_get_serial_sequence('tickets', 'id'), (SELECT MAX(id) FROM tickets))"))
        db.session.commit()
