"""The administration's forms: what each form field accepts, in the words the UI uses when it does not.

Forms check the shape of typed input (present, not too long, an e-mail address, a number in range); the services
check the domain rules (a unique name, a group of this template, the last administrator) and raise
ValidationError naming the field, which `AdminForm.refused` then shows next to that field.
"""
import sqlalchemy as sa
from flask import render_template
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    IntegerField,
    PasswordField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    URLField,
)
from wtforms import validators as checks
from wtforms.fields.choices import SelectChoice
from wtforms.widgets import CheckboxInput, ListWidget

from app import labels, time_zones
from app.enums import SUBSCRIBABLE_WEBHOOK_EVENTS, ButtonTarget, GroupKind, Role
from app.extensions import db
from app.forms import HtmlForm
from app.ids import parse_id
from app.models import Customer, Device, Employee, Team, Template
from app.refusals import on_refusal
from app.services.accounts import MIN_PASSWORD_LENGTH
from app.services.codes import MAX_CODES_AT_ONCE
from app.services.errors import ValidationError
from app.services.flows import EDITABLE_STEP_TYPES
from app.services.input_checks import (
    control_characters_message,
    has_control_characters,
    is_web_address,
    missing_message,
    too_long_message,
)

LANGUAGES = [("de", "Deutsch"), ("en", "English")]


def options(pairs):
    """Choices for a select, radio or checkbox list from (value, label) pairs."""
    return [SelectChoice(value, label) for value, label in pairs]


def strip(value):
    """Typed text without surrounding spaces."""
    return value.strip() if isinstance(value, str) else value


def row_id(value):
    """A chosen row's id from a form: an int, None for the empty choice, or the odd text as sent (the service says so)."""
    if value is None or value == "":
        return None
    if isinstance(value, int):
        return value
    value = str(value).strip()
    return parse_id(value) or value


def required(field):
    """Presence, in the services' words for `field` (input_checks.MISSING): “Please enter the name.”"""
    return checks.DataRequired(message=missing_message(field))


def at_most(count, field):
    """A length limit, in the services' words for `field` (input_checks.TOO_LONG)."""
    return checks.Length(max=count, message=too_long_message(field, count))


def one_line(field):
    """No line breaks or invisible control characters (names go into e-mail subjects), in the services' words
    for `field` (input_checks.CONTROL_CHARACTERS)."""
    message = control_characters_message(field)

    def check(form, field):
        """Refuse text with a Cc, Cf, Zl or Zp character (input_checks.CONTROL_CATEGORIES)."""
        if isinstance(field.data, str) and has_control_characters(field.data):
            raise checks.ValidationError(message)

    return check


def web_address_check(form, field):
    """An optional full http(s) address, in the services' words."""
    if field.data and not is_web_address(field.data):
        raise checks.ValidationError(_l("Please enter a full web address starting with https://."))


class WholeNumberField(IntegerField):
    """An integer input; text that is no number leaves no data, so the range check reports it in our words."""

    def process_formdata(self, valuelist):
        """Read the number, or None for text that is none."""
        try:
            super().process_formdata(valuelist)
        except ValueError:
            self.data = None


class CheckboxListField(SelectMultipleField):
    """Several rows ticked in a list of checkboxes (the `field` macro renders one checkbox per choice)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class AdminForm(HtmlForm):
    """A form of the administration: ids as the pages always had them (`f-name`), one way to show refusals."""

    class Meta:
        # CSRFProtect checks every POST of the app; the pages send its token in their `csrf()` field.
        csrf = False

    def __init__(self, *args, id_prefix="f-", **kwargs):
        super().__init__(*args, **kwargs)
        for field in self:
            field.id = field.label.field_id = id_prefix + field.name

    def submitted(self):
        """False for a GET; True for a valid POST; an invalid POST raises ValidationError for its first bad field."""
        if not self.is_submitted():
            return False
        if not self.validate():
            name, messages = next(iter(self.errors.items()))
            raise ValidationError(str(messages[0]), field=name)
        return True

    def render_on_refusal(self, page, /, **context):
        """Answer this request's refusals with the template `page` and `context` (which holds this form) again."""

        def answer(error):
            """The page again, with what was typed and the error."""
            self.refused(error)
            return render_template(page, **context)

        on_refusal(answer)

    def refused(self, error):
        """This form with `error`'s message at its field (or above the form); returns the form for re-rendering."""
        field = self._fields.get(error.field) if error.field else None
        if field is None:
            if error.message not in self.form_errors:
                self.form_errors.append(error.message)
        elif error.message not in field.errors:
            field.errors = [*field.errors, error.message]
        for chosen in self:
            # A browser cannot be handed a file back: say which one was not kept, so nobody thinks it was saved.
            name = getattr(chosen.data, "filename", None) if isinstance(chosen, FileField) else None
            if name and chosen is not field:
                chosen.errors = [*chosen.errors, _("“%(name)s” was not saved because of the error above. Please choose it again.", name=name)]
        self._errors = None  # WTForms caches `errors` at validate(); the page's summary must see the refusal too
        return self


class ArchiveForm(AdminForm):
    """A one-click switch: archive (ticked) or restore."""

    archived = BooleanField()


class ActiveForm(AdminForm):
    """A one-click switch: activate (ticked) or deactivate."""

    active = BooleanField()


class EnabledForm(AdminForm):
    """A one-click switch: enable (ticked) or disable."""

    enabled = BooleanField()


class MoveForm(AdminForm):
    """A one-click move of a row in its list: direction -1 (up) or anything else (down)."""

    direction = WholeNumberField()

    @property
    def way(self):
        """-1 (up) or +1 (down)."""
        return -1 if self.direction.data == -1 else 1


class TemplateForm(AdminForm):
    """A template's name, description and whether code users rate finished tickets."""

    name = StringField(_l("Name"), filters=[strip], validators=[required("name"), at_most(120, "name")],
                       description=_l("The device type, for example “Hydraulic press HP-200”."))
    description = TextAreaField(_l("Description"), filters=[strip], validators=[at_most(5000, "description")],
                                render_kw={"rows": 4})
    ratings_enabled = BooleanField(_l("Code users rate finished tickets"), default=True)


class GroupForm(AdminForm):
    """A routing group's name and members (employees and teams); `kind` only when it is new."""

    kind = HiddenField(default=GroupKind.FLEET.value)
    name = StringField(_l("Name"), filters=[strip], validators=[required("name"), at_most(120, "name")])
    employee_ids = CheckboxListField(_l("Employees"), coerce=row_id, validate_choice=False)
    team_ids = CheckboxListField(_l("Teams"), coerce=row_id, validate_choice=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        deactivated = _l("deactivated")
        self.employee_ids.choices = options(
            (e.id, f"{e.name} · {e.email}" + ("" if e.active else f" ({deactivated})"))
            for e in db.session.scalars(sa.select(Employee).order_by(Employee.name))
        )
        self.team_ids.choices = options((t.id, t.name) for t in db.session.scalars(sa.select(Team).order_by(Team.name)))


class FlowForm(AdminForm):
    """A flow's title, description and its own fleet and notify groups (empty: the template's default)."""

    title = StringField(_l("Title"), filters=[strip], validators=[required("title"), at_most(120, "title")],
                        description=_l("The ticket category code users choose, for example “Report a fault”."))
    description = TextAreaField(_l("Description"), filters=[strip], validators=[at_most(5000, "description")],
                                render_kw={"rows": 2})
    fleet_group_id = SelectField(_l("Fleet group (receives the offers)"), coerce=row_id, validate_choice=False)
    notify_group_id = SelectField(_l("Notify group (is told about new tickets)"), coerce=row_id, validate_choice=False)

    def __init__(self, *args, template, **kwargs):
        super().__init__(*args, **kwargs)
        default = ("", _l("Template default"))
        groups = template.groups
        self.fleet_group_id.choices = options([default] + [(g.id, g.name) for g in groups if g.kind == GroupKind.FLEET])
        self.notify_group_id.choices = options([default] + [(g.id, g.name) for g in groups if g.kind == GroupKind.NOTIFY])


class StepForm(AdminForm):
    """One question of a flow: type, wording, help, options for choices, required, whether it titles the ticket."""

    type = SelectField(_l("Type"), choices=options((t.value, labels.STEP_TYPE.get(t, t.value)) for t in EDITABLE_STEP_TYPES),
                       default="text_short", validate_choice=False)
    question = StringField(_l("Question"), filters=[strip],
                           validators=[required("question"), at_most(255, "question")])
    help_text = TextAreaField(_l("Help text"), filters=[strip], validators=[at_most(2000, "help_text")],
                              render_kw={"rows": 2})
    options = TextAreaField(_l("Options (one per line)"), description=_l("Only for single and multiple choice steps."),
                            render_kw={"rows": 4})
    required = BooleanField(_l("An answer is required"), default=True)
    is_title = BooleanField(_l("The answer becomes the ticket title (short text only, one step per flow)"))


class ElementForm(AdminForm):
    """An assistant element's title and Markdown text."""

    title = StringField(_l("Title"), filters=[strip], validators=[required("title"), at_most(160, "title")])
    body = TextAreaField(_l("Text (Markdown)"), validators=[at_most(50000, "body")],
                         description=_l("Headings with #, lists with -, **bold**, links [text](https://…)."))


class ButtonForm(AdminForm):
    """An action button: its label and where it leads (a flow, another element or a web address)."""

    label = StringField(_l("Label"), filters=[strip], validators=[required("label"), at_most(120, "label")])
    target = SelectField(_l("Leads to"), default=ButtonTarget.FLOW.value, validate_choice=False, choices=options([
        ("flow", _l("Start a ticket creation flow")), ("element", _l("Open another element")),
        ("url", _l("Open a web address")),
    ]))
    target_flow_id = SelectField(_l("Flow"), coerce=row_id, validate_choice=False)
    target_element_id = SelectField(_l("Element"), coerce=row_id, validate_choice=False)
    url = URLField(_l("Web address"), filters=[strip], validators=[web_address_check, at_most(500, "url")])

    def __init__(self, *args, element, **kwargs):
        super().__init__(*args, **kwargs)
        inactive = _l("inactive")
        template = element.template
        self.target_flow_id.choices = options([("", "—")] + [
            (f.id, f.title + ("" if f.active else f" ({inactive})")) for f in template.flows
        ])
        self.target_element_id.choices = options(
            [("", "—")] + [(e.id, e.title) for e in template.elements if e is not element]
        )


class CustomerForm(AdminForm):
    """A customer's name, kind and contact data."""

    name = StringField(_l("Name"), filters=[strip],
                       validators=[required("name"), at_most(160, "name"), one_line("name")])
    kind = SelectField(_l("Kind"), choices=options([("company", _l("Company")), ("private", _l("Private person"))]),
                       default="company", validate_choice=False)
    contact_name = StringField(_l("Contact person"), filters=[strip], validators=[at_most(160, "contact_name")])
    email = EmailField(_l("E-mail"), filters=[strip], validators=[
        checks.Optional(), checks.Email(message=_l("Please enter a valid e-mail address.")), at_most(254, "email"),
    ])
    phone = StringField(_l("Phone"), filters=[strip], validators=[at_most(60, "phone")], render_kw={"type": "tel"})
    address = TextAreaField(_l("Address"), filters=[strip], validators=[at_most(2000, "address")],
                            render_kw={"rows": 3})


class DeviceForm(AdminForm):
    """A device: its template, name, customer, serial number, location, description and picture."""

    template_id = SelectField(_l("Template"), coerce=row_id, validate_choice=False)
    name = StringField(_l("Name"), filters=[strip],
                       validators=[required("name"), at_most(160, "name"), one_line("name")])
    customer_id = SelectField(_l("Customer"), coerce=row_id, validate_choice=False)
    serial_number = StringField(_l("Serial number"), filters=[strip], validators=[at_most(80, "serial_number")])
    location = StringField(_l("Location"), filters=[strip], validators=[at_most(160, "location")])
    description = TextAreaField(_l("Description"), filters=[strip], validators=[at_most(5000, "description")],
                                render_kw={"rows": 3})
    picture = FileField(_l("Picture"), render_kw={"accept": "image/jpeg,image/png,image/gif,image/webp"})
    remove_picture = BooleanField(_l("Remove the picture"))

    def __init__(self, *args, device=None, **kwargs):
        super().__init__(*args, **kwargs)
        templates = db.session.scalars(sa.select(Template).order_by(Template.archived, Template.name))
        customers = db.session.scalars(sa.select(Customer).order_by(Customer.archived, Customer.name))
        self.template_id.choices = options([("", _l("Please choose"))] + [
            (t.id, t.name) for t in templates if not t.archived or (device and device.template_id == t.id)
        ])
        self.customer_id.choices = options([("", _l("No customer"))] + [
            (c.id, c.name) for c in customers if not c.archived or (device and device.customer_id == c.id)
        ])


def _devices_for_pairing(blank):
    """Choices of the devices that can carry a code, after the empty choice `blank`."""
    devices = db.session.scalars(sa.select(Device).where(Device.archived.is_(False)).order_by(Device.name))
    return options([("", blank)] + [(d.id, d.name) for d in devices])


class NewCodesForm(AdminForm):
    """How many codes to create, a device for a single one, and a label."""

    count = WholeNumberField(_l("How many"), default=1, validators=[checks.NumberRange(
        1, MAX_CODES_AT_ONCE, message=_l("Please enter a number from 1 to %(max)d.", max=MAX_CODES_AT_ONCE))])
    device_id = SelectField(_l("Pair with device (single code only)"), coerce=row_id, validate_choice=False)
    label = StringField(_l("Label (optional)"), filters=[strip], validators=[at_most(120, "label")])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.device_id.choices = _devices_for_pairing(_l("Not paired yet"))


class CodeLabelForm(AdminForm):
    """A code's label."""

    label = StringField(_l("Label"), filters=[strip], validators=[at_most(120, "label")])


class PairingForm(AdminForm):
    """The device a code is stuck on (empty: none); `back` says which page to return to."""

    device_id = SelectField(_l("Device"), coerce=row_id, validate_choice=False)
    back = HiddenField()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, id_prefix="p-", **kwargs)
        self.device_id.choices = _devices_for_pairing(_l("Not paired"))


class PinForm(AdminForm):
    """A new PIN of 4 to 12 digits, or the wish to remove it."""

    pin = StringField(_l("New PIN (4 to 12 digits)"), filters=[strip],
                      render_kw={"inputmode": "numeric", "pattern": "[0-9]*", "autocomplete": "off"})
    remove = BooleanField()

    def validate_pin(self, field):
        """A PIN is needed unless it is being removed; it has 4 to 12 digits."""
        if self.remove.data:
            return
        if not field.data:
            raise checks.ValidationError(_l("Please enter a PIN of 4 to 12 digits."))
        if not field.data.isascii() or not field.data.isdigit() or not 4 <= len(field.data) <= 12:
            raise checks.ValidationError(_l("The PIN must have 4 to 12 digits."))


def _employee_name():
    """The checks of an employee's name."""
    message = _l("Please enter a name (at most 120 characters).")
    return [checks.DataRequired(message=message), checks.Length(max=120, message=message), one_line("name")]


def _employee_email():
    """The checks of an employee's e-mail address (email-validator's RFC rules)."""
    message = _l("Please enter a valid e-mail address.")
    return [checks.DataRequired(message=message), checks.Email(message=message), checks.Length(max=254, message=message)]


class EmployeeForm(AdminForm):
    """An employee's name, e-mail, role, language and whether they are active."""

    name = StringField(_l("Name"), filters=[strip], validators=_employee_name())
    email = EmailField(_l("E-mail"), filters=[strip], validators=_employee_email())
    role = SelectField(_l("Role"), choices=options((r.value, labels.ROLE[r]) for r in Role), default=Role.MEMBER.value,
                       validate_choice=False, description=_l(
                           "Members work on their tickets; moderators also manage the catalog and assign tickets; "
                           "administrators also manage employees and settings."))
    language = SelectField(_l("Language"), choices=options(LANGUAGES), default="de", validate_choice=False)
    active = BooleanField(_l("Active (may log in and receives offers)"))


def _password_length():
    """At least MIN_PASSWORD_LENGTH characters, in the services' words."""
    return checks.Length(min=MIN_PASSWORD_LENGTH, message=_l(
        "The password needs at least %(n)d characters.", n=MIN_PASSWORD_LENGTH))


class NewEmployeeForm(EmployeeForm):
    """A new employee, invited to choose a password or given one now."""

    mode = RadioField(_l("Password"), default="invite", validate_choice=False, choices=options([
        ("invite", _l("Invite: the employee chooses a password through a link")),
        ("password", _l("Set a password now")),
    ]))
    password = PasswordField(_l("Password (when set now, at least 8 characters)"),
                             render_kw={"autocomplete": "new-password"})

    def validate_password(self, field):
        """A password is needed (of the least length) unless the employee is invited."""
        if self.mode.data == "invite":
            return
        if not field.data:
            raise checks.ValidationError(_l("Please enter a password or choose to send an invitation."))
        _password_length()(self, field)


class PasswordForm(AdminForm):
    """A new password an administrator sets for an employee."""

    password = PasswordField(_l("New password (at least 8 characters)"), validators=[_password_length()],
                             render_kw={"autocomplete": "new-password"})


class InvitationForm(AdminForm):
    """The password an invited employee chooses, twice."""

    password = PasswordField(_l("Password (at least 8 characters)"), validators=[_password_length()],
                             render_kw={"autocomplete": "new-password", "required": True})
    confirmation = PasswordField(_l("Repeat the password"), render_kw={"autocomplete": "new-password", "required": True},
                                 validators=[checks.EqualTo("password", message=_l("The two passwords differ."))])


class TeamForm(AdminForm):
    """A team's name and members."""

    name = StringField(_l("Name"), filters=[strip], validators=_employee_name())
    member_ids = CheckboxListField(_l("Members"), coerce=row_id, validate_choice=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        deactivated = _l("deactivated")
        employees = db.session.scalars(sa.select(Employee).order_by(Employee.active.desc(), Employee.name))
        self.member_ids.choices = options((e.id, e.name + ("" if e.active else f" ({deactivated})")) for e in employees)


class OrganisationForm(AdminForm):
    """The organisation's name, logo, public and video addresses, auto-close days and upload limit."""

    name = StringField(_l("Name"), filters=[strip], validators=[
        checks.DataRequired(message=_l("Please enter the organisation's name (at most 120 characters).")),
        checks.Length(max=120, message=_l("Please enter the organisation's name (at most 120 characters).")),
        one_line("name"),
    ])
    logo = FileField(_l("Logo"), description=_l("PNG, JPEG, GIF or WebP, at most 2 MB."),
                     render_kw={"accept": "image/png,image/jpeg,image/gif,image/webp"})
    remove_logo = BooleanField(_l("Remove the logo"))
    public_base_url = URLField(_l("Public address"), filters=[strip], validators=[
        web_address_check, at_most(500, "public_base_url")], description=_l(
        "Where code users reach Ticketwerk, for example https://service.example.com. QR codes and e-mail links use it."))
    video_base_url = URLField(_l("Video service address"), filters=[strip], validators=[
        web_address_check, at_most(500, "video_base_url")],
        description=_l("For example https://meet.example.com/ (Jitsi). Leave empty to hide video sessions."))
    autoclose_days = WholeNumberField(_l("Days until an unrated finished ticket is closed"), validators=[
        checks.NumberRange(1, 365, message=_l("Please enter a number of days from 1 to 365."))])
    upload_limit_mb = WholeNumberField(_l("Largest upload in MB"), description=_l("Empty means the server default."),
                                       validators=[checks.Optional(), checks.NumberRange(
                                           1, 100, message=_l("Please enter a size from 1 to 100 MB."))])
    two_factor_roles = CheckboxListField(
        _l("Two-factor sign-in required for"), validate_choice=False,
        choices=options((r.name, labels.ROLE[r]) for r in Role),
        description=_l("Employees of these roles set up an authenticator app at their next sign-in before they can "
                       "use anything else."))
    time_zone = SelectField(
        _l("Time zone"), default=time_zones.DEFAULT_ZONE, validate_choice=False,
        choices=options((name, name) for name in time_zones.zone_names()),
        description=_l("Times on every page, in e-mails and exports are shown in this zone. Employees may choose "
                       "their own in their account."))


class TwoFactorSetupForm(AdminForm):
    """The first code of the authenticator app, proving it holds the new secret."""

    code = StringField(_l("Code from the app"), filters=[strip], validators=[
        required("code"), at_most(12, "code")],
        render_kw={"inputmode": "numeric", "autocomplete": "one-time-code"})


class TwoFactorOffForm(AdminForm):
    """Turning two-factor sign-in off: the password or a current code confirms it."""

    password = PasswordField(_l("Password"), render_kw={"autocomplete": "current-password"})
    code = StringField(_l("or a current code from the app"), filters=[strip], validators=[
        at_most(12, "code")], render_kw={"inputmode": "numeric", "autocomplete": "one-time-code"})

    def validate_password(self, field):
        """One of the two is needed."""
        if not field.data and not self.code.data:
            raise checks.ValidationError(_l("Please confirm with your password or a current code."))


class OwnAccountForm(AdminForm):
    """The employee's own name, interface language and time zone."""

    name = StringField(_l("Name"), filters=[strip], validators=_employee_name(), render_kw={"autocomplete": "name"})
    language = SelectField(_l("Language"), choices=options(LANGUAGES), default="de", validate_choice=False)
    time_zone = SelectField(_l("Time zone"), default="", validate_choice=False,
                            description=_l("Every time is shown to you in this zone."))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        same = _("As the organisation (%(zone)s)", zone=time_zones.organisation_zone())
        self.time_zone.choices = options([("", same), *((name, name) for name in time_zones.zone_names())])


class OwnPasswordForm(AdminForm):
    """The employee's current password, then the new one twice."""

    current = PasswordField(_l("Current password"), render_kw={"autocomplete": "current-password"},
                            validators=[required("current")])
    password = PasswordField(_l("New password (at least 8 characters)"), validators=[_password_length()],
                             render_kw={"autocomplete": "new-password"})
    confirmation = PasswordField(_l("Repeat the new password"), render_kw={"autocomplete": "new-password"},
                                 validators=[checks.EqualTo("password", message=_l("The two passwords differ."))])


class WebhookEndpointForm(AdminForm):
    """A webhook endpoint: its address, what it is for, the events it receives, on/off and the internal mark."""

    url = URLField(_l("Address"), filters=[strip], validators=[required("url"), at_most(1000, "url")],
                   description=_l("The https address that receives the events, for example "
                                  "https://erp.example.com/hooks/ticketwerk."))
    description = StringField(_l("Description"), filters=[strip],
                              validators=[at_most(255, "description"), one_line("description")])
    events = CheckboxListField(_l("Events"), validate_choice=False,
                               choices=options((kind.value, labels.WEBHOOK_EVENT[kind]) for kind in SUBSCRIBABLE_WEBHOOK_EVENTS))
    active = BooleanField(_l("Active"), default=True, description=_l("Switched off, the endpoint receives nothing."))
    internal = BooleanField(_l("Internal endpoint"), description=_l(
        "Also receives internal tickets and internal updates. Mark only endpoints inside your company."))


class DeviceImportForm(AdminForm):
    """The spreadsheet of devices to import (CSV or XLSX)."""

    file = FileField(
        _l("File (CSV or XLSX)"),
        description=_l("UTF-8 CSV separated by “;” or “,”, or an Excel workbook (XLSX); the first row names the columns."),
        render_kw={"accept": ".csv,.xlsx,text/csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
    )


class ConfirmImportForm(AdminForm):
    """Confirming a previewed import (the page's CSRF token is its only field)."""


API_TOKEN_EXPIRIES = (("30", _l("30 days")), ("90", _l("90 days")), ("365", _l("1 year")), ("", _l("Never")))


class ApiTokenForm(AdminForm):
    """A new personal API token: its name, scopes and expiry (the service checks them; see services/api_tokens)."""

    name = StringField(_l("Name"), filters=[strip], description=_l("What uses it, e.g. “ERP import”."))
    scopes = CheckboxListField(_l("Scopes"), default=["read"], validate_choice=False)
    expires_in_days = SelectField(_l("Expires after"), choices=options(API_TOKEN_EXPIRIES), default="90",
                                  validate_choice=False)

    def __init__(self, *args, admin=False, **kwargs):
        super().__init__(*args, id_prefix="t-", **kwargs)
        scopes = [("read", _l("read: see what you see")), ("write", _l("write: act as you"))]
        if admin:
            scopes.append(("admin", _l("admin: administration")))
        self.scopes.choices = options(scopes)
