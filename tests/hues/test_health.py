"""Health for load balancers: liveness touches nothing; readiness checks the database, the
cache and the broker with short timeouts and answers 503 naming what is down. Dependencies
are made "down" for real: a server address where nothing listens, or where a listener
accepts and never answers (PostgreSQL stopped for real: tests/fault)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest
from django.db import DEFAULT_DB_ALIAS, connections

from hues import cache as hues_cache
from hues import health
from hues.celery import app as celery_app
from tests.fault.harness import free_port


@pytest.fixture(autouse=True)
def _fresh_answer(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    health.forget()
    # A cache check against a stopped Redis makes hues.cache skip Redis for a few seconds
    # in this process: not for the tests after this one.
    monkeypatch.setattr(hues_cache, "_failed_at", None)
    yield
    health.forget()


def redis_cache_at(port: int) -> dict[str, dict[str, object]]:
    return {
        "default": {
            "BACKEND": "hues.cache.ResilientRedisCache",
            "LOCATION": f"redis://127.0.0.1:{port}/0",
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port where a server accepts connections and never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    thread.join()
    for connection in accepted:
        connection.close()
    listener.close()


def test_liveness_answers_without_touching_database_or_cache(client, settings):
    # No django_db mark: any query fails the test. A cache that can only fail (nothing
    # listens there, and Django's own client raises): any cache call is a 500.
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{free_port()}/0",
        }
    }

    response = client.get("/health/live", HTTP_HOST="10.0.0.7:8000")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response["Cache-Control"] == "no-store"


@pytest.mark.django_db
def test_ready_when_every_dependency_answers(client):
    response = client.get("/health/ready")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "ready"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["cache"] == "ok"
    expected_broker = "not used" if celery_app.conf.task_always_eager else "ok"
    assert body["checks"]["broker"] == expected_broker


@pytest.mark.django_db
def test_not_ready_naming_the_cache_while_redis_is_down(client, settings):
    settings.CACHES = redis_cache_at(free_port())

    response = client.get("/health/ready")

    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response.json()["status"] == "not_ready"
    assert response.json()["down"] == ["cache"]
    assert response.json()["checks"]["database"] == "ok"


@pytest.mark.django_db
def test_not_ready_naming_the_broker_while_it_is_down(client, monkeypatch):
    eager, url = celery_app.conf.CELERY_TASK_ALWAYS_EAGER, celery_app.conf.CELERY_BROKER_URL
    stopped = f"redis://127.0.0.1:{free_port()}/0"
    celery_app.conf.CELERY_TASK_ALWAYS_EAGER = False
    celery_app.conf.CELERY_BROKER_URL = stopped
    monkeypatch.setenv("CELERY_BROKER_URL", stopped)  # Celery reads it before its settings
    try:
        response = client.get("/health/ready")
    finally:
        celery_app.conf.CELERY_TASK_ALWAYS_EAGER = eager
        celery_app.conf.CELERY_BROKER_URL = url

    assert response.status_code == 503
    assert response.json()["down"] == ["broker"]


@pytest.mark.django_db
def test_not_ready_naming_the_database_when_it_cannot_be_reached(client, monkeypatch):
    # The check opens its own connection from the settings: one that cannot succeed (a
    # PostgreSQL database that does not exist, an SQLite file in no directory).
    database = connections.settings[DEFAULT_DB_ALIAS]
    missing = (
        "/nonexistent/directory/db.sqlite3"
        if database["ENGINE"].endswith("sqlite3")
        else "hues_no_such_database"
    )
    monkeypatch.setitem(database, "NAME", missing)

    response = client.get("/health/ready")

    assert response.status_code == 503
    assert response.json()["down"] == ["database"]


@pytest.mark.django_db
def test_a_dependency_that_does_not_answer_in_time_counts_as_down(
    client, settings, monkeypatch, silent_port
):
    monkeypatch.setattr(health, "CHECK_SECONDS", 0.2)  # below the cache's 0.5 s timeout
    settings.CACHES = redis_cache_at(silent_port)

    response = client.get("/health/ready")

    assert response.status_code == 503
    assert response.json()["checks"]["cache"] == "timeout"
    assert response.json()["down"] == ["cache"]


@pytest.mark.django_db
def test_only_the_checks_readiness_requires_make_it_unready(client, settings):
    settings.READINESS_CHECKS = ["database"]
    settings.CACHES = redis_cache_at(free_port())

    response = client.get("/health/ready")

    assert response.status_code == 200
    assert response.json()["checks"]["cache"] == "down"  # reported, not required


@pytest.mark.django_db
def test_probes_in_a_row_share_one_check(client, settings):
    first = client.get("/health/ready")
    settings.CACHES = redis_cache_at(free_port())  # down now, but the answer is kept

    second = client.get("/health/ready")
    health.forget()
    third = client.get("/health/ready")

    assert first.status_code == second.status_code == 200
    assert third.status_code == 503


def test_the_old_health_endpoint_is_unchanged(client):
    response = client.get("/api/v1/health")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
