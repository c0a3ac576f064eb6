"""Authentication by phone number (national or international form) and password."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from accounts import login_limits
from accounts.models import User
from accounts.phones import InvalidPhoneNumber, normalize_phone
from accounts.sms_limits import client_key
from hues.addresses import client_address
from hues.city import current_city
from hues.errors import TooManyRequests


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


# Where a sign-in refused by the login limits leaves its reason on the request (Django's
# authenticate() turns the backend's refusal into None): the API and the admin's login form
# answer with it.
REFUSAL = "login_refusal"


class LoginRefused(PermissionDenied):
    """Stops authenticate() at once: no other backend tries the password either."""


def login_refusal(request: Any) -> TooManyRequests | None:
    """Why the login limits refused the sign-in of `request`, if they did."""
    return getattr(request, REFUSAL, None)


class PhoneBackend(ModelBackend):
    """Phone and password, within the login limits of accounts.login_limits (per account
    and client address), for the API and the admin alike."""

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
        client = client_key(client_address(request)) if request is not None else None
        if client is not None:
            try:
                login_limits.login_allow(phone=phone, client=client)
            except TooManyRequests as refusal:
                setattr(request, REFUSAL, refusal)
                raise LoginRefused from refusal
        user = self._check(request, phone, password)
        if client is not None:
            if user is None:
                login_limits.login_failed(phone=phone, client=client)
            else:
                login_limits.login_succeeded(phone=phone, client=client)
        return user

    def _check(self, request: HttpRequest | None, phone: str, password: str) -> User | None:
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
