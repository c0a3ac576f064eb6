"""GET/PATCH /api/v1/me: the caller's own profile."""

from __future__ import annotations

import pytest

from accounts.models import User
from reports.models import Area
from tests.conftest import PHU_XUAN

ME = "/api/v1/me"


def patch(client, **body):
    return client.patch(ME, body, format="json")


def snapshot(user):
    """What a citizen may never change about themselves, as stored."""
    user = User.objects.get(pk=user.pk)
    return {
        "phone": user.phone,
        "role": user.role,
        "agency_id": user.agency_id,
        "is_staff": user.is_staff,
        "is_superuser": user.is_superuser,
        "is_active": user.is_active,
        "phone_verified_at": user.phone_verified_at,
        "password": user.password,
        "groups": sorted(user.groups.values_list("name", flat=True)),
    }


def test_me_returns_the_callers_profile(citizen, api_as):
    citizen.home_area = Area.objects.get(code=PHU_XUAN)
    citizen.save(update_fields=["home_area"])

    response = api_as(citizen).get(ME)

    assert response.status_code == 200
    body = response.json()
    assert body["phone"] == citizen.phone
    assert body["full_name"] == "Nguyễn Thị Lan"
    assert body["email"] == "lan@example.vn"
    assert body["role"] == "citizen"
    assert body["is_verified"] is True
    assert body["home_area"] == PHU_XUAN
    assert body["agency"] is None


def test_me_shows_a_staff_members_role_and_agency_code(staff_a, api_as):
    body = api_as(staff_a).get(ME).json()

    assert body["role"] == "staff"
    assert body["agency"] == "hepco"


def test_me_shows_an_unverified_user_as_unverified(unverified, api_as):
    body = api_as(unverified).get(ME).json()

    assert body["is_verified"] is False


def test_me_does_not_show_the_password_hash(citizen, api_as):
    response = api_as(citizen).get(ME)

    assert "password" not in response.json()
    assert citizen.password not in response.content.decode()


def test_me_requires_authentication(db, api):
    response = api.get(ME)

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_me_refuses_a_deactivated_users_token(citizen, api_as):
    client = api_as(citizen)
    User.objects.filter(pk=citizen.pk).update(is_active=False)

    response = client.get(ME)

    assert response.status_code == 401


def test_patching_me_requires_authentication(db, api):
    response = patch(api, full_name="Ai đó")

    assert response.status_code == 401


def test_patch_changes_the_full_name(citizen, api_as):
    response = patch(api_as(citizen), full_name="Nguyễn Thị Lan Anh")

    assert response.status_code == 200, response.json()
    assert response.json()["full_name"] == "Nguyễn Thị Lan Anh"
    citizen.refresh_from_db()
    assert citizen.full_name == "Nguyễn Thị Lan Anh"


def test_patch_changes_the_email(citizen, api_as):
    patch(api_as(citizen), email="lan.nguyen@example.vn")

    citizen.refresh_from_db()
    assert citizen.email == "lan.nguyen@example.vn"


def test_patch_can_clear_the_email(citizen, api_as):
    patch(api_as(citizen), email="")

    citizen.refresh_from_db()
    assert citizen.email == ""


def test_patch_sets_the_home_area_by_its_code(citizen, api_as):
    response = patch(api_as(citizen), home_area=PHU_XUAN)

    assert response.status_code == 200, response.json()
    assert response.json()["home_area"] == PHU_XUAN
    citizen.refresh_from_db()
    assert citizen.home_area.code == PHU_XUAN


def test_patch_can_clear_the_home_area(citizen, api_as):
    citizen.home_area = Area.objects.get(code=PHU_XUAN)
    citizen.save(update_fields=["home_area"])

    patch(api_as(citizen), home_area=None)

    citizen.refresh_from_db()
    assert citizen.home_area is None


def test_patch_leaves_fields_it_was_not_sent_alone(citizen, api_as):
    patch(api_as(citizen), full_name="Lan")

    citizen.refresh_from_db()
    assert citizen.email == "lan@example.vn"


def test_an_unknown_area_code_is_refused_on_the_home_area_field(citizen, api_as):
    response = patch(api_as(citizen), home_area="99999")

    assert response.status_code == 400
    assert response.json()["fields"]["home_area"][0]["code"] == "does_not_exist"


def test_an_invalid_email_is_refused_on_the_email_field(citizen, api_as):
    response = patch(api_as(citizen), email="not-an-email")

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert body["fields"]["email"][0]["code"] == "invalid"
    citizen.refresh_from_db()
    assert citizen.email == "lan@example.vn"


def test_a_blank_full_name_is_refused(citizen, api_as):
    response = patch(api_as(citizen), full_name="  ")

    assert response.status_code == 400
    assert "full_name" in response.json()["fields"]


def test_an_invalid_field_changes_nothing_else_in_the_same_request(citizen, api_as):
    patch(api_as(citizen), full_name="Tên mới", email="not-an-email")

    citizen.refresh_from_db()
    assert citizen.full_name == "Nguyễn Thị Lan"


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"role": "administrator"}, id="role"),
        pytest.param({"phone": "+84912345678"}, id="phone"),
        pytest.param({"agency": "hepco"}, id="agency"),
        pytest.param({"is_staff": True}, id="is_staff"),
        pytest.param({"is_superuser": True}, id="is_superuser"),
        pytest.param({"is_active": False}, id="is_active"),
        pytest.param({"is_verified": False}, id="is_verified"),
        pytest.param({"phone_verified_at": None}, id="phone_verified_at"),
        pytest.param({"password": "một-mật-khẩu-mới-99"}, id="password"),
        pytest.param({"groups": ["administrator"]}, id="groups"),
    ],
)
def test_patch_cannot_change_what_the_user_may_not_set(citizen, api_as, body):
    before = snapshot(citizen)

    patch(api_as(citizen), **body)

    assert snapshot(citizen) == before


def test_patch_cannot_make_a_citizen_staff_even_alongside_an_allowed_change(citizen, api_as):
    before = snapshot(citizen)

    response = patch(
        api_as(citizen),
        full_name="Lan",
        role="staff",
        agency="hepco",
        is_staff=True,
        phone="+84912345678",
    )

    assert response.status_code == 200
    assert response.json()["role"] == "citizen"
    assert snapshot(citizen) == before


def test_an_unverified_user_cannot_verify_their_phone_through_patch(unverified, api_as):
    patch(api_as(unverified), is_verified=True, phone_verified_at="2026-01-01T00:00:00Z")

    unverified.refresh_from_db()
    assert unverified.is_verified is False
