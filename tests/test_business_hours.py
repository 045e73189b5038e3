"""Working-time arithmetic (app/business_hours.py): weekends, holidays by state, closed days, daylight saving."""
from datetime import UTC, date, datetime, timedelta

import pytest

from app.business_hours import (
    NoWorkingTime,
    WorkCalendar,
    format_minutes,
    parse_day,
    public_holidays,
)


def utc(*parts):
    return datetime(*parts, tzinfo=UTC)


OFFICE = WorkCalendar(zone="Europe/Berlin", start_minute=8 * 60, end_minute=17 * 60)


def test_minutes_inside_one_day():
    # Tuesday 1 Dec 2026, 10:00 in Berlin (UTC+1).
    assert OFFICE.add(utc(2026, 12, 1, 9, 0), 90) == utc(2026, 12, 1, 10, 30)
    assert OFFICE.between(utc(2026, 12, 1, 9, 0), utc(2026, 12, 1, 10, 30)) == 90


def test_the_weekend_does_not_count():
    friday_four_pm = utc(2026, 11, 27, 15, 0)  # 16:00 in Berlin
    due = OFFICE.add(friday_four_pm, 120)  # 60 minutes on Friday, 60 on Monday
    assert due == utc(2026, 11, 30, 8, 0)  # Monday 09:00 in Berlin
    assert OFFICE.between(friday_four_pm, due) == 120


def test_a_start_outside_the_hours_waits_for_the_next_window():
    saturday = utc(2026, 11, 28, 12, 0)
    assert OFFICE.add(saturday, 0) == utc(2026, 11, 30, 7, 0)  # Monday 08:00 in Berlin
    assert OFFICE.add(utc(2026, 12, 1, 18, 0), 30) == utc(2026, 12, 2, 7, 30)
    assert OFFICE.between(saturday, utc(2026, 11, 29, 20, 0)) == 0


def test_fronleichnam_closes_bavaria_but_not_berlin():
    wednesday_four_pm = utc(2026, 6, 3, 14, 0)  # 16:00 in Berlin (summer time, UTC+2)
    bavaria = WorkCalendar(state="BY")
    berlin = WorkCalendar(state="BE")
    assert date(2026, 6, 4) in public_holidays("BY", 2026)
    assert date(2026, 6, 4) not in public_holidays("BE", 2026)
    assert berlin.add(wednesday_four_pm, 120) == utc(2026, 6, 4, 7, 0)  # Thursday 09:00
    assert bavaria.add(wednesday_four_pm, 120) == utc(2026, 6, 5, 7, 0)  # Friday 09:00
    assert bavaria.between(wednesday_four_pm, utc(2026, 6, 5, 7, 0)) == 120


def test_unity_day_is_closed_nationwide_and_none_means_no_holidays():
    # 3 October 2025 was a Friday.
    thursday_four_pm = utc(2025, 10, 2, 14, 0)
    assert WorkCalendar(state="DE").add(thursday_four_pm, 120) == utc(2025, 10, 6, 7, 0)  # Monday 09:00
    assert WorkCalendar(state="").add(thursday_four_pm, 120) == utc(2025, 10, 3, 7, 0)  # Friday 09:00


def test_extra_closed_days():
    christmas_eve = frozenset({date(2026, 12, 24)})
    wednesday_four_pm = utc(2026, 12, 23, 15, 0)
    # No state holidays: the 24th is closed, Friday the 25th is worked.
    assert WorkCalendar(closed_days=christmas_eve).add(wednesday_four_pm, 120) == utc(2026, 12, 25, 8, 0)
    # With the nationwide holidays the 25th is closed too: Monday 28th 09:00.
    assert WorkCalendar(state="DE", closed_days=christmas_eve).add(wednesday_four_pm, 120) == utc(2026, 12, 28, 8, 0)
    assert WorkCalendar(state="DE").add(wednesday_four_pm, 120) == utc(2026, 12, 24, 8, 0)


def test_spring_forward_over_a_weekend():
    friday_four_pm = utc(2026, 3, 27, 15, 0)  # 16:00 CET; clocks go forward on Sunday 29 March
    due = OFFICE.add(friday_four_pm, 120)
    assert due == utc(2026, 3, 30, 7, 0)  # Monday 09:00 CEST is 07:00 UTC
    assert OFFICE.between(friday_four_pm, due) == 120


def test_fall_back_over_a_weekend():
    friday_four_pm = utc(2026, 10, 23, 14, 0)  # 16:00 CEST; clocks go back on Sunday 25 October
    due = OFFICE.add(friday_four_pm, 120)
    assert due == utc(2026, 10, 26, 8, 0)  # Monday 09:00 CET is 08:00 UTC
    assert OFFICE.between(friday_four_pm, due) == 120


def test_a_round_the_clock_calendar_counts_the_short_dst_day():
    always = WorkCalendar(weekdays=frozenset(range(7)), start_minute=0, end_minute=1440)
    start = utc(2026, 3, 28, 23, 0)  # Sunday 00:00 CET
    end = utc(2026, 3, 29, 22, 0)  # Monday 00:00 CEST
    assert always.between(start, end) == 23 * 60
    assert always.add(start, 23 * 60) == end


def test_add_and_between_agree_on_many_instants():
    calendar = WorkCalendar(state="BY", closed_days=frozenset({date(2026, 12, 31)}))
    start = utc(2026, 3, 20, 6, 17)
    for step in range(0, 60 * 24 * 40, 997):
        instant = start + timedelta(minutes=step)
        for minutes in (0, 1, 59, 540, 541, 3000):
            due = calendar.add(instant, minutes)
            assert calendar.between(instant, due) == pytest.approx(minutes)


def test_between_is_negative_backwards_and_no_working_day_raises():
    assert OFFICE.between(utc(2026, 12, 1, 10, 0), utc(2026, 12, 1, 9, 0)) == -60
    with pytest.raises(NoWorkingTime):
        WorkCalendar(weekdays=frozenset()).add(utc(2026, 12, 1, 10, 0), 1)
    with pytest.raises(ValueError):
        WorkCalendar(start_minute=600, end_minute=600)


def test_parse_day_and_format_minutes():
    assert parse_day("24.12.2026") == parse_day("2026-12-24") == date(2026, 12, 24)
    assert parse_day("morgen") is None
    assert format_minutes(125) == "2:05" and format_minutes(-3) == "0:00"
