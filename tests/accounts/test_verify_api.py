"""POST /api/v1/auth/verify: phone, code -> the phone is verified."""

from __future__ import annotations

from datetime import timedelta

import pytest

from accounts.models import PhoneCode, User
from tests.accounts.conftest import PHONE, PHONE_NATIONAL, wrong

MAX_ATTEMPTS = 5


@pytest.fixture
def code(clock, register, last_code):
    """Register the phone and return the code texted to it."""
    assert register().status_code == 201
    return last_code()


def attempts() -> int:
    return PhoneCode.objects.get(user__phone=PHONE).attempts


def test_the_right_code_verifies_the_phone(code, verify):
    response = verify(code)

    assert response.status_code == 200, response.json()
    assert User.objects.get(phone=PHONE).is_verified


def test_verifying_answers_with_the_profile(code, verify):
    body = verify(code).json()

    assert body["phone"] == PHONE
    assert body["is_verified"] is True
    assert body["role"] == "citizen"


def test_the_phone_may_be_given_in_national_form(code, verify):
    response = verify(code, phone=PHONE_NATIONAL)

    assert response.status_code == 200, response.json()
    assert User.objects.get(phone=PHONE).is_verified


def test_a_wrong_code_is_refused(code, verify):
    response = verify(wrong(code))

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid_code"
    assert body["fields"]["code"][0]["code"] == "invalid_code"
    assert not User.objects.get(phone=PHONE).is_verified


def test_a_wrong_code_counts_as_an_attempt_although_the_request_fails(code, verify):
    verify(wrong(code))
    verify(wrong(code))

    assert attempts() == 2


def guess_wrong(code, verify, clock, times=MAX_ATTEMPTS):
    """Wrong codes, far enough apart for each to be checked (a client waits 2, 4, 8 s)."""
    answers = []
    for _ in range(times):
        answers.append(verify(wrong(code)).json()["code"])
        clock.shift(timedelta(seconds=10))
    return answers


def test_five_wrong_codes_are_each_answered_as_invalid(code, verify, clock):
    answers = guess_wrong(code, verify, clock)

    assert answers == ["invalid_code"] * MAX_ATTEMPTS
    assert attempts() == MAX_ATTEMPTS


def test_after_five_wrong_codes_even_the_right_code_is_refused_to_that_address(code, verify, clock):
    guess_wrong(code, verify, clock)

    response = verify(code)

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_code"
    assert not User.objects.get(phone=PHONE).is_verified


def test_after_a_second_wrong_code_the_address_waits_before_the_next_is_checked(
    code, verify, clock
):
    guess_wrong(code, verify, clock, times=2)
    clock.shift(-timedelta(seconds=9))  # 1 s after the second wrong code; 2 s are due

    assert verify(code).status_code == 400
    assert attempts() == 2  # not even counted
    clock.shift(timedelta(seconds=1))
    assert verify(code).status_code == 200


def test_a_new_code_after_a_lockout_verifies_the_phone(code, verify, resend, last_code, clock):
    guess_wrong(code, verify, clock)
    clock.shift(timedelta(minutes=1))
    resend()

    response = verify(last_code())

    assert response.status_code == 200, response.json()


def test_an_expired_code_is_refused(code, verify, clock):
    clock.shift(timedelta(minutes=10, seconds=1))

    response = verify(code)

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_code"
    assert not User.objects.get(phone=PHONE).is_verified


def test_a_code_cannot_be_used_twice(code, verify):
    assert verify(code).status_code == 200

    response = verify(code)

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_code"


def test_a_used_code_is_marked_used(code, verify):
    verify(code)

    assert PhoneCode.objects.get(user__phone=PHONE).used_at is not None


def test_the_code_of_one_phone_does_not_verify_another(code, register, verify):
    register(phone="0912345678")

    response = verify(code, phone="+84912345678")

    assert response.status_code == 400
    assert not User.objects.get(phone="+84912345678").is_verified


def test_an_unknown_phone_is_answered_like_a_wrong_code(db, verify):
    response = verify("123456", phone="0987654321")

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_code"


def test_an_already_verified_phone_does_not_reveal_its_profile_without_a_code(citizen, verify):
    response = verify("000000", phone=citizen.phone)

    assert response.status_code == 400
    assert citizen.full_name not in response.content.decode()
    assert citizen.email not in response.content.decode()


def test_an_inactive_users_code_is_refused(code, verify):
    User.objects.filter(phone=PHONE).update(is_active=False)

    response = verify(code)

    assert response.status_code == 400
    assert not User.objects.get(phone=PHONE).is_verified


@pytest.mark.parametrize("malformed", ["12345", "1234567", "abcdef", "12 456", ""])
def test_a_code_that_is_not_six_digits_is_refused_without_counting_an_attempt(
    code, verify, malformed
):
    response = verify(malformed)

    assert response.status_code == 400
    assert "code" in response.json()["fields"]
    assert attempts() == 0


def test_an_invalid_phone_is_reported_on_the_phone_field(db, verify):
    response = verify("123456", phone="not-a-phone")

    assert response.status_code == 400
    assert response.json()["fields"]["phone"][0]["code"] == "invalid_phone"
