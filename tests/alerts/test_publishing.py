"""Publishing an alert: who is told, once each, in batches, pushed; withdrawing it."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from accounts.models import Role
from accounts.services import user_delete_account
from alerts import selectors, services, tasks
from alerts.models import Alert, AlertRecipient
from notifications.models import Delivery, Notification
from tests.conftest import VY_DA_POINT
from tests.factories import AgencyFactory, UserFactory

pytestmark = pytest.mark.django_db


def told(alert: Alert) -> set[int]:
    return set(
        Notification.objects.filter(kind="alert", data__alert=alert.pk).values_list(
            "user_id", flat=True
        )
    )


# Who


def test_citizens_whose_home_area_is_concerned_are_told(
    make_alert, publish, resident, phu_xuan, vy_da
):
    inside = resident(phu_xuan)
    resident(vy_da)

    alert = publish(make_alert(areas=[phu_xuan]))

    assert told(alert) == {inside.pk}
    assert alert.state == Alert.State.PUBLISHED


def test_citizens_who_reported_there_recently_are_told(
    make_alert, publish, resident, make_report, citizen, other_citizen, vy_da
):
    """citizen has no home area; they filed a report in Vỹ Dạ 10 days ago. other_citizen
    filed there 40 days ago: longer ago than ALERT_RECENT_REPORT_DAYS (30)."""
    now = timezone.now()
    with time_machine.travel(now - timedelta(days=40), tick=False):
        make_report(other_citizen, point=VY_DA_POINT)
    with time_machine.travel(now - timedelta(days=10), tick=False):
        make_report(citizen, point=VY_DA_POINT)

    alert = publish(make_alert(areas=[vy_da]))

    assert told(alert) == {citizen.pk}


def test_the_recent_window_is_a_setting(
    make_alert, publish, make_report, other_citizen, vy_da, settings
):
    settings.ALERT_RECENT_REPORT_DAYS = 60
    with time_machine.travel(timezone.now() - timedelta(days=40), tick=False):
        make_report(other_citizen, point=VY_DA_POINT)

    assert told(publish(make_alert(areas=[vy_da]))) == {other_citizen.pk}


def test_a_citizen_living_and_reporting_there_is_told_once(
    make_alert, publish, resident, make_report, phu_xuan
):
    user = resident(phu_xuan)
    make_report(user)
    make_report(user)

    alert = publish(make_alert(areas=[phu_xuan]))

    assert Notification.objects.filter(user=user, kind="alert").count() == 1
    assert alert.recipients_total == 1


def test_a_whole_city_alert_tells_every_active_citizen(
    make_alert, publish, resident, citizen, phu_xuan, vy_da, staff_a, dispatcher
):
    a, b = resident(phu_xuan), resident(vy_da)

    alert = publish(make_alert(whole_city=True))

    assert told(alert) == {a.pk, b.pk, citizen.pk}


def test_inactive_deleted_staff_and_service_accounts_are_not_told(
    make_alert, publish, resident, phu_xuan, hepco
):
    told_one = resident(phu_xuan)
    resident(phu_xuan, is_active=False)
    user_delete_account(user=resident(phu_xuan))
    UserFactory(home_area=phu_xuan, role=Role.STAFF, agency=hepco)
    UserFactory(home_area=phu_xuan, phone="open311:abc123")

    assert told(publish(make_alert(areas=[phu_xuan]))) == {told_one.pk}


def test_choosing_the_recipients_is_one_query(
    make_alert, phu_xuan, vy_da, django_assert_num_queries
):
    alert = make_alert(areas=[phu_xuan, vy_da])

    with django_assert_num_queries(1):
        list(selectors.alert_recipients(alert).values_list("pk", flat=True))


# What


def test_the_notification_is_in_vietnamese_with_both_languages_in_its_data(
    make_alert, publish, resident, phu_xuan, pushed
):
    user = resident(phu_xuan)

    alert = publish(make_alert(areas=[phu_xuan]))

    notification = Notification.objects.get(user=user, kind="alert")
    assert notification.title == "Cắt nước khu vực Phú Xuân"
    assert notification.body.startswith("HueWACO tạm ngừng cấp nước")
    assert notification.data["alert"] == alert.pk
    assert notification.data["title_en"] == "Water cut in Phu Xuan"
    assert notification.data["text_en"].startswith("HueWACO stops")
    assert notification.data["severity"] == "warning"
    assert [(token, message.title) for token, message in pushed] == [
        (f"token-{user.pk}", "Cắt nước khu vực Phú Xuân")
    ]
    assert pushed[0][1].data["kind"] == "alert"


def test_a_citizen_without_a_device_has_it_in_the_inbox_only(
    make_alert, publish, resident, phu_xuan, pushed
):
    user = resident(phu_xuan, device=False)

    alert = publish(make_alert(areas=[phu_xuan]))

    assert told(alert) == {user.pk}
    assert not pushed
    assert (alert.notified_count, alert.pushed_count) == (1, 0)


# Once


def test_publishing_twice_tells_each_citizen_once(make_alert, publish, resident, phu_xuan, pushed):
    user = resident(phu_xuan)
    alert = make_alert(areas=[phu_xuan])

    publish(alert)
    again = publish(alert)

    assert Notification.objects.filter(user=user, kind="alert").count() == 1
    assert len(pushed) == 1
    assert (again.recipients_total, again.notified_count, again.pushed_count) == (1, 1, 1)


def test_a_rerun_of_the_tasks_tells_nobody_again(make_alert, publish, resident, phu_xuan, pushed):
    users = [resident(phu_xuan) for _ in range(3)]
    alert = publish(make_alert(areas=[phu_xuan]))

    tasks.select_recipients.apply(args=[alert.pk])
    tasks.send_batch.apply(args=[alert.pk, 0])
    services.alert_select_recipients(alert_id=alert.pk)
    services.alert_send_batch(alert_id=alert.pk, batch=0)

    alert.refresh_from_db()
    assert told(alert) == {user.pk for user in users}
    assert Notification.objects.filter(kind="alert").count() == 3
    assert len(pushed) == 3
    assert (alert.recipients_total, alert.notified_count, alert.pushed_count) == (3, 3, 3)


def test_a_batch_run_before_the_recipients_are_chosen_does_nothing(
    make_alert, dispatcher, resident, phu_xuan
):
    resident(phu_xuan)
    alert = services.alert_publish(alert=make_alert(areas=[phu_xuan]), actor=dispatcher)

    outcome = services.alert_send_batch(alert_id=alert.pk, batch=0)

    assert outcome == services.BatchOutcome()
    assert not Notification.objects.filter(kind="alert").exists()


# In batches


def test_recipients_are_sent_in_batches_of_the_batch_size(
    make_alert, publish, resident, phu_xuan, pushed, settings, tasks_run
):
    settings.ALERT_BATCH_SIZE = 2
    users = [resident(phu_xuan) for _ in range(5)]

    alert = publish(make_alert(areas=[phu_xuan]))

    batches = [args for name, args in tasks_run if name == "alerts.send_batch"]
    assert batches == [(alert.pk, 0), (alert.pk, 1), (alert.pk, 2)]
    sizes = sorted(AlertRecipient.objects.filter(alert=alert).values_list("batch", flat=True))
    assert sizes == [0, 0, 1, 1, 2]
    assert told(alert) == {user.pk for user in users}
    assert sorted(token for token, _ in pushed) == sorted(f"token-{u.pk}" for u in users)
    assert (alert.recipients_total, alert.batches_total) == (5, 3)
    assert (alert.notified_count, alert.pushed_count, alert.state) == (5, 5, Alert.State.PUBLISHED)


def test_the_alert_is_publishing_until_the_last_batch_is_sent(
    make_alert, dispatcher, resident, phu_xuan, settings
):
    settings.ALERT_BATCH_SIZE = 2
    for _ in range(3):
        resident(phu_xuan)
    alert = services.alert_publish(alert=make_alert(areas=[phu_xuan]), actor=dispatcher)
    # The selection without its tasks: as if the batches were still queued.
    services._insert_recipients(alert, 2)
    Alert.objects.filter(pk=alert.pk).update(selected_at=timezone.now(), recipients_total=3)

    services.alert_send_batch(alert_id=alert.pk, batch=0)
    alert.refresh_from_db()
    assert (alert.state, alert.notified_count) == (Alert.State.PUBLISHING, 2)

    services.alert_send_batch(alert_id=alert.pk, batch=1)
    alert.refresh_from_db()
    assert (alert.state, alert.notified_count) == (Alert.State.PUBLISHED, 3)


def test_a_citizen_deactivated_after_the_choice_is_skipped(
    make_alert, dispatcher, resident, phu_xuan
):
    stays, leaves = resident(phu_xuan), resident(phu_xuan)
    alert = services.alert_publish(alert=make_alert(areas=[phu_xuan]), actor=dispatcher)
    services._insert_recipients(alert, 10)
    Alert.objects.filter(pk=alert.pk).update(selected_at=timezone.now())
    leaves.is_active = False
    leaves.save(update_fields=["is_active"])

    services.alert_send_batch(alert_id=alert.pk, batch=0)

    alert.refresh_from_db()
    assert told(alert) == {stays.pk}
    assert alert.state == Alert.State.PUBLISHED


def test_a_push_that_fails_for_now_is_retried_by_the_batch_task(
    make_alert, dispatcher, resident, phu_xuan, settings
):
    settings.PUSH_BACKEND = "tests.reports.test_notification_delivery.BrokenBackend"
    resident(phu_xuan)
    alert = services.alert_publish(alert=make_alert(areas=[phu_xuan]), actor=dispatcher)
    services._insert_recipients(alert, 10)
    Alert.objects.filter(pk=alert.pk).update(selected_at=timezone.now())

    outcome = services.alert_send_batch(alert_id=alert.pk, batch=0, last_attempt=False)

    assert (outcome.notified, outcome.pushed, outcome.retry) == (1, 0, 1)
    delivery = Delivery.objects.get(notification__kind="alert")
    assert (delivery.state, delivery.attempts) == (Delivery.State.PENDING, 1)
    final = services.alert_send_batch(alert_id=alert.pk, batch=0, last_attempt=True)
    delivery.refresh_from_db()
    assert (final.notified, final.retry, delivery.state) == (0, 0, Delivery.State.FAILED)


# Refused


def test_an_alert_without_areas_cannot_be_published(make_alert, dispatcher):
    alert = make_alert(areas=[])

    with pytest.raises(services.AlertHasNoAudience):
        services.alert_publish(alert=alert, actor=dispatcher)
    alert.refresh_from_db()
    assert alert.state == Alert.State.DRAFT


def test_an_alert_that_has_ended_cannot_be_published(make_alert, dispatcher, phu_xuan):
    alert = make_alert(areas=[phu_xuan])

    with (
        time_machine.travel(alert.ends_at + timedelta(seconds=1)),
        pytest.raises(services.AlertEnded),
    ):
        services.alert_publish(alert=alert, actor=dispatcher)
    alert.refresh_from_db()
    assert alert.state == Alert.State.DRAFT


# Withdrawn


def test_withdrawing_stops_the_batches_not_yet_sent(
    make_alert, dispatcher, resident, phu_xuan, settings, pushed
):
    settings.ALERT_BATCH_SIZE = 1
    first, _second = resident(phu_xuan), resident(phu_xuan)
    alert = services.alert_publish(alert=make_alert(areas=[phu_xuan]), actor=dispatcher)
    services._insert_recipients(alert, 1)
    Alert.objects.filter(pk=alert.pk).update(selected_at=timezone.now())
    services.alert_send_batch(alert_id=alert.pk, batch=0)

    services.alert_withdraw(alert=alert, actor=dispatcher)
    outcome = services.alert_send_batch(alert_id=alert.pk, batch=1)

    alert.refresh_from_db()
    assert outcome == services.BatchOutcome()
    assert told(alert) == {first.pk}
    assert len(pushed) == 1
    assert (alert.state, alert.withdrawn_by) == (Alert.State.WITHDRAWN, dispatcher)
    assert alert.withdrawn_at is not None


def test_a_withdrawn_alert_cannot_be_published_again(make_alert, publish, dispatcher, phu_xuan):
    alert = publish(make_alert(areas=[phu_xuan]))
    services.alert_withdraw(alert=alert, actor=dispatcher)

    with pytest.raises(services.AlertNotDraft):
        services.alert_publish(alert=alert, actor=dispatcher)


def test_a_draft_cannot_be_withdrawn(make_alert, dispatcher, phu_xuan):
    with pytest.raises(services.AlertNotPublished):
        services.alert_withdraw(alert=make_alert(areas=[phu_xuan]), actor=dispatcher)


# Lost tasks


def test_the_sweeper_resumes_a_sending_whose_task_was_lost(
    make_alert, dispatcher, resident, phu_xuan, django_capture_on_commit_callbacks
):
    user = resident(phu_xuan)
    # Published, but the commit's task never reached a worker.
    alert = services.alert_publish(alert=make_alert(areas=[phu_xuan]), actor=dispatcher)

    assert tasks.sweep_publishing.apply().get() == 0
    with time_machine.travel(timezone.now() + timedelta(minutes=16)):
        assert tasks.sweep_publishing.apply().get() == 1

    alert.refresh_from_db()
    assert told(alert) == {user.pk}
    assert alert.state == Alert.State.PUBLISHED


def test_an_agency_is_not_a_citizen(make_alert, publish, phu_xuan):
    manager = UserFactory(home_area=phu_xuan, role=Role.MANAGER, agency=AgencyFactory())

    assert manager.pk not in told(publish(make_alert(areas=[phu_xuan])))


def test_each_citizen_is_told_in_their_own_language(make_alert, publish, resident, phu_xuan):
    vietnamese = resident(phu_xuan)
    english = resident(phu_xuan, language="en")

    alert = publish(make_alert(areas=[phu_xuan]))

    titles = dict(
        Notification.objects.filter(kind="alert", data__alert=alert.pk).values_list(
            "user_id", "title"
        )
    )
    assert titles == {vietnamese.pk: alert.title_vi, english.pk: alert.title_en}
