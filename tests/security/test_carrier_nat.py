"""Issue 16, point 6, reproduced: Vietnamese mobile carriers put many phones behind one
address (carrier-grade NAT). Seven signed-in citizens filing through one address: the 7th
citizen's first report got 429 (Retry-After 3595), since six busy neighbours had spent the
address's 120 an hour; the anonymous feed allowed 120 requests a minute per address.

Now signed-in users are limited per user; the per-address limit on filing is a backstop sized
for a NAT's worth of citizens, and cached anonymous reads have a per-address limit of their
own, high enough for many people; a single abuser is still stopped by the per-user limits,
and pages the cache cannot answer (a new search each time) get the ordinary anonymous limit.
The rates are the production defaults (DEBUG off), read from the settings."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from reports.models import Report
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
NAT = "100.64.12.34"  # the carrier's shared address space (RFC 6598)


@pytest.fixture(scope="module")
def production_rates() -> dict[str, str]:
    """The throttle rates hues/settings.py gives with DEBUG off and no THROTTLE_* set."""
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("THROTTLE_") and key not in ("DEBUG", "DJANGO_SETTINGS_MODULE")
    }
    environment.update({"SECRET_KEY": "x" * 50, "DEBUG": "false"})
    script = (
        "import json, hues.settings as s; "
        "print(json.dumps(s.REST_FRAMEWORK['DEFAULT_THROTTLE_RATES']))"
    )
    output = subprocess.run(  # our own interpreter, fixed arguments
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return json.loads(output)


@pytest.fixture
def production(production_rates, throttle_rates, settings):
    """The production limits, every count starting afresh, the feed cache on."""
    throttle_rates(**production_rates)
    settings.FEED_CACHE_SECONDS = 15
    settings.TRUSTED_PROXIES = []
    yield production_rates
    cache.clear()


def behind_the_nat(user=None) -> APIClient:
    client = APIClient(REMOTE_ADDR=NAT)
    if user is not None:
        client.force_authenticate(user)
    return client


@pytest.fixture
def file_from_nat(photo, django_capture_on_commit_callbacks, reference_data):
    def file(user):
        body = {
            "category": "street_lighting",
            "description": "Đèn đường trước nhà số 5 không sáng",
            "lat": 16.4821,
            "lng": 107.57612,
            "photos": [photo()],
        }
        with django_capture_on_commit_callbacks(execute=True):
            return behind_the_nat(user).post("/api/v1/reports", body, format="multipart")

    return file


def test_the_seventh_citizen_behind_a_busy_nat_address_files_their_first_report(
    production, file_from_nat
):
    per_user = int(production["report_create"].split("/")[0])
    neighbours = UserFactory.create_batch(6)
    for neighbour in neighbours:
        answers = [file_from_nat(neighbour).status_code for _ in range(per_user)]
        assert answers == [201] * per_user

    seventh = file_from_nat(UserFactory())

    assert seventh.status_code == 201, seventh.content
    assert Report.objects.count() == 6 * per_user + 1


def test_one_abuser_behind_the_nat_is_still_stopped_by_the_per_user_limit(
    production, file_from_nat
):
    per_user = int(production["report_create"].split("/")[0])
    abuser, neighbour = UserFactory(), UserFactory()
    for _ in range(per_user):
        file_from_nat(abuser)

    refused = file_from_nat(abuser)

    assert refused.status_code == 429
    assert refused.json()["code"] == "throttled"
    assert file_from_nat(neighbour).status_code == 201


def test_many_people_behind_one_address_read_the_cached_feed(production, reference_data):
    anonymous_per_minute = int(production["anon"].split("/")[0])
    client = behind_the_nat()

    answers = [client.get("/api/v1/reports").status_code for _ in range(3 * anonymous_per_minute)]

    assert answers == [200] * (3 * anonymous_per_minute)


def test_pages_the_cache_cannot_answer_get_the_ordinary_anonymous_limit(
    throttle_rates, settings, reference_data
):
    throttle_rates(anon="5/min", anon_read="1000/min")
    settings.FEED_CACHE_SECONDS = 15
    client = behind_the_nat()

    answers = [client.get("/api/v1/reports", {"q": f"đèn {n}"}).status_code for n in range(7)]
    cached = client.get("/api/v1/reports", {"q": "đèn 0"})  # answered by the cache

    assert answers[:5] == [200] * 5
    assert answers[5:] == [429, 429]
    assert cached.status_code == 200
    cache.clear()


def test_signed_in_citizens_behind_one_address_are_counted_each_on_their_own(
    throttle_rates, reference_data
):
    throttle_rates(user="3/min", anon="3/min")
    citizens = UserFactory.create_batch(5)

    answers = [
        behind_the_nat(citizen).get("/api/v1/reports", {"mine": "true"}).status_code
        for citizen in citizens
        for _ in range(3)
    ]

    assert answers == [200] * 15
    assert behind_the_nat(citizens[0]).get("/api/v1/reports").status_code == 429


def refresh_from_nat(token) -> int:
    response = behind_the_nat().post(
        "/api/v1/auth/token/refresh", {"refresh": str(token)}, format="json"
    )
    return response.status_code


def test_a_hundred_citizens_behind_one_address_keep_their_sessions_fresh(
    production, reference_data
):
    """Every signed-in app refreshes its token every few minutes: the refreshes of many
    people behind one address were refused at 60 a minute."""
    tokens = [RefreshToken.for_user(citizen) for citizen in UserFactory.create_batch(100)]

    answers = [refresh_from_nat(token) for token in tokens]

    assert answers == [200] * 100


def test_refreshing_in_a_loop_is_limited_per_user_and_garbage_per_address(
    throttle_rates, reference_data
):
    throttle_rates(user="3/min", anon="2/min")
    looping, other = UserFactory(), UserFactory()
    token = RefreshToken.for_user(looping)
    answers = []
    for _ in range(4):
        response = behind_the_nat().post(
            "/api/v1/auth/token/refresh", {"refresh": str(token)}, format="json"
        )
        answers.append(response.status_code)
        if response.status_code == 200:
            token = response.json()["refresh"]

    assert answers == [200, 200, 200, 429]
    assert refresh_from_nat(RefreshToken.for_user(other)) == 200
    assert [refresh_from_nat("not-a-token") for _ in range(3)] == [401, 401, 429]


def test_many_citizens_behind_one_address_sign_out(production, reference_data):
    auth_per_address = int(production["auth_ip"].split("/")[0])
    citizens = UserFactory.create_batch(auth_per_address + 5)
    answers = []
    for citizen in citizens:
        refresh = RefreshToken.for_user(citizen)
        client = behind_the_nat()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {refresh.access_token}")
        answers.append(
            client.post("/api/v1/auth/logout", {"refresh": str(refresh)}, format="json").status_code
        )

    assert answers == [204] * len(citizens)
