"""Alerts API: the current alerts for a place or for the caller, and one alert."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import viewsets
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.selectors import request_user
from alerts import selectors
from alerts.api.serializers import AlertListOutput, AlertOutput, AlertQuery
from hues.api_schema import AutoSchema, error_response


class AlertSchema(AutoSchema):
    """The list answers one object (the area asked about and its alerts), not an array."""

    def _is_list_view(self, serializer: Any = None) -> bool:
        return False


class AlertViewSet(viewsets.GenericViewSet):
    schema = AlertSchema()
    serializer_class = AlertOutput
    permission_classes = [AllowAny]
    pagination_class = None
    filter_backends: list[Any] = []
    lookup_value_regex = r"\d+"

    @extend_schema(
        summary="Current alerts",
        operation_id="alerts_list",
        description=(
            "Alerts in force now (between their start and end), most severe first, at most "
            f"{selectors.LIST_MAX}. With lat and lng: those of the area that holds the point "
            "and the whole city's (outside the city, the whole city's only). Without a point, for "
            "a signed-in user: those of their home area and of the areas of their reports of the "
            "last 30 days (ALERT_RECENT_REPORT_DAYS), and the whole city's; anonymously, the "
            "whole city's only. Title and text follow Accept-Language (vi, the default, or en)."
        ),
        parameters=[AlertQuery],
        responses={
            200: AlertListOutput,
            400: error_response(
                "`invalid` (fields lat, lng): out of range, not a number, or one without the other."
            ),
        },
    )
    def list(self, request: Request) -> Response:
        query = AlertQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        point = query.validated_data
        if "lat" in point:
            area = selectors.area_at(lat=point["lat"], lng=point["lng"])
            alerts = selectors.alerts_current_at(area=area)
        else:
            area = None
            alerts = selectors.alerts_current_for(user=request_user(request))
        body = {"area": area, "results": list(alerts)}
        return Response(AlertListOutput(body, context=self.get_serializer_context()).data)

    @extend_schema(
        summary="An alert",
        description=(
            "A published alert, also after it ended or was withdrawn (is_withdrawn), so an app "
            "can show the alert a notification is about."
        ),
        responses={
            200: AlertOutput,
            404: error_response("`not_found`: no such published alert."),
        },
    )
    def retrieve(self, request: Request, pk: str) -> Response:
        alert = selectors.alert_public(int(pk))
        if alert is None:
            raise NotFound()
        return Response(AlertOutput(alert, context=self.get_serializer_context()).data)
