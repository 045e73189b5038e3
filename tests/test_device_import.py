"""Device import and export: CSV (`;` or `,`, with or without BOM) and XLSX files, a preview with per-row errors,
one transaction through the services, an idempotent re-import keyed by serial number, and an export that imports
back unchanged."""
import io
import os
import time

import pytest
import sqlalchemy as sa
from openpyxl import Workbook, load_workbook
from werkzeug.datastructures import FileStorage

from app.enums import CustomerKind, Role
from app.extensions import db
from app.models import Code, Customer, Device
from app.services import codes as code_service
from app.services import customers as customer_service
from app.services import device_import
from app.services import devices as device_service
from app.services.errors import NotAllowed, NotFound, ValidationError
from tests.factories import make_code, make_employee, make_template

pytestmark = pytest.mark.usefixtures("english")
RUN_ON_POSTGRES = True

HEADER = ["Serial number", "Device name", "Template", "Location", "Customer", "Customer kind", "Contact person",
          "Customer e-mail", "Customer phone", "Codes"]
GERMAN_HEADER = ["Seriennummer", "Gerätename", "Vorlage", "Standort", "Kunde", "Kundenart", "Ansprechpartner",
                 "Kunden-E-Mail", "Kundentelefon", "Codes"]


@pytest.fixture
def world(app, tmp_path):
    """An administrator, a moderator, a member and the template HP-200; uploads wait in a folder of this test."""
    app.config["IMPORT_FOLDER"] = str(tmp_path / "imports")
    return {
        "admin": make_employee(Role.ADMIN, language="en"),
        "moderator": make_employee(Role.MODERATOR, language="en"),
        "member": make_employee(Role.MEMBER, language="en"),
        "template": make_template("Hydraulikpresse HP-200"),
    }


def rows_two_devices():
    """Two presses of one company customer, one with two new codes."""
    return [
        ["SN-001", "Presse Halle 1", "Hydraulikpresse HP-200", "Halle 1", "Müller Metallbau GmbH", "Firma", "Erika Müller",
         "service@mueller.example", "+49 711 5550100", "press-hall1-a press-hall1-b"],
        ["SN-002", "Presse Halle 2", "Hydraulikpresse HP-200", "Halle 2", "Müller Metallbau GmbH", "company", "Erika Müller",
         "service@mueller.example", "+49 711 5550100", ""],
    ]


def csv_bytes(rows, header=HEADER, delimiter=";", bom=True):
    """A CSV file as Excel writes it: CRLF, quoted where needed, UTF-8 with or without BOM."""
    import csv

    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return (("\ufeff" if bom else "") + out.getvalue()).encode("utf-8")


def xlsx_bytes(rows, header=HEADER):
    """An XLSX workbook with the rows on its first sheet."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def upload(client, data, name="devices.csv"):
    """Upload a file on the import page; the preview's path."""
    response = client.post("/admin/devices/import", data={"file": (io.BytesIO(data), name)},
                           content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)
    return response.headers["Location"]


def preview_actions(client, path):
    """{row number: action} and the page's text."""
    import re

    page = client.get(path)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    actions = {int(row): action for row, action in re.findall(r'data-row="(\d+)" data-action="(\w+)"', html)}
    return actions, html


def confirm(client, path):
    """Confirm the previewed import."""
    response = client.post(path)
    assert response.status_code == 302, response.get_data(as_text=True)
    return response


def state():
    """Everything an import may write, as plain tuples: devices, customers, codes."""
    db.session.expire_all()
    devices = db.session.execute(sa.select(
        Device.id, Device.serial_number, Device.name, Device.template_id, Device.location, Device.description,
        Device.customer_id, Device.archived).order_by(Device.id)).all()
    customers = db.session.execute(sa.select(
        Customer.id, Customer.name, Customer.kind, Customer.contact_name, Customer.email, Customer.phone,
        Customer.address).order_by(Customer.id)).all()
    codes = db.session.execute(sa.select(Code.id, Code.token, Code.device_id, Code.session_epoch).order_by(Code.id)).all()
    return devices, customers, codes


@pytest.mark.parametrize(("delimiter", "bom"), [(";", True), (";", False), (",", True), (",", False)])
def test_csv_import_previews_then_creates_devices_customers_and_codes(world, client, login, delimiter, bom):
    login(world["admin"])
    path = upload(client, csv_bytes(rows_two_devices(), delimiter=delimiter, bom=bom))
    actions, _html = preview_actions(client, path)
    assert actions == {2: "create", 3: "create"}
    assert db.session.scalar(sa.select(sa.func.count(Device.id))) == 0  # the preview writes nothing
    confirm(client, path)
    devices = {d.serial_number: d for d in db.session.scalars(sa.select(Device))}
    assert set(devices) == {"SN-001", "SN-002"}
    first = devices["SN-001"]
    assert (first.name, first.location, first.template.name) == ("Presse Halle 1", "Halle 1", "Hydraulikpresse HP-200")
    assert first.customer is devices["SN-002"].customer  # one customer for both rows
    customer = first.customer
    assert (customer.name, customer.kind, customer.contact_name, customer.email, customer.phone) == (
        "Müller Metallbau GmbH", CustomerKind.COMPANY, "Erika Müller", "service@mueller.example", "+49 711 5550100")
    assert sorted(code.token for code in first.codes) == ["press-hall1-a", "press-hall1-b"]
    assert client.get(path).status_code == 404  # the upload is gone once applied


def test_german_headers_and_xlsx_import(world, client, login):
    login(world["moderator"])  # moderators manage devices too (policy.can_manage_catalog)
    path = upload(client, xlsx_bytes(rows_two_devices(), header=GERMAN_HEADER), name="Geräte.xlsx")
    actions, _html = preview_actions(client, path)
    assert actions == {2: "create", 3: "create"}
    confirm(client, path)
    assert db.session.scalars(sa.select(Device.serial_number).order_by(Device.serial_number)).all() == ["SN-001", "SN-002"]


def test_xlsx_numbers_are_read_as_typed(world, client, login):
    """Excel stores a serial number typed as 12345 as a number: it comes back as “12345”, not “12345.0”."""
    login(world["admin"])
    rows = [[12345, "Presse", "Hydraulikpresse HP-200", "", "", "", "", "", "", ""]]
    confirm(client, upload(client, xlsx_bytes(rows), name="x.xlsx"))
    assert db.session.scalar(sa.select(Device.serial_number)) == "12345"


def test_rows_with_errors_are_listed_and_left_out(world, client, login):
    other = device_service.save_device(None, template_id=world["template"].id, name="Andere", serial_number="SN-X",
                                       actor=world["admin"])
    code_service.create_codes(1, device_id=other.id, token="paired-elsewhere", actor=world["admin"])
    rows = [
        ["SN-001", "Gut", "Hydraulikpresse HP-200", "", "", "", "", "", "", ""],
        ["", "Ohne Seriennummer", "Hydraulikpresse HP-200", "", "", "", "", "", "", ""],
        ["SN-003", "Falsche Vorlage", "Gibt es nicht", "", "", "", "", "", "", ""],
        ["SN-004", "", "Hydraulikpresse HP-200", "", "", "", "", "", "", ""],
        ["SN-001", "Doppelt", "Hydraulikpresse HP-200", "", "", "", "", "", "", ""],
        ["SN-006", "Schlechte Mail", "Hydraulikpresse HP-200", "", "Kunde", "", "", "kein-mail", "", ""],
        ["SN-007", "Fremder Code", "Hydraulikpresse HP-200", "", "", "", "", "", "", "paired-elsewhere"],
        ["SN-008", "Zeile\u202eumgedreht", "Hydraulikpresse HP-200", "", "", "", "", "", "", ""],
        ["SN-009", "Kurzer Code", "Hydraulikpresse HP-200", "", "", "", "", "", "", "kurz"],
    ]
    login(world["admin"])
    path = upload(client, csv_bytes(rows))
    actions, html = preview_actions(client, path)
    assert actions == {2: "create", **{n: "error" for n in range(3, 11)}}
    for expected in (
        "Row 3: Serial number missing",
        "Row 4: There is no template “Gibt es nicht”.",
        "Row 5: Please enter the name.",
        "Row 6: Serial number “SN-001” already in row 2.",
        "Row 7: Please enter a valid e-mail address.",
        "Row 8: Code “paired-elsewhere” is paired with device “Andere”.",
        "Row 9: Please remove line breaks and invisible control characters from the name.",
        "Row 10: A code token has 8 to 64 characters",
    ):
        assert expected in html.replace("&#34;", '"'), expected
    confirm(client, path)
    assert db.session.scalars(sa.select(Device.serial_number).order_by(Device.id)).all() == ["SN-X", "SN-001"]
    assert db.session.scalar(sa.select(Customer.id)) is None
    flashed = client.get("/admin/devices").get_data(as_text=True)
    assert "Rows with errors were not imported: 3, 4, 5, 6, 7, 8, 9, 10." in flashed


def test_importing_the_same_file_twice_changes_nothing_the_second_time(world, client, login):
    login(world["admin"])
    data = csv_bytes(rows_two_devices())
    confirm(client, upload(client, data))
    before = state()
    path = upload(client, data)
    actions, html = preview_actions(client, path)
    assert actions == {2: "unchanged", 3: "unchanged"}
    assert "Importing this file would change nothing." in html
    client.post(path)
    assert state() == before


def test_a_known_serial_number_updates_its_device(world, client, login):
    login(world["admin"])
    confirm(client, upload(client, csv_bytes(rows_two_devices())))
    device_id = db.session.scalar(sa.select(Device.id).filter_by(serial_number="SN-002"))
    rows = rows_two_devices()
    rows[1][3] = "Halle 7"  # moved
    rows[1][9] = "press-hall2-new"
    path = upload(client, csv_bytes(rows))
    actions, html = preview_actions(client, path)
    assert actions == {2: "unchanged", 3: "update"}
    assert "Changes: Location, Codes" in html
    confirm(client, path)
    device = db.session.get(Device, device_id)
    db.session.refresh(device)
    assert device.location == "Halle 7"
    assert [code.token for code in device.codes] == ["press-hall2-new"]
    assert db.session.scalar(sa.select(sa.func.count(Device.id))) == 2


def test_a_file_without_some_columns_leaves_that_data_alone(world, client, login):
    login(world["admin"])
    confirm(client, upload(client, csv_bytes(rows_two_devices())))
    before = state()
    path = upload(client, csv_bytes([["SN-001", "Presse Halle 1"]], header=["Seriennummer", "Name"]))
    actions, _html = preview_actions(client, path)
    assert actions == {2: "unchanged"}
    client.post(path)
    assert state() == before


def test_an_unpaired_code_is_paired(world, client, login):
    code = make_code(None, token="loose-sticker-1")
    login(world["admin"])
    confirm(client, upload(client, csv_bytes([["SN-1", "Presse", "Hydraulikpresse HP-200", "", "", "", "", "", "", "loose-sticker-1"]])))
    db.session.refresh(code)
    assert code.device.serial_number == "SN-1"


def download(client, path):
    """The bytes of a download (the response closed, as a WSGI server closes it: an XLSX's temporary file too)."""
    response = client.get(path)
    assert response.status_code == 200
    data = response.get_data()
    response.close()
    return data


def export(client, kind):
    """The device export download."""
    return download(client, f"/admin/devices/export.{kind}")


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_export_then_import_changes_nothing(world, client, login, kind):
    admin, template = world["admin"], world["template"]
    customer = customer_service.save_customer(
        None, name="Kühlhaus Nord AG", kind="private", contact_name="Jörg", email="j@example.com", phone="+49 40 123",
        address="Hafenstraße 1\r\n20457 Hamburg", actor=admin)
    first = device_service.save_device(None, template_id=template.id, name="=Presse;1", serial_number="-SN,1",
                                       location="Halle \"A\"", description="Zwei\nZeilen", customer_id=customer.id,
                                       actor=admin)
    device_service.save_device(None, template_id=template.id, name="Kompressor", serial_number="00042", actor=admin)
    code_service.create_codes(1, device_id=first.id, token="export-token-1", actor=admin)
    code_service.create_codes(1, device_id=first.id, actor=admin)
    before = state()
    login(admin)
    data = export(client, kind)
    path = upload(client, data, name=f"devices.{kind}")
    actions, _html = preview_actions(client, path)
    assert actions == {2: "unchanged", 3: "unchanged"}
    client.post(path)
    assert state() == before


def test_german_csv_export_uses_semicolons_a_bom_and_defused_formulas(world, client, login):
    admin = world["admin"]
    device_service.save_device(None, template_id=world["template"].id, name="=HYPERLINK(\"x\")", serial_number="SN-1",
                               actor=admin)
    admin.language = "de"
    db.session.commit()
    login(admin)
    text = download(client, "/admin/devices/export.csv").decode("utf-8")
    assert text.startswith("\ufeffSeriennummer;Gerätename;Vorlage;")
    assert ";'=HYPERLINK" in text.replace('"', "")


def test_example_files_import_as_shown(world, client, login):
    login(world["admin"])
    for kind in ("csv", "xlsx"):
        data = download(client, f"/admin/devices/import/example.{kind}")
        actions, _html = preview_actions(client, upload(client, data, name=f"example.{kind}"))
        assert actions == {2: "create", 3: "create"}
    workbook = load_workbook(io.BytesIO(download(client, "/admin/devices/import/example.xlsx")))
    assert [cell.value for cell in workbook.active[1]][:2] == ["Serial number", "Device name"]
    world["admin"].language = "de"
    db.session.commit()
    workbook = load_workbook(io.BytesIO(download(client, "/admin/devices/import/example.xlsx")))
    assert [cell.value for cell in workbook.active[1]][:2] == ["Seriennummer", "Gerätename"]


def test_import_page_documents_the_columns(world, client, login):
    login(world["admin"])
    html = client.get("/admin/devices/import").get_data(as_text=True)
    for name in ("Seriennummer", "Serial number", "Kunden-E-Mail", "Customer e-mail", "example.csv", "example.xlsx"):
        assert name in html


def test_members_cannot_import_or_export(world, client, login):
    login(world["member"])
    assert client.get("/admin/devices/import").status_code == 403
    assert client.post("/admin/devices/import", data={"file": (io.BytesIO(csv_bytes(rows_two_devices())), "d.csv")},
                       content_type="multipart/form-data").status_code == 403
    assert client.get("/admin/devices/export.csv").status_code == 403
    parsed = device_import.Upload("d.csv", ["serial_number"], [], [(2, {"serial_number": "SN"})])
    with pytest.raises(NotAllowed):
        device_import.apply_import(parsed, actor=world["member"])
    with pytest.raises(NotAllowed):
        device_import.store_upload(parsed, actor=world["member"])
    assert db.session.scalar(sa.select(sa.func.count(Device.id))) == 0


def test_an_upload_is_only_its_uploaders_and_expires(world, client, login, app):
    login(world["admin"])
    path = upload(client, csv_bytes(rows_two_devices()))
    login(world["moderator"])
    assert client.get(path).status_code == 404
    assert client.post(path).status_code == 302  # refused: flashed and sent back
    assert db.session.scalar(sa.select(sa.func.count(Device.id))) == 0
    login(world["admin"])
    upload_id = path.rsplit("/", 1)[1]
    stored = os.path.join(app.config["IMPORT_FOLDER"], f"{upload_id}.json")
    old = time.time() - app.config["IMPORT_KEEP_MINUTES"] * 60 - 5
    os.utime(stored, (old, old))
    assert client.get(path).status_code == 404
    assert not os.path.exists(stored)
    with pytest.raises(NotFound):
        device_import.load_upload("../../etc/passwd", actor=world["admin"])


def test_expired_uploads_are_swept_on_the_next_upload(world, client, login, app):
    login(world["admin"])
    first = upload(client, csv_bytes(rows_two_devices())).rsplit("/", 1)[1]
    stored = os.path.join(app.config["IMPORT_FOLDER"], f"{first}.json")
    old = time.time() - app.config["IMPORT_KEEP_MINUTES"] * 60 - 5
    os.utime(stored, (old, old))
    upload(client, csv_bytes(rows_two_devices()))
    assert not os.path.exists(stored)


@pytest.mark.parametrize(("data", "message"), [
    (b"", "The file is empty."),
    (b"Name;Standort\r\nPresse;Halle\r\n", "among them “Seriennummer” or “Serial number”"),
    (b"Seriennummer\r\n", "The file holds no rows below its header."),
    (b"PK\x03\x04 not really a workbook", "could not be read as an Excel workbook"),
    (b"\x00\x01\x02binary", "Please upload a CSV or XLSX file."),
])
def test_unreadable_files_are_refused_with_a_message(world, client, login, data, message):
    login(world["admin"])
    response = client.post("/admin/devices/import", data={"file": (io.BytesIO(data), "x.csv")},
                           content_type="multipart/form-data")
    assert response.status_code == 422
    assert message in response.get_data(as_text=True).replace("&#34;", '"')


def test_row_and_size_limits(world, app):
    app.config["IMPORT_MAX_ROWS"] = 3
    rows = [[f"SN-{n}", f"Gerät {n}", "Hydraulikpresse HP-200"] for n in range(4)]
    data = csv_bytes(rows, header=HEADER[:3])
    with pytest.raises(ValidationError, match="more than 3 rows"):
        device_import.read_upload(FileStorage(io.BytesIO(data), filename="x.csv"))
    app.config["IMPORT_MAX_BYTES"] = 100
    with pytest.raises(ValidationError, match="larger than"):
        device_import.read_upload(FileStorage(io.BytesIO(data + b" " * 200), filename="x.csv"))


def test_a_workbook_that_unpacks_to_far_more_than_its_size_is_refused_unread(world):
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/sharedStrings.xml", b"<sst>" + b"A" * 50_000_000 + b"</sst>")
    assert len(out.getvalue()) < 200_000
    with pytest.raises(ValidationError, match="unpacks to too much data"):
        device_import.read_upload(FileStorage(io.BytesIO(out.getvalue()), filename="bomb.xlsx"))


def test_windows_1252_csv_from_german_excel_is_read(world):
    data = "Seriennummer;Gerätename;Vorlage\r\nSN-1;Kühlraum;Hydraulikpresse HP-200\r\n".encode("cp1252")
    parsed = device_import.read_upload(FileStorage(io.BytesIO(data), filename="x.csv"))
    assert parsed.rows == [(2, {"serial_number": "SN-1", "name": "Kühlraum", "template": "Hydraulikpresse HP-200"})]


def test_a_failing_row_rolls_the_whole_import_back(world, monkeypatch):
    """One transaction: when a service refuses a row while applying, nothing of the file is written."""
    rows = [(2, {"serial_number": "SN-1", "name": "Eins", "template": "Hydraulikpresse HP-200", "customer": "Neu GmbH"}),
            (3, {"serial_number": "SN-2", "name": "Zwei", "template": "Hydraulikpresse HP-200"})]
    parsed = device_import.Upload("x.csv", ["serial_number", "name", "template", "customer"], [], rows)
    real = device_import.save_device

    def refuse_second(device, **values):
        if values["serial_number"] == "SN-2":
            raise ValidationError("refused")
        return real(device, **values)

    monkeypatch.setattr(device_import, "save_device", refuse_second)
    with pytest.raises(ValidationError):
        device_import.apply_import(parsed, actor=world["admin"])
    assert state() == ([], [], [])
