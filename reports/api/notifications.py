"""Notifications API: the signed-in user's inbox, newest first, and marking it read."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotAuthenticated
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.models import User
from accounts.selectors import request_user
from reports import notifications
from reports.api.filters import StrictBooleanFilter
from reports.api.pagination import KeysetPagination
from reports.models import Notification


class NotificationOutput(serializers.ModelSerializer):
    report = serializers.CharField(
        source="report_reference",
        allow_null=True,
        help_text=_("The reference of the report it is about, if any."),
    )
    is_read = serializers.SerializerMethodField()

    class Meta:
        model = Notification
        fields = [
            "id",
            "kind",
            "title",
            "body",
            "report",
            "data",
            "created_at",
            "read_at",
            "is_read",
        ]
        extra_kwargs = {
            "kind": {"help_text": _("What happened: the timeline event's kind, e.g. resolved.")},
            "data": {
                "help_text": _(
                    'reference and status of the report; action "rate" when the citizen '
                    "is asked to rate the result."
                )
            },
        }

    def get_is_read(self, notification: Notification) -> bool:
        return notification.read_at is not None


class ReadAllOutput(serializers.Serializer):
    updated = serializers.IntegerField(help_text=_("How many notifications were marked read."))


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


def _me(request: Request) -> User:
    user = request_user(request)
    if user is None:
        raise NotAuthenticated()
    return user


@extend_schema_view(
    list=extend_schema(
        summary="My notifications",
        description="The signed-in user's inbox, newest first (cursor pagination).",
        parameters=[
            OpenApiParameter(
                "unread", OpenApiTypes.BOOL, description="true: only unread; false: only read."
            )
        ],
    )
)
class NotificationViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = NotificationOutput
    permission_classes = [IsAuthenticated]
    pagination_class = KeysetPagination
    filterset_class = NotificationFilter
    lookup_value_regex = r"\d+"

    def get_queryset(self) -> QuerySet[Notification]:
        if getattr(self, "swagger_fake_view", False):
            return Notification.objects.none()
        return notifications.notifications_for(user=_me(self.request))

    @extend_schema(
        summary="Mark a notification read",
        description="Only the caller's own notifications; another user's answers 404.",
        request=None,
        responses={200: NotificationOutput},
    )
    @action(detail=True, methods=["post"])
    def read(self, request: Request, pk: str) -> Response:
        notification = notifications.notification_mark_read(
            user=_me(request), notification_id=int(pk)
        )
        return Response(NotificationOutput(notification).data)

    @extend_schema(
        summary="Mark all my notifications read", request=None, responses={200: ReadAllOutput}
    )
    @action(detail=False, methods=["post"], url_path="read-all")
    def read_all(self, request: Request, *args: Any) -> Response:
        updated = notifications.notifications_mark_all_read(user=_me(request))
        return Response(ReadAllOutput({"updated": updated}).data)
