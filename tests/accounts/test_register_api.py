"""POST /api/v1/auth/register: phone, password, full_name -> an unverified citizen and a code."""

from __future__ import annotations

from datetime import timedelta

import pytest

from accounts.codes import code_of
from accounts.models import PhoneCode, Role, TextMessage, User
from tests.accounts.conftest import FULL_NAME, PASSWORD, PHONE, PHONE_NATIONAL, code_in
from tests.factories import UserFactory

MINUTE = timedelta(seconds=60)
CODE_LIFETIME = timedelta(minutes=10)


def test_registering_answers_201_with_the_masked_phone_and_no_verification(register):
    response = register()

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["phone"] == "+8490****456"
    assert body["is_verified"] is False
    assert body["detail"]


def test_registering_creates_an_unverified_citizen(register):
    register()

    user = User.objects.get(phone=PHONE)
    assert user.role == Role.CITIZEN
    assert user.is_verified is False
    assert user.full_name == FULL_NAME
    assert user.is_staff is False
    assert user.agency is None
    assert user.check_password(PASSWORD)


def test_a_registered_user_is_in_the_citizen_group_only(register):
    register()

    user = User.objects.get(phone=PHONE)
    assert list(user.groups.values_list("name", flat=True)) == ["citizen"]


def test_registering_texts_a_six_digit_code_to_the_e164_number(register, sms_outbox):
    register(phone=PHONE_NATIONAL)

    assert len(sms_outbox) == 1
    assert sms_outbox[0].phone == PHONE
    assert code_in(sms_outbox[0].text).isdigit()


def test_the_code_is_texted_only_once_the_registration_has_committed(
    db, api, sms_outbox, django_capture_on_commit_callbacks
):
    body = {"phone": PHONE, "password": PASSWORD, "full_name": FULL_NAME}
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = api.post("/api/v1/auth/register", body, format="json")

    assert response.status_code == 201
    assert sms_outbox == []
    assert len(callbacks) == 1


def test_the_response_does_not_contain_the_code(register, last_code):
    response = register()

    assert last_code() not in response.content.decode()


def test_the_code_is_stored_nowhere_only_the_nonce_it_is_derived_from(register, last_code):
    register()

    code = last_code()
    record = PhoneCode.objects.get(user__phone=PHONE)
    assert len(record.nonce) == 32
    assert code_of(record) == code
    for row in (record, TextMessage.objects.get(phone=PHONE)):
        stored = [str(getattr(row, field.attname)) for field in row._meta.concrete_fields]
        assert not any(code in value for value in stored), stored


def test_the_code_is_for_phone_verification_and_unused(register):
    register()

    record = PhoneCode.objects.get(user__phone=PHONE)
    assert record.purpose == PhoneCode.Purpose.VERIFY
    assert record.used_at is None
    assert record.attempts == 0


def test_registering_the_same_phone_in_the_other_form_is_the_same_account(register, clock):
    assert register(phone=PHONE_NATIONAL).status_code == 201
    clock.shift(CODE_LIFETIME)

    response = register(phone="+84 905 123 456", full_name="Phạm Hoa")

    assert response.status_code == 201, response.json()
    assert User.objects.count() == 1
    assert User.objects.get().full_name == "Phạm Hoa"


def test_registering_an_unverified_phone_again_once_its_code_expired_replaces_its_password(
    register, clock
):
    register()
    clock.shift(CODE_LIFETIME)

    register(password="một-mật-khẩu-mới-99")

    user = User.objects.get(phone=PHONE)
    assert user.check_password("một-mật-khẩu-mới-99")
    assert not user.check_password(PASSWORD)


def test_registering_a_verified_phone_answers_as_for_a_new_number(register, sms_outbox):
    new_number = register(phone="0905999888").json()
    UserFactory(phone=PHONE, full_name="Chủ số máy")

    response = register(phone=PHONE_NATIONAL)

    assert response.status_code == 201
    assert response.json() == {**new_number, "phone": "+8490****456"}


def test_the_owner_of_a_verified_phone_is_texted_a_notice_and_no_code(register, sms_outbox):
    owner = UserFactory(phone=PHONE, full_name="Chủ số máy", language="en")

    register(phone=PHONE_NATIONAL)

    (message,) = sms_outbox
    assert message.phone == PHONE
    assert "someone tried to register" in message.text
    assert not any(character.isdigit() for character in message.text)
    assert TextMessage.objects.get(user=owner).kind == TextMessage.Kind.NOTICE


def test_a_refused_registration_changes_nothing_on_the_verified_account(register):
    owner = UserFactory(phone=PHONE, full_name="Chủ số máy")

    response = register(phone=PHONE_NATIONAL, password="kẻ-chiếm-đoạt-77", full_name="Kẻ lạ")

    assert response.status_code == 201
    owner.refresh_from_db()
    assert owner.full_name == "Chủ số máy"
    assert owner.check_password("correct-horse-42")
    assert not PhoneCode.objects.filter(user=owner).exists()


def test_an_unverified_staff_account_cannot_be_taken_over_by_registering(register, staff_a):
    User.objects.filter(pk=staff_a.pk).update(phone=PHONE, phone_verified_at=None)

    response = register()

    assert response.status_code == 201
    staff_a.refresh_from_db()
    assert staff_a.role == Role.STAFF
    assert staff_a.check_password("correct-horse-42")


@pytest.mark.parametrize(
    "password",
    [
        pytest.param("ngắn-1", id="too-short"),
        pytest.param("20262026", id="numeric"),
        pytest.param("password123", id="common"),
        pytest.param("phamthihoa", id="like-the-name"),
    ],
)
def test_a_weak_password_is_refused_on_the_password_field(register, password):
    response = register(password=password)

    assert response.status_code == 400
    body = response.json()
    assert body["fields"]["password"]
    assert body["code"] == "invalid_password"


def test_a_weak_password_creates_no_account_and_sends_nothing(register, sms_outbox):
    register(password="123")

    assert not User.objects.filter(phone=PHONE).exists()
    assert sms_outbox == []


def test_missing_fields_are_each_reported_as_required(api, db):
    response = api.post("/api/v1/auth/register", {}, format="json")

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert body["detail"]
    for field in ("phone", "password", "full_name"):
        assert body["fields"][field][0]["code"] == "required"
        assert body["fields"][field][0]["message"]


def test_an_invalid_phone_is_reported_on_the_phone_field(register, sms_outbox):
    response = register(phone="12345")

    assert response.status_code == 400
    assert response.json()["fields"]["phone"][0]["code"] == "invalid_phone"
    assert sms_outbox == []


def test_a_phone_with_a_nul_byte_is_refused(register):
    response = register(phone="0905\x00123456")

    assert response.status_code == 400
    assert "phone" in response.json()["fields"]


def test_a_blank_full_name_is_refused(register):
    response = register(full_name="   ")

    assert response.status_code == 400
    assert response.json()["fields"]["full_name"][0]["code"] == "blank"


def test_a_full_name_with_a_nul_byte_is_refused(register):
    response = register(full_name="Hoa\x00")

    assert response.status_code == 400
    assert response.json()["fields"]["full_name"][0]["code"] == "null_characters_not_allowed"


def test_a_full_name_longer_than_150_characters_is_refused(register):
    response = register(full_name="H" * 151)

    assert response.status_code == 400
    assert response.json()["fields"]["full_name"][0]["code"] == "max_length"


def test_registering_a_waiting_phone_again_is_refused_until_its_code_expires(register, clock):
    register()
    clock.shift(CODE_LIFETIME - timedelta(seconds=30))

    response = register()

    assert response.status_code == 409
    assert response.json()["code"] == "registration_pending"
    assert response.json()["fields"]["phone"][0]["code"] == "registration_pending"
    assert response["Retry-After"] == "31"


def test_a_refused_registration_sends_nothing_and_changes_nothing(register, sms_outbox, clock):
    register()
    clock.shift(timedelta(seconds=10))

    register(password="một-mật-khẩu-mới-99", full_name="Tên khác")

    assert len(sms_outbox) == 1
    user = User.objects.get(phone=PHONE)
    assert user.full_name == FULL_NAME
    assert user.check_password(PASSWORD)
    assert PhoneCode.objects.filter(user=user).count() == 1


def test_a_second_registration_of_a_verified_phone_is_refused_as_for_a_new_number(register, clock):
    UserFactory(phone=PHONE)
    register(phone="0905999888")
    register()
    clock.shift(MINUTE)

    assert register(phone="0905999888").status_code == 409
    assert register().status_code == 409


def test_a_new_code_may_be_asked_for_once_a_minute_has_passed(register, resend, sms_outbox, clock):
    register()
    clock.shift(MINUTE)

    response = resend()

    assert response.status_code == 202
    assert len(sms_outbox) == 2
    assert code_in(sms_outbox[1].text) != code_in(sms_outbox[0].text)


def test_a_new_code_within_the_minute_is_not_sent(register, resend, sms_outbox, clock):
    register()
    clock.shift(MINUTE - timedelta(seconds=1))

    response = resend()

    assert response.status_code == 202
    assert len(sms_outbox) == 1


def test_a_new_code_replaces_the_previous_one(register, resend, verify, sms_outbox, clock):
    register()
    clock.shift(MINUTE)
    resend()
    first, second = (code_in(message.text) for message in sms_outbox)

    assert verify(first).status_code == 400
    assert verify(second).status_code == 200


def test_a_new_code_goes_only_to_a_registration_waiting_for_one(db, resend, sms_outbox, citizen):
    assert resend().status_code == 202  # no account
    assert resend(phone=citizen.phone).status_code == 202  # verified

    assert sms_outbox == []
    assert set(TextMessage.objects.values_list("state", flat=True)) == {"skipped"}


def test_the_code_still_works_just_before_ten_minutes(register, verify, last_code, clock):
    register()
    clock.shift(timedelta(minutes=10) - timedelta(seconds=1))

    response = verify(last_code())

    assert response.status_code == 200, response.json()


def test_the_code_expires_after_ten_minutes(register, verify, last_code, clock):
    register()
    clock.shift(timedelta(minutes=10))

    response = verify(last_code())

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_code"
    assert not User.objects.get(phone=PHONE).is_verified


@pytest.mark.django_db
def test_a_landline_cannot_register_because_it_cannot_receive_the_code(api):
    response = api.post(
        "/api/v1/auth/register",
        {"phone": "0234 3822 123", "password": "a-long-passphrase", "full_name": "Nhà A"},
        format="json",
    )

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_phone"
    assert "phone" in response.json()["fields"]
    assert not User.objects.filter(phone="+842343822123").exists()


def test_a_deactivated_account_is_not_registered_again(api, unverified, sms_outbox):
    unverified.is_active = False
    unverified.save()

    response = api.post(
        "/api/v1/auth/register",
        {"phone": unverified.phone, "password": "a-long-passphrase", "full_name": "X"},
        format="json",
    )

    assert response.status_code == 201
    unverified.refresh_from_db()
    assert not unverified.is_active
    assert unverified.full_name != "X"
