"""reports.audience.notify_events: the events of a routing batch (`reports.notify_many`)
are told in one pass, in a constant number of queries, each exactly as `notify_event` tells
it alone; a pass that fails falls back to one event at a time."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext

from accounts.models import Device, Role, User
from notifications import services as notification_services
from notifications.models import Delivery, Notification
from reports import audience, lifecycle
from reports.audience import notify_event, notify_events
from reports.lifecycle import RejectReason, TransferReason
from reports.models import Agency, Event, Report, Supporter
from reports.tasks import notify_many
from tests.conftest import PHU_XUAN_POINT, VY_DA_POINT, need
from tests.factories import UserFactory
from tests.reports.helpers import resolve_with_photo

pytestmark = pytest.mark.django_db
K = Event.Kind
NOON = datetime(2026, 3, 10, 12, 0, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))


@pytest.fixture
def reachable(settings, citizen, staff_a, manager, dispatcher, hepco) -> None:
    """Every channel on, a push device for some, a staff member who reads English, a second
    dispatcher and a deactivated colleague: what differs between recipients shows."""
    settings.NOTIFICATION_EMAIL_ENABLED = True
    settings.NOTIFICATION_SMS_ENABLED = True
    User.objects.filter(pk=staff_a.pk).update(language="en", email="staff@example.vn")
    Device.objects.create(user=citizen, token="citizen-phone", platform="android")
    Device.objects.create(user=staff_a, token="staff-phone", platform="ios")
    Device.objects.create(user=UserFactory(role=Role.DISPATCHER), token="d-2", platform="ios")
    UserFactory(role=Role.STAFF, agency=hepco, is_active=False)


@pytest.fixture
def routed_events(make_report, citizen) -> Callable[[int], list[int]]:
    """Route `count` reports in one batch, as a worker's routing pass does; their events'
    ids, the `reports.notify_many` message. Its notifications are left to the test."""

    def make(count: int) -> list[int]:
        # To HEPCO, to the Phú Xuân and Vỹ Dạ ward committees, to monuments, to triage.
        kinds = [
            ("street_lighting", PHU_XUAN_POINT),
            ("urban_order", PHU_XUAN_POINT),
            ("urban_order", VY_DA_POINT),
            ("trees_parks", PHU_XUAN_POINT),
            ("other", PHU_XUAN_POINT),
        ]
        with time_machine.travel(NOON, tick=False):
            reports = [
                make_report(citizen, route=False, category=category, point=point)
                for category, point in (kinds[number % len(kinds)] for number in range(count))
            ]
            lifecycle.reports_route(report_ids=[report.pk for report in reports])
        return sorted(
            Event.objects.filter(report__in=reports)
            .exclude(kind=K.CREATED)
            .values_list("pk", flat=True)
        )

    return make


@pytest.fixture
def timelines(
    make_report, citizen, other_citizen, staff_a, manager, dispatcher, hepco
) -> Callable[[], list[int]]:
    """Reports taken through every kind of event that tells someone (arrivals, assignments,
    messages, a transfer, an escalation, the results with supporters); all their events'
    ids, in the order they happened."""
    colleague = UserFactory(role=Role.STAFF, agency=hepco)

    def make() -> list[int]:
        with time_machine.travel(NOON, tick=False):
            reports = [make_report(citizen, category=c) for c in ("street_lighting", "trees_parks")]
            triage = make_report(citizen, category="other", description="Chuyện khác")
            lifecycle.report_dispatch(report=triage, actor=dispatcher, agency_id=hepco.pk)

            resolved, rejected, assigned, commented, transferred = (
                make_report(citizen) for _ in range(5)
            )
            for supported in (resolved, rejected):
                Supporter.objects.create(report=supported, user=other_citizen)
            lifecycle.report_accept(report=resolved, actor=staff_a)
            resolve_with_photo(report=resolved, actor=staff_a, note="Đã thay bóng đèn.")
            lifecycle.report_reject(
                report=rejected, actor=staff_a, reason=RejectReason.INVALID, message="Không đúng."
            )
            lifecycle.report_assign(report=assigned, actor=manager, assignee=colleague)
            lifecycle.report_comment(report=assigned, actor=citizen, message="Cột số 12.")
            # The first assignment names a colleague who no longer holds the report.
            lifecycle.report_assign(report=assigned, actor=manager, assignee=staff_a)
            lifecycle.report_comment(report=commented, actor=citizen, message="Cột số 7.")
            lifecycle.report_transfer(
                report=transferred,
                actor=staff_a,
                reason=TransferReason.WRONG_AGENCY,
                message="Thuộc điện lực.",
            )
            overdue = make_report(citizen)
        with time_machine.travel(overdue.due_at + timedelta(minutes=1), tick=False):
            lifecycle.report_escalate(report_id=overdue.pk)
        every = [*reports, triage, resolved, rejected, assigned, commented, transferred, overdue]
        return list(
            Event.objects.filter(report__in=every).order_by("pk").values_list("pk", flat=True)
        )

    return make


def _told(event_ids: list[int]) -> list[tuple[Any, ...]]:
    """What the events told, read back: each notification with its deliveries."""
    rows = []
    for notification in (
        Notification.objects.filter(event__in=event_ids)
        .select_related("user")
        .prefetch_related("deliveries")
    ):
        channels = sorted((d.channel, d.state) for d in notification.deliveries.all())
        rows.append(
            (
                notification.event_id,
                notification.user_id,
                notification.kind,
                notification.title,
                notification.body,
                notification.report_id,
                notification.data,
                channels,
            )
        )
    return sorted(rows, key=lambda row: (row[0], row[1]))


def _tried(run: Callable[[], object], event_ids: list[int]) -> tuple[list[tuple[Any, ...]], int]:
    """Run `run`, read back what it told and how many deliveries it left to `reports.deliver`
    after the commit, then undo it all (a savepoint), so two ways of telling the same events
    can be compared."""
    with (
        mock.patch.object(notification_services, "enqueue_on_commit") as enqueue,
        transaction.atomic(),
    ):
        run()
        told = _told(event_ids)
        enqueued = sorted(call.args for call in enqueue.call_args_list)
        deliveries = Delivery.objects.filter(notification__event__in=event_ids)
        assert enqueued == sorted(
            ("notifications.deliver", pk) for pk in deliveries.values_list("pk", flat=True)
        )
        transaction.set_rollback(True)
    return told, len(enqueued)


def _statements(queries: CaptureQueriesContext) -> int:
    """Statements sent, leaving out the savepoints of the test's own transaction."""
    return sum("SAVEPOINT" not in query["sql"] for query in queries.captured_queries)


def _cost(event_ids: list[int]) -> int:
    """The statements `notify_events` sends for the events, then undone (a savepoint)."""
    with transaction.atomic():
        with CaptureQueriesContext(connection) as queries:
            assert notify_events(event_ids)
        transaction.set_rollback(True)
    return _statements(queries)


def _notify_one_by_one(event_ids: list[int]) -> None:
    for event_id in event_ids:
        notify_event(event_id)


# The same notifications as one event at a time


def test_a_routing_batch_tells_each_event_as_notifying_it_alone_would(
    routed_events, reachable, staff_b
):
    event_ids = routed_events(8)

    alone = _tried(lambda: _notify_one_by_one(event_ids), event_ids)
    batched = _tried(lambda: notify_many(event_ids=event_ids), event_ids)

    assert batched == alone
    told, enqueued = batched
    assert {row[2] for row in told} == {K.ROUTED}  # of the batch's triage event, no one
    assert {channel for row in told for channel, _state in row[7]} == {"push", "email"}
    assert enqueued > len(event_ids)
    assert staff_b.pk in {row[1] for row in told}  # the ward committee's reports


def test_a_batch_of_every_kind_of_event_tells_each_as_notifying_it_alone_would(
    timelines, reachable, staff_a
):
    event_ids = timelines()

    alone = _tried(lambda: _notify_one_by_one(event_ids), event_ids)
    batched = _tried(lambda: notify_events(event_ids), event_ids)

    assert batched == alone
    told, _enqueued = batched
    assert {row[2] for row in told} >= {
        K.ROUTED,
        K.ACCEPTED,
        K.ASSIGNED,
        K.COMMENTED,
        K.TRANSFERRED,
        K.ESCALATED,
        K.RESOLVED,
        K.REJECTED,
    }
    assert {channel for row in told for channel, _state in row[7]} == {"push", "sms", "email"}
    # In each recipient's language: HEPCO's staff member reads English, the citizen Vietnamese.
    assert any(row[1] == staff_a.pk and row[3].startswith("New report") for row in told)


def test_the_batch_returns_what_it_created(routed_events, citizen):
    event_ids = routed_events(3)

    created = notify_events(event_ids)

    assert sorted(n.pk for n in created) == sorted(
        Notification.objects.filter(event__in=event_ids).values_list("pk", flat=True)
    )
    assert {n.event_id for n in created if n.user_id == citizen.pk} == set(event_ids)


def test_events_that_no_longer_exist_are_ignored(routed_events):
    event_ids = routed_events(2)

    created = notify_events([10**9, *event_ids, event_ids[0]])

    assert {n.event_id for n in created} == set(event_ids)
    assert notify_events([10**9]) == []


# The cost: the same queries whatever the size of the batch


def test_a_batch_costs_the_same_queries_for_three_events_as_for_thirty(
    routed_events, reachable, citizen
):
    one, three, thirty = routed_events(1), routed_events(3), routed_events(30)

    counts = []
    for event_ids in (one, three, thirty):
        with CaptureQueriesContext(connection) as queries:
            notify_many(event_ids=event_ids)
        counts.append(_statements(queries))

    routed = Event.objects.filter(pk__in=thirty, kind=K.ROUTED)
    assert set(
        Notification.objects.filter(event__in=thirty, user=citizen).values_list("event", flat=True)
    ) == set(routed.values_list("pk", flat=True))
    assert counts[1] == counts[2]
    assert counts[2] == counts[0]  # as many as a single event, not 30 times as many
    # The events with the colleagues, then lock, read who was told, mark, insert the
    # notifications, the devices, insert the deliveries.
    assert counts[2] == 8


def test_a_batch_of_every_kind_costs_the_same_queries_for_twice_the_events(timelines, reachable):
    first = timelines()
    second = first + timelines()

    assert _cost(second) == _cost(first)


def test_the_batchs_events_are_locked_in_one_statement_in_pk_order(routed_events):
    need(connection.vendor == "postgresql", "row locks need PostgreSQL")
    event_ids = routed_events(5)

    with CaptureQueriesContext(connection) as queries:
        notify_events(list(reversed(event_ids)))

    locks = [q["sql"] for q in queries.captured_queries if "FOR UPDATE" in q["sql"]]
    assert len(locks) == 1
    assert "ORDER BY" in locks[0]


# Idempotency, and the sweeper's marker


def test_running_a_batch_again_tells_no_one_twice(routed_events):
    event_ids = routed_events(4)
    first = notify_events(event_ids)
    told = _told(event_ids)

    assert notify_events(event_ids) == []
    notify_many(event_ids=event_ids)

    assert first
    assert _told(event_ids) == told
    assert not Event.objects.filter(pk__in=event_ids, notified_at__isnull=True).exists()


def test_a_batch_marks_every_event_notified_even_those_that_tell_no_one(routed_events):
    event_ids = routed_events(5)  # one goes to triage, which tells no one
    nobody = list(
        Event.objects.filter(report__events__pk__in=event_ids, kind=K.CREATED).values_list(
            "pk", flat=True
        )
    )

    notify_events([*event_ids, *nobody])

    assert not Event.objects.filter(pk__in=event_ids + nobody, notified_at__isnull=True).exists()


def test_a_batch_of_events_that_tell_no_one_only_marks_them(routed_events):
    nobody = list(
        Event.objects.filter(report__events__pk__in=routed_events(3), kind=K.CREATED).values_list(
            "pk", flat=True
        )
    )

    with CaptureQueriesContext(connection) as queries:
        assert notify_events(nobody) == []

    assert not Event.objects.filter(pk__in=nobody, notified_at__isnull=True).exists()
    assert _statements(queries) == 2  # read the events, mark them


def test_a_rerun_after_some_were_told_tells_only_the_others(routed_events, staff_a):
    event_ids = routed_events(3)
    notify_events(event_ids)
    Notification.objects.filter(event=event_ids[0], user=staff_a).delete()

    again = notify_events(event_ids)

    assert [(n.event_id, n.user_id) for n in again] == [(event_ids[0], staff_a.pk)]


# One bad event does not hold back the others


def _failing_for(report: Report) -> Callable[..., tuple[str, str]]:
    real = audience._compose

    def compose(event: Event, agency: Agency | None, audience: str) -> tuple[str, str]:
        if event.report_id == report.pk:
            raise RuntimeError("bad template")
        return real(event, agency, audience)

    return compose


def test_a_failing_event_falls_back_to_one_at_a_time_and_the_others_are_told(
    routed_events, monkeypatch, citizen
):
    event_ids = routed_events(5)
    bad = Event.objects.get(pk=event_ids[1])
    monkeypatch.setattr(audience, "_compose", _failing_for(bad.report))

    with mock.patch("reports.tasks.enqueue") as enqueue:
        notify_many(event_ids=event_ids)

    enqueue.assert_called_once_with("reports.notify", bad.pk)
    good = set(event_ids) - {bad.pk}
    notified = Event.objects.filter(pk__in=event_ids, notified_at__isnull=False)
    assert set(notified.values_list("pk", flat=True)) == good
    told = Notification.objects.filter(user=citizen).values_list("event_id", flat=True)
    assert set(told) == set(notified.filter(kind=K.ROUTED).values_list("pk", flat=True))
    assert len(set(told)) == 3  # the fifth report went to triage, which tells no one


def test_a_failed_pass_leaves_nothing_half_told(routed_events, monkeypatch):
    event_ids = routed_events(3)
    bad = Event.objects.get(pk=event_ids[-1])
    monkeypatch.setattr(audience, "_compose", _failing_for(bad.report))

    with pytest.raises(RuntimeError):
        notify_events(event_ids)

    assert not Notification.objects.filter(event__in=event_ids).exists()
    assert not Event.objects.filter(pk__in=event_ids, notified_at__isnull=False).exists()


# Concurrency (PostgreSQL)


@pytest.mark.django_db(transaction=True)
def test_overlapping_batches_at_the_same_moment_tell_each_user_once(make_report, citizen, staff_a):
    """A swept copy of an event and a batch holding it run at once: the rows, locked in pk
    order in one statement, make one wait for the other, without a deadlock."""
    need(connection.vendor == "postgresql", "row locks need PostgreSQL")
    reports = [make_report(citizen, route=False) for _ in range(4)]
    lifecycle.reports_route(report_ids=[r.pk for r in reports])
    event_ids = sorted(Event.objects.filter(kind=K.ROUTED).values_list("pk", flat=True))
    Notification.objects.all().delete()  # the batch's task ran eagerly: undo it, as if lost
    Event.objects.update(notified_at=None)
    batches = [event_ids, list(reversed(event_ids)), event_ids[1:3], [event_ids[2]]]
    start = threading.Barrier(len(batches))
    errors: list[BaseException] = []

    def run(batch: list[int]) -> None:
        try:
            start.wait(timeout=30)
            notify_events(batch)
        except BaseException as error:  # reported below, not lost in the thread
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(batch,)) for batch in batches]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    for event_id in event_ids:  # the reporter and HEPCO's staff member, once each
        told = Notification.objects.filter(event=event_id).values_list("user_id", flat=True)
        assert sorted(told) == sorted([citizen.pk, staff_a.pk])
