"""The dashboard and the CSV downloads in the admin: added to the reports' admin, which knows
nothing of them (insights depends on reports, never the other way)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.urls import URLPattern, path
from django.utils import timezone

from accounts.selectors import request_user
from insights import dashboard, stats
from insights.exports import export_reports
from reports.admin import ReportAdmin
from reports.models import Report


class ReportWithInsightsAdmin(ReportAdmin):
    """The report list with its Dashboard link and its Export CSV button."""

    change_list_template = "admin/insights/report_change_list.html"

    def get_urls(self) -> list[URLPattern]:
        return [
            path(
                "dashboard/",
                self.admin_site.admin_view(dashboard.dashboard_view),
                name="reports_dashboard",
            ),
            path(
                "dashboard/reports.csv",
                self.admin_site.admin_view(dashboard.dashboard_reports_csv),
                name="reports_dashboard_reports_csv",
            ),
            path(
                "dashboard/agencies.csv",
                self.admin_site.admin_view(dashboard.dashboard_agencies_csv),
                name="reports_dashboard_agencies_csv",
            ),
            path(
                "export.csv",
                self.admin_site.admin_view(self.export_view),
                name="reports_report_export",
            ),
            *super().get_urls(),
        ]

    def export_view(self, request: HttpRequest) -> HttpResponseBase:
        """The change list as it is filtered, searched and ordered, as a CSV download."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        changelist = self.get_changelist_instance(request)
        return export_reports(
            changelist.get_queryset(request), f"reports-{timezone.localdate().isoformat()}.csv"
        )

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        extra = dict(extra_context or {})
        extra["export_query"] = request.GET.urlencode()
        extra["dashboard_allowed"] = stats.dashboard_scope(request_user(request)) is not None
        return super().changelist_view(request, extra)


admin.site.unregister(Report)
admin.site.register(Report, ReportWithInsightsAdmin)
