"""Background work for alerts: choosing the recipients, sending each batch, and the sweeper
that re-drives a sending whose tasks were lost. Thin: the work is in alerts.services."""

from __future__ import annotations

from celery import Task, shared_task
from django.db import OperationalError

from alerts import services
from notifications.channels import DeliveryFailed


class PushesPending(DeliveryFailed):
    """Some pushes of the batch failed in a way a later attempt may cure."""


@shared_task(
    name="alerts.select_recipients",
    autoretry_for=(OSError, OperationalError),
    retry_backoff=True,
    retry_backoff_max=120,
    max_retries=5,
    # One INSERT … SELECT over every citizen of the city for a whole-city alert.
    soft_time_limit=600,
    time_limit=660,
)
def select_recipients(alert_id: int) -> int:
    return services.alert_select_recipients(alert_id=alert_id)


@shared_task(
    bind=True,
    name="alerts.send_batch",
    autoretry_for=(PushesPending, OSError, OperationalError),
    # 30 s, 1, 2, 4, 8 min (with jitter), then the pushes still failing are marked failed.
    retry_backoff=30,
    retry_backoff_max=30 * 60,
    retry_jitter=True,
    max_retries=5,
    # A batch pushes to each device of ALERT_BATCH_SIZE citizens, one request each.
    soft_time_limit=300,
    time_limit=360,
)
def send_batch(self: Task[[int, int], None], alert_id: int, batch: int) -> None:
    # Run eagerly (no broker), nothing could make a later attempt: the first one is final.
    last_attempt = self.request.is_eager or self.request.retries >= (self.max_retries or 0)
    outcome = services.alert_send_batch(alert_id=alert_id, batch=batch, last_attempt=last_attempt)
    if outcome.retry:
        raise PushesPending(f"{outcome.retry} push(es) of batch {batch} to retry")


@shared_task(name="alerts.sweep_publishing")
def sweep_publishing() -> int:
    """Re-drive alerts stuck publishing (CELERY_BEAT_SCHEDULE)."""
    return services.alerts_resume_stalled()
