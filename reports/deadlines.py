"""Deadline arithmetic in working hours (pure: no ORM, no request).

A resolution deadline counts office hours only: Monday to Friday, in the public offices'
hours (07:30 to 11:30 and 13:30 to 17:00 by default, `WORKING_HOURS` in the settings, from the
city's definition), in the city's time, never on a public holiday. A report that arrives
outside office hours starts its clock at the next opening. While the agency waits for the
citizen's answer the clock stops, and the deadline moves by the working time that passed
meanwhile.

The arithmetic runs on local wall-clock time: the calendar's zone must keep one offset all
year (Vietnam's Asia/Ho_Chi_Minh has kept UTC+7 since 1975), so no day is longer or shorter
than 24 hours.

Callers that pass no calendar get the site's current one (office hours from the settings,
holidays from the database) from `reports.selectors.work_calendar`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings

from hues.workhours import DEFAULT_WORKING_HOURS, Period, parse_working_hours

_MONDAY_TO_FRIDAY = frozenset(range(5))


@dataclass(frozen=True)
class WorkCalendar:
    """When the clock of a deadline runs: office hours on working days that are not
    holidays, in the calendar's time zone (which must not observe daylight saving time)."""

    periods: tuple[Period, ...] = field(
        default_factory=lambda: parse_working_hours(DEFAULT_WORKING_HOURS)
    )
    holidays: frozenset[date] = frozenset()
    working_days: frozenset[int] = _MONDAY_TO_FRIDAY  # date.weekday(): Monday is 0
    zone: ZoneInfo = field(default_factory=lambda: ZoneInfo(settings.TIME_ZONE))

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
