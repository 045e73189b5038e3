"""The demo data the README lists (idempotent) and realistic bulk tickets for benchmarks."""
import collections
import functools
import json
import multiprocessing
import operator
import random
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from datetime import timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from werkzeug.security import generate_password_hash

from app import text_folding
from app.enums import (
    ButtonTarget,
    CustomerKind,
    GroupKind,
    Priority,
    Role,
    StepType,
)
from app.extensions import db
from app.models import (
    ActionButton,
    AssistantElement,
    Code,
    Customer,
    Device,
    Employee,
    Flow,
    Group,
    Organisation,
    Step,
    Template,
    Ticket,
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


@functools.lru_cache(maxsize=4)
def _demo_hash(secret):
    """The hash of the demo password or PIN (werkzeug's scrypt, the same as Employee.set_password and Code.set_pin),
    made once per process: each costs about 0.1 s of CPU, and the demo's accounts share one password."""
    return generate_password_hash(secret)


def load_demo():
    """Create exactly the demo data the README lists; running it again changes nothing."""
    Organisation.current()
    people = {}
    for email, name, role in EMPLOYEES:
        employee = db.session.scalar(sa.select(Employee).filter_by(email=email))
        if employee is None:
            employee = Employee(email=email, name=name, role=role, language="de")
            employee.password_hash = _demo_hash(DEMO_PASSWORD)
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
            code = Code(token=token, device=device, label=name, enabled=True, pin_hash=pin and _demo_hash(pin))
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


BULK_CHUNK = 20_000  # tickets per transaction of load_bulk_tickets: memory stays flat, every commit is consistent
BULK_INDEXES_FROM = 50_000  # loads of this many tickets (and at least as many as exist) rebuild some indexes, see _set_aside_indexes
PROGRESS_EVERY = 100_000  # tickets between two progress lines
MAX_AGE_MINUTES = 60 * 24 * 720  # bulk tickets were created within the last two years
UPDATES = ["Dichtung getauscht.", "Ventil gereinigt, Testlauf ok.", "Ersatzteil bestellt."]
RATING_COMMENTS = ["", "", "Schnell und freundlich, danke!", "Hat etwas gedauert.", "Top Service."]
YES_NO = ("Ja", "Nein")
NUMBERS = [str(number) for number in range(1, 13)]  # quantities of spare parts
DAY = 24 * 60  # minutes
MINUTE, HOUR, ONE_DAY, TWO_DAYS = timedelta(minutes=1), timedelta(hours=1), timedelta(days=1), timedelta(days=2)
BULK_STAGING = "bulk_search_documents"  # SQLite: a temporary table the documents of a chunk pass through
SQLITE_LOAD_PRAGMAS = {"synchronous": "OFF", "cache_size": "-262144", "temp_store": "MEMORY"}  # 256 MB page cache

# The columns of each table load_bulk_tickets writes, in the order of its row tuples.
BULK_COLUMNS = {
    "tickets": (
        "id", "device_id", "template_id", "flow_id", "customer_id", "flow_title", "status", "visibility", "priority",
        "title", "created_at", "submitted_at", "last_activity_at", "closed_at", "done_at", "rating_score", "version",
    ),
    "answers": (
        "ticket_id", "step_id", "position", "question", "type", "help_text", "required", "options", "is_title",
        "answered", "value", "text",
    ),
    "offers": ("ticket_id", "employee_id", "state", "created_at", "updated_at"),
    "ticket_events": ("ticket_id", "kind", "actor_employee_id", "before", "after", "created_at"),
    "messages": ("ticket_id", "kind", "body", "author_employee_id", "created_at"),
    "updates": ("ticket_id", "visibility", "body", "author_employee_id", "created_at"),
    "ratings": ("ticket_id", "score", "comment", "created_at"),
    "ticket_search_documents": ("ticket_id", "body"),
    "report_ticket_facts": None,  # reports.FACT_COLUMNS, filled in on first use
}


class _BulkPlan:
    """What every bulk ticket picks from, prepared once: per device its template, customer, titles, flows (with
    their steps and fleet group) and team of employee ids."""

    def __init__(self, devices, flows, members, groups):
        """`devices`: Device rows; `flows`: {template id: [Flow]}; `members`: {template id: [Employee]};
        `groups`: reports.fleet_groups()."""
        from app.services import reports

        flow_plans = {
            template_id: [
                (
                    flow.id,
                    flow.title,
                    [(step.id, position, step.question, step.type, step.required, step.is_title)
                     for position, step in enumerate(flow.steps)],
                    reports.group_of(groups, flow.id, template_id),
                )
                for flow in template_flows
            ]
            for template_id, template_flows in flows.items()
        }
        self.devices = [
            (
                device.id, device.template_id, device.customer_id,
                {problem: f"{problem} ({device.name})" for problem in PROBLEMS},
                flow_plans[device.template_id],
                tuple(employee.id for employee in members.get(device.template_id) or []),
            )
            for device in devices
            if flow_plans.get(device.template_id)
        ]
        self.statuses = [status.name for status, weight in STATUS_MIX for _ in range(weight)]
        self.priorities = [priority.name for priority in Priority]
        self.fact_values = operator.itemgetter(*reports.FACT_COLUMNS)  # a facts dict as a row tuple
        self.fact_created_at = reports.FACT_COLUMNS.index("created_at")
        self.fact_days = [reports.FACT_COLUMNS.index(name) for name in ("created_day", "closed_day", "rated_day")]


class _SqliteRows:
    """Writes bulk rows with sqlite3's executemany of tuples, under load PRAGMAs (see `tuned`)."""

    stamp_suffix = ""  # SQLAlchemy stores UTC times in SQLite as 'YYYY-MM-DD HH:MM:SS.ffffff'

    def __init__(self, connection):
        """`connection`: the SQLAlchemy Connection of the load."""
        self.connection = connection
        self.cursor = connection.connection.driver_connection.cursor()

    def write(self, table, rows):
        """Insert `rows` (tuples in BULK_COLUMNS[table] order) into `table`.

        Search documents go through a temporary table and one INSERT … SELECT: the documents table's trigger feeds
        FTS5 about four times faster so than row by row from executemany."""
        columns = BULK_COLUMNS[table]
        placeholders = ", ".join("?" * len(columns))
        if table != "ticket_search_documents":
            self.cursor.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({placeholders})", rows)
            return
        self.cursor.execute(f"CREATE TEMP TABLE IF NOT EXISTS {BULK_STAGING} (ticket_id INTEGER PRIMARY KEY, body TEXT NOT NULL)")
        self.cursor.executemany(f"INSERT INTO temp.{BULK_STAGING} (ticket_id, body) VALUES ({placeholders})", rows)
        self.cursor.execute(f"INSERT INTO {table} (ticket_id, body) SELECT ticket_id, body FROM temp.{BULK_STAGING}")
        self.cursor.execute(f"DELETE FROM temp.{BULK_STAGING}")

    @contextmanager
    def tuned(self):
        """No fsync, a large page cache and in-memory temporary data for the load, the connection's own settings
        again afterwards (it goes back to the pool). A crash of the machine during the load can lose the load,
        never earlier data: the journal stays in WAL mode."""
        saved = {name: self.connection.exec_driver_sql(f"PRAGMA {name}").scalar() for name in SQLITE_LOAD_PRAGMAS}
        for name, value in SQLITE_LOAD_PRAGMAS.items():
            self.connection.exec_driver_sql(f"PRAGMA {name}={value}")
        try:
            yield
        finally:
            self.connection.rollback()
            self.connection.exec_driver_sql(f"DROP TABLE IF EXISTS temp.{BULK_STAGING}")
            for name, value in saved.items():
                self.connection.exec_driver_sql(f"PRAGMA {name}={value}")


class _PostgresRows:
    """Writes bulk rows with COPY (psycopg's cursor.copy), every value as text."""

    stamp_suffix = "+00"  # times are UTC

    def __init__(self, connection):
        """`connection`: the SQLAlchemy Connection of the load."""
        self.connection = connection
        self.cursor = connection.connection.driver_connection.cursor()

    def write(self, table, rows):
        """COPY `rows` (tuples in BULK_COLUMNS[table] order) into `table`."""
        with self.cursor.copy(f"COPY {table} ({', '.join(BULK_COLUMNS[table])}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)

    @contextmanager
    def tuned(self):
        """Nothing to tune: COPY is the fast path."""
        yield


def load_bulk_tickets(count, *, seed=42, chunk=BULK_CHUNK, progress=None):
    """Append `count` realistic bulk tickets (int) and return how many were made.

    Across the demo's templates and 200 extra devices, flows and statuses (STATUS_MIX), with answers, offers,
    events, messages, updates and ratings; each ticket's search document and report facts are written with it and the daily
    counts added to, so search and reports agree with the rows at every commit (one per `chunk` tickets; memory
    stays flat). Ticket ids continue after the highest one; `seed` makes the rows repeatable. Rows go in as tuples:
    executemany on SQLite (under load PRAGMAs), COPY on PostgreSQL. `progress`, when given, is called with a line of
    text (str) every PROGRESS_EVERY tickets and with a summary of the phases (seconds) at the end. Afterwards the
    query planner's statistics are refreshed (ANALYZE) and PostgreSQL's tables vacuumed. Raises ValueError on another database than SQLite or
    PostgreSQL."""
    from app.services import reports

    started = time.perf_counter()
    phases = Counter()  # {phase: wall seconds}
    cpu = Counter()  # {phase: CPU seconds of this process}
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
    plan = _BulkPlan(devices, {template.id: list(template.flows) for template in templates}, members, reports.fleet_groups())
    zone = ZoneInfo(reports.report_zone())
    db.session.commit()
    if BULK_COLUMNS["report_ticket_facts"] is None:
        BULK_COLUMNS["report_ticket_facts"] = reports.FACT_COLUMNS
    with db.engine.connect() as connection:
        rows_class = {"sqlite": _SqliteRows, "postgresql": _PostgresRows}.get(connection.dialect.name)
        if rows_class is None:
            raise ValueError(f"Bulk tickets need SQLite or PostgreSQL, not {connection.dialect.name}.")
        writer = rows_class(connection)
        first_id = (connection.scalar(sa.select(sa.func.max(Ticket.id))) or 0) + 1
        texts = _BulkTexts(writer, utcnow(), zone)
        indexes = _set_aside_indexes(connection.dialect.name)
        _create_indexes(connection, indexes)  # back after a load that was killed before it could recreate them
        set_aside = count >= max(BULK_INDEXES_FROM, first_id - 1)
        made = 0
        with writer.tuned():
            try:
                if set_aside:
                    mark = _clock()
                    for name in indexes:
                        connection.exec_driver_sql(f"DROP INDEX IF EXISTS {name}")
                    connection.commit()
                    _tally(phases, cpu, "drop indexes", mark)
                chunks = [(first_id + start, min(chunk, count - start)) for start in range(0, count, chunk)]
                state = (plan, texts, random.Random(seed))
                for batch, (rows, counts) in _generated_chunks(state, chunks, phases, cpu):
                    for table, table_rows in rows.items():
                        mark = _clock()
                        if table_rows:
                            writer.write(table, table_rows)
                        _tally(phases, cpu, f"insert {table}", mark)
                    mark = _clock()
                    reports.add_counts(counts, connection)
                    connection.commit()
                    _tally(phases, cpu, "add report counts, commit", mark)
                    made += batch
                    if progress and (made % PROGRESS_EVERY < batch or made == count):
                        progress(f"{made:,} of {count:,} bulk tickets, {time.perf_counter() - started:.0f} s")
            finally:
                connection.rollback()  # what a failed chunk left
                mark = _clock()
                _create_indexes(connection, indexes)
                _tally(phases, cpu, "create indexes", mark)
        mark = _clock()
        if connection.dialect.name == "postgresql":  # the sequence must move past the explicit ids
            connection.exec_driver_sql("SELECT setval(pg_get_serial_sequence('tickets', 'id'), (SELECT MAX(id) FROM tickets))")
        # Fresh statistics let the query planner pick the sort indexes of the tickets overview.
        connection.exec_driver_sql("ANALYZE")
        connection.commit()
        _tally(phases, cpu, "ANALYZE", mark)
        if connection.dialect.name == "postgresql":
            mark = _clock()
            _vacuum_postgres(connection)
            _tally(phases, cpu, "VACUUM", mark)
    if progress:
        progress("phases (wall/CPU s): " + ", ".join(
            f"{name} {seconds:.1f}/{cpu[name]:.1f}" for name, seconds in phases.most_common()
        ))
    return made


def _generated_chunks(state, chunks, phases, cpu):
    """(tickets, (rows, ReportCounts)) of each chunk (first ticket id, tickets) in `chunks`, in order; `state` is
    (plan, texts, random generator).

    With more than one chunk, a second process generates the chunks one after the other (one generator throughout,
    so the rows are the same either way) while this one writes; `phases` and `cpu` then count the time spent
    waiting for it."""
    if len(chunks) == 1:
        mark = _clock()
        generated = _generate_chunk(state, *chunks[0])
        _tally(phases, cpu, "generate rows", mark)
        yield chunks[0][1], generated
        return
    context = multiprocessing.get_context("fork")  # the worker inherits the loaded modules and needs no app
    with ProcessPoolExecutor(1, mp_context=context, initializer=_start_worker, initargs=(state,)) as pool:
        pending = collections.deque()
        try:
            for index, chunk in enumerate(chunks):
                while len(pending) < 2 and index + len(pending) < len(chunks):  # this chunk and the next in work
                    pending.append(pool.submit(_worker_chunk, *chunks[index + len(pending)]))
                mark = _clock()
                generated = pending.popleft().result()
                _tally(phases, cpu, "wait for generated rows", mark)
                yield chunk[1], generated
        finally:
            for future in pending:
                future.cancel()


_worker_state = None  # (plan, texts, random generator) in the process that generates chunks


def _start_worker(state):
    """Keep what every chunk needs in the generating process."""
    global _worker_state
    _worker_state = state


def _worker_chunk(first_id, batch):
    """_generate_chunk in the generating process."""
    return _generate_chunk(_worker_state, first_id, batch)


def _generate_chunk(state, first_id, batch):
    """({table: [row tuples]}, ReportCounts) of `batch` bulk tickets from id `first_id` on, drawn from the state's
    random generator (chunks must be generated in order)."""
    from app.services import reports

    plan, texts, rng = state
    rows = {table: [] for table in BULK_COLUMNS}
    counts = reports.ReportCounts()
    for ticket_id in range(first_id, first_id + batch):
        _bulk_ticket(rng, ticket_id, rng.choice(plan.devices), plan, texts, rows, counts)
    return rows, counts


def _set_aside_indexes(dialect):
    """{index name: how to create it (a callable taking a Connection)} of the indexes a large load drops and builds
    again at the end: one sort instead of a scattered insert per row.

    Those of the bulk tables that bulk rows reach in random key order (non-unique, not led by the ticket id), and
    on PostgreSQL the GIN index of the search documents. Unique indexes stay: they guard the data."""
    from app.services import search

    indexes = {
        index.name: functools.partial(index.create, checkfirst=True)
        for name in BULK_COLUMNS
        for index in sorted(db.metadata.tables[name].indexes, key=lambda index: index.name)
        if not index.unique and index.columns[0].name not in ("id", "ticket_id")
    }
    if dialect == "postgresql":
        for statement in search.POSTGRES_DDL:  # CREATE INDEX IF NOT EXISTS <name> ...
            indexes[statement.split()[5]] = functools.partial(sa.Connection.exec_driver_sql, statement=statement)
    return indexes


def _vacuum_postgres(connection):
    """VACUUM the PostgreSQL database `connection` (outside any transaction) after a bulk load, as autovacuum would
    some minutes later: it marks the new rows' pages all-visible, so index-only scans (the overview's sorted
    matches) need not visit the table, and sets the rows' hint bits, which the first reads would otherwise write."""
    connection.commit()
    autocommit = connection.execution_options(isolation_level="AUTOCOMMIT")
    autocommit.exec_driver_sql("VACUUM")


def _create_indexes(connection, indexes):
    """Create those of `indexes` (from _set_aside_indexes) that are missing, and commit."""
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql("SET LOCAL maintenance_work_mem = '256MB'")  # sorts for the builds, this transaction
    for create in indexes.values():
        create(connection)
    connection.commit()


def _clock():
    """(wall, CPU) seconds now."""
    return time.perf_counter(), time.process_time()


def _tally(phases, cpu, name, mark):
    """Add the wall and CPU seconds since `mark` (from _clock) to phase `name`."""
    wall, processor = _clock()
    phases[name] += wall - mark[0]
    cpu[name] += processor - mark[1]


class _BulkTexts:
    """What bulk tickets repeat, made once: stored times, search-folded texts, JSON answer values.

    Times are whole minutes before one moment `now`, so their stored text is a day's prefix, the clock time and
    `now`'s seconds: no datetime is formatted per row."""

    def __init__(self, writer, now, zone):
        """`writer`: _SqliteRows or _PostgresRows; `now`: an aware UTC datetime; `zone`: the report days' ZoneInfo."""
        self.now = now
        self.zone = zone
        self.fold_cache = {}
        self.json = {}
        self.minute_of_day = now.hour * 60 + now.minute
        self.tail = f":{now.second:02d}.{now.microsecond:06d}{writer.stamp_suffix}"
        self.days = {}
        self.clock = [f" {hour:02d}:{minute:02d}" for hour in range(24) for minute in range(60)]

    def at(self, minutes_ago):
        """The aware datetime `minutes_ago` (int) minutes before now."""
        return self.now - MINUTE * minutes_ago

    def stamp(self, minutes_ago):
        """The stored text of the time `minutes_ago` (int) minutes before now."""
        day, minute = divmod(self.minute_of_day - minutes_ago, 24 * 60)
        prefix = self.days.get(day)
        if prefix is None:
            prefix = self.days[day] = (self.now.date() + timedelta(days=day)).isoformat()
        return prefix + self.clock[minute] + self.tail

    def value(self, text):
        """The stored JSON of an answer's value (SQLAlchemy's JSON type stores None as 'null')."""
        value = self.json.get(text)
        if value is None:
            value = self.json[text] = json.dumps(text) if text else "null"
        return value

    def document(self, ticket_id, *texts):
        """The search document of a ticket: what search.document_text makes of its number, title, flow title,
        answers, messages and updates (`texts`, in that order). The number's words are plain ASCII and lead."""
        return f"t {ticket_id:05d} {ticket_id} " + text_folding.document_text(*texts, cache=self.fold_cache)


def _bulk_ticket(rng, ticket_id, device, plan, texts, rows, counts):
    """Append the rows of one bulk ticket to `rows` ({table: [tuples]}) and count its report facts in `counts`.

    Times are minutes before `texts.now`: created within MAX_AGE_MINUTES, the status change an hour later, messages
    every half hour, the update after five hours, done after a day, closed after two."""
    from app.services import reports

    device_id, template_id, customer_id, titles, flows, team = device
    flow_id, flow_title, steps, group_id = rng.choice(flows)
    status = rng.choice(plan.statuses)
    created = rng.randint(10, MAX_AGE_MINUTES)
    problem = rng.choice(PROBLEMS)
    title = titles[problem]
    visibility = "PUBLIC" if rng.random() < 0.75 else "INTERNAL"
    responsible = rng.choice(team) if team and status != "OPEN" else None
    closed = status in ("CLOSED", "CANCELLED")
    done = status in ("DONE", "CLOSED")
    priority = rng.choice(plan.priorities)
    last_activity = created - 60 * rng.randint(0, 72)
    rating = rng.randint(1, 5) if status == "CLOSED" and rng.random() < 0.6 else None
    stamp = texts.stamp
    created_stamp = stamp(created)
    rows["tickets"].append((
        ticket_id, device_id, template_id, flow_id, customer_id, flow_title, status, visibility, priority, title,
        created_stamp, created_stamp, stamp(last_activity), stamp(created - 2 * DAY) if closed else None,
        stamp(created - DAY) if done else None, rating, 1,
    ))
    document = [title, flow_title]
    answers = rows["answers"]
    for step_id, position, question, kind, required, is_title in steps:
        # Every step draws a detail, a yes/no and a number, and uses the one its type asks for.
        choices = (rng.choice(DETAILS), rng.choice(YES_NO), NUMBERS[rng.randint(1, 12) - 1])
        if kind == StepType.TEXT_SHORT:
            text = problem
        elif kind == StepType.TEXT_LONG:
            text = choices[0]
        elif kind == StepType.YES_NO:
            text = choices[1]
        elif kind == StepType.NUMBER:
            text = choices[2]
        else:
            text = ""
        answers.append((ticket_id, step_id, position, question, kind.name, "", required, "[]", is_title, True,
                        texts.value(text), text))
        document.append(text)
    offers = rows["offers"]
    for employee_id in team:
        if employee_id == responsible:
            state = "ACCEPTED"
        elif responsible is not None and rng.random() < 0.3:
            state = "DECLINED"
        else:
            state = "PENDING"
        offers.append((ticket_id, employee_id, state, created_stamp, created_stamp))
    events = rows["ticket_events"]
    events.append((ticket_id, "created", None, None, visibility, created_stamp))
    if status != "OPEN":  # by the responsible employee where there is one
        events.append((ticket_id, "status", responsible, "OPEN", status, stamp(created - 60)))
    first_response = 60 if status != "OPEN" and responsible is not None else None  # minutes after creation
    if responsible is not None:
        for index in range(rng.randint(0, 3)):
            body = rng.choice(CHAT)
            rows["messages"].append(
                (ticket_id, "TEXT", body, responsible if index % 2 == 0 else None, stamp(created - 30 * (index + 1)))
            )
            document.append(body)
            if index == 0:
                first_response = 30
        if rng.random() < 0.5:
            shown_to = rng.choice(("PUBLIC", "INTERNAL"))
            body = rng.choice(UPDATES)
            rows["updates"].append((ticket_id, shown_to, body, responsible, stamp(created - 300)))
            document.append(body)
            first_response = min(first_response or 300, 300)
    if rating:  # the code user's rating closed the ticket
        rows["ratings"].append(
            (ticket_id, rating, RATING_COMMENTS[ticket_id % len(RATING_COMMENTS)], stamp(created - 2 * DAY))
        )
    rows["ticket_search_documents"].append((ticket_id, texts.document(ticket_id, *document)))
    created_at = texts.at(created)
    closed_at = created_at + TWO_DAYS if closed else None
    facts = reports.facts_row(
        ticket_id, template_id, customer_id, device_id, status, created_at, closed_at, rating, zone=texts.zone,
        group_id=group_id,
        employee_id=responsible,
        first_response=created_at + MINUTE * first_response if first_response else None,
        assignment=created_at + HOUR if status in reports.LEFT_OPEN else None,
        resolution=created_at + HOUR if status == "DONE" else created_at + ONE_DAY if done else None,
        latest_rating_at=closed_at if rating else None,
    )
    counts.add(facts)
    values = list(plan.fact_values(facts))
    values[plan.fact_created_at] = created_stamp
    for position in plan.fact_days:
        if values[position] is not None:
            values[position] = values[position].isoformat()
    rows["report_ticket_facts"].append(values)


def database_bytes():
    """The size of the app's database in bytes (int): SQLite's pages (the file, WAL content included) or
    PostgreSQL's pg_database_size."""
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        return connection.exec_driver_sql("SELECT pg_database_size(current_database())").scalar()
    page_count = connection.exec_driver_sql("PRAGMA page_count").scalar()
    return page_count * connection.exec_driver_sql("PRAGMA page_size").scalar()
