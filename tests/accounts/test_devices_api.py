"""Push devices: POST /api/v1/me/devices registers or refreshes a token, DELETE forgets it."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from accounts.devices import MAX_DEVICES_PER_USER
from accounts.models import Device

pytestmark = pytest.mark.django_db
DEVICES = "/api/v1/me/devices"
TOKEN = "fcm-token:APA91bExample_-123"


def test_a_user_registers_a_push_token(api_as, citizen):
    response = api_as(citizen).post(DEVICES, {"token": TOKEN, "platform": "android"})

    assert response.status_code == 201
    body = response.json()
    assert (body["token"], body["platform"]) == (TOKEN, "android")
    device = Device.objects.get(token=TOKEN)
    assert (device.user, device.platform) == (citizen, "android")


def test_registering_the_same_token_again_refreshes_it(api_as, citizen):
    client = api_as(citizen)
    client.post(DEVICES, {"token": TOKEN, "platform": "android"})
    first_seen = Device.objects.get(token=TOKEN).last_seen_at

    with time_machine.travel(timezone.now() + timedelta(minutes=5)):
        response = client.post(DEVICES, {"token": TOKEN, "platform": "android"})

    assert response.status_code == 200
    assert Device.objects.filter(token=TOKEN).count() == 1
    assert Device.objects.get(token=TOKEN).last_seen_at > first_seen


def test_a_token_registered_by_another_account_moves_to_the_caller(api_as, citizen, other_citizen):
    api_as(citizen).post(DEVICES, {"token": TOKEN, "platform": "ios"})

    response = api_as(other_citizen).post(DEVICES, {"token": TOKEN, "platform": "ios"})

    assert response.status_code == 200
    assert Device.objects.get(token=TOKEN).user == other_citizen
    assert not Device.objects.filter(user=citizen).exists()


def test_a_user_keeps_only_their_most_recent_devices(api_as, citizen):
    client = api_as(citizen)
    start = timezone.now()
    for number in range(MAX_DEVICES_PER_USER + 2):
        with time_machine.travel(start + timedelta(seconds=number)):
            client.post(DEVICES, {"token": f"token-{number}", "platform": "android"})

    tokens = set(Device.objects.filter(user=citizen).values_list("token", flat=True))
    assert len(tokens) == MAX_DEVICES_PER_USER
    assert "token-0" not in tokens
    assert "token-1" not in tokens
    assert f"token-{MAX_DEVICES_PER_USER + 1}" in tokens


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"platform": "android"}, "token"),
        ({"token": "", "platform": "android"}, "token"),
        ({"token": "two words", "platform": "android"}, "token"),
        ({"token": "x" * 513, "platform": "android"}, "token"),
        ({"token": TOKEN}, "platform"),
        ({"token": TOKEN, "platform": "symbian"}, "platform"),
    ],
    ids=["no-token", "empty", "spaces", "too-long", "no-platform", "unknown-platform"],
)
def test_a_malformed_registration_is_refused(api_as, citizen, body, field):
    response = api_as(citizen).post(DEVICES, body)

    assert response.status_code == 400
    assert field in response.json()["fields"]
    assert not Device.objects.exists()


def test_registering_needs_a_signed_in_user(api):
    response = api.post(DEVICES, {"token": TOKEN, "platform": "android"})

    assert response.status_code == 401


def test_a_user_forgets_their_token(api_as, citizen):
    client = api_as(citizen)
    client.post(DEVICES, {"token": TOKEN, "platform": "android"})

    response = client.delete(f"{DEVICES}/{TOKEN}")

    assert response.status_code == 204
    assert not Device.objects.exists()


def test_another_users_token_cannot_be_forgotten(api_as, citizen, other_citizen):
    api_as(citizen).post(DEVICES, {"token": TOKEN, "platform": "android"})

    response = api_as(other_citizen).delete(f"{DEVICES}/{TOKEN}")

    assert response.status_code == 404
    assert response.json()["code"] == "device_not_found"
    assert Device.objects.filter(user=citizen).exists()


def test_forgetting_needs_a_signed_in_user(api, citizen):
    Device.objects.create(user=citizen, token=TOKEN, platform="android")

    assert api.delete(f"{DEVICES}/{TOKEN}").status_code == 401
    assert Device.objects.exists()


def test_the_schema_describes_the_device_endpoints(api):
    paths = api.get("/api/schema/", {"format": "json"}).json()["paths"]

    assert "post" in paths["/api/v1/me/devices"]
    assert "delete" in paths["/api/v1/me/devices/{token}"]
