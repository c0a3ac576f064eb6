"""Abuse limits: rates per user, per phone number and per client IP, kept in the cache
(Redis in production, through CACHE_URL), so every API process counts the same requests.

A view combines them for one use case, e.g. registering: `PhoneThrottle("register")`
(accounts.throttling: however many addresses try one number) and `IPThrottle("register_ip")`
(however many numbers one address tries). Each scope's rate is read from
REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] when the request comes, so a change of settings
applies at once; a scope with no rate is a configuration error. The client address is
hues.addresses.client_address: REMOTE_ADDR, or what the proxies of TRUSTED_PROXIES name.

Each limit is a counter per scope and client in a window that opens with the client's first
request and lasts the rate's period (`hues.cache.count_hit`: one round trip to Redis, one
script); every request in the window counts, refused ones too, and the window's end is the
Retry-After. A client may thus send up to twice the rate across the end of one window and the
start of the next, never more. While Redis is away nothing is counted and nothing refused:
the limits fail open, at once after the first timeout (hues.cache). A view whose answer is
cached can have the first throttle read it in the same round trip as the count (read_ahead).
"""

from __future__ import annotations

import math
from typing import Any

from django.core.cache import caches
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest
from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from hues.addresses import client_address
from hues.cache import count_hit, count_hit_and_read

# The request attribute where a view puts the cache keys it is about to read (ReadAhead).
READ_AHEAD = "cache_read_ahead"
# The request attribute where a view names the user a request without a bearer token comes
# from, when the request proves it otherwise (a refresh token): counted as that user's.
REQUESTER = "throttle_requester"


def count_as_user(request: HttpRequest, user_id: str) -> None:
    """Count `request` as the user's (RequesterThrottle), not its address's."""
    setattr(request, REQUESTER, user_id)


class ReadAhead:
    """Cache keys a view reads for its answer (a cached page and its versions), fetched by
    the request's first throttle in the same round trip as its count: `found` is None until
    then (and stays None when no throttle counted the request: the view reads them itself),
    else the values found, as `cache.get_many` gives them."""

    def __init__(self, keys: list[str]) -> None:
        self.keys = keys
        self.found: dict[str, Any] | None = None


def read_ahead(request: HttpRequest, keys: list[str]) -> ReadAhead:
    """Ask the throttles to read `keys` with their count (see ReadAhead)."""
    ahead = ReadAhead(keys)
    setattr(request, READ_AHEAD, ahead)
    return ahead


class ScopeThrottle(SimpleRateThrottle):
    """A limit on one scope; subclasses say whom it counts."""

    num_requests: int | None  # from the rate, by DRF's constructor
    duration: int | None

    def __init__(self, scope: str) -> None:
        self.scope = scope
        super().__init__()  # reads the rate through get_rate below

    def get_rate(self) -> str | None:
        rates = api_settings.DEFAULT_THROTTLE_RATES
        if self.scope not in rates:
            raise ImproperlyConfigured(f"No throttle rate for the scope {self.scope!r}.")
        return str(rates[self.scope]) if rates[self.scope] is not None else None

    def ident(self, request: Request) -> str | None:
        raise NotImplementedError

    def get_ident(self, request: Request) -> str:
        return client_address(request)

    def allow_request(self, request: Request, view: Any) -> bool:
        if self.num_requests is None or self.duration is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        ahead: ReadAhead | None = getattr(request, READ_AHEAD, None)
        if ahead is not None and ahead.found is None:
            count, self.left, ahead.found = count_hit_and_read(
                caches["default"], self.key, self.duration, ahead.keys
            )
        else:
            count, self.left = count_hit(caches["default"], self.key, self.duration)
        return count <= self.num_requests

    def wait(self) -> float | None:
        return max(1, math.ceil(self.left))

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        ident = self.ident(request)
        if ident is None:
            return None
        return self.cache_format % {"scope": self.scope, "ident": ident}


class IPThrottle(ScopeThrottle):
    """Counts the requests of one client address."""

    def ident(self, request: Request) -> str | None:
        return self.get_ident(request)


class RequesterThrottle(ScopeThrottle):
    """The API-wide limit (DEFAULT_THROTTLE_CLASSES), one count per request: a signed-in
    user's requests under the scope `user`, per user, whatever address they come from (and
    those a view counts as a user's: count_as_user); an
    anonymous client's per address, under `anon_read` for a read whose answer the cache holds
    (a view that reads its page ahead: cheap, and one carrier-grade NAT address may carry
    many people) and under `anon` for anything else. A cached read the cache could not answer
    is charged to `anon` too (charge_miss)."""

    def __init__(self) -> None:
        super().__init__("anon")
        self.user_id: str | None = None

    def allow_request(self, request: Request, view: Any) -> bool:
        user = request.user
        if user and user.is_authenticated:
            self.user_id = str(user.pk)
        else:
            self.user_id = getattr(request, REQUESTER, None)
        if self.user_id is not None:
            self._use("user")
        elif getattr(request, READ_AHEAD, None) is not None:
            self._use("anon_read")
        return super().allow_request(request, view)

    def _use(self, scope: str) -> None:
        self.scope = scope
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)

    def ident(self, request: Request) -> str | None:
        return self.user_id if self.user_id is not None else self.get_ident(request)


class UserThrottle(ScopeThrottle):
    """Counts the requests of one signed-in user; anonymous requests are not counted."""

    def ident(self, request: Request) -> str | None:
        user = request.user
        return str(user.pk) if user and user.is_authenticated else None


def charge_miss(request: Request) -> float | None:
    """Count an anonymous cached read that missed the cache under `anon`, as any other
    anonymous request: unique pages (a new search each time) cost the database, and get the
    ordinary limit. The seconds to wait when that limit is spent, else None."""
    if getattr(request, READ_AHEAD, None) is None or (
        request.user and request.user.is_authenticated
    ):
        return None
    throttle = IPThrottle("anon")
    return None if throttle.allow_request(request, None) else throttle.wait()
