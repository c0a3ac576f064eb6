"""Deadline arithmetic (pure).

The resolution clock counts from the moment a report reaches its agency. For now a
deadline is a number of calendar hours; working hours and holidays come with the agency
workflow.
"""

from __future__ import annotations

from datetime import datetime, timedelta


def deadline_after(start: datetime, hours: int) -> datetime:
    return start + timedelta(hours=hours)


def extend_for_pause(due_at: datetime, paused_from: datetime, paused_to: datetime) -> datetime:
    """The deadline moved by the time the clock was stopped."""
    return due_at + max(paused_to - paused_from, timedelta(0))
