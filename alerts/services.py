"""Alerts: publishing one to the citizens of its areas, sending it in batches, withdrawing it.

Publishing moves a draft to `publishing` and, after the commit, `alerts.select_recipients`
chooses the citizens in one INSERT … SELECT (alerts.selectors.alert_recipients) into
AlertRecipient, unique per alert and user, numbered into batches of ALERT_BATCH_SIZE. One
`alerts.send_batch` task per batch then writes each citizen's inbox notification and pushes
it through the notification deliveries of the notifications app. The alert is `published`
once every recipient was handled. Each step is idempotent: publishing twice, a re-run of a
task or two runs at once tell nobody twice; a withdrawn alert's pending batches do nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Max
from django.utils import timezone, translation
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _

from accounts.models import Device, User
from alerts.models import Alert, AlertRecipient
from alerts.selectors import alert_recipients, alerts_stalled
from hues.errors import Conflict, InvalidInput
from hues.scheduling import enqueue, enqueue_on_commit
from notifications import services as notifications
from notifications.channels import DeliveryFailed
from notifications.models import Delivery, Notification

NOTIFICATION_KIND = "alert"
TITLE_MAX = 200


class AlertNotDraft(Conflict):
    code = "alert_not_draft"
    message = _("Only a draft alert can be published.")


class AlertNotPublished(Conflict):
    code = "alert_not_published"
    message = _("Only a published alert can be withdrawn.")


class AlertHasNoAudience(InvalidInput):
    code = "alert_no_areas"
    message = _("Choose one or more areas, or the whole city.")


class AlertEnded(InvalidInput):
    code = "alert_ended"
    message = _("The alert's end time has passed: change it before publishing.")


def alert_check_audience(*, whole_city: bool, area_count: int) -> None:
    """An alert is for some areas or for the whole city: exactly one of the two."""
    if whole_city == bool(area_count):
        raise AlertHasNoAudience(
            _("Choose either the whole city or one or more areas.") if whole_city else None,
            field="areas",
        )


def alert_publish(*, alert: Alert, actor: User) -> Alert:
    """Publish a draft: it is listed at once, and its recipients are chosen and told by
    tasks after the commit. Publishing an alert that is already published (or being
    published) changes nothing and tells nobody again; a withdrawn one is refused."""
    with transaction.atomic():
        locked = Alert.objects.select_for_update().get(pk=alert.pk)
        if locked.state in (Alert.State.PUBLISHING, Alert.State.PUBLISHED):
            return locked
        if locked.state != Alert.State.DRAFT:
            raise AlertNotDraft()
        alert_check_audience(whole_city=locked.whole_city, area_count=locked.areas.count())
        now = timezone.now()
        if locked.ends_at <= now:
            raise AlertEnded(field="ends_at")
        locked.state = Alert.State.PUBLISHING
        locked.published_at = now
        locked.published_by = actor
        locked.save(update_fields=["state", "published_at", "published_by"])
        enqueue_on_commit("alerts.select_recipients", locked.pk)
    return locked


def alert_withdraw(*, alert: Alert, actor: User) -> Alert:
    """Withdraw a published alert: it is no longer listed and the batches not yet sent stop.
    Withdrawing it again changes nothing; a draft cannot be withdrawn (delete it)."""
    with transaction.atomic():
        locked = Alert.objects.select_for_update().get(pk=alert.pk)
        if locked.state == Alert.State.WITHDRAWN:
            return locked
        if locked.state == Alert.State.DRAFT:
            raise AlertNotPublished()
        locked.state = Alert.State.WITHDRAWN
        locked.withdrawn_at = timezone.now()
        locked.withdrawn_by = actor
        locked.save(update_fields=["state", "withdrawn_at", "withdrawn_by"])
    return locked


# The tasks' work


def _insert_recipients(alert: Alert, batch_size: int) -> None:
    """INSERT … SELECT the recipients, numbered into batches by user id; rows already there
    (a re-run) are left as they are."""
    users = alert_recipients(alert).values("id")
    sql, params = users.query.sql_with_params()
    quote = connection.ops.quote_name
    table = quote(AlertRecipient._meta.db_table)
    # "WHERE true": SQLite needs it to tell the SELECT from the ON CONFLICT clause.
    statement = (
        f"INSERT INTO {table} ({quote('alert_id')}, {quote('user_id')}, {quote('batch')}) "  # noqa: S608
        f"SELECT %s, chosen.{quote('id')}, "
        f"(ROW_NUMBER() OVER (ORDER BY chosen.{quote('id')}) - 1) / %s "
        f"FROM ({sql}) AS chosen WHERE true "
        f"ON CONFLICT ({quote('alert_id')}, {quote('user_id')}) DO NOTHING"
    )
    with connection.cursor() as cursor:
        cursor.execute(statement, [alert.pk, batch_size, *params])


def _pending_batches(alert: Alert) -> list[int]:
    return list(
        AlertRecipient.objects.filter(alert=alert, handled_at__isnull=True)
        .order_by("batch")
        .values_list("batch", flat=True)
        .distinct()
    )


def alert_select_recipients(*, alert_id: int) -> int:
    """Choose the recipients of an alert being published (once), record how many, and
    enqueue a send task per batch that still has recipients to handle. Returns the number
    of batches enqueued. Re-run (a retry, the sweeper), it chooses nobody new."""
    alert = Alert.objects.filter(pk=alert_id, state=Alert.State.PUBLISHING).first()
    if alert is None:
        return 0
    if alert.selected_at is None:
        with transaction.atomic():
            locked = Alert.objects.select_for_update().get(pk=alert.pk)
            if locked.selected_at is None:
                _insert_recipients(locked, settings.ALERT_BATCH_SIZE)
                chosen = AlertRecipient.objects.filter(alert=locked)
                last = chosen.aggregate(last=Max("batch"))["last"]
                now = timezone.now()
                Alert.objects.filter(pk=locked.pk).update(
                    recipients_total=chosen.count(),
                    batches_total=0 if last is None else last + 1,
                    selected_at=now,
                    progress_at=now,
                )
    batches = _pending_batches(alert)
    if not batches:
        _finish_if_done(alert.pk)
    for batch in batches:
        enqueue("alerts.send_batch", alert.pk, batch)
    return len(batches)


def _notification(alert: Alert, user_id: int, language: str) -> Notification:
    # In the recipient's language, with both languages in `data` for the app to choose.
    with translation.override(language or settings.LANGUAGE_CODE):
        title, body = alert.title, alert.text
    data: dict[str, Any] = {
        "alert": alert.pk,
        "alert_kind": alert.kind,
        "severity": alert.severity,
        "title_vi": alert.title_vi,
        "title_en": alert.title_en,
        "text_vi": alert.text_vi,
        "text_en": alert.text_en,
        "starts_at": timezone.localtime(alert.starts_at).isoformat(),
        "ends_at": timezone.localtime(alert.ends_at).isoformat(),
    }
    return Notification(
        user_id=user_id,
        kind=NOTIFICATION_KIND,
        title=Truncator(title).chars(TITLE_MAX),
        body=body,
        data=data,
    )


@dataclass(frozen=True)
class BatchOutcome:
    notified: int = 0
    pushed: int = 0
    retry: int = 0  # push deliveries a later attempt may still send


def _notify_batch(alert: Alert, batch: int) -> int:
    """Write the inbox notification and the push delivery of each recipient of the batch not
    handled yet. The recipients are locked, so a concurrent run of the same batch waits and
    then finds them handled."""
    now = timezone.now()
    with transaction.atomic():
        recipients = list(
            AlertRecipient.objects.select_for_update(of=("self",))
            .filter(alert=alert, batch=batch, handled_at__isnull=True)
            .select_related("user")
            .only("id", "user_id", "user__is_active", "user__deleted_at", "user__language")
            .order_by("id")
        )
        if not recipients:
            return 0
        told = [r for r in recipients if r.user.is_active and r.user.deleted_at is None]
        created = Notification.objects.bulk_create(
            [_notification(alert, r.user_id, r.user.language) for r in told]
        )
        for recipient, notification in zip(told, created, strict=True):
            recipient.notification = notification
        for recipient in recipients:
            recipient.handled_at = now
        AlertRecipient.objects.bulk_update(recipients, ["notification", "handled_at"])
        reachable = set(
            Device.objects.filter(user_id__in=[r.user_id for r in told]).values_list(
                "user_id", flat=True
            )
        )
        Delivery.objects.bulk_create(
            Delivery(notification=notification, channel=Delivery.Channel.PUSH)
            for notification in created
            if notification.user_id in reachable
        )
        Alert.objects.filter(pk=alert.pk).update(
            notified_count=F("notified_count") + len(created), progress_at=now
        )
    return len(created)


def _push_batch(alert: Alert, batch: int, *, last_attempt: bool) -> tuple[int, int]:
    """Send the batch's push deliveries still pending; (sent, to retry)."""
    pending = list(
        Delivery.objects.filter(
            notification__alert_recipient__alert=alert,
            notification__alert_recipient__batch=batch,
            channel=Delivery.Channel.PUSH,
            state=Delivery.State.PENDING,
        )
        .order_by("id")
        .values_list("id", flat=True)
    )
    sent = retry = 0
    for delivery_id in pending:
        # Claimed while it is sent: a concurrent run of the same batch skips it, and finds
        # it sent afterwards.
        with transaction.atomic():
            claimed = (
                Delivery.objects.select_for_update(skip_locked=True)
                .filter(pk=delivery_id, state=Delivery.State.PENDING)
                .exists()
            )
            if not claimed:
                continue
            try:
                delivery = notifications.delivery_send(
                    delivery_id=delivery_id, last_attempt=last_attempt
                )
            except DeliveryFailed:
                retry += 1
                continue
        if delivery is not None and delivery.state == Delivery.State.SENT:
            sent += 1
    if sent:
        Alert.objects.filter(pk=alert.pk).update(
            pushed_count=F("pushed_count") + sent, progress_at=timezone.now()
        )
    return sent, retry


def _finish_if_done(alert_id: int) -> None:
    if not AlertRecipient.objects.filter(alert_id=alert_id, handled_at__isnull=True).exists():
        Alert.objects.filter(pk=alert_id, state=Alert.State.PUBLISHING).update(
            state=Alert.State.PUBLISHED, progress_at=timezone.now()
        )


def alert_send_batch(*, alert_id: int, batch: int, last_attempt: bool = True) -> BatchOutcome:
    """Tell one batch of an alert's recipients: an inbox notification each (once), then a
    push to those with a device. Nothing happens for an alert that is gone or withdrawn.
    Pushes that failed in a way a retry may cure stay pending (counted in `retry`) unless
    this is the `last_attempt`; the task runs again for them."""
    alert = Alert.objects.filter(pk=alert_id).first()
    if alert is None or alert.state not in (Alert.State.PUBLISHING, Alert.State.PUBLISHED):
        return BatchOutcome()
    notified = _notify_batch(alert, batch)
    _finish_if_done(alert.pk)
    pushed, retry = _push_batch(alert, batch, last_attempt=last_attempt)
    return BatchOutcome(notified=notified, pushed=pushed, retry=retry)


def alerts_resume_stalled() -> int:
    """Re-drive alerts whose sending stalled (a task lost before it ran): choose their
    recipients if that never happened and re-enqueue the batches not yet handled."""
    resumed = 0
    for alert_id in alerts_stalled(older_than=settings.ALERT_SWEEP_AFTER):
        Alert.objects.filter(pk=alert_id).update(progress_at=timezone.now())
        enqueue("alerts.select_recipients", alert_id)
        resumed += 1
    return resumed
