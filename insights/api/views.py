"""Public statistics: `GET /api/v1/stats`, the figures the city publishes."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from hues.api_schema import error_response
from hues.languages import active_language
from insights import disclosure, stats


class StatsQuery(serializers.Serializer):
    date_from = serializers.DateField(
        required=False,
        help_text=_("First day (local time), included; by default 29 days before date_to."),
    )
    date_to = serializers.DateField(
        required=False, help_text=_("Last day (local time), included; by default today.")
    )
    category = serializers.CharField(required=False, max_length=40, help_text=_("A category code."))
    agency = serializers.CharField(required=False, max_length=40, help_text=_("An agency code."))
    area = serializers.CharField(required=False, max_length=10, help_text=_("An area code."))

    def _known(self, kind: str, value: str, message: Any, code: str) -> int:
        item = stats.stats_reference().by_code(kind).get(value)
        if item is None:
            raise serializers.ValidationError(message, code=code)
        return item.id

    def validate_category(self, value: str) -> int:
        return self._known("categories", value, _("No such category."), "unknown_category")

    def validate_agency(self, value: str) -> int:
        return self._known("agencies", value, _("No such agency."), "unknown_agency")

    def validate_area(self, value: str) -> int:
        return self._known("areas", value, _("No such area."), "unknown_area")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        try:
            period = stats.period_between(attrs.get("date_from"), attrs.get("date_to"))
        except stats.InvalidPeriod as error:
            raise serializers.ValidationError(
                {"date_from": [serializers.ErrorDetail(error.message, code=error.code)]}
            ) from error
        return {
            "filters": stats.StatsFilters(
                period=period,
                category_id=attrs.get("category"),
                agency_id=attrs.get("agency"),
                area_id=attrs.get("area"),
            )
        }


# A count under STATS_MIN_COUNT is withheld (null): insights.disclosure.
class FiguresOutput(serializers.Serializer):
    received = serializers.IntegerField(
        allow_null=True, help_text=_("Reports filed in the period (null: withheld, too few).")
    )
    resolved = serializers.IntegerField(
        allow_null=True, help_text=_("Reports resolved in the period (null: withheld, too few).")
    )
    on_time_rate = serializers.FloatField(
        allow_null=True,
        help_text=_("Share (0-1) of the reports resolved in the period that met their deadline."),
    )
    median_resolution_hours = serializers.FloatField(
        allow_null=True, help_text=_("Median hours from filing to resolution.")
    )
    average_resolution_hours = serializers.FloatField(
        allow_null=True, help_text=_("Average hours from filing to resolution.")
    )
    satisfaction = serializers.FloatField(
        allow_null=True, help_text=_("Average rating (1-5) of the reports resolved in the period.")
    )
    ratings = serializers.IntegerField(
        allow_null=True, help_text=_("How many of them were rated (null: withheld, too few).")
    )
    open = serializers.IntegerField(
        allow_null=True, help_text=_("Reports open now (null: withheld, too few).")
    )
    overdue = serializers.IntegerField(
        allow_null=True,
        help_text=_("Open reports past their deadline now (null: withheld, too few)."),
    )


class GroupOutput(FiguresOutput):
    code = serializers.CharField()
    name = serializers.CharField()


class StatsOutput(serializers.Serializer):
    date_from = serializers.DateField()
    date_to = serializers.DateField()
    city = FiguresOutput()
    agencies = GroupOutput(many=True)
    categories = GroupOutput(many=True)
    areas = GroupOutput(many=True)
    channels = GroupOutput(
        many=True, help_text=_("By the channel reports came by (app, Open311, hotline...).")
    )


def _figures(figures: stats.Figures) -> dict[str, Any]:
    return {
        "received": figures.received,
        "resolved": figures.resolved,
        "on_time_rate": figures.on_time_rate,
        "median_resolution_hours": figures.median_resolution_hours,
        "average_resolution_hours": figures.average_resolution_hours,
        "satisfaction": figures.satisfaction,
        "ratings": figures.ratings,
        "open": figures.open,
        "overdue": figures.overdue,
    }


def _groups(groups: list[stats.Group]) -> list[dict[str, Any]]:
    return [
        {"code": group.item.code, "name": group.item.name, **_figures(group.figures)}
        for group in groups
    ]


def statistics_payload(statistics: stats.Statistics) -> dict[str, Any]:
    period = statistics.filters.period
    return StatsOutput(
        {
            "date_from": period.first,
            "date_to": period.last,
            "city": _figures(statistics.city),
            "agencies": _groups(statistics.agencies),
            "categories": _groups(statistics.categories),
            "areas": _groups(statistics.areas),
            "channels": _groups(statistics.channels),
        }
    ).data


class StatsView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        summary="Public statistics",
        description=(
            "Received, resolved, on-time rate, median resolution time and satisfaction for a "
            "period of days in the city's time, city-wide and per agency, category, area and "
            "channel, with the reports open and overdue now. A duplicate merged into another "
            "report is counted once, as the original. Served from a cache refreshed every few "
            "minutes; the operations centre's dashboard shows the same figures.\n\n"
            "The figures count private reports too, so small ones are withheld: every count "
            "under STATS_MIN_COUNT (5 by default), zero included, is null, with the rates, "
            "hours and satisfaction worked out from it; in a breakdown where a single group's "
            "count is withheld, the next smallest is withheld too, and a group with every count "
            "withheld is left out. A narrow filter (a category "
            "in an area over a day) therefore cannot tell whether a report exists that the "
            "public feed does not show."
        ),
        parameters=[StatsQuery],
        responses={
            200: StatsOutput,
            400: error_response(
                "`invalid` (fields: `unknown_category`, `unknown_agency`, `unknown_area`, "
                "`out_of_range`)."
            ),
        },
    )
    def get(self, request: Request) -> Response:
        query = StatsQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        filters: stats.StatsFilters = query.validated_data["filters"]
        key = f"reports:stats:{active_language()}:{filters.cache_key()}"
        payload = cache.get(key)
        if payload is None:
            payload = disclosure.small_counts_withheld(
                statistics_payload(stats.report_statistics(filters)),
                minimum=settings.STATS_MIN_COUNT,
            )
            cache.set(key, payload, timeout=settings.STATS_CACHE_SECONDS)
        return Response(payload)
