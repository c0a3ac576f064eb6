"""Reports API: the feed, a report, filing a report, and the reference data."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.exceptions import NotAuthenticated, NotFound, ValidationError
from rest_framework.pagination import Cursor, CursorPagination
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer
from rest_framework.throttling import ScopedRateThrottle

from accounts.permissions import IsVerified
from accounts.selectors import request_user
from reports import selectors, services
from reports.api.filters import ReportFilter, StrictBooleanField
from reports.api.serializers import (
    AreaOutput,
    CategoryOutput,
    ReportCreateInput,
    ReportDetailOutput,
    ReportOutput,
)
from reports.models import Report
from reports.services import PhoneNotVerified, Upload


class FeedPagination(CursorPagination):
    page_size = 20
    max_page_size = 100
    page_size_query_param = "page_size"
    ordering = "-id"

    def decode_cursor(self, request: Request) -> Cursor | None:
        # A cursor the client garbled is invalid input (400), not a missing page (404).
        try:
            return super().decode_cursor(request)
        except NotFound as error:
            raise ValidationError({self.cursor_query_param: [error.detail]}) from error


class ReportViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    lookup_field = "reference"
    lookup_value_regex = r"[A-Z]{2,10}-\d{4}-\d{6,}"
    filterset_class = ReportFilter
    pagination_class = FeedPagination
    serializer_class = ReportOutput
    permission_classes = [AllowAny]
    parser_classes = [MultiPartParser, FormParser]

    def get_permissions(self) -> list[Any]:
        if self.action == "create":
            return [IsAuthenticated()]
        return list(super().get_permissions())

    def get_throttles(self) -> list[Any]:
        if self.action == "create":
            self.throttle_scope = "report_create"
            return [*super().get_throttles(), ScopedRateThrottle()]
        return super().get_throttles()

    def get_serializer_class(self) -> type[BaseSerializer]:
        return ReportDetailOutput if self.action == "retrieve" else ReportOutput

    def _mine(self) -> bool:
        try:
            return bool(StrictBooleanField().clean(self.request.query_params.get("mine")))
        except forms.ValidationError:
            return False  # the filter set answers 400 for it

    def get_queryset(self) -> QuerySet[Report]:
        return selectors.report_feed(user=request_user(self.request), mine=self._mine())

    def get_object(self) -> Report:
        report = selectors.report_detail(
            user=request_user(self.request), reference=self.kwargs["reference"]
        )
        if report is None:
            raise NotFound()
        return report

    @extend_schema(
        parameters=[OpenApiParameter("mine", OpenApiTypes.BOOL, description="Only my reports.")]
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)

    @extend_schema(
        request={"multipart/form-data": ReportCreateInput},
        responses={201: ReportDetailOutput},
    )
    def create(self, request: Request) -> Response:
        if not IsVerified().has_permission(request, self):
            raise PhoneNotVerified()
        data = ReportCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        uploads = [Upload(stream=file, size=file.size) for file in fields.pop("photos")]
        reporter = request_user(request)
        if reporter is None:
            raise NotAuthenticated()
        report = services.report_create(
            reporter=reporter,
            category_code=fields.pop("category"),
            photos=uploads,
            **fields,
        )
        created = selectors.report_detail(user=reporter, reference=report.reference)
        body = ReportDetailOutput(created, context=self.get_serializer_context()).data
        return Response(
            body, status=status.HTTP_201_CREATED, headers={"Location": body["links"]["self"]}
        )


class CategoryViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = CategoryOutput
    pagination_class = None
    permission_classes = [AllowAny]

    def get_queryset(self) -> QuerySet[Any]:
        return selectors.categories_active()


class AreaViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = AreaOutput
    pagination_class = None
    permission_classes = [AllowAny]

    def get_queryset(self) -> QuerySet[Any]:
        return selectors.areas_all()
