"""One WTForms form per step type, built from the draft's answer row: question as label, help text, options.

The forms bind, keep and render what was typed; the answer is judged by `services.drafts.answer_step`, whose
refusal lands on the field it names (`show_refusal`), so the messages are the service's own.
"""
from flask import request
from flask_babel import format_decimal
from flask_babel import lazy_gettext as _l
from flask_wtf.file import MultipleFileField
from markupsafe import Markup
from wtforms import (
    EmailField,
    RadioField,
    SelectMultipleField,
    StringField,
    TelField,
    TextAreaField,
)
from wtforms.widgets import CheckboxInput, DateInput, FileInput, html_params

from app.enums import StepType
from app.formatting import question_of
from app.forms import HtmlForm
from app.services import uploads


class MultipleFileInput(FileInput):
    """A multi-file input written type, name and `multiple` first, as the wizard's markup always read."""

    def __call__(self, field, **kwargs):
        kwargs.setdefault("id", field.id)
        if "required" not in kwargs and field.flags.required:
            kwargs["required"] = True
        kwargs.pop("multiple", None)
        return Markup('<input type="file" name="{}" multiple {}>').format(field.name, html_params(**kwargs))


class StepForm(HtmlForm):
    """The answer of one step; `value` carries it unless a subclass says otherwise."""

    question_field = "value"

    def __init__(self, answer):
        # A posted form is read from the request alone: a field left empty must not fall back to the stored answer.
        submitted = request.method == "POST"
        super().__init__(data=None if submitted else self.stored(answer))
        self.answer = answer
        question = self[self.question_field] if self.question_field else None
        if question is not None:
            question.label.text = question_of(answer)
            question.description = answer.help_text or ""
            question.flags.required = bool(answer.required)
        self.configure(answer)

    def configure(self, answer):
        """Adjust the fields to the step (choices, for instance)."""

    def stored(self, answer):
        """The form's data from the stored answer, to show a step again."""
        return {"value": answer.value}

    def answer_data(self):
        """Field name → submitted value, as `drafts.answer_step` takes it."""
        return {name: field.data for name, field in self._fields.items() if name != "csrf_token"}

    def uploads(self):
        """New files posted with the step (media steps only)."""
        return []

    def show_refusal(self, error):
        """Put a refused answer's message on the field it names (the question's field otherwise)."""
        name = error.field if isinstance(error.field, str) and error.field in self._fields else self.question_field
        self[name].errors = [error.message]


class ShortTextForm(StepForm):
    """One line of text."""

    value = StringField(id="step-value", render_kw={"maxlength": 255, "autocomplete": "off"})


class LongTextForm(StepForm):
    """Free text over several lines."""

    value = TextAreaField(id="step-value", render_kw={"rows": 6})


class NumberForm(StepForm):
    """A number as typed: a decimal comma is fine, so no type=number."""

    value = StringField(id="step-value", render_kw={"inputmode": "decimal"})

    def stored(self, answer):
        """The stored number in the reader's decimal mark and without thousands marks (1234,5 in German), so that
        sending the step again reads the same number (answers.plain_number)."""
        value = answer.value
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return {"value": format_decimal(value, format="0.##########")}
        return {"value": value}


class DateForm(StepForm):
    """A calendar date, kept as the typed text so a wrong one is shown again."""

    value = StringField(id="step-value", widget=DateInput())


class ChoiceForm(StepForm):
    """One of the step's options."""

    value = RadioField(id="step-value", choices=[], validate_choice=False)

    def configure(self, answer):
        """The step's options as the choices."""
        self.value.choices = [(option, option) for option in answer.options]

    def stored(self, answer):
        """The stored option."""
        return {"value": None if answer.value is None else str(answer.value)}


class YesNoForm(ChoiceForm):
    """yes or no."""

    def configure(self, answer):
        """The two answers."""
        self.value.choices = [("yes", _l("Yes")), ("no", _l("No"))]

    def stored(self, answer):
        """True/False as yes/no."""
        return {"value": None if answer.value is None else ("yes" if answer.value else "no")}


class PriorityForm(ChoiceForm):
    """low, normal or high."""

    def configure(self, answer):
        """The three priorities."""
        self.value.choices = [("low", _l("Low")), ("normal", _l("Normal")), ("high", _l("High"))]


class VisibilityForm(ChoiceForm):
    """internal or public (staff only)."""

    def configure(self, answer):
        """Who sees the ticket."""
        self.value.choices = [
            ("internal", _l("Internal – only employees see it")),
            ("public", _l("Public – the code user sees it")),
        ]


class MultiChoiceForm(StepForm):
    """Any of the step's options."""

    value = SelectMultipleField(id="step-value", choices=[], validate_choice=False, option_widget=CheckboxInput())

    def configure(self, answer):
        """The step's options as the choices."""
        self.value.choices = [(option, option) for option in answer.options]

    def stored(self, answer):
        """The stored options."""
        return {"value": list(answer.value or [])}


class MediaForm(StepForm):
    """New photos, videos or files, and the stored ones ticked for removal."""

    question_field = "files"
    files = MultipleFileField(
        id="step-files",
        widget=MultipleFileInput(),
        render_kw={"class": "dropzone", "capture": "environment", "data-preview": "#step-preview"}
    )
    remove = SelectMultipleField(choices=[], validate_choice=False, option_widget=CheckboxInput())

    def configure(self, answer):
        """The file types uploads take; the stored files as what may be removed."""
        self.files.render_kw = {**self.files.render_kw, "accept": uploads.ACCEPT_ATTRIBUTE}
        self.remove.choices = [(str(attachment.id), attachment.original_name) for attachment in answer.attachments]

    def stored(self, answer):
        """Nothing ticked."""
        return {}

    def answer_data(self):
        """The ids ticked for removal; the files come through `uploads`."""
        return {"remove": list(self.remove.data or [])}

    def uploads(self):
        """The files chosen in the browser."""
        return list(self.files.data or [])


class RequesterForm(StepForm):
    """Name plus optional e-mail and phone; the question is the group's legend."""

    question_field = None
    name = StringField(_l("Name"), id="step-name", render_kw={"autocomplete": "name"})
    email = EmailField(_l("E-mail (optional)"), id="step-email", render_kw={"autocomplete": "email"})
    phone = TelField(_l("Phone (optional)"), id="step-phone", render_kw={"autocomplete": "tel"})

    def stored(self, answer):
        """The stored contact details."""
        return dict(answer.value or {})

    def show_refusal(self, error):
        """The message goes on the named part (the name when the error names none)."""
        self[error.field if error.field in ("name", "email", "phone") else "name"].errors = [error.message]


FORMS = {
    StepType.TEXT_SHORT: ShortTextForm,
    StepType.TEXT_LONG: LongTextForm,
    StepType.NUMBER: NumberForm,
    StepType.DATE: DateForm,
    StepType.SINGLE_CHOICE: ChoiceForm,
    StepType.YES_NO: YesNoForm,
    StepType.PRIORITY: PriorityForm,
    StepType.VISIBILITY: VisibilityForm,
    StepType.MULTI_CHOICE: MultiChoiceForm,
    StepType.MEDIA: MediaForm,
    StepType.REQUESTER: RequesterForm,
}


def step_form(answer):
    """The form of `answer`'s step: bound to the posted data on POST, else filled from the stored answer."""
    return FORMS[answer.type](answer)
