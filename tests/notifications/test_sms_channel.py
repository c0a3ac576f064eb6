"""The SMS channel sends through the accounts outbox (accounts.texts.text_send_now): one
TextMessage row per notification, kind "notification", counted in the same SMS budget as the
codes; a refusal for good fails the delivery, the budget spent or the gateway away retries it
with the same row."""

from __future__ import annotations

from typing import Any

import pytest

from accounts.models import TextMessage, User
from accounts.sms import SmsPermanentError
from notifications.models import Delivery
from notifications.tasks import deliver
from reports.audience import notify_event
from reports.models import Event, Report
from tests.reports.helpers import resolve_with_photo

pytestmark = pytest.mark.django_db
State = Delivery.State


class RefusingGateway:
    """A gateway that refuses every number for good (a carrier's blacklist)."""

    def send(self, phone: str, text: str, *, status_url: str = "") -> str:
        raise SmsPermanentError("HTTP 400: Number(s) has/have been denied")


class Retried(Exception):
    pass


@pytest.fixture
def sms_delivery(in_progress_report: Report, staff_a: User, citizen: User) -> Delivery:
    report = resolve_with_photo(report=in_progress_report, actor=staff_a, note="Đã thay bóng.")
    event = report.events.filter(kind=Event.Kind.RESOLVED).latest("id")
    notify_event(event.pk)
    return Delivery.objects.get(notification__user=citizen, channel=Delivery.Channel.SMS)


@pytest.fixture
def attempt(monkeypatch: pytest.MonkeyPatch):
    """Run `deliver` as a worker's first attempt; a retry raises Retried."""

    def retry(exc: BaseException | None = None, **options: Any) -> None:
        raise Retried() from exc

    monkeypatch.setattr(deliver, "retry", retry)

    def run(delivery: Delivery) -> Delivery:
        deliver.push_request(retries=0, is_eager=False, called_directly=False)
        try:
            deliver.run(delivery.pk)
        finally:
            deliver.pop_request()
        delivery.refresh_from_db()
        return delivery

    return run


def test_a_notifications_text_is_an_outbox_row_of_its_own_kind(
    sms_delivery, attempt, sms_outbox, citizen
):
    delivery = attempt(sms_delivery)

    assert delivery.state == State.SENT
    text = TextMessage.objects.get()
    assert text.kind == TextMessage.Kind.NOTIFICATION
    assert text.user == citizen
    assert text.state == TextMessage.State.SENT
    assert text.body == sms_outbox[0].text
    assert sms_outbox[0].text.startswith("Hue-S: ")


def test_a_spent_budget_holds_the_text_back_and_the_retry_counts_it_once(
    sms_delivery, attempt, sms_outbox, sms_limits
):
    sms_limits(hourly_budget=0)

    with pytest.raises(Retried):
        attempt(sms_delivery)

    assert sms_outbox == []
    assert not TextMessage.objects.exists()
    sms_limits(hourly_budget=1)
    assert attempt(sms_delivery).state == State.SENT
    assert attempt(sms_delivery).state == State.SENT  # sent once
    assert len(sms_outbox) == 1
    assert TextMessage.objects.count() == 1


def test_a_number_the_gateway_refuses_for_good_fails_the_delivery_at_once(
    sms_delivery, attempt, settings
):
    settings.SMS_BACKEND = f"{__name__}.RefusingGateway"

    delivery = attempt(sms_delivery)

    assert delivery.state == State.FAILED
    assert "denied" in delivery.last_error
    assert TextMessage.objects.get().state == TextMessage.State.FAILED


def test_a_number_of_a_country_not_allowed_fails_the_delivery(
    sms_delivery, attempt, settings, sms_outbox
):
    settings.SMS_ALLOWED_COUNTRIES = ["LA"]

    delivery = attempt(sms_delivery)

    assert delivery.state == State.FAILED
    assert sms_outbox == []
