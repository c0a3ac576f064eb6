"""Office hours as a city writes them ("07:30-11:30,13:30-17:00"): a strict parser whose
errors say how to fix the input. Settings and the deadline arithmetic (reports.deadlines)
both read office hours through it."""

from __future__ import annotations

import re
from datetime import time

DEFAULT_WORKING_HOURS = "07:30-11:30,13:30-17:00"

Period = tuple[time, time]

_PERIOD = re.compile(r"(?P<start>\d\d:\d\d)-(?P<end>\d\d:\d\d)")


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
