"""The outbox (accounts.texts): a text is a row sent by its id; transient failures are retried
with a doubling delay within the text's lifetime, permanent ones are not; the gateway's
delivery reports are recorded on the row; lost tasks are swept; nothing secret leaves in a
task's arguments or the logs."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from celery.signals import task_prerun
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import TextMessage
from accounts.sms import SmsPermanentError, SmsTransientError
from accounts.tasks import send_text
from accounts.texts import (
    TextNotSent,
    report_token,
    text_queue,
    text_send,
    text_send_now,
    texts_sweep,
)
from tests.accounts.conftest import PHONE, code_in

pytestmark = pytest.mark.django_db

REPORT = "/api/v1/sms/delivery-report"


class FlakyGateway:
    """A gateway stand-in (SMS_BACKEND's dotted path) that fails as told, then takes all."""

    failures: list[Exception] = []
    sent: list[tuple[str, str, str]] = []

    def send(self, phone: str, text: str, *, status_url: str = "") -> str:
        if self.failures:
            raise self.failures.pop(0)
        self.sent.append((phone, text, status_url))
        return f"gw-{len(self.sent)}"


@pytest.fixture
def gateway(settings):
    settings.SMS_BACKEND = f"{__name__}.FlakyGateway"
    settings.SMS_RETRY_BASE_SECONDS = 5
    FlakyGateway.failures = []
    FlakyGateway.sent = []
    return FlakyGateway


def notice(**fields) -> TextMessage:
    return text_queue(kind=TextMessage.Kind.NOTICE, phone=PHONE, body="Hue-S: xin chào", **fields)


# Sending, retries


def test_a_transient_failure_is_retried_with_a_doubling_delay(gateway, clock):
    gateway.failures = [SmsTransientError("HTTP 503: throttled")] * 3
    text = notice()

    delays = [text_send(text_id=text.pk).retry_in for _ in range(3)]
    final = text_send(text_id=text.pk)

    assert delays == [5, 10, 20]
    assert final.retry_in is None
    assert final.text.state == TextMessage.State.SENT
    assert final.text.attempts == 4
    assert final.text.gateway_id == "gw-1"


def test_retries_stop_when_the_text_is_no_longer_worth_sending(gateway, clock):
    gateway.failures = [SmsTransientError("connection refused")] * 2
    text = notice()
    assert text_send(text_id=text.pk).retry_in == 5
    clock.shift(timedelta(minutes=10))

    attempt = text_send(text_id=text.pk)

    assert attempt.retry_in is None
    assert attempt.text.state == TextMessage.State.EXPIRED
    assert gateway.sent == []


def test_the_last_retry_comes_before_the_end_of_life(gateway, clock):
    gateway.failures = [SmsTransientError("down")]
    text = notice()
    clock.shift(timedelta(minutes=9, seconds=57))

    assert text_send(text_id=text.pk).retry_in == 2


def test_a_permanent_failure_is_not_retried(gateway):
    gateway.failures = [SmsPermanentError("HTTP 400: Number(s) has/have been denied")]
    text = notice()

    attempt = text_send(text_id=text.pk)
    again = text_send(text_id=text.pk)

    assert attempt.retry_in is None
    assert attempt.text.state == TextMessage.State.FAILED
    assert "denied" in attempt.text.last_error
    assert again.text.attempts == 1
    assert gateway.sent == []


def test_a_sent_text_is_never_sent_again(gateway):
    text = notice()
    text_send(text_id=text.pk)

    text_send(text_id=text.pk)

    assert len(gateway.sent) == 1


def test_a_text_claimed_by_another_worker_is_left_to_it(gateway, clock):
    text = notice()
    TextMessage.objects.filter(pk=text.pk).update(
        claimed_until=timezone.now() + timedelta(seconds=30)
    )

    assert text_send(text_id=text.pk).text.state == TextMessage.State.QUEUED
    assert gateway.sent == []
    clock.shift(timedelta(seconds=31))  # that worker died: its claim runs out
    assert text_send(text_id=text.pk).text.state == TextMessage.State.SENT


def test_a_notification_sent_again_with_its_key_is_sent_once(gateway):
    first = text_send_now(phone=PHONE, body="Hue-S: đã xử lý", key="notification:7")
    second = text_send_now(phone=PHONE, body="Hue-S: đã xử lý", key="notification:7")

    assert first.pk == second.pk
    assert len(gateway.sent) == 1
    assert first.kind == TextMessage.Kind.NOTIFICATION


def test_a_notification_the_gateway_cannot_take_now_is_left_to_the_callers_retry(gateway):
    gateway.failures = [SmsTransientError("down")]
    with pytest.raises(TextNotSent):
        text_send_now(phone=PHONE, body="Hue-S: đã xử lý", key="notification:8")

    text = text_send_now(phone=PHONE, body="Hue-S: đã xử lý", key="notification:8")

    assert (text.state, text.attempts) == (TextMessage.State.SENT, 2)


# The sweeper


def test_the_sweeper_sends_texts_whose_task_was_lost_and_expires_the_old(
    gateway, clock, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):  # the task is lost
        lost = notice()
        old = notice()
    TextMessage.objects.filter(pk=old.pk).update(expires_at=old.created_at)
    clock.shift(timedelta(minutes=2))

    assert texts_sweep() == 1

    lost.refresh_from_db()
    old.refresh_from_db()
    assert lost.state == TextMessage.State.SENT
    assert old.state == TextMessage.State.EXPIRED


# Nothing secret on the broker or in the logs


def test_the_task_carries_only_the_texts_id(register):
    carried = []

    def record(sender, args, kwargs, **_):
        carried.append((sender.name, tuple(args), dict(kwargs)))

    task_prerun.connect(record)
    try:
        register()
    finally:
        task_prerun.disconnect(record)

    assert carried == [("accounts.send_text", (TextMessage.objects.get().pk,), {})]


def test_no_code_and_no_full_number_reach_the_logs(
    register, verify, last_code, caplog, gateway, settings
):
    gateway.failures = [SmsTransientError("down"), SmsPermanentError("rejected")]
    with caplog.at_level(logging.DEBUG):
        register()
        text = TextMessage.objects.get()
        text_send(text_id=text.pk)
        TextMessage.objects.filter(pk=text.pk).update(state="queued", claimed_until=None)
        text_send(text_id=text.pk)
        code = code_in(gateway.sent[-1][1])
        verify(code)

    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "+8490****456" in logged
    assert code not in logged
    assert PHONE not in logged
    assert "905123456" not in logged


# Delivery reports


def report(client: APIClient, text: TextMessage, method: str = "get", **values: str):
    query = {"id": str(text.pk), "token": report_token(text.pk), **values}
    if method == "get":
        return client.get(REPORT, query)
    return getattr(client, method)(REPORT, query, format="json")


@pytest.fixture
def sent(gateway, settings) -> TextMessage:
    settings.SMS_STATUS_BASE_URL = "https://api.hue.example.vn"
    text = notice()
    return text_send(text_id=text.pk).text


def test_the_gateway_is_given_a_signed_report_url(sent, gateway):
    (_phone, _text, status_url) = gateway.sent[0]

    assert status_url == (
        f"https://api.hue.example.vn{REPORT}?id={sent.pk}&token={report_token(sent.pk)}"
    )


@pytest.mark.parametrize(
    ("kind", "state", "status"),
    [
        ("1", "delivered", "delivered"),
        ("2", "failed", "undelivered"),
        ("16", "failed", "rejected"),
        ("8", "sent", "accepted"),
        ("4", "sent", "buffered"),
        ("delivered", "delivered", "delivered"),
    ],
)
def test_a_delivery_report_is_recorded_on_its_text(api, sent, kind, state, status):
    response = report(api, sent, type=kind, answer="id:1 stat:X", foreign="smsc-77")

    assert response.status_code == 200, response.content
    sent.refresh_from_db()
    assert (sent.state, sent.delivery_status, sent.gateway_id) == (state, status, "gw-1")
    assert sent.reported_at is not None


def test_a_report_after_the_final_one_changes_nothing(api, sent):
    report(api, sent, type="1")

    report(api, sent, type="8")

    sent.refresh_from_db()
    assert (sent.state, sent.delivery_status) == ("delivered", "delivered")


def test_a_report_may_be_posted_as_a_form_or_json(api, sent):
    assert report(api, sent, "post", type="1").status_code == 200
    sent.refresh_from_db()
    assert sent.state == "delivered"


def test_a_forged_report_is_refused_and_changes_nothing(api, sent):
    response = api.get(REPORT, {"id": str(sent.pk), "token": "0" * 32, "type": "2"})

    assert response.status_code == 403
    sent.refresh_from_db()
    assert sent.state == "sent"


@pytest.mark.parametrize(
    "query",
    [
        {},
        {"id": "x", "token": "t", "type": "1"},
        {"id": "1" * 30, "token": "t", "type": "1"},
        {"id": "1", "token": "t", "type": "99999"},
    ],
)
def test_a_malformed_report_is_a_400_or_403(api, sent, query):
    response = api.get(REPORT, query)

    assert response.status_code in (400, 403)
    assert response.json()["code"]


def test_a_report_on_a_text_that_is_gone_is_404(api, sent):
    pk = sent.pk
    sent.delete()

    response = api.get(REPORT, {"id": str(pk), "token": report_token(pk), "type": "1"})

    assert response.status_code == 404


def test_a_bad_type_with_a_good_token_is_400(api, sent):
    response = report(api, sent, type="99")

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_report"


@pytest.mark.parametrize("method", ["put", "patch", "delete", "options", "head"])
def test_other_methods_on_the_report_url_are_never_a_server_error(api, sent, method):
    response = getattr(api, method)(REPORT)

    assert response.status_code < 500


def test_the_task_asks_the_worker_to_retry_after_the_services_delay(gateway, monkeypatch):
    gateway.failures = [SmsTransientError("HTTP 503: throttled")]
    text = notice()
    asked = []

    def retry(exc=None, countdown=None, **options):
        asked.append(countdown)
        raise RuntimeError("retried")

    monkeypatch.setattr(send_text, "retry", retry)
    send_text.push_request(retries=0, is_eager=False, called_directly=False)
    try:
        with pytest.raises(RuntimeError, match="retried"):
            send_text.run(text.pk)
    finally:
        send_text.pop_request()

    assert asked == [5]
