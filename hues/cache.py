"""A Redis cache that a Redis outage does not turn into server errors.

The cache holds only what can be rebuilt (version stamps of the routing and holiday data,
throttle histories, cached statistics): while Redis is down or paused, a read is a miss and
a write is dropped, each after a short socket timeout, so a request never hangs on Redis or
fails with a 500. The price, for the length of the outage: throttle histories are not kept
(rates are not enforced) and every request rebuilds what it would have read from the cache.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, TypeVar

from django.core.cache.backends.redis import RedisCache
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

T = TypeVar("T")
# One warning per this many seconds while Redis stays away, not one per request.
WARN_EVERY = 10.0
_last_warning = 0.0


def _tolerate(operation: str, call: Callable[[], T], fallback: T) -> T:
    global _last_warning
    try:
        return call()
    except RedisError as error:
        now = time.monotonic()
        if now - _last_warning >= WARN_EVERY:
            _last_warning = now
            logger.warning("Cache unavailable (%s): %s; carrying on without it", operation, error)
        return fallback


class ResilientRedisCache(RedisCache):
    def get(self, key: Any, default: Any = None, version: int | None = None) -> Any:
        return _tolerate(
            "get", lambda: super(ResilientRedisCache, self).get(key, default, version), default
        )

    def get_many(self, keys: Any, version: int | None = None) -> dict[Any, Any]:
        return _tolerate(
            "get_many", lambda: super(ResilientRedisCache, self).get_many(keys, version), {}
        )

    def has_key(self, key: Any, version: int | None = None) -> bool:
        return _tolerate(
            "has_key", lambda: super(ResilientRedisCache, self).has_key(key, version), False
        )

    def add(self, key: Any, value: Any, timeout: Any = None, version: int | None = None) -> bool:
        return _tolerate(
            "add", lambda: super(ResilientRedisCache, self).add(key, value, timeout, version), False
        )

    def set(self, key: Any, value: Any, timeout: Any = None, version: int | None = None) -> None:
        _tolerate(
            "set", lambda: super(ResilientRedisCache, self).set(key, value, timeout, version), None
        )

    def set_many(self, data: Any, timeout: Any = None, version: int | None = None) -> list[Any]:
        return _tolerate(
            "set_many",
            lambda: super(ResilientRedisCache, self).set_many(data, timeout, version),
            [],
        )

    def touch(self, key: Any, timeout: Any = None, version: int | None = None) -> bool:
        return _tolerate(
            "touch", lambda: super(ResilientRedisCache, self).touch(key, timeout, version), False
        )

    def delete(self, key: Any, version: int | None = None) -> bool:
        return _tolerate(
            "delete", lambda: super(ResilientRedisCache, self).delete(key, version), False
        )

    def delete_many(self, keys: Any, version: int | None = None) -> None:
        _tolerate(
            "delete_many", lambda: super(ResilientRedisCache, self).delete_many(keys, version), None
        )
