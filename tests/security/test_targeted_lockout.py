"""Issue 16, point 4 (the login half), reproduced: anyone who sent 10 login requests a minute
naming a victim's phone kept the victim out of the API login (429 on the right password, from
any address); and the admin login had no per-account limit: one wrong password from each of
30 addresses for the administrator was never locked.

Now sign-ins are limited per account (accounts.login_limits), for the API and the admin
alike: one client's wrong passwords for an account slow that client (waits of 1, 2, 4 ...
seconds) and nobody else; wrong passwords from many addresses lock the account, except for the
clients that signed in to it before, and the owner lifts the lock by resetting the password
with a texted code. The rates and limits are the production defaults (README)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.test import Client
from rest_framework.test import APIClient

from tests.accounts.conftest import code_in

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-42"  # tests.factories.UserFactory's password
NEW_PASSWORD = "mưa-Huế-tháng-mười"
HOME = "203.0.113.10"  # where the owner signed in before
ELSEWHERE = "198.51.100.77"  # the owner on a new network
ATTACKER = "192.0.2.66"


@pytest.fixture
def limits(settings, throttle_rates, time_machine):
    """The production limits: django-axes on, the login limits per account, and the rates
    of signing in (the per-phone one the fix retired included, so the attack is as it was)."""
    time_machine.move_to("2026-03-02 08:00:00+07:00", tick=False)
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 10
    settings.LOGIN_DELAY_AFTER = 3
    settings.LOGIN_DELAY_MAX = 60
    settings.LOGIN_ACCOUNT_FAILURE_LIMIT = 20
    settings.LOGIN_ACCOUNT_LOCK = timedelta(minutes=15)
    throttle_rates(login="10/min", login_ip="60/min")
    yield time_machine
    cache.clear()


def sign_in(address, phone, password="wrong-password"):  # noqa: S107
    return APIClient(REMOTE_ADDR=address).post(
        "/api/v1/auth/token", {"phone": phone, "password": password}, format="json"
    )


def admin_sign_in(address, phone, password="wrong-password"):  # noqa: S107
    client = Client(REMOTE_ADDR=address, HTTP_ACCEPT_LANGUAGE="en")
    response = client.post("/admin/login/?next=/admin/", {"username": phone, "password": password})
    return response, client


def test_ten_wrong_logins_a_minute_naming_the_victims_phone_do_not_keep_the_victim_out(
    limits, citizen
):
    for _ in range(30):  # three minutes of it
        sign_in(ATTACKER, citizen.phone)
        limits.shift(timedelta(seconds=6))

    at_home = sign_in(HOME, citizen.phone, PASSWORD)
    elsewhere = sign_in(ELSEWHERE, citizen.phone, PASSWORD)

    assert at_home.status_code == 200, at_home.content
    assert elsewhere.status_code == 200, elsewhere.content


def test_one_clients_wrong_passwords_slow_that_client_progressively(limits, citizen):
    answers = [sign_in(ATTACKER, citizen.phone).status_code for _ in range(3)]
    waiting = sign_in(ATTACKER, citizen.phone, PASSWORD)

    assert answers == [401, 401, 401]
    assert waiting.status_code == 429
    assert waiting.json()["code"] == "login_wait"
    assert waiting["Retry-After"] == "1"
    assert "access" not in waiting.json()
    limits.shift(timedelta(seconds=1))
    assert sign_in(ATTACKER, citizen.phone).status_code == 401
    assert sign_in(ATTACKER, citizen.phone).json()["code"] == "login_wait"
    assert sign_in(ATTACKER, citizen.phone)["Retry-After"] == "2"
    # Nobody else waits.
    assert sign_in(ELSEWHERE, citizen.phone, PASSWORD).status_code == 200


def test_wrong_passwords_from_many_addresses_lock_the_account_but_not_its_owners_devices(
    limits, citizen
):
    assert sign_in(HOME, citizen.phone, PASSWORD).status_code == 200
    for n in range(20):
        sign_in(f"192.0.2.{n}", citizen.phone)

    guess = sign_in("192.0.2.200", citizen.phone, PASSWORD)
    at_home = sign_in(HOME, citizen.phone, PASSWORD)

    assert guess.status_code == 429
    assert guess.json()["code"] == "account_locked"
    assert "access" not in guess.json()
    assert int(guess["Retry-After"]) == 15 * 60
    assert at_home.status_code == 200, at_home.content


def test_the_owner_lifts_the_lock_by_resetting_the_password_with_a_texted_code(
    limits, citizen, sms_outbox, django_capture_on_commit_callbacks
):
    for n in range(20):
        sign_in(f"192.0.2.{n}", citizen.phone)
    assert sign_in(ELSEWHERE, citizen.phone, PASSWORD).json()["code"] == "account_locked"

    owner = APIClient(REMOTE_ADDR=ELSEWHERE)
    with django_capture_on_commit_callbacks(execute=True):
        owner.post("/api/v1/auth/password/reset", {"phone": citizen.phone}, format="json")
    reset = owner.post(
        "/api/v1/auth/password/reset/confirm",
        {
            "phone": citizen.phone,
            "code": code_in(sms_outbox[-1].text),
            "new_password": NEW_PASSWORD,
        },
        format="json",
    )

    assert reset.status_code == 200, reset.content
    assert sign_in(ELSEWHERE, citizen.phone, NEW_PASSWORD).status_code == 200


def test_the_lock_ends_after_its_time_and_doubles_when_the_attack_goes_on(limits, citizen):
    for n in range(20):
        sign_in(f"192.0.2.{n}", citizen.phone)
    limits.shift(timedelta(minutes=15, seconds=1))

    assert sign_in(ELSEWHERE, citizen.phone, PASSWORD).status_code == 200
    for n in range(20):
        sign_in(f"192.0.2.{100 + n}", citizen.phone)
    assert int(sign_in("192.0.2.250", citizen.phone)["Retry-After"]) == 30 * 60


def test_thirty_wrong_admin_passwords_from_thirty_addresses_lock_the_administrator(
    limits, administrator
):
    office = "203.0.113.20"
    response, _ = admin_sign_in(office, administrator.phone, PASSWORD)
    assert response.status_code == 302  # the administrator's usual office
    for n in range(30):
        admin_sign_in(f"192.0.2.{n}", administrator.phone)

    response, guesser = admin_sign_in("192.0.2.200", administrator.phone, PASSWORD)

    assert response.status_code == 200  # the form again
    assert "_auth_user_id" not in guesser.session
    assert "reset your password" in response.content.decode()
    response, owner = admin_sign_in(office, administrator.phone, PASSWORD)
    assert response.status_code == 302
    assert owner.session["_auth_user_id"] == str(administrator.pk)
