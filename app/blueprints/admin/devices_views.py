"""Devices, customers and codes (with QR images and printable label sheets)."""
import sqlalchemy as sa
from flask import (
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    send_from_directory,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import selectinload

from app.blueprints.admin import bp, search_arg, searched
from app.blueprints.admin.forms import (
    ArchiveForm,
    CodeLabelForm,
    CustomerForm,
    DeviceForm,
    EnabledForm,
    NewCodesForm,
    PairingForm,
    PinForm,
)
from app.enums import Visibility
from app.extensions import db
from app.models import Code, Customer, Device, Ticket, Update
from app.refusals import back_on_refusal
from app.services import qr, uploads
from app.services.code_access import logout_code_users, set_code_enabled
from app.services.codes import (
    codes_by_ids,
    create_codes,
    pair_code,
    set_code_pin,
    update_code,
)
from app.services.customers import delete_customer, save_customer, set_customer_archived
from app.services.devices import delete_device, save_device, set_device_archived
from app.workflow import TicketStatus

RECENT_TICKETS = 50


def _tickets(**filters):
    """The latest submitted tickets matching the column filters."""
    return db.session.scalars(
        sa.select(Ticket).filter_by(**filters).where(Ticket.status != TicketStatus.DRAFT)
        .order_by(Ticket.id.desc()).limit(RECENT_TICKETS)
    ).all()


@bp.get("/devices")
def devices():
    """All devices, with an optional search by name, serial number or location (folded: app.text_folding)."""
    search = search_arg()
    query = searched(sa.select(Device).order_by(Device.archived, Device.name), Device, search).options(
        selectinload(Device.template), selectinload(Device.customer), selectinload(Device.codes))
    return render_template("admin/devices.html", devices=db.session.scalars(query).all(), search=search)


@bp.route("/devices/new", methods=["GET", "POST"])
def device_new():
    """Create a device (`?template_id=` and `?customer_id=` preselect)."""
    form = DeviceForm(template_id=request.args.get("template_id"), customer_id=request.args.get("customer_id"))
    form.render_on_refusal("admin/device_form.html", form=form, device=None)
    if form.submitted():
        device = save_device(None, **form.data, actor=current_user)
        flash(_("Device “%(name)s” created.", name=device.name), "success")
        return redirect(url_for("admin.device", device_id=device.id))
    return render_template("admin/device_form.html", form=form, device=None)


def _device_page(device, form):
    """A device's page: its settings form, codes, tickets and public service history."""
    history = db.session.scalars(
        sa.select(Update).join(Ticket).where(Ticket.device_id == device.id, Update.visibility == Visibility.PUBLIC)
        .order_by(Update.created_at.desc()).limit(RECENT_TICKETS)
    ).all()
    return {"device": device, "form": form, "tickets": _tickets(device_id=device.id), "history": history}


@bp.route("/devices/<int:device_id>", methods=["GET", "POST"])
def device(device_id):
    """A device: its settings, codes, tickets and service history."""
    device = db.get_or_404(Device, device_id)
    form = DeviceForm(obj=device, device=device)
    page = _device_page(device, form)
    form.render_on_refusal("admin/device.html", **page)
    if form.submitted():
        save_device(device, **form.data, actor=current_user)
        flash(_("Device saved."), "success")
        return redirect(url_for("admin.device", device_id=device.id))
    return render_template("admin/device.html", **page)


@bp.get("/devices/<int:device_id>/picture")
def device_picture(device_id):
    """The device's picture."""
    device = db.get_or_404(Device, device_id)
    if not device.picture_name:
        abort(404)
    return send_from_directory(uploads.folder(), device.picture_name, mimetype="image/jpeg", max_age=0)


@bp.post("/devices/<int:device_id>/archive")
def device_archive(device_id):
    """Archive (its codes stop working) or restore a device."""
    device = db.get_or_404(Device, device_id)
    back = back_on_refusal(url_for("admin.device", device_id=device.id))
    archived = ArchiveForm().archived.data
    set_device_archived(device, archived, actor=current_user)
    flash(_("Device archived; its codes no longer open it.") if archived else _("Device restored."), "success")
    return redirect(back)


@bp.post("/devices/<int:device_id>/delete")
def device_delete(device_id):
    """Delete a device, or archive it when it has tickets."""
    device = db.get_or_404(Device, device_id)
    if delete_device(device, actor=current_user) == "archived":
        flash(_("The device has tickets, so it was archived instead of deleted."), "info")
        return redirect(url_for("admin.device", device_id=device_id))
    flash(_("Device deleted."), "success")
    return redirect(url_for("admin.devices"))


@bp.get("/customers")
def customers():
    """All customers, with an optional search by name, contact, e-mail or phone (folded: app.text_folding)."""
    search = search_arg()
    rows = db.session.scalars(searched(sa.select(Customer).order_by(Customer.archived, Customer.name), Customer, search)).all()
    return render_template("admin/customers.html", customers=rows, search=search)


@bp.route("/customers/new", methods=["GET", "POST"])
def customer_new():
    """Create a customer."""
    form = CustomerForm()
    form.render_on_refusal("admin/customer_form.html", form=form, customer=None)
    if form.submitted():
        customer = save_customer(None, **form.data, actor=current_user)
        flash(_("Customer “%(name)s” created.", name=customer.name), "success")
        return redirect(url_for("admin.customer", customer_id=customer.id))
    return render_template("admin/customer_form.html", form=form, customer=None)


@bp.route("/customers/<int:customer_id>", methods=["GET", "POST"])
def customer(customer_id):
    """A customer: contact data, devices and tickets."""
    customer = db.get_or_404(Customer, customer_id)
    form = CustomerForm(obj=customer, kind=customer.kind.value)
    page = {"customer": customer, "form": form, "tickets": _tickets(customer_id=customer.id)}
    form.render_on_refusal("admin/customer.html", **page)
    if form.submitted():
        save_customer(customer, **form.data, actor=current_user)
        flash(_("Customer saved."), "success")
        return redirect(url_for("admin.customer", customer_id=customer.id))
    return render_template("admin/customer.html", **page)


@bp.post("/customers/<int:customer_id>/archive")
def customer_archive(customer_id):
    """Archive or restore a customer."""
    customer = db.get_or_404(Customer, customer_id)
    back = back_on_refusal(url_for("admin.customer", customer_id=customer.id))
    archived = ArchiveForm().archived.data
    set_customer_archived(customer, archived, actor=current_user)
    flash(_("Customer archived.") if archived else _("Customer restored."), "success")
    return redirect(back)


@bp.post("/customers/<int:customer_id>/delete")
def customer_delete(customer_id):
    """Delete a customer, or archive one that still has devices."""
    customer = db.get_or_404(Customer, customer_id)
    if delete_customer(customer, actor=current_user) == "archived":
        flash(_("The customer still has devices or tickets, so it was archived instead of deleted."), "info")
        return redirect(url_for("admin.customer", customer_id=customer_id))
    flash(_("Customer deleted."), "success")
    return redirect(url_for("admin.customers"))


@bp.route("/codes", methods=["GET", "POST"])
def codes():
    """All codes with their devices, searchable by label or device (`?q=`); the form creates one or many at once."""
    form = NewCodesForm()
    search = search_arg()
    query = sa.select(Code).order_by(Code.id.desc())
    condition = Code.search_condition(search)
    if condition is not None:
        paired = sa.select(Device.id).where(Device.search_condition(search))
        query = query.where(sa.or_(condition, Code.device_id.in_(paired)))
    page = {"form": form, "codes": db.session.scalars(query).all(), "search": search}
    form.render_on_refusal("admin/codes.html", **page)
    if form.submitted():
        created = create_codes(form.count.data, device_id=form.device_id.data, label=form.label.data, actor=current_user)
        if len(created) == 1:
            flash(_("Code created."), "success")
            return redirect(url_for("admin.code", code_id=created[0].id))
        flash(_("%(count)d codes created.", count=len(created)), "success")
        return redirect(url_for("admin.codes"))
    return render_template("admin/codes.html", **page)


def _code_page(code, form=None):
    """A code's page: the label form, the pairing and PIN forms, the code's URL."""
    return {
        "code": code,
        "url": qr.code_url(code),
        "form": form or CodeLabelForm(formdata=None, obj=code),
        "pairing": PairingForm(formdata=None, device_id=code.device_id),
        "pin_form": PinForm(formdata=None),
    }


@bp.route("/codes/<int:code_id>", methods=["GET", "POST"])
def code(code_id):
    """A code: QR image, URL, pairing, PIN, enable/disable, log out code users."""
    code = db.get_or_404(Code, code_id)
    form = CodeLabelForm(obj=code)
    page = _code_page(code, form)
    form.render_on_refusal("admin/code.html", **page)
    if form.submitted():
        update_code(code, label=form.label.data, actor=current_user)
        flash(_("Code saved."), "success")
        return redirect(url_for("admin.code", code_id=code.id))
    return render_template("admin/code.html", **page)


@bp.post("/codes/<int:code_id>/pair")
def code_pair(code_id):
    """Pair with a device, or unpair (empty choice); `back=device` returns to the device's page."""
    code = db.get_or_404(Code, code_id)
    form = PairingForm()
    device_id = (form.device_id.data or code.device_id) if form.back.data == "device" else None
    back = back_on_refusal(url_for("admin.device", device_id=device_id) if device_id else url_for("admin.code", code_id=code.id))
    pair_code(code, form.device_id.data, actor=current_user)
    flash(_("Code paired.") if form.device_id.data else _("Code unpaired."), "success")
    return redirect(back)


@bp.post("/codes/<int:code_id>/enabled")
def code_enabled(code_id):
    """Enable or disable a code."""
    code = db.get_or_404(Code, code_id)
    back = back_on_refusal(url_for("admin.code", code_id=code.id))
    enabled = EnabledForm().enabled.data
    set_code_enabled(code, enabled, actor=current_user)
    flash(_("Code enabled.") if enabled else _("Code disabled; code users lost access at once."), "success")
    return redirect(back)


@bp.post("/codes/<int:code_id>/pin")
def code_pin(code_id):
    """Set or remove the PIN."""
    code = db.get_or_404(Code, code_id)
    back = back_on_refusal(url_for("admin.code", code_id=code.id))
    form = PinForm()
    form.submitted()
    pin = "" if form.remove.data else form.pin.data
    set_code_pin(code, pin, actor=current_user)
    flash(_("PIN set; code users must enter it now.") if pin else _("PIN removed."), "success")
    return redirect(back)


@bp.post("/codes/<int:code_id>/logout")
def code_logout(code_id):
    """End every code user's access through this code."""
    code = db.get_or_404(Code, code_id)
    back = back_on_refusal(url_for("admin.code", code_id=code.id))
    logout_code_users(code, actor=current_user)
    flash(_("All code users of this code were logged out."), "success")
    return redirect(back)


@bp.get("/codes/<int:code_id>/qr.svg")
def code_qr_svg(code_id):
    """The code's QR as SVG."""
    code = db.get_or_404(Code, code_id)
    return Response(qr.svg(qr.code_url(code)), mimetype="image/svg+xml")


@bp.get("/codes/<int:code_id>/qr.png")
def code_qr_png(code_id):
    """The code's QR as PNG (download with ?download=1)."""
    code = db.get_or_404(Code, code_id)
    response = Response(qr.png(qr.code_url(code)), mimetype="image/png")
    if request.args.get("download"):
        response.headers["Content-Disposition"] = f'attachment; filename="code-{code.id}.png"'
    return response


@bp.get("/codes/labels")
def code_labels():
    """A printable A4 sheet of labels for the chosen codes (QR, device name, short URL)."""
    chosen = codes_by_ids(request.args.getlist("ids"))
    if not chosen:
        flash(_("Please tick the codes to print first."), "error")
        return redirect(url_for("admin.codes"))
    return render_template("admin/labels.html", codes=chosen, code_url=qr.code_url, qr_image=qr.svg_data_uri)
