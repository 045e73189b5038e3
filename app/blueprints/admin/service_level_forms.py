"""Forms of the business calendar and the service levels (administrators)."""
import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms import validators as checks

from app import business_hours, labels, time_zones
from app.blueprints.admin.forms import (
    AdminForm,
    CheckboxListField,
    WholeNumberField,
    options,
    row_id,
    strip,
)
from app.enums import Priority
from app.extensions import db
from app.models import Flow, Template
from app.services.service_levels import MAX_TARGET_MINUTES

WEEKDAYS = [(0, _l("Monday")), (1, _l("Tuesday")), (2, _l("Wednesday")), (3, _l("Thursday")), (4, _l("Friday")),
            (5, _l("Saturday")), (6, _l("Sunday"))]
STATE_NAMES = {
    "": _l("No public holidays"), "DE": _l("Nationwide holidays only"), "BW": "Baden-Württemberg", "BY": "Bayern",
    "BE": "Berlin", "BB": "Brandenburg", "HB": "Bremen", "HH": "Hamburg", "HE": "Hessen",
    "MV": "Mecklenburg-Vorpommern", "NI": "Niedersachsen", "NW": "Nordrhein-Westfalen", "RP": "Rheinland-Pfalz",
    "SL": "Saarland", "SN": "Sachsen", "ST": "Sachsen-Anhalt", "SH": "Schleswig-Holstein", "TH": "Thüringen",
}
TARGET_HELP = _l("In working minutes, e.g. 240 for four working hours. Empty: no target.")


def _minutes_field(label):
    """An optional whole number of working minutes."""
    return WholeNumberField(label, description=TARGET_HELP, validators=[checks.Optional(), checks.NumberRange(
        1, MAX_TARGET_MINUTES, message=_l("Please enter whole working minutes, or leave it empty."))])


class CalendarForm(AdminForm):
    """The organisation's zone, working days and hours, the state whose holidays count, extra closed days."""

    time_zone = SelectField(_l("Time zone"), default=time_zones.DEFAULT_ZONE, validate_choice=False,
                            choices=options((name, name) for name in time_zones.zone_names()))
    weekdays = CheckboxListField(_l("Working days"), coerce=str, validate_choice=False,
                                 choices=options((str(number), name) for number, name in WEEKDAYS))
    start = StringField(_l("Work starts at"), filters=[strip], default="08:00", render_kw={"type": "time"})
    end = StringField(_l("Work ends at"), filters=[strip], default="17:00", render_kw={"type": "time"})
    holiday_state = SelectField(_l("Public holidays of"), default="", validate_choice=False,
                                choices=options((code, STATE_NAMES[code]) for code in business_hours.STATES))
    closed_days = TextAreaField(_l("Further closed days"), filters=[strip], render_kw={"rows": 4},
                                description=_l("One date per line, e.g. 24.12.2026."))


class ServiceLevelForm(AdminForm):
    """A level's scope (template, optionally flow and priority), its three targets and the pausing rule."""

    template_id = SelectField(_l("Template"), coerce=row_id, validate_choice=False)
    flow_id = SelectField(_l("Creation flow"), coerce=row_id, validate_choice=False,
                          description=_l("Optional: only tickets of this flow (it must belong to the template)."))
    priority = SelectField(_l("Priority"), validate_choice=False, default="",
                           choices=options([("", _l("Any priority")),
                                            *((p.value, labels.PRIORITY[p]) for p in Priority)]))
    first_response_minutes = _minutes_field(_l("First response within"))
    assignment_minutes = _minutes_field(_l("Assignment within"))
    resolution_minutes = _minutes_field(_l("Resolution within"))
    pause_while_waiting = BooleanField(_l("Stop the clock while waiting for the code user"), default=True,
                                       description=_l("After an employee writes in the thread of a public ticket, "
                                                      "until the code user answers there."))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        templates = db.session.scalars(sa.select(Template).order_by(Template.name)).all()
        self.template_id.choices = options((t.id, t.name) for t in templates)
        flows = db.session.execute(
            sa.select(Flow.id, Flow.title, Template.name).join(Template, Flow.template_id == Template.id)
            .order_by(Template.name, Flow.title)
        ).all()
        self.flow_id.choices = options([("", _l("Every flow")), *((f.id, f"{f.name} – {f.title}") for f in flows)])

    def level_data(self):
        """The fields as save_level takes them."""
        return {
            "template_id": self.template_id.data, "flow_id": self.flow_id.data, "priority": self.priority.data or None,
            "first_response_minutes": self.first_response_minutes.data,
            "assignment_minutes": self.assignment_minutes.data, "resolution_minutes": self.resolution_minutes.data,
            "pause_while_waiting": self.pause_while_waiting.data,
        }
