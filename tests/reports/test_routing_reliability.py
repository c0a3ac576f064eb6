"""Routing never loses a report and never loops forever: attempts are counted, failures
retried with backoff, and a report that keeps failing goes to the dispatchers."""

from __future__ import annotations

from datetime import timedelta
from unittest import mock

import pytest
import time_machine
from celery.exceptions import Retry
from django.core.management import call_command

from reports import lifecycle, services
from reports.models import Event, ReportStatus
from reports.tasks import route_report, sweep_unrouted

pytestmark = pytest.mark.django_db


@pytest.fixture
def unrouted(make_report, citizen):
    return make_report(citizen, route=False)


def _boom(**kwargs):
    raise RuntimeError("database hiccup")


def test_a_failed_attempt_is_still_counted(unrouted):
    with mock.patch.object(lifecycle, "report_route", _boom), pytest.raises(RuntimeError):
        services.report_route_attempt(report_id=unrouted.pk)

    unrouted.refresh_from_db()
    assert (unrouted.status, unrouted.routing_attempts) == (ReportStatus.SUBMITTED, 1)


def test_after_the_last_attempt_the_report_goes_to_the_dispatchers(unrouted, settings):
    settings.ROUTING_MAX_ATTEMPTS = 3
    with mock.patch.object(lifecycle, "report_route", _boom):
        for _ in range(3):
            with pytest.raises(RuntimeError):
                services.report_route_attempt(report_id=unrouted.pk)
        services.report_route_attempt(report_id=unrouted.pk)

    unrouted.refresh_from_db()
    assert unrouted.status == ReportStatus.NEEDS_TRIAGE
    event = unrouted.events.get(kind=Event.Kind.NEEDS_TRIAGE)
    assert event.data == {"reason": "routing_failed", "attempts": 4}


def test_a_routed_report_is_not_counted_again(unrouted):
    services.report_route_attempt(report_id=unrouted.pk)

    assert services.report_route_attempt(report_id=unrouted.pk) is None
    unrouted.refresh_from_db()
    assert unrouted.routing_attempts == 1


def test_the_task_retries_a_failure_with_growing_delays(unrouted):
    delays = []

    def retry(exc=None, countdown=None, **kwargs):
        delays.append(countdown)
        return Retry(exc=exc, when=countdown)

    with mock.patch.object(lifecycle, "report_route", _boom):
        for retries in range(3):
            route_report.push_request(retries=retries)
            try:
                with mock.patch.object(route_report, "retry", retry), pytest.raises(Retry):
                    route_report.run(unrouted.pk)
            finally:
                route_report.pop_request()

    assert delays == [5, 10, 20]


def test_the_sweeper_redrives_only_reports_left_unrouted(unrouted, make_report, citizen):
    fresh = make_report(citizen, route=False)
    fresh.created_at = unrouted.created_at + timedelta(minutes=5)
    fresh.save(update_fields=["created_at"])

    with (
        time_machine.travel(unrouted.created_at + timedelta(minutes=3)),
        mock.patch("reports.tasks.enqueue") as enqueue,
    ):
        count = sweep_unrouted()

    assert count == 1
    enqueue.assert_called_once_with("reports.route", unrouted.pk)


def test_route_pending_routes_without_a_broker(unrouted, capsys):
    with time_machine.travel(unrouted.created_at + timedelta(minutes=3)):
        call_command("route_pending")

    unrouted.refresh_from_db()
    assert unrouted.status == ReportStatus.ROUTED
    assert "handled 1" in capsys.readouterr().out


def test_route_pending_leaves_fresh_reports_to_the_queue(unrouted):
    call_command("route_pending", "--older-than", "600")

    unrouted.refresh_from_db()
    assert unrouted.status == ReportStatus.SUBMITTED
