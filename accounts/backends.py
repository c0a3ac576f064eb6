"""Authentication by phone number (national or international form) and password."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest

from accounts.models import User
from accounts.phones import InvalidPhoneNumber, normalize_phone
from hues.city import current_city


def demo_password() -> str:
    """The demo users' password, from the city's definition; refused whenever demo users are
    disabled."""
    return current_city().demo_password


def _phone_from(credentials: dict[str, Any]) -> str | None:
    raw = credentials.get("phone") or credentials.get("username")
    if not raw:
        return None
    try:
        return normalize_phone(str(raw))
    except InvalidPhoneNumber:
        return None


class PhoneBackend(ModelBackend):
    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> User | None:
        phone = _phone_from({"username": username, **kwargs})
        if phone is None or password is None:
            return None
        if password == demo_password() and not settings.DEMO_USERS_ENABLED:
            return None
        return super().authenticate(request, username=phone, password=password)


def axes_username(request: HttpRequest, credentials: dict[str, Any] | None) -> str:
    """django-axes counts failures per normalised phone, whatever form was typed."""
    credentials = credentials or {}
    phone = _phone_from(credentials)
    if phone:
        return phone
    raw = credentials.get("phone") or credentials.get("username")
    if not raw and request is not None:
        raw = request.POST.get("phone") or request.POST.get("username")
    return str(raw or "")[:64]
