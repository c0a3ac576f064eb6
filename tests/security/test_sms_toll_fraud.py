"""Issue 16, point 1, reproduced: SMS toll fraud. Registration used to text a code to any
number, foreign ones included; 40 numbers from one address gave 30 texts, and with a new
X-Forwarded-For on each request 150 registrations of 150 numbers gave 150 texts in 30 s.

Now, with the default limits of hues/settings.py: only Vietnamese numbers get a text; a client
address, a number and a block of numbers get only so many; all texts together stop at the
budgets, the operators are alerted and the API answers 503 `sms_unavailable`.
"""

from __future__ import annotations

import logging

import pytest
from django.core import mail
from rest_framework.test import APIClient

from accounts.models import TextMessage

pytestmark = pytest.mark.django_db

REGISTER = "/api/v1/auth/register"
RESEND = "/api/v1/auth/verify/resend"
RESET = "/api/v1/auth/password/reset"
# The defaults of hues/settings.py (the test settings lift them).
DEFAULTS = {
    "number": {"hour": 3, "day": 10},
    "prefix": {"hour": 30, "day": 200},
    "client": {"hour": 20, "day": 100},
    "hourly_budget": 300,
    "daily_budget": 2000,
}


@pytest.fixture
def defaults(sms_limits, reference_data):
    sms_limits(**DEFAULTS)


def register(phone: str, client: APIClient, capture) -> int:
    body = {"phone": phone, "password": "một-mật-khẩu-dài-42", "full_name": "Kẻ gian"}
    with capture(execute=True):
        return client.post(REGISTER, body, format="json").status_code


@pytest.mark.parametrize("phone", ["+14155550123", "+5352123456", "+37061234567", "+8613800138000"])
@pytest.mark.parametrize("path", [REGISTER, RESEND, RESET])
def test_foreign_numbers_get_no_text(
    defaults, path, phone, sms_outbox, django_capture_on_commit_callbacks
):
    body = {"phone": phone, "password": "một-mật-khẩu-dài-42", "full_name": "X"}
    with django_capture_on_commit_callbacks(execute=True):
        response = APIClient().post(path, body, format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "phone_not_allowed"
    assert sms_outbox == []
    assert not TextMessage.objects.exists()


def test_forty_numbers_from_one_address_get_the_per_client_limit_of_texts(
    defaults, sms_outbox, django_capture_on_commit_callbacks
):
    client = APIClient(REMOTE_ADDR="203.0.113.50")
    blocks = [f"09{n:02d}" for n in (5, 6, 7, 8, 12, 13, 14, 15, 16, 18)]
    phones = [f"{block}55{n:04d}" for n in range(4) for block in blocks]

    answers = [register(phone, client, django_capture_on_commit_callbacks) for phone in phones]

    assert answers.count(201) == 20
    assert answers.count(429) == 20
    assert len(sms_outbox) == 20


def test_a_new_x_forwarded_for_on_each_request_does_not_sidestep_the_block_limit(
    defaults, sms_outbox, django_capture_on_commit_callbacks
):
    answers = []
    for n in range(150):
        client = APIClient(HTTP_X_FORWARDED_FOR=f"198.51.{n // 250}.{n % 250}")
        answers.append(register(f"0905{n:06d}", client, django_capture_on_commit_callbacks))

    assert answers.count(201) == 30  # SMS_LIMIT_PER_PREFIX: +849050 is one block
    assert len(sms_outbox) == 30


def test_a_spread_attack_stops_at_the_budget_and_alerts_the_operators(
    sms_limits,
    reference_data,
    administrator,
    sms_outbox,
    caplog,
    django_capture_on_commit_callbacks,
):
    administrator.email = "admin@hue.gov.vn"
    administrator.save()
    sms_limits(**{**DEFAULTS, "hourly_budget": 100})
    answers = []
    with caplog.at_level(logging.ERROR, logger="accounts.sms_limits"):
        for n in range(150):
            client = APIClient(HTTP_X_FORWARDED_FOR=f"198.51.{n // 250}.{n % 250}")
            phone = f"09{(n % 9) + 1}{n:07d}"  # numbers of many blocks
            answers.append(register(phone, client, django_capture_on_commit_callbacks))

    assert answers.count(201) == 100
    assert answers[100:] == [503] * 50
    assert len(sms_outbox) == 100
    alerts = [r for r in caplog.records if r.name == "accounts.sms_limits" and r.levelno >= 40]
    assert len(alerts) == 1
    assert len(mail.outbox) == 1
