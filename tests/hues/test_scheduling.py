"""hues.scheduling.enqueue: a broker that fails is left alone for a few seconds, so a Redis
outage costs one request a socket timeout, not every request; eager mode is unaffected."""

from __future__ import annotations

import time
from unittest import mock

import pytest
from kombu.exceptions import OperationalError as BrokerDown

from hues import scheduling
from hues.celery import app
from reports.tasks import sweep_unrouted


@pytest.fixture
def with_broker():
    """Tasks go to the broker (as in production), and the breaker starts closed."""
    # The namespaced key is the one Celery reads (the settings say CELERY_TASK_ALWAYS_EAGER).
    eager = app.conf.CELERY_TASK_ALWAYS_EAGER
    app.conf.CELERY_TASK_ALWAYS_EAGER = False
    scheduling._broker_failed_at = None
    yield
    app.conf.CELERY_TASK_ALWAYS_EAGER = eager
    scheduling._broker_failed_at = None


def test_after_a_failed_publish_the_broker_is_skipped_for_a_while(with_broker):
    with mock.patch.object(sweep_unrouted, "apply_async", side_effect=BrokerDown("paused")) as send:
        assert scheduling.enqueue("reports.sweep_unrouted") is False
        assert scheduling.enqueue("reports.sweep_unrouted") is False
    assert send.call_count == 1  # the second was not even tried


def test_the_broker_is_tried_again_after_the_pause_and_the_breaker_closes(with_broker):
    scheduling._broker_failed_at = time.monotonic() - scheduling.SKIP_BROKER_SECONDS - 1
    with mock.patch.object(sweep_unrouted, "apply_async") as send:
        assert scheduling.enqueue("reports.sweep_unrouted") is True

    assert send.call_count == 1
    assert scheduling._broker_failed_at is None


def test_a_task_failing_eagerly_does_not_open_the_breaker():
    scheduling._broker_failed_at = None
    with mock.patch.object(sweep_unrouted, "apply_async", side_effect=RuntimeError("a bug")):
        assert scheduling.enqueue("reports.sweep_unrouted") is False

    assert scheduling._broker_failed_at is None


def test_publishing_never_retries_and_redis_sockets_time_out_fast(settings):
    assert settings.CELERY_TASK_PUBLISH_RETRY is False
    options = settings.CELERY_BROKER_TRANSPORT_OPTIONS
    assert options["socket_timeout"] <= 0.5
    assert options["socket_connect_timeout"] <= 0.5
    # Redelivery after visibility_timeout must not hit a task still running or waiting
    # for its countdown (a delivery's retries wait up to 30 minutes).
    assert options["visibility_timeout"] > settings.CELERY_TASK_TIME_LIMIT
    assert options["visibility_timeout"] > 30 * 60


def test_a_worker_waits_for_a_paused_broker_instead_of_dropping_its_acks():
    from hues.celery import _worker_waits_for_the_broker

    conf = app.conf
    before = dict(conf.broker_transport_options)
    try:
        _worker_waits_for_the_broker(conf=conf)
        options = conf.broker_transport_options
    finally:
        conf.CELERY_BROKER_TRANSPORT_OPTIONS = before

    assert options["socket_timeout"] is None
    assert options["socket_keepalive"] is True
    assert options["visibility_timeout"] == before["visibility_timeout"]
    assert app.conf.broker_transport_options["socket_timeout"] == before["socket_timeout"]
