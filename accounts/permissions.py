"""Small permission classes for the API, combined with & and |."""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from accounts.models import Role


class IsVerified(BasePermission):
    """The user has confirmed their phone number."""

    code = "phone_not_verified"

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and user.is_verified)


class IsCitizen(BasePermission):
    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and user.role == Role.CITIZEN)
