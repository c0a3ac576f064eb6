"""The inbox's filters."""

from __future__ import annotations

import django_filters
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from hues.filters import StrictBooleanFilter
from notifications.models import Notification


class NotificationFilter(django_filters.FilterSet):
    unread = StrictBooleanFilter(
        method="filter_unread", label=_("true: only unread; false: only read.")
    )

    class Meta:
        model = Notification
        fields: list[str] = []

    def filter_unread(
        self, queryset: QuerySet[Notification], name: str, value: bool | None
    ) -> QuerySet[Notification]:
        if value is None:
            return queryset
        return queryset.filter(read_at__isnull=value)
