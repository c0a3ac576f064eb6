"""Writing notifications and sending their deliveries.

`notifications_send` writes each user's inbox notification and one Delivery per channel that
carries it, and enqueues the deliveries after the commit; `delivery_send` sends one Delivery
through its channel (the `notifications.deliver` task). Who is told what is not decided
here: the reports app (reports.audience) and the alerts app compose the messages.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

from django.conf import settings
from django.db.models import F
from django.utils import timezone
from django.utils.text import Truncator

from hues.errors import ObjectNotFound
from hues.scheduling import enqueue, enqueue_on_commit
from notifications.channels import (
    REGISTRY,
    DeliveryFailed,
    DeliveryRefused,
    Message,
    Outcome,
)
from notifications.models import Delivery, Notification
from notifications.selectors import notifications_for

if TYPE_CHECKING:
    from accounts.models import User

logger = logging.getLogger(__name__)

TITLE_MAX = 200
# Rows per INSERT: a popular report's supporters stay under PostgreSQL's parameter limit.
BATCH_SIZE = 1000


def notification_build(message: Message) -> Notification:
    """The unsaved inbox row of a message."""
    return Notification(
        user=message.user,
        kind=message.kind,
        title=Truncator(message.title).chars(TITLE_MAX),
        body=message.body,
        report_id=message.report_id,
        event_id=message.event_id,
        data=message.data,
    )


def notifications_send(messages: Sequence[Message]) -> list[Notification]:
    """Write the messages' notifications and their deliveries, one per channel that carries
    each (read once per channel for the whole batch); each delivery is sent by its own
    `notifications.deliver` task after the commit. Call it inside the caller's transaction:
    the rows and the tasks commit with it. Returns the notifications written."""
    if not messages:
        return []
    created = Notification.objects.bulk_create(
        (notification_build(message) for message in messages), batch_size=BATCH_SIZE
    )
    carried = {name: channel.carries(messages) for name, channel in REGISTRY.items()}
    deliveries = Delivery.objects.bulk_create(
        (
            Delivery(notification=notification, channel=name)
            for index, notification in enumerate(created)
            for name in REGISTRY
            if carried[name][index]
        ),
        batch_size=BATCH_SIZE,
    )
    for delivery in deliveries:
        enqueue_on_commit("notifications.deliver", delivery.pk)
    return created


FINISHED = frozenset({Delivery.State.SENT, Delivery.State.SKIPPED, Delivery.State.FAILED})


def delivery_send(*, delivery_id: int, last_attempt: bool = True) -> Delivery | None:
    """Send one delivery through its channel and record the attempt on it.

    A delivery that is sent, skipped (nothing to send to) or failed for good is left as it
    is: nothing is sent twice. A failure the channel calls final (DeliveryRefused) marks it
    failed at once. Any other failure may be cured by a retry: it keeps the delivery pending
    and raises DeliveryFailed, unless this is the `last_attempt`: then it is marked failed.
    Every error is recorded on the delivery (`attempts`, `last_error`), never raised into
    the transition that caused it.
    """
    delivery = (
        Delivery.objects.select_related("notification__user")
        .filter(pk=delivery_id)
        .exclude(state__in=FINISHED)
        .first()
    )
    if delivery is None:
        return None
    if not delivery.notification.user.is_active:
        return _record(delivery, Outcome(Delivery.State.SKIPPED, "user deactivated"))
    try:
        outcome = REGISTRY[delivery.channel].send(delivery.notification)
    except DeliveryRefused as error:
        return _record(delivery, Outcome(Delivery.State.FAILED, str(error)))
    except Exception as error:
        logger.warning("Delivery %s (%s) failed: %s", delivery.pk, delivery.channel, error)
        note = (
            str(error) if isinstance(error, DeliveryFailed) else f"{type(error).__name__}: {error}"
        )
        if last_attempt:
            return _record(delivery, Outcome(Delivery.State.FAILED, note))
        _record(delivery, Outcome(Delivery.State.PENDING, note))
        if isinstance(error, DeliveryFailed):
            raise
        raise DeliveryFailed(note) from error
    return _record(delivery, outcome)


def _record(delivery: Delivery, outcome: Outcome) -> Delivery:
    delivery.state = outcome.state
    delivery.last_error = outcome.note[:2000]
    delivery.attempts = F("attempts") + 1
    if outcome.state == Delivery.State.SENT:
        delivery.sent_at = timezone.now()
    delivery.save(update_fields=["state", "last_error", "attempts", "sent_at"])
    delivery.refresh_from_db(fields=["attempts"])
    return delivery


def deliveries_resend_lost() -> int:
    """Re-enqueue deliveries that were never tried (their task was lost: a broker outage,
    a dead worker). Returns how many."""
    cutoff = timezone.now() - settings.DELIVERY_SWEEP_AFTER
    ids = list(
        Delivery.objects.filter(
            state=Delivery.State.PENDING, attempts=0, notification__created_at__lt=cutoff
        )
        .order_by("id")
        .values_list("id", flat=True)[:1000]
    )
    for delivery_id in ids:
        enqueue("notifications.deliver", delivery_id)
    return len(ids)


# The inbox


class NotificationNotFound(ObjectNotFound):
    code = "notification_not_found"


def notification_mark_read(*, user: User, notification_id: int) -> Notification:
    """Mark one of the user's own notifications read; another user's is not found."""
    notification = notifications_for(user=user).filter(pk=notification_id).first()
    if notification is None:
        raise NotificationNotFound()
    if notification.read_at is None:
        notification.read_at = timezone.now()
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(
            read_at=notification.read_at
        )
    return notification


def notifications_mark_all_read(*, user: User) -> int:
    """Mark all the user's unread notifications read; returns how many."""
    return Notification.objects.filter(user=user, read_at__isnull=True).update(
        read_at=timezone.now()
    )
