"""The notification settings form: per event, a checkbox per channel and a choice of origin and strategy."""
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, SelectField
from wtforms.fields.choices import SelectChoice

from app.enums import PREFERENCE_EVENTS, Channel, Origin, Strategy
from app.forms import HtmlForm

CHANNELS = (Channel.WEBSOCKET, Channel.PUSH, Channel.EMAIL)
CHANNEL_LABELS = {Channel.WEBSOCKET: _l("Live in the browser"), Channel.PUSH: _l("Web push"), Channel.EMAIL: _l("E-mail")}
ORIGIN_CHOICES = [SelectChoice(Origin.OTHERS.value, _l("Only others")), SelectChoice(Origin.ALL.value, _l("Others and me"))]
STRATEGY_CHOICES = [
    SelectChoice(Strategy.ALL.value, _l("All chosen channels")),
    SelectChoice(Strategy.FIRST_SUCCESS.value, _l("First successful channel")),
]


def _or(default):
    """A filter that reads a missing or empty choice as `default`."""
    return lambda value: value or default


class PreferencesForm(HtmlForm):
    """Fields named `<event>-<channel>`, `<event>-origin` and `<event>-strategy` for every event an employee chooses channels for
    (PREFERENCE_EVENTS: account mails such as a password reset are always sent)."""

    def rows(self):
        """(event, channel fields, origin field, strategy field) per event, in PREFERENCE_EVENTS order."""
        return [
            (
                event,
                [(channel, self[f"{event.value}-{channel.value}"]) for channel in CHANNELS],
                self[f"{event.value}-origin"],
                self[f"{event.value}-strategy"],
            )
            for event in PREFERENCE_EVENTS
        ]

    def invalid_events(self):
        """The events whose row holds an error."""
        return {event for event, channels, origin, strategy in self.rows() if origin.errors or strategy.errors}

    def choices(self):
        """{event: (channels, origin, strategy)} as the service stores them."""
        return {
            event: ({channel for channel, field in channels if field.data}, Origin(origin.data), Strategy(strategy.data))
            for event, channels, origin, strategy in self.rows()
        }


def _add_event_fields(form_class):
    """Give the form its fields per event; their names (with a dash) are what browsers and tests post."""
    for event in PREFERENCE_EVENTS:
        for channel in CHANNELS:
            setattr(form_class, f"{event.value}-{channel.value}", BooleanField(CHANNEL_LABELS[channel]))
        origin = SelectField(_l("Whose actions"), choices=ORIGIN_CHOICES, filters=[_or(Origin.OTHERS.value)])
        strategy = SelectField(_l("Strategy"), choices=STRATEGY_CHOICES, filters=[_or(Strategy.ALL.value)])
        setattr(form_class, f"{event.value}-origin", origin)
        setattr(form_class, f"{event.value}-strategy", strategy)


_add_event_fields(PreferencesForm)


def preferences_data(preferences):
    """Initial form data from {event: Preference}."""
    data = {}
    for event, preference in preferences.items():
        for channel in CHANNELS:
            data[f"{event.value}-{channel.value}"] = channel in preference.channels
        data[f"{event.value}-origin"] = preference.origin.value
        data[f"{event.value}-strategy"] = preference.strategy.value
    return data
