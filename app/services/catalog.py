"""The catalog moderators maintain: templates, flows and steps, groups, assistant, devices, codes, customers."""
import io
import os
import secrets
from urllib.parse import urlparse

import sqlalchemy as sa
from flask_babel import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from app import policy
from app.enums import ButtonTarget, CustomerKind, GroupKind, StepType
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
    Step,
    Team,
    Template,
    Ticket,
)
from app.services import code_access, uploads
from app.services.errors import NotFound, ValidationError, require

SYSTEM_STEP_TYPES = frozenset({StepType.VISIBILITY, StepType.DEVICE})
EDITABLE_STEP_TYPES = [kind for kind in StepType if kind not in SYSTEM_STEP_TYPES]
CHOICE_STEP_TYPES = frozenset({StepType.SINGLE_CHOICE, StepType.MULTI_CHOICE})
MAX_CODES_AT_ONCE = 500
IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp"})


# ---------------------------------------------------------------- helpers


def _allowed(actor):
    """Moderators and administrators manage the catalog."""
    require(policy.can_manage_catalog(actor))


def _text(value, field, *, max_length, required=False, label=None):
    """Stripped text, checked for presence and length."""
    value = (value or "").strip()
    if required and not value:
        raise ValidationError(_("Please fill in %(field)s.", field=label or field), field=field)
    if len(value) > max_length:
        raise ValidationError(
            _("%(field)s may have at most %(count)d characters.", field=label or field, count=max_length), field=field
        )
    return value


def _optional_id(model, value, field, message):
    """The row for an optional id from a form, or None."""
    if value in (None, "", 0, "0"):
        return None
    try:
        row = db.session.get(model, int(value))
    except (TypeError, ValueError):
        row = None
    if row is None:
        raise ValidationError(message, field=field)
    return row


def _move(rows, row, direction):
    """Swap `row` with its neighbour in `rows` (direction -1 up, +1 down) and renumber positions."""
    rows = list(rows)
    index = rows.index(row)
    other = index + (1 if int(direction) > 0 else -1)
    if 0 <= other < len(rows):
        rows[index], rows[other] = rows[other], rows[index]
    for position, item in enumerate(rows):
        item.position = position
    return rows


def _renumber(rows):
    """Positions 0..n-1 in the current order."""
    for position, item in enumerate(rows):
        item.position = position


def _url(value, field, label):
    """An optional http(s) URL."""
    value = _text(value, field, max_length=500, label=label)
    if value:
        parsed = urlparse(value)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise ValidationError(_("Please enter a full web address starting with https://."), field=field)
    return value


def ticket_count(**filters):
    """How many tickets (drafts included) match the column filters."""
    return db.session.scalar(sa.select(sa.func.count()).select_from(Ticket).filter_by(**filters)) or 0


# ---------------------------------------------------------------- templates


def save_template(template, *, name, description="", ratings_enabled=True, actor):
    """Create (template=None) or edit a template; a new one gets a default fleet group."""
    _allowed(actor)
    name = _text(name, "name", max_length=120, required=True, label=_("the name"))
    description = _text(description, "description", max_length=5000)
    clash = db.session.scalar(sa.select(Template).filter_by(name=name))
    if clash is not None and clash is not template:
        raise ValidationError(_("A template with this name exists already."), field="name")
    created = template is None
    if created:
        template = Template()
        db.session.add(template)
    template.name, template.description, template.ratings_enabled = name, description, bool(ratings_enabled)
    if created:
        db.session.flush()
        db.session.add(Group(template=template, kind=GroupKind.FLEET, name=_("Fleet"), position=0))
    db.session.commit()
    return template


def set_template_archived(template, archived, *, actor):
    """Archive or restore a template."""
    _allowed(actor)
    template.archived = bool(archived)
    db.session.commit()
    return template


def delete_template(template, *, actor):
    """Delete an unused template; one with devices is archived instead. Returns 'deleted' or 'archived'."""
    _allowed(actor)
    has_devices = db.session.scalar(sa.select(sa.func.count()).select_from(Device).filter_by(template_id=template.id))
    if has_devices or ticket_count(template_id=template.id):
        template.archived = True
        db.session.commit()
        return "archived"
    for element in list(template.elements):
        for button in list(element.buttons):
            db.session.delete(button)
    db.session.flush()
    for row in list(template.flows) + list(template.elements) + list(template.groups):
        db.session.delete(row)
    db.session.flush()
    db.session.delete(template)
    db.session.commit()
    return "deleted"


# ---------------------------------------------------------------- groups


def _members(employee_ids, team_ids):
    """Employees and teams named by id lists from a form."""
    employees = [db.session.get(Employee, int(i)) for i in employee_ids or () if str(i).isdigit()]
    teams = [db.session.get(Team, int(i)) for i in team_ids or () if str(i).isdigit()]
    return [e for e in employees if e is not None], [t for t in teams if t is not None]


def save_group(group, *, template=None, kind=None, name, employee_ids=(), team_ids=(), actor):
    """Create (group=None, with template and kind) or edit a routing group and its members."""
    _allowed(actor)
    name = _text(name, "name", max_length=120, required=True, label=_("the name"))
    employees, teams = _members(employee_ids, team_ids)
    if group is None:
        try:
            kind = kind if isinstance(kind, GroupKind) else GroupKind(kind)
        except ValueError:
            raise ValidationError(_("Please choose fleet or notify."), field="kind") from None
        group = Group(template=template, kind=kind, position=len(template.groups))
        db.session.add(group)
    group.name, group.employees, group.teams = name, employees, teams
    db.session.commit()
    return group


def move_group(group, direction, *, actor):
    """Move a group up or down; the first group of each kind is the template's default."""
    _allowed(actor)
    same_kind = [g for g in group.template.groups if g.kind == group.kind]
    others = [g for g in group.template.groups if g.kind != group.kind]
    same_kind = _move(same_kind, group, direction)
    _renumber(same_kind + others if group.kind == GroupKind.FLEET else others + same_kind)
    db.session.commit()
    return group


def delete_group(group, *, actor):
    """Delete a group; flows that used it fall back to the template's default group."""
    _allowed(actor)
    template = group.template
    for flow in template.flows:
        if flow.fleet_group_id == group.id:
            flow.fleet_group = None
        if flow.notify_group_id == group.id:
            flow.notify_group = None
    db.session.delete(group)
    db.session.flush()
    db.session.expire(template, ["groups"])
    _renumber(template.groups)
    db.session.commit()


# ---------------------------------------------------------------- flows and steps


def _template_group(template, value, kind, field):
    """An optional group id that must belong to `template` and be of `kind`."""
    group = _optional_id(Group, value, field, _("Please choose a group of this template."))
    if group is not None and (group.template_id != template.id or group.kind != kind):
        raise ValidationError(_("Please choose a group of this template."), field=field)
    return group


def save_flow(flow, *, template=None, title, description="", fleet_group_id=None, notify_group_id=None, actor):
    """Create (flow=None, with template) or edit a flow's title, description and groups."""
    _allowed(actor)
    template = template or flow.template
    title = _text(title, "title", max_length=120, required=True, label=_("the title"))
    description = _text(description, "description", max_length=5000)
    fleet = _template_group(template, fleet_group_id, GroupKind.FLEET, "fleet_group_id")
    notify = _template_group(template, notify_group_id, GroupKind.NOTIFY, "notify_group_id")
    if flow is None:
        flow = Flow(template=template, position=len(template.flows), active=False)
        db.session.add(flow)
    flow.title, flow.description, flow.fleet_group, flow.notify_group = title, description, fleet, notify
    db.session.commit()
    return flow


def set_flow_active(flow, active, *, actor):
    """Offer the flow to code users and employees, or stop offering it; a flow needs steps to go live."""
    _allowed(actor)
    if active and not flow.steps:
        raise ValidationError(_("Add at least one step before activating the flow."), field="active")
    flow.active = bool(active)
    db.session.commit()
    return flow


def delete_flow(flow, *, actor):
    """Delete a flow without tickets; one with tickets is deactivated instead. Returns 'deleted' or 'deactivated'."""
    _allowed(actor)
    if ticket_count(flow_id=flow.id):
        flow.active = False
        db.session.commit()
        return "deactivated"
    template = flow.template
    db.session.execute(sa.update(ActionButton).where(ActionButton.target_flow_id == flow.id).values(target_flow_id=None))
    db.session.delete(flow)
    db.session.flush()
    db.session.expire(template, ["flows"])
    _renumber(template.flows)
    db.session.commit()
    return "deleted"


def move_flow(flow, direction, *, actor):
    """Change the order flows are offered in."""
    _allowed(actor)
    _move(flow.template.flows, flow, direction)
    db.session.commit()


def parse_options(text):
    """One option per non-empty line, duplicates dropped, order kept."""
    seen = []
    for line in (text or "").splitlines():
        line = line.strip()
        if line and line not in seen:
            seen.append(line)
    return seen


def save_step(step, *, flow=None, type, question, help_text="", required=False, options="", is_title=False, actor):
    """Create (step=None, with flow) or edit a step; checks type, options and the single title step."""
    _allowed(actor)
    flow = flow or step.flow
    try:
        kind = type if isinstance(type, StepType) else StepType(type)
    except ValueError:
        kind = None
    if kind is None or kind in SYSTEM_STEP_TYPES:
        raise ValidationError(_("Please choose a step type."), field="type")
    question = _text(question, "question", max_length=255, required=True, label=_("the question"))
    help_text = _text(help_text, "help_text", max_length=2000)
    option_list = parse_options(options) if not isinstance(options, list) else options
    if kind in CHOICE_STEP_TYPES:
        if len(option_list) < 2:
            raise ValidationError(_("A choice step needs at least two options, one per line."), field="options")
        if any(len(option) > 120 for option in option_list):
            raise ValidationError(_("Each option may have at most 120 characters."), field="options")
    else:
        option_list = []
    is_title = bool(is_title)
    if is_title and kind != StepType.TEXT_SHORT:
        raise ValidationError(_("Only a short text step can be the ticket title."), field="is_title")
    if is_title and any(other.is_title and other is not step for other in flow.steps):
        raise ValidationError(_("Another step of this flow is already the ticket title."), field="is_title")
    if step is None:
        step = Step(flow=flow, position=len(flow.steps))
        db.session.add(step)
    step.type, step.question, step.help_text = kind, question, help_text
    step.required, step.options, step.is_title = bool(required), option_list, is_title
    db.session.commit()
    return step


def move_step(step, direction, *, actor):
    """Move a step one place up or down."""
    _allowed(actor)
    _move(step.flow.steps, step, direction)
    db.session.commit()


def delete_step(step, *, actor):
    """Remove a step; tickets made earlier keep their copied answers."""
    _allowed(actor)
    flow = step.flow
    flow.steps.remove(step)
    db.session.flush()
    _renumber(flow.steps)
    if not flow.steps:
        flow.active = False
    db.session.commit()


# ---------------------------------------------------------------- assistant


def save_element(element, *, template=None, title, body="", actor):
    """Create (element=None, with template) or edit an assistant element."""
    _allowed(actor)
    title = _text(title, "title", max_length=160, required=True, label=_("the title"))
    body = _text(body, "body", max_length=50000)
    if element is None:
        element = AssistantElement(template=template, position=len(template.elements))
        db.session.add(element)
    element.title, element.body = title, body
    db.session.commit()
    return element


def make_start_element(element, *, actor):
    """Put the element first: code users see it when they open a code."""
    _allowed(actor)
    rows = [element] + [e for e in element.template.elements if e is not element]
    _renumber(rows)
    db.session.commit()


def move_element(element, direction, *, actor):
    """Move an element up or down (the first one is the start page)."""
    _allowed(actor)
    _move(element.template.elements, element, direction)
    db.session.commit()


def delete_element(element, *, actor):
    """Delete an element with its buttons; buttons pointing at it are removed too."""
    _allowed(actor)
    template = element.template
    for button in db.session.scalars(sa.select(ActionButton).filter_by(target_element_id=element.id)).all():
        button.element.buttons.remove(button)
    db.session.delete(element)
    db.session.flush()
    db.session.expire(template, ["elements"])
    _renumber(template.elements)
    db.session.commit()


def save_button(button, *, element=None, label, target, target_element_id=None, target_flow_id=None, url="", actor):
    """Create (button=None, with element) or edit an action button leading to an element, a flow or a URL."""
    _allowed(actor)
    element = element or button.element
    template = element.template
    label = _text(label, "label", max_length=120, required=True, label=_("the label"))
    try:
        target = target if isinstance(target, ButtonTarget) else ButtonTarget(target)
    except ValueError:
        raise ValidationError(_("Please choose where the button leads."), field="target") from None
    target_element = target_flow = None
    if target == ButtonTarget.ELEMENT:
        target_element = _optional_id(AssistantElement, target_element_id, "target_element_id", _("Please choose an element."))
        if target_element is None or target_element.template_id != template.id:
            raise ValidationError(_("Please choose an element."), field="target_element_id")
        url = None
    elif target == ButtonTarget.FLOW:
        target_flow = _optional_id(Flow, target_flow_id, "target_flow_id", _("Please choose a flow."))
        if target_flow is None or target_flow.template_id != template.id:
            raise ValidationError(_("Please choose a flow."), field="target_flow_id")
        url = None
    else:
        url = _url(url, "url", _("the web address"))
        if not url:
            raise ValidationError(_("Please enter the web address."), field="url")
    if button is None:
        button = ActionButton(position=len(element.buttons))
        element.buttons.append(button)
    button.label, button.target, button.url = label, target, url
    button.target_element, button.target_flow = target_element, target_flow
    db.session.commit()
    return button


def move_button(button, direction, *, actor):
    """Move a button left/up or right/down on its element."""
    _allowed(actor)
    _move(button.element.buttons, button, direction)
    db.session.commit()


def delete_button(button, *, actor):
    """Remove a button."""
    _allowed(actor)
    element = button.element
    element.buttons.remove(button)
    db.session.flush()
    _renumber(element.buttons)
    db.session.commit()


# ---------------------------------------------------------------- customers


def save_customer(customer, *, name, kind="company", contact_name="", email="", phone="", address="", actor):
    """Create (customer=None) or edit a customer."""
    _allowed(actor)
    name = _text(name, "name", max_length=160, required=True, label=_("the name"))
    try:
        kind = kind if isinstance(kind, CustomerKind) else CustomerKind(kind)
    except ValueError:
        raise ValidationError(_("Please choose private or company."), field="kind") from None
    email = _text(email, "email", max_length=254)
    if email and ("@" not in email or " " in email):
        raise ValidationError(_("Please enter a valid e-mail address."), field="email")
    if customer is None:
        customer = Customer()
        db.session.add(customer)
    customer.name, customer.kind, customer.email = name, kind, email
    customer.contact_name = _text(contact_name, "contact_name", max_length=160)
    customer.phone = _text(phone, "phone", max_length=60)
    customer.address = _text(address, "address", max_length=2000)
    db.session.commit()
    return customer


def set_customer_archived(customer, archived, *, actor):
    """Archive or restore a customer."""
    _allowed(actor)
    customer.archived = bool(archived)
    db.session.commit()
    return customer


def delete_customer(customer, *, actor):
    """Delete a customer without devices or tickets; otherwise archive. Returns 'deleted' or 'archived'."""
    _allowed(actor)
    if customer.devices or ticket_count(customer_id=customer.id):
        customer.archived = True
        db.session.commit()
        return "archived"
    db.session.delete(customer)
    db.session.commit()
    return "deleted"


# ---------------------------------------------------------------- devices


def _picture(file_storage):
    """Check an uploaded device picture; returns the stored file name or None when no file came."""
    if file_storage is None or not file_storage.filename:
        return None
    limit = uploads.upload_limit_bytes()
    data = file_storage.stream.read(limit + 1)
    if len(data) > limit:
        raise ValidationError(_("The picture is larger than %(mb)d MB.", mb=limit // (1024 * 1024)), field="picture")
    if uploads.sniff(data) not in IMAGE_TYPES:
        raise ValidationError(_("Please choose a JPEG, PNG, GIF or WebP picture."), field="picture")
    try:
        with Image.open(io.BytesIO(data)) as image:
            image = ImageOps.exif_transpose(image)
            image.thumbnail((1200, 1200))
            if image.mode not in ("RGB", "L"):
                image = image.convert("RGB")
            out = io.BytesIO()
            image.save(out, "JPEG", quality=85)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise ValidationError(_("The picture cannot be read."), field="picture") from None
    name = f"{secrets.token_urlsafe(24)}.device.jpg"
    with open(os.path.join(uploads.folder(), name), "wb") as handle:
        handle.write(out.getvalue())
    return name


def save_device(device, *, template_id, name, customer_id=None, serial_number="", location="", description="",
                picture=None, remove_picture=False, actor):
    """Create (device=None) or edit a device, with an optional picture."""
    _allowed(actor)
    template = _optional_id(Template, template_id, "template_id", _("Please choose a template."))
    if template is None:
        raise ValidationError(_("Please choose a template."), field="template_id")
    if template.archived and (device is None or device.template_id != template.id):
        raise ValidationError(_("This template is archived."), field="template_id")
    customer = _optional_id(Customer, customer_id, "customer_id", _("Please choose a customer."))
    name = _text(name, "name", max_length=160, required=True, label=_("the name"))
    serial_number = _text(serial_number, "serial_number", max_length=80)
    location = _text(location, "location", max_length=160)
    description = _text(description, "description", max_length=5000)
    picture_name = _picture(picture)
    if device is None:
        device = Device()
        db.session.add(device)
    device.template, device.customer, device.name = template, customer, name
    device.serial_number, device.location, device.description = serial_number, location, description
    if picture_name or remove_picture:
        _remove_file(device.picture_name)
        device.picture_name = picture_name
    db.session.commit()
    return device


def _remove_file(name):
    """Delete a stored file, if any."""
    if name:
        try:
            os.remove(os.path.join(uploads.folder(), name))
        except FileNotFoundError:
            pass


def set_device_archived(device, archived, *, actor):
    """Archive (codes stop working) or restore a device."""
    _allowed(actor)
    device.archived = bool(archived)
    db.session.commit()
    return device


def delete_device(device, *, actor):
    """Delete a device without tickets (its codes are unpaired); otherwise archive. Returns 'deleted' or 'archived'."""
    _allowed(actor)
    if ticket_count(device_id=device.id):
        device.archived = True
        db.session.commit()
        return "archived"
    for code in list(device.codes):
        code.device = None
    _remove_file(device.picture_name)
    db.session.delete(device)
    db.session.commit()
    return "deleted"


# ---------------------------------------------------------------- codes


def create_codes(count, *, device_id=None, label="", actor):
    """Create `count` new codes at once, optionally the first one paired with a device."""
    _allowed(actor)
    try:
        count = int(count)
    except (TypeError, ValueError):
        count = 0
    if not 1 <= count <= MAX_CODES_AT_ONCE:
        raise ValidationError(_("Please enter a number from 1 to %(max)d.", max=MAX_CODES_AT_ONCE), field="count")
    device = _optional_id(Device, device_id, "device_id", _("Please choose a device."))
    if device is not None and count != 1:
        raise ValidationError(_("Only a single new code can be paired with a device."), field="device_id")
    label = _text(label, "label", max_length=120)
    codes = [Code(token=code_access.new_token(), label=label, device=device) for _index in range(count)]
    db.session.add_all(codes)
    db.session.commit()
    return codes


def update_code(code, *, label, actor):
    """Change a code's label."""
    _allowed(actor)
    code.label = _text(label, "label", max_length=120)
    db.session.commit()
    return code


def pair_code(code, device_id, *, actor):
    """Pair the code with a device (device_id empty unpairs); code users of the old device lose access."""
    _allowed(actor)
    device = _optional_id(Device, device_id, "device_id", _("Please choose a device."))
    if device is not None and device.archived:
        raise ValidationError(_("This device is archived."), field="device_id")
    changed = code.device_id != (device.id if device else None)
    code.device = device
    if changed:
        code.session_epoch += 1
    db.session.commit()
    if changed:
        from app import realtime

        realtime.code_access_changed(code.id)
    return code


def set_code_pin(code, pin, *, actor):
    """Set a PIN (4 to 12 digits) or remove it (empty); a new PIN logs code users out."""
    _allowed(actor)
    pin = (pin or "").strip()
    if pin and (not pin.isdigit() or not 4 <= len(pin) <= 12):
        raise ValidationError(_("The PIN must have 4 to 12 digits."), field="pin")
    code.set_pin(pin or None)
    if pin:
        code.session_epoch += 1
    db.session.commit()
    if pin:
        from app import realtime

        realtime.code_access_changed(code.id)
    return code


def codes_by_ids(ids):
    """Codes for a list of ids (as strings or ints), in list order, unknown ids skipped."""
    wanted = []
    for value in ids:
        for part in str(value).split(","):
            if part.strip().isdigit():
                wanted.append(int(part))
    if not wanted:
        return []
    found = {c.id: c for c in db.session.scalars(sa.select(Code).where(Code.id.in_(wanted)))}
    return [found[i] for i in dict.fromkeys(wanted) if i in found]


def get_or_404(model, ident):
    """A row by id or NotFound."""
    row = db.session.get(model, ident)
    if row is None:
        raise NotFound(_("Not found."))
    return row
