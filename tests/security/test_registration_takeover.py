"""Issue 16, point 3, reproduced: takeover of a pending registration. A victim registered an
unverified phone; 62 s later an attacker registered the same phone with another password
and name; when the victim verified with the code they received, the account had the
attacker's password and name.

Now a registration waiting for its code is never overwritten: the attacker's attempt is
refused (409 `registration_pending`) until the code expires, and changes nothing. Whoever
holds the phone can prove it at any time with a password reset code."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from rest_framework.test import APIClient

from accounts.models import User

pytestmark = pytest.mark.django_db

PHONE = "+84905123456"
VICTIM = {"phone": "0905123456", "password": "nạn-nhân-mật-khẩu-1", "full_name": "Nạn Nhân"}
ATTACKER = {"phone": "0905123456", "password": "kẻ-chiếm-đoạt-77", "full_name": "Kẻ Gian"}


@pytest.fixture
def post(django_capture_on_commit_callbacks, reference_data):
    def send(path, body, address="203.0.113.1"):
        with django_capture_on_commit_callbacks(execute=True):
            return APIClient(REMOTE_ADDR=address).post(f"/api/v1/auth/{path}", body, format="json")

    return send


def texted_code(sms_outbox) -> str:
    return re.search(r"\d{6}", sms_outbox[-1].text).group(0)


def test_a_second_registration_62_seconds_later_does_not_take_the_account(
    post, sms_outbox, time_machine
):
    time_machine.move_to("2026-03-02 08:00:00+07:00", tick=False)
    assert post("register", VICTIM).status_code == 201
    victims_code = texted_code(sms_outbox)
    time_machine.shift(timedelta(seconds=62))

    attempt = post("register", ATTACKER, address="198.51.100.66")
    verified = post("verify", {"phone": PHONE, "code": victims_code})

    assert attempt.status_code == 409
    assert attempt.json()["code"] == "registration_pending"
    assert verified.status_code == 200
    account = User.objects.get(phone=PHONE)
    assert account.full_name == "Nạn Nhân"
    assert account.check_password(VICTIM["password"])
    assert not account.check_password(ATTACKER["password"])
    assert len(sms_outbox) == 1  # the attacker's attempt texted nothing


def test_the_owner_of_the_phone_proves_possession_by_a_reset_code(post, sms_outbox):
    assert post("register", ATTACKER, address="198.51.100.66").status_code == 201
    assert post("register", VICTIM).status_code == 409

    post("password/reset", {"phone": PHONE})
    confirm = {"phone": PHONE, "code": texted_code(sms_outbox), "new_password": "của-tôi-2026"}
    assert post("password/reset/confirm", confirm).status_code == 200

    account = User.objects.get(phone=PHONE)
    assert account.is_verified
    assert account.check_password("của-tôi-2026")
    assert not account.check_password(ATTACKER["password"])
