"""Input and output shapes of the alerts API. Serializers never write."""

from __future__ import annotations

import math
from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from alerts.models import Alert
from reports.api.serializers import CodeNameOutput


class AlertQuery(serializers.Serializer):
    lat = serializers.FloatField(
        min_value=-90, max_value=90, required=False, help_text=_("Latitude of the place.")
    )
    lng = serializers.FloatField(
        min_value=-180, max_value=180, required=False, help_text=_("Longitude of the place.")
    )

    def _finite(self, value: float) -> float:
        if not math.isfinite(value):
            raise serializers.ValidationError(_("A valid number is required."), code="invalid")
        return value

    def validate_lat(self, value: float) -> float:
        return self._finite(value)

    def validate_lng(self, value: float) -> float:
        return self._finite(value)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        for name, other in (("lat", "lng"), ("lng", "lat")):
            if name in attrs and other not in attrs:
                raise serializers.ValidationError(
                    {other: [_("Give lat and lng together.")]}, code="required"
                )
        return attrs


class AlertOutput(serializers.ModelSerializer):
    title = serializers.CharField(help_text=_("In the language of Accept-Language (vi or en)."))
    text = serializers.CharField(help_text=_("In the language of Accept-Language (vi or en)."))
    kind_label = serializers.CharField(source="get_kind_display")
    severity_label = serializers.CharField(source="get_severity_display")
    areas = CodeNameOutput(many=True, help_text=_("Empty for a whole-city alert."))
    is_withdrawn = serializers.SerializerMethodField()

    class Meta:
        model = Alert
        fields = [
            "id",
            "kind",
            "kind_label",
            "severity",
            "severity_label",
            "title",
            "text",
            "whole_city",
            "areas",
            "starts_at",
            "ends_at",
            "published_at",
            "is_withdrawn",
        ]

    def get_is_withdrawn(self, alert: Alert) -> bool:
        return alert.state == Alert.State.WITHDRAWN


class AlertListOutput(serializers.Serializer):
    area = CodeNameOutput(
        allow_null=True,
        help_text=_(
            "The area that holds the point asked about; null without one or outside the city."
        ),
    )
    results = AlertOutput(many=True)
