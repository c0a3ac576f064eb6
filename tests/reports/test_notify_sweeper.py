"""No notification is lost when its task is: an event is marked `notified_at` by the task
that told everyone, and `reports.sweep_unnotified` (beat, every minute) enqueues again the
events still unmarked after NOTIFY_SWEEP_AFTER, without ever telling anyone twice."""

from __future__ import annotations

import threading
from datetime import timedelta
from unittest import mock

import pytest
import time_machine
from django.conf import settings
from django.db import connection, connections
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerDown

from notifications.models import Notification
from reports import lifecycle
from reports.audience import notify_event
from reports.models import Event
from reports.tasks import notify, sweep_unnotified
from tests.conftest import need

pytestmark = pytest.mark.django_db


def _later(delta: timedelta) -> time_machine.travel:
    return time_machine.travel(timezone.now() + delta, tick=False)


def _routed(report) -> Event:
    return report.events.get(kind=Event.Kind.ROUTED)


def test_the_task_marks_the_event_notified(routed_report):
    event = _routed(routed_report)
    assert event.notified_at is None

    notify_event(event.pk)

    event.refresh_from_db()
    assert event.notified_at is not None


def test_an_event_nobody_hears_of_is_marked_too(routed_report):
    created = routed_report.events.get(kind=Event.Kind.CREATED)  # the reporter's own action

    assert notify_event(created.pk) == []

    created.refresh_from_db()
    assert created.notified_at is not None


def test_the_event_of_a_broker_outage_is_notified_by_the_sweeper_once(
    make_report, citizen, staff_a, manager, django_capture_on_commit_callbacks
):
    report = make_report(citizen, route=False)
    with (
        mock.patch.object(notify, "apply_async", side_effect=BrokerDown("connection refused")),
        django_capture_on_commit_callbacks(execute=True),
    ):
        lifecycle.report_route(report_id=report.pk)  # commits; enqueueing notify fails
    event = _routed(report)
    assert not Notification.objects.filter(event=event).exists()

    with _later(settings.NOTIFY_SWEEP_AFTER - timedelta(seconds=10)):
        assert sweep_unnotified() == 0  # too early: the task may still be on its way
    with _later(settings.NOTIFY_SWEEP_AFTER + timedelta(seconds=10)):
        swept = sweep_unnotified()
        again = sweep_unnotified()

    assert swept == 2  # the report's `created` event and the lost `routed` one
    assert again == 0
    told = Notification.objects.filter(event=event)
    assert sorted(told.values_list("user_id", flat=True)) == sorted(
        [citizen.pk, staff_a.pk, manager.pk]
    )
    # The original task, delivered late after all, tells nobody a second time.
    assert notify_event(event.pk) == []
    assert Notification.objects.filter(event=event).count() == 3


def test_the_sweeper_leaves_notified_and_fresh_events_alone(routed_report, make_report, citizen):
    notified = _routed(routed_report)
    notify_event(notified.pk)
    with _later(timedelta(minutes=1)):
        fresh = _routed(make_report(citizen))

    with (
        _later(settings.NOTIFY_SWEEP_AFTER + timedelta(seconds=10)),
        mock.patch("reports.audience.enqueue") as enqueue,
    ):
        sweep_unnotified()

    swept = [call.args[1] for call in enqueue.call_args_list]
    assert notified.pk not in swept
    assert fresh.pk not in swept
    assert routed_report.events.get(kind=Event.Kind.CREATED).pk in swept


def test_an_event_past_the_window_is_given_up(routed_report):
    event = _routed(routed_report)

    with (
        _later(settings.NOTIFY_SWEEP_WINDOW + timedelta(minutes=1)),
        mock.patch("reports.audience.enqueue") as enqueue,
    ):
        assert sweep_unnotified() == 0

    enqueue.assert_not_called()
    assert not Notification.objects.filter(event=event).exists()


def test_the_sweeper_runs_every_minute():
    schedule = {
        entry["task"]: entry["schedule"] for entry in settings.CELERY_BEAT_SCHEDULE.values()
    }
    assert schedule["reports.sweep_unnotified"] == 60.0


@pytest.mark.django_db(transaction=True)
def test_simultaneous_runs_of_one_event_tell_each_user_once(make_report, citizen, staff_a):
    """The sweeper's copy and the original task running at the same moment: the event row
    lock makes the second wait for the first, then find everyone told."""
    need(connection.vendor == "postgresql", "row locks need PostgreSQL")
    event = _routed(make_report(citizen))
    # Its task ran eagerly at the commit: undo it, as if the message had been lost.
    Notification.objects.filter(event=event).delete()
    Event.objects.filter(pk=event.pk).update(notified_at=None)
    start = threading.Barrier(4)
    created: list[int] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            start.wait(timeout=30)
            created.append(len(notify_event(event.pk)))
        except BaseException as error:  # reported below, not lost in the thread
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert sorted(created) == [0, 0, 0, 2]  # the reporter and HEPCO's staff member
    assert Notification.objects.filter(event=event).count() == 2
