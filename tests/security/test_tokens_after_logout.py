"""Issue 16, point 9, reproduced: an access token kept working up to 15 minutes after its
session's logout or a password reset.

Now a logout ends its session at once (the refresh token blacklisted, the access tokens
issued with it refused); a password reset, "log out everywhere" and the deletion of the
account end every session of the user at once (accounts.tokens)."""

from __future__ import annotations

import pytest
from django.test import Client
from rest_framework.test import APIClient

from tests.accounts.conftest import code_in

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-42"  # tests.factories.UserFactory's password
NEW_PASSWORD = "mưa-Huế-tháng-mười"


def sign_in(user, password=PASSWORD):
    """A new session of `user`, as the app starts one: its access and refresh tokens."""
    response = APIClient().post(
        "/api/v1/auth/token", {"phone": user.phone, "password": password}, format="json"
    )
    assert response.status_code == 200, response.content
    return response.json()


def as_bearer(access: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client


def me(access: str):
    return as_bearer(access).get("/api/v1/me")


def refreshed(refresh: str):
    return APIClient().post("/api/v1/auth/token/refresh", {"refresh": refresh}, format="json")


def assert_refused(response) -> None:
    assert response.status_code == 401, response.content
    assert response.json()["code"] == "token_not_valid"


def test_the_access_token_stops_working_at_once_after_logout(citizen):
    session = sign_in(citizen)
    assert me(session["access"]).status_code == 200

    logout = as_bearer(session["access"]).post(
        "/api/v1/auth/logout", {"refresh": session["refresh"]}, format="json"
    )

    assert logout.status_code == 204
    assert_refused(me(session["access"]))
    assert_refused(refreshed(session["refresh"]))


def test_logout_ends_the_access_tokens_of_the_sessions_rotations_too(citizen):
    session = sign_in(citizen)
    rotated = refreshed(session["refresh"]).json()

    as_bearer(rotated["access"]).post(
        "/api/v1/auth/logout", {"refresh": rotated["refresh"]}, format="json"
    )

    assert_refused(me(session["access"]))
    assert_refused(me(rotated["access"]))


def test_logging_out_of_one_session_leaves_the_others_signed_in(citizen, other_citizen):
    phone, tablet = sign_in(citizen), sign_in(citizen)
    someone_else = sign_in(other_citizen)

    as_bearer(phone["access"]).post(
        "/api/v1/auth/logout", {"refresh": phone["refresh"]}, format="json"
    )

    assert_refused(me(phone["access"]))
    assert me(tablet["access"]).status_code == 200
    assert refreshed(tablet["refresh"]).status_code == 200
    assert me(someone_else["access"]).status_code == 200


def test_a_password_reset_ends_every_session_at_once(
    citizen, other_citizen, sms_outbox, django_capture_on_commit_callbacks
):
    sessions = [sign_in(citizen), sign_in(citizen)]
    someone_else = sign_in(other_citizen)
    with django_capture_on_commit_callbacks(execute=True):
        APIClient().post("/api/v1/auth/password/reset", {"phone": citizen.phone}, format="json")
    code = code_in(sms_outbox[-1].text)

    reset = APIClient().post(
        "/api/v1/auth/password/reset/confirm",
        {"phone": citizen.phone, "code": code, "new_password": NEW_PASSWORD},
        format="json",
    )

    assert reset.status_code == 200, reset.content
    for session in sessions:
        assert_refused(me(session["access"]))
        assert refreshed(session["refresh"]).status_code == 401
    assert me(sign_in(citizen, NEW_PASSWORD)["access"]).status_code == 200
    assert me(someone_else["access"]).status_code == 200


def test_logging_out_everywhere_ends_every_session_at_once(citizen, other_citizen):
    phone, tablet = sign_in(citizen), sign_in(citizen)
    someone_else = sign_in(other_citizen)

    response = as_bearer(phone["access"]).post("/api/v1/auth/logout/all")

    assert response.status_code == 204
    for session in (phone, tablet):
        assert_refused(me(session["access"]))
        assert refreshed(session["refresh"]).status_code == 401
    assert me(sign_in(citizen)["access"]).status_code == 200  # a new sign-in works
    assert me(someone_else["access"]).status_code == 200


def test_deleting_the_account_ends_every_session_at_once(citizen):
    phone, tablet = sign_in(citizen), sign_in(citizen)

    assert as_bearer(phone["access"]).delete("/api/v1/me").status_code == 204

    for session in (phone, tablet):
        assert me(session["access"]).status_code == 401
        assert refreshed(session["refresh"]).status_code == 401


def test_an_access_token_made_before_sessions_existed_still_works(api_as, citizen):
    """Tokens issued before this release carry no session: they live out their 15 minutes
    (a logout everywhere ends them too)."""
    assert api_as(citizen).get("/api/v1/me").status_code == 200

    api_as(citizen).post("/api/v1/auth/logout/all")

    assert api_as(citizen).get("/api/v1/me").status_code == 401


def test_a_password_an_administrator_sets_ends_every_session_at_once(citizen, administrator):
    session = sign_in(citizen)
    admin = Client()
    admin.force_login(administrator, backend="accounts.backends.PhoneBackend")

    changed = admin.post(
        f"/admin/accounts/user/{citizen.pk}/password/",
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )

    assert changed.status_code == 302
    assert_refused(me(session["access"]))
    assert refreshed(session["refresh"]).status_code == 401
