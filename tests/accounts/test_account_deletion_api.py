"""DELETE /api/v1/me: a citizen deletes their account. It is deactivated and anonymised; their
reports stay, without their name; nothing personal of theirs leaves through the API again."""

from __future__ import annotations

import re

import pytest
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

from accounts.codes import phone_code_create
from accounts.models import Device, PhoneCode, TextMessage, User
from accounts.phones import InvalidPhoneNumber, mask_phone, normalize_phone
from accounts.services import DELETED_USER_NAME
from reports.models import Area, Report
from tests.conftest import PHU_XUAN, PHU_XUAN_POINT

ME = "/api/v1/me"
PASSWORD = "correct-horse-42"  # tests.factories.UserFactory's password


def stored(user):
    return User.objects.get(pk=user.pk)


def sign_in(api, phone, password=PASSWORD):
    return api.post("/api/v1/auth/token", {"phone": phone, "password": password}, format="json")


def refresh(api, token):
    return api.post("/api/v1/auth/token/refresh", {"refresh": token}, format="json")


def bearer(api, access):
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return api


@pytest.fixture
def delete_me(api_as):
    def delete(user):
        return api_as(user).delete(ME)

    return delete


@pytest.fixture
def citizens_report(citizen, file_report):
    """A public report of the citizen, showing their name."""
    response = file_report(citizen)
    assert response.status_code == 201, response.json()
    return Report.objects.get(reference=response.json()["reference"])


def test_deleting_my_account_answers_204(citizen, delete_me):
    response = delete_me(citizen)

    assert response.status_code == 204
    assert response.content == b""


def test_deleting_needs_a_signed_in_user(db, api):
    response = api.delete(ME)

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_the_account_is_deactivated_and_marked_deleted(citizen, delete_me):
    delete_me(citizen)

    user = stored(citizen)
    assert user.is_active is False
    assert user.deleted_at is not None


def test_the_name_email_and_home_area_are_removed(citizen, delete_me):
    citizen.home_area = Area.objects.get(code=PHU_XUAN)
    citizen.save(update_fields=["home_area"])

    delete_me(citizen)

    user = stored(citizen)
    assert user.full_name == DELETED_USER_NAME
    assert user.email == ""
    assert user.home_area is None


def test_the_phone_is_replaced_by_a_placeholder_that_is_no_phone_number(citizen, delete_me):
    delete_me(citizen)

    phone = stored(citizen).phone
    assert phone != citizen.phone
    assert len(phone) <= User._meta.get_field("phone").max_length
    assert not re.search(r"[\d+]", phone)
    with pytest.raises(InvalidPhoneNumber):
        normalize_phone(phone)


def test_two_deleted_accounts_get_different_placeholders(citizen, other_citizen, delete_me):
    delete_me(citizen)
    delete_me(other_citizen)

    assert stored(citizen).phone != stored(other_citizen).phone


def test_the_password_is_made_unusable(citizen, delete_me):
    delete_me(citizen)

    assert stored(citizen).has_usable_password() is False


def test_the_old_phone_and_password_no_longer_sign_in(api, citizen, delete_me):
    delete_me(citizen)

    response = sign_in(api, citizen.phone)

    assert response.status_code == 401


def test_the_access_token_stops_working(api, citizen):
    access = sign_in(api, citizen.phone).json()["access"]
    bearer(api, access).delete(ME)

    response = api.get(ME)

    assert response.status_code == 401


def test_deleting_twice_with_the_same_token_is_refused(api, citizen):
    access = sign_in(api, citizen.phone).json()["access"]
    bearer(api, access).delete(ME)

    response = api.delete(ME)

    assert response.status_code == 401


def test_every_refresh_token_is_revoked(api, citizen):
    first = sign_in(api, citizen.phone).json()
    second = sign_in(api, citizen.phone).json()
    bearer(api, first["access"]).delete(ME)
    api.credentials()

    for token in (first["refresh"], second["refresh"]):
        response = refresh(api, token)
        assert response.status_code == 401
        assert response.json()["code"] == "token_not_valid"
    tokens = OutstandingToken.objects.filter(user=citizen)
    assert all(hasattr(token, "blacklistedtoken") for token in tokens)


def test_the_push_devices_are_forgotten(citizen, other_citizen, delete_me):
    Device.objects.create(user=citizen, token="token-of-lan", platform=Device.Platform.ANDROID)
    Device.objects.create(user=other_citizen, token="token-of-binh", platform=Device.Platform.IOS)

    delete_me(citizen)

    assert list(Device.objects.values_list("token", flat=True)) == ["token-of-binh"]


def test_pending_phone_codes_are_removed(citizen, delete_me):
    phone_code_create(user=citizen, purpose=PhoneCode.Purpose.RESET)

    delete_me(citizen)

    assert not PhoneCode.objects.filter(user=citizen).exists()


def test_the_outbox_keeps_the_texts_with_the_number_masked(
    citizen, delete_me, api, django_capture_on_commit_callbacks
):
    phone = citizen.phone
    with django_capture_on_commit_callbacks(execute=True):
        api.post("/api/v1/auth/password/reset", {"phone": phone})
    assert TextMessage.objects.get(user=citizen).phone == phone

    delete_me(citizen)

    (text,) = TextMessage.objects.filter(kind=TextMessage.Kind.RESET)
    assert text.phone == mask_phone(phone)
    assert text.user == citizen


def test_the_reports_stay_with_the_name_hidden(citizen, citizens_report, delete_me):
    delete_me(citizen)

    report = Report.objects.get(pk=citizens_report.pk)
    assert report.reporter_id == citizen.pk
    assert report.hide_name is True


def test_the_report_is_still_in_the_public_feed_without_a_name(
    api, citizen, citizens_report, delete_me
):
    delete_me(citizen)

    body = api.get(f"/api/v1/reports/{citizens_report.reference}").json()

    assert body["reference"] == citizens_report.reference
    assert body["reporter_name"] is None


def test_a_client_holding_the_report_with_the_name_gets_it_again_without(
    api, citizen, citizens_report, delete_me
):
    detail = f"/api/v1/reports/{citizens_report.reference}"
    etag = api.get(detail)["ETag"]
    delete_me(citizen)

    response = api.get(detail, HTTP_IF_NONE_MATCH=etag)

    assert response.status_code == 200
    assert response.json()["reporter_name"] is None


def test_support_the_user_gave_stays_counted(api_as, citizen, other_citizen, file_report):
    reference = file_report(other_citizen).json()["reference"]
    api_as(citizen).post(f"/api/v1/reports/{reference}/support")

    api_as(citizen).delete(ME)

    assert Report.objects.get(reference=reference).supporters_count == 1


def test_the_users_data_appears_in_no_api_response(
    api, api_as, citizen, other_citizen, citizens_report, file_report
):
    private = file_report(citizen, is_public=False).json()["reference"]
    phone = citizen.phone
    traces = [phone, "0" + phone[3:], phone[3:], citizen.full_name, citizen.email]

    def everything_visible():
        anonymous, other = api, api_as(other_citizen)
        lat, lng = PHU_XUAN_POINT
        responses = [
            anonymous.get("/api/v1/reports"),
            anonymous.get(f"/api/v1/reports/{citizens_report.reference}"),
            other.get("/api/v1/reports"),
            other.get(f"/api/v1/reports/{citizens_report.reference}"),
            other.get(f"/api/v1/reports/{private}"),
            other.get(f"/api/v1/reports/nearby?lat={lat}&lng={lng}&category=street_lighting"),
            other.get(ME),
        ]
        return "\n".join(response.content.decode() for response in responses)

    # The name shows before: the search below would find it.
    assert citizen.full_name in everything_visible()

    api_as(citizen).delete(ME)

    seen = everything_visible()
    assert [trace for trace in traces if trace in seen] == []


def test_the_phone_number_may_register_again(api, citizen, delete_me):
    delete_me(citizen)

    response = api.post(
        "/api/v1/auth/register",
        {"phone": citizen.phone, "password": "sông-Hương-2026", "full_name": "Người mới"},
        format="json",
    )

    assert response.status_code == 201, response.json()
    assert stored(citizen).phone != citizen.phone


def test_deleting_one_account_leaves_other_users_alone(citizen, other_citizen, delete_me):
    delete_me(citizen)

    other = stored(other_citizen)
    assert other.is_active is True
    assert other.full_name == "Trần Văn Bình"
    assert other.phone == other_citizen.phone


@pytest.mark.parametrize("role", ["staff_a", "manager", "dispatcher", "administrator"])
def test_staff_cannot_delete_their_account_from_the_app(request, delete_me, role):
    member = request.getfixturevalue(role)

    response = delete_me(member)

    assert response.status_code == 403
    assert response.json()["code"] == "account_managed_by_city"
    user = stored(member)
    assert user.is_active is True
    assert user.deleted_at is None
    assert user.full_name == member.full_name


def test_an_unverified_user_may_delete_their_account(unverified, delete_me):
    response = delete_me(unverified)

    assert response.status_code == 204
    assert stored(unverified).is_active is False


def test_a_deleted_account_cannot_ask_for_a_password_reset(
    api, citizen, delete_me, sms_outbox, django_capture_on_commit_callbacks
):
    delete_me(citizen)

    with django_capture_on_commit_callbacks(execute=True):
        response = api.post("/api/v1/auth/password/reset", {"phone": citizen.phone})

    assert response.status_code == 202
    assert sms_outbox == []
