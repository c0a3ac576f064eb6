"""Filters of the report feed. They take codes and references, never database ids."""

from __future__ import annotations

import django_filters
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from reports.models import Report, ReportStatus


class ReportFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=ReportStatus.choices)
    category = django_filters.CharFilter(field_name="category__code", max_length=40)
    area = django_filters.CharFilter(field_name="area__code", max_length=10)
    agency = django_filters.CharFilter(field_name="agency__code", max_length=40)
    created_after = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")
    mine = django_filters.BooleanFilter(
        method="filter_mine",
        label=_("Only my reports (also the private ones); needs a signed-in user."),
    )

    class Meta:
        model = Report
        fields: list[str] = []

    def filter_mine(self, queryset: QuerySet[Report], name: str, value: bool) -> QuerySet[Report]:
        # The view already chose the base queryset from the selector (see ReportViewSet).
        return queryset
