"""Filters of the report feed. They take codes and references, never database ids."""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from reports.models import Report, ReportStatus


class StrictBooleanField(forms.NullBooleanField):
    """true/false (or 1/0); anything else is an error. Django's NullBooleanField reads an
    unknown value as "not given", so `mine=maybe` would silently show the public feed."""

    widget = forms.TextInput  # NullBooleanSelect, too, reads "maybe" as "not given"
    default_error_messages = {"invalid": _("Enter true or false.")}
    TRUE = frozenset({"true", "True", "1"})
    FALSE = frozenset({"false", "False", "0"})

    def to_python(self, value: Any) -> bool | None:  # type: ignore[override]
        if value is None or value == "":
            return None
        if value is True or value in self.TRUE:
            return True
        if value is False or value in self.FALSE:
            return False
        raise forms.ValidationError(self.error_messages["invalid"], code="invalid")


class StrictBooleanFilter(django_filters.BooleanFilter):
    field_class = StrictBooleanField


class ReportFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=ReportStatus.choices)
    category = django_filters.CharFilter(field_name="category__code", max_length=40)
    area = django_filters.CharFilter(field_name="area__code", max_length=10)
    agency = django_filters.CharFilter(field_name="agency__code", max_length=40)
    created_after = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")
    mine = StrictBooleanFilter(
        method="filter_mine",
        label=_("Only my reports (also the private ones); needs a signed-in user."),
    )

    class Meta:
        model = Report
        fields: list[str] = []

    def filter_mine(self, queryset: QuerySet[Report], name: str, value: bool) -> QuerySet[Report]:
        # The view already chose the base queryset from the selector (see ReportViewSet).
        return queryset
