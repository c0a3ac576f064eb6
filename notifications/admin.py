"""Notifications in the admin: what users were told and how it reached them. Read-only, for
administrators (support questions such as "I was never told"); they are written only by
notifications.services."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from accounts.models import Role
from accounts.selectors import request_user
from hues.dates import short_time
from notifications.models import Delivery, Notification


def _is_administrator(request: HttpRequest) -> bool:
    user = request_user(request)
    return bool(
        user is not None
        and user.is_active
        and (user.is_superuser or user.role == Role.ADMINISTRATOR)
    )


class AdministratorsReadOnlyAdmin(admin.ModelAdmin):
    show_full_result_count = False  # big tables: no second COUNT(*) per page

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _is_administrator(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _is_administrator(request)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class DeliveryInline(admin.TabularInline):
    model = Delivery
    fields = readonly_fields = ("channel", "state", "attempts", "sent_at", "last_error")
    extra = 0
    can_delete = False

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _is_administrator(request)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Notification)
class NotificationAdmin(AdministratorsReadOnlyAdmin):
    list_display = ["title", "user", "kind", "report", "sent", "read_at"]
    list_filter = ["kind", ("read_at", admin.EmptyFieldListFilter)]
    list_select_related = ["user", "report"]
    search_fields = ["=user__phone", "=report__reference"]
    search_help_text = _("A phone number in +84 form, or a report reference.")
    fields = readonly_fields = (
        "user",
        "kind",
        "title",
        "body",
        "report",
        "event",
        "data",
        "created_at",
        "read_at",
    )
    inlines = [DeliveryInline]

    @admin.display(description=_("created at"), ordering="created_at")
    def sent(self, notification: Notification) -> str:
        return short_time(notification.created_at)


@admin.register(Delivery)
class DeliveryAdmin(AdministratorsReadOnlyAdmin):
    list_display = [
        "notification",
        "recipient",
        "channel",
        "state",
        "attempts",
        "sent_at",
        "error",
    ]
    list_filter = ["channel", "state"]
    list_select_related = ["notification__user"]
    search_fields = ["=notification__user__phone", "=notification__report__reference"]
    search_help_text = _("A phone number in +84 form, or a report reference.")
    fields = readonly_fields = (
        "notification",
        "channel",
        "state",
        "attempts",
        "sent_at",
        "last_error",
    )

    @admin.display(description=_("user"))
    def recipient(self, delivery: Delivery) -> str:
        return str(delivery.notification.user)

    @admin.display(description=_("last error"))
    def error(self, delivery: Delivery) -> str:
        return delivery.last_error[:120]
