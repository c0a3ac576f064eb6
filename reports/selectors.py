"""Reads: who sees which reports, the feed, reference data and the routing snapshot.

Every list and detail (API and admin) takes its queryset from here, so visibility has one
definition and every caller gets the same, constant number of queries.
"""

from __future__ import annotations

import hashlib
import math
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import (
    Case,
    Count,
    ExpressionWrapper,
    F,
    FloatField,
    IntegerField,
    Model,
    Prefetch,
    Q,
    QuerySet,
    TextChoices,
    Value,
    When,
)
from django.db.models.functions import ASin, Cos, Power, Radians, Sin, Sqrt
from django.db.models.lookups import LessThanOrEqual
from django.db.models.signals import post_delete, post_save
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from hues import metrics
from hues.db import replica
from hues.workhours import parse_working_hours
from reports import rows
from reports.deadlines import WorkCalendar
from reports.geo import EARTH_RADIUS_METRES, circle_bounds
from reports.models import (
    CLOSED_STATUSES,
    OPEN_STATUSES,
    RESOLVED_STATUSES,
    WITH_AGENCY_STATUSES,
    Agency,
    Area,
    Category,
    Event,
    Flag,
    Holiday,
    Photo,
    PhotoRegion,
    Redaction,
    ReplyTemplate,
    Report,
    ReportStatus,
    RoutingRule,
    Supporter,
)
from reports.routing import AreaIndex, Rule
from reports.text import search_words

if TYPE_CHECKING:
    from accounts.models import User

ROUTING_VERSION_KEY = "reports:routing-version"


@dataclass(frozen=True)
class RoutingSnapshot:
    """Everything routing needs, held in memory: built once per process and rebuilt only
    when reference data changes (see `routing_data_changed`)."""

    version: str
    index: AreaIndex
    area_ids: dict[str, int]
    rules: tuple[Rule, ...]
    ward_committees: dict[str, str]
    agency_ids: dict[str, int]
    default_agencies: dict[str, str]


_snapshot: RoutingSnapshot | None = None


def cache_version(key: str) -> str:
    """The version a cache key holds, made once if the cache has none (a flushed or new
    cache): every process that builds something from the database keys it on this."""
    version = cache.get(key)
    if version is None:
        fresh = uuid.uuid4().hex
        cache.add(key, fresh, timeout=None)
        # A cache that keeps nothing (Redis away) answers a new version: rebuild, never stale.
        version = cache.get(key, fresh)
    return str(version)


def routing_data_changed() -> None:
    """Tell every process that areas, agencies, categories or rules changed."""
    cache.set(ROUTING_VERSION_KEY, uuid.uuid4().hex, timeout=None)


def routing_snapshot() -> RoutingSnapshot:
    global _snapshot
    version = cache_version(ROUTING_VERSION_KEY)
    if _snapshot is not None and _snapshot.version == version:
        return _snapshot
    areas = list(Area.objects.values_list("id", "code", "boundary"))
    agencies = list(Agency.objects.filter(is_active=True).values_list("id", "code", "area__code"))
    rules = tuple(
        Rule(
            category=category,
            area=area,
            agency=agency,
            to_ward_committee=to_committee,
        )
        for category, area, agency, to_committee in RoutingRule.objects.filter(
            Q(agency__isnull=True) | Q(agency__is_active=True)
        ).values_list("category__code", "area__code", "agency__code", "to_ward_committee")
    )
    _snapshot = RoutingSnapshot(
        version=version,
        index=AreaIndex(
            ((code, boundary) for _, code, boundary in areas),
            tolerance=settings.AREA_TOLERANCE_DEGREES,
        ),
        area_ids={code: pk for pk, code, _ in areas},
        rules=rules,
        ward_committees={area: code for _, code, area in agencies if area},
        agency_ids={code: pk for pk, code, _ in agencies},
        default_agencies=dict(
            Category.objects.filter(
                default_agency__isnull=False, default_agency__is_active=True
            ).values_list("code", "default_agency__code")
        ),
    )
    return _snapshot


# What anonymous users see of the feed's first pages and of a public report, cached for
# FEED_CACHE_SECONDS under versions that every change of what they show replaces (after its
# transaction commits): the reference data's (names of categories, areas, agencies) for both;
# the feed's for any report, photo or supporter; a report's own for its row, photos,
# timeline and supporters (so one busy report does not empty the cache of the others).
FEED_VERSION_KEY = "reports:feed-version"
# Names of categories, areas and agencies, and reporters' names.
REFERENCE_VERSION_KEY = "reports:reference-version"
REPORT_VERSION_KEY = "reports:report-version:{}"
FEED_CACHE_PARAMETERS = frozenset(
    {"status", "category", "area", "agency", "ordering", "page_size", "near", "radius", "q"}
)


def feed_changed() -> None:
    """Drop every cached feed page (in every process): a report, its photos or supporters
    changed."""
    cache.set(FEED_VERSION_KEY, uuid.uuid4().hex, timeout=None)


def _reference_data_changed() -> None:
    cache.set(REFERENCE_VERSION_KEY, uuid.uuid4().hex, timeout=None)


def _reference_of(instance: Any) -> str | None:
    if isinstance(instance, Report):
        return instance.reference
    if type(instance).report.is_cached(instance):
        return instance.report.reference
    return Report.objects.filter(pk=instance.report_id).values_list("reference", flat=True).first()


def _changed_on_commit(sender: type, instance: Any, **kwargs: Any) -> None:
    if not settings.FEED_CACHE_SECONDS:  # with no cache there is nothing to drop
        return
    if sender in (Category, Area, Agency):
        transaction.on_commit(_reference_data_changed)
        return
    if sender in (Report, Photo, Supporter):
        transaction.on_commit(feed_changed)
    reference = _reference_of(instance)
    if reference:
        transaction.on_commit(lambda: _report_versions_changed([reference]))


# A report's version lives a day: the pages it guards live minutes (FEED_CACHE_SECONDS,
# DETAIL_CACHE_SECONDS), so a version that has expired drops nothing.
REPORT_VERSION_SECONDS = 86400


def _report_versions_changed(references: Iterable[str]) -> None:
    """New versions for these reports' own cached pages, in one cache call."""
    versions = {REPORT_VERSION_KEY.format(reference): uuid.uuid4().hex for reference in references}
    cache.set_many(versions, timeout=REPORT_VERSION_SECONDS)


for _model in (Report, Photo, Supporter, Category, Area, Agency):
    post_save.connect(_changed_on_commit, sender=_model, dispatch_uid=f"feed-{_model}")
    post_delete.connect(_changed_on_commit, sender=_model, dispatch_uid=f"feed-d-{_model}")
# A new event changes its report's timeline only (its report row is saved with it).
post_save.connect(_changed_on_commit, sender=Event, dispatch_uid="feed-event")
post_delete.connect(_changed_on_commit, sender=Event, dispatch_uid="feed-d-event")

# Reporters' names are on every cached page: a renamed or deleted (anonymised) account drops
# them all, since its reports are updated in bulk, without signals (accounts.services).
NAME_FIELDS = frozenset({"full_name", "deleted_at", "is_active"})


def _user_changed_on_commit(sender: type, update_fields: Any = None, **kwargs: Any) -> None:
    if not settings.FEED_CACHE_SECONDS:
        return
    if update_fields is not None and not NAME_FIELDS & set(update_fields):
        return
    transaction.on_commit(_reference_data_changed)


post_save.connect(
    _user_changed_on_commit, sender=settings.AUTH_USER_MODEL, dispatch_uid="feed-user"
)
post_delete.connect(
    _user_changed_on_commit, sender=settings.AUTH_USER_MODEL, dispatch_uid="feed-d-user"
)


def feed_cache_key(
    *, url: str, parameters: Mapping[str, str] | None, anonymous: bool
) -> str | None:
    """The cache key of a feed page, or None when it is not cached: only anonymous first
    pages (no cursor, no mine), only while FEED_CACHE_SECONDS is on. `parameters` is the
    request's query in canonical form (reports.api.filters.feed_cache_parameters; None: not
    cacheable), so `near` and `q` pages are keyed on the point and the words they search."""
    if not settings.FEED_CACHE_SECONDS or not anonymous or parameters is None:
        return None
    if not set(parameters) <= FEED_CACHE_PARAMETERS:
        return None
    query = "&".join(f"{name}={parameters[name]}" for name in sorted(parameters))
    digest = hashlib.sha256(f"{get_language()}|{url}|{query}".encode()).hexdigest()
    return f"reports:feed:{digest[:40]}"


def report_cache_key(*, url: str, anonymous: bool) -> str | None:
    """The cache key of a report's detail as anonymous users see it (None: not cached)."""
    if not settings.FEED_CACHE_SECONDS or not anonymous:
        return None
    digest = hashlib.sha256(f"{get_language()}|{url}".encode()).hexdigest()
    return f"reports:detail:{digest[:40]}"


def _version_keys(reference: str | None) -> list[str]:
    own = REPORT_VERSION_KEY.format(reference) if reference else FEED_VERSION_KEY
    return [REFERENCE_VERSION_KEY, own]


def feed_cache_keys(key: str, reference: str | None = None) -> list[str]:
    """What feed_cache_get reads: to read them ahead (hues.throttling.read_ahead)."""
    return [*_version_keys(reference), key]


def feed_cache_get(
    key: str, reference: str | None = None, found: Mapping[str, Any] | None = None
) -> tuple[tuple[str, ...], Any]:
    """The versions a cached page depends on (reference data, and the feed's or else the
    report's) and the page cached under `key` for them (None if there is none, or only an
    older one), read in one round trip, or taken from `found` (feed_cache_keys read
    ahead)."""
    names = _version_keys(reference)
    if found is None:
        found = cache.get_many([*names, key])
    versions = tuple(found.get(name) or "0" for name in names)
    entry = found.get(key)
    hit = entry is not None and tuple(entry[0]) == versions
    metrics.cache_lookup(cache="detail" if reference else "feed", hit=hit)
    return versions, entry[1] if entry is not None and hit else None


def feed_cache_set(key: str, versions: tuple[str, ...], page: Any) -> None:
    cache.set(key, (versions, page), settings.FEED_CACHE_SECONDS)


def report_cache_set(key: str, versions: tuple[str, ...], page: Any) -> None:
    """A report's detail is kept DETAIL_CACHE_SECONDS: only its own changes and the
    reference data's change it (its version drops it at once), not every new report."""
    cache.set(key, (versions, page), settings.DETAIL_CACHE_SECONDS)


def reports_changed(references: Iterable[str]) -> None:
    """Drop the cached pages of these reports and the feed's, after a change made in bulk
    (one UPDATE for many reports sends no post_save), as their post_save would: two cache
    calls however many reports."""
    if not settings.FEED_CACHE_SECONDS:
        return
    feed_changed()
    _report_versions_changed(references)


def categories_active() -> QuerySet[Category]:
    return Category.objects.filter(is_active=True).order_by("sort_order", "code")


def areas_all() -> QuerySet[Area]:
    # The boundary (kilobytes of GeoJSON per area) is for routing, not for listing.
    return Area.objects.defer("boundary").order_by("name")


def _report_base() -> QuerySet[Report]:
    return (
        Report.objects.select_related("category", "area", "agency", "reporter")
        .defer("area__boundary")
        .prefetch_related(Prefetch("photos", queryset=Photo.objects.order_by("id")))
    )


def reports_visible_to(user: User | None) -> QuerySet[Report]:
    """Reports a user may open through the API: public ones, and always their own."""
    visible = Q(is_public=True)
    if user is not None and user.is_authenticated:
        visible |= Q(reporter=user)
    return _report_base().filter(visible)


_PHOTO_COLUMNS = rows.Columns(Photo, "p")


def photos_attach(
    reports: Sequence[Report], *, columns: rows.Columns[Photo] = _PHOTO_COLUMNS
) -> None:
    """Give each report its photos, in id order, as prefetched (what _report_base's
    Prefetch("photos") gives) in one hand-written statement (reports.rows), read from the
    database the reports came from: a feed page's photos without a queryset built and
    compiled per request (issue 17). `columns`: all of a photo's, or some (the others
    deferred)."""
    if not reports:
        return
    connection = connections[reports[0]._state.db or DEFAULT_DB_ALIAS]
    quote = connection.ops.quote_name
    placeholders = ", ".join(["%s"] * len(reports))
    statement = (
        f"SELECT {columns.sql(connection)} FROM {quote(Photo._meta.db_table)} p"  # noqa: S608
        f" WHERE p.report_id IN ({placeholders}) ORDER BY p.id"
    )
    found: dict[int, list[Photo]] = {report.pk: [] for report in reports}
    with connection.cursor() as cursor:
        cursor.execute(statement, [report.pk for report in reports])
        for row in cursor.fetchall():
            photo = columns.build_present(row, 0, connection)
            found[photo.report_id].append(photo)
    for report in reports:
        rows.prefetched(report, "photos", found[report.pk])


def report_feed(*, user: User | None, mine: bool = False) -> QuerySet[Report]:
    """The public feed, newest first; with `mine`, only the user's own reports. Its pages'
    photos are attached by photos_attach, not prefetched.

    The public feed is read from a replica (hues.db), its filters, pages and prefetched
    photos too: its anonymous pages are cached for FEED_CACHE_SECONDS anyway, so a
    replica's lag misleads no one. `mine` reads the primary, so a citizen sees the report
    they have just filed."""
    if mine:
        if user is None or not user.is_authenticated:
            return Report.objects.none()
        return _report_base().prefetch_related(None).filter(reporter=user).order_by("-id")
    return reports_visible_to(None).prefetch_related(None).order_by("-id").using(replica())


# A feed page, read on every uncached page of the long tail (every filter, cursor, `mine`,
# `near` and `q`: issue 17). The filters stay querysets (reports.api.filters, the pagination's
# cursor): only the page's ids and ordering values are compiled from them, a narrow query;
# the reports' columns, their category, area, agency and reporter's name come from one
# statement written once around it (reports.rows), their photos from a second. It selects
# what the feed's answer and its ETag read, nothing more (fewer columns to convert);
# tests/reports/test_fast_feed.py holds its instances and answers to the querysets'.

FEED_REPORT_FIELDS = (
    "reference",
    "reporter",
    "category",
    "description",
    "lat",
    "lng",
    "address",
    "area",
    "status",
    "priority",
    "agency",
    "is_public",
    "hide_name",
    "due_at",
    "supporters_count",
    "created_at",
    "updated_at",
    "resolved_at",
)
FEED_PHOTO_FIELDS = (
    "report",
    "kind",
    "image",
    "thumbnail",
    "width",
    "height",
    "hidden_at",
    "public_image",
    "public_thumbnail",
    "redaction",
    "original_deleted_at",
)
_FEED_PHOTO_COLUMNS = rows.Columns(Photo, "p", only=FEED_PHOTO_FIELDS)


def _report_joins(connection: BaseDatabaseWrapper) -> str:
    """What a report under `r` shows with it, joined: its category `c`, area `a`, agency `g`
    and reporter `u` (the detail's and the feed page's statements)."""
    quote = connection.ops.quote_name
    return (
        f" INNER JOIN {quote(Category._meta.db_table)} c ON c.id = r.category_id"
        f" LEFT OUTER JOIN {quote(Area._meta.db_table)} a ON a.id = r.area_id"
        f" LEFT OUTER JOIN {quote(Agency._meta.db_table)} g ON g.id = r.agency_id"
        f" INNER JOIN {quote(get_user_model()._meta.db_table)} u ON u.id = r.reporter_id"
    )


@dataclass(frozen=True)
class _FeedPlan:
    report: rows.Columns[Report]
    joined: tuple[rows.Columns[Any], ...]
    selected: str
    joins: str


@rows.per_database
def _feed_plan(connection: BaseDatabaseWrapper) -> _FeedPlan:
    quote = connection.ops.quote_name
    user_model = get_user_model()
    report = rows.Columns(Report, "r", only=FEED_REPORT_FIELDS)
    joined = (
        rows.Columns(Category, "c", only={"code", "name_vi", "name_en"}),
        rows.Columns(Area, "a", only={"code", "name", "name_en"}),
        rows.Columns(Agency, "g", only={"code", "name", "name_en"}),
        rows.Columns(user_model, "u", only={"full_name"}),
    )
    page = f" INNER JOIN {quote(Report._meta.db_table)} r ON r.id = page.id"
    joins = page + _report_joins(connection)
    selected = ", ".join(columns.sql(connection) for columns in (report, *joined))
    return _FeedPlan(report, joined, selected, joins)


def feed_page(queryset: QuerySet[Report]) -> list[Report]:
    """The reports of a feed page, in its order: `queryset` is the page (filtered, ordered
    by names of fields or annotations ending in the id, sliced), as the pagination leaves it.
    Each report has its category, area, agency, reporter (the name) and photos, and the
    values of the queryset's annotations (`distance`), as the feed's queryset would give
    them; the columns the feed does not show are deferred."""
    query = queryset.query
    if query.is_empty():
        return []
    names = [name for name in query.order_by if isinstance(name, str)]
    if not names or len(names) != len(query.order_by):
        raise ValueError("A feed page is ordered by names of fields or annotations.")
    ordering = [(name.removeprefix("-"), name.startswith("-")) for name in names]
    annotations = list(query.annotation_select)
    selected_names = dict.fromkeys([*(name for name, _ in ordering), *annotations])
    narrow = rows.compiled(queryset.values_list(*selected_names))
    if narrow is None:
        return []
    page_sql, params = narrow
    connection = connections[queryset.db]
    quote = connection.ops.quote_name
    plan = _feed_plan(connection)
    order = ", ".join(
        f"page.{quote(name)} {'DESC' if descending == query.standard_ordering else 'ASC'}"
        for name, descending in ordering
    )
    selected = ", ".join([plan.selected, *(f"page.{quote(name)}" for name in annotations)])
    statement = f"SELECT {selected} FROM ({page_sql}) page{plan.joins} ORDER BY {order}"  # noqa: S608
    page: list[Report] = []
    shared: dict[tuple[type[Model], Any], Model] = {}
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        for row in cursor.fetchall():
            report = plan.report.build_present(row, 0, connection)
            related, end = rows.build_joined(
                row, plan.report.width, plan.joined, connection, shared
            )
            report.category, report.area, report.agency, report.reporter = related
            for offset, name in enumerate(annotations):
                setattr(report, name, row[end + offset])
            page.append(report)
    photos_attach(page, columns=_FEED_PHOTO_COLUMNS)
    return page


class FeedOrder(TextChoices):
    NEWEST = "newest", _("Newest first")
    MOST_SUPPORTED = "most_supported", _("Most supporters first")
    NEAREST = "nearest", _("Nearest first")


# Each order ends with the id, so it is total and a page can resume right after a row
# (reports.api.pagination pages on these same fields).
_FEED_ORDER_BY = {
    FeedOrder.NEWEST: ("-id",),
    FeedOrder.MOST_SUPPORTED: ("-supporters_count", "-id"),
    FeedOrder.NEAREST: ("distance", "id"),
}


def report_feed_ordered(queryset: QuerySet[Report], *, order: FeedOrder) -> QuerySet[Report]:
    """The feed in one of its orders; `nearest` needs the distance from `reports_near`."""
    if order == FeedOrder.NEAREST and "distance" not in queryset.query.annotations:
        raise ValueError("Ordering by distance needs reports_near() first.")
    return queryset.order_by(*_FEED_ORDER_BY[order])


def reports_in_box(
    queryset: QuerySet[Report], *, min_lng: float, min_lat: float, max_lng: float, max_lat: float
) -> QuerySet[Report]:
    return queryset.filter(lat__gte=min_lat, lat__lte=max_lat, lng__gte=min_lng, lng__lte=max_lng)


def reports_near(
    queryset: QuerySet[Report], *, lat: float, lng: float, radius: float
) -> QuerySet[Report]:
    """Reports within `radius` metres (great-circle distance) of a point, annotated with
    their `distance` in metres. A latitude/longitude box around the circle comes first, so
    the database narrows the rows on its lat/lng index before it computes any distance."""
    bounds = circle_bounds(lat=lat, lng=lng, radius=radius)
    longitudes = Q()
    for west, east in bounds.lng_ranges:
        longitudes |= Q(lng__gte=west, lng__lte=east)
    # Haversine: 2R·asin(√(sin²(Δφ/2) + cos φ1·cos φ2·sin²(Δλ/2))).
    phi = math.radians(lat)
    half_chord = Power(Sin((Radians(F("lat")) - Value(phi)) / 2), 2) + Value(math.cos(phi)) * Cos(
        Radians(F("lat"))
    ) * Power(Sin((Radians(F("lng")) - Value(math.radians(lng))) / 2), 2)
    distance = Value(2 * EARTH_RADIUS_METRES) * ASin(Sqrt(half_chord))
    return (
        queryset.filter(longitudes, lat__gte=bounds.min_lat, lat__lte=bounds.max_lat)
        .annotate(distance=ExpressionWrapper(distance, output_field=FloatField()))
        .filter(LessThanOrEqual(F("distance"), radius))
    )


def reports_matching(queryset: QuerySet[Report], *, query: str) -> QuerySet[Report]:
    """Reports whose reference, description and address hold every word of the query, with
    or without diacritics, in any case. `search_text` is normalised already, so a plain
    LIKE '%word%' suffices, and PostgreSQL answers it from the trigram index on search_text
    (an ILIKE, as icontains makes, would not use that index)."""
    for word in search_words(query):
        queryset = queryset.filter(search_text__contains=word)
    return queryset


# A report's detail, read on every uncached open of a report's link (the long tail: issue
# 17) in three statements written once instead of three querysets built and compiled per
# request (reports.rows). What it selects and builds: what reports_visible_to gives (the
# category, area without its boundary, agency, the reporter's name; the photos in id
# order) plus the report it was merged into and its citizen-visible timeline;
# tests/reports/test_fast_detail.py holds it to the querysets' instances and answers.


@dataclass(frozen=True)
class _DetailPlan:
    report: rows.Columns[Report]
    joined: tuple[rows.Columns[Any], ...]
    events: rows.Columns[Event]
    statements: tuple[str, str]


@rows.per_database
def _detail_plan(connection: BaseDatabaseWrapper) -> _DetailPlan:
    """The statements and columns of report_detail on this kind of database."""
    quote = connection.ops.quote_name
    user_model = get_user_model()
    report = rows.Columns(Report, "r", exclude={"search_text"})
    joined = (
        rows.Columns(Category, "c"),
        rows.Columns(Area, "a", exclude={"boundary"}),
        rows.Columns(Agency, "g"),
        rows.Columns(user_model, "u", only={"full_name"}),
        rows.Columns(Report, "d", only={"reference"}),
    )
    events = rows.Columns(Event, "e")
    selected = ", ".join(columns.sql(connection) for columns in (report, *joined))
    table = quote(Report._meta.db_table)
    # Names from the models' metadata, quoted; every value is a bound parameter.
    detail = (
        f"SELECT {selected} FROM {table} r{_report_joins(connection)}"  # noqa: S608
        f" LEFT OUTER JOIN {table} d ON d.id = r.duplicate_of_id"
        # reports_visible_to: public, or the viewer's own.
        " WHERE r.reference = %s AND (r.is_public OR r.reporter_id = %s)"
    )
    event_rows = (
        f"SELECT {events.sql(connection)} FROM {quote(Event._meta.db_table)} e"  # noqa: S608
        " WHERE e.report_id = %s AND e.is_public ORDER BY e.created_at, e.id"
    )
    return _DetailPlan(report, joined, events, (detail, event_rows))


def report_detail(*, user: User | None, reference: str) -> Report | None:
    """A report its viewer may open (reports_visible_to), with its photos, the report it was
    merged into, and its citizen-visible timeline (`public_events`); None otherwise."""
    connection = connections[DEFAULT_DB_ALIAS]
    plan = _detail_plan(connection)
    detail, events = plan.statements
    viewer = user.pk if user is not None and user.is_authenticated else None
    with connection.cursor() as cursor:
        cursor.execute(detail, [reference, viewer])
        row = cursor.fetchone()
        if row is None:
            return None
        report = plan.report.build_present(row, 0, connection)
        related, _end = rows.build_joined(row, plan.report.width, plan.joined, connection)
        report.category, report.area, report.agency, report.reporter, report.duplicate_of = related
        cursor.execute(events, [report.pk])
        report.public_events = [  # type: ignore[attr-defined]
            plan.events.build_present(event, 0, connection) for event in cursor.fetchall()
        ]
    photos_attach([report])
    return report


def reports_for_staff(user: User | None) -> QuerySet[Report]:
    """Reports a member of the admin site may see: all for dispatchers and administrators,
    their own agency's for staff and managers, none for anyone else."""
    base = Report.objects.select_related(
        "category", "area", "agency", "assignee", "reporter"
    ).defer("area__boundary", "search_text")
    if user is None or not user.is_active or not user.is_staff:
        return base.none()
    if user.is_citywide:
        return base
    if user.has_perm("reports.file_report") and user.agency_id is None:
        # Hotline operators: the reports they filed, and the dispatchers' queue.
        return base.filter(Q(filed_by=user) | Q(status=ReportStatus.NEEDS_TRIAGE))
    if user.agency_id is None:
        return base.none()
    return base.filter(agency_id=user.agency_id)


def agencies_active() -> QuerySet[Agency]:
    return Agency.objects.filter(is_active=True).order_by("name")


def agency_colleagues(agency_id: int | None) -> QuerySet[Any]:
    """The active staff and managers of an agency, for assignment."""
    from accounts.models import AGENCY_ROLES, User

    if agency_id is None:
        return User.objects.none()
    return User.objects.filter(agency_id=agency_id, is_active=True, role__in=AGENCY_ROLES).order_by(
        "full_name"
    )


def overdue_condition(now: datetime) -> Q:
    """Open reports with an agency, past their deadline, and not waiting for the citizen
    (the clock is stopped then). Overdue is derived, never stored."""
    return Q(
        status__in=WITH_AGENCY_STATUSES,
        due_at__lt=now,
        waiting_since__isnull=True,
    )


def reports_unrouted(*, older_than: timedelta, limit: int = 1000) -> list[int]:
    """Ids of reports still `submitted` after `older_than`: their routing was lost."""
    cutoff = timezone.now() - older_than
    return list(
        Report.objects.filter(status=ReportStatus.SUBMITTED, created_at__lt=cutoff)
        .order_by("id")
        .values_list("id", flat=True)[:limit]
    )


HOLIDAYS_VERSION_KEY = "reports:holidays-version"

_calendar: tuple[str, str, WorkCalendar] | None = None  # (holidays version, hours, calendar)


def holidays_changed() -> None:
    """Tell every process that the public holidays changed."""
    cache.set(HOLIDAYS_VERSION_KEY, uuid.uuid4().hex, timeout=None)


def work_calendar() -> WorkCalendar:
    """The calendar deadlines count in: WORKING_HOURS on weekdays, except the public
    holidays of the Holiday table. Built once per process and rebuilt only when the holidays
    change (see `holidays_changed`)."""
    global _calendar
    version = cache_version(HOLIDAYS_VERSION_KEY)
    hours = settings.WORKING_HOURS
    if _calendar is not None and _calendar[:2] == (version, hours):
        return _calendar[2]
    calendar = WorkCalendar(
        periods=parse_working_hours(hours),
        holidays=frozenset(Holiday.objects.values_list("date", flat=True)),
    )
    _calendar = (version, hours, calendar)
    return calendar


def reports_to_escalate(*, limit: int = 500) -> list[int]:
    """Ids of overdue reports not escalated yet, the longest overdue first."""
    return list(
        Report.objects.filter(overdue_condition(timezone.now()), escalated_at__isnull=True)
        .order_by("due_at", "id")
        .values_list("id", flat=True)[:limit]
    )


def reports_unanswered(*, older_than: timedelta, limit: int = 1000) -> list[int]:
    """Ids of reports resolved more than `older_than` ago that their citizen has neither
    rated nor reopened (rating closes a report, reopening puts it back in progress)."""
    cutoff = timezone.now() - older_than
    return list(
        Report.objects.filter(status=ReportStatus.RESOLVED, resolved_at__lte=cutoff)
        .order_by("resolved_at", "id")
        .values_list("id", flat=True)[:limit]
    )


# How far (metres) a report may be from a new one of the same category to count as a likely
# duplicate: a flooded street or a burst water main covers more ground than a broken lamp.
NEARBY_RADIUS_METRES: dict[str, int] = {
    "drainage": 400,
    "water_supply": 300,
    "electricity": 300,
    "road_damage": 250,
    "trees_parks": 200,
}
NEARBY_DEFAULT_RADIUS_METRES = 150
NEARBY_LIMIT = 10
# Resolved (and closed) reports are still suggested for this long after their resolution.
NEARBY_RESOLVED_WITHIN = timedelta(days=30)


def nearby_radius(category_code: str) -> int:
    return NEARBY_RADIUS_METRES.get(category_code, NEARBY_DEFAULT_RADIUS_METRES)


def reports_nearby(
    *, user: User | None, category: Category, lat: float, lng: float
) -> QuerySet[Report]:
    """Likely duplicates of a report about to be filed at (lat, lng): reports of the same
    category within the category's radius that the user may see (public ones and their
    own), open ones first, then those resolved lately, each group nearest first; at most
    NEARBY_LIMIT, each annotated with its `distance` in metres. Rejected reports are no
    duplicates."""
    return _likely_duplicates(reports_visible_to(user), category=category, lat=lat, lng=lng)


def _likely_duplicates(
    queryset: QuerySet[Report], *, category: Category, lat: float, lng: float
) -> QuerySet[Report]:
    """reports_nearby's rule on any set of reports (the public's, the staff's)."""
    resolved_since = timezone.now() - NEARBY_RESOLVED_WITHIN
    candidates = queryset.filter(
        Q(status__in=OPEN_STATUSES)
        | Q(
            status__in=RESOLVED_STATUSES,
            resolved_at__gte=resolved_since,
        ),
        category=category,
    )
    near = reports_near(candidates, lat=lat, lng=lng, radius=nearby_radius(category.code))
    return near.annotate(
        closed=Case(
            When(status__in=OPEN_STATUSES, then=Value(0)),
            default=Value(1),
            output_field=IntegerField(),
        )
    ).order_by("closed", F("distance"), "id")[:NEARBY_LIMIT]


@dataclass(frozen=True)
class Workload:
    open: int
    overdue: int
    unassigned: int
    waiting: int


def workload(reports: QuerySet[Report], now: datetime) -> Workload:
    """What an agency (or the city) has on its desk, counted in one query."""
    open_reports = Q(status__in=WITH_AGENCY_STATUSES)
    counts = reports.order_by().aggregate(
        open=Count("id", filter=open_reports),
        overdue=Count("id", filter=overdue_condition(now)),
        unassigned=Count("id", filter=open_reports & Q(assignee__isnull=True)),
        waiting=Count("id", filter=open_reports & Q(waiting_since__isnull=False)),
    )
    return Workload(**counts)


def area_boundary(area_id: int | None) -> dict[str, Any] | None:
    """One area's GeoJSON polygon (kept out of list queries: it is large)."""
    if area_id is None:
        return None
    return Area.objects.filter(pk=area_id).values_list("boundary", flat=True).first()


# The editor's context on the staff's report page


@dataclass(frozen=True)
class Move:
    """Where a correction moved a report from, and when."""

    lat: float
    lng: float
    area_id: int | None
    at: datetime


def report_last_move(report: Report) -> Move | None:
    """The place before the report's last correction of its place, if any."""
    event = (
        report.events.filter(kind=Event.Kind.CORRECTED, data__before__has_key="location")
        .order_by("-created_at", "-id")
        .first()
    )
    if event is None:
        return None
    lat, lng = event.data["before"]["location"]
    code = event.data["before"].get("area")
    area_id = Area.objects.filter(code=code).values_list("pk", flat=True).first() if code else None
    return Move(lat=float(lat), lng=float(lng), area_id=area_id, at=event.created_at)


def report_duplicates(report: Report) -> list[Report]:
    """The reports merged into this one, with their photos."""
    return list(
        Report.objects.filter(duplicate_of=report, status=ReportStatus.MERGED)
        .defer("search_text")
        .prefetch_related(Prefetch("photos", queryset=Photo.objects.order_by("id")))
        .order_by("id")
    )


def report_split_relatives(report: Report) -> list[Report]:
    """The report this one was split from, and the reports split from it."""
    return list(
        Report.objects.filter(Q(split_from=report) | Q(pk=report.split_from_id or 0))
        .only("id", "reference")
        .order_by("id")
    )


def flags_for_moderator(user: User | None) -> QuerySet[Flag]:
    """The flags a moderator may decide on: every report's for the operations centre, their
    agency's for others given `reports.moderate_report`; none for anyone else."""
    flags = Flag.objects.select_related("report", "event").order_by("decided_at", "-id")
    if user is None or not user.is_active or not user.has_perm("reports.moderate_report"):
        return flags.none()
    if user.is_citywide:
        return flags
    if user.agency_id is None:
        return flags.none()
    return flags.filter(report__agency_id=user.agency_id)


def reply_templates_for(
    *, report: Report, purposes: Iterable[str], language: str
) -> list[ReplyTemplate]:
    """The active reply templates for these purposes, in `language`, that fit the report:
    of its category or of any, of its agency or of any (so an agency's own templates reach
    only its reports); the most specific first (category and agency, then category, then
    agency, then neither), then by name."""
    specificity = Case(When(category__isnull=False, then=Value(2)), default=Value(0)) + Case(
        When(agency__isnull=False, then=Value(1)), default=Value(0)
    )
    return list(
        ReplyTemplate.objects.filter(
            Q(category__isnull=True) | Q(category_id=report.category_id),
            Q(agency__isnull=True) | Q(agency_id=report.agency_id),
            is_active=True,
            purpose__in=list(purposes),
            language=language,
        )
        .annotate(specificity=specificity)
        .order_by("-specificity", "name", "id")
    )


def reply_templates_for_editor(user: User | None) -> QuerySet[ReplyTemplate]:
    """The reply templates a member of the admin site may keep (with the model's
    permissions): every one for administrators and the operations centre, their own
    agency's for managers, none for anyone else."""
    base = ReplyTemplate.objects.select_related("category", "agency")
    if user is None or not user.is_active or not user.is_staff:
        return base.none()
    if user.is_citywide:
        return base
    if user.agency_id is None:
        return base.none()
    return base.filter(agency_id=user.agency_id)


# Reports at the same place: within this many metres, whatever their category, status or age.
SAME_PLACE_METRES = 30
SAME_PLACE_LIMIT = 10
REPORTER_HISTORY_LIMIT = 5


@dataclass(frozen=True)
class ReporterHistory:
    """What the operations centre sees of a reporter: how many reports they filed (this one
    included) and their latest others."""

    count: int
    latest: list[Report]


@dataclass(frozen=True)
class ReportContext:
    """What the staff's report page shows around a report, each list of reports the viewer
    may see: likely duplicates (reports_nearby's rule: the category's radius, open or resolved
    in the last 30 days, open first, nearest first), earlier reports at the same place (any
    category and status), and for the operations centre only, the reporter's history."""

    nearby: list[Report]
    same_place: list[Report]
    reporter: ReporterHistory | None


def report_context(*, report: Report, viewer: User | None) -> ReportContext:
    """The context of the staff's report page, in four queries at most (one with no reporter
    history). Agency staff never get the reporter's history: only the operations centre knows
    who reported."""
    visible = reports_for_staff(viewer).exclude(pk=report.pk).defer("description")
    nearby = list(
        _likely_duplicates(visible, category=report.category, lat=report.lat, lng=report.lng)
    )
    same_place = list(
        reports_near(visible, lat=report.lat, lng=report.lng, radius=SAME_PLACE_METRES)
        .filter(created_at__lt=report.created_at)
        .order_by("-created_at", "-id")[:SAME_PLACE_LIMIT]
    )
    reporter = None
    if viewer is not None and viewer.is_citywide:
        theirs = reports_for_staff(viewer).filter(reporter_id=report.reporter_id)
        reporter = ReporterHistory(
            count=theirs.count(),
            latest=list(
                # Newest first by id: the (reporter, -id) index answers it.
                theirs.exclude(pk=report.pk)
                .defer("description")
                .order_by("-id")[:REPORTER_HISTORY_LIMIT]
            ),
        )
    return ReportContext(nearby=nearby, same_place=same_place, reporter=reporter)


# Photo privacy (reports.privacy)


def photos_waiting(*, older_than: timedelta, limit: int = 500) -> list[int]:
    """Photos still waiting for the privacy step this long after they were stored: their
    task was lost (a broker outage, a dead worker)."""
    return list(
        Photo.objects.filter(
            redaction=Redaction.PENDING, created_at__lt=timezone.now() - older_than
        )
        .order_by("id")
        .values_list("pk", flat=True)[:limit]
    )


def photos_unpublished(*, after_id: int = 0, include_failed: bool = True) -> QuerySet[Photo]:
    """Photos with no public rendition yet, oldest first from `after_id` (the back-fill)."""
    states = [Redaction.PENDING, Redaction.FAILED] if include_failed else [Redaction.PENDING]
    return Photo.objects.filter(redaction__in=states, pk__gt=after_id).order_by("id")


def photo_originals_due(
    *, closed_before: datetime, every_published: bool, limit: int = 500
) -> list[int]:
    """Ids of the photos whose evidence copy is past keeping: their report closed before
    `closed_before`, or (with `every_published`) any whose public rendition exists."""
    due = Q(report__status__in=CLOSED_STATUSES, report__closed_at__lt=closed_before)
    if every_published:
        due |= Q(redaction=Redaction.DONE)
    return list(
        Photo.objects.filter(due, original_deleted_at__isnull=True)
        .exclude(image="")
        .order_by("id")
        .values_list("pk", flat=True)[:limit]
    )


def report_photo_for_staff(user: User | None, *, report_id: int, photo_id: int) -> Photo | None:
    """A photo of a report this staff member may open in the admin, with its regions."""
    report = reports_for_staff(user).filter(pk=report_id).first()
    if report is None:
        return None
    return (
        Photo.objects.filter(report=report, pk=photo_id)
        .prefetch_related(Prefetch("regions", queryset=PhotoRegion.objects.order_by("id")))
        .first()
    )
