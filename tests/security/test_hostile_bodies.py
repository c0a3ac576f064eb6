"""Issue 16, point 7, reproduced: a JSON body of 5,000 nested brackets gave a 500
(RecursionError) on the authentication and profile routes, and OPTIONS gave a 500 on the
actions without a serializer class and on the Swagger page (TemplateDoesNotExist).

Now the JSON parser of every view bounds the nesting (hues.parsers: 400 `json_too_deep`), the
metadata copes with views without a serializer class (hues.metadata), and the documentation
pages answer OPTIONS with their methods."""

from __future__ import annotations

import pytest

from hues.parsers import JSON_MAX_DEPTH

pytestmark = pytest.mark.django_db

DEEP = "[" * 5000 + "]" * 5000

JSON_ROUTES = [
    ("post", "/api/v1/auth/token"),
    ("post", "/api/v1/auth/token/refresh"),
    ("post", "/api/v1/auth/register"),
    ("post", "/api/v1/auth/verify"),
    ("post", "/api/v1/auth/verify/resend"),
    ("post", "/api/v1/auth/logout"),
    ("post", "/api/v1/auth/password/reset"),
    ("post", "/api/v1/auth/password/reset/confirm"),
    ("patch", "/api/v1/me"),
    ("post", "/api/v1/me/devices"),
]


@pytest.mark.parametrize(("method", "path"), JSON_ROUTES)
def test_deeply_nested_json_is_refused_with_400(api_as, citizen, method, path):
    response = getattr(api_as(citizen), method)(path, DEEP, content_type="application/json")

    assert response.status_code == 400
    assert response.json()["code"] == "json_too_deep"


def test_deeply_nested_json_is_refused_on_a_reporter_action(api_as, citizen, file_report):
    reference = file_report(citizen).json()["reference"]

    response = api_as(citizen).post(
        f"/api/v1/reports/{reference}/comments", DEEP, content_type="application/json"
    )

    assert response.status_code == 400
    assert response.json()["code"] == "json_too_deep"


def test_json_nested_past_the_limit_but_within_the_decoder_is_refused(api_as, citizen):
    body = "[" * (JSON_MAX_DEPTH + 1) + "]" * (JSON_MAX_DEPTH + 1)

    response = api_as(citizen).patch("/api/v1/me", body, content_type="application/json")

    assert response.status_code == 400
    assert response.json()["code"] == "json_too_deep"


def test_json_nested_within_the_limit_reaches_the_serializer(api_as, citizen):
    body = '{"full_name": ' + "[" * (JSON_MAX_DEPTH - 1) + "]" * (JSON_MAX_DEPTH - 1) + "}"

    response = api_as(citizen).patch("/api/v1/me", body, content_type="application/json")

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/auth/register",
        "/api/v1/auth/verify",
        "/api/v1/auth/verify/resend",
        "/api/v1/auth/logout",
        "/api/v1/auth/password/reset",
        "/api/v1/auth/password/reset/confirm",
        "/api/v1/auth/token",
        "/api/v1/me",
        "/api/v1/reports",
    ],
)
def test_options_answers_the_allowed_methods(api_as, citizen, path):
    response = api_as(citizen).options(path)

    assert response.status_code == 200
    assert "POST" in response["Allow"] or "GET" in response["Allow"]


@pytest.mark.parametrize("path", ["/api/docs/", "/api/redoc/", "/api/schema/"])
def test_options_on_the_documentation_pages_answers_their_methods(client, path):
    response = client.options(path)

    assert response.status_code == 200
    assert "GET" in response["Allow"]
