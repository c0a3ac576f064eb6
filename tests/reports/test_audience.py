"""reports.audience.notify_event: who is told about each timeline event, and what.

Events are made through reports.lifecycle, as the admin, the API and the tasks make them;
the test then runs `notify_event` on the event, as the `reports.notify` task does after the
transition commits.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils.translation import override

from accounts.models import Device, Role, User
from notifications.models import Delivery, Notification
from reports import lifecycle
from reports.audience import notify_event
from reports.lifecycle import RejectReason, TransferReason
from reports.models import Event, Report, Supporter
from tests.factories import UserFactory
from tests.reports.helpers import resolve_with_photo

pytestmark = pytest.mark.django_db
K = Event.Kind


def _latest(report: Report, kind: str | None = None) -> Event:
    events = report.events.all()
    if kind is not None:
        events = events.filter(kind=kind)
    return events.latest("id")


@pytest.fixture
def notify() -> Callable[..., dict[User, Notification]]:
    """Run notify_event on a report's latest event (of a kind); {user: notification}."""

    def run(report: Report, kind: str | None = None) -> dict[User, Notification]:
        event = _latest(report, kind)
        notify_event(event.pk)
        return {n.user: n for n in Notification.objects.filter(event=event).select_related("user")}

    return run


@pytest.fixture
def resolved_report(in_progress_report: Report, staff_a: User) -> Report:
    return resolve_with_photo(report=in_progress_report, actor=staff_a, note="Đã thay bóng đèn.")


@pytest.fixture
def colleague(hepco):
    return UserFactory(full_name="Colleague HEPCO", role=Role.STAFF, agency=hepco)


@pytest.fixture
def supporter(routed_report: Report, other_citizen: User) -> User:
    Supporter.objects.create(report=routed_report, user=other_citizen)
    return other_citizen


# The contract with the lifecycle


def test_every_transition_enqueues_notify_after_the_commit_and_it_tells_the_reporter(
    routed_report, staff_a, citizen, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        lifecycle.report_accept(report=routed_report, actor=staff_a)

    accepted = _latest(routed_report, K.ACCEPTED)
    assert Notification.objects.filter(event=accepted, user=citizen).exists()


def test_nothing_is_told_before_the_transition_commits(
    routed_report, staff_a, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        lifecycle.report_accept(report=routed_report, actor=staff_a)

    assert callbacks
    assert not Notification.objects.filter(event=_latest(routed_report, K.ACCEPTED)).exists()


# Routing and dispatch: the reporter, and the agency the report arrives at


def test_routing_tells_the_reporter_which_agency_has_the_report(
    routed_report, citizen, hepco, notify
):
    told = notify(routed_report, K.ROUTED)

    notification = told[citizen]
    assert notification.kind == K.ROUTED
    assert routed_report.reference in notification.title
    assert hepco.name in notification.title
    assert notification.report == routed_report
    assert notification.data == {"reference": routed_report.reference, "status": "routed"}


def test_routing_tells_the_agencys_staff_and_managers_and_no_one_else(
    routed_report, citizen, staff_a, manager, staff_b, dispatcher, notify
):
    told = notify(routed_report, K.ROUTED)

    assert set(told) == {citizen, staff_a, manager}
    assert told[staff_a].title == told[manager].title
    assert routed_report.reference in told[staff_a].title


def test_staff_are_told_what_the_report_is_about_in_vietnamese(routed_report, staff_a, notify):
    with override("en"):  # whatever the language of the task's thread
        told = notify(routed_report, K.ROUTED)

    body = told[staff_a].body
    assert routed_report.category.name_vi in body
    assert routed_report.category.name_en not in body
    assert routed_report.description in body


def test_a_dispatched_report_is_announced_to_the_agency_it_goes_to(
    triage_report, dispatcher, citizen, staff_a, manager, staff_b, hepco, notify
):
    lifecycle.report_dispatch(report=triage_report, actor=dispatcher, agency_id=hepco.pk)

    told = notify(triage_report, K.ROUTED)

    assert set(told) == {citizen, staff_a, manager}


def test_a_report_sent_to_triage_tells_no_one(triage_report, dispatcher, notify):
    assert notify(triage_report, K.NEEDS_TRIAGE) == {}


def test_inactive_users_are_told_nothing(routed_report, staff_a, manager, citizen, notify):
    manager.is_active = False
    manager.save(update_fields=["is_active"])

    told = notify(routed_report, K.ROUTED)

    assert set(told) == {citizen, staff_a}


# Work on the report: the reporter hears what they can see, never internal notes


def test_accepting_tells_the_reporter_and_not_the_staff_who_accepted(
    routed_report, staff_a, manager, citizen, notify
):
    lifecycle.report_accept(report=routed_report, actor=staff_a)

    told = notify(routed_report)

    assert set(told) == {citizen}
    assert routed_report.reference in told[citizen].title


def test_a_public_update_tells_the_reporter_the_message(
    in_progress_report, staff_a, citizen, notify
):
    lifecycle.report_post_update(report=in_progress_report, actor=staff_a, message="Đang thay cột.")

    told = notify(in_progress_report)

    assert set(told) == {citizen}
    assert told[citizen].kind == K.PUBLIC_UPDATE
    assert told[citizen].body == "Đang thay cột."


def test_a_question_to_the_citizen_is_told_as_a_question(
    in_progress_report, staff_a, citizen, notify
):
    lifecycle.report_post_update(
        report=in_progress_report, actor=staff_a, message="Cột số mấy?", ask_citizen=True
    )
    lifecycle.report_post_update(report=in_progress_report, actor=staff_a, message="Tin mới.")
    question, update = in_progress_report.events.filter(kind=K.PUBLIC_UPDATE).order_by("id")

    notify_event(question.pk)
    notify_event(update.pk)

    titles = {n.event_id: n.title for n in Notification.objects.filter(user=citizen)}
    assert titles[question.pk] != titles[update.pk]


def test_internal_notes_tell_no_citizen(in_progress_report, staff_a, citizen, manager, notify):
    lifecycle.report_add_note(report=in_progress_report, actor=staff_a, message="Thiếu vật tư.")

    assert notify(in_progress_report) == {}
    assert not Notification.objects.filter(user=citizen, kind=K.INTERNAL_NOTE).exists()


def test_an_assignment_tells_the_colleague_only(routed_report, manager, colleague, notify):
    lifecycle.report_assign(report=routed_report, actor=manager, assignee=colleague)

    told = notify(routed_report)

    assert set(told) == {colleague}
    assert routed_report.reference in told[colleague].title


def test_removing_the_assignee_tells_no_one(routed_report, manager, colleague, notify):
    lifecycle.report_assign(report=routed_report, actor=manager, assignee=colleague)
    lifecycle.report_assign(report=routed_report, actor=manager, assignee=None)

    assert notify(routed_report) == {}


def test_a_transfer_tells_the_dispatchers_and_not_the_citizen(
    routed_report, staff_a, citizen, dispatcher, manager, hepco, notify
):
    lifecycle.report_transfer(
        report=routed_report,
        actor=staff_a,
        reason=TransferReason.WRONG_AGENCY,
        message="Thuộc điện lực.",
    )

    told = notify(routed_report)

    assert set(told) == {dispatcher}
    assert told[dispatcher].body == "Thuộc điện lực."
    assert hepco.name in told[dispatcher].title


def test_the_citizens_message_goes_to_the_agency_when_no_one_is_assigned(
    routed_report, citizen, staff_a, manager, notify
):
    lifecycle.report_comment(report=routed_report, actor=citizen, message="Cột số 12.")

    told = notify(routed_report)

    assert set(told) == {staff_a, manager}
    assert told[staff_a].body == "Cột số 12."


def test_the_citizens_message_goes_to_the_assignee_when_there_is_one(
    routed_report, citizen, manager, colleague, staff_a, notify
):
    lifecycle.report_assign(report=routed_report, actor=manager, assignee=colleague)
    lifecycle.report_comment(report=routed_report, actor=citizen, message="Cột số 12.")

    assert set(notify(routed_report)) == {colleague}


# The result: the reporter (asked for a rating), the supporters, an SMS


def test_resolution_tells_the_reporter_the_note_and_asks_for_a_rating(
    resolved_report, citizen, notify
):
    told = notify(resolved_report, K.RESOLVED)

    notification = told[citizen]
    assert notification.kind == K.RESOLVED
    assert notification.body.startswith("Đã thay bóng đèn.")
    assert notification.data["action"] == "rate"
    assert notification.data["status"] == "resolved"


def test_resolution_tells_the_supporters_without_asking_them_for_a_rating(
    supporter, in_progress_report, staff_a, citizen, notify
):
    resolve_with_photo(report=in_progress_report, actor=staff_a, note="Xong.")

    told = notify(in_progress_report, K.RESOLVED)

    assert set(told) == {citizen, supporter}
    assert "action" not in told[supporter].data
    assert in_progress_report.reference in told[supporter].title
    assert told[supporter].title != told[citizen].title


def test_supporters_of_a_report_made_private_are_not_told(
    supporter, in_progress_report, staff_a, citizen, notify
):
    Report.objects.filter(pk=in_progress_report.pk).update(is_public=False)
    resolve_with_photo(report=in_progress_report, actor=staff_a, note="Xong.")

    assert set(notify(in_progress_report, K.RESOLVED)) == {citizen}


def test_rejection_tells_the_reporter_why_and_the_supporters(
    supporter, routed_report, staff_a, citizen, notify
):
    lifecycle.report_reject(
        report=routed_report, actor=staff_a, reason=RejectReason.INVALID, message="Không đúng."
    )

    told = notify(routed_report)

    assert set(told) == {citizen, supporter}
    assert told[citizen].kind == K.REJECTED
    assert told[citizen].body == "Không đúng."
    assert "action" not in told[citizen].data


def test_the_citizens_rating_tells_no_one(resolved_report, citizen, notify):
    lifecycle.report_rate(report=resolved_report, actor=citizen, stars=5)

    assert notify(resolved_report) == {}


def test_an_automatic_close_tells_the_reporter(resolved_report, citizen, notify):
    lifecycle.report_close(report=resolved_report, actor=None)

    told = notify(resolved_report)

    assert set(told) == {citizen}
    assert told[citizen].kind == K.CLOSED


def test_the_citizen_closing_their_own_report_is_not_told_about_it(
    resolved_report, citizen, notify
):
    lifecycle.report_close(report=resolved_report, actor=citizen)

    assert notify(resolved_report) == {}


def test_a_reopened_report_is_announced_to_the_agency(
    resolved_report, citizen, staff_a, manager, notify
):
    lifecycle.report_reopen(report=resolved_report, actor=citizen, reason="Đèn lại hỏng.")

    told = notify(resolved_report)

    assert set(told) == {staff_a, manager}
    assert told[staff_a].body == "Đèn lại hỏng."


# Escalation


def test_an_escalation_tells_the_agencys_managers_and_every_dispatcher(
    routed_report, citizen, staff_a, manager, dispatcher, notify
):
    other_dispatcher = UserFactory(role=Role.DISPATCHER)
    with time_machine.travel(routed_report.due_at + timedelta(minutes=1)):
        lifecycle.report_escalate(report_id=routed_report.pk)

    told = notify(routed_report)

    assert set(told) == {manager, dispatcher, other_dispatcher}
    assert {n.kind for n in told.values()} == {K.ESCALATED}
    assert routed_report.reference in told[manager].title


def test_an_escalation_costs_the_same_queries_for_one_dispatcher_as_for_five(
    make_report, citizen, manager, dispatcher
):
    def escalate_and_count() -> int:
        report = make_report(citizen)
        with time_machine.travel(report.due_at + timedelta(minutes=1)):
            lifecycle.report_escalate(report_id=report.pk)
        with CaptureQueriesContext(connection) as context:
            notify_event(_latest(report, K.ESCALATED).pk)
        return len(context.captured_queries)

    Device.objects.create(user=dispatcher, token="token-0", platform="ios")
    one = escalate_and_count()
    for number in range(1, 5):
        user = UserFactory(role=Role.DISPATCHER)
        Device.objects.create(user=user, token=f"token-{number}", platform="ios")

    assert escalate_and_count() == one
    assert Notification.objects.filter(kind=K.ESCALATED).count() == 2 + 6


# Idempotency


def test_running_notify_twice_tells_each_user_once(routed_report, citizen, staff_a, manager):
    event = _latest(routed_report, K.ROUTED)

    first = notify_event(event.pk)
    second = notify_event(event.pk)

    assert len(first) == 3
    assert second == []
    assert Notification.objects.filter(event=event).count() == 3


def test_a_rerun_after_some_were_told_tells_only_the_others(routed_report, citizen, staff_a):
    event = _latest(routed_report, K.ROUTED)
    notify_event(event.pk)
    Notification.objects.filter(event=event, user=staff_a).delete()

    again = notify_event(event.pk)

    assert [n.user for n in again] == [staff_a]
    assert Notification.objects.filter(event=event, user=citizen).count() == 1


def test_a_rerun_creates_no_second_delivery(routed_report, citizen, settings):
    settings.NOTIFICATION_EMAIL_ENABLED = True
    event = _latest(routed_report, K.ROUTED)

    notify_event(event.pk)
    notify_event(event.pk)

    assert (
        Delivery.objects.filter(notification__event=event, notification__user=citizen).count() == 1
    )


def test_an_event_that_no_longer_exists_is_ignored():
    assert notify_event(10**9) == []
