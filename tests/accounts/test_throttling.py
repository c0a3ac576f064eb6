"""Abuse limits (hues.throttling): signing in, registering, sending codes and filing reports
are limited per phone number or user AND per client address, counted in the cache, and
answered 429 in the API's error shape with Retry-After; the admin's login locks out too."""

from __future__ import annotations

import hashlib

import pytest
from axes.models import AccessAttempt
from django.core.cache import cache
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import User
from reports.models import Report
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

LOGIN = "/api/v1/auth/token"
REGISTER = "/api/v1/auth/register"
RESET = "/api/v1/auth/password/reset"
VERIFY = "/api/v1/auth/verify"
PASSWORD = "correct-horse-42"  # tests.factories.UserFactory's password


def from_address(address: str) -> APIClient:
    """A client behind the one trusted proxy, which names it in X-Forwarded-For."""
    return APIClient(headers={"X-Forwarded-For": address})


def login(client: APIClient, phone: str, password: str = "wrong-password"):  # noqa: S107
    return client.post(LOGIN, {"phone": phone, "password": password}, format="json")


def assert_throttled(response) -> None:
    assert response.status_code == 429, response.content
    body = response.json()
    assert body["code"] == "throttled"
    assert set(body) == {"detail", "code"}
    assert int(response["Retry-After"]) > 0


# Signing in


# Per phone number, signing in is limited by accounts.login_limits, which keep the number's
# owner in (tests/security/test_targeted_lockout.py).


def test_one_address_is_limited_whatever_phones_it_tries(throttle_rates, citizen, other_citizen):
    throttle_rates(login_ip="2/min")
    client = from_address("198.51.100.7")
    login(client, citizen.phone)
    login(client, other_citizen.phone)

    assert_throttled(login(client, "+84905000999"))
    assert login(from_address("198.51.100.8"), citizen.phone).status_code == 401


def test_a_forged_forwarded_for_does_not_escape_the_address_limit(throttle_rates, settings):
    throttle_rates(login_ip="2/min")
    settings.TRUSTED_PROXIES = []  # no proxy
    answers = [login(from_address(f"192.0.2.{n}"), f"+8490500010{n}") for n in range(3)]

    assert_throttled(answers[2])


def test_the_counts_live_in_the_cache_and_name_no_phone_number(throttle_rates, citizen):
    throttle_rates(register="5/min", register_ip="5/min")

    register(from_address("198.51.100.9"), citizen.phone)

    digest = hashlib.sha256(citizen.phone.encode()).hexdigest()[:32]
    assert cache.get(f"throttle_register_{digest}") == 1
    assert cache.get("throttle_register_ip_198.51.100.9") == 1
    assert cache.get(f"throttle_register_{citizen.phone}") is None


# Registering and sending codes


def register(client: APIClient, phone: str):
    body = {"phone": phone, "password": "mưa-Huế-tháng-mười", "full_name": "Người Mới"}
    return client.post(REGISTER, body, format="json")


def test_registration_is_limited_per_phone(throttle_rates, reference_data):
    throttle_rates(register="1/min")
    register(from_address("203.0.113.1"), "0905111222")

    assert_throttled(register(from_address("203.0.113.2"), "+84905111222"))


def test_registration_is_limited_per_address(throttle_rates, reference_data):
    throttle_rates(register_ip="2/min")
    client = from_address("203.0.113.1")
    assert register(client, "0905111001").status_code == 201
    assert register(client, "0905111002").status_code == 201

    response = register(client, "0905111003")

    assert_throttled(response)
    assert not User.objects.filter(phone="+84905111003").exists()
    assert register(from_address("203.0.113.2"), "0905111003").status_code == 201


def test_registration_and_password_reset_share_the_code_sending_limit(
    throttle_rates, reference_data, sms_outbox, django_capture_on_commit_callbacks
):
    throttle_rates(code_send="1/min")
    with django_capture_on_commit_callbacks(execute=True):
        assert register(from_address("203.0.113.1"), "0905111333").status_code == 201
    sent = len(sms_outbox)

    with django_capture_on_commit_callbacks(execute=True):
        response = from_address("203.0.113.2").post(RESET, {"phone": "0905111333"}, format="json")

    assert_throttled(response)
    assert len(sms_outbox) == sent


def test_code_sending_is_limited_per_address(throttle_rates, reference_data):
    throttle_rates(code_send_ip="2/min")
    client = from_address("203.0.113.1")
    for phone in ("0905111401", "0905111402"):
        assert client.post(RESET, {"phone": phone}, format="json").status_code == 202

    assert_throttled(client.post(RESET, {"phone": "0905111403"}, format="json"))


def test_code_checks_are_limited_per_address(throttle_rates, unverified):
    throttle_rates(auth_ip="2/min")
    client = from_address("203.0.113.1")
    for _ in range(2):
        client.post(VERIFY, {"phone": unverified.phone, "code": "000000"}, format="json")

    response = client.post(VERIFY, {"phone": "0912000111", "code": "000000"}, format="json")

    assert_throttled(response)


def test_code_checks_naming_a_phone_from_many_addresses_do_not_throttle_it(
    throttle_rates, unverified
):
    throttle_rates(auth="2/min", auth_ip="2/min")
    for n in range(5):
        from_address(f"203.0.113.{n}").post(
            VERIFY, {"phone": unverified.phone, "code": "000000"}, format="json"
        )

    response = from_address("198.51.100.7").post(
        VERIFY, {"phone": unverified.phone, "code": "000000"}, format="json"
    )

    assert response.status_code == 400  # checked (and wrong), not throttled


# Filing reports


def test_filing_is_limited_per_user(throttle_rates, citizen, other_citizen, file_report):
    throttle_rates(report_create="1/min")
    assert file_report(citizen).status_code == 201

    response = file_report(citizen)

    assert_throttled(response)
    assert Report.objects.filter(reporter=citizen).count() == 1
    assert file_report(other_citizen).status_code == 201


def test_filing_is_limited_per_address(throttle_rates, reference_data, file_report):
    throttle_rates(report_create_ip="2/min")
    citizens = UserFactory.create_batch(3)
    answers = [file_report(user) for user in citizens]

    assert [a.status_code for a in answers[:2]] == [201, 201]
    assert_throttled(answers[2])
    assert Report.objects.count() == 2


# The schema says so


@pytest.mark.parametrize(
    ("path", "method"),
    [
        ("/api/v1/auth/token", "post"),
        ("/api/v1/auth/register", "post"),
        ("/api/v1/auth/verify", "post"),
        ("/api/v1/auth/password/reset", "post"),
        ("/api/v1/auth/password/reset/confirm", "post"),
        ("/api/v1/auth/token/refresh", "post"),
        ("/api/v1/reports", "post"),
    ],
)
def test_the_schema_documents_the_429_in_the_error_shape(path, method):
    schema = Client().get("/api/schema/?format=json").json()

    answer = schema["paths"][path][method]["responses"]["429"]
    assert answer["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}


# The admin's login form: django-axes


@pytest.fixture
def lockout(settings):
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 3


def admin_login(client: Client, phone: str, password: str):
    return client.post(
        "/admin/login/?next=/admin/", {"username": phone, "password": password}, follow=False
    )


def test_the_admin_login_locks_a_phone_out_after_repeated_failures(lockout, staff_a):
    client = Client()
    failures = [admin_login(client, staff_a.phone, "wrong-password") for _ in range(3)]
    assert [failure.status_code for failure in failures] == [200, 200, 429]

    response = admin_login(client, staff_a.phone, PASSWORD)

    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    assert client.get("/admin/").status_code == 302  # still to the login page


def test_the_admin_login_lets_the_right_password_in_before_the_limit(lockout, staff_a):
    client = Client()
    admin_login(client, staff_a.phone, "wrong-password")

    response = admin_login(client, staff_a.phone, PASSWORD)

    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(staff_a.pk)


def test_the_lockout_counts_per_phone_and_client_address_behind_the_proxy(lockout, citizen):
    """django-axes sees the client address the throttles see (X-Forwarded-For from the one
    trusted proxy), not the proxy's own address."""
    attacker, owner = from_address("203.0.113.66"), from_address("198.51.100.20")
    for _ in range(3):
        login(attacker, citizen.phone)

    assert login(attacker, citizen.phone, PASSWORD).json()["code"] == "login_locked"
    assert login(owner, citizen.phone, PASSWORD).status_code == 200


def test_an_administrator_lifts_a_lockout_in_the_admin(lockout, staff_a, administrator):
    locked = Client()
    for _ in range(3):
        admin_login(locked, staff_a.phone, "wrong-password")
    (attempt,) = AccessAttempt.objects.all()
    admin = Client()
    admin.force_login(administrator, backend="accounts.backends.PhoneBackend")

    listing = admin.get("/admin/axes/accessattempt/")
    lifted = admin.post(f"/admin/axes/accessattempt/{attempt.pk}/delete/", {"post": "yes"})

    assert listing.status_code == 200
    assert lifted.status_code == 302
    assert not AccessAttempt.objects.exists()
    assert admin_login(locked, staff_a.phone, PASSWORD).status_code == 302


def test_staff_see_no_lockouts(lockout, staff_a, manager, dispatcher):
    for user in (staff_a, manager, dispatcher):
        client = Client()
        client.force_login(user, backend="accounts.backends.PhoneBackend")
        assert client.get("/admin/axes/accessattempt/").status_code == 403


# The API-wide limit: one count per request


@pytest.fixture
def counted(monkeypatch):
    from hues import throttling

    keys: list[str] = []
    real = throttling.count_hit

    def spy(cache, key, seconds):
        keys.append(key)
        return real(cache, key, seconds)

    monkeypatch.setattr(throttling, "count_hit", spy)
    return keys


def test_an_anonymous_request_is_counted_once_per_address(counted, throttle_rates, reference_data):
    throttle_rates(anon="2/min")
    client = from_address("203.0.113.40")

    answers = [client.get("/api/v1/reports") for _ in range(3)]

    assert counted == ["throttle_anon_203.0.113.40"] * 3
    assert [a.status_code for a in answers[:2]] == [200, 200]
    assert_throttled(answers[2])
    assert from_address("203.0.113.41").get("/api/v1/reports").status_code == 200


def test_a_signed_in_request_is_counted_once_per_user(counted, throttle_rates, citizen):
    throttle_rates(user="1/min", anon="1000/min")
    client = from_address("203.0.113.42")
    client.force_authenticate(citizen)

    answers = [client.get("/api/v1/reports?mine=true") for _ in range(2)]

    assert counted == [f"throttle_user_{citizen.pk}"] * 2
    assert answers[0].status_code == 200
    assert_throttled(answers[1])
    assert from_address("203.0.113.42").get("/api/v1/reports").status_code == 200


def test_the_limits_let_everything_through_while_redis_is_down(monkeypatch, settings, citizen):
    """Redis away: no count, no 429 (hues.cache fails open)."""
    from hues import throttling

    monkeypatch.setattr(throttling, "count_hit", lambda cache, key, seconds: (0, 0.0))
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "login_ip": "1/min",
        },
    }

    answers = [login(from_address("203.0.113.43"), citizen.phone) for _ in range(3)]

    assert [a.status_code for a in answers] == [401, 401, 401]


def test_on_redis_a_request_is_counted_in_one_script_call(monkeypatch, throttle_rates, citizen):
    from django.core.cache import caches

    from hues.cache import ResilientRedisCache
    from tests.conftest import need

    need(isinstance(caches["default"], ResilientRedisCache), "the cache is not Redis")
    calls: list[str] = []
    real = ResilientRedisCache.hit
    monkeypatch.setattr(
        ResilientRedisCache,
        "hit",
        lambda self, key, seconds: calls.append(key) or real(self, key, seconds),
    )
    throttle_rates(register="5/min", register_ip="5/min")

    register(from_address("198.51.100.10"), "0905111777")

    digest = hashlib.sha256(b"+84905111777").hexdigest()[:32]
    throttles = [key for key in calls if key.startswith("throttle_register")]
    assert sorted(throttles) == [
        f"throttle_register_{digest}",
        "throttle_register_ip_198.51.100.10",
    ]
    assert caches["default"].get(f"throttle_register_{digest}") == 1
