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
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from django.core.cache.backends.base import BaseCache
from django.core.cache.backends.redis import RedisCache, RedisCacheClient
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


class PersistentRedisCacheClient(RedisCacheClient):
    """Django's client builds a new `redis.Redis` object (and its dictionary of response
    callbacks) for every operation; one per connection pool serves them all: it is
    thread-safe and holds no connection itself (the pool does)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        django: Any = self  # Django's private helpers, untyped
        index = django._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:
            pool = django._get_connection_pool(write)
            client = self._clients[index] = django._client(connection_pool=pool)
        return client


# One request counted in a window that starts with the window's first request and lasts
# ARGV[1] seconds: the count so far and the milliseconds left, in one round trip. A key left
# without an expiry (it cannot happen, but would block for ever) gets one.
_HIT = """
local count = redis.call('INCR', KEYS[1])
local left = redis.call('PTTL', KEYS[1])
if left < 0 then
  redis.call('EXPIRE', KEYS[1], ARGV[1])
  left = tonumber(ARGV[1]) * 1000
end
return {count, left}
"""
# The same count, and the values of KEYS[2..] (MGET) in the same round trip: a cached page
# and the versions it depends on, read with the request's throttle count.
_HIT_AND_READ = _HIT.replace(
    "return {count, left}",
    "if #KEYS > 1 then\n  return {count, left, redis.call('MGET', unpack(KEYS, 2))}\nend\n"
    "return {count, left, {}}",
)


class ResilientRedisCache(RedisCache):
    def __init__(self, server: Any, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = PersistentRedisCacheClient
        self._scripts: dict[tuple[int, str], Any] = {}  # per client (id) and source

    def _run(self, source: str, keys: list[str], seconds: int) -> Any:
        client = self._cache.get_client(keys[0], write=True)
        script = self._scripts.get((id(client), source))
        if script is None:
            script = self._scripts[id(client), source] = client.register_script(source)
        return script(keys=keys, args=[seconds])

    def hit(self, key: str, seconds: int) -> tuple[int, float]:
        """Count one request under `key` (see `count_hit`)."""

        def call() -> tuple[int, float]:
            count, left = self._run(_HIT, [self.make_and_validate_key(key)], seconds)
            return int(count), int(left) / 1000

        return _tolerate("hit", call, (0, 0.0))

    def hit_and_get_many(
        self, key: str, seconds: int, keys: Sequence[str]
    ) -> tuple[int, float, dict[str, Any]]:
        """Count one request under `key` and read `keys`, in one round trip (see
        `count_hit_and_read`)."""

        def call() -> tuple[int, float, dict[str, Any]]:
            made = [self.make_and_validate_key(k) for k in keys]
            count, left, values = self._run(
                _HIT_AND_READ, [self.make_and_validate_key(key), *made], seconds
            )
            loads = self._cache._serializer.loads  # type: ignore[attr-defined]
            found = {k: loads(v) for k, v in zip(keys, values, strict=True) if v is not None}
            return int(count), int(left) / 1000, found

        nothing: dict[str, Any] = {}
        return _tolerate("hit_and_get_many", call, (0, 0.0, nothing))

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


def count_hit(cache: BaseCache, key: str, seconds: int) -> tuple[int, float]:
    """Count one request under `key` in a window of `seconds` that starts with its first
    request: the requests counted in the window so far (this one included) and the seconds
    until it ends. On Redis one round trip (a script); (0, 0) while Redis is away, so
    nothing is limited then. Other caches (the process-local one of tests and the
    embedded mode) take two steps and answer the whole window as the time left. `cache` is
    a backend (`caches["default"]`), not the `django.core.cache.cache` proxy."""
    if isinstance(cache, ResilientRedisCache):
        return cache.hit(key, seconds)
    cache.add(key, 0, seconds)
    try:
        return int(cache.incr(key)), float(seconds)
    except ValueError:  # expired between the two steps
        cache.set(key, 1, seconds)
        return 1, float(seconds)


def count_hit_and_read(
    cache: BaseCache, key: str, seconds: int, keys: Sequence[str]
) -> tuple[int, float, dict[str, Any]]:
    """`count_hit`, and the cached values of `keys` (as `get_many` gives them: missing keys
    left out). On Redis one round trip for both (one script: the count, then MGET), so a
    request whose answer is cached costs one round trip, not two; while Redis is away
    (0, 0, {}): nothing limited, everything a miss. Other caches take the two steps."""
    if isinstance(cache, ResilientRedisCache):
        return cache.hit_and_get_many(key, seconds, keys)
    count, left = count_hit(cache, key, seconds)
    return count, left, cache.get_many(list(keys))
