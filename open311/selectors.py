"""Reads for Open311: services are our active categories, service requests our public
reports (the visibility of the public feed, reports.selectors.reports_visible_to).

The two public lists (services, and service requests by filters) are read from a replica
(hues.db), as the public feed is; a request looked up by its id or token, which a client
asks for right after filing, reads the primary."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Model, QuerySet

from hues.db import replica
from open311.models import Submission
from reports import rows
from reports.models import OPEN_STATUSES, Agency, Category, Event, Photo, Redaction, Report
from reports.selectors import categories_active, reports_visible_to

OPEN = "open"
CLOSED = "closed"
MAX_REQUESTS = 1000
# What the city tells the public about a report, as its status_notes: staff updates and the
# resolution or rejection message (never the citizen's own comments or internal notes).
STATUS_NOTE_KINDS = (Event.Kind.PUBLIC_UPDATE, Event.Kind.RESOLVED, Event.Kind.REJECTED)
REQUEST_FIELDS = (
    "reference",
    "status",
    "description",
    "address",
    "lat",
    "lng",
    "created_at",
    "updated_at",
    "due_at",
    "category__code",
    "category__name_vi",
    "category__name_en",
    "agency__name",
    "agency__name_en",
)


def open311_status(status: str) -> str:
    """submitted, needs_triage, routed, in_progress → open; resolved, closed, rejected →
    closed."""
    return OPEN if status in OPEN_STATUSES else CLOSED


def services_active() -> QuerySet[Category]:
    return categories_active().using(replica())


def service_get(code: str) -> Category | None:
    return categories_active().filter(code=code).first()


def service_codes_unknown(codes: Collection[str]) -> list[str]:
    """The codes that name no category at all (an inactive one still has its reports)."""
    known = set(Category.objects.filter(code__in=codes).values_list("code", flat=True))
    return [code for code in codes if code not in known]


def service_requests(
    *,
    references: Collection[str] | None = None,
    service_codes: Collection[str] | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    statuses: Collection[str] | None = None,
) -> list[Report]:
    """Public reports, newest first, at most MAX_REQUESTS. References, when given, override
    every other filter (GeoReport v2); the date range applies to when a report was filed.
    By references, from the primary: a client asks for the requests it has just filed;
    otherwise from a replica.

    The filters make a narrow query of the page's ids; what each request shows comes from
    the statement written once around it (_request_plan), as for a single request."""
    requests = reports_visible_to(None).select_related(None).prefetch_related(None)
    if references is not None:
        requests = requests.filter(reference__in=references)
    else:
        requests = requests.using(replica())
        if service_codes:
            requests = requests.filter(category__code__in=service_codes)
        if start is not None:
            requests = requests.filter(created_at__gte=start)
        if end is not None:
            requests = requests.filter(created_at__lte=end)
        if statuses and set(statuses) == {OPEN}:
            requests = requests.filter(status__in=OPEN_STATUSES)
        elif statuses and set(statuses) == {CLOSED}:
            requests = requests.exclude(status__in=OPEN_STATUSES)
    page = requests.order_by("-id").values_list("id")[:MAX_REQUESTS]
    narrow = rows.compiled(page)
    if narrow is None:
        return []
    page_sql, page_params = narrow
    connection = connections[page.db]
    plan = _request_plan(connection)
    statement = (
        f"SELECT {plan.selected} FROM ({page_sql}) page"  # noqa: S608
        f" INNER JOIN {plan.table} r ON r.id = page.id{plan.joins} ORDER BY page.id DESC"
    )
    found = []
    # A page of a thousand shares a few dozen categories and agencies: one instance each.
    shared: dict[tuple[type[Model], Any], Model] = {}
    with connection.cursor() as cursor:
        cursor.execute(statement, [*plan.parameters, *page_params])
        for row in cursor.fetchall():
            found.append(_request_from_row(plan, row, connection, shared))
    return found


# One service request by its id, the Open311 twin of a report's link (the long tail: issue
# 17), and the requests of a list, in one hand-written statement each (reports.rows) instead
# of a queryset built and compiled per request. It selects what Open311 shows (the fields,
# the latest status note, the first public photo and the submitted media URL);
# tests/open311/test_fast_reads.py holds it to the ORM's queryset of the same.


@dataclass(frozen=True)
class _RequestPlan:
    report: rows.Columns[Report]
    joined: tuple[rows.Columns[Category], rows.Columns[Agency]]
    table: str
    selected: str
    joins: str
    parameters: tuple[str, ...]


@rows.per_database
def _request_plan(connection: BaseDatabaseWrapper) -> _RequestPlan:
    """The columns, joins and parameters of a service request's row on this kind of
    database: the report under `r`, then `FROM ... r` and the joins."""
    quote = connection.ops.quote_name
    fields = [name for name in REQUEST_FIELDS if "__" not in name]
    report = rows.Columns(Report, "r", only=[*fields, "category", "agency"])
    category = rows.Columns(Category, "c", only=["code", "name_vi", "name_en"])
    agency = rows.Columns(Agency, "g", only=["name", "name_en"])
    kinds = ", ".join(["%s"] * len(STATUS_NOTE_KINDS))
    # Names from the models' metadata, quoted; every value is a bound parameter.
    selected = (
        f"{report.sql(connection)}, {category.sql(connection)}, "  # noqa: S608
        f"{agency.sql(connection)},"
        f" (SELECT e.message FROM {quote(Event._meta.db_table)} e WHERE e.report_id = r.id"
        f" AND e.is_public AND e.kind IN ({kinds}) AND NOT (e.message = '')"
        " ORDER BY e.created_at DESC, e.id DESC LIMIT 1),"
        f" (SELECT p.public_image FROM {quote(Photo._meta.db_table)} p"
        " WHERE p.report_id = r.id AND p.kind = %s AND p.hidden_at IS NULL"
        " AND p.redaction = %s AND NOT (p.public_image = '') ORDER BY p.id LIMIT 1),"
        " s.id, s.media_url"
    )
    joins = (
        f" INNER JOIN {quote(Category._meta.db_table)} c ON c.id = r.category_id"
        f" LEFT OUTER JOIN {quote(Agency._meta.db_table)} g ON g.id = r.agency_id"
        f" LEFT OUTER JOIN {quote(Submission._meta.db_table)} s ON s.report_id = r.id"
    )
    parameters = (*STATUS_NOTE_KINDS, Photo.Kind.EVIDENCE, Redaction.DONE)
    return _RequestPlan(
        report,
        (category, agency),
        quote(Report._meta.db_table),
        selected,
        joins,
        tuple(map(str, parameters)),
    )


def _request_from_row(
    plan: _RequestPlan,
    row: Sequence[Any],
    connection: BaseDatabaseWrapper,
    shared: dict[tuple[type[Model], Any], Model] | None = None,
) -> Report:
    """The report of a service request's row, with its category, agency and annotations
    (`shared`: rows.build_joined's instances of one statement)."""
    report = plan.report.build_present(row, 0, connection)
    related, start = rows.build_joined(row, plan.report.width, plan.joined, connection, shared)
    report.category, report.agency = related
    notes, first_photo, _submission, media_url = row[start:]
    report.status_notes = notes  # type: ignore[attr-defined]
    report.first_photo = first_photo  # type: ignore[attr-defined]
    report.submitted_media_url = media_url  # type: ignore[attr-defined]
    return report


def _service_request_one(reference: str, *, submitted: bool) -> Report | None:
    connection = connections[DEFAULT_DB_ALIAS]
    plan = _request_plan(connection)
    statement = (
        f"SELECT {plan.selected} FROM {plan.table} r{plan.joins}"  # noqa: S608
        # reports_visible_to(None): public reports only.
        " WHERE r.reference = %s AND r.is_public"
    )
    with connection.cursor() as cursor:
        cursor.execute(statement, [*plan.parameters, reference])
        row = cursor.fetchone()
    if row is None:
        return None
    if submitted and row[-2] is None:
        return None  # not filed through Open311: its reference is no token
    return _request_from_row(plan, row, connection)


def service_request_get(reference: str) -> Report | None:
    return _service_request_one(reference, submitted=False)


def service_request_for_token(token: str) -> Report | None:
    """The report an Open311 client filed, by its token: we answer with the reference at
    once, so the token is the reference."""
    return _service_request_one(token, submitted=True)
