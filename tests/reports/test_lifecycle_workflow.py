"""The agency workflow transitions: assign, transfer, reopen, rate, close, comment, escalate,
and the deadline clock that stops while the agency waits for the citizen."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from accounts.models import Role
from hues.errors import InvalidInput, NotPermitted
from reports import lifecycle
from reports.lifecycle import ReopenWindowPassed, TransferReason, TransitionNotAllowed
from reports.models import Agency, Event, ReportStatus
from tests.factories import UserFactory
from tests.reports.helpers import reload as _reload
from tests.reports.helpers import resolve_with_photo

S = ReportStatus
pytestmark = pytest.mark.django_db


@pytest.fixture
def resolved_report(in_progress_report, staff_a):
    return resolve_with_photo(report=in_progress_report, actor=staff_a, note="Đã thay bóng đèn.")


@pytest.fixture
def colleague(hepco):
    return UserFactory(full_name="Colleague HEPCO", role=Role.STAFF, agency=hepco)


# Assign


def test_a_manager_assigns_a_report_to_a_colleague(routed_report, manager, colleague):
    lifecycle.report_assign(report=routed_report, actor=manager, assignee=colleague)

    report = _reload(routed_report)
    assert report.assignee == colleague
    assert report.status == S.ROUTED
    event = report.events.latest("id")
    assert (event.kind, event.is_public, event.actor) == (Event.Kind.ASSIGNED, False, manager)


def test_staff_cannot_assign(routed_report, staff_a, colleague):
    with pytest.raises(NotPermitted):
        lifecycle.report_assign(report=routed_report, actor=staff_a, assignee=colleague)

    assert _reload(routed_report).assignee is None


def test_a_report_cannot_be_assigned_to_someone_of_another_agency(routed_report, manager, staff_b):
    with pytest.raises(InvalidInput) as error:
        lifecycle.report_assign(report=routed_report, actor=manager, assignee=staff_b)

    assert error.value.code == "invalid_assignee"
    assert _reload(routed_report).assignee is None


def test_a_manager_of_another_agency_cannot_assign(routed_report, phu_xuan_committee, staff_b):
    other_manager = UserFactory(role=Role.MANAGER, agency=phu_xuan_committee)

    with pytest.raises(NotPermitted):
        lifecycle.report_assign(report=routed_report, actor=other_manager, assignee=staff_b)


# Transfer


def test_staff_transfer_a_report_back_to_the_dispatchers_with_a_reason(
    in_progress_report, staff_a, phu_xuan_committee
):
    lifecycle.report_transfer(
        report=in_progress_report,
        actor=staff_a,
        reason=TransferReason.WRONG_AGENCY,
        message="Việc lấn chiếm vỉa hè thuộc phường.",
        suggested_agency=phu_xuan_committee,
    )

    report = _reload(in_progress_report)
    assert report.status == S.NEEDS_TRIAGE
    assert report.agency is None
    event = report.events.latest("id")
    assert event.kind == Event.Kind.TRANSFERRED
    assert event.data == {
        "reason": "wrong_agency",
        "from_agency": "hepco",
        "suggested_agency": phu_xuan_committee.code,
    }


def test_a_transferred_report_keeps_its_deadline_when_the_dispatcher_routes_it_on(
    in_progress_report, staff_a, dispatcher, phu_xuan_committee
):
    due = in_progress_report.due_at
    lifecycle.report_transfer(
        report=in_progress_report, actor=staff_a, reason=TransferReason.OUTSIDE_AREA, message="x"
    )

    lifecycle.report_dispatch(
        report=in_progress_report, actor=dispatcher, agency_id=phu_xuan_committee.pk
    )

    report = _reload(in_progress_report)
    assert (report.status, report.agency, report.due_at) == (S.ROUTED, phu_xuan_committee, due)


@pytest.mark.parametrize(("reason", "message"), [("bogus", "x"), ("wrong_agency", "  ")])
def test_a_transfer_needs_a_known_reason_and_a_message(routed_report, staff_a, reason, message):
    with pytest.raises(InvalidInput):
        lifecycle.report_transfer(
            report=routed_report, actor=staff_a, reason=reason, message=message
        )

    assert _reload(routed_report).status == S.ROUTED


def test_staff_of_another_agency_cannot_transfer(routed_report, staff_b):
    with pytest.raises(NotPermitted):
        lifecycle.report_transfer(
            report=routed_report, actor=staff_b, reason=TransferReason.WRONG_AGENCY, message="x"
        )


def test_a_transfer_cannot_suggest_the_same_or_an_inactive_agency(routed_report, staff_a, hepco):
    closed = Agency.objects.create(
        code="closed-unit", name="Đã giải thể", kind="other", is_active=False
    )
    for agency in (hepco, closed):
        with pytest.raises(InvalidInput):
            lifecycle.report_transfer(
                report=routed_report,
                actor=staff_a,
                reason=TransferReason.WRONG_AGENCY,
                message="x",
                suggested_agency=agency,
            )


# Rate, close, reopen


def test_the_citizen_rates_the_result_which_closes_the_report(resolved_report, citizen):
    lifecycle.report_rate(report=resolved_report, actor=citizen, stars=4, comment="Nhanh, tốt")

    report = _reload(resolved_report)
    assert (report.status, report.rating, report.rating_comment) == (S.CLOSED, 4, "Nhanh, tốt")
    assert report.closed_at is not None
    assert report.events.latest("id").kind == Event.Kind.RATED


@pytest.mark.parametrize("stars", [0, 6, -1])
def test_a_rating_is_one_to_five_stars(resolved_report, citizen, stars):
    with pytest.raises(InvalidInput):
        lifecycle.report_rate(report=resolved_report, actor=citizen, stars=stars)

    assert _reload(resolved_report).status == S.RESOLVED


def test_only_the_reporter_rates(resolved_report, other_citizen, staff_a):
    for actor in (other_citizen, staff_a):
        with pytest.raises(NotPermitted):
            lifecycle.report_rate(report=resolved_report, actor=actor, stars=5)


def test_an_unresolved_report_cannot_be_rated(in_progress_report, citizen):
    with pytest.raises(TransitionNotAllowed):
        lifecycle.report_rate(report=in_progress_report, actor=citizen, stars=5)


def test_the_citizen_reopens_within_seven_days_and_the_agency_gets_a_new_deadline(
    resolved_report, citizen
):
    later = resolved_report.resolved_at + timedelta(days=6, hours=23)
    with time_machine.travel(later, tick=False):
        lifecycle.report_reopen(report=resolved_report, actor=citizen, reason="Đèn lại hỏng")

        report = _reload(resolved_report)
        assert report.status == S.IN_PROGRESS
        assert report.agency.code == "hepco"
        assert report.reopen_count == 1
        assert report.due_at > timezone.now()
    assert report.events.latest("id").kind == Event.Kind.REOPENED


def test_a_closed_report_can_still_be_reopened_within_the_window(resolved_report, citizen):
    lifecycle.report_rate(report=resolved_report, actor=citizen, stars=1, comment="Chưa sửa")

    lifecycle.report_reopen(report=resolved_report, actor=citizen, reason="Chưa sửa xong")

    report = _reload(resolved_report)
    assert (report.status, report.rating, report.closed_at) == (S.IN_PROGRESS, None, None)


def test_reopening_after_seven_days_is_refused(resolved_report, citizen):
    later = resolved_report.resolved_at + timedelta(days=7, minutes=1)
    with time_machine.travel(later, tick=False), pytest.raises(ReopenWindowPassed):
        lifecycle.report_reopen(report=resolved_report, actor=citizen, reason="Vẫn hỏng")

    assert _reload(resolved_report).status == S.RESOLVED


def test_only_the_reporter_reopens(resolved_report, other_citizen):
    with pytest.raises(NotPermitted):
        lifecycle.report_reopen(report=resolved_report, actor=other_citizen, reason="x")


def test_the_citizen_may_confirm_and_close(resolved_report, citizen):
    lifecycle.report_close(report=resolved_report, actor=citizen)

    assert _reload(resolved_report).status == S.CLOSED


def test_an_unanswered_resolved_report_closes_after_the_waiting_time_only(resolved_report):
    after = timedelta(days=7)
    assert lifecycle.report_close_unanswered(report_id=resolved_report.pk, after=after) is None

    with time_machine.travel(resolved_report.resolved_at + after + timedelta(minutes=1)):
        closed = lifecycle.report_close_unanswered(report_id=resolved_report.pk, after=after)
        again = lifecycle.report_close_unanswered(report_id=resolved_report.pk, after=after)

    assert closed is not None
    assert again is None
    report = _reload(resolved_report)
    assert report.status == S.CLOSED
    assert report.events.filter(kind=Event.Kind.CLOSED).count() == 1


# Comments and the deadline clock


def test_the_reporter_comments_on_their_report(routed_report, citizen):
    event = lifecycle.report_comment(report=routed_report, actor=citizen, message="Thêm thông tin")

    assert (event.kind, event.is_public, event.actor) == (Event.Kind.COMMENTED, True, citizen)
    assert _reload(routed_report).status == S.ROUTED


def test_nobody_else_comments_as_the_citizen(routed_report, other_citizen):
    with pytest.raises(NotPermitted):
        lifecycle.report_comment(report=routed_report, actor=other_citizen, message="x")


def test_asking_the_citizen_stops_the_clock_until_they_answer(routed_report, staff_a, citizen):
    due = routed_report.due_at
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        lifecycle.report_post_update(
            report=routed_report, actor=staff_a, message="Cột đèn số mấy?", ask_citizen=True
        )
    assert _reload(routed_report).waiting_since == start

    with time_machine.travel(start + timedelta(hours=30), tick=False):
        lifecycle.report_comment(report=routed_report, actor=citizen, message="Cột số 12")

    report = _reload(routed_report)
    assert report.waiting_since is None
    assert report.due_at > due


def test_a_plain_update_does_not_stop_the_clock(routed_report, staff_a):
    lifecycle.report_post_update(report=routed_report, actor=staff_a, message="Đang kiểm tra")

    assert _reload(routed_report).waiting_since is None


# Escalation


def test_an_overdue_report_is_escalated_once(routed_report):
    with time_machine.travel(routed_report.due_at + timedelta(minutes=1)):
        first = lifecycle.report_escalate(report_id=routed_report.pk)
        second = lifecycle.report_escalate(report_id=routed_report.pk)

    assert first is not None
    assert second is None
    report = _reload(routed_report)
    assert report.escalated_at is not None
    escalations = report.events.filter(kind=Event.Kind.ESCALATED)
    assert escalations.count() == 1
    assert escalations.get().is_public is False


def test_a_report_not_yet_due_is_not_escalated(routed_report):
    assert lifecycle.report_escalate(report_id=routed_report.pk) is None
    assert _reload(routed_report).escalated_at is None


def test_a_report_waiting_for_the_citizen_is_not_escalated(routed_report, staff_a):
    lifecycle.report_post_update(report=routed_report, actor=staff_a, message="?", ask_citizen=True)

    with time_machine.travel(routed_report.due_at + timedelta(days=1)):
        assert lifecycle.report_escalate(report_id=routed_report.pk) is None


def test_a_resolved_report_is_not_escalated(resolved_report):
    with time_machine.travel(resolved_report.due_at + timedelta(days=1)):
        assert lifecycle.report_escalate(report_id=resolved_report.pk) is None


# Notifications are scheduled for every event


def test_every_transition_schedules_the_notify_task_after_commit(
    routed_report, staff_a, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        lifecycle.report_accept(report=routed_report, actor=staff_a)

    assert len(callbacks) == 1
