"""Devices with their customers and codes brought in from a spreadsheet (CSV or XLSX) and written out again.

The flow: `read_upload` turns the uploaded file into rows of text (file-level problems raise ValidationError);
`store_upload` keeps them under the instance folder, keyed by a random id and bound to the employee, for
IMPORT_KEEP_MINUTES; `plan_rows` says for each row what importing it would do (create, update, unchanged) and
what is wrong with it; `apply_import` does it for every row without errors, through the same services the forms
use (devices, customers, codes), in one transaction. The serial number is the key: importing the same file twice
changes nothing the second time. `export_rows` writes the devices in the same columns, so an export imported again
changes nothing either.

Columns (COLUMNS) are recognised by German or English header names, case and spaces aside. Cells are checked
like the forms check typed input (app/services/input_checks.py).
"""
import json
import os
import re
import secrets
import time
from dataclasses import dataclass, field

import sqlalchemy as sa
from flask import current_app
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy.orm import selectinload

from app import policy, realtime
from app.enums import CustomerKind
from app.extensions import db
from app.models import Code, Customer, Device, Template
from app.services import codes as code_service
from app.services.customers import save_customer
from app.services.devices import save_device
from app.services.errors import NotFound, ServiceError, ValidationError, require
from app.services.input_checks import email_address, text
from app.tabular import FORMULA_STARTS, read_table

UPLOAD_ID = re.compile(r"[A-Za-z0-9_-]{22}")
TOKEN_SPLIT = re.compile(r"[\s,;]+")
QUERY_CHUNK = 500  # ids or names per IN (…) of the look-ups


@dataclass(frozen=True)
class Column:
    """One column of the file: its key, its header in German and English, further accepted names, its limit."""

    key: str
    german: str
    english: str
    aliases: tuple = ()
    max_length: int = 160
    one_line: bool = True

    @property
    def header(self):
        """The header as the reader's language writes it (exports and example files)."""
        return self.german if str(get_locale() or "").startswith("de") else self.english

    @property
    def names(self):
        """Every header name this column is recognised by, normalised."""
        return {normalise_header(name) for name in (self.german, self.english, self.key, *self.aliases)}


COLUMNS = (
    Column("serial_number", "Seriennummer", "Serial number", ("Serien-Nr.", "Seriennr.", "Serial", "SN"), 80),
    Column("name", "Gerätename", "Device name", ("Gerät", "Device", "Name", "Bezeichnung")),
    Column("template", "Vorlage", "Template", ("Gerätetyp", "Device type", "Typ", "Type"), 120),
    Column("location", "Standort", "Location", ("Ort",)),
    Column("description", "Beschreibung", "Description", (), 5000, one_line=False),
    Column("customer", "Kunde", "Customer", ("Kundenname", "Customer name")),
    Column("customer_kind", "Kundenart", "Customer kind", ("Kundentyp", "Customer type"), 40),
    Column("customer_contact", "Ansprechpartner", "Contact person", ("Ansprechperson", "Kontakt", "Contact")),
    Column("customer_email", "Kunden-E-Mail", "Customer e-mail", ("E-Mail", "Email", "Customer email"), 254),
    Column("customer_phone", "Kundentelefon", "Customer phone", ("Telefon", "Phone"), 60),
    Column("customer_address", "Kundenadresse", "Customer address", ("Adresse", "Anschrift", "Address"), 2000,
           one_line=False),
    Column("codes", "Codes", "Codes", ("Code", "Code-Token", "Code tokens", "Token"), 2000),
)
BY_KEY = {column.key: column for column in COLUMNS}
CUSTOMER_FIELDS = ("customer_kind", "customer_contact", "customer_email", "customer_phone", "customer_address")
CUSTOMER_ATTRIBUTE = {
    "customer_kind": "kind", "customer_contact": "contact_name", "customer_email": "email", "customer_phone": "phone",
    "customer_address": "address",
}
KIND_NAMES = {
    "company": CustomerKind.COMPANY, "firma": CustomerKind.COMPANY, "unternehmen": CustomerKind.COMPANY,
    "private": CustomerKind.PRIVATE, "private person": CustomerKind.PRIVATE, "privat": CustomerKind.PRIVATE,
    "privatperson": CustomerKind.PRIVATE,
}


def normalise_header(name):
    """A header as compared: lower case, single spaces, without a trailing * or : (“Seriennummer*” → “seriennummer”)."""
    return " ".join(str(name or "").replace("\ufeff", "").split()).strip().rstrip("*:").strip().lower()


HEADER_KEYS = {name: column.key for column in COLUMNS for name in column.names}


def column_for_header(name):
    """The key of the column a header names, or None."""
    return HEADER_KEYS.get(normalise_header(name))


def kind_label(kind):
    """A customer's kind as the reader's language writes it in a file (and reads it back)."""
    german = str(get_locale() or "").startswith("de")
    if kind == CustomerKind.PRIVATE:
        return "Privatperson" if german else "private person"
    return "Firma" if german else "company"


# ---------------------------------------------------------------- reading a file


@dataclass
class Upload:
    """A read file: its name, the column keys found (in file order), ignored headers, rows of {key: text}."""

    file_name: str
    columns: list
    ignored: list
    rows: list  # [(row number in the file, {column key: cell text})]


def read_upload(file_storage):
    """Read an uploaded CSV or XLSX file (a werkzeug FileStorage) into an Upload.

    Limits: IMPORT_MAX_BYTES (bytes) and IMPORT_MAX_ROWS (rows below the header). Raises ValidationError on
    field `file` for a missing, too large or unreadable file, no serial number column, no rows or too many.
    """
    if file_storage is None or not getattr(file_storage, "filename", ""):
        raise ValidationError(_("Please choose a CSV or XLSX file."), field="file")
    limit = current_app.config["IMPORT_MAX_BYTES"]
    data = file_storage.stream.read(limit + 1)
    if len(data) > limit:
        raise ValidationError(
            _("The file is larger than %(mb)s MB. Please split it.", mb=round(limit / 1024 / 1024, 1)), field="file"
        )
    if not data.strip():
        raise ValidationError(_("The file is empty."), field="file")
    max_rows = current_app.config["IMPORT_MAX_ROWS"]
    table = iter(read_table(data, lambda name: column_for_header(name) is not None))
    _number, header = next(table, (1, []))
    keys, ignored = [], []
    for cell in header:
        key = column_for_header(cell)
        if key is None or key in keys:
            keys.append(None)
            if str(cell).strip():
                ignored.append(str(cell).strip()[:80])
        else:
            keys.append(key)
    if "serial_number" not in keys:
        raise ValidationError(
            _("The first row must name the columns, among them “Seriennummer” or “Serial number”."), field="file"
        )
    rows = []
    for number, cells in table:
        if not any(str(cell).strip() for cell in cells):
            continue
        if len(rows) >= max_rows:
            raise ValidationError(
                _("The file has more than %(count)d rows. Please split it.", count=max_rows), field="file"
            )
        values = {key: _restored(str(cell)) for key, cell in zip(keys, cells, strict=False) if key is not None}
        rows.append((number, values))
    if not rows:
        raise ValidationError(_("The file holds no rows below its header."), field="file")
    name = os.path.basename(str(file_storage.filename))[:120]
    return Upload(file_name=name, columns=[key for key in keys if key], ignored=ignored, rows=rows)


def _restored(value):
    """A cell as it was before an export defused it: “'+49 711 …” is “+49 711 …” again (app.tabular.defused)."""
    if value.startswith("'") and value[1:].startswith(FORMULA_STARTS):
        return value[1:]
    return value


# ---------------------------------------------------------------- keeping a file between preview and confirm


def _folder():
    """Where uploads wait for their confirmation: IMPORT_FOLDER, else instance/imports."""
    folder = current_app.config.get("IMPORT_FOLDER") or os.path.join(current_app.instance_path, "imports")
    os.makedirs(folder, exist_ok=True)
    return folder


def _path(upload_id):
    """The file of an upload id (checked against UPLOAD_ID, so no path can be smuggled in)."""
    return os.path.join(_folder(), f"{upload_id}.json")


def _keep_seconds():
    """How long an upload waits for its confirmation, in seconds."""
    return current_app.config["IMPORT_KEEP_MINUTES"] * 60


def remove_expired_uploads(now=None):
    """Delete the waiting uploads older than IMPORT_KEEP_MINUTES; returns how many went."""
    now = time.time() if now is None else now
    removed = 0
    folder = _folder()
    for name in os.listdir(folder):
        path = os.path.join(folder, name)
        try:
            if name.endswith(".json") and now - os.path.getmtime(path) > _keep_seconds():
                os.remove(path)
                removed += 1
        except OSError:
            continue
    return removed


def store_upload(upload, *, actor):
    """Keep a read Upload for `actor` until it is confirmed or expires; returns its random id (22 characters)."""
    require(policy.can_manage_catalog(actor))
    remove_expired_uploads()
    upload_id = secrets.token_urlsafe(16)
    record = {
        "employee_id": actor.id, "file_name": upload.file_name, "columns": upload.columns, "ignored": upload.ignored,
        "rows": upload.rows,
    }
    with open(_path(upload_id), "w", encoding="utf-8") as out:
        json.dump(record, out, ensure_ascii=False)
    return upload_id


def load_upload(upload_id, *, actor):
    """The Upload `actor` stored under `upload_id`. Raises NotFound when it is unknown, someone else's or expired."""
    require(policy.can_manage_catalog(actor))
    gone = NotFound(_("This import has expired or does not exist. Please upload the file again."))
    if not isinstance(upload_id, str) or not UPLOAD_ID.fullmatch(upload_id):
        raise gone
    path = _path(upload_id)
    try:
        if time.time() - os.path.getmtime(path) > _keep_seconds():
            os.remove(path)
            raise gone
        with open(path, encoding="utf-8") as source:
            record = json.load(source)
    except (OSError, ValueError):
        raise gone from None
    if record.get("employee_id") != actor.id:
        raise gone
    rows = [(number, values) for number, values in record["rows"]]
    return Upload(file_name=record["file_name"], columns=record["columns"], ignored=record["ignored"], rows=rows)


def discard_upload(upload_id):
    """Forget a stored upload (after it was applied)."""
    if isinstance(upload_id, str) and UPLOAD_ID.fullmatch(upload_id):
        try:
            os.remove(_path(upload_id))
        except OSError:
            pass


# ---------------------------------------------------------------- what importing would do


CREATE, UPDATE, UNCHANGED, ERROR = "create", "update", "unchanged", "error"


@dataclass
class RowPlan:
    """What importing one row does: `action` (create, update, unchanged, error), its `errors` and `changes`."""

    number: int
    values: dict
    action: str = UNCHANGED
    errors: list = field(default_factory=list)
    changes: list = field(default_factory=list)  # headers of the columns that change
    device: object = None  # the existing device, None for a new one
    desired: dict = field(default_factory=dict)  # save_device's keywords but template and customer
    template: object = None
    customer: object = None  # an existing Customer, a name (str) for a new one, or None for none
    customer_values: dict | None = None  # save_customer's keywords when this row writes its customer
    new_tokens: list = field(default_factory=list)
    codes_to_pair: list = field(default_factory=list)

    @property
    def serial_number(self):
        """The row's serial number as typed."""
        return (self.values.get("serial_number") or "").strip()

    @property
    def name(self):
        """The row's device name (or the existing device's)."""
        return self.desired.get("name") or (self.values.get("name") or "").strip()


def _chunks(values):
    """`values` in lists of at most QUERY_CHUNK."""
    values = list(values)
    for start in range(0, len(values), QUERY_CHUNK):
        yield values[start : start + QUERY_CHUNK]


class _Catalog:
    """The rows an import looks at, loaded once: templates, devices by serial, customers by name, codes by token."""

    def __init__(self, upload):
        self.templates = {t.name: t for t in db.session.scalars(sa.select(Template))}
        self.templates_folded = {}
        for template in self.templates.values():
            self.templates_folded.setdefault(template.name.casefold(), template)
        serials = {(values.get("serial_number") or "").strip() for _n, values in upload.rows} - {""}
        self.devices = {}
        for chunk in _chunks(serials):
            query = sa.select(Device).where(Device.serial_number.in_(chunk)).order_by(Device.id)
            for device in db.session.scalars(query.options(selectinload(Device.codes), selectinload(Device.customer))):
                self.devices.setdefault(device.serial_number, []).append(device)
        names = {(values.get("customer") or "").strip() for _n, values in upload.rows} - {""}
        self.customers = {}
        for chunk in _chunks(names):
            query = sa.select(Customer).where(Customer.name.in_(chunk)).order_by(Customer.archived, Customer.id)
            for customer in db.session.scalars(query):
                self.customers.setdefault(customer.name, customer)
        tokens = {
            token for _n, values in upload.rows for token in TOKEN_SPLIT.split(values.get("codes") or "") if token
        }
        self.codes = {}
        for chunk in _chunks(tokens):
            query = sa.select(Code).where(Code.token.in_(chunk)).options(selectinload(Code.device))
            self.codes.update({code.token: code for code in db.session.scalars(query)})

    def template(self, name):
        """The template called `name` (exactly, else ignoring case), or None."""
        return self.templates.get(name) or self.templates_folded.get(name.casefold())


def _checked(plan, key, *, required=False):
    """The cell of column `key` checked like the forms check it; None (and an error on `plan`) when it fails."""
    column = BY_KEY[key]
    value = plan.values.get(key) or ""
    try:
        if "\x00" in value:
            raise ValidationError(_("The column “%(column)s” holds a NUL character.", column=column.header), field=key)
        if key == "customer_email":
            return email_address(value, key)
        return text(value, key, max_length=column.max_length, required=required, one_line=column.one_line)
    except ValidationError as error:
        plan.errors.append(error.message)
        return None


def _plan_device(plan, catalog, present):
    """Fill the device part of `plan`: the existing device by serial, the desired values, the template."""
    serial = _checked(plan, "serial_number")
    if serial is not None and not serial:
        plan.errors.append(_("Serial number missing"))
    found = catalog.devices.get(serial or "", [])
    if len(found) > 1:
        plan.errors.append(_("Several devices have the serial number “%(serial)s”.", serial=serial))
    device = plan.device = found[0] if len(found) == 1 else None
    desired = {"serial_number": serial or ""}
    for key in ("name", "location", "description"):
        if key in present or device is None:
            value = _checked(plan, key, required=key == "name")
            desired[key] = value if value is not None else ""
        else:
            desired[key] = getattr(device, key)
    plan.desired = desired
    template_name = _checked(plan, "template") if "template" in present else None
    if template_name:
        plan.template = catalog.template(template_name)
        if plan.template is None:
            plan.errors.append(_("There is no template “%(name)s”.", name=template_name))
        elif plan.template.archived and (device is None or device.template_id != plan.template.id):
            plan.errors.append(_("This template is archived."))
    elif device is not None and "template" not in present:
        plan.template = device.template
    elif template_name is not None or device is None:
        plan.errors.append(_("Template missing"))


def _plan_customer(plan, catalog, present, customers_seen):
    """Fill the customer part of `plan`: which customer, and the contact data this row gives it."""
    device = plan.device
    if "customer" not in present:
        plan.customer = device.customer if device is not None else None
        return
    name = _checked(plan, "customer")
    if not name:
        plan.customer = None
        return
    if device is not None and device.customer is not None and device.customer.name == name:
        plan.customer = device.customer
    else:
        plan.customer = catalog.customers.get(name, name)
    wanted = {}
    for key in CUSTOMER_FIELDS:
        if key not in present:
            continue
        value = _checked(plan, key)
        if value is None:
            continue
        if key == "customer_kind":
            if not value:
                continue
            kind = KIND_NAMES.get(" ".join(value.lower().split()))
            if kind is None:
                plan.errors.append(_("Customer kind “%(value)s” is neither company nor private person.", value=value))
                continue
            value = kind
        wanted[CUSTOMER_ATTRIBUTE[key]] = value
    first = customers_seen.get(name)
    if first is not None:
        number, first_wanted = first
        if any(first_wanted.get(attribute, value) != value for attribute, value in wanted.items()):
            plan.errors.append(_("The customer's data differ from row %(row)d.", row=number))
        return
    customers_seen[name] = (plan.number, wanted)
    existing = plan.customer if isinstance(plan.customer, Customer) else None
    current = {
        attribute: getattr(existing, attribute) if existing else default
        for attribute, default in (("kind", CustomerKind.COMPANY), ("contact_name", ""), ("email", ""), ("phone", ""),
                                   ("address", ""))
    }
    merged = {**current, **wanted}
    if existing is None or any(not _same(merged[attribute], current[attribute]) for attribute in current):
        plan.customer_values = {"name": name, **merged}


def _plan_codes(plan, catalog, tokens_seen):
    """Fill the codes part of `plan`: tokens to create and unpaired codes to pair with the device."""
    for token in TOKEN_SPLIT.split(plan.values.get("codes") or ""):
        if not token:
            continue
        if token in tokens_seen and tokens_seen[token] != plan.number:
            plan.errors.append(_("Code “%(token)s” is named in row %(row)d too.", token=token, row=tokens_seen[token]))
            continue
        tokens_seen[token] = plan.number
        code = catalog.codes.get(token)
        if code is None:
            if not code_service.CHOSEN_TOKEN.fullmatch(token):
                plan.errors.append(_("A code token has 8 to 64 characters: letters A–Z, digits, “-” and “_”."))
            elif token not in plan.new_tokens:
                plan.new_tokens.append(token)
        elif code.device_id is None:
            plan.codes_to_pair.append(code)
        elif plan.device is None or code.device_id != plan.device.id:
            plan.errors.append(
                _("Code “%(token)s” is paired with device “%(name)s”.", token=token, name=code.device.name)
            )


def _same(new, old):
    """Whether a cell says what is stored: line breaks compare alike (XLSX keeps "\n" where a form stored "\r\n")."""
    if isinstance(new, str) and isinstance(old, str):
        return new.replace("\r\n", "\n") == old.replace("\r\n", "\n")
    return new == old


def _decide(plan):
    """Set the plan's action and the headers of the columns that change."""
    if plan.errors:
        plan.action = ERROR
        return
    changes = []
    device = plan.device
    if device is None:
        plan.action = CREATE
        return
    for key in ("name", "location", "description"):
        if not _same(plan.desired[key], getattr(device, key)):
            changes.append(BY_KEY[key].header)
    if plan.template is not None and plan.template.id != device.template_id:
        changes.append(BY_KEY["template"].header)
    customer = plan.customer
    if not isinstance(customer, Customer | None) or (customer.id if customer else None) != device.customer_id:
        changes.append(BY_KEY["customer"].header)
    if plan.customer_values is not None:
        changes.append(_("Customer data"))
    if plan.new_tokens or plan.codes_to_pair:
        changes.append(BY_KEY["codes"].header)
    plan.changes = list(dict.fromkeys(changes))
    plan.action = UPDATE if changes else UNCHANGED


def plan_rows(upload):
    """What importing each row of `upload` would do now: a RowPlan per row, in file order. Reads, never writes."""
    catalog = _Catalog(upload)
    present = set(upload.columns)
    serials_seen, customers_seen, tokens_seen = {}, {}, {}
    plans = []
    for number, values in upload.rows:
        plan = RowPlan(number=number, values=values)
        _plan_device(plan, catalog, present)
        serial = plan.desired.get("serial_number")
        if serial and serial in serials_seen:
            plan.errors.append(_("Serial number “%(serial)s” already in row %(row)d.", serial=serial, row=serials_seen[serial]))
        elif serial:
            serials_seen[serial] = number
        _plan_customer(plan, catalog, present, customers_seen)
        _plan_codes(plan, catalog, tokens_seen)
        _decide(plan)
        plans.append(plan)
    return plans


def summary(plans):
    """How many rows would be created, updated, left unchanged and refused: {action: count}."""
    counts = {CREATE: 0, UPDATE: 0, UNCHANGED: 0, ERROR: 0}
    for plan in plans:
        counts[plan.action] += 1
    return counts


# ---------------------------------------------------------------- doing it


def apply_import(upload, *, actor):
    """Import every row of `upload` without errors through the device, customer and code services, in one
    transaction (planned again now: the catalog may have changed since the preview).

    Returns (counts by action, the RowPlans). Raises NotAllowed, or a ServiceError of a service (nothing is written
    then).
    """
    require(policy.can_manage_catalog(actor))
    plans = plan_rows(upload)
    new_customers, paired = {}, []
    # A new customer's data come from the first row naming it, even when that row itself has errors.
    values_by_name = {}
    for plan in plans:
        if isinstance(plan.customer, str) and plan.customer_values is not None:
            values_by_name.setdefault(plan.customer, plan.customer_values)
    applied = [plan for plan in plans if plan.action in (CREATE, UPDATE)]
    customers, devices = {}, {}
    try:
        # Three passes, each written with one flush: customers (devices need their ids), devices (codes need
        # theirs), codes. A flush per row would cost about 4 ms a row.
        with db.session.no_autoflush:
            for plan in applied:
                customers[plan.number] = _apply_customer(plan, new_customers, values_by_name, actor)
        db.session.flush()
        with db.session.no_autoflush:
            for plan in applied:
                customer = customers[plan.number]
                devices[plan.number] = save_device(
                    plan.device, template_id=plan.template.id, customer_id=customer.id if customer else None,
                    **plan.desired, actor=actor, commit=False,
                )
        db.session.flush()
        with db.session.no_autoflush:
            for plan in applied:
                device = devices[plan.number]
                for token in plan.new_tokens:
                    code_service.create_codes(1, device_id=device.id, token=token, actor=actor, commit=False)
                for code in plan.codes_to_pair:
                    code_service.pair_code(code, device.id, actor=actor, commit=False)
                    paired.append(code.id)
        db.session.commit()
    except ServiceError:
        db.session.rollback()
        raise
    for code_id in paired:
        realtime.code_access_changed(code_id)
    return summary(plans), plans


def _apply_customer(plan, new_customers, values_by_name, actor):
    """The customer `plan`'s device gets, created or updated through save_customer as the plan says (or None)."""
    customer = plan.customer
    if isinstance(customer, str):
        customer = new_customers.get(customer)
        if customer is None:
            values = plan.customer_values or values_by_name.get(plan.customer) or {"name": plan.customer}
            customer = save_customer(None, **values, actor=actor, commit=False)
            new_customers[customer.name] = customer
    elif plan.customer_values is not None:
        customer = save_customer(customer, **plan.customer_values, actor=actor, commit=False)
    return customer


# ---------------------------------------------------------------- writing the devices out


def export_header():
    """The header row of a device export (and of the example files) in the reader's language."""
    return [column.header for column in COLUMNS]


def _device_row(device):
    """One device as a row of COLUMNS."""
    customer = device.customer
    return [
        device.serial_number, device.name, device.template.name, device.location, device.description,
        customer.name if customer else "",
        kind_label(customer.kind) if customer else "",
        customer.contact_name if customer else "", customer.email if customer else "",
        customer.phone if customer else "", customer.address if customer else "",
        " ".join(sorted(code.token for code in device.codes)),
    ]


def export_rows(*, actor, batch=500):
    """Every device as a row of COLUMNS, by id, read in batches of `batch` (flat memory). Raises NotAllowed."""
    require(policy.can_manage_catalog(actor))
    return _device_rows(batch)


def _device_rows(batch):
    """The rows of export_rows, one batch of devices at a time."""
    last = 0
    while True:
        devices = db.session.scalars(
            sa.select(Device).where(Device.id > last).order_by(Device.id).limit(batch)
            .options(selectinload(Device.template), selectinload(Device.customer), selectinload(Device.codes))
        ).all()
        if not devices:
            return
        for device in devices:
            yield _device_row(device)
        last = devices[-1].id


def example_rows():
    """Two rows that show how a file looks: a company's press with two codes, a private person's compressor."""
    template = db.session.scalar(sa.select(Template.name).where(Template.archived.is_(False)).order_by(Template.name))
    template = template or "Hydraulikpresse HP-200"
    return [
        ["HP200-2026-0001", "HP-200 Halle 1", template, "Halle 1, Tor 3", "Baujahr 2024",
         "Muster Maschinenbau GmbH", kind_label(CustomerKind.COMPANY), "Erika Muster", "service@example.com",
         "+49 711 5550100", "Industriestraße 1, 70565 Stuttgart", "presse-halle1-a presse-halle1-b"],
        ["HP200-2026-0002", "HP-200 Werkstatt", template, "Werkstatt", "",
         "Max Mustermann", kind_label(CustomerKind.PRIVATE), "", "max@example.com", "", "", ""],
    ]
