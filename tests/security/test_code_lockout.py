"""Issue 16, point 4 (the code half), reproduced: five wrong codes from anyone killed a
victim's verification or reset code, at an attacker's will.

Now wrong codes count per code and per client address: an attacker's guesses from other
addresses spend their own tries and the code's shared ones, never the tries of the address
that asked for the code, so the victim's code still works; and guessing stays bounded: once
the shared tries are spent, no other address gets a code checked at all."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from accounts.models import PhoneCode, User

pytestmark = pytest.mark.django_db

PHONE = "+84905123456"
VICTIM_ADDRESS = "203.0.113.1"


@pytest.fixture
def post(django_capture_on_commit_callbacks, reference_data, time_machine):
    time_machine.move_to("2026-03-02 08:00:00+07:00", tick=False)

    def send(path, body, address=VICTIM_ADDRESS):
        with django_capture_on_commit_callbacks(execute=True):
            return APIClient(REMOTE_ADDR=address).post(f"/api/v1/auth/{path}", body, format="json")

    return send


def code_of_last_text(sms_outbox) -> str:
    return re.search(r"\d{6}", sms_outbox[-1].text).group(0)


def wrong(code: str, n: int) -> str:
    return f"{(int(code) + n) % 1_000_000:06d}"


def attack(post, time_machine, path, body_for, code, addresses=3, tries=5):
    """Wrong codes naming the victim's phone from other addresses, paced so that each is
    checked."""
    answers = []
    for a in range(addresses):
        for t in range(tries):
            response = post(path, body_for(wrong(code, 1 + a * tries + t)), f"198.51.100.{a}")
            answers.append(response.json()["code"])
            time_machine.shift(timedelta(seconds=10))
    return answers


def test_wrong_codes_from_other_addresses_do_not_kill_the_victims_verification_code(
    post, sms_outbox, time_machine
):
    body = {"phone": "0905123456", "password": "nạn-nhân-mật-khẩu-1", "full_name": "Nạn Nhân"}
    post("register", body)
    code = code_of_last_text(sms_outbox)

    answers = attack(post, time_machine, "verify", lambda c: {"phone": PHONE, "code": c}, code)
    verified = post("verify", {"phone": PHONE, "code": code})

    assert set(answers) == {"invalid_code"}
    assert verified.status_code == 200, verified.json()
    assert User.objects.get(phone=PHONE).is_verified


def test_wrong_codes_from_other_addresses_do_not_kill_the_victims_reset_code(
    post, sms_outbox, time_machine, citizen
):
    User.objects.filter(pk=citizen.pk).update(phone=PHONE)
    post("password/reset", {"phone": PHONE})
    code = code_of_last_text(sms_outbox)

    def confirm(c):
        return {"phone": PHONE, "code": c, "new_password": "kẻ-gian-đoán-mò-1"}

    attack(post, time_machine, "password/reset/confirm", confirm, code)
    response = post("password/reset/confirm", {**confirm(code), "new_password": "của-tôi-2026"})

    assert response.status_code == 200, response.json()
    assert User.objects.get(phone=PHONE).check_password("của-tôi-2026")


def test_guessing_from_many_addresses_stops_at_the_codes_shared_tries(
    post, sms_outbox, time_machine
):
    body = {"phone": "0905123456", "password": "nạn-nhân-mật-khẩu-1", "full_name": "Nạn Nhân"}
    post("register", body)
    code = code_of_last_text(sms_outbox)

    attack(post, time_machine, "verify", lambda c: {"phone": PHONE, "code": c}, code, addresses=30)
    # An address that never tried: even the right code is not checked any more.
    late = post("verify", {"phone": PHONE, "code": code}, address="192.0.2.77")

    assert late.status_code == 400
    assert PhoneCode.objects.get().attempts == settings.VERIFICATION_CODE_MAX_WRONG
    assert not User.objects.get(phone=PHONE).is_verified


def test_one_address_guessing_fast_gets_few_codes_checked(post, sms_outbox, time_machine):
    body = {"phone": "0905123456", "password": "nạn-nhân-mật-khẩu-1", "full_name": "Nạn Nhân"}
    post("register", body)
    code = code_of_last_text(sms_outbox)

    for n in range(1, 50):  # as fast as it can, within one second
        post("verify", {"phone": PHONE, "code": wrong(code, n)}, address="198.51.100.9")

    assert PhoneCode.objects.get().attempts == 2  # then it must wait 2, 4, 8 s
