"""reports.deadlines: deadlines count office hours on working days, never holidays (pure)."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reports.deadlines import (
    WorkCalendar,
    add_working_time,
    deadline_after,
    extend_for_pause,
    parse_working_hours,
    working_time_between,
)

HUE = ZoneInfo("Asia/Ho_Chi_Minh")
# The city's zone (settings.TIME_ZONE, from cities/hue/city.toml): calendars default to it.
HUE_TIME = HUE
HYPOTHESIS = settings(max_examples=200, deadline=None)
HOLIDAYS = frozenset(
    {
        date(2026, 1, 1),
        *(date(2026, 2, day) for day in range(16, 21)),
        date(2026, 4, 27),
        date(2026, 4, 30),
        date(2026, 5, 1),
        date(2026, 8, 31),
        date(2026, 9, 1),
        date(2026, 9, 2),
    }
)
OFFICE = WorkCalendar(holidays=HOLIDAYS)


def hue(*args: int) -> datetime:
    return datetime(*args, tzinfo=HUE)  # type: ignore[misc]


@st.composite
def calendars(draw: st.DrawFn) -> WorkCalendar:
    """Any office hours (one to three periods a day), working days and holidays."""
    marks = sorted(draw(st.sets(st.integers(0, 24 * 60 - 1), min_size=2, max_size=6)))
    marks = marks[: len(marks) // 2 * 2]
    periods = tuple(
        (time(*divmod(start, 60)), time(*divmod(end, 60)))
        for start, end in zip(marks[::2], marks[1::2], strict=True)
    )
    return WorkCalendar(
        periods=periods,
        holidays=draw(st.frozensets(st.dates(date(2026, 1, 1), date(2026, 12, 31)), max_size=40)),
        working_days=draw(st.frozensets(st.integers(0, 6), min_size=1)),
    )


any_calendar = st.one_of(st.just(OFFICE), calendars())
moments = st.datetimes(
    min_value=datetime(2025, 12, 1),  # noqa: DTZ001  # bounds are naive; results carry a zone
    max_value=datetime(2027, 1, 31),  # noqa: DTZ001
    timezones=st.sampled_from([HUE, UTC]),
)
hours = st.integers(0, 300)
durations = st.integers(0, 200 * 60).map(lambda minutes: timedelta(minutes=minutes))


def within_office_hours(calendar: WorkCalendar, moment: datetime, *, after_opening: bool) -> bool:
    local = moment.astimezone(calendar.zone)
    if not calendar.is_working_day(local.date()):
        return False
    clock = local.time()
    if after_opening:
        return any(start < clock <= end for start, end in calendar.periods)
    return any(start <= clock <= end for start, end in calendar.periods)


# Properties


@HYPOTHESIS
@given(any_calendar, moments, hours)
def test_a_deadline_always_falls_within_office_hours_on_a_working_day(calendar, start, h):
    due = deadline_after(start, h, calendar)

    assert within_office_hours(calendar, due, after_opening=h > 0)


@HYPOTHESIS
@given(any_calendar, moments, durations, durations)
def test_adding_a_then_b_is_adding_a_plus_b(calendar, start, a, b):
    then = add_working_time(add_working_time(start, a, calendar), b, calendar)

    assert then == add_working_time(start, a + b, calendar)


@HYPOTHESIS
@given(any_calendar, moments, hours, hours)
def test_adding_a_then_b_hours_is_adding_a_plus_b_hours(calendar, start, a, b):
    then = deadline_after(deadline_after(start, a, calendar), b, calendar)

    assert then == deadline_after(start, a + b, calendar)


@HYPOTHESIS
@given(any_calendar, moments, hours)
def test_the_working_time_from_the_start_to_the_deadline_is_the_hours(calendar, start, h):
    due = deadline_after(start, h, calendar)

    assert working_time_between(start, due, calendar) == timedelta(hours=h)


@HYPOTHESIS
@given(any_calendar, moments, moments, hours)
def test_a_later_start_never_gives_an_earlier_deadline(calendar, one, other, h):
    earlier, later = sorted([one, other])

    assert deadline_after(earlier, h, calendar) <= deadline_after(later, h, calendar)


@HYPOTHESIS
@given(any_calendar, moments, hours, hours)
def test_more_hours_never_give_an_earlier_deadline(calendar, start, one, other):
    fewer, more = sorted([one, other])

    assert deadline_after(start, fewer, calendar) <= deadline_after(start, more, calendar)


@HYPOTHESIS
@given(any_calendar, moments, moments, moments)
def test_working_time_adds_up_over_consecutive_stretches(calendar, one, two, three):
    a, b, c = sorted([one, two, three])

    assert working_time_between(a, c, calendar) == (
        working_time_between(a, b, calendar) + working_time_between(b, c, calendar)
    )


@HYPOTHESIS
@given(any_calendar, moments, hours, moments, moments)
def test_a_pause_moves_the_deadline_by_the_working_time_it_lasted(calendar, start, h, one, other):
    due = deadline_after(start, h, calendar)
    paused_from, paused_to = sorted([one, other])

    moved = extend_for_pause(due, paused_from, paused_to, calendar)

    assert working_time_between(due, moved, calendar) == working_time_between(
        paused_from, paused_to, calendar
    )
    assert moved >= due


@HYPOTHESIS
@given(any_calendar, moments, hours)
def test_the_time_zone_of_the_start_does_not_change_the_deadline(calendar, start, h):
    assert deadline_after(start.astimezone(UTC), h, calendar) == deadline_after(
        start.astimezone(HUE), h, calendar
    )


# Examples with the default office hours: 07:30-11:30 and 13:30-17:00, Monday to Friday


def test_the_default_office_hours_are_those_of_vietnamese_public_offices():
    calendar = WorkCalendar()

    assert calendar.periods == ((time(7, 30), time(11, 30)), (time(13, 30), time(17, 0)))
    assert calendar.working_days == frozenset({0, 1, 2, 3, 4})
    assert calendar.zone == HUE


def test_a_working_day_has_seven_and_a_half_hours_and_a_week_five_of_them():
    monday = hue(2026, 3, 9)

    assert working_time_between(monday, monday + timedelta(days=1), OFFICE) == timedelta(hours=7.5)
    assert working_time_between(monday, monday + timedelta(days=7), OFFICE) == timedelta(hours=37.5)


def test_eight_hours_from_friday_16_00_end_on_monday_at_16_30():
    # Friday 16:00-17:00 is one hour; Monday 07:30-11:30 four more; 13:30-16:30 the last three.
    assert deadline_after(hue(2026, 3, 13, 16, 0), 8, OFFICE) == hue(2026, 3, 16, 16, 30)


def test_the_same_friday_afternoon_written_in_utc_gives_the_same_deadline():
    friday_in_utc = datetime(2026, 3, 13, 9, 0, tzinfo=UTC)

    assert deadline_after(friday_in_utc, 8, OFFICE) == hue(2026, 3, 16, 16, 30)


def test_a_deadline_is_given_in_hue_time():
    assert deadline_after(datetime(2026, 3, 13, 9, 0, tzinfo=UTC), 8, OFFICE).tzinfo == HUE_TIME


def test_a_friday_afternoon_before_the_reunification_day_holidays_ends_the_next_monday():
    # Thursday 30 April and Friday 1 May are holidays, then the weekend.
    assert deadline_after(hue(2026, 4, 29, 16, 0), 8, OFFICE) == hue(2026, 5, 4, 16, 30)


def test_the_day_before_tet_runs_on_after_the_nine_days_off():
    # Friday 13 February, then 14 to 22 February off (16 to 20 are holidays).
    assert deadline_after(hue(2026, 2, 13, 16, 0), 8, OFFICE) == hue(2026, 2, 23, 16, 30)


def test_the_national_day_holidays_are_skipped():
    # Friday 28 August, then the weekend and 31 August to 2 September.
    assert deadline_after(hue(2026, 8, 28, 16, 0), 8, OFFICE) == hue(2026, 9, 3, 16, 30)


def test_the_same_dates_without_holidays_end_earlier():
    assert deadline_after(hue(2026, 4, 29, 16, 0), 8, WorkCalendar()) == hue(2026, 4, 30, 16, 30)


@pytest.mark.parametrize(
    ("start", "due"),
    [
        pytest.param(hue(2026, 3, 10, 6, 0), hue(2026, 3, 10, 8, 30), id="before-opening"),
        pytest.param(hue(2026, 3, 10, 12, 0), hue(2026, 3, 10, 14, 30), id="at-lunch"),
        pytest.param(hue(2026, 3, 10, 18, 0), hue(2026, 3, 11, 8, 30), id="in-the-evening"),
        pytest.param(hue(2026, 3, 14, 10, 0), hue(2026, 3, 16, 8, 30), id="on-saturday"),
        pytest.param(hue(2026, 4, 30, 9, 0), hue(2026, 5, 4, 8, 30), id="on-a-holiday"),
    ],
)
def test_a_report_outside_office_hours_counts_from_the_next_opening(start, due):
    assert deadline_after(start, 1, OFFICE) == due


def test_hours_that_end_at_closing_time_are_due_at_closing_time():
    assert deadline_after(hue(2026, 3, 10, 7, 30), 4, OFFICE) == hue(2026, 3, 10, 11, 30)
    assert deadline_after(hue(2026, 3, 10, 13, 30), 3.5, OFFICE) == hue(2026, 3, 10, 17, 0)


def test_the_morning_runs_on_into_the_afternoon_after_lunch():
    assert deadline_after(hue(2026, 3, 10, 11, 0), 1, OFFICE) == hue(2026, 3, 10, 14, 0)


def test_no_working_time_passes_over_a_weekend_or_a_night():
    assert working_time_between(hue(2026, 3, 13, 17, 0), hue(2026, 3, 16, 7, 30), OFFICE) == (
        timedelta(0)
    )


def test_no_working_time_passes_backwards():
    assert working_time_between(hue(2026, 3, 11, 9, 0), hue(2026, 3, 10, 9, 0), OFFICE) == (
        timedelta(0)
    )


def test_a_pause_during_office_hours_moves_the_deadline_by_as_much():
    due = hue(2026, 3, 12, 10, 0)

    moved = extend_for_pause(due, hue(2026, 3, 10, 15, 0), hue(2026, 3, 11, 9, 0), OFFICE)

    # 15:00-17:00 on Tuesday and 07:30-09:00 on Wednesday: three and a half hours.
    assert moved == hue(2026, 3, 12, 15, 30)


def test_a_pause_outside_office_hours_leaves_the_deadline_as_it_was():
    due = hue(2026, 3, 16, 12, 0)  # at lunch: a deadline set under other rules stays put

    assert extend_for_pause(due, hue(2026, 3, 13, 17, 30), hue(2026, 3, 16, 7, 0), OFFICE) == due


def test_negative_hours_are_refused():
    with pytest.raises(ValueError, match="negative"):
        deadline_after(hue(2026, 3, 10, 9, 0), -1, OFFICE)


def test_a_naive_datetime_is_refused():
    with pytest.raises(ValueError, match="aware"):
        deadline_after(datetime(2026, 3, 10, 9, 0), 1, OFFICE)  # noqa: DTZ001


@pytest.mark.parametrize("year", [1976, 1990, 2000, 2010, 2020, 2026, 2027, 2030, 2040, 2050])
def test_hue_time_is_utc_plus_7_all_year_without_daylight_saving(year):
    # The arithmetic runs on wall-clock time, which is exact only in a zone without DST.
    offsets = {
        datetime(year, month, day, 12, tzinfo=HUE_TIME).utcoffset()
        for month in range(1, 13)
        for day in (1, 15)
    }

    assert offsets == {timedelta(hours=7)}
    assert datetime(year, 7, 1, tzinfo=HUE_TIME).dst() in (None, timedelta(0))


# WORKING_HOURS


def test_office_hours_are_read_from_periods_separated_by_commas():
    assert parse_working_hours("08:00-12:00, 13:00-17:30") == (
        (time(8, 0), time(12, 0)),
        (time(13, 0), time(17, 30)),
    )


def test_a_single_period_is_enough():
    assert parse_working_hours("08:00-16:00") == ((time(8, 0), time(16, 0)),)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "7:30-11:30",
        "07:30-11:30;13:30-17:00",
        "07:30 - 11:30",
        "07:30-11:30,",
        "07.30-11.30",
        "24:00-25:00",
        "07:60-11:30",
        "11:30-07:30",
        "07:30-07:30",
        "13:30-17:00,07:30-11:30",
        "07:30-12:00,11:30-17:00",
        "morning",
    ],
)
def test_anything_but_hh_mm_periods_in_order_is_refused(text):
    with pytest.raises(ValueError):  # noqa: PT011  # each case has its own message
        parse_working_hours(text)


def test_bad_working_hours_stop_start_up_with_a_clear_message():
    root = Path(__file__).resolve().parents[2]
    environment = {**os.environ, "WORKING_HOURS": "7:30-11:30", "DEBUG": "true"}

    result = subprocess.run(
        [sys.executable, "-c", "import hues.settings"],
        cwd=root,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode != 0
    assert "ImproperlyConfigured: WORKING_HOURS='7:30-11:30'" in result.stderr
    assert "HH:MM-HH:MM" in result.stderr
