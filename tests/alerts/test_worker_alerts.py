"""End to end: a real `celery worker` process sends a published alert in batches.

Needs PostgreSQL and a Redis broker (CELERY_BROKER_URL, DATABASE_URL), like
tests/e2e/test_worker_routing.py, whose worker fixture it uses; skipped locally without them,
a failure under CI=true.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from alerts import services
from alerts.models import Alert
from hues.celery import app as celery_app
from notifications.models import Delivery, Notification
from tests.e2e.test_worker_routing import _wait_for, broker_url, worker  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    # Read by the worker process from its environment (hues.settings).
    monkeypatch.setitem(os.environ, "ALERT_BATCH_SIZE", "2")


@pytest.fixture
def to_the_broker(small_batches: None, worker: Path) -> Iterator[Path]:  # noqa: F811
    """The worker's log; meanwhile tasks go to the broker, not eagerly. Celery reads the
    namespaced key (the settings say CELERY_TASK_ALWAYS_EAGER)."""
    eager = celery_app.conf.CELERY_TASK_ALWAYS_EAGER
    celery_app.conf.CELERY_TASK_ALWAYS_EAGER = False
    try:
        yield worker
    finally:
        celery_app.conf.CELERY_TASK_ALWAYS_EAGER = eager


def test_a_real_worker_tells_every_recipient_in_batches(
    to_the_broker: Path, make_alert, dispatcher, resident, phu_xuan
) -> None:
    users = [resident(phu_xuan) for _ in range(5)]
    alert = make_alert(areas=[phu_xuan])

    services.alert_publish(alert=alert, actor=dispatcher)  # the commit enqueues the work

    _wait_for(
        lambda: Alert.objects.filter(pk=alert.pk, state="published", pushed_count=5).exists(),
        timeout=90,
        log=to_the_broker,
    )
    alert.refresh_from_db()
    assert (alert.recipients_total, alert.batches_total, alert.notified_count) == (5, 3, 5)
    told = Notification.objects.filter(kind="alert", data__alert=alert.pk)
    assert sorted(told.values_list("user_id", flat=True)) == sorted(user.pk for user in users)
    pushes = Delivery.objects.filter(notification__in=told, channel="push")
    assert set(pushes.values_list("state", flat=True)) == {"sent"}
    log = to_the_broker.read_text()
    assert len(re.findall(r"Task alerts\.send_batch\[[^\]]+\] succeeded", log)) == 3, log
