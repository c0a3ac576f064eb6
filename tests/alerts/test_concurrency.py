"""Two workers on the same alert at the same moment (a duplicated or retried task): each
citizen is told once. Needs PostgreSQL (row locks)."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from django.db import close_old_connections, connection
from django.utils import timezone

from alerts import services
from alerts.models import Alert, AlertRecipient
from notifications.models import Notification
from tests.conftest import need

pytestmark = pytest.mark.django_db(transaction=True)


def _at_once(actions: list[Callable[[], object]]) -> None:
    barrier = threading.Barrier(len(actions))
    errors: list[BaseException] = []

    def run(action: Callable[[], object]) -> None:
        try:
            barrier.wait()
            action()
        except BaseException as error:
            errors.append(error)
        finally:
            close_old_connections()

    threads = [threading.Thread(target=run, args=(action,)) for action in actions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors


@pytest.fixture
def published(make_alert, dispatcher, resident, phu_xuan):
    """An alert being published to 6 residents, its tasks not yet run (here the commit would
    run them at once, without a broker)."""
    users = [resident(phu_xuan) for _ in range(6)]
    alert = make_alert(areas=[phu_xuan])
    Alert.objects.filter(pk=alert.pk).update(
        state=Alert.State.PUBLISHING, published_at=timezone.now(), published_by=dispatcher
    )
    alert.refresh_from_db()
    return alert, users


def test_two_runs_of_one_batch_at_once_tell_each_citizen_once(published, pushed):
    need(connection.vendor == "postgresql", "row locks need PostgreSQL (DATABASE_URL)")
    alert, users = published
    services._insert_recipients(alert, 100)
    Alert.objects.filter(pk=alert.pk).update(selected_at=timezone.now(), recipients_total=6)

    _at_once([lambda: services.alert_send_batch(alert_id=alert.pk, batch=0)] * 3)

    alert.refresh_from_db()
    assert Notification.objects.filter(kind="alert").count() == 6
    assert sorted(token for token, _ in pushed) == sorted(f"token-{u.pk}" for u in users)
    assert (alert.notified_count, alert.pushed_count, alert.state) == (6, 6, "published")


def test_two_selections_at_once_choose_each_citizen_once(published, pushed, settings):
    need(connection.vendor == "postgresql", "row locks need PostgreSQL (DATABASE_URL)")
    settings.ALERT_BATCH_SIZE = 4
    alert, users = published

    _at_once([lambda: services.alert_select_recipients(alert_id=alert.pk)] * 2)

    alert.refresh_from_db()
    assert AlertRecipient.objects.filter(alert=alert).count() == 6
    assert (alert.recipients_total, alert.batches_total) == (6, 2)
    assert set(Notification.objects.filter(kind="alert").values_list("user_id", flat=True)) == {
        user.pk for user in users
    }
    assert Notification.objects.filter(kind="alert").count() == 6
    assert len(pushed) == 6
