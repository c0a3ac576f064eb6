"""Background work for accounts: sending the outbox's text messages, and the alerts of the
SMS budget. Tasks take ids (a one-time code never travels through the broker)."""

from __future__ import annotations

from celery import Task, shared_task

from accounts import sms_limits, texts


@shared_task(bind=True, name="accounts.send_text", max_retries=None, acks_late=True)
def send_text(self: Task[[int], None], text_id: int) -> None:
    """Send one text of the outbox. A transient failure is retried after the delay the
    service gives (doubling, within the text's lifetime: texts.text_send); run eagerly (no
    broker) nothing waits, so the text stays queued with the failure noted."""
    attempt = texts.text_send(text_id=text_id)
    if attempt.retry_in is not None and not self.request.is_eager:
        raise self.retry(countdown=attempt.retry_in)


@shared_task(name="accounts.sweep_texts")
def sweep_texts() -> int:
    """Expire texts past their time; re-enqueue those whose task was lost."""
    return texts.texts_sweep()


@shared_task(name="accounts.alert_sms_budget", max_retries=3, default_retry_delay=60)
def alert_sms_budget(period: str, maximum: int, until: str) -> int:
    """Tell the administrators that the SMS budget of the period is spent."""
    return sms_limits.sms_budget_alert(period=period, maximum=maximum, until=until)
