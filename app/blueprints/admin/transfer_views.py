"""Devices with their customers and codes in and out as spreadsheets: upload, preview, confirm; export."""
from datetime import UTC, datetime

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app import policy, tabular
from app.blueprints.admin import bp
from app.blueprints.admin.forms import ConfirmImportForm, DeviceImportForm
from app.refusals import back_on_refusal
from app.services import device_import


def _import_page(form):
    """The import page: the upload form and the columns a file may have."""
    return {"form": form, "columns": device_import.COLUMNS, "kind_names": device_import.KIND_NAMES}


@bp.route("/devices/import", methods=["GET", "POST"])
def device_import_start():
    """Upload a CSV or XLSX file of devices; a readable one is kept and previewed."""
    form = DeviceImportForm()
    page = _import_page(form)
    form.render_on_refusal("admin/device_import.html", **page)
    if form.submitted():
        upload = device_import.read_upload(form.file.data)
        upload_id = device_import.store_upload(upload, actor=current_user)
        return redirect(url_for("admin.device_import_preview", upload_id=upload_id))
    return render_template("admin/device_import.html", **page)


@bp.get("/devices/import/<upload_id>")
def device_import_preview(upload_id):
    """What importing the uploaded file would do, row by row, with its errors; confirm below."""
    upload = device_import.load_upload(upload_id, actor=current_user)
    plans = device_import.plan_rows(upload)
    return render_template(
        "admin/device_import_preview.html", upload=upload, upload_id=upload_id, plans=plans,
        counts=device_import.summary(plans), form=ConfirmImportForm(formdata=None), columns=device_import.BY_KEY,
    )


@bp.post("/devices/import/<upload_id>")
def device_import_apply(upload_id):
    """Import the previewed file's rows without errors, in one transaction; back to the devices."""
    back_on_refusal(url_for("admin.device_import_preview", upload_id=upload_id))
    ConfirmImportForm().submitted()
    upload = device_import.load_upload(upload_id, actor=current_user)
    counts, plans = device_import.apply_import(upload, actor=current_user)
    device_import.discard_upload(upload_id)
    flash(_("Import done: %(created)d created, %(updated)d updated, %(unchanged)d unchanged.",
            created=counts["create"], updated=counts["update"], unchanged=counts["unchanged"]), "success")
    refused = [str(plan.number) for plan in plans if plan.action == device_import.ERROR]
    if refused:
        flash(_("Rows with errors were not imported: %(rows)s.", rows=", ".join(refused[:50]) + (" …" if len(refused) > 50 else "")), "error")
    return redirect(url_for("admin.devices"))


def _download(kind, header, rows, stem):
    """A CSV or XLSX download of `header` and `rows` named `stem`-<date>.<kind>."""
    name = f"{stem}-{datetime.now(UTC):%Y-%m-%d}.{kind}"
    if kind == "csv":
        return tabular.csv_response(header, rows, name)
    return tabular.xlsx_response(header, rows, name, _("Devices"))


@bp.get("/devices/import/example.<any(csv, xlsx):kind>")
def device_import_example(kind):
    """An example file with the columns and two rows, as CSV or XLSX."""
    if not policy.can_manage_catalog(current_user):
        abort(403)
    return _download(kind, device_import.export_header(), device_import.example_rows(), "devices-example")


@bp.get("/devices/export.<any(csv, xlsx):kind>")
def device_export(kind):
    """Every device with its customer and codes, in the import's columns, as CSV or XLSX."""
    rows = device_import.export_rows(actor=current_user)
    return _download(kind, device_import.export_header(), rows, "devices")
