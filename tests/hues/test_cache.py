"""The Redis cache carries on through a Redis outage: reads miss, writes are dropped, and
nothing raises into the request (hues/cache.py)."""

from __future__ import annotations

import os
import time

import pytest
from django.core.cache.backends.redis import RedisCache

from hues import cache as hues_cache
from hues.cache import ResilientRedisCache
from tests.conftest import need
from tests.fault.harness import free_port


@pytest.fixture
def cache_without_redis() -> ResilientRedisCache:
    """The cache pointed at a loopback port where nothing listens (Redis is down)."""
    return ResilientRedisCache(
        f"redis://127.0.0.1:{free_port()}/0",
        {"OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1}},
    )


def test_reads_miss_and_writes_are_dropped_while_redis_is_down(fresh_breaker, cache_without_redis):
    cache = cache_without_redis

    cache.set("throttle", [1, 2, 3])
    assert cache.get("throttle") is None
    assert cache.get("version", "fallback") == "fallback"
    assert cache.add("version", "v1") is False
    assert cache.get_many(["a", "b"]) == {}
    assert cache.has_key("a") is False
    assert cache.delete("a") is False
    cache.set_many({"a": 1})
    cache.delete_many(["a"])
    assert cache.touch("a") is False


def test_the_plain_redis_cache_would_raise():
    from redis.exceptions import ConnectionError as RedisConnectionError

    plain = RedisCache(f"redis://127.0.0.1:{free_port()}/0", {})
    with pytest.raises(RedisConnectionError):
        plain.get("throttle")


def test_settings_use_it_with_short_timeouts_for_redis_urls(monkeypatch):
    import importlib

    import hues.settings

    monkeypatch.setenv("CACHE_URL", "redis://127.0.0.1:6379/1")
    monkeypatch.setenv("SECRET_KEY", "x" * 50)
    try:
        caches = importlib.reload(hues.settings).CACHES
    finally:
        monkeypatch.delenv("CACHE_URL")
        importlib.reload(hues.settings)
    assert caches["default"]["BACKEND"] == "hues.cache.ResilientRedisCache"
    assert caches["default"]["OPTIONS"] == {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}


@pytest.fixture
def fresh_breaker():
    hues_cache._failed_at = None
    yield
    hues_cache._failed_at = None


def test_after_a_failure_redis_is_left_alone_for_a_few_seconds(fresh_breaker):
    url = os.environ.get("CACHE_URL", "")
    need(url.startswith("redis://"), "CACHE_URL does not point at Redis")
    cache = ResilientRedisCache(url, {"OPTIONS": {"socket_timeout": 1}})
    cache.set("fault-breaker", "kept")
    hues_cache._failed_at = time.monotonic()  # a call failed a moment ago

    assert cache.get("fault-breaker") is None  # not even tried

    hues_cache._failed_at = time.monotonic() - hues_cache.SKIP_SECONDS - 1
    assert cache.get("fault-breaker") == "kept"
    assert hues_cache._failed_at is None
    cache.delete("fault-breaker")


def test_a_failure_opens_the_breaker(fresh_breaker, cache_without_redis):
    cache_without_redis.get("a")

    assert hues_cache._failed_at is not None


def test_one_client_object_serves_every_operation():
    """Django's client would build a redis.Redis per operation (a fifth of a cached page)."""
    cache = ResilientRedisCache("redis://127.0.0.1:6379/0", {})

    assert cache._cache.get_client("a") is cache._cache.get_client("b")
    assert cache._cache.get_client("a", write=True) is cache._cache.get_client("b", write=True)


def test_a_hit_is_not_counted_and_never_refused_while_redis_is_down(
    fresh_breaker, cache_without_redis
):
    assert hues_cache.count_hit(cache_without_redis, "throttle_anon_x", 60) == (0, 0.0)


def test_hits_count_in_a_window_that_opens_with_the_first(fresh_breaker):
    url = os.environ.get("CACHE_URL", "")
    need(url.startswith("redis://"), "CACHE_URL does not point at Redis")
    cache = ResilientRedisCache(url, {})
    cache.delete("throttle_test_window")

    counts = [hues_cache.count_hit(cache, "throttle_test_window", 60) for _ in range(3)]

    assert [count for count, _ in counts] == [1, 2, 3]
    assert all(0 < left <= 60 for _, left in counts)
    assert cache.get("throttle_test_window") == 3  # a plain integer, readable by the cache
    cache.delete("throttle_test_window")


def test_other_caches_count_in_two_steps():
    from django.core.cache.backends.locmem import LocMemCache

    cache = LocMemCache("count-hit", {})

    assert [hues_cache.count_hit(cache, "k", 60) for _ in range(2)] == [(1, 60.0), (2, 60.0)]


def test_a_hit_and_a_read_are_one_script_call_on_redis(fresh_breaker, monkeypatch):
    """The throttle's count and the cached page it reads ahead: one round trip."""
    url = os.environ.get("CACHE_URL", "")
    need(url.startswith("redis://"), "CACHE_URL does not point at Redis")
    from redis import Redis

    cache = ResilientRedisCache(url, {})
    cache.delete_many(["throttle_test_read", "page", "version"])
    cache.set("page", ("v1", b'{"results": []}'))
    cache.set("version", "v1")
    calls: list[str] = []
    real = Redis.execute_command
    monkeypatch.setattr(
        Redis, "execute_command", lambda self, *a, **k: calls.append(a[0]) or real(self, *a, **k)
    )

    first = hues_cache.count_hit_and_read(cache, "throttle_test_read", 60, ["version", "page", "x"])
    second = hues_cache.count_hit_and_read(cache, "throttle_test_read", 60, ["page"])

    assert calls == ["EVALSHA", "EVALSHA"]
    assert first[0] == 1
    assert 0 < first[1] <= 60
    assert first[2] == {"version": "v1", "page": ("v1", b'{"results": []}')}  # "x" is missing
    assert second[0] == 2
    assert second[2] == {"page": ("v1", b'{"results": []}')}
    cache.delete_many(["throttle_test_read", "page", "version"])


def test_a_hit_and_a_read_miss_and_are_not_counted_while_redis_is_down(
    fresh_breaker, cache_without_redis
):
    assert hues_cache.count_hit_and_read(cache_without_redis, "throttle_x", 60, ["page"]) == (
        0,
        0.0,
        {},
    )


def test_other_caches_count_then_read():
    from django.core.cache.backends.locmem import LocMemCache

    cache = LocMemCache("count-hit-read", {})
    cache.set("page", "cached")

    assert hues_cache.count_hit_and_read(cache, "k", 60, ["page", "gone"]) == (
        1,
        60.0,
        {"page": "cached"},
    )
