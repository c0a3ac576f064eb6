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

The period is a range of days in the city's time, both ends included.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.signals import connection_created
from django.db.models import (
    Aggregate,
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

from hues.db import replica
from insights.maps import Ring, area_rings
from insights.models import DailyFigures, DailyFiguresState
from reports.models import (
    OPEN_STATUSES,
    RESOLVED_STATUSES,
    Agency,
    Area,
    Category,
    Channel,
    Report,
    ReportStatus,
    localized,
)
from reports.rows import compiled
from reports.selectors import ROUTING_VERSION_KEY, cache_version, overdue_condition

Counted = TypeVar("Counted", Report, DailyFigures)


# --- Database functions: epoch seconds and a median, on PostgreSQL and SQLite ---------------


class EpochSeconds(Func):
    """Seconds since 1970 of a timestamp, as a float."""

    output_field = FloatField()
    # date_part is double precision; EXTRACT is numeric since PostgreSQL 14, slower to add
    # up and to sort.
    template = "DATE_PART('epoch', %(expressions)s)"

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


connection_created.connect(_register_sqlite_functions, dispatch_uid="insights.stats.median")


def _resolution_hours() -> Any:
    return (EpochSeconds(F("resolved_at")) - EpochSeconds(F("created_at"))) / Value(3600.0)


# --- The period and the filters ---------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """Days in the city's time, both ends included."""

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
    # The database every query of one count reads (the reports, the daily figures and how
    # far they are counted), so the figures agree with each other: the primary, or for the
    # public statistics a replica (report_statistics). Not part of the cache key.
    using: str = DEFAULT_DB_ALIAS

    def reports(self) -> QuerySet[Report]:
        """The reports of the filters' category, agency and area, whatever their time."""
        return self.apply(Report.objects.using(self.using).order_by())

    def apply(self, rows: QuerySet[Counted]) -> QuerySet[Counted]:
        """Reports (or daily figures) of the filters' category, agency and area."""
        if self.category_id is not None:
            rows = rows.filter(category_id=self.category_id)
        if self.agency_id is not None:
            rows = rows.filter(agency_id=self.agency_id)
        if self.area_id is not None:
            rows = rows.filter(area_id=self.area_id)
        return rows

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
    channels: dict[int, Named]

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
    channels = {
        pk: Named(pk, code, name, en)
        for pk, code, name, en in Channel.objects.order_by("sort_order", "code").values_list(
            "id", "code", "name", "name_en"
        )
    }
    _reference = Reference(
        version=version,
        categories=categories,
        agencies=agencies,
        areas=areas,
        channels=channels,
    )
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
    hours_sum: float = 0.0
    median_resolution_hours: float | None = None

    @property
    def on_time_rate(self) -> float | None:
        return round(self.on_time / self.with_deadline, 4) if self.with_deadline else None

    @property
    def satisfaction(self) -> float | None:
        return round(self.rating_sum / self.ratings, 2) if self.ratings else None

    @property
    def average_resolution_hours(self) -> float | None:
        return round(self.hours_sum / self.resolved, 1) if self.resolved else None

    def add(self, row: Mapping[str, Any]) -> None:
        """Add the sums of one grouped row (of the period's SUMS, or the open reports')."""
        for name in (*SUMS, "open", "overdue"):
            value = row.get(name)
            if value:
                setattr(self, name, getattr(self, name) + value)


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
    channels: list[Group] = field(default_factory=list)


# Every figure is a sum, so it is counted once per combination of category, agency and area
# (a few thousand at most, whatever the number of reports) and added up here for the city and
# for each group. The days the last refresh had counted come from the daily figures
# (insights.rollup keeps them); the rest is counted from the reports, read from indexes that
# hold every column needed (filed in a range, resolved in a range, open now). A change to an
# earlier day shows once the next refresh has run (every minute).
#
# What is counted is the filters' (StatsFilters.reports): a manager's dashboard sets its
# agency there, the one scope both the daily figures and the reports are read by.
KEYS = ("category_id", "agency_id", "area_id", "channel_id")
GROUPINGS = ("agency", "category", "area", "channel")
# The period's sums, in DailyFigures and in the grouped rows.
SUMS = ("received", "resolved", "with_deadline", "on_time", "ratings", "rating_sum", "hours_sum")


def resolved_sums() -> dict[str, Any]:
    """The aggregates of resolved reports, named s_<figure> (shared with insights.rollup)."""
    return {
        "s_resolved": Count("*"),
        "s_with_deadline": Count("due_at"),
        "s_on_time": Count("due_at", filter=Q(resolved_at__lte=F("due_at"))),
        "s_ratings": Count("rating"),
        "s_rating_sum": Sum("rating"),
        "s_hours_sum": Sum(_resolution_hours()),
    }


def _filed_in(reports: QuerySet[Report], start: datetime, end: datetime) -> QuerySet[Report]:
    """The reports received in a time range: a duplicate merged into another report is the
    same problem, counted once, as the original."""
    return (
        reports.filter(created_at__gte=start, created_at__lt=end)
        .exclude(status=ReportStatus.MERGED)
        .order_by()
    )


def _resolved_in(reports: QuerySet[Report], start: datetime, end: datetime) -> QuerySet[Report]:
    return reports.filter(
        status__in=RESOLVED_STATUSES, resolved_at__gte=start, resolved_at__lt=end
    ).order_by()


def _daily_figures(filters: StatsFilters, past: Period) -> QuerySet[DailyFigures]:
    days = DailyFigures.objects.using(filters.using).filter(day__gte=past.first, day__lte=past.last)
    return filters.apply(days.order_by())


def counted_until(using: str = DEFAULT_DB_ALIAS) -> datetime | None:
    """The moment up to which the daily figures are counted (None: never)."""
    state = DailyFiguresState.objects.using(using).order_by("pk").first()
    return state.counted_until if state is not None else None


Split = tuple[Period | None, Period | None]


def split_period(period: Period, *, using: str = DEFAULT_DB_ALIAS) -> Split:
    """The days of `period` the daily figures have counted (those before the day of the
    last refresh, today while the beat runs), and the days from then on, counted from the
    reports. Without a refresh (no beat, as in the demo), everything is counted from the
    reports: slower, never wrong. `using`: the database the figures are read from."""
    until = counted_until(using)
    first_live = timezone.localdate(until) if until is not None else period.first
    past = Period(period.first, min(period.last, first_live - timedelta(days=1)))
    live = Period(max(period.first, first_live), period.last)
    return (
        past if past.first <= past.last else None,
        live if live.first <= live.last else None,
    )


def _live_rows(filters: StatsFilters, live: Period) -> list[Any]:
    """The sums of the reports filed or resolved in `live`, per combination, in one query:
    (category, agency, area, received, resolved, ..., hours)."""
    base = filters.reports()
    zero = {f"s_{name}": Value(0) for name in SUMS if name != "received"}
    zero["s_hours_sum"] = Value(0.0)
    filed = (
        _filed_in(base, live.start, live.end)
        .values(*KEYS)
        .annotate(s_received=Count("*"), **zero)
        .values_list(*KEYS, *(f"s_{name}" for name in SUMS))
    )
    resolved = (
        _resolved_in(base, live.start, live.end)
        .values(*KEYS)
        .annotate(s_received=Value(0), **resolved_sums())
        .values_list(*KEYS, *(f"s_{name}" for name in SUMS))
    )
    return list(filed.union(resolved, all=True))


def _past_rows(filters: StatsFilters, past: Period) -> list[Any]:
    return list(
        _daily_figures(filters, past)
        .values(*KEYS)
        .annotate(**{f"s_{name}": Sum(name) for name in SUMS})
        .values_list(*KEYS, *(f"s_{name}" for name in SUMS))
    )


def _sum_rows(filters: StatsFilters, split: Split) -> list[dict[str, Any]]:
    """The sums per category, agency and area of the period: the daily figures for the days
    they have counted, the reports for the rest (two queries)."""
    past, live = split
    rows = []
    if past is not None:
        rows += _past_rows(filters, past)
    if live is not None:
        rows += _live_rows(filters, live)
    names = (*KEYS, *SUMS)
    return [dict(zip(names, row, strict=True)) for row in rows]


def _open_rows(filters: StatsFilters) -> list[dict[str, Any]]:
    """The open reports now per category, agency, area and status, and how many are
    overdue (one query)."""
    now = timezone.now()
    return list(
        filters.reports()
        .filter(status__in=OPEN_STATUSES)
        .values(*KEYS, "status")
        .annotate(open=Count("*"), overdue=Count("due_at", filter=overdue_condition(now)))
    )


@dataclass
class Tally:
    """The figures of the city and of every agency, category and area, added up from the
    grouped rows; and the open reports per category and status."""

    city: Figures
    groups: dict[str, dict[int, Figures]]
    open_by_category: dict[int, dict[str, int]]

    @classmethod
    def count(cls, filters: StatsFilters, split: Split | None = None) -> Tally:
        """Four queries (three with `split`: split_period(filters.period), when the caller
        has it already)."""
        split = split or split_period(filters.period, using=filters.using)
        tally = cls(city=Figures(), groups={g: {} for g in GROUPINGS}, open_by_category={})
        for row in [*_sum_rows(filters, split), *_open_rows(filters)]:
            tally.city.add(row)
            for group in GROUPINGS:
                pk = row[f"{group}_id"]
                if pk is not None:
                    tally.groups[group].setdefault(pk, Figures()).add(row)
            if "status" in row:
                per_status = tally.open_by_category.setdefault(row["category_id"], {})
                per_status[row["status"]] = per_status.get(row["status"], 0) + row["open"]
        return tally

    def by(self, group: str, medians: Mapping[int, float | None] | None = None) -> list[Group]:
        """The groups of one kind that have something to count, the most received first;
        reports without an agency (or area) are in no group."""
        names = _names(group)
        groups = []
        for pk, figures in self.groups[group].items():
            if pk not in names:
                continue
            if medians is not None:
                figures.median_resolution_hours = medians.get(pk)
            groups.append(Group(item=names[pk], figures=figures))
        groups.sort(key=lambda g: (-g.figures.received, g.item.code))
        return groups


def _names(group: str) -> Mapping[int, Named]:
    reference = stats_reference()
    names: dict[str, Mapping[int, Named]] = {
        "agency": reference.agencies,
        "category": reference.categories,
        "area": reference.areas,
        "channel": reference.channels,
    }
    return names[group]


def _hours(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


# A median is no sum: it sorts the resolved rows of each group (an ordered-set aggregate,
# which also keeps PostgreSQL from aggregating in parallel), so it is asked for only where it
# is shown: the city's and those of the groupings asked for, in one query. On PostgreSQL
# that query reads the period's resolved reports once and groups them by every grouping
# (GROUPING SETS); elsewhere it is a UNION ALL of one query per grouping, each reading them
# again (at a million reports, a quarter's 250,000: 2.5 s against 1.1 s).
CITY = "city"


def medians(
    filters: StatsFilters, *, groups: Iterable[str] = ()
) -> dict[str, dict[int, float | None]]:
    """The median resolution hours of the city (under CITY, key 0) and of every agency,
    category or area in `groups`, in one query."""
    kinds = [CITY, *groups]
    resolved = _resolved_in(filters.reports(), filters.period.start, filters.period.end)
    if connections[resolved.db].vendor == "postgresql":
        return _medians_grouped(resolved, kinds[1:])
    return _medians_united(resolved, kinds)


def _medians_grouped(
    resolved: QuerySet[Report], groups: list[str]
) -> dict[str, dict[int, float | None]]:
    """medians() in one read of the resolved reports: GROUP BY GROUPING SETS (the city's
    empty set, then one set per grouping); a grouping's reports without one (no agency, no
    area) form its NULL group, left out as the UNION ALL's filter leaves them out. The empty
    set answers a row even when no report was resolved: the city's median is then None."""
    found: dict[str, dict[int, float | None]] = {kind: {} for kind in [CITY, *groups]}
    columns = [f"{group}_id" for group in groups]
    narrow = compiled(resolved.annotate(hours=_resolution_hours()).values_list(*columns, "hours"))
    if narrow is None:
        found[CITY][0] = None
        return found
    inner, params = narrow
    connection = connections[resolved.db]
    quote = connection.ops.quote_name
    keys = [f"t.{quote(column)}" for column in columns]
    sets = ", ".join(["()", *(f"({key})" for key in keys)])
    grouping = f"GROUPING({', '.join(keys)})" if keys else "0"
    statement = (
        f"SELECT {grouping}, {', '.join([*keys, ''])}"  # noqa: S608
        f"PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY t.{quote('hours')})"
        f" FROM ({inner}) t GROUP BY GROUPING SETS ({sets})"
    )
    # GROUPING() sets a bit, from the right, for each key not grouped by: the empty set has
    # them all; the set of the n-th key all but its own (its value is the row's n-th key).
    everything = (1 << len(keys)) - 1
    sets_by_bits = {everything & ~(1 << (len(keys) - 1 - n)): n for n in range(len(groups))}
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        for bits, *values, median in cursor.fetchall():
            if bits == everything:
                found[CITY][0] = _hours(median)
                continue
            n = sets_by_bits[bits]
            if values[n] is not None:
                found[groups[n]][values[n]] = _hours(median)
    return found


def _medians_united(
    resolved: QuerySet[Report], kinds: list[str]
) -> dict[str, dict[int, float | None]]:
    """medians() as a UNION ALL of one query per grouping."""
    parts = []
    for n, kind in enumerate(kinds):
        rows = resolved
        if kind == CITY:
            rows = rows.annotate(kind=Value(n), key=Value(0))
        else:
            rows = rows.filter(**{f"{kind}__isnull": False}).annotate(
                kind=Value(n), key=F(f"{kind}_id")
            )
        parts.append(
            rows.values("kind", "key")
            .annotate(median=Median(_resolution_hours()))
            .values_list("kind", "key", "median")
        )
    found: dict[str, dict[int, float | None]] = {kind: {} for kind in kinds}
    union = parts[0].union(*parts[1:], all=True) if len(parts) > 1 else parts[0]
    for n, key, median in union:
        found[kinds[n]][key] = _hours(median)
    return found


def median_hours(filters: StatsFilters) -> float | None:
    return medians(filters)[CITY].get(0)


def median_hours_by(filters: StatsFilters, *, group: str) -> dict[int, float | None]:
    return medians(filters, groups=[group])[group]


def figures_total(filters: StatsFilters) -> Figures:
    """The figures of the filters' reports, median included (five queries)."""
    city = Tally.count(filters).city
    city.median_resolution_hours = median_hours(filters)
    return city


def figures_by(filters: StatsFilters, *, group: str, median: bool = True) -> list[Group]:
    """The figures per agency, category, area or channel (`group` is "agency", "category",
    "area" or "channel"); groups with nothing to count are left out, reports without an
    agency (or area) too."""
    group_medians = median_hours_by(filters, group=group) if median else None
    return Tally.count(filters).by(group, group_medians)


def report_statistics(filters: StatsFilters) -> Statistics:
    """The public figures: the whole, and per agency, category and area, medians included
    (five queries). Read from a replica (hues.db), every query from the same one: they are
    cached for STATS_CACHE_SECONDS anyway, so a replica's lag misleads no one."""
    filters = replace(filters, using=replica())
    tally = Tally.count(filters)
    found = medians(filters, groups=GROUPINGS)
    tally.city.median_resolution_hours = found[CITY].get(0)
    return Statistics(
        filters=filters,
        city=tally.city,
        agencies=tally.by("agency", found["agency"]),
        categories=tally.by("category", found["category"]),
        areas=tally.by("area", found["area"]),
        channels=tally.by("channel", found["channel"]),
    )


# --- The dashboard's other reads ------------------------------------------------------------------


@dataclass(frozen=True)
class DailyCounts:
    day: date
    received: int
    resolved: int


def daily_counts(filters: StatsFilters, split: Split | None = None) -> list[DailyCounts]:
    """Reports received and resolved on each day of the period, in one query: the daily
    figures for the days they have counted, the reports for the rest."""
    zone = ZoneInfo(settings.TIME_ZONE)
    past, live = split or split_period(filters.period, using=filters.using)
    parts: list[QuerySet[Any]] = []
    if past is not None:
        parts.append(
            _daily_figures(filters, past)
            .values("day")
            .annotate(n_received=Sum("received"), n_resolved=Sum("resolved"))
            .values_list("day", "n_received", "n_resolved")
        )
    if live is not None:
        base = filters.reports()
        parts.append(
            _filed_in(base, live.start, live.end)
            .annotate(day=TruncDate("created_at", tzinfo=zone))
            .values("day")
            .annotate(n_received=Count("*"), n_resolved=Value(0))
            .values_list("day", "n_received", "n_resolved")
        )
        parts.append(
            _resolved_in(base, live.start, live.end)
            .annotate(day=TruncDate("resolved_at", tzinfo=zone))
            .values("day")
            .annotate(n_received=Value(0), n_resolved=Count("*"))
            .values_list("day", "n_received", "n_resolved")
        )
    counts: dict[date, list[int]] = {}
    rows = parts[0].union(*parts[1:], all=True) if len(parts) > 1 else parts[0]
    for day, received, resolved in rows:
        if isinstance(day, str):  # SQLite returns the union's dates as text
            day = date.fromisoformat(day)
        total = counts.setdefault(day, [0, 0])
        total[0] += received or 0
        total[1] += resolved or 0
    return [
        DailyCounts(
            day=day, received=counts.get(day, [0, 0])[0], resolved=counts.get(day, [0, 0])[1]
        )
        for day in filters.period.days
    ]


@dataclass(frozen=True)
class OpenCount:
    item: Named
    by_status: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.by_status.values())


def open_by_category(tally: Tally) -> list[OpenCount]:
    """Open reports now, per category and status (from the tally, no query); the largest
    first."""
    categories = stats_reference().categories
    counts = [
        OpenCount(item=categories[pk], by_status=dict(by_status))
        for pk, by_status in tally.open_by_category.items()
        if pk in categories
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


def reports_overdue(filters: StatsFilters, *, limit: int = 15) -> list[OverdueReport]:
    """The overdue reports, the longest overdue first (names from the reference, no joins)."""
    reference = stats_reference()
    rows = (
        filters.reports()
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
    channels: list[Group]
    daily: list[DailyCounts]
    open_counts: list[OpenCount]
    overdue: list[OverdueReport]


def dashboard_figures(filters: StatsFilters, *, overdue_limit: int = 15) -> DashboardFigures:
    """Everything the dashboard shows, in six queries, kept in the cache for
    DASHBOARD_CACHE_SECONDS per filters (a manager's hold their agency): wall screens and
    several managers looking at once cost one count."""
    key = f"reports:dashboard:{filters.cache_key()}:{overdue_limit}"
    figures = cache.get(key)
    if figures is None:
        split = split_period(filters.period, using=filters.using)
        tally = Tally.count(filters, split)
        figures = DashboardFigures(
            # The dashboard shows average resolution times, which add up from the daily
            # figures; a median would sort every resolved report of the period again.
            total=tally.city,
            agencies=tally.by("agency"),
            areas=tally.by("area"),
            channels=tally.by("channel"),
            daily=daily_counts(filters, split),
            open_counts=open_by_category(tally),
            overdue=reports_overdue(filters, limit=overdue_limit),
        )
        cache.set(key, figures, timeout=settings.DASHBOARD_CACHE_SECONDS)
    return figures


@dataclass(frozen=True)
class DashboardScope:
    """What a viewer's dashboard counts: the whole city (`agency_id` None) or one agency,
    which no filter can widen (the dashboard's filters carry it)."""

    agency_id: int | None


def dashboard_scope(user: Any) -> DashboardScope | None:
    """The whole city for dispatchers and administrators, their own agency for a manager;
    None for anyone else."""
    from accounts.models import Role

    if user is None or not user.is_active or not user.is_staff:
        return None
    if user.is_citywide:
        return DashboardScope(agency_id=None)
    if user.role == Role.MANAGER and user.agency_id is not None:
        return DashboardScope(agency_id=user.agency_id)
    return None
