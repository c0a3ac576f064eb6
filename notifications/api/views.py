"""Notifications API: the signed-in user's inbox, newest first, and marking it read."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotAuthenticated
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.models import User
from accounts.selectors import request_user
from hues.pagination import KeysetPagination
from notifications import selectors, services
from notifications.api.filters import NotificationFilter
from notifications.api.serializers import NotificationOutput, ReadAllOutput
from notifications.models import Notification


class NotificationPagination(KeysetPagination):
    page_size_description = _("Notifications per page, 1 to %(max)d (default %(default)d).")


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
    pagination_class = NotificationPagination
    filterset_class = NotificationFilter
    lookup_value_regex = r"\d+"

    def get_queryset(self) -> QuerySet[Notification]:
        if getattr(self, "swagger_fake_view", False):
            return Notification.objects.none()
        return selectors.notifications_for(user=_me(self.request))

    @extend_schema(
        summary="Mark a notification read",
        description="Only the caller's own notifications; another user's answers 404.",
        request=None,
        responses={200: NotificationOutput},
    )
    @action(detail=True, methods=["post"])
    def read(self, request: Request, pk: str) -> Response:
        notification = services.notification_mark_read(user=_me(request), notification_id=int(pk))
        return Response(NotificationOutput(notification).data)

    @extend_schema(
        summary="Mark all my notifications read", request=None, responses={200: ReadAllOutput}
    )
    @action(detail=False, methods=["post"], url_path="read-all")
    def read_all(self, request: Request, *args: Any) -> Response:
        updated = services.notifications_mark_all_read(user=_me(request))
        return Response(ReadAllOutput({"updated": updated}).data)
