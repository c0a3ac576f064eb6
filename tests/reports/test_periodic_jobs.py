"""The periodic jobs (Celery beat): escalation of overdue reports and auto-close of resolved
reports the citizen did not answer; and the working-hour deadlines they act on."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings

from hues.celery import app
from reports import deadlines, lifecycle, selectors, tasks
from reports.lifecycle import RejectReason
from reports.models import Category, Event, ReportStatus
from tests.reports.helpers import resolve_with_photo

pytestmark = pytest.mark.django_db

HUE = ZoneInfo("Asia/Ho_Chi_Minh")
# Friday 13 March 2026, 16:00: with 8 working hours, due on Monday 16 March at 16:30
# (Friday 16:00-17:00, Monday 07:30-11:30 and 13:30-16:30).
FRIDAY_AFTERNOON = datetime(2026, 3, 13, 16, 0, tzinfo=HUE)
DUE = datetime(2026, 3, 16, 16, 30, tzinfo=HUE)


def _reload(report):
    report.refresh_from_db()
    return report


def _escalations(report) -> int:
    return report.events.filter(kind=Event.Kind.ESCALATED).count()


@pytest.fixture
def eight_hours(reference_data):
    Category.objects.filter(code="street_lighting").update(deadline_hours=8)


@pytest.fixture
def due_monday(make_report, citizen, eight_hours):
    """A street-lighting report routed to HEPCO on Friday afternoon, due on Monday."""
    with time_machine.travel(FRIDAY_AFTERNOON, tick=False):
        return make_report(citizen)


# The deadline set at routing


def test_the_deadline_set_at_routing_counts_working_hours(due_monday):
    assert due_monday.routed_at == FRIDAY_AFTERNOON
    assert due_monday.due_at == DUE


def test_the_deadline_of_an_urgent_report_counts_its_urgent_working_hours(
    make_report, citizen, reference_data
):
    Category.objects.filter(code="street_lighting").update(urgent_deadline_hours=4)

    with time_machine.travel(FRIDAY_AFTERNOON, tick=False):
        report = make_report(citizen, priority="urgent")

    # Friday 16:00-17:00, then Monday 07:30-10:30.
    assert report.due_at == datetime(2026, 3, 16, 10, 30, tzinfo=HUE)


def test_a_question_to_the_citizen_moves_the_deadline_by_the_working_time_until_the_answer(
    make_report, citizen, staff_a, reference_data
):
    Category.objects.filter(code="street_lighting").update(deadline_hours=16)
    with time_machine.travel(datetime(2026, 3, 10, 9, 0, tzinfo=HUE), tick=False):
        report = make_report(citizen)
    # Tuesday 09:00-17:00 (6 h), Wednesday (7.5 h), Thursday 07:30-10:00 (2.5 h).
    assert report.due_at == datetime(2026, 3, 12, 10, 0, tzinfo=HUE)

    with time_machine.travel(datetime(2026, 3, 10, 15, 0, tzinfo=HUE), tick=False):
        lifecycle.report_post_update(
            report=report, actor=staff_a, message="Cột đèn số mấy?", ask_citizen=True
        )
    with time_machine.travel(datetime(2026, 3, 11, 9, 0, tzinfo=HUE), tick=False):
        lifecycle.report_comment(report=report, actor=citizen, message="Cột số 12.")

    # Waited Tuesday 15:00-17:00 and Wednesday 07:30-09:00: three and a half working hours.
    report = _reload(report)
    assert report.waiting_since is None
    assert report.due_at == datetime(2026, 3, 12, 15, 30, tzinfo=HUE)
    assert deadlines.working_time_between(
        datetime(2026, 3, 12, 10, 0, tzinfo=HUE), report.due_at
    ) == timedelta(hours=3.5)


def test_a_question_answered_overnight_leaves_the_deadline_as_it_was(due_monday, staff_a, citizen):
    with time_machine.travel(datetime(2026, 3, 13, 17, 30, tzinfo=HUE), tick=False):
        lifecycle.report_post_update(
            report=due_monday, actor=staff_a, message="Ảnh rõ hơn được không?", ask_citizen=True
        )
    with time_machine.travel(datetime(2026, 3, 16, 7, 0, tzinfo=HUE), tick=False):
        lifecycle.report_comment(report=due_monday, actor=citizen, message="Đã gửi.")

    assert _reload(due_monday).due_at == DUE


# Escalation of overdue reports


def test_an_overdue_report_is_escalated_once_however_often_the_job_runs(due_monday):
    with time_machine.travel(DUE + timedelta(minutes=5), tick=False):
        first = tasks.escalate_overdue.delay().get()
        second = tasks.escalate_overdue.delay().get()

    report = _reload(due_monday)
    assert (first, second) == (1, 0)
    assert _escalations(report) == 1
    assert report.escalated_at == DUE + timedelta(minutes=5)
    assert report.status == ReportStatus.ROUTED


def test_an_escalated_report_is_not_escalated_again_on_later_days(due_monday):
    with time_machine.travel(DUE + timedelta(minutes=5), tick=False):
        tasks.escalate_overdue()
    with time_machine.travel(DUE + timedelta(days=3), tick=False):
        tasks.escalate_overdue()

    assert _escalations(_reload(due_monday)) == 1


def test_a_report_not_yet_due_is_not_escalated(due_monday):
    with time_machine.travel(DUE - timedelta(minutes=1), tick=False):
        assert tasks.escalate_overdue() == 0

    report = _reload(due_monday)
    assert report.escalated_at is None
    assert _escalations(report) == 0


def test_a_report_due_over_the_weekend_is_not_overdue_on_monday_morning(due_monday):
    # 72 calendar hours after Friday 16:00, but only five working hours have passed.
    with time_machine.travel(datetime(2026, 3, 16, 12, 0, tzinfo=HUE), tick=False):
        assert tasks.escalate_overdue() == 0


def test_a_report_waiting_for_the_citizen_is_not_escalated(due_monday, staff_a):
    with time_machine.travel(DUE - timedelta(hours=1), tick=False):
        lifecycle.report_post_update(
            report=due_monday, actor=staff_a, message="Địa chỉ chính xác?", ask_citizen=True
        )
    with time_machine.travel(DUE + timedelta(days=2), tick=False):
        assert tasks.escalate_overdue() == 0

    assert _reload(due_monday).escalated_at is None


def test_a_resolved_report_is_not_escalated(due_monday, staff_a):
    resolve_with_photo(report=due_monday, actor=staff_a, note="Đã thay bóng.")

    with time_machine.travel(DUE + timedelta(hours=1), tick=False):
        assert tasks.escalate_overdue() == 0


def test_a_closed_report_is_not_escalated(due_monday, staff_a, citizen):
    resolve_with_photo(report=due_monday, actor=staff_a, note="Đã thay bóng.")
    lifecycle.report_rate(report=due_monday, actor=citizen, stars=5)

    with time_machine.travel(DUE + timedelta(hours=1), tick=False):
        assert tasks.escalate_overdue() == 0

    assert _escalations(_reload(due_monday)) == 0


def test_a_rejected_report_is_not_escalated(due_monday, staff_a):
    lifecycle.report_reject(
        report=due_monday, actor=staff_a, reason=RejectReason.INVALID, message="Không đúng."
    )

    with time_machine.travel(DUE + timedelta(hours=1), tick=False):
        assert tasks.escalate_overdue() == 0


def test_the_job_escalates_from_the_statuses_the_lifecycle_escalates_from():
    # The selector must never pick reports the lifecycle then refuses: they would be picked
    # again on every run.
    overdue = dict(selectors.overdue_condition(DUE).children)

    assert set(overdue["status__in"]) == set(lifecycle.TRANSITIONS["escalate"].sources)


def test_the_longest_overdue_reports_are_escalated_first(make_report, citizen, eight_hours):
    with time_machine.travel(FRIDAY_AFTERNOON, tick=False):
        older = make_report(citizen)
    with time_machine.travel(FRIDAY_AFTERNOON + timedelta(minutes=30), tick=False):
        newer = make_report(citizen)

    with time_machine.travel(DUE + timedelta(hours=1), tick=False):
        assert selectors.reports_to_escalate(limit=1) == [older.pk]
        assert selectors.reports_to_escalate(limit=5) == [older.pk, newer.pk]


# Auto-close of resolved reports the citizen did not answer


@pytest.fixture
def resolved_friday(due_monday, staff_a):
    with time_machine.travel(FRIDAY_AFTERNOON + timedelta(minutes=30), tick=False):
        return resolve_with_photo(report=due_monday, actor=staff_a, note="Đã thay bóng.")


def test_a_resolved_report_is_not_closed_before_seven_days(resolved_friday):
    resolved_at = _reload(resolved_friday).resolved_at

    with time_machine.travel(resolved_at + timedelta(days=7) - timedelta(seconds=1), tick=False):
        assert tasks.close_unanswered() == 0

    assert _reload(resolved_friday).status == ReportStatus.RESOLVED


def test_a_resolved_report_the_citizen_did_not_answer_is_closed_after_seven_days(
    resolved_friday,
):
    resolved_at = _reload(resolved_friday).resolved_at

    with time_machine.travel(resolved_at + timedelta(days=7, minutes=1), tick=False):
        assert tasks.close_unanswered.delay().get() == 1
        assert tasks.close_unanswered() == 0

    report = _reload(resolved_friday)
    assert report.status == ReportStatus.CLOSED
    assert report.closed_at == resolved_at + timedelta(days=7, minutes=1)
    closing = report.events.get(kind=Event.Kind.CLOSED)
    assert closing.actor is None
    assert closing.data == {"auto": True}


def test_a_rated_report_is_left_as_the_citizen_closed_it(resolved_friday, citizen):
    lifecycle.report_rate(report=resolved_friday, actor=citizen, stars=4)

    with time_machine.travel(FRIDAY_AFTERNOON + timedelta(days=30), tick=False):
        assert tasks.close_unanswered() == 0

    report = _reload(resolved_friday)
    assert report.rating == 4
    assert not report.events.filter(kind=Event.Kind.CLOSED).exists()


def test_a_reopened_report_is_not_closed(resolved_friday, citizen):
    with time_machine.travel(FRIDAY_AFTERNOON + timedelta(days=2), tick=False):
        lifecycle.report_reopen(report=resolved_friday, actor=citizen, reason="Vẫn chưa sáng.")

    with time_machine.travel(FRIDAY_AFTERNOON + timedelta(days=10), tick=False):
        assert tasks.close_unanswered() == 0

    assert _reload(resolved_friday).status == ReportStatus.IN_PROGRESS


# The schedule


@pytest.mark.parametrize(
    ("task", "every"),
    [("reports.escalate_overdue", 300.0), ("reports.close_unanswered", 3600.0)],
)
def test_beat_runs_the_job_periodically(task, every):
    schedule = {
        entry["task"]: entry["schedule"] for entry in settings.CELERY_BEAT_SCHEDULE.values()
    }

    assert schedule[task] == every
    assert task in app.tasks
