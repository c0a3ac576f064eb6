"""The photos' privacy step has a queue of its own, so routing and texts never queue behind a
12 MP photo; a plain `celery worker` still consumes both queues."""

from __future__ import annotations

import pytest

from hues.celery import app


def queue_of(task_name: str) -> str:
    return app.amqp.router.route({}, task_name)["queue"].name


def test_the_privacy_step_of_a_photo_goes_to_the_photos_queue():
    assert queue_of("reports.redact_photo") == "photos"


@pytest.mark.parametrize(
    "task_name",
    ["reports.route", "reports.notify_many", "reports.text_caller", "notifications.deliver"],
)
def test_routing_and_notifications_stay_on_the_default_queue(task_name):
    assert task_name in app.tasks
    assert queue_of(task_name) == "celery"


def test_a_worker_without_q_consumes_both_queues():
    # What `celery worker` subscribes to when no -Q is given: every declared queue.
    assert set(app.amqp.queues) >= {"celery", "photos"}
