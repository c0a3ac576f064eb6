"""The API answers as its OpenAPI schema says: each response below, from a representative
call of each endpoint, has a documented status code and a body that validates against the
schema of that status (objects closed to undocumented keys, nullable only where marked).

A serializer that drifts from the schema (a field that may be null but is not marked so, a
key the schema does not know, an answer the view never documented) fails here, in the normal
suite; tests/e2e/test_schemathesis.py explores the input space on top of this.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cache
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from drf_spectacular.generators import SchemaGenerator
from jsonschema import Draft202012Validator
from rest_framework.renderers import JSONRenderer
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.models import User
from notifications.models import Notification
from reports import lifecycle, services
from reports.models import Report, ReportStatus
from reports.services import Upload
from tests.accounts.conftest import code_in
from tests.conftest import PHU_XUAN_POINT
from tests.reports.helpers import resolve_with_photo

pytestmark = pytest.mark.django_db

Client = Callable[[User], APIClient]
FORMATS = Draft202012Validator.FORMAT_CHECKER


def _json_schema(node: Any) -> Any:
    """OpenAPI 3.0 schema objects as JSON Schema: `nullable` becomes a null alternative, and
    an object with properties admits no others."""
    if isinstance(node, list):
        return [_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    converted = {key: _json_schema(value) for key, value in node.items()}
    if "properties" in converted:
        converted.setdefault("additionalProperties", False)
    if converted.pop("nullable", False):
        return {"anyOf": [converted, {"type": "null"}]}
    return converted


@cache
def openapi() -> dict[str, Any]:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return json.loads(JSONRenderer().render(schema))


def assert_conforms(response: Any, method: str, path: str) -> None:
    """`path` is the schema's template, e.g. /api/v1/reports/{reference}."""
    document = openapi()
    operation = document["paths"][path][method.lower()]
    status = str(response.status_code)
    body = response.content[:300]
    assert status in operation["responses"], f"{method} {path}: undocumented {status}: {body!r}"
    content = operation["responses"][status].get("content")
    if content is None:
        assert not response.content, f"{method} {path} {status}: a body the schema has not"
        return
    assert response["Content-Type"].startswith("application/json")
    schema = {
        **_json_schema(content["application/json"]["schema"]),
        "components": _json_schema(document["components"]),
    }
    errors = [
        f"{'/'.join(map(str, error.absolute_path))}: {error.message}"
        for error in Draft202012Validator(schema, format_checker=FORMATS).iter_errors(
            response.json()
        )
    ]
    assert not errors, f"{method} {path} {status} does not match its schema: {errors}"


def call(client: APIClient, method: str, path: str, url: str | None = None, **kwargs: Any) -> Any:
    response = getattr(client, method.lower())(url or path, **kwargs)
    assert_conforms(response, method, path)
    return response


@pytest.fixture
def anonymous() -> APIClient:
    return APIClient()


@pytest.fixture
def as_user() -> Client:
    def make(user: User) -> APIClient:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
        return client

    return make


@pytest.fixture
def filed(
    citizen: User, file_report: Callable[..., Any], reference_data: None
) -> Callable[..., Report]:
    def make(**fields: Any) -> Report:
        response = file_report(citizen, **fields)
        assert response.status_code == 201, response.json()
        return Report.objects.get(reference=response.json()["reference"])

    return make


def test_every_error_answer_uses_the_one_error_component() -> None:
    for path, operations in openapi()["paths"].items():
        for method, operation in operations.items():
            for status, answer in operation["responses"].items():
                if status.startswith("4"):
                    schema = answer["content"]["application/json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/Error"}, (method, path)


def test_reference_data_matches_the_schema(anonymous: APIClient, reference_data: None) -> None:
    for path in ("/api/v1/health", "/api/v1/categories", "/api/v1/areas"):
        assert call(anonymous, "GET", path).status_code == 200


def test_the_feed_and_a_report_match_the_schema(
    anonymous: APIClient, as_user: Client, citizen: User, filed: Callable[..., Report]
) -> None:
    hidden = filed(hide_name="true")
    filed(lat=16.4637, lng=107.5909, is_public="false")
    feed = "/api/v1/reports"
    detail = "/api/v1/reports/{reference}"

    page = call(anonymous, "GET", feed, f"{feed}?page_size=1&ordering=most_supported")
    assert page.json()["results"][0]["reporter_name"] is None
    call(anonymous, "GET", feed, page.json()["next"])
    call(as_user(citizen), "GET", feed, f"{feed}?mine=true&near=16.4821,107.57612&radius=500")
    etag = call(anonymous, "GET", feed)["ETag"]
    assert call(anonymous, "GET", feed, HTTP_IF_NONE_MATCH=etag).status_code == 304
    assert call(anonymous, "GET", feed, f"{feed}?bbox=1,2,3").status_code == 400
    assert call(anonymous, "GET", feed, f"{feed}?cursor=garbage").status_code == 400
    # PostgreSQL refuses an offset beyond ±16 hours, Python accepts up to 24.
    far_offset = f"{feed}?created_after=0145-06-13T14:30:50%2B21:55"
    assert call(anonymous, "GET", feed, far_offset).status_code == 400

    assert call(anonymous, "GET", detail, f"{feed}/{hidden.reference}").status_code == 200
    assert call(anonymous, "GET", detail, f"{feed}/HUE-2026-999999").status_code == 404


def test_filing_a_report_matches_the_schema(
    anonymous: APIClient,
    as_user: Client,
    citizen: User,
    unverified: User,
    photo: Callable[..., SimpleUploadedFile],
    reference_data: None,
) -> None:
    path = "/api/v1/reports"

    def body(**fields: Any) -> dict[str, Any]:
        return {
            "category": "street_lighting",
            "description": "Đèn đường không sáng",
            "lat": PHU_XUAN_POINT[0],
            "lng": PHU_XUAN_POINT[1],
            "photos": [photo()],
            **fields,
        }

    client = as_user(citizen)
    key = {"HTTP_IDEMPOTENCY_KEY": "0b7c3c1e-report"}
    created = call(client, "POST", path, data=body(), format="multipart", **key)
    assert created.status_code == 201
    again = call(client, "POST", path, data=body(description="Khác"), format="multipart", **key)
    assert (again.status_code, again.json()["code"]) == (422, "idempotency_mismatch")

    assert call(client, "POST", path, data=body(lat="x"), format="multipart").status_code == 400
    garbage = SimpleUploadedFile("photo.jpg", b"not an image")
    refused = call(client, "POST", path, data=body(photos=[garbage]), format="multipart")
    assert refused.status_code in (400, 415)
    as_json = call(client, "POST", path, data={"category": "x"}, format="json")
    assert as_json.status_code == 415
    assert call(anonymous, "POST", path, data=body(), format="multipart").status_code == 401
    unverified_client = as_user(unverified)
    assert call(unverified_client, "POST", path, data=body(), format="multipart").status_code == 403


def test_a_broken_multipart_body_answers_400_in_the_error_shape(
    as_user: Client, citizen: User, filed: Callable[..., Report]
) -> None:
    report = filed()
    broken = [
        ("multipart/form-data", b"garbage"),
        ("multipart/form-data; boundary=", b"--\r\n"),
        (
            "multipart/form-data; boundary=XX",
            b'--XX\r\nContent-Disposition: form-data; name="photos"; filename="a.jpg"\r\n\r\n\xff',
        ),
    ]
    for content_type, data in broken:
        for path, url in [
            ("/api/v1/reports", "/api/v1/reports"),
            ("/api/v1/reports/{reference}/photos", f"/api/v1/reports/{report.reference}/photos"),
        ]:
            response = as_user(citizen).generic("POST", url, data, content_type=content_type)
            assert_conforms(response, "POST", path)
            assert response.status_code in (400, 409), response.content


def test_a_citizens_actions_match_the_schema(
    as_user: Client,
    citizen: User,
    other_citizen: User,
    staff_a: User,
    filed: Callable[..., Report],
    photo: Callable[..., SimpleUploadedFile],
) -> None:
    report = filed()
    base = "/api/v1/reports/{reference}"

    def act(user: User, method: str, action: str, **kwargs: Any) -> Any:
        url = f"/api/v1/reports/{report.reference}/{action}"
        return call(as_user(user), method, f"{base}/{action}", url, **kwargs)

    message = {"message": "Đèn vẫn chưa sáng."}
    assert act(citizen, "POST", "comments", data=message, format="json").status_code == 201
    assert act(other_citizen, "POST", "comments", data=message, format="json").status_code == 403
    assert act(citizen, "POST", "comments", data={}, format="json").status_code == 400
    photos = {"photos": [photo()]}
    assert act(citizen, "POST", "photos", data=photos, format="multipart").status_code == 409
    assert act(other_citizen, "POST", "support").status_code == 201
    assert act(other_citizen, "POST", "support").status_code == 409
    assert act(other_citizen, "DELETE", "support").status_code == 200
    assert act(citizen, "POST", "support").status_code == 403
    rating = {"stars": 2, "comment": "Chưa ổn."}
    assert act(citizen, "POST", "rating", data=rating, format="json").status_code == 409

    resolve_with_photo(
        report=lifecycle.report_accept(report=report, actor=staff_a), actor=staff_a, note="Xong."
    )
    rated = act(citizen, "POST", "rating", data=rating, format="json")
    assert rated.json()["ask_reopen"] is True
    reopen = {"reason": "Đèn lại tắt."}
    assert act(citizen, "POST", "reopen", data=reopen, format="json").status_code == 200

    nearby = "/api/v1/reports/nearby"
    query = {"lat": PHU_XUAN_POINT[0], "lng": PHU_XUAN_POINT[1], "category": "street_lighting"}
    assert call(as_user(other_citizen), "GET", nearby, data=query).json()["results"]
    assert call(as_user(citizen), "GET", nearby, data={"lat": "x"}).status_code == 400


def test_adding_photos_matches_the_schema(
    as_user: Client, citizen: User, photo: Callable[..., SimpleUploadedFile], reference_data: None
) -> None:
    image = photo()
    report = services.report_create(
        reporter=citizen,
        category_code="street_lighting",
        description="Ổ gà",
        lat=PHU_XUAN_POINT[0],
        lng=PHU_XUAN_POINT[1],
        photos=[Upload(stream=image, size=image.size)],
    )
    assert report.status == ReportStatus.SUBMITTED
    url = f"/api/v1/reports/{report.reference}/photos"
    added = call(
        as_user(citizen),
        "POST",
        "/api/v1/reports/{reference}/photos",
        url,
        data={"photos": [photo()]},
        format="multipart",
    )
    assert added.status_code == 201


def test_the_inbox_matches_the_schema(
    as_user: Client, anonymous: APIClient, citizen: User, filed: Callable[..., Report]
) -> None:
    report = filed()
    plain = Notification.objects.create(user=citizen, kind="public_update", title="Tin", body="")
    Notification.objects.create(
        user=citizen, kind="resolved", title="Xong", body="", report=report, data={"a": 1}
    )
    client = as_user(citizen)
    inbox = "/api/v1/notifications"
    assert call(client, "GET", inbox, f"{inbox}?unread=true").json()["results"]
    read = "/api/v1/notifications/{id}/read"
    assert call(client, "POST", read, f"{inbox}/{plain.pk}/read").json()["is_read"] is True
    assert call(client, "POST", read, f"{inbox}/999999999/read").status_code == 404
    assert call(client, "POST", "/api/v1/notifications/read-all").status_code == 200
    assert call(anonymous, "GET", inbox).status_code == 401


def test_the_account_endpoints_match_the_schema(
    anonymous: APIClient,
    as_user: Client,
    citizen: User,
    sms_outbox: list[Any],
    django_capture_on_commit_callbacks: Callable[..., Any],
    reference_data: None,
) -> None:
    phone, password = "0905123999", "sông-Hương-2026"
    registration = {"phone": phone, "password": password, "full_name": "Phạm Thị Hoa"}
    with django_capture_on_commit_callbacks(execute=True):
        registered = call(anonymous, "POST", "/api/v1/auth/register", data=registration)
    assert registered.status_code == 201
    code = code_in(sms_outbox[-1].text)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    verify = "/api/v1/auth/verify"
    assert call(anonymous, "POST", verify, data={"phone": phone, "code": wrong}).status_code == 400
    verified = call(anonymous, "POST", verify, data={"phone": phone, "code": code})
    assert verified.json()["home_area"] is None

    credentials = {"phone": phone, "password": password}
    tokens = call(anonymous, "POST", "/api/v1/auth/token", data=credentials).json()
    bad = {"phone": phone, "password": "wrong"}
    assert call(anonymous, "POST", "/api/v1/auth/token", data=bad).status_code == 401
    refresh = "/api/v1/auth/token/refresh"
    rotated = call(anonymous, "POST", refresh, data={"refresh": tokens["refresh"]}).json()
    assert call(anonymous, "POST", refresh, data={"refresh": "x"}).status_code == 401

    client = as_user(citizen)
    assert call(client, "GET", "/api/v1/me").json()["agency"] is None
    profile = {"home_area": "19753", "email": ""}
    assert call(client, "PATCH", "/api/v1/me", data=profile).status_code == 200
    assert call(client, "PATCH", "/api/v1/me", data={"home_area": "x"}).status_code == 400
    device = {"token": "fcm-token-1", "platform": "android"}
    assert call(client, "POST", "/api/v1/me/devices", data=device).status_code == 201
    forget = "/api/v1/me/devices/{token}"
    assert call(client, "DELETE", forget, "/api/v1/me/devices/fcm-token-1").status_code == 204
    reset = "/api/v1/auth/password/reset"
    assert call(anonymous, "POST", reset, data={"phone": phone}).status_code == 202
    confirm = {"phone": phone, "code": "000000", "new_password": "another-long-one"}
    assert call(anonymous, "POST", f"{reset}/confirm", data=confirm).status_code == 400

    signed_in = APIClient()
    signed_in.credentials(HTTP_AUTHORIZATION=f"Bearer {rotated['access']}")
    logout = "/api/v1/auth/logout"
    assert call(signed_in, "POST", logout, data={"refresh": rotated["refresh"]}).status_code == 204
    anonymous.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")
    assert call(anonymous, "GET", "/api/v1/categories").status_code == 401
    assert call(anonymous, "DELETE", "/api/v1/me").status_code == 401


def test_a_body_django_refuses_to_read_answers_413(
    anonymous: APIClient, settings: Any, reference_data: None
) -> None:
    settings.REQUEST_MAX_BODY_SIZE = 10_000_000
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    registration = {"phone": "0905123999", "password": "x" * 2000, "full_name": "A"}

    response = call(anonymous, "POST", "/api/v1/auth/register", data=registration, format="json")

    assert (response.status_code, response.json()["code"]) == (413, "request_too_large")


def test_an_unknown_api_url_answers_404_in_the_error_shape(anonymous: APIClient) -> None:
    response = anonymous.get("/api/v1/reports/not-a-reference/nothing")

    assert response.status_code == 404
    assert response.json() == {"detail": response.json()["detail"], "code": "not_found"}
    assert response["Content-Type"].startswith("application/json")


def test_every_operation_but_the_health_check_documents_the_503() -> None:
    for path, operations in openapi()["paths"].items():
        for method, operation in operations.items():
            documented = "503" in operation["responses"]
            assert documented is not path.endswith("/health"), f"{method.upper()} {path}"
