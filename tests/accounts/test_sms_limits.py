"""The SMS limits (accounts.sms_limits): the allowed countries, per number, per block of
numbers, per client address and for everyone (the hourly and daily budgets), on every path
that texts; their answers (429 `sms_limit`, 503 `sms_unavailable`, with Retry-After); the
operators' alert; and the counts per kind and outcome (accounts.texts.text_counts)."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from django.core import mail
from rest_framework.test import APIClient

import hues.cache
from accounts.models import TextMessage
from accounts.sms_limits import SmsBudgetSpent, client_key
from accounts.texts import text_counts, text_send_now
from tests.accounts.conftest import PASSWORD
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

REGISTER = "/api/v1/auth/register"
RESEND = "/api/v1/auth/verify/resend"
RESET = "/api/v1/auth/password/reset"


@pytest.fixture
def post(django_capture_on_commit_callbacks):
    """POST as a client at `address`, running the after-commit SMS task."""

    def send(path, phone, address="203.0.113.10", **body):
        client = APIClient(REMOTE_ADDR=address)
        if path == REGISTER:
            body = {"password": PASSWORD, "full_name": "Lê Thị Thu", **body}
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(path, {"phone": phone, **body}, format="json")

    return send


def number(n: int, block: str = "090512") -> str:
    """The n-th number of a block of Vietnamese mobile numbers."""
    return f"{block}{n:04d}"


# Countries


@pytest.mark.parametrize("path", [REGISTER, RESEND, RESET])
def test_a_number_of_another_country_is_refused_on_every_path(post, path, sms_outbox):
    response = post(path, "+14155550123")

    assert response.status_code == 400
    assert response.json()["code"] == "phone_not_allowed"
    assert response.json()["fields"]["phone"][0]["code"] == "phone_not_allowed"
    assert sms_outbox == []
    assert not TextMessage.objects.exists()


def test_the_allowed_countries_are_a_setting(post, settings, sms_outbox, reference_data):
    settings.SMS_ALLOWED_COUNTRIES = ["VN", "LA"]

    response = post(REGISTER, "+8562055512345")  # a Lao mobile number

    assert response.status_code == 201, response.json()
    assert [message.phone for message in sms_outbox] == ["+8562055512345"]


# Per number, block, client


def test_a_number_gets_at_most_its_hourly_limit_on_every_path_together(
    post, sms_limits, sms_outbox, citizen, clock
):
    sms_limits(number={"hour": 2})
    post(RESET, citizen.phone)
    clock.shift(timedelta(minutes=1))
    post(RESEND, citizen.phone)

    response = post(RESET, citizen.phone)

    assert response.status_code == 429
    assert response.json()["code"] == "sms_limit"
    assert response["Retry-After"] == str(59 * 60 + 1)  # until 09:00, the next clock hour
    assert TextMessage.objects.count() == 2


def test_a_number_gets_at_most_its_daily_limit(post, sms_limits, citizen, clock):
    sms_limits(number={"hour": 5, "day": 2})
    for _ in range(2):
        assert post(RESET, citizen.phone).status_code == 202
        clock.shift(timedelta(hours=2))

    response = post(RESET, citizen.phone)

    assert response.status_code == 429
    # From 12:00 until midnight in Hue.
    assert response["Retry-After"] == str(12 * 3600 + 1)


def test_a_block_of_numbers_is_limited_together(post, sms_limits, reference_data):
    sms_limits(prefix={"hour": 3})
    answers = [post(REGISTER, number(n), address=f"203.0.113.{n}").status_code for n in range(4)]

    assert answers == [201, 201, 201, 429]
    assert post(REGISTER, number(4, block="091234")).status_code == 201  # another block


def test_a_client_address_is_limited_across_numbers(post, sms_limits, reference_data):
    sms_limits(client={"hour": 2})
    blocks = ["090512", "091234", "093777"]
    answers = [post(REGISTER, number(1, block)).status_code for block in blocks]

    assert answers == [201, 201, 429]
    assert post(REGISTER, number(2, "097111"), address="198.51.100.4").status_code == 201


def test_an_ipv6_client_is_counted_by_its_64_bit_network():
    assert client_key("2001:db8:1:2::1") == client_key("2001:db8:1:2:ffff:abcd:1:9")
    assert client_key("2001:db8:1:2::1") != client_key("2001:db8:1:3::1")
    assert client_key("::ffff:203.0.113.7") == client_key("203.0.113.7")


# The budgets


def test_the_hourly_budget_stops_every_text_with_503(post, sms_limits, sms_outbox, citizen, clock):
    sms_limits(hourly_budget=2)
    post(REGISTER, number(1))
    post(REGISTER, number(2, "091234"))

    response = post(RESET, citizen.phone)

    assert response.status_code == 503
    assert response.json()["code"] == "sms_unavailable"
    assert response["Retry-After"] == str(60 * 60 + 1)
    assert len(sms_outbox) == 2
    clock.shift(timedelta(hours=1))
    assert post(RESET, citizen.phone).status_code == 202


def test_the_daily_budget_stops_every_text(post, sms_limits, citizen, clock):
    sms_limits(daily_budget=1)
    assert post(RESET, citizen.phone).status_code == 202
    clock.shift(timedelta(hours=3))

    assert post(RESET, citizen.phone).status_code == 503
    clock.shift(timedelta(hours=13))  # the next day in Hue
    assert post(RESET, citizen.phone).status_code == 202


def test_a_text_refused_by_a_narrow_limit_does_not_spend_the_budget(
    post, sms_limits, citizen, reference_data
):
    sms_limits(number={"hour": 1}, hourly_budget=2)
    post(RESET, citizen.phone)
    for _ in range(5):
        assert post(RESET, citizen.phone).status_code == 429

    assert post(REGISTER, number(7, "093777")).status_code == 201


def test_a_spent_budget_alerts_the_operators_once(
    post, sms_limits, citizen, administrator, caplog, clock
):
    administrator.email = "admin@hue.gov.vn"
    administrator.save()
    sms_limits(hourly_budget=1)
    post(RESET, citizen.phone)
    with caplog.at_level(logging.ERROR, logger="accounts.sms_limits"):
        for _ in range(3):
            assert post(RESET, citizen.phone).status_code == 503

    errors = [
        record
        for record in caplog.records
        if record.levelno == logging.ERROR and record.name == "accounts.sms_limits"
    ]
    assert len(errors) == 1
    assert "SMS budget spent" in errors[0].getMessage()
    (message,) = mail.outbox
    assert message.to == [administrator.email]
    assert message.subject == "Hue-S: đã hết hạn mức SMS trong giờ"  # in the admin's language


def test_a_report_notification_counts_in_the_budget_and_is_refused_when_it_is_spent(
    sms_limits, citizen, sms_outbox
):
    sms_limits(hourly_budget=1)
    text = text_send_now(phone=citizen.phone, body="Hue-S: phản ánh đã xử lý", key="n:1")
    assert text.state == TextMessage.State.SENT

    with pytest.raises(SmsBudgetSpent):
        text_send_now(phone=citizen.phone, body="Hue-S: phản ánh khác", key="n:2")

    assert len(sms_outbox) == 1


def test_the_budget_is_counted_from_the_outbox_while_the_cache_is_away(
    post, sms_limits, settings, citizen, monkeypatch
):
    # The cache's "away" mark is the process's: put back after the test, for the next ones.
    monkeypatch.setattr(hues.cache, "_failed_at", None)
    sms_limits(hourly_budget=2)
    settings.CACHES = {
        "default": {
            "BACKEND": "hues.cache.ResilientRedisCache",
            "LOCATION": "redis://127.0.0.1:9/0",  # nothing listens there
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }
    assert post(RESET, citizen.phone).status_code == 202
    assert post(RESET, citizen.phone).status_code == 202

    assert post(RESET, citizen.phone).status_code == 503


# Counts


def test_every_text_is_counted_per_kind_and_outcome(post, sms_limits, citizen, reference_data):
    sms_limits(number={"hour": 1}, daily_budget=10)
    post(REGISTER, number(1))
    post(RESET, citizen.phone)
    post(RESET, citizen.phone)  # refused: the number's limit
    post(RESET, "0912000111")  # no account: skipped
    UserFactory(phone="+84905550000")

    counts = text_counts()

    assert counts.by_kind["verification"]["sent"] == 1
    assert counts.by_kind["reset"]["sent"] == 1
    assert counts.by_kind["reset"]["skipped"] == 1
    assert counts.by_kind["reset"]["refused"] == 1
    assert counts.by_kind["notification"] == dict.fromkeys(counts.by_kind["notification"], 0)
    assert counts.queued_total == 3
    assert counts.budget_left == 7
