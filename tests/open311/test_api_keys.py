"""API keys: stored as hashes, issued by administrators in the admin, and the demo key."""

from __future__ import annotations

import hashlib
import io
import re
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client

from accounts.models import Role, User
from hues.errors import InvalidInput
from open311 import services
from open311.models import ApiKey, Submission
from open311.services import DEMO_API_KEY, IssuedApiKey
from tests.factories import UserFactory
from tests.open311.conftest import post, request_fields

ADD_URL = "/admin/open311/apikey/add/"


def admin_client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_only_the_keys_hash_and_a_short_prefix_are_stored(api_key: IssuedApiKey) -> None:
    stored = ApiKey.objects.get(pk=api_key.api_key.pk)

    assert stored.key_hash == hashlib.sha256(api_key.key.encode()).hexdigest()
    assert stored.prefix == api_key.key[:8]
    assert api_key.key not in {str(value) for value in vars(stored).values()}


def test_a_new_key_gets_a_verified_citizen_service_account_that_cannot_sign_in(
    api_key: IssuedApiKey,
) -> None:
    user = api_key.api_key.user

    assert user.role == Role.CITIZEN
    assert user.is_verified
    assert not user.has_usable_password()
    assert not user.phone.startswith("+")  # no number anyone could be texted at
    assert [group.name for group in user.groups.all()] == [Role.CITIZEN]


def test_two_keys_are_different(reference_data: None) -> None:
    first = services.api_key_create(name="A")
    second = services.api_key_create(name="B")

    assert first.key != second.key
    assert len(first.key) >= 40


def test_a_key_may_reuse_an_existing_service_account(api_key: IssuedApiKey) -> None:
    replacement = services.api_key_create(name="Thay khóa", user=api_key.api_key.user)

    assert replacement.api_key.user == api_key.api_key.user


def test_a_staff_member_cannot_be_a_service_account(staff_a: User) -> None:
    with pytest.raises(InvalidInput):
        services.api_key_create(name="Sai", user=staff_a)


def test_an_administrator_creates_a_key_and_sees_it_once(
    administrator: User, open311_roles: None
) -> None:
    client = admin_client(administrator)

    response = client.post(ADD_URL, {"name": "Tổng đài 1022", "user": ""})

    assert response.status_code == 200
    match = re.search(r'id="open311-api-key"[^>]*>([^<]+)<', response.content.decode())
    assert match, response.content.decode()
    key = match.group(1)
    assert "no-store" in response["Cache-Control"]
    stored = ApiKey.objects.get()
    assert stored.name == "Tổng đài 1022"
    assert services.api_key_authenticate(key) == stored
    change = client.get(f"/admin/open311/apikey/{stored.pk}/change/")
    listing = client.get("/admin/open311/apikey/")
    assert change.status_code == listing.status_code == 200
    assert key not in change.content.decode()
    assert key not in listing.content.decode()


def test_an_administrator_can_deactivate_a_key(
    administrator: User, open311_roles: None, api_key: IssuedApiKey
) -> None:
    client = admin_client(administrator)

    response = client.post(
        f"/admin/open311/apikey/{api_key.api_key.pk}/change/", {"name": "Tổng đài 1022"}
    )

    assert response.status_code == 302
    assert services.api_key_authenticate(api_key.key) is None


def test_the_admin_refuses_a_staff_member_as_service_account(
    administrator: User, open311_roles: None, staff_a: User
) -> None:
    response = admin_client(administrator).post(ADD_URL, {"name": "Sai", "user": staff_a.pk})

    assert response.status_code == 200
    assert not ApiKey.objects.exists()
    assert response.context["adminform"].form.errors["user"]


@pytest.mark.parametrize("who", ["staff_a", "manager", "dispatcher"])
def test_only_administrators_manage_keys(
    request: pytest.FixtureRequest, open311_roles: None, who: str
) -> None:
    client = admin_client(request.getfixturevalue(who))

    assert client.get("/admin/open311/apikey/").status_code == 403
    assert client.get(ADD_URL).status_code == 403


def test_a_dispatcher_reads_what_an_open311_client_sent(
    dispatcher: User, open311_roles: None, submit: Any
) -> None:
    submit(first_name="Hoàng", phone="0914555666")
    submission = Submission.objects.get()

    response = admin_client(dispatcher).get(f"/admin/open311/submission/{submission.pk}/change/")

    assert response.status_code == 200
    assert "0914555666" in response.content.decode()


def test_agency_staff_cannot_read_open311_submissions(
    staff_a: User, open311_roles: None, submit: Any
) -> None:
    submit(phone="0914555666")

    assert admin_client(staff_a).get("/admin/open311/submission/").status_code == 403


# The demo key


@pytest.fixture
def demo_on(settings: Any) -> None:
    settings.DEBUG = True
    settings.DEMO_USERS_ENABLED = True


@pytest.fixture
def demo_off(settings: Any) -> None:
    settings.DEBUG = False
    settings.DEMO_USERS_ENABLED = False


def seed() -> str:
    out = io.StringIO()
    call_command("seed_demo", stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_seeding_creates_the_demo_key_for_the_demo_citizen(db: None, demo_on: None) -> None:
    out = seed()

    api_key = services.api_key_authenticate(DEMO_API_KEY)
    assert api_key is not None
    assert api_key.user.phone == "+84900000006"
    assert DEMO_API_KEY in out


def test_seeding_twice_keeps_one_demo_key(db: None, demo_on: None) -> None:
    seed()
    seed()

    assert ApiKey.objects.count() == 1


def test_seeding_creates_no_demo_key_when_demo_users_are_disabled(db: None, demo_off: None) -> None:
    seed()

    assert not ApiKey.objects.exists()


def test_the_demo_key_is_refused_when_demo_users_are_disabled(
    db: None, demo_on: None, settings: Any
) -> None:
    seed()
    settings.DEMO_USERS_ENABLED = False

    response = post(Client(), "requests.json", request_fields(DEMO_API_KEY))

    assert response.status_code == 403


def test_the_demo_key_files_a_report(
    db: None, demo_on: None, django_capture_on_commit_callbacks: Any
) -> None:
    # As after a real commit: seeding tells routing that the reference data changed.
    with django_capture_on_commit_callbacks(execute=True):
        seed()

    with django_capture_on_commit_callbacks(execute=True):
        response = post(Client(), "requests.json", request_fields(DEMO_API_KEY))

    assert response.status_code == 201, response.content


def test_a_citizen_chosen_as_service_account_must_be_verified(reference_data: None) -> None:
    unverified = UserFactory(phone_verified_at=None)

    with pytest.raises(InvalidInput):
        services.api_key_create(name="Chưa xác minh", user=unverified)
