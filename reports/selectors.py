"""Reads: who sees which reports, the feed, reference data and the routing snapshot.

Every list and detail (API and admin) takes its queryset from here, so visibility has one
definition and every caller gets the same, constant number of queries.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.cache import cache
from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from reports.deadlines import WorkCalendar, parse_working_hours
from reports.models import (
    Agency,
    Area,
    Category,
    Event,
    Holiday,
    Photo,
    Report,
    ReportStatus,
    RoutingRule,
)
from reports.routing import AreaIndex, Rule

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


def routing_data_changed() -> None:
    """Tell every process that areas, agencies, categories or rules changed."""
    cache.set(ROUTING_VERSION_KEY, uuid.uuid4().hex, timeout=None)


def routing_snapshot() -> RoutingSnapshot:
    global _snapshot
    version = cache.get(ROUTING_VERSION_KEY)
    if version is None:
        version = uuid.uuid4().hex
        cache.add(ROUTING_VERSION_KEY, version, timeout=None)
        version = cache.get(ROUTING_VERSION_KEY, version)
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


def report_feed(*, user: User | None, mine: bool = False) -> QuerySet[Report]:
    """The public feed, newest first; with `mine`, only the user's own reports."""
    if mine:
        if user is None or not user.is_authenticated:
            return Report.objects.none()
        return _report_base().filter(reporter=user).order_by("-id")
    return reports_visible_to(None).order_by("-id")


def report_detail(*, user: User | None, reference: str) -> Report | None:
    public_events = Event.objects.filter(is_public=True).select_related("actor")
    return (
        reports_visible_to(user)
        .prefetch_related(Prefetch("events", queryset=public_events, to_attr="public_events"))
        .filter(reference=reference)
        .first()
    )


def reports_for_staff(user: User | None) -> QuerySet[Report]:
    """Reports a member of the admin site may see: all for dispatchers and administrators,
    their own agency's for staff and managers, none for anyone else."""
    base = Report.objects.select_related("category", "area", "agency", "assignee")
    if user is None or not user.is_active or not user.is_staff:
        return base.none()
    if user.is_citywide:
        return base
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
    return User.objects.filter(
        agency_id=agency_id, is_active=True, role__in=AGENCY_ROLES
    ).order_by("full_name")


def overdue_condition(now: datetime) -> Q:
    """Open reports with an agency, past their deadline, and not waiting for the citizen
    (the clock is stopped then). Overdue is derived, never stored."""
    return Q(
        status__in=[ReportStatus.ROUTED, ReportStatus.IN_PROGRESS],
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
    version = cache.get(HOLIDAYS_VERSION_KEY)
    if version is None:
        cache.add(HOLIDAYS_VERSION_KEY, uuid.uuid4().hex, timeout=None)
        version = cache.get(HOLIDAYS_VERSION_KEY)
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
