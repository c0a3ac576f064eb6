"""Tokens: POST /auth/token, /auth/token/refresh (rotating) and /auth/logout (revoking)."""

from __future__ import annotations

import pytest

from accounts.backends import demo_password
from tests.accounts.conftest import PHONE
from tests.factories import UserFactory

PASSWORD = "correct-horse-42"  # tests.factories.UserFactory's password


@pytest.fixture
def user(db):
    return UserFactory(phone=PHONE, full_name="Võ Thị Mai")


@pytest.fixture
def obtain(api):
    def post(phone, password=PASSWORD):
        return api.post("/api/v1/auth/token", {"phone": phone, "password": password}, format="json")

    return post


@pytest.fixture
def refresh(api):
    def post(token):
        return api.post("/api/v1/auth/token/refresh", {"refresh": token}, format="json")

    return post


@pytest.fixture
def tokens(user, obtain):
    """A fresh access and refresh token of `user`."""
    response = obtain(PHONE)
    assert response.status_code == 200, response.json()
    return response.json()


@pytest.fixture
def logout(api):
    def post(access, token):
        api.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
        try:
            return api.post("/api/v1/auth/logout", {"refresh": token}, format="json")
        finally:
            api.credentials()

    return post


def me(api, access):
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    try:
        return api.get("/api/v1/me")
    finally:
        api.credentials()


@pytest.mark.parametrize("phone", ["+84905123456", "0905123456", "090 512 3456"])
def test_a_phone_in_either_form_and_the_password_give_an_access_and_a_refresh_token(
    user, obtain, phone
):
    response = obtain(phone)

    assert response.status_code == 200, response.json()
    assert set(response.json()) == {"access", "refresh"}


def test_the_access_token_identifies_the_user(api, tokens):
    response = me(api, tokens["access"])

    assert response.status_code == 200
    assert response.json()["phone"] == PHONE


def test_a_wrong_password_is_refused_with_detail_and_code(user, obtain):
    response = obtain(PHONE, password="wrong-horse-42")

    assert response.status_code == 401
    body = response.json()
    assert set(body) == {"detail", "code"}
    assert body["code"] == "no_active_account"
    assert body["detail"]


def test_an_unknown_phone_is_refused_like_a_wrong_password(db, obtain):
    response = obtain("0987654321")

    assert response.status_code == 401
    assert response.json()["code"] == "no_active_account"


def test_a_malformed_phone_is_refused_like_a_wrong_password(db, obtain):
    response = obtain("not a phone")

    assert response.status_code == 401
    assert response.json()["code"] == "no_active_account"


def test_missing_credentials_are_reported_per_field(db, api):
    response = api.post("/api/v1/auth/token", {}, format="json")

    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"phone", "password"}


def test_an_inactive_user_is_refused(user, obtain):
    user.is_active = False
    user.save(update_fields=["is_active"])

    response = obtain(PHONE)

    assert response.status_code == 401
    assert response.json()["code"] == "no_active_account"


def test_refreshing_returns_a_new_access_and_a_new_refresh_token(tokens, refresh):
    response = refresh(tokens["refresh"])

    assert response.status_code == 200, response.json()
    body = response.json()
    assert set(body) == {"access", "refresh"}
    assert body["refresh"] != tokens["refresh"]


def test_a_refresh_token_is_refused_once_it_was_rotated(tokens, refresh):
    refresh(tokens["refresh"])

    response = refresh(tokens["refresh"])

    assert response.status_code == 401
    assert response.json()["code"] == "token_not_valid"


def test_the_rotated_refresh_token_works(tokens, refresh):
    rotated = refresh(tokens["refresh"]).json()["refresh"]

    response = refresh(rotated)

    assert response.status_code == 200


def test_a_deactivated_users_refresh_token_is_refused(user, tokens, refresh):
    user.is_active = False
    user.save(update_fields=["is_active"])

    response = refresh(tokens["refresh"])

    assert response.status_code == 401


def test_a_garbage_refresh_token_is_refused(db, refresh):
    response = refresh("not.a.token")

    assert response.status_code == 401
    assert response.json()["code"] == "token_not_valid"


def test_logging_out_answers_204(tokens, logout):
    response = logout(tokens["access"], tokens["refresh"])

    assert response.status_code == 204


def test_a_refresh_token_is_refused_after_logging_out(tokens, logout, refresh):
    logout(tokens["access"], tokens["refresh"])

    response = refresh(tokens["refresh"])

    assert response.status_code == 401
    assert response.json()["code"] == "token_not_valid"


def test_logging_out_twice_with_the_same_refresh_token_is_refused(tokens, logout, obtain, user):
    logout(tokens["access"], tokens["refresh"])
    another_session = obtain(user.phone).json()["access"]

    response = logout(another_session, tokens["refresh"])

    assert response.status_code == 400
    assert response.json()["fields"]["refresh"][0]["code"] == "token_not_valid"


def test_logging_out_requires_a_bearer_token(api, tokens):
    response = api.post("/api/v1/auth/logout", {"refresh": tokens["refresh"]}, format="json")

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_logging_out_another_users_refresh_token_is_refused(tokens, other_citizen, api_as):
    response = api_as(other_citizen).post(
        "/api/v1/auth/logout", {"refresh": tokens["refresh"]}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["code"] == "token_not_valid"


def test_logging_out_another_users_refresh_token_does_not_revoke_it(
    tokens, other_citizen, api_as, refresh
):
    api_as(other_citizen).post("/api/v1/auth/logout", {"refresh": tokens["refresh"]}, format="json")

    assert refresh(tokens["refresh"]).status_code == 200


def test_logging_out_with_an_access_token_in_place_of_the_refresh_token_is_refused(tokens, logout):
    response = logout(tokens["access"], tokens["access"])

    assert response.status_code == 400
    assert "refresh" in response.json()["fields"]


def test_logging_out_without_a_refresh_token_is_refused(tokens, logout):
    response = logout(tokens["access"], "")

    assert response.status_code == 400
    assert "refresh" in response.json()["fields"]


@pytest.mark.parametrize("phone", ["+84905123456", "0905123456"])
def test_the_demo_password_is_refused_when_demo_users_are_disabled(db, obtain, settings, phone):
    settings.DEMO_USERS_ENABLED = False
    UserFactory(phone=PHONE, password=demo_password())

    response = obtain(phone, password=demo_password())

    assert response.status_code == 401
    assert response.json()["code"] == "no_active_account"


def test_the_demo_password_is_accepted_when_demo_users_are_enabled(db, obtain, settings):
    settings.DEMO_USERS_ENABLED = True
    UserFactory(phone=PHONE, password=demo_password())

    response = obtain(PHONE, password=demo_password())

    assert response.status_code == 200, response.json()


def test_the_demo_password_is_the_one_the_product_documents():
    assert demo_password() == "hue-demo-2026"


def test_a_deleted_users_refresh_token_is_refused(user, tokens, refresh):
    user.delete()

    response = refresh(tokens["refresh"])

    assert response.status_code == 401
    assert response.json()["code"] == "no_active_account"
