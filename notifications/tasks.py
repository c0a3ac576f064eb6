"""Background work for notifications: sending each delivery, and the sweeper that re-drives
deliveries whose task was lost. Thin: the work is in notifications.services."""

from __future__ import annotations

from typing import Any

from celery import Task, shared_task

from notifications import services
from notifications.channels import DeliveryFailed

DELIVER_OPTIONS: dict[str, Any] = {
    "bind": True,
    "autoretry_for": (DeliveryFailed,),
    # 30 s, 1, 2, 4, 8, 16 min (with jitter), then the delivery is marked failed.
    "retry_backoff": 30,
    "retry_backoff_max": 30 * 60,
    "retry_jitter": True,
    "max_retries": 6,
}


def _deliver(task: Task[[int], None], delivery_id: int) -> None:
    # Run eagerly (no broker), nothing could make a later attempt: the first one is final.
    last_attempt = task.request.is_eager or task.request.retries >= (task.max_retries or 0)
    services.delivery_send(delivery_id=delivery_id, last_attempt=last_attempt)


def _sweep_deliveries() -> int:
    """Re-enqueue deliveries whose task was lost before its first attempt."""
    return services.deliveries_resend_lost()


deliver = shared_task(name="notifications.deliver", **DELIVER_OPTIONS)(_deliver)
sweep_deliveries = shared_task(name="notifications.sweep_deliveries")(_sweep_deliveries)

# The names these tasks had while they lived in the reports app: messages queued before an
# upgrade (a retry's countdown runs up to 30 minutes) still find their task. Remove them one
# release after the split.
deliver_under_old_name = shared_task(name="reports.deliver", **DELIVER_OPTIONS)(_deliver)
sweep_deliveries_under_old_name = shared_task(name="reports.sweep_deliveries")(_sweep_deliveries)
