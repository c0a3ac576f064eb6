"""The daily figures (insights.models.DailyFigures): the sums of insights.stats per day in the
city's time, category, agency and area, kept so that the statistics of a month add up a few
thousand rows instead of counting a few hundred thousand reports.

A day's rows are always counted again whole, from the reports, never adjusted by
increments, so a refresh can run twice, late or alongside another and still leave the right
figures:

- `refresh` (beat, every minute) counts again each day that a report changed since the last
  refresh touches: the day it was filed, the day it is resolved, and every day it was
  resolved before (a reopened report leaves that day). Every change to a report moves its
  `updated_at` (the lifecycle, the admin and the services all set it), which `refresh`
  reads with an index.
- `rebuild` (beat, every night; and the first refresh, with nothing counted yet) counts
  every day;
  it also catches what leaves no trace in `updated_at` (a report deleted by hand: the admin
  deletes none).

The statistics read these rows for the days before the last refresh's and count the rest
from the reports.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone

from insights.models import DailyFigures, DailyFiguresState
from insights.stats import KEYS, SUMS, resolved_sums
from reports.models import RESOLVED_STATUSES, Event, Report

# Changes committed this long after their `updated_at` was set are still counted: each
# refresh looks back this far before the moment the previous one started.
LOOK_BACK = timedelta(minutes=5)
BATCH_SIZE = 5000


def _zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def _on_days(field: str, days: Iterable[date]) -> Q:
    """`field` falls on one of `days` (in the city's time), as ranges the indexes serve (one per
    run of consecutive days)."""
    zone = _zone()
    condition = Q(pk__in=[])
    runs: list[list[date]] = []
    for day in sorted(set(days)):
        if runs and runs[-1][1] + timedelta(days=1) == day:
            runs[-1][1] = day
        else:
            runs.append([day, day])
    for first, last in runs:
        start = datetime.combine(first, time.min, tzinfo=zone)
        end = datetime.combine(last + timedelta(days=1), time.min, tzinfo=zone)
        condition |= Q(**{f"{field}__gte": start, f"{field}__lt": end})
    return condition


def _counted(days: Iterable[date] | None) -> list[DailyFigures]:
    """The rows of `days` (every day if None), counted from the reports: two grouped
    queries, one over the reports filed on those days, one over those resolved on them."""
    zone = _zone()
    filed: QuerySet[Report] = Report.objects.order_by()
    resolved: QuerySet[Report] = Report.objects.filter(status__in=RESOLVED_STATUSES).order_by()
    if days is not None:
        days = list(days)
        filed = filed.filter(_on_days("created_at", days))
        resolved = resolved.filter(_on_days("resolved_at", days))
    rows: dict[tuple[Any, ...], DailyFigures] = {}

    def row(values: dict[str, Any]) -> DailyFigures:
        day = values["day"]
        if isinstance(day, str):
            day = date.fromisoformat(day)
        key = (day, *(values[k] for k in KEYS))
        if key not in rows:
            rows[key] = DailyFigures(
                day=day,
                category_id=values["category_id"],
                agency_id=values["agency_id"],
                area_id=values["area_id"],
            )
        return rows[key]

    for values in (
        filed.annotate(day=TruncDate("created_at", tzinfo=zone))
        .values("day", *KEYS)
        .annotate(n=Count("*"))
    ):
        row(values).received = values["n"]
    for values in (
        resolved.annotate(day=TruncDate("resolved_at", tzinfo=zone))
        .values("day", *KEYS)
        .annotate(**resolved_sums())
    ):
        figures = row(values)
        for name in SUMS:
            if name != "received":  # counted above, from the filing day
                setattr(figures, name, values[f"s_{name}"] or 0)
    return list(rows.values())


def _replace(days: list[date]) -> list[DailyFigures]:
    counted = _counted(days)
    DailyFigures.objects.filter(day__in=days).delete()
    DailyFigures.objects.bulk_create(counted, batch_size=BATCH_SIZE)
    return counted


def _state() -> DailyFiguresState | None:
    # The row lock makes refreshes and rebuilds take turns.
    return DailyFiguresState.objects.select_for_update().order_by("pk").first()


def _save_state(state: DailyFiguresState | None, counted_until: datetime) -> None:
    if state is None:
        DailyFiguresState.objects.create(counted_until=counted_until)
    else:
        state.counted_until = counted_until
        state.save(update_fields=["counted_until"])


def _months(first: date, last: date) -> Iterator[list[date]]:
    day = first
    while day <= last:
        month: list[date] = []
        while day <= last and (not month or day.month == month[0].month):
            month.append(day)
            day += timedelta(days=1)
        yield month


def rebuild() -> int:
    """Count every day again, a month at a time (in one transaction: readers see the old
    figures until it commits); the number of rows written."""
    started = timezone.now()
    with transaction.atomic():
        state = _state()
        DailyFigures.objects.all().delete()
        written = 0
        first = Report.objects.order_by("created_at").values_list("created_at", flat=True).first()
        if first is not None:
            last = max(timezone.localdate(started), timezone.localdate(first))
            for month in _months(timezone.localdate(first), last):
                written += len(_replace(month))
        _save_state(state, started)
    return written


def days_touched(since: datetime) -> set[date]:
    """The days whose figures the reports changed since `since` count on: the days they
    were filed, are resolved and were resolved before."""
    zone = _zone()
    changed = Report.objects.filter(updated_at__gte=since).order_by()
    days: set[date] = set()
    for field, rows in (
        ("created_at", changed),
        ("resolved_at", changed.filter(resolved_at__isnull=False)),
        (
            "created_at",
            Event.objects.filter(
                kind=Event.Kind.RESOLVED, report__in=changed.values("pk")
            ).order_by(),
        ),
    ):
        for day in (
            rows.annotate(day=TruncDate(field, tzinfo=zone))
            .values_list("day", flat=True)
            .distinct()
        ):
            days.add(date.fromisoformat(day) if isinstance(day, str) else day)
    return days


def refresh() -> int:
    """Count again the days the reports changed since the last refresh touch (everything,
    the first time); the number of days counted."""
    started = timezone.now()
    with transaction.atomic():
        state = _state()
        if state is None:
            rebuild()
            return DailyFigures.objects.values("day").distinct().count()
        days = sorted(days_touched(state.counted_until - LOOK_BACK))
        if days:
            _replace(days)
        _save_state(state, started)
    return len(days)
