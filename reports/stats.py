"""Reads for statistics: the figures of the public `stats` endpoint and of the operations
centre's dashboard, aggregated in the database.

One definition of every figure, so the public numbers and the dashboard agree:

- received: reports filed in the period;
- resolved: reports whose (last) resolution falls in the period and that are still resolved
  or closed (a reopened report counts again when it is resolved again);
- on time: resolved reports that had a deadline and were resolved by it (the deadline already
  moves for the time the agency waited for the citizen);
- resolution time: hours from filing to resolution, for the resolved reports;
- satisfaction: the citizens' ratings (1-5) of the resolved reports;
- open and overdue: now, whatever the period.

The period is a range of days in Hue's time, both ends included.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.cache import cache
from django.db.backends.signals import connection_created
from django.db.models import (
    Aggregate,
    Avg,
    Count,
    F,
    FloatField,
    Func,
    Q,
    QuerySet,
    Sum,
    Value,
)
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from reports.maps import Ring, area_rings
from reports.models import (
    OPEN_STATUSES,
    Agency,
    Area,
    Category,
    Report,
    ReportStatus,
    localized,
)
from reports.selectors import ROUTING_VERSION_KEY, cache_version, overdue_condition

RESOLVED_STATUSES = (ReportStatus.RESOLVED, ReportStatus.CLOSED)


# --- Database functions: epoch seconds and a median, on PostgreSQL and SQLite ---------------


class EpochSeconds(Func):
    """Seconds since 1970 of a timestamp, as a float."""

    output_field = FloatField()
    template = "EXTRACT(EPOCH FROM %(expressions)s)"

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        # Django keeps UTC timestamps as ISO text in SQLite; julianday() reads them.
        return super().as_sql(
            compiler,
            connection,
            template="((julianday(%(expressions)s) - 2440587.5) * 86400.0)",
            **extra,
        )


class Median(Aggregate):
    """The median of a numeric expression (PostgreSQL's percentile_cont; on SQLite an
    aggregate registered on each connection)."""

    function = "PERCENTILE_CONT"
    name = "Median"
    output_field = FloatField()
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        # A copy with SQLite's spelling: Aggregate.as_sql takes the template from the
        # instance when a filter is given.
        median = self.copy()
        median.function = "HUES_MEDIAN"
        median.template = "%(function)s(%(expressions)s)"
        return super(Median, median).as_sql(compiler, connection, **extra)


class _SQLiteMedian:
    def __init__(self) -> None:
        self.values: list[float] = []

    def step(self, value: float | None) -> None:
        if value is not None:
            self.values.append(value)

    def finalize(self) -> float | None:
        return statistics.median(self.values) if self.values else None


def _register_sqlite_functions(sender: Any, connection: Any, **kwargs: Any) -> None:
    if connection.vendor == "sqlite":
        connection.connection.create_aggregate("HUES_MEDIAN", 1, _SQLiteMedian)


connection_created.connect(_register_sqlite_functions, dispatch_uid="reports.stats.median")


def _resolution_hours() -> Any:
    return (EpochSeconds(F("resolved_at")) - EpochSeconds(F("created_at"))) / Value(3600.0)


# --- The period and the filters ---------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """Days in Hue's time, both ends included."""

    first: date
    last: date

    @classmethod
    def last_days(cls, days: int, *, today: date | None = None) -> Period:
        end = today or timezone.localdate()
        return cls(first=end - timedelta(days=days - 1), last=end)

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first, time.min, tzinfo=ZoneInfo(settings.TIME_ZONE))

    @property
    def end(self) -> datetime:
        """The first moment after the period."""
        return datetime.combine(
            self.last + timedelta(days=1), time.min, tzinfo=ZoneInfo(settings.TIME_ZONE)
        )

    @property
    def days(self) -> list[date]:
        return [self.first + timedelta(days=n) for n in range((self.last - self.first).days + 1)]


# The span of days the statistics accept, and the default.
MAX_PERIOD_DAYS = 3660
DEFAULT_PERIOD_DAYS = 30
EARLIEST_DAY = date(2000, 1, 1)
LATEST_DAY = date(2100, 12, 31)


class InvalidPeriod(ValueError):
    """A period the statistics do not count; the message says why, for the user."""

    def __init__(self, message: Any, code: str = "invalid") -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def period_between(first: date | None, last: date | None) -> Period:
    """The period from `first` to `last`; by default the last DEFAULT_PERIOD_DAYS days up
    to `last`, and `last` is today by default."""
    for day in (first, last):
        if day is not None and not EARLIEST_DAY <= day <= LATEST_DAY:
            raise InvalidPeriod(
                _("Choose a day between %(first)s and %(last)s.")
                % {"first": EARLIEST_DAY.isoformat(), "last": LATEST_DAY.isoformat()},
                code="out_of_range",
            )
    last = last or timezone.localdate()
    first = first or Period.last_days(DEFAULT_PERIOD_DAYS, today=last).first
    if first > last:
        raise InvalidPeriod(_("The first day comes after the last."))
    if (last - first).days >= MAX_PERIOD_DAYS:
        raise InvalidPeriod(_("A period spans at most %(days)d days.") % {"days": MAX_PERIOD_DAYS})
    return Period(first=first, last=last)


@dataclass(frozen=True)
class StatsFilters:
    period: Period
    category_id: int | None = None
    agency_id: int | None = None
    area_id: int | None = None

    def apply(self, reports: QuerySet[Report]) -> QuerySet[Report]:
        if self.category_id is not None:
            reports = reports.filter(category_id=self.category_id)
        if self.agency_id is not None:
            reports = reports.filter(agency_id=self.agency_id)
        if self.area_id is not None:
            reports = reports.filter(area_id=self.area_id)
        return reports

    def cache_key(self) -> str:
        return (
            f"{self.period.first.isoformat()}:{self.period.last.isoformat()}:"
            f"{self.category_id}:{self.agency_id}:{self.area_id}"
        )


# --- Reference names, held in memory ----------------------------------------------------------


@dataclass(frozen=True)
class Named:
    id: int
    code: str
    name_vi: str
    name_en: str

    @property
    def name(self) -> str:
        return localized(self.name_vi, self.name_en)


@dataclass(frozen=True)
class AreaShape(Named):
    population: int | None
    rings: tuple[Ring, ...]


@dataclass(frozen=True)
class Reference:
    """Names of every category, agency and area, and the areas' outlines for the map:
    loaded once per process and again only when reference data changes, so statistics
    queries group by id and never join for names."""

    version: str
    categories: dict[int, Named]
    agencies: dict[int, Named]
    areas: dict[int, AreaShape]

    def by_code(self, kind: str) -> dict[str, Named]:
        items: Mapping[int, Named] = getattr(self, kind)
        return {item.code: item for item in items.values()}


_reference: Reference | None = None


def stats_reference() -> Reference:
    global _reference
    version = cache_version(ROUTING_VERSION_KEY)
    if _reference is not None and _reference.version == version:
        return _reference
    categories = {
        pk: Named(pk, code, vi, en)
        for pk, code, vi, en in Category.objects.order_by("sort_order", "code").values_list(
            "id", "code", "name_vi", "name_en"
        )
    }
    agencies = {
        pk: Named(pk, code, short or name, en)
        for pk, code, name, short, en in Agency.objects.order_by("name").values_list(
            "id", "code", "name", "short_name", "name_en"
        )
    }
    areas = {
        pk: AreaShape(pk, code, name, en, population, area_rings(boundary))
        for pk, code, name, en, population, boundary in Area.objects.order_by("name").values_list(
            "id", "code", "name", "name_en", "population", "boundary"
        )
    }
    _reference = Reference(version=version, categories=categories, agencies=agencies, areas=areas)
    return _reference


# --- The figures --------------------------------------------------------------------------------


@dataclass
class Figures:
    """The figures of one group (the city, an agency, a category or an area)."""

    received: int = 0
    resolved: int = 0
    on_time: int = 0
    with_deadline: int = 0
    open: int = 0
    overdue: int = 0
    ratings: int = 0
    rating_sum: int = 0
    average_resolution_hours: float | None = None
    median_resolution_hours: float | None = None

    @property
    def on_time_rate(self) -> float | None:
        return round(self.on_time / self.with_deadline, 4) if self.with_deadline else None

    @property
    def satisfaction(self) -> float | None:
        return round(self.rating_sum / self.ratings, 2) if self.ratings else None

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Figures:
        def hours(value: float | None) -> float | None:
            return None if value is None else round(value, 1)

        return cls(
            received=row["received"],
            resolved=row["resolved"],
            on_time=row["on_time"],
            with_deadline=row["with_deadline"],
            open=row["open"],
            overdue=row["overdue"],
            ratings=row["ratings"],
            rating_sum=row["rating_sum"] or 0,
            average_resolution_hours=hours(row["average_hours"]),
            median_resolution_hours=hours(row.get("median_hours")),
        )


@dataclass
class Group:
    item: Named
    figures: Figures


@dataclass
class Statistics:
    filters: StatsFilters
    city: Figures
    agencies: list[Group] = field(default_factory=list)
    categories: list[Group] = field(default_factory=list)
    areas: list[Group] = field(default_factory=list)


def _aggregates(period: Period, now: datetime, *, median: bool = True) -> dict[str, Any]:
    received = Q(created_at__gte=period.start, created_at__lt=period.end)
    resolved = Q(
        status__in=RESOLVED_STATUSES, resolved_at__gte=period.start, resolved_at__lt=period.end
    )
    with_deadline = resolved & Q(due_at__isnull=False)
    rated = resolved & Q(rating__isnull=False)
    return {
        "received": Count("id", filter=received),
        "resolved": Count("id", filter=resolved),
        "with_deadline": Count("id", filter=with_deadline),
        "on_time": Count("id", filter=with_deadline & Q(resolved_at__lte=F("due_at"))),
        "open": Count("id", filter=Q(status__in=OPEN_STATUSES)),
        "overdue": Count("id", filter=overdue_condition(now)),
        "ratings": Count("id", filter=rated),
        "rating_sum": Sum("rating", filter=rated),
        "average_hours": Avg(_resolution_hours(), filter=resolved),
        # An ordered-set aggregate: it sorts each group's rows and keeps PostgreSQL from
        # aggregating in parallel (about 60% of the query's time on a million reports).
        **({"median_hours": Median(_resolution_hours(), filter=resolved)} if median else {}),
    }


def _relevant(reports: QuerySet[Report], filters: StatsFilters) -> QuerySet[Report]:
    """Only the rows some figure counts: filed or resolved in the period, or open now."""
    period = filters.period
    return (
        filters.apply(reports)
        .filter(
            Q(created_at__gte=period.start, created_at__lt=period.end)
            | Q(resolved_at__gte=period.start, resolved_at__lt=period.end)
            | Q(status__in=OPEN_STATUSES)
        )
        .order_by()
    )


def figures_total(reports: QuerySet[Report], filters: StatsFilters) -> Figures:
    """The figures of all `reports` (after the filters), in one query."""
    now = timezone.now()
    row = _relevant(reports, filters).aggregate(**_aggregates(filters.period, now))
    return Figures.from_row(row)


def figures_by(
    reports: QuerySet[Report], filters: StatsFilters, *, group: str, median: bool = True
) -> list[Group]:
    """The figures per agency, category or area (`group` is "agency", "category" or
    "area"), in one query; groups with nothing to count are left out, reports without an
    agency (or area) too."""
    reference = stats_reference()
    groups_of: dict[str, Mapping[int, Named]] = {
        "agency": reference.agencies,
        "category": reference.categories,
        "area": reference.areas,
    }
    names = groups_of[group]
    now = timezone.now()
    rows = (
        _relevant(reports, filters)
        .filter(**{f"{group}__isnull": False})
        .values(f"{group}_id")
        .annotate(**_aggregates(filters.period, now, median=median))
    )
    groups = [
        Group(item=names[row[f"{group}_id"]], figures=Figures.from_row(row))
        for row in rows
        if row[f"{group}_id"] in names
    ]
    groups.sort(key=lambda g: (-g.figures.received, g.item.code))
    return groups


def report_statistics(reports: QuerySet[Report], filters: StatsFilters) -> Statistics:
    """The public figures: the whole, and per agency, category and area (four queries)."""
    return Statistics(
        filters=filters,
        city=figures_total(reports, filters),
        agencies=figures_by(reports, filters, group="agency"),
        categories=figures_by(reports, filters, group="category"),
        areas=figures_by(reports, filters, group="area"),
    )


# --- The dashboard's other reads ------------------------------------------------------------------


@dataclass(frozen=True)
class DailyCounts:
    day: date
    received: int
    resolved: int


def daily_counts(reports: QuerySet[Report], filters: StatsFilters) -> list[DailyCounts]:
    """Reports received and resolved on each day of the period, in one query."""
    zone = ZoneInfo(settings.TIME_ZONE)
    period = filters.period
    base = filters.apply(reports).order_by()
    received = (
        base.filter(created_at__gte=period.start, created_at__lt=period.end)
        .annotate(day=TruncDate("created_at", tzinfo=zone), kind=Value(0))
        .values("day", "kind")
        .annotate(n=Count("id"))
        .values_list("day", "kind", "n")
    )
    resolved = (
        base.filter(
            status__in=RESOLVED_STATUSES,
            resolved_at__gte=period.start,
            resolved_at__lt=period.end,
        )
        .annotate(day=TruncDate("resolved_at", tzinfo=zone), kind=Value(1))
        .values("day", "kind")
        .annotate(n=Count("id"))
        .values_list("day", "kind", "n")
    )
    counts: dict[tuple[date, int], int] = {}
    for day, kind, n in received.union(resolved, all=True):
        if isinstance(day, str):  # SQLite returns the union's dates as text
            day = date.fromisoformat(day)
        counts[(day, kind)] = n
    return [
        DailyCounts(day=day, received=counts.get((day, 0), 0), resolved=counts.get((day, 1), 0))
        for day in period.days
    ]


@dataclass(frozen=True)
class OpenCount:
    item: Named
    by_status: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.by_status.values())


def open_by_category(reports: QuerySet[Report], filters: StatsFilters) -> list[OpenCount]:
    """Open reports now, per category and status, in one query; the largest first."""
    reference = stats_reference()
    rows = (
        filters.apply(reports)
        .filter(status__in=OPEN_STATUSES)
        .order_by()
        .values("category_id", "status")
        .annotate(n=Count("id"))
    )
    per_category: dict[int, dict[str, int]] = {}
    for row in rows:
        per_category.setdefault(row["category_id"], {})[row["status"]] = row["n"]
    counts = [
        OpenCount(item=reference.categories[pk], by_status=by_status)
        for pk, by_status in per_category.items()
        if pk in reference.categories
    ]
    counts.sort(key=lambda c: (-c.total, c.item.code))
    return counts


def open_by_status(counts: Iterable[OpenCount]) -> dict[str, int]:
    """The open reports per status, summed from the per-category counts (no query)."""
    totals = {status: 0 for status in ReportStatus.values if status in OPEN_STATUSES}
    for count in counts:
        for status, n in count.by_status.items():
            totals[status] = totals.get(status, 0) + n
    return totals


@dataclass(frozen=True)
class OverdueReport:
    pk: int
    reference: str
    due_at: datetime
    category: Named | None
    agency: Named | None
    area: Named | None


def reports_overdue(
    reports: QuerySet[Report], filters: StatsFilters, *, limit: int = 15
) -> list[OverdueReport]:
    """The overdue reports, the longest overdue first (names from the reference, no joins)."""
    reference = stats_reference()
    rows = (
        filters.apply(reports)
        .filter(overdue_condition(timezone.now()))
        .order_by("due_at", "id")
        .values_list("id", "reference", "due_at", "category_id", "agency_id", "area_id")[:limit]
    )
    return [
        OverdueReport(
            pk=pk,
            reference=code,
            due_at=due_at,
            category=reference.categories.get(category_id),
            agency=reference.agencies.get(agency_id),
            area=reference.areas.get(area_id) if area_id is not None else None,
        )
        for pk, code, due_at, category_id, agency_id, area_id in rows
        if due_at is not None
    ]


@dataclass
class DashboardFigures:
    total: Figures
    agencies: list[Group]
    areas: list[Group]
    daily: list[DailyCounts]
    open_counts: list[OpenCount]
    overdue: list[OverdueReport]


def dashboard_figures(
    reports: QuerySet[Report], filters: StatsFilters, *, scope: str, overdue_limit: int = 15
) -> DashboardFigures:
    """Everything the dashboard shows, in six queries, kept in the cache for
    DASHBOARD_CACHE_SECONDS per viewer scope (`scope`: the city or an agency) and filters:
    wall screens and several managers looking at once cost one count."""
    key = f"reports:dashboard:{scope}:{filters.cache_key()}:{overdue_limit}"
    figures = cache.get(key)
    if figures is None:
        figures = DashboardFigures(
            total=figures_total(reports, filters),
            # The dashboard's tables show average resolution times, not medians.
            agencies=figures_by(reports, filters, group="agency", median=False),
            areas=figures_by(reports, filters, group="area", median=False),
            daily=daily_counts(reports, filters),
            open_counts=open_by_category(reports, filters),
            overdue=reports_overdue(reports, filters, limit=overdue_limit),
        )
        cache.set(key, figures, timeout=settings.DASHBOARD_CACHE_SECONDS)
    return figures


def reports_for_dashboard(user: Any) -> tuple[QuerySet[Report], int | None] | None:
    """What a viewer's dashboard counts: the whole city for dispatchers and administrators,
    their own agency for a manager (with its id, which no filter can widen); None for anyone
    else."""
    from accounts.models import Role

    if user is None or not user.is_active or not user.is_staff:
        return None
    if user.is_citywide:
        return Report.objects.all(), None
    if user.role == Role.MANAGER and user.agency_id is not None:
        return Report.objects.filter(agency_id=user.agency_id), user.agency_id
    return None
