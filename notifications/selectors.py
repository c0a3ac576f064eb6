"""Reads of the notifications: a user's inbox."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.db.models import F, QuerySet

from notifications.models import Notification

if TYPE_CHECKING:
    from accounts.models import User


def notifications_for(*, user: User) -> QuerySet[Notification]:
    """A user's own notifications, newest first, with the report's reference."""
    return (
        Notification.objects.filter(user=user)
        .annotate(report_reference=F("report__reference"))
        .order_by("-id")
    )


def users_told(event_ids: Iterable[int]) -> set[tuple[int, int]]:
    """(event id, user id) of every notification already written about these events."""
    return set(
        Notification.objects.filter(event__in=list(event_ids)).values_list("event_id", "user_id")
    )
