"""django-axes locks a phone number out of login after repeated failures (API and admin)."""

import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


@pytest.fixture
def lockout(settings):
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 3


def test_repeated_wrong_passwords_lock_the_phone_out_even_with_the_right_one(lockout, citizen):
    client = APIClient()
    for _ in range(3):
        client.post("/api/v1/auth/token", {"phone": citizen.phone, "password": "wrong"})

    response = client.post(
        "/api/v1/auth/token", {"phone": citizen.phone, "password": "correct-horse-42"}
    )

    assert response.status_code == 429
    assert response.json()["code"] == "login_locked"
    assert "access" not in response.json()


def test_the_national_form_counts_against_the_same_phone(lockout, citizen):
    client = APIClient()
    national = "0" + citizen.phone[3:]
    for _ in range(3):
        client.post("/api/v1/auth/token", {"phone": national, "password": "wrong"})

    response = client.post(
        "/api/v1/auth/token", {"phone": citizen.phone, "password": "correct-horse-42"}
    )

    assert response.status_code == 429


def test_a_few_failures_do_not_lock_anyone_out(lockout, citizen):
    client = APIClient()
    client.post("/api/v1/auth/token", {"phone": citizen.phone, "password": "wrong"})

    response = client.post(
        "/api/v1/auth/token", {"phone": citizen.phone, "password": "correct-horse-42"}
    )

    assert response.status_code == 200
    assert "access" in response.json()
