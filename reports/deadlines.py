"""Deadline arithmetic in working hours (pure: no ORM, no request).

A resolution deadline counts office hours only: Monday to Friday, in the public offices'
hours (07:30 to 11:30 and 13:30 to 17:00 by default, `WORKING_HOURS` in the settings), in Hue's
time, never on a public holiday. A report that arrives outside office hours starts its clock
at the next opening. While the agency waits for the citizen's answer the clock stops, and the
deadline moves by the working time that passed meanwhile.

The arithmetic runs on local wall-clock time: Asia/Ho_Chi_Minh has kept UTC+7 all year since
1975, so no day is longer or shorter than 24 hours.

Callers that pass no calendar get the site's current one (office hours from the settings,
holidays from the database) from `reports.selectors.work_calendar`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

HUE_TIME = ZoneInfo("Asia/Ho_Chi_Minh")
DEFAULT_WORKING_HOURS = "07:30-11:30,13:30-17:00"

Period = tuple[time, time]

_PERIOD = re.compile(r"(?P<start>\d\d:\d\d)-(?P<end>\d\d:\d\d)")
_MONDAY_TO_FRIDAY = frozenset(range(5))


def _clock(text: str) -> time:
    hours, minutes = int(text[:2]), int(text[3:])
    if hours > 23 or minutes > 59:
        raise ValueError(f"{text} is not a time of day (00:00 to 23:59).")
    return time(hours, minutes)


def parse_working_hours(text: str) -> tuple[Period, ...]:
    """Office hours written as "07:30-11:30,13:30-17:00": one or more HH:MM-HH:MM periods in
    the order of the day, each ending after it starts, none overlapping the next.

    Anything else raises ValueError saying what is wrong.
    """
    periods: list[Period] = []
    for item in text.split(","):
        match = _PERIOD.fullmatch(item.strip())
        if match is None:
            raise ValueError(
                f"{item.strip()!r} is not a period of office hours: write HH:MM-HH:MM, "
                f"several separated by commas, e.g. {DEFAULT_WORKING_HOURS}."
            )
        start, end = _clock(match["start"]), _clock(match["end"])
        if end <= start:
            raise ValueError(f"{item.strip()} ends before it starts.")
        if periods and start < periods[-1][1]:
            raise ValueError(
                f"{item.strip()} overlaps or comes before the period preceding it: "
                "list the periods in the order of the day."
            )
        periods.append((start, end))
    return tuple(periods)


@dataclass(frozen=True)
class WorkCalendar:
    """When the clock of a deadline runs: office hours on working days that are not
    holidays, in the calendar's time zone (which must not observe daylight saving time)."""

    periods: tuple[Period, ...] = field(
        default_factory=lambda: parse_working_hours(DEFAULT_WORKING_HOURS)
    )
    holidays: frozenset[date] = frozenset()
    working_days: frozenset[int] = _MONDAY_TO_FRIDAY  # date.weekday(): Monday is 0
    zone: ZoneInfo = HUE_TIME

    def __post_init__(self) -> None:
        if not self.periods:
            raise ValueError("A work calendar needs office hours.")
        if not self.working_days:
            raise ValueError("A work calendar needs working days.")

    def is_working_day(self, day: date) -> bool:
        return day.weekday() in self.working_days and day not in self.holidays

    def is_working_time(self, moment: datetime) -> bool:
        """Whether the moment falls within office hours, opening and closing times
        included."""
        local = self._local(moment)
        return self.is_working_day(local.date()) and any(
            start <= local.time() <= end for start, end in self.periods
        )

    def _local(self, moment: datetime) -> datetime:
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValueError("Deadline arithmetic needs aware datetimes.")
        return moment.astimezone(self.zone)

    def _open_from(self, moment: datetime) -> Iterator[tuple[datetime, datetime]]:
        """The stretches of office hours from `moment` on, in order; the first is cut to
        begin at `moment` and may be empty when `moment` is a closing time."""
        local = self._local(moment)
        day = local.date()
        while True:
            if self.is_working_day(day):
                for start, end in self.periods:
                    opens = datetime.combine(day, start, tzinfo=self.zone)
                    closes = datetime.combine(day, end, tzinfo=self.zone)
                    if closes >= local:
                        yield max(opens, local), closes
            day += timedelta(days=1)


def _calendar_or_current(calendar: WorkCalendar | None) -> WorkCalendar:
    if calendar is not None:
        return calendar
    # The only way out of this module, and only when the caller names no calendar.
    from reports.selectors import work_calendar

    return work_calendar()


def add_working_time(
    start: datetime, duration: timedelta, calendar: WorkCalendar | None = None
) -> datetime:
    """The moment when `duration` of working time has passed since `start`.

    The clock starts at `start`, or at the next opening when `start` is outside office
    hours. The result is always within office hours (it may be a closing time: a deadline
    due "by 11:30"), in the calendar's time zone.
    """
    if duration < timedelta(0):
        raise ValueError("Working time to add cannot be negative.")
    remaining = duration
    for opens, closes in _calendar_or_current(calendar)._open_from(start):
        if closes - opens >= remaining:
            return opens + remaining
        remaining -= closes - opens
    raise AssertionError("unreachable: a work calendar always opens again")


def deadline_after(start: datetime, hours: float, calendar: WorkCalendar | None = None) -> datetime:
    """The deadline `hours` working hours after `start` (see `add_working_time`)."""
    return add_working_time(start, timedelta(hours=hours), calendar)


def working_time_between(
    earlier: datetime, later: datetime, calendar: WorkCalendar | None = None
) -> timedelta:
    """The working time between two moments; none when `later` is not after `earlier`."""
    total = timedelta(0)
    if later <= earlier:
        return total
    for opens, closes in _calendar_or_current(calendar)._open_from(earlier):
        if opens >= later:
            break
        total += min(closes, later) - opens
    return total


def extend_for_pause(
    due_at: datetime,
    paused_from: datetime,
    paused_to: datetime,
    calendar: WorkCalendar | None = None,
) -> datetime:
    """The deadline moved by the working time that passed while the clock was stopped; left
    exactly as it was when none did (a pause over a night or a weekend)."""
    calendar = _calendar_or_current(calendar)
    paused = working_time_between(paused_from, paused_to, calendar)
    if not paused:
        return due_at
    return add_working_time(due_at, paused, calendar)
