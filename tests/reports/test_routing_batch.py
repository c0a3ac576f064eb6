"""Routing in batches: a worker's routing pass takes the other waiting reports with its own,
routes each exactly as alone (transition, event, deadline, notification), in a constant number
of queries, and one bad report fails only itself."""

from __future__ import annotations

from datetime import datetime
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from notifications.models import Notification
from reports import lifecycle, services
from reports.models import Event, Report, ReportStatus
from reports.tasks import notify_many, route_report
from tests.conftest import PHU_XUAN_POINT, VY_DA_POINT

pytestmark = pytest.mark.django_db

NOON = datetime(2026, 3, 10, 12, 0, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))


@pytest.fixture
def unrouted(make_report, citizen):
    """Reports filed and left submitted, as if no routing task had run yet."""

    def make(count: int = 1, **fields) -> list[Report]:
        return [make_report(citizen, route=False, **fields) for _ in range(count)]

    return make


def _statuses(reports: list[Report]) -> list[tuple[str, int]]:
    """(status, routing attempts) of each report, as stored, in the order given."""
    rows = {
        pk: (status, attempts)
        for pk, status, attempts in Report.objects.filter(
            pk__in=[r.pk for r in reports]
        ).values_list("pk", "status", "routing_attempts")
    }
    return [rows[r.pk] for r in reports]


def _routing_events(reports: list[Report]) -> int:
    return Event.objects.filter(
        report__in=reports, kind__in=[Event.Kind.ROUTED, Event.Kind.NEEDS_TRIAGE]
    ).count()


def test_one_pass_routes_the_waiting_reports_with_its_own(unrouted):
    first, *others = unrouted(5)

    services.report_route_attempt(report_id=first.pk, batch_size=10)

    assert _statuses([first, *others]) == [(ReportStatus.ROUTED, 1)] * 5
    assert _routing_events([first, *others]) == 5


def test_the_other_reports_messages_find_them_routed_and_change_nothing(unrouted):
    first, *others = unrouted(4)
    services.report_route_attempt(report_id=first.pk, batch_size=10)

    for report in others:
        assert services.report_route_attempt(report_id=report.pk, batch_size=10) is None

    assert _statuses([first, *others]) == [(ReportStatus.ROUTED, 1)] * 4
    assert _routing_events([first, *others]) == 4


def test_a_pass_takes_no_more_than_its_batch_size(unrouted):
    reports = unrouted(5)

    services.report_route_attempt(report_id=reports[0].pk, batch_size=3)

    assert [status for status, _ in _statuses(reports)] == [ReportStatus.ROUTED] * 3 + [
        ReportStatus.SUBMITTED
    ] * 2


def test_a_batch_routes_each_report_as_routing_it_alone_would(make_report, citizen):
    kinds = [
        {"category": "street_lighting"},
        {"category": "urban_order", "point": VY_DA_POINT},
        {"category": "trees_parks", "point": PHU_XUAN_POINT},
        {"category": "other"},
        {"category": "drainage", "priority": "urgent"},
    ]
    with time_machine.travel(NOON, tick=False):
        alone = [make_report(citizen, route=False, **kind) for kind in kinds]
        for report in alone:
            lifecycle.report_route(report_id=report.pk)
        batched = [make_report(citizen, route=False, **kind) for kind in kinds]
        lifecycle.reports_route(report_ids=[report.pk for report in batched])

    def outcome(report: Report) -> tuple:
        report.refresh_from_db()
        event = report.events.exclude(kind=Event.Kind.CREATED).get()
        return (
            report.status,
            report.agency_id,
            report.due_at,
            report.routed_at,
            report.updated_at,
            (event.kind, event.actor_id, event.from_status, event.to_status),
            (event.data, event.is_public, event.created_at),
        )

    assert [outcome(r) for r in batched] == [outcome(r) for r in alone]


def test_the_events_of_a_batch_are_notified_in_one_message_after_the_commit(
    unrouted, django_capture_on_commit_callbacks
):
    reports = unrouted(3)
    with (
        mock.patch("hues.scheduling.enqueue") as enqueue,
        django_capture_on_commit_callbacks(execute=True),
    ):
        lifecycle.reports_route(report_ids=[r.pk for r in reports])

    events = Event.objects.filter(report__in=reports, kind=Event.Kind.ROUTED)
    enqueue.assert_called_once_with("reports.notify_many", sorted(e.pk for e in events))


def test_each_event_of_a_batch_tells_its_reporter_once(
    unrouted, citizen, django_capture_on_commit_callbacks
):
    reports = unrouted(3)
    with django_capture_on_commit_callbacks(execute=True):  # notify_many runs eagerly
        lifecycle.reports_route(report_ids=[r.pk for r in reports])
    events = list(Event.objects.filter(report__in=reports, kind=Event.Kind.ROUTED))

    notify_many(event_ids=[e.pk for e in events])  # run again: a redelivered message

    for event in events:
        assert Notification.objects.filter(event=event, user=citizen).count() == 1
        event.refresh_from_db()
        assert event.notified_at is not None


def test_nothing_is_notified_when_the_batch_rolls_back(
    unrouted, django_capture_on_commit_callbacks
):
    reports = unrouted(2)
    with (
        mock.patch("hues.scheduling.enqueue") as enqueue,
        mock.patch.object(Event.objects, "bulk_create", side_effect=RuntimeError("disk full")),
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
    ):
        lifecycle.reports_route(report_ids=[r.pk for r in reports])

    enqueue.assert_not_called()
    assert _statuses(reports) == [(ReportStatus.SUBMITTED, 0)] * 2


def test_a_batch_costs_the_same_queries_for_five_reports_as_for_twenty(unrouted):
    warm = unrouted(1)[0]
    lifecycle.report_route(report_id=warm.pk)  # the routing snapshot and the calendar are built
    small, large = unrouted(5), unrouted(20)

    with CaptureQueriesContext(connection) as five:
        services.report_route_attempt(report_id=small[0].pk, batch_size=5)
    with CaptureQueriesContext(connection) as twenty:
        services.report_route_attempt(report_id=large[0].pk, batch_size=20)

    assert _statuses(small + large) == [(ReportStatus.ROUTED, 1)] * 25
    assert _statements(twenty) == _statements(five)
    # Count the attempts (own row, the others, the update), then route them: read, update, insert.
    assert _statements(five) == 6


def _statements(queries: CaptureQueriesContext) -> int:
    """Statements sent, leaving out the savepoints of the test's own transaction."""
    return sum("SAVEPOINT" not in query["sql"] for query in queries.captured_queries)


def _failing_for(category: str):
    real = lifecycle.decide

    def decide(**kwargs):
        if kwargs["category"] == category:
            raise RuntimeError("bad rule")
        return real(**kwargs)

    return decide


def test_one_failing_report_does_not_block_the_others_in_its_batch(unrouted):
    own = unrouted(1)[0]
    bad = unrouted(1, category="garbage")[0]
    rest = unrouted(2)

    with mock.patch.object(lifecycle, "decide", _failing_for("garbage")):
        services.report_route_attempt(report_id=own.pk, batch_size=10)

    assert _statuses([own, bad, *rest]) == [
        (ReportStatus.ROUTED, 1),
        (ReportStatus.SUBMITTED, 1),  # counted: its own message retries it
        (ReportStatus.ROUTED, 1),
        (ReportStatus.ROUTED, 1),
    ]
    assert _routing_events([own, bad, *rest]) == 3


def test_when_its_own_report_fails_the_pass_raises_after_routing_the_others(unrouted):
    own = unrouted(1, category="garbage")[0]
    others = unrouted(2)

    with (
        mock.patch.object(lifecycle, "decide", _failing_for("garbage")),
        pytest.raises(RuntimeError),
    ):
        services.report_route_attempt(report_id=own.pk, batch_size=10)

    assert _statuses([own, *others]) == [
        (ReportStatus.SUBMITTED, 1),
        (ReportStatus.ROUTED, 1),
        (ReportStatus.ROUTED, 1),
    ]


def test_a_report_waiting_for_its_retry_is_left_to_its_own_message(unrouted):
    retrying, fresh = unrouted(2)
    Report.objects.filter(pk=retrying.pk).update(routing_attempts=2)  # failed twice, backing off
    own = unrouted(1)[0]

    services.report_route_attempt(report_id=own.pk, batch_size=10)

    assert _statuses([retrying, fresh, own]) == [
        (ReportStatus.SUBMITTED, 2),
        (ReportStatus.ROUTED, 1),
        (ReportStatus.ROUTED, 1),
    ]


def test_its_own_report_past_the_last_attempt_goes_to_triage_and_the_others_are_routed(
    unrouted, settings
):
    settings.ROUTING_MAX_ATTEMPTS = 3
    own = unrouted(1)[0]
    Report.objects.filter(pk=own.pk).update(routing_attempts=3)
    others = unrouted(2)

    services.report_route_attempt(report_id=own.pk, batch_size=10)

    assert _statuses([own, *others]) == [
        (ReportStatus.NEEDS_TRIAGE, 4),
        (ReportStatus.ROUTED, 1),
        (ReportStatus.ROUTED, 1),
    ]
    own_event = Event.objects.get(report=own, kind=Event.Kind.NEEDS_TRIAGE)
    assert own_event.data == {"reason": "routing_failed", "attempts": 4}


def test_the_routing_task_in_a_worker_routes_the_waiting_reports_too(unrouted):
    own, *others = unrouted(3)

    route_report.run(own.pk)  # as a worker runs it: not eager

    assert _statuses([own, *others]) == [(ReportStatus.ROUTED, 1)] * 3


def test_the_routing_task_run_eagerly_routes_only_its_own_report(unrouted):
    own, *others = unrouted(3)

    route_report.delay(own.pk)  # no broker: inside the request that filed it

    assert (
        _statuses([own, *others]) == [(ReportStatus.ROUTED, 1)] + [(ReportStatus.SUBMITTED, 0)] * 2
    )


def test_routing_a_batch_again_changes_nothing(unrouted):
    reports = unrouted(3)
    lifecycle.reports_route(report_ids=[r.pk for r in reports])
    before = [(r.pk, *row) for r, row in zip(reports, _statuses(reports), strict=True)]

    assert lifecycle.reports_route(report_ids=[r.pk for r in reports]) == []

    assert [(r.pk, *row) for r, row in zip(reports, _statuses(reports), strict=True)] == before
    assert _routing_events(reports) == 3
