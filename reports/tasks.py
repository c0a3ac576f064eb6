"""Background work for reports: routing, and the sweeper that re-drives lost routing."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from hues.scheduling import enqueue
from reports import lifecycle
from reports.models import Report, ReportStatus


@shared_task(
    name="reports.route",
    autoretry_for=(OSError,),
    retry_backoff=True,
    retry_backoff_max=120,
    max_retries=5,
)
def route_report(report_id: int) -> None:
    lifecycle.report_route(report_id=report_id)


@shared_task(name="reports.sweep_unrouted")
def sweep_unrouted() -> int:
    """Re-enqueue routing for reports left `submitted` too long (a lost message, a dead
    worker, a broker that was down when the report was filed)."""
    cutoff = timezone.now() - settings.ROUTING_SWEEP_AFTER
    ids = list(
        Report.objects.filter(status=ReportStatus.SUBMITTED, created_at__lt=cutoff)
        .order_by("id")
        .values_list("id", flat=True)[:1000]
    )
    for report_id in ids:
        enqueue("reports.route", report_id)
    return len(ids)
