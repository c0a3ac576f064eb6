"""Open311 clients authenticate a POST with the `api_key` form field (GeoReport v2)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request
from rest_framework.settings import api_settings

from hues.throttling import ScopeThrottle
from open311 import services
from open311.models import ApiKey


class ApiKeyAuthentication(BaseAuthentication):
    """A POST needs a valid api_key among its fields; reads need none. No WWW-Authenticate
    header, so a missing or wrong key is a 403, as GeoReport v2 says."""

    def authenticate(self, request: Request) -> tuple[Any, ApiKey] | None:
        if request.method != "POST":
            return None
        key = request.data.get("api_key") if isinstance(request.data, Mapping) else None
        if not key:
            raise AuthenticationFailed(_("An api_key is required to submit a request."))
        api_key = services.api_key_authenticate(str(key))
        if api_key is None:
            raise AuthenticationFailed(_("Invalid api_key."))
        return api_key.user, api_key


class ApiKeyRateThrottle(ScopeThrottle):
    """Requests filed per API key, at the `open311_post` throttle rate when settings name one
    (counted in one round trip, as every limit: hues.throttling)."""

    SCOPE = "open311_post"

    def __init__(self) -> None:
        super().__init__(self.SCOPE)

    def get_rate(self) -> str:
        rates = api_settings.DEFAULT_THROTTLE_RATES
        return str(rates.get(self.SCOPE) or ("600/min" if settings.DEBUG else "60/min"))

    def ident(self, request: Request) -> str | None:
        if request.method != "POST" or not isinstance(request.auth, ApiKey):
            return None
        return str(request.auth.pk)
