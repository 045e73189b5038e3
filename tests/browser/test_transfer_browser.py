"""Spreadsheets in a real browser: an administrator imports devices from the phone (upload, preview, confirm, the
same file again changes nothing) and downloads them; a member's export link follows the overview's filters."""
import re
from pathlib import Path

from tests.browser.conftest import PHONE, log_in

DEVICES_CSV = (
    "\ufeffSeriennummer;Gerätename;Vorlage;Standort;Kunde;Codes\r\n"
    "IMP-0001;Presse Werk Süd;Hydraulikpresse HP-200;Halle 9;Neukunde GmbH;werk-sued-0001\r\n"
    "IMP-0002;Kühlung Werk Süd;Kältekompressor KK-9;Keller;Neukunde GmbH;\r\n"
    ";Ohne Seriennummer;Hydraulikpresse HP-200;;;\r\n"
).encode("utf-8")


def upload(page, base):
    """Open the import page from the devices list and upload DEVICES_CSV; wait for the preview."""
    page.goto(f"{base}/admin/devices")
    page.get_by_test_id("device-import").click()
    page.get_by_test_id("import-file").set_input_files(
        files=[{"name": "geraete.csv", "mimeType": "text/csv", "buffer": DEVICES_CSV}]
    )
    page.get_by_test_id("import-upload").click()
    page.wait_for_url(re.compile(r"/admin/devices/import/[A-Za-z0-9_-]{22}$"))


def actions(page):
    """{row: action} of the preview."""
    rows = page.get_by_test_id("import-row")
    return {int(rows.nth(i).get_attribute("data-row")): rows.nth(i).get_attribute("data-action") for i in range(rows.count())}


def test_administrator_imports_devices_from_the_phone_and_the_same_file_again_changes_nothing(live_server, new_page, tmp_path):
    live_server.app.config["IMPORT_FOLDER"] = str(tmp_path / "imports")
    admin = new_page(PHONE)
    log_in(admin, live_server.url, "admin@example.com")
    upload(admin, live_server.url)
    assert actions(admin) == {2: "create", 3: "create", 4: "error"}
    assert admin.get_by_test_id("import-error").inner_text().startswith(("Zeile 4:", "Row 4:"))
    admin.get_by_test_id("import-confirm").click()
    admin.wait_for_url(re.compile(r"/admin/devices$"))
    admin.get_by_test_id("device-row").filter(has_text="Presse Werk Süd").wait_for()

    upload(admin, live_server.url)
    assert actions(admin) == {2: "unchanged", 3: "unchanged", 4: "error"}
    admin.get_by_test_id("import-nothing").wait_for()

    admin.goto(f"{live_server.url}/admin/devices")
    with admin.expect_download() as download:
        admin.get_by_test_id("device-export-csv").click()
    text = Path(download.value.path()).read_text(encoding="utf-8")
    assert text.startswith("\ufeffSeriennummer;")
    assert "IMP-0001;Presse Werk Süd;Hydraulikpresse HP-200;Halle 9;;Neukunde GmbH;Firma" in text
    assert "werk-sued-0001" in text


def test_the_export_link_follows_the_overviews_filters(live_server, new_page):
    member = new_page(PHONE)
    log_in(member, live_server.url, "anna@example.com")
    member.goto(f"{live_server.url}/tickets")
    member.locator("details.filters summary").click()
    member.locator("#filter-visibility").select_option("internal")
    export = member.get_by_test_id("tickets-export-csv")
    member.wait_for_function(
        "() => document.querySelector('[data-testid=tickets-export-csv]').href.includes('visibility=internal')"
    )
    with member.expect_download() as download:
        export.click()
    text = Path(download.value.path()).read_text(encoding="utf-8")
    assert text.startswith(("\ufeffNummer;", "\ufeffNumber;"))
