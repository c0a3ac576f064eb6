"""Readiness for load balancers: can this instance reach the database, the cache and the
broker right now?

Each check opens its own connection with short timeouts, and the three run side by side
within CHECK_SECONDS; one that has not answered by then counts as down ("timeout"). The
answer is kept KEEP_SECONDS per process, so a flood of probes costs one check a second.
READINESS_CHECKS names the checks that make the instance unready when they fail (all three
by default); the others are still reported.
"""

from __future__ import annotations

import copy
import logging
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import caches
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.utils import load_backend

logger = logging.getLogger(__name__)

CHECK_SECONDS = 2.0
KEEP_SECONDS = 1.0
CHECKS = ("database", "cache", "broker")
OK, DOWN, TIMEOUT, NOT_USED = "ok", "down", "timeout", "not used"


def check_database() -> str:
    """A connection of its own to the primary (the request's may be gone), and SELECT 1."""
    settings_dict = copy.deepcopy(connections.settings[DEFAULT_DB_ALIAS])
    if settings_dict["ENGINE"] == "django.db.backends.postgresql":
        settings_dict.setdefault("OPTIONS", {})["connect_timeout"] = 2  # libpq's least
    wrapper = load_backend(settings_dict["ENGINE"]).DatabaseWrapper(settings_dict, DEFAULT_DB_ALIAS)
    try:
        with wrapper.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    finally:
        wrapper.close()
    return OK


def check_cache() -> str:
    """A write and a read back: a cache that drops writes while Redis is away
    (hues.cache.ResilientRedisCache) answers the read with nothing."""
    cache = caches["default"]
    key, value = "health:ready", uuid.uuid4().hex
    cache.set(key, value, timeout=30)
    return OK if cache.get(key) == value else DOWN


def check_broker() -> str:
    from hues.celery import app

    if app.conf.task_always_eager:
        return NOT_USED  # no broker: tasks run in the web process
    with app.connection_for_read() as connection:
        connection.default_channel  # noqa: B018  # connects (Redis: PING)
    return OK


CHECKERS: dict[str, Callable[[], str]] = {
    "database": check_database,
    "cache": check_cache,
    "broker": check_broker,
}


@dataclass(frozen=True)
class Readiness:
    checks: dict[str, str]
    down: list[str]  # the failed checks that READINESS_CHECKS counts

    @property
    def ready(self) -> bool:
        return not self.down


_pool = ThreadPoolExecutor(max_workers=len(CHECKERS) * 2, thread_name_prefix="readiness")
_lock = threading.Lock()
_kept: tuple[float, Readiness] | None = None


def _run(name: str, checker: Callable[[], str]) -> str:
    try:
        return checker()
    except Exception as error:
        logger.warning("Readiness: %s is down (%s)", name, type(error).__name__, exc_info=True)
        return DOWN


def readiness() -> Readiness:
    """The checks' results (kept KEEP_SECONDS)."""
    global _kept
    with _lock:
        if _kept is not None and time.monotonic() - _kept[0] < KEEP_SECONDS:
            return _kept[1]
        futures = {name: _pool.submit(_run, name, checker) for name, checker in CHECKERS.items()}
        deadline = time.monotonic() + CHECK_SECONDS
        checks: dict[str, str] = {}
        for name, future in futures.items():
            try:
                checks[name] = future.result(timeout=max(0.0, deadline - time.monotonic()))
            except FutureTimeout:
                logger.warning("Readiness: %s did not answer within %.0f s", name, CHECK_SECONDS)
                checks[name] = TIMEOUT
        required = settings.READINESS_CHECKS
        down = [name for name in CHECKS if name in required and checks[name] in (DOWN, TIMEOUT)]
        result = Readiness(checks=checks, down=down)
        _kept = (time.monotonic(), result)
        return result


def forget() -> None:
    """Drop the kept answer (tests)."""
    global _kept
    with _lock:
        _kept = None
