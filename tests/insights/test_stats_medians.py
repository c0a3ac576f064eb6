"""The median resolution hours of the city and of each agency, category, area and channel
are exact: worked out here in Python from the reports themselves, for many groups, reports
without an agency or area among them, with and without filters. On PostgreSQL (CI) they come
from one read of the resolved reports grouped by every grouping (GROUPING SETS); on SQLite
from a UNION ALL: both are held to the same figures."""

from __future__ import annotations

import random
import statistics
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from insights import stats
from reports.models import Agency, Area, Category, Channel, Report, ReportStatus
from tests.factories import ReportFactory

pytestmark = pytest.mark.django_db

HUE = ZoneInfo("Asia/Ho_Chi_Minh")
FIRST, LAST = date(2026, 11, 1), date(2026, 11, 30)


@pytest.fixture
def reports(reference_data: None) -> list[Report]:
    rng = random.Random(11)
    agencies = [*Agency.objects.order_by("id")[:4], None]
    categories = list(Category.objects.order_by("id")[:3])
    areas = [*Area.objects.order_by("id")[:3], None]
    channels = list(Channel.objects.order_by("id")[:2])
    made = []
    for n in range(60):
        created = datetime(2026, 10, 20, 8, tzinfo=HUE) + timedelta(hours=rng.randint(0, 900))
        # Multiples of 12 minutes: a median is then a whole number of tenths of an hour,
        # far from a rounding step of the 0.1 h figures, whatever a database's float
        # arithmetic leaves behind.
        resolved = created + timedelta(minutes=12 * rng.randint(1, 1600))
        status = rng.choice([ReportStatus.RESOLVED, ReportStatus.CLOSED, ReportStatus.IN_PROGRESS])
        made.append(
            ReportFactory(
                reference=f"HUE-2026-{800000 + n:06d}",
                agency=rng.choice(agencies),
                category=rng.choice(categories),
                area=rng.choice(areas),
                channel=rng.choice(channels),
                status=status,
                created_at=created,
                resolved_at=resolved if status != ReportStatus.IN_PROGRESS else None,
            )
        )
    return made


def expected(reports: list[Report], filters: stats.StatsFilters) -> dict[str, dict[int, float]]:
    """The medians, from the reports in Python: resolved (or closed) within the period."""
    start, end = filters.period.start, filters.period.end
    hours: dict[str, dict[int, list[float]]] = {stats.CITY: {}}
    for group in stats.GROUPINGS:
        hours[group] = {}
    for report in reports:
        if report.status not in (ReportStatus.RESOLVED, ReportStatus.CLOSED):
            continue
        assert report.resolved_at is not None
        if not start <= report.resolved_at < end:
            continue
        if any(
            value is not None and getattr(report, f"{name}_id") != value
            for name, value in (
                ("category", filters.category_id),
                ("agency", filters.agency_id),
                ("area", filters.area_id),
            )
        ):
            continue
        taken = (report.resolved_at - report.created_at).total_seconds() / 3600
        hours[stats.CITY].setdefault(0, []).append(taken)
        for group in stats.GROUPINGS:
            key = getattr(report, f"{group}_id")
            if key is not None:
                hours[group].setdefault(key, []).append(taken)
    return {
        kind: {key: round(statistics.median(values), 1) for key, values in found.items()}
        for kind, found in hours.items()
    }


def test_the_medians_of_every_group_are_exact(reports: list[Report]) -> None:
    period = stats.period_between(FIRST, LAST)
    city = reports[0]
    for filters in (
        stats.StatsFilters(period=period),
        stats.StatsFilters(period=period, category_id=city.category_id),
        stats.StatsFilters(period=period, area_id=Area.objects.order_by("id")[0].pk),
        stats.StatsFilters(period=period, agency_id=Agency.objects.order_by("id")[1].pk),
    ):
        with CaptureQueriesContext(connection) as queries:
            found = stats.medians(filters, groups=stats.GROUPINGS)
        assert len(queries) == 1
        if connection.vendor == "postgresql":
            assert "GROUPING SETS" in queries[0]["sql"]
        wanted = expected(reports, filters)
        assert found == wanted
        assert wanted[stats.CITY]  # something to compare
    everything = expected(reports, stats.StatsFilters(period=period))
    assert len(everything["agency"]) >= 3  # many groups; reports without agency left out
    assert len(everything["area"]) >= 3


def test_a_period_with_nothing_resolved_has_no_median(reports: list[Report]) -> None:
    empty = stats.StatsFilters(period=stats.period_between(date(2025, 1, 1), date(2025, 1, 31)))
    found = stats.medians(empty, groups=stats.GROUPINGS)
    assert found == {stats.CITY: {0: None}, **{group: {} for group in stats.GROUPINGS}}
    assert stats.medians(empty) == {stats.CITY: {0: None}}


def test_only_the_groups_asked_for(reports: list[Report]) -> None:
    period = stats.StatsFilters(period=stats.period_between(FIRST, LAST))
    found = stats.medians(period, groups=["category"])
    assert set(found) == {stats.CITY, "category"}
    assert found["category"] == expected(reports, period)["category"]
