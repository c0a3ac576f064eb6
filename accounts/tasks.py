"""Background work for accounts: sending SMS."""

from __future__ import annotations

from celery import shared_task

from accounts.sms import send_sms


@shared_task(
    name="accounts.send_sms",
    autoretry_for=(OSError, ConnectionError, TimeoutError),
    retry_backoff=True,
    retry_backoff_max=300,
    max_retries=6,
    acks_late=True,
)
def send_sms_task(phone: str, text: str) -> None:
    send_sms(phone, text)
