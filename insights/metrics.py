"""What /metrics reads from the statistics at scrape time (hues.metrics.register_source):
the reports open and overdue now, by agency. One grouped count over the open reports, read
at most every few seconds per process."""

from __future__ import annotations

from django.db.models import Count
from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric

from insights.stats import stats_reference
from reports.models import OPEN_STATUSES, Report
from reports.selectors import overdue_condition

# Reports no agency has yet (not routed, or waiting for the dispatchers).
NO_AGENCY = "none"


def reports_by_agency() -> list[Metric]:
    rows = (
        Report.objects.filter(status__in=OPEN_STATUSES)
        .values("agency_id")
        .annotate(open=Count("id"), overdue=Count("id", filter=overdue_condition(timezone.now())))
        .order_by()
    )
    counts: dict[int | None, tuple[int, int]] = {
        row["agency_id"]: (row["open"], row["overdue"]) for row in rows
    }
    agencies = stats_reference().agencies
    open_reports = GaugeMetricFamily(
        "hues_reports_open", "Reports open now, by agency code.", labels=["agency"]
    )
    overdue = GaugeMetricFamily(
        "hues_reports_overdue",
        "Reports past their deadline now (the clock running), by agency code.",
        labels=["agency"],
    )
    for pk, agency in sorted(agencies.items(), key=lambda item: item[1].code):
        opened, late = counts.get(pk, (0, 0))
        open_reports.add_metric([agency.code], opened)
        overdue.add_metric([agency.code], late)
    opened, late = counts.get(None, (0, 0))
    open_reports.add_metric([NO_AGENCY], opened)
    overdue.add_metric([NO_AGENCY], late)
    return [open_reports, overdue]
