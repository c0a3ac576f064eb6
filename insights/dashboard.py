"""The operations centre's dashboard in the admin, and its CSV downloads.

Dispatchers and administrators see the whole city; a manager sees their agency and no
filter widens that. Every figure comes from insights.stats, the selectors the public
`GET /api/v1/stats` uses too, so the two agree.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, cast

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.http import urlencode
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from accounts.selectors import request_user
from insights import charts, stats
from insights.exports import export_reports, stream_csv
from insights.maps import MapArea, city_map_svg
from reports.models import OPEN_STATUSES, ReportStatus

# Open reports per 10,000 inhabitants: five classes from light to dark, and none.
MAP_COLOURS = ("#fde9b8", "#fbc36b", "#f08a3c", "#d4502a", "#9e2a1f")
MAP_EMPTY = "#39414d"
OVERDUE_LIMIT = 15


class DashboardFilters(forms.Form):
    date_from = forms.DateField(
        label=_("From"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    date_to = forms.DateField(
        label=_("To"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    category = forms.ChoiceField(label=_("Category"), required=False)
    agency = forms.ChoiceField(label=_("Agency"), required=False)
    area = forms.ChoiceField(label=_("Area"), required=False)

    def __init__(self, data: Any, *, reference: stats.Reference, own_agency: int | None) -> None:
        super().__init__(data)
        self.reference = reference
        self.own_agency = own_agency
        everything = [("", _("All"))]
        cast(forms.ChoiceField, self.fields["category"]).choices = everything + [
            (item.code, item.name) for item in reference.categories.values()
        ]
        cast(forms.ChoiceField, self.fields["area"]).choices = everything + [
            (item.code, item.name) for item in reference.areas.values()
        ]
        if own_agency is None:
            cast(forms.ChoiceField, self.fields["agency"]).choices = everything + [
                (item.code, item.name) for item in reference.agencies.values()
            ]
        else:
            del self.fields["agency"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        try:
            data["period"] = stats.period_between(data.get("date_from"), data.get("date_to"))
        except stats.InvalidPeriod as error:
            self.add_error("date_from", forms.ValidationError(error.message, code=error.code))
        return data

    def _id(self, kind: str, field: str) -> int | None:
        code = self.cleaned_data.get(field)
        return self.reference.by_code(kind)[code].id if code else None

    def filters(self) -> stats.StatsFilters:
        return stats.StatsFilters(
            period=self.cleaned_data["period"],
            category_id=self._id("categories", "category"),
            agency_id=self.own_agency
            if self.own_agency is not None
            else self._id("agencies", "agency"),
            area_id=self._id("areas", "area"),
        )


@dataclass(frozen=True)
class AreaRow:
    item: stats.AreaShape
    open: int
    per_10k: float | None
    colour: str


@dataclass(frozen=True)
class AgencyRow:
    rank: int
    item: stats.Named
    figures: stats.Figures
    on_time_percent: float | None
    satisfaction_percent: float | None


def _filtered(request: HttpRequest) -> DashboardFilters:
    """The dashboard's filters for this viewer, holding their scope (`own_agency`: None for
    the city); refused for anyone without a dashboard."""
    scope = stats.dashboard_scope(request_user(request))
    if scope is None:
        raise PermissionDenied
    return DashboardFilters(
        request.GET, reference=stats.stats_reference(), own_agency=scope.agency_id
    )


def ranked_agencies(groups: Iterable[stats.Group]) -> list[AgencyRow]:
    """Best first: the highest on-time rate, then the quickest; agencies with nothing
    resolved yet come last."""

    def key(group: stats.Group) -> tuple[Any, ...]:
        figures = group.figures
        rate = figures.on_time_rate
        hours = figures.average_resolution_hours
        return (
            rate is None,
            -(rate or 0),
            hours if hours is not None else float("inf"),
            group.item.code,
        )

    return [
        AgencyRow(
            rank=rank,
            item=group.item,
            figures=group.figures,
            on_time_percent=None
            if group.figures.on_time_rate is None
            else round(group.figures.on_time_rate * 100, 1),
            satisfaction_percent=None
            if group.figures.satisfaction is None
            else round(group.figures.satisfaction / 5 * 100, 1),
        )
        for rank, group in enumerate(sorted(groups, key=key), start=1)
    ]


def area_rows(reference: stats.Reference, groups: Iterable[stats.Group]) -> list[AreaRow]:
    """Every area with its open reports per 10,000 inhabitants and its colour on the map."""
    open_by_area = {group.item.id: group.figures.open for group in groups}
    densities: dict[int, float | None] = {}
    for pk, area in reference.areas.items():
        count = open_by_area.get(pk, 0)
        densities[pk] = round(count / area.population * 10000, 2) if area.population else None
    top = charts.nice_ceiling(max((d for d in densities.values() if d), default=0))
    rows = []
    for pk, area in reference.areas.items():
        density = densities[pk]
        if not density:
            colour = MAP_EMPTY
        else:
            step = min(int(density / top * len(MAP_COLOURS)), len(MAP_COLOURS) - 1)
            colour = MAP_COLOURS[step]
        rows.append(AreaRow(area, open_by_area.get(pk, 0), density, colour))
    rows.sort(key=lambda row: (-(row.per_10k or 0), row.item.name))
    return rows


def map_legend(rows: list[AreaRow]) -> list[tuple[str, str]]:
    top = charts.nice_ceiling(max((row.per_10k or 0 for row in rows), default=0))
    width = top / len(MAP_COLOURS)
    return [(MAP_EMPTY, "0")] + [
        (colour, f"{width * n:g} - {width * (n + 1):g}") for n, colour in enumerate(MAP_COLOURS)
    ]


def _status_labels() -> dict[str, str]:
    return {value: str(label) for value, label in ReportStatus.choices}


STATUS_COLOURS = {
    ReportStatus.SUBMITTED: charts.GREY,
    ReportStatus.NEEDS_TRIAGE: charts.VERMILION,
    ReportStatus.ROUTED: charts.SKY,
    ReportStatus.IN_PROGRESS: charts.BLUE,
}


def dashboard_view(request: HttpRequest) -> HttpResponse:
    form = _filtered(request)
    own_agency = form.own_agency
    context: dict[str, Any] = {
        **admin.site.each_context(request),
        "title": _("Operations dashboard"),
        "form": form,
        "own_agency": stats.stats_reference().agencies.get(own_agency) if own_agency else None,
    }
    if not form.is_valid():
        return TemplateResponse(request, "admin/insights/dashboard.html", context, status=400)
    filters = form.filters()
    reference = stats.stats_reference()
    figures = stats.dashboard_figures(filters, overdue_limit=OVERDUE_LIMIT)
    total = figures.total
    agencies = ranked_agencies(figures.agencies)
    areas = area_rows(reference, figures.areas)
    daily = figures.daily
    open_counts = figures.open_counts
    by_status = stats.open_by_status(open_counts)
    labels = _status_labels()
    open_statuses = [status for status in STATUS_COLOURS if status in OPEN_STATUSES]
    status_series = [
        charts.Series(
            labels[status],
            STATUS_COLOURS[status],
            [c.by_status.get(status, 0) for c in open_counts],
        )
        for status in open_statuses
    ]
    daily_series = [
        charts.Series(str(_("Received")), charts.BLUE, [day.received for day in daily]),
        charts.Series(str(_("Resolved")), charts.GREEN, [day.resolved for day in daily]),
    ]
    query = request.GET.urlencode()
    context.update(
        {
            "filters": filters,
            "period": filters.period,
            "total": total,
            "on_time_percent": None
            if total.on_time_rate is None
            else round(total.on_time_rate * 100, 1),
            "agencies": agencies,
            "areas": areas,
            "map": city_map_svg(
                [
                    MapArea(
                        code=row.item.code,
                        name=row.item.name,
                        rings=row.item.rings,
                        fill=row.colour,
                        label=gettext("%(count)s open, %(density)s per 10,000 inhabitants")
                        % {"count": row.open, "density": _number(row.per_10k)},
                    )
                    for row in areas
                ],
                label=str(_("Open reports per 10,000 inhabitants, by ward and commune")),
            ),
            "map_legend": map_legend(areas),
            "daily": daily,
            "daily_chart": charts.column_chart(
                [date_format(day.day, "d/m") for day in daily],
                daily_series,
                title=str(_("Reports received and resolved per day")),
                label_every=max(len(daily) // 10, 1),
            ),
            "daily_legend": charts.legend(daily_series),
            "category_rows": [
                (count, [count.by_status.get(status, 0) for status in open_statuses])
                for count in open_counts
            ],
            "open_statuses": [(status, labels[status]) for status in open_statuses],
            "category_chart": charts.bar_chart(
                [count.item.name for count in open_counts],
                status_series,
                title=str(_("Open reports by category and status")),
            ),
            "status_legend": charts.legend(status_series),
            "by_status": [(labels[status], n) for status, n in by_status.items()],
            "status_chart": charts.bar_chart(
                [labels[status] for status in by_status],
                [
                    charts.Series(
                        str(_("Open")), charts.BLUE, [by_status[status] for status in by_status]
                    )
                ],
                title=str(_("Open reports by status")),
                width=320,
                row=30,
                label_width=120,
            ),
            "overdue": [
                (report, overdue_by(timezone.now() - report.due_at)) for report in figures.overdue
            ],
            "reports_csv": reverse("admin:reports_dashboard_reports_csv") + f"?{query}",
            "agencies_csv": reverse("admin:reports_dashboard_agencies_csv") + f"?{query}",
            "changelist": reverse("admin:reports_report_changelist"),
            "overdue_link": reverse("admin:reports_report_changelist")
            + "?"
            + urlencode({"overdue": "yes"}),
        }
    )
    return TemplateResponse(request, "admin/insights/dashboard.html", context)


def overdue_by(late: timedelta) -> str:
    """How long past its deadline, in days and hours (calendar time)."""
    days, seconds = late.days, late.seconds
    hours = seconds // 3600
    if days:
        return ngettext("%(days)d day %(hours)d h", "%(days)d days %(hours)d h", days) % {
            "days": days,
            "hours": hours,
        }
    return gettext("%(hours)d h %(minutes)d min") % {
        "hours": hours,
        "minutes": seconds % 3600 // 60,
    }


def _number(value: float | None) -> str:
    return "—" if value is None else f"{value:g}"


def dashboard_reports_csv(request: HttpRequest) -> HttpResponseBase:
    """The reports the dashboard counts as received in its period, with its filters."""
    form = _filtered(request)
    if not form.is_valid():
        return HttpResponse(form.errors.as_text(), status=400, content_type="text/plain")
    filters = form.filters()
    period = filters.period
    received = filters.reports().filter(created_at__gte=period.start, created_at__lt=period.end)
    return export_reports(received, f"reports-{period.first}-{period.last}.csv")


def dashboard_agencies_csv(request: HttpRequest) -> HttpResponseBase:
    """The agency table of the dashboard, for the city's monthly report."""
    form = _filtered(request)
    if not form.is_valid():
        return HttpResponse(form.errors.as_text(), status=400, content_type="text/plain")
    filters = form.filters()
    rows = ranked_agencies(stats.figures_by(filters, group="agency"))
    header = [
        str(label)
        for label in (
            _("Rank"),
            _("Agency code"),
            _("Agency"),
            _("Received"),
            _("Resolved"),
            _("On time"),
            _("On-time rate (%)"),
            _("Average resolution (hours)"),
            _("Median resolution (hours)"),
            _("Satisfaction (1-5)"),
            _("Ratings"),
            _("Open"),
            _("Overdue"),
        )
    ]

    def cell(value: float | None) -> Any:
        return "" if value is None else value

    body = (
        [
            row.rank,
            row.item.code,
            row.item.name,
            row.figures.received,
            row.figures.resolved,
            row.figures.on_time,
            cell(row.on_time_percent),
            cell(row.figures.average_resolution_hours),
            cell(row.figures.median_resolution_hours),
            cell(row.figures.satisfaction),
            row.figures.ratings,
            row.figures.open,
            row.figures.overdue,
        ]
        for row in rows
    )
    period = filters.period
    return stream_csv(f"agencies-{period.first}-{period.last}.csv", header, body)
