"""Calendar arithmetic on working time: pure, no Flask, no database.

A `WorkCalendar` is the organisation's business calendar: an IANA zone, the working weekdays (0 = Monday),
one daily window [start, end) in local minutes after midnight, the public holidays of a German state (from the
`holidays` library) and extra closed days. Instants go in and come out as aware UTC datetimes; the working
windows are built in local time with zoneinfo and turned into UTC, so a day with a daylight-saving change counts
its real minutes (a window 00:00–24:00 on the last Sunday of March holds 23 hours).
"""
import functools
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

# "" means no public holidays; "DE" the nationwide ones only; the others add a state's own (e.g. Fronleichnam in BY).
STATES = ("", "DE", "BW", "BY", "BE", "BB", "HB", "HH", "HE", "MV", "NI", "NW", "RP", "SL", "SN", "ST", "SH", "TH")
MAX_DAYS = 3 * 366  # how far the arithmetic walks before it gives up (a calendar with hardly any working day)


class NoWorkingTime(ValueError):
    """The calendar has no working window within MAX_DAYS (no weekday ticked, or every day closed)."""


@functools.lru_cache(maxsize=256)
def public_holidays(state, year):
    """The public holidays of `state` ("" none, "DE" nationwide, "BY" …) in `year`: frozenset of dates."""
    if not state:
        return frozenset()
    return frozenset(_german_holidays(state, year).keys())


def holiday_names(state, year):
    """{date: German name} of `state`'s public holidays in `year` (for the calendar page)."""
    if not state:
        return {}
    return dict(sorted(_german_holidays(state, year).items()))


def _german_holidays(state, year):
    """The `holidays` library's German calendar of `state` ("DE" or a state code) for `year`, names in German.

    The library (about 8 MiB of modules) is imported here, on first use: only organisations with a holiday state
    ever need it."""
    import holidays

    subdiv = None if state == "DE" else state
    return holidays.country_holidays("DE", subdiv=subdiv, years=year, language="de")


@dataclass(frozen=True)
class WorkCalendar:
    """When work happens: `zone` (IANA name), `weekdays` (0 = Monday … 6 = Sunday), the daily window from
    `start_minute` to `end_minute` (local minutes after midnight, 0 ≤ start < end ≤ 1440), the public holidays of
    `state` (see STATES) and `closed_days` (extra dates without work)."""

    zone: str = "Europe/Berlin"
    weekdays: frozenset = frozenset({0, 1, 2, 3, 4})
    start_minute: int = 8 * 60
    end_minute: int = 17 * 60
    state: str = ""
    closed_days: frozenset = field(default_factory=frozenset)

    def __post_init__(self):
        if not 0 <= self.start_minute < self.end_minute <= 1440:
            raise ValueError("the working window must start before it ends, within one day")

    @property
    def tz(self):
        """The zoneinfo of `zone`."""
        return ZoneInfo(self.zone)

    def is_working_day(self, day):
        """Whether local date `day` has a working window."""
        return (
            day.weekday() in self.weekdays
            and day not in self.closed_days
            and day not in public_holidays(self.state, day.year)
        )

    def window(self, day):
        """(start, end) of local date `day`'s working window as aware UTC datetimes, or None on a closed day."""
        if not self.is_working_day(day):
            return None
        return self._local(day, self.start_minute), self._local(day, self.end_minute)

    def _local(self, day, minute):
        """Local `day` at `minute` after midnight (1440: the next midnight), as UTC."""
        if minute >= 1440:
            day, minute = day + timedelta(days=1), 0
        local = datetime.combine(day, time(minute // 60, minute % 60), tzinfo=self.tz)
        return local.astimezone(UTC)

    def _days_from(self, instant, step=1):
        """Local dates from the one holding `instant` on (or back with step=-1), at most MAX_DAYS of them."""
        day = _aware(instant).astimezone(self.tz).date() - timedelta(days=step)  # the day before may end later
        for _ in range(MAX_DAYS + 2):
            yield day
            day += timedelta(days=step)

    def add(self, instant, minutes):
        """The instant (UTC) at which `minutes` working minutes (int or float, ≥ 0) after `instant` have passed.

        Time outside the windows, on closed days and holidays does not count; 0 minutes from outside a window is
        the start of the next window. Raises NoWorkingTime when no window comes within MAX_DAYS."""
        cursor = _aware(instant)
        remaining = timedelta(minutes=max(0.0, float(minutes)))
        for day in self._days_from(cursor):
            bounds = self.window(day)
            if bounds is None or bounds[1] <= cursor:
                continue
            begin = max(cursor, bounds[0])
            available = bounds[1] - begin
            if remaining <= available:
                return begin + remaining
            remaining -= available
        raise NoWorkingTime("no working time in the calendar")

    def between(self, start, end):
        """Working minutes (float) from `start` to `end`; negative when `end` is before `start`."""
        start, end = _aware(start), _aware(end)
        if end < start:
            return -self.between(end, start)
        total = timedelta(0)
        for day in self._days_from(start):
            bounds = self.window(day)
            if bounds is not None:
                low, high = max(start, bounds[0]), min(end, bounds[1])
                if high > low:
                    total += high - low
            if self._local(day, 0) > end:
                break
        return total.total_seconds() / 60


def _aware(instant):
    """`instant` as an aware datetime (a naive one is taken as UTC)."""
    return instant if instant.tzinfo is not None else instant.replace(tzinfo=UTC)


def parse_day(text):
    """A date from "2026-12-24" or "24.12.2026"; None when it is neither."""
    text = (text or "").strip()
    for pattern in ("%Y-%m-%d", "%d.%m.%Y"):
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    return None


def format_minutes(minutes):
    """'2:05' for 125 working minutes (hours:minutes; rounded down to whole minutes, never negative)."""
    whole = max(0, int(minutes))
    return f"{whole // 60}:{whole % 60:02d}"

