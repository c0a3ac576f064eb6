"""Reads for alerts: who an alert is for, which alerts are current where, and the lists of
the API and the admin. Each owns its prefetching, so every caller runs the same, constant
number of queries."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db.models import Case, IntegerField, Prefetch, Q, QuerySet, Value, When
from django.utils import timezone

from accounts.models import Role, User
from alerts.models import Alert
from reports.models import Area, Report
from reports.selectors import routing_snapshot

if TYPE_CHECKING:
    from collections.abc import Collection

# Alerts citizens see: being sent or sent, not withdrawn.
LISTED_STATES = (Alert.State.PUBLISHING, Alert.State.PUBLISHED)
# The detail also answers for a withdrawn alert (an app may hold its notification).
PUBLIC_STATES = (*LISTED_STATES, Alert.State.WITHDRAWN)
# The API lists at most this many current alerts (most severe first).
LIST_MAX = 50
# The largest primary key (a bigint): a larger id in a URL is no alert, not a database error.
MAX_ID = 2**63 - 1

SEVERITY_RANK = Case(
    When(severity=Alert.Severity.DANGER, then=Value(0)),
    When(severity=Alert.Severity.WARNING, then=Value(1)),
    default=Value(2),
    output_field=IntegerField(),
)


def _area_fields(areas: QuerySet[Area]) -> QuerySet[Area]:
    # An area's boundary (kilobytes of GeoJSON) is for routing, not for an alert.
    return areas.only("id", "code", "name", "name_en")


def _recent_cutoff(now: datetime | None = None) -> datetime:
    return (now or timezone.now()) - timedelta(days=settings.ALERT_RECENT_REPORT_DAYS)


def alert_recipients(alert: Alert, *, now: datetime | None = None) -> QuerySet[User]:
    """The citizens an alert is for, as one SQL query: active, not deleted, with a phone
    (not an Open311 service account), and, unless it is for the whole city, whose home area
    is one of the alert's areas or who filed a report there in the last
    ALERT_RECENT_REPORT_DAYS days."""
    citizens = User.objects.filter(
        role=Role.CITIZEN.value, is_active=True, deleted_at__isnull=True, phone__startswith="+"
    )
    if alert.whole_city:
        return citizens.order_by()
    area_ids = Alert.areas.through.objects.filter(alert_id=alert.pk).values("area_id")
    recent_reporters = Report.objects.filter(
        area_id__in=area_ids, created_at__gte=_recent_cutoff(now)
    ).values("reporter_id")
    return citizens.filter(Q(home_area_id__in=area_ids) | Q(pk__in=recent_reporters)).order_by()


def _with_areas(queryset: QuerySet[Alert]) -> QuerySet[Alert]:
    return queryset.prefetch_related(Prefetch("areas", queryset=_area_fields(Area.objects.all())))


def area_at(*, lat: float, lng: float) -> Area | None:
    """The area that holds a point (the routing index, in memory), or None outside the city."""
    snapshot = routing_snapshot()
    code = snapshot.index.locate(lng, lat)
    if code is None:
        return None
    return _area_fields(Area.objects.filter(pk=snapshot.area_ids[code])).first()


def _current(now: datetime | None = None) -> QuerySet[Alert]:
    moment = now or timezone.now()
    return Alert.objects.filter(state__in=LISTED_STATES, starts_at__lte=moment, ends_at__gt=moment)


def _in_areas(area_ids: Collection[int] | QuerySet[Any, Any]) -> Q:
    alerts_there = Alert.areas.through.objects.filter(area_id__in=area_ids).values("alert_id")
    return Q(whole_city=True) | Q(pk__in=alerts_there)


def _listed(queryset: QuerySet[Alert]) -> QuerySet[Alert]:
    ordered = queryset.annotate(severity_rank=SEVERITY_RANK).order_by(
        "severity_rank", "-starts_at", "-id"
    )
    return _with_areas(ordered)[:LIST_MAX]


def alerts_current_at(*, area: Area | None, now: datetime | None = None) -> QuerySet[Alert]:
    """Current alerts for a place: those of its area and the whole city's (outside every
    area: the whole city's only). Most severe first, then the newest; at most LIST_MAX."""
    queryset = _current(now)
    if area is None:
        return _listed(queryset.filter(whole_city=True))
    return _listed(queryset.filter(_in_areas([area.pk])))


def alerts_current_for(*, user: User | None, now: datetime | None = None) -> QuerySet[Alert]:
    """Current alerts for a user: those of their home area and of the areas of their reports
    of the last ALERT_RECENT_REPORT_DAYS days, and the whole city's. Anonymous: the whole
    city's only."""
    queryset = _current(now)
    if user is None:
        return _listed(queryset.filter(whole_city=True))
    report_areas = Report.objects.filter(
        reporter=user, created_at__gte=_recent_cutoff(now), area__isnull=False
    ).values("area_id")
    where = _in_areas(report_areas)
    if user.home_area_id is not None:
        where |= _in_areas([user.home_area_id])
    return _listed(queryset.filter(where))


def alert_public(alert_id: int) -> Alert | None:
    """A published (or since withdrawn) alert; drafts do not exist for the public."""
    if not 0 < alert_id <= MAX_ID:
        return None
    return _with_areas(Alert.objects.filter(pk=alert_id, state__in=PUBLIC_STATES)).first()


def alerts_for_admin() -> QuerySet[Alert]:
    return _with_areas(Alert.objects.all())


def alerts_stalled(*, older_than: timedelta, limit: int = 100) -> list[int]:
    """Alerts still publishing with no progress for `older_than`: their tasks were lost (a
    broker outage, a dead worker)."""
    cutoff = timezone.now() - older_than
    return list(
        Alert.objects.filter(state=Alert.State.PUBLISHING)
        .filter(Q(progress_at__lt=cutoff) | Q(progress_at__isnull=True, published_at__lt=cutoff))
        .order_by("id")
        .values_list("id", flat=True)[:limit]
    )
