"""Deadline arithmetic (pure).

The resolution clock counts from the moment a report reaches its agency. For now a
deadline is a number of calendar hours; working hours and holidays come with the agency
workflow.
"""

from __future__ import annotations

from datetime import datetime, timedelta


def deadline_after(start: datetime, hours: int) -> datetime:
    return start + timedelta(hours=hours)
