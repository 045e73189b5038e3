"""Devices, customers and codes (with QR images and printable label sheets)."""
import sqlalchemy as sa
from flask import (
    Response,
    abort,
    flash,
    redirect,
    request,
    send_from_directory,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.routing import BuildError

from app.blueprints.admin.core import act, bp, checked, form_page, load, render
from app.enums import CustomerKind, Visibility
from app.extensions import db
from app.models import Code, Customer, Device, Template, Ticket, Update
from app.services import catalog, code_access, qr, uploads
from app.services.errors import ValidationError
from app.workflow import TicketStatus

RECENT_TICKETS = 50


def ticket_url(ticket):
    """The back-office page of a ticket, when the tickets area provides one."""
    for endpoint in ("tickets.detail", "tickets.show", "tickets.ticket"):
        try:
            return url_for(endpoint, number=ticket.id)
        except BuildError:
            continue
    return None


def _tickets(**filters):
    """The latest submitted tickets matching the column filters."""
    return db.session.scalars(
        sa.select(Ticket).filter_by(**filters).where(Ticket.status != TicketStatus.DRAFT)
        .order_by(Ticket.id.desc()).limit(RECENT_TICKETS)
    ).all()


# ---------------------------------------------------------------- devices


def _choices():
    """Templates and customers for device forms."""
    templates = db.session.scalars(sa.select(Template).order_by(Template.archived, Template.name)).all()
    customers = db.session.scalars(sa.select(Customer).order_by(Customer.archived, Customer.name)).all()
    return {"templates": templates, "customers": customers}


@bp.get("/devices")
def devices():
    """All devices, with an optional search by name, serial number or location."""
    query = sa.select(Device).order_by(Device.archived, Device.name)
    search = (request.args.get("q") or "").strip()
    if search:
        like = f"%{search}%"
        query = query.where(sa.or_(Device.name.ilike(like), Device.serial_number.ilike(like), Device.location.ilike(like)))
    return render("admin/devices.html", devices=db.session.scalars(query).all(), search=search)


def _device_fields():
    """Device form values from the request."""
    form = request.form
    return {
        "template_id": form.get("template_id"),
        "customer_id": form.get("customer_id"),
        "name": form.get("name"),
        "serial_number": form.get("serial_number"),
        "location": form.get("location"),
        "description": form.get("description"),
        "picture": request.files.get("picture"),
        "remove_picture": checked("remove_picture"),
    }


@bp.route("/devices/new", methods=["GET", "POST"])
def device_new():
    """Create a device."""
    if request.method == "POST":
        try:
            device = catalog.save_device(None, **_device_fields(), actor=current_user)
        except ValidationError as error:
            db.session.rollback()
            return form_page("admin/device_form.html", error=error, device=None, **_choices())
        flash(_("Device “%(name)s” created.", name=device.name), "success")
        return redirect(url_for("admin.device", device_id=device.id))
    values = {"template_id": request.args.get("template_id", ""), "customer_id": request.args.get("customer_id", "")}
    return form_page("admin/device_form.html", device=None, values=values, **_choices())


@bp.route("/devices/<int:device_id>", methods=["GET", "POST"])
def device(device_id):
    """A device: its settings, codes, tickets and service history."""
    device = load(Device, device_id)
    values = {
        "template_id": str(device.template_id),
        "customer_id": str(device.customer_id or ""),
        "name": device.name,
        "serial_number": device.serial_number,
        "location": device.location,
        "description": device.description,
    }
    history = db.session.scalars(
        sa.select(Update).join(Ticket).where(Ticket.device_id == device.id, Update.visibility == Visibility.PUBLIC)
        .order_by(Update.created_at.desc()).limit(RECENT_TICKETS)
    ).all()
    context = {"device": device, "tickets": _tickets(device_id=device.id), "history": history, "ticket_url": ticket_url,
               "free_codes": db.session.scalars(sa.select(Code).where(Code.device_id.is_(None)).order_by(Code.id)).all()}
    if request.method == "POST":
        try:
            catalog.save_device(device, **_device_fields(), actor=current_user)
        except ValidationError as error:
            db.session.rollback()
            return form_page("admin/device.html", error=error, values=values, **context, **_choices())
        flash(_("Device saved."), "success")
        return redirect(url_for("admin.device", device_id=device.id))
    return form_page("admin/device.html", values=values, **context, **_choices())


@bp.get("/devices/<int:device_id>/picture")
def device_picture(device_id):
    """The device's picture."""
    device = load(Device, device_id)
    if not device.picture_name:
        abort(404)
    return send_from_directory(uploads.folder(), device.picture_name, mimetype="image/jpeg", max_age=0)


@bp.post("/devices/<int:device_id>/archive")
def device_archive(device_id):
    """Archive (its codes stop working) or restore a device."""
    device = load(Device, device_id)
    archived = checked("archived")
    return act(lambda: catalog.set_device_archived(device, archived, actor=current_user),
               url_for("admin.device", device_id=device.id),
               _("Device archived; its codes no longer open it.") if archived else _("Device restored."))


@bp.post("/devices/<int:device_id>/delete")
def device_delete(device_id):
    """Delete a device, or archive it when it has tickets."""
    device = load(Device, device_id)
    outcome = catalog.delete_device(device, actor=current_user)
    if outcome == "archived":
        flash(_("The device has tickets, so it was archived instead of deleted."), "info")
        return redirect(url_for("admin.device", device_id=device_id))
    flash(_("Device deleted."), "success")
    return redirect(url_for("admin.devices"))


# ---------------------------------------------------------------- customers


@bp.get("/customers")
def customers():
    """All customers."""
    rows = db.session.scalars(sa.select(Customer).order_by(Customer.archived, Customer.name)).all()
    return render("admin/customers.html", customers=rows)


def _customer_fields():
    """Customer form values from the request."""
    form = request.form
    return {key: form.get(key) for key in ("name", "kind", "contact_name", "email", "phone", "address")}


@bp.route("/customers/new", methods=["GET", "POST"])
def customer_new():
    """Create a customer."""
    if request.method == "POST":
        try:
            customer = catalog.save_customer(None, **_customer_fields(), actor=current_user)
        except ValidationError as error:
            db.session.rollback()
            return form_page("admin/customer_form.html", error=error, customer=None, kinds=list(CustomerKind))
        flash(_("Customer “%(name)s” created.", name=customer.name), "success")
        return redirect(url_for("admin.customer", customer_id=customer.id))
    return form_page("admin/customer_form.html", customer=None, kinds=list(CustomerKind), values={"kind": "company"})


@bp.route("/customers/<int:customer_id>", methods=["GET", "POST"])
def customer(customer_id):
    """A customer: contact data, devices and tickets."""
    customer = load(Customer, customer_id)
    values = {key: getattr(customer, key) for key in ("name", "contact_name", "email", "phone", "address")}
    values["kind"] = customer.kind.value
    context = {"customer": customer, "kinds": list(CustomerKind), "tickets": _tickets(customer_id=customer.id),
               "ticket_url": ticket_url}
    if request.method == "POST":
        try:
            catalog.save_customer(customer, **_customer_fields(), actor=current_user)
        except ValidationError as error:
            db.session.rollback()
            return form_page("admin/customer.html", error=error, values=values, **context)
        flash(_("Customer saved."), "success")
        return redirect(url_for("admin.customer", customer_id=customer.id))
    return form_page("admin/customer.html", values=values, **context)


@bp.post("/customers/<int:customer_id>/archive")
def customer_archive(customer_id):
    """Archive or restore a customer."""
    customer = load(Customer, customer_id)
    archived = checked("archived")
    return act(lambda: catalog.set_customer_archived(customer, archived, actor=current_user),
               url_for("admin.customer", customer_id=customer.id),
               _("Customer archived.") if archived else _("Customer restored."))


@bp.post("/customers/<int:customer_id>/delete")
def customer_delete(customer_id):
    """Delete a customer, or archive one that still has devices."""
    customer = load(Customer, customer_id)
    outcome = catalog.delete_customer(customer, actor=current_user)
    if outcome == "archived":
        flash(_("The customer still has devices or tickets, so it was archived instead of deleted."), "info")
        return redirect(url_for("admin.customer", customer_id=customer_id))
    flash(_("Customer deleted."), "success")
    return redirect(url_for("admin.customers"))


# ---------------------------------------------------------------- codes


def _devices_for_pairing():
    """Devices that can carry a code."""
    return db.session.scalars(sa.select(Device).where(Device.archived.is_(False)).order_by(Device.name)).all()


@bp.route("/codes", methods=["GET", "POST"])
def codes():
    """All codes with their devices; the form creates one or many at once."""
    rows = db.session.scalars(sa.select(Code).order_by(Code.id.desc())).all()
    context = {"codes": rows, "devices": _devices_for_pairing(), "code_url": qr.code_url}
    if request.method == "POST":
        try:
            created = catalog.create_codes(request.form.get("count"), device_id=request.form.get("device_id"),
                                           label=request.form.get("label"), actor=current_user)
        except ValidationError as error:
            db.session.rollback()
            return form_page("admin/codes.html", error=error, **context)
        if len(created) == 1:
            flash(_("Code created."), "success")
            return redirect(url_for("admin.code", code_id=created[0].id))
        flash(_("%(count)d codes created.", count=len(created)), "success")
        return redirect(url_for("admin.codes"))
    return form_page("admin/codes.html", values={"count": "1"}, **context)


@bp.route("/codes/<int:code_id>", methods=["GET", "POST"])
def code(code_id):
    """A code: QR image, URL, pairing, PIN, enable/disable, log out code users."""
    code = load(Code, code_id)
    context = {"code": code, "devices": _devices_for_pairing(), "url": qr.code_url(code)}
    if request.method == "POST":
        try:
            catalog.update_code(code, label=request.form.get("label"), actor=current_user)
        except ValidationError as error:
            db.session.rollback()
            return form_page("admin/code.html", error=error, values={"label": code.label}, **context)
        flash(_("Code saved."), "success")
        return redirect(url_for("admin.code", code_id=code.id))
    return form_page("admin/code.html", values={"label": code.label, "device_id": str(code.device_id or "")}, **context)


@bp.post("/codes/<int:code_id>/pair")
def code_pair(code_id):
    """Pair with a device, or unpair (empty choice)."""
    code = load(Code, code_id)
    device_id = request.form.get("device_id")
    back = request.form.get("back") == "device" and code.device_id
    target = url_for("admin.device", device_id=back) if back else url_for("admin.code", code_id=code.id)
    if request.form.get("back") == "device" and device_id:
        target = url_for("admin.device", device_id=device_id)
    return act(lambda: catalog.pair_code(code, device_id, actor=current_user), target,
               _("Code paired.") if device_id else _("Code unpaired."))


@bp.post("/codes/<int:code_id>/enabled")
def code_enabled(code_id):
    """Enable or disable a code."""
    code = load(Code, code_id)
    enabled = checked("enabled")
    return act(lambda: code_access.set_code_enabled(code, enabled, actor=current_user),
               url_for("admin.code", code_id=code.id),
               _("Code enabled.") if enabled else _("Code disabled; code users lost access at once."))


@bp.post("/codes/<int:code_id>/pin")
def code_pin(code_id):
    """Set or remove the PIN."""
    code = load(Code, code_id)
    pin = "" if checked("remove") else request.form.get("pin", "")
    if not pin and not checked("remove"):
        flash(_("Please enter a PIN of 4 to 12 digits."), "error")
        return redirect(url_for("admin.code", code_id=code.id))
    return act(lambda: catalog.set_code_pin(code, pin, actor=current_user), url_for("admin.code", code_id=code.id),
               _("PIN set; code users must enter it now.") if pin else _("PIN removed."))


@bp.post("/codes/<int:code_id>/logout")
def code_logout(code_id):
    """End every code user's access through this code."""
    code = load(Code, code_id)
    return act(lambda: code_access.logout_code_users(code, actor=current_user), url_for("admin.code", code_id=code.id),
               _("All code users of this code were logged out."))


@bp.get("/codes/<int:code_id>/qr.svg")
def code_qr_svg(code_id):
    """The code's QR as SVG."""
    code = load(Code, code_id)
    return Response(qr.svg(qr.code_url(code)), mimetype="image/svg+xml")


@bp.get("/codes/<int:code_id>/qr.png")
def code_qr_png(code_id):
    """The code's QR as PNG (download with ?download=1)."""
    code = load(Code, code_id)
    response = Response(qr.png(qr.code_url(code)), mimetype="image/png")
    if request.args.get("download"):
        response.headers["Content-Disposition"] = f'attachment; filename="code-{code.id}.png"'
    return response


@bp.get("/codes/labels")
def code_labels():
    """A printable A4 sheet of labels for the chosen codes (QR, device name, short URL)."""
    chosen = catalog.codes_by_ids(request.args.getlist("ids"))
    if not chosen:
        flash(_("Please tick the codes to print first."), "error")
        return redirect(url_for("admin.codes"))
    return render("admin/labels.html", codes=chosen, code_url=qr.code_url, qr_image=qr.svg_data_uri)

