"""POST /auth/password/reset and /auth/password/reset/confirm: a new password by a texted
code, answered so that nobody learns which phone numbers have accounts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

from accounts.codes import code_of, phone_code_create
from accounts.models import PhoneCode, User
from tests.accounts.conftest import PHONE, PHONE_NATIONAL, code_in, wrong
from tests.factories import UserFactory

RESET = "/api/v1/auth/password/reset"
CONFIRM = "/api/v1/auth/password/reset/confirm"
OLD_PASSWORD = "correct-horse-42"  # tests.factories.UserFactory's password
NEW_PASSWORD = "mưa-Huế-tháng-mười"
UNKNOWN_PHONE = "+84912000111"
MINUTE = timedelta(minutes=1)


@pytest.fixture
def user(db):
    return UserFactory(phone=PHONE, full_name="Võ Thị Mai", email="mai@example.vn")


@pytest.fixture
def ask(api, django_capture_on_commit_callbacks):
    """POST /auth/password/reset, running the after-commit SMS task."""

    def post(phone=PHONE_NATIONAL):
        with django_capture_on_commit_callbacks(execute=True):
            return api.post(RESET, {"phone": phone}, format="json")

    return post


@pytest.fixture
def confirm(api):
    def post(code, password=NEW_PASSWORD, phone=PHONE_NATIONAL):
        body = {"phone": phone, "code": code, "new_password": password}
        return api.post(CONFIRM, body, format="json")

    return post


@pytest.fixture
def reset_code(user, ask, sms_outbox):
    """The code texted for a reset of `user`'s password."""
    ask()
    return code_in(sms_outbox[-1].text)


def password_of(user):
    return User.objects.get(pk=user.pk).password


def sign_in(api, password, phone=PHONE):
    return api.post("/api/v1/auth/token", {"phone": phone, "password": password}, format="json")


# Asking for a code


def test_asking_for_a_reset_answers_202(user, ask):
    response = ask()

    assert response.status_code == 202
    assert set(response.json()) == {"detail"}


def test_asking_for_a_reset_texts_a_6_digit_code_to_the_phone(user, ask, sms_outbox):
    ask()

    assert len(sms_outbox) == 1
    assert sms_outbox[0].phone == PHONE
    assert code_in(sms_outbox[0].text)


@pytest.mark.parametrize("phone", [PHONE, PHONE_NATIONAL, "090 512 3456"])
def test_the_phone_may_be_given_in_either_form(user, ask, sms_outbox, phone):
    ask(phone)

    assert [message.phone for message in sms_outbox] == [PHONE]


def test_an_unknown_phone_gets_the_same_answer_as_a_known_one(user, ask):
    known = ask(PHONE)
    unknown = ask(UNKNOWN_PHONE)

    assert unknown.status_code == known.status_code == 202
    assert unknown.json() == known.json()


def test_an_unknown_phone_gets_no_text(db, ask, sms_outbox):
    ask(UNKNOWN_PHONE)

    assert sms_outbox == []


def test_a_deactivated_account_gets_the_same_answer_and_no_text(user, ask, sms_outbox):
    User.objects.filter(pk=user.pk).update(is_active=False)

    response = ask()

    assert response.status_code == 202
    assert sms_outbox == []


def test_asking_again_within_a_minute_answers_alike_and_sends_nothing_more(
    user, ask, sms_outbox, clock
):
    first = ask()
    clock.shift(MINUTE - timedelta(seconds=1))

    second = ask()

    assert second.status_code == 202
    assert second.json() == first.json()
    assert len(sms_outbox) == 1


def test_a_new_code_may_be_asked_for_once_a_minute_has_passed(user, ask, sms_outbox, clock):
    ask()
    clock.shift(MINUTE)

    ask()

    assert len(sms_outbox) == 2


def test_a_phone_gets_at_most_its_hourly_limit_of_texts(user, ask, sms_outbox, clock, sms_limits):
    sms_limits(number={"hour": 3})
    answers = []
    for _ in range(4):
        answers.append(ask())
        clock.shift(MINUTE)

    assert [answer.status_code for answer in answers] == [202, 202, 202, 429]
    assert answers[3].json()["code"] == "sms_limit"
    assert len(sms_outbox) == 3


def test_the_hourly_limit_passes_with_the_hour(user, ask, sms_outbox, clock, sms_limits):
    sms_limits(number={"hour": 3})
    for _ in range(3):
        ask()
        clock.shift(MINUTE)
    clock.shift(timedelta(hours=1))

    assert ask().status_code == 202
    assert len(sms_outbox) == 4


def test_asking_for_a_reset_changes_nothing_about_the_account(user, ask):
    before = password_of(user)

    ask()

    assert password_of(user) == before


def test_reset_requests_are_throttled_whatever_the_phone(user, ask, throttle_rates):
    throttle_rates(code_send_ip="3/min")
    for phone in (PHONE, UNKNOWN_PHONE, PHONE):
        assert ask(phone).status_code == 202

    response = ask(UNKNOWN_PHONE)

    assert response.status_code == 429
    assert response.json()["code"] == "throttled"


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({}, id="missing"),
        pytest.param({"phone": ""}, id="empty"),
        pytest.param({"phone": "not a phone"}, id="not-a-number"),
        pytest.param({"phone": "0905\x00123456"}, id="nul"),
        pytest.param({"phone": 10**30}, id="huge-number"),
        pytest.param({"phone": [PHONE]}, id="list"),
        pytest.param({"phone": {"number": PHONE}}, id="object"),
        pytest.param({"phone": True}, id="boolean"),
        pytest.param({"phone": "9" * 5000}, id="very-long"),
    ],
)
def test_a_malformed_phone_is_refused_on_its_field_and_sends_nothing(db, api, sms_outbox, body):
    response = api.post(RESET, body, format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert set(response.json()["fields"]) == {"phone"}
    assert sms_outbox == []


# Setting the new password


def test_the_code_sets_the_new_password(user, reset_code, confirm):
    response = confirm(reset_code)

    assert response.status_code == 200, response.json()
    assert set(response.json()) == {"detail"}
    assert User.objects.get(pk=user.pk).check_password(NEW_PASSWORD)


def test_the_new_password_signs_in_and_the_old_one_no_longer_does(api, reset_code, confirm):
    confirm(reset_code)

    assert sign_in(api, NEW_PASSWORD).status_code == 200
    assert sign_in(api, OLD_PASSWORD).status_code == 401


def test_a_reset_revokes_every_refresh_token_of_the_user(api, user, reset_code, confirm):
    phone_token = sign_in(api, OLD_PASSWORD).json()["refresh"]
    tablet_token = sign_in(api, OLD_PASSWORD).json()["refresh"]

    confirm(reset_code)

    for token in (phone_token, tablet_token):
        response = api.post("/api/v1/auth/token/refresh", {"refresh": token}, format="json")
        assert response.status_code == 401
        assert response.json()["code"] == "token_not_valid"


def test_a_reset_leaves_other_users_sessions_alone(api, user, reset_code, confirm):
    other = UserFactory()
    token = sign_in(api, OLD_PASSWORD, phone=other.phone).json()["refresh"]

    confirm(reset_code)

    response = api.post("/api/v1/auth/token/refresh", {"refresh": token}, format="json")
    assert response.status_code == 200


def test_a_reset_blacklists_each_outstanding_token_once(api, user, reset_code, confirm):
    sign_in(api, OLD_PASSWORD)

    confirm(reset_code)

    tokens = OutstandingToken.objects.filter(user=user)
    assert tokens.exists()
    assert all(hasattr(token, "blacklistedtoken") for token in tokens)


def test_a_wrong_code_is_refused_and_the_password_stays(user, reset_code, confirm):
    before = password_of(user)

    response = confirm(wrong(reset_code))

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_code"
    assert response.json()["fields"]["code"][0]["code"] == "invalid_code"
    assert password_of(user) == before


def test_an_unknown_phone_is_answered_like_a_wrong_code(user, reset_code, confirm):
    wrong_code = confirm(wrong(reset_code))
    unknown = confirm(reset_code, phone=UNKNOWN_PHONE)

    assert unknown.status_code == wrong_code.status_code == 400
    assert unknown.json() == wrong_code.json()


def test_a_phone_without_a_code_requested_is_answered_like_a_wrong_code(user, confirm):
    response = confirm("123456")

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_code"


def test_too_many_wrong_codes_answer_like_a_wrong_code(user, reset_code, confirm):
    for _ in range(5):
        confirm(wrong(reset_code))

    response = confirm(wrong(reset_code))

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_code"


def test_after_too_many_wrong_codes_even_the_right_code_fails(user, reset_code, confirm):
    before = password_of(user)
    for _ in range(5):
        confirm(wrong(reset_code))

    response = confirm(reset_code)

    assert response.status_code == 400
    assert password_of(user) == before


def test_a_code_works_once(user, reset_code, confirm):
    confirm(reset_code)

    response = confirm(reset_code, password="một-mật-khẩu-khác-77")

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_code"
    assert User.objects.get(pk=user.pk).check_password(NEW_PASSWORD)


def test_an_expired_code_is_refused(user, ask, sms_outbox, confirm, clock):
    ask()
    clock.shift(timedelta(minutes=10, seconds=1))

    response = confirm(code_in(sms_outbox[-1].text))

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_code"


def test_only_the_latest_code_works(user, ask, sms_outbox, confirm, clock):
    ask()
    first = code_in(sms_outbox[-1].text)
    clock.shift(MINUTE)
    ask()

    response = confirm(first)

    assert response.status_code == 400


def test_a_phone_verification_code_is_no_reset_code(
    user, sms_outbox, confirm, django_capture_on_commit_callbacks
):
    record = phone_code_create(user=user, purpose=PhoneCode.Purpose.VERIFY)

    response = confirm(code_of(record))

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_code"


def test_a_weak_password_is_refused_on_its_field(user, reset_code, confirm):
    response = confirm(reset_code, password="12345678")

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid_password"
    assert set(body["fields"]) == {"new_password"}


def test_a_refused_weak_password_leaves_the_code_usable(user, reset_code, confirm):
    confirm(reset_code, password="password")

    response = confirm(reset_code)

    assert response.status_code == 200, response.json()


def test_a_weak_password_for_an_unknown_phone_is_refused_alike(user, reset_code, confirm):
    known = confirm(reset_code, password="password")
    unknown = confirm(reset_code, password="password", phone=UNKNOWN_PHONE)

    assert unknown.status_code == known.status_code == 400
    assert unknown.json() == known.json()


def test_a_password_like_the_phone_number_is_refused(user, reset_code, confirm):
    response = confirm(reset_code, password=PHONE)

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_password"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        pytest.param({"code": "12345"}, "code", id="code-short"),
        pytest.param({"code": "1234567"}, "code", id="code-long"),
        pytest.param({"code": "abcdef"}, "code", id="code-letters"),
        pytest.param({"code": "12\x003456"}, "code", id="code-nul"),
        pytest.param({"code": 10**30}, "code", id="code-huge"),
        pytest.param({"code": ["123456"]}, "code", id="code-list"),
        pytest.param({"code": None}, "code", id="code-null"),
        pytest.param({"new_password": "mật\x00khẩu-dài-lắm"}, "new_password", id="password-nul"),
        pytest.param({"new_password": "x" * 129}, "new_password", id="password-too-long"),
        pytest.param({"new_password": ["mưa-Huế"]}, "new_password", id="password-list"),
        pytest.param({"new_password": ""}, "new_password", id="password-empty"),
        pytest.param({"phone": "not a phone"}, "phone", id="phone-malformed"),
        pytest.param({"phone": 10**30}, "phone", id="phone-huge"),
    ],
)
def test_bad_input_is_refused_on_its_field_and_changes_nothing(api, user, reset_code, body, field):
    before = password_of(user)
    full = {"phone": PHONE, "code": reset_code, "new_password": NEW_PASSWORD, **body}

    response = api.post(CONFIRM, full, format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert set(response.json()["fields"]) == {field}
    assert password_of(user) == before


def test_missing_fields_are_reported_each(db, api):
    response = api.post(CONFIRM, {}, format="json")

    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"phone", "code", "new_password"}


def test_the_schema_describes_the_password_reset(api, db):
    paths = api.get("/api/schema/?format=json").json()["paths"]

    assert "202" in paths["/api/v1/auth/password/reset"]["post"]["responses"]
    assert "400" in paths["/api/v1/auth/password/reset/confirm"]["post"]["responses"]
