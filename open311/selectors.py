"""Reads for Open311: services are our active categories, service requests our public
reports (the visibility of the public feed, reports.selectors.reports_visible_to).

The two public lists (services, and service requests by filters) are read from a replica
(hues.db), as the public feed is; a request looked up by its id or token, which a client
asks for right after filing, reads the primary."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from django.db.models import F, OuterRef, QuerySet, Subquery

from hues.db import replica
from reports.models import OPEN_STATUSES, Category, Event, Photo, Redaction, Report
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


def _service_requests() -> QuerySet[Report]:
    """Public reports with what Open311 shows, in one query: nothing about the reporter."""
    notes = (
        Event.objects.filter(report=OuterRef("pk"), is_public=True, kind__in=STATUS_NOTE_KINDS)
        .exclude(message="")
        .order_by("-created_at", "-id")
        .values("message")[:1]
    )
    first_photo = (
        Photo.objects.filter(
            report=OuterRef("pk"),
            kind=Photo.Kind.EVIDENCE,
            hidden_at__isnull=True,
            redaction=Redaction.DONE,  # only the public rendition, faces and plates obscured
        )
        .exclude(public_image="")
        .order_by("id")
        .values("public_image")[:1]
    )
    return (
        reports_visible_to(None)
        .select_related(None)
        .prefetch_related(None)
        .select_related("category", "agency")
        .only(*REQUEST_FIELDS)
        .annotate(
            status_notes=Subquery(notes),
            first_photo=Subquery(first_photo),
            submitted_media_url=F("open311_submission__media_url"),
        )
    )


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
    otherwise from a replica."""
    requests = _service_requests()
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
    return list(requests.order_by("-id")[:MAX_REQUESTS])


def service_request_get(reference: str) -> Report | None:
    return _service_requests().filter(reference=reference).first()


def service_request_for_token(token: str) -> Report | None:
    """The report an Open311 client filed, by its token: we answer with the reference at
    once, so the token is the reference."""
    return _service_requests().filter(reference=token, open311_submission__isnull=False).first()
