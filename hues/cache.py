"""A Redis cache that a Redis outage does not turn into server errors.

The cache holds only what can be rebuilt (version stamps of the routing and holiday data,
throttle histories, cached statistics): while Redis is down or paused, a read is a miss and
a write is dropped, after a short socket timeout for the first and at once for the next
ones (for SKIP_SECONDS), so a request never hangs on Redis or fails with a 500. The price,
for the length of the outage: throttle histories are not kept (rates are not enforced), a
version bump (routing rules, holidays changed) is lost, and every request rebuilds what it
would have read from the cache.
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
# After a failure Redis is left alone this long: during an outage only the first request
# (per process) pays the socket timeout; the others miss at once. One warning per pause.
SKIP_SECONDS = 5.0
_failed_at: float | None = None


def _tolerate(operation: str, call: Callable[[], T], fallback: T) -> T:
    global _failed_at
    if _failed_at is not None and time.monotonic() - _failed_at < SKIP_SECONDS:
        return fallback
    try:
        result = call()
    except RedisError as error:
        if _failed_at is None:
            logger.warning("Cache unavailable (%s): %s; carrying on without it", operation, error)
        _failed_at = time.monotonic()
        return fallback
    if _failed_at is not None:
        logger.warning("Cache available again")
        _failed_at = None
    return result


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
