"""Reads for accounts."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from rest_framework.request import Request

from accounts.models import User


def request_user(request: HttpRequest | Request) -> User | None:
    """The signed-in user of a request, or None when it is anonymous."""
    user = request.user
    return user if isinstance(user, User) and user.is_authenticated else None


def request_staff(request: HttpRequest) -> User:
    """The admin site's signed-in user (the admin lets no one else reach its views)."""
    user = request_user(request)
    if user is None:
        raise PermissionDenied
    return user
