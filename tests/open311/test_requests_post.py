"""POST requests: an Open311 client files a report as its key's service account."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from open311 import services
from open311.models import ApiKey, Submission
from open311.services import IssuedApiKey
from reports.models import Category, Report, ReportStatus
from tests.conftest import SAIGON_POINT
from tests.open311.conftest import post, request_fields, xml


def created(response: Any) -> Report:
    assert response.status_code == 201, response.content
    [answer] = response.json()
    return Report.objects.get(reference=answer["service_request_id"])


def error(response: Any, status: int) -> str:
    assert response.status_code == status, response.content
    errors = response.json()
    assert errors
    assert all(set(item) == {"code", "description"} for item in errors)
    assert all(item["code"] == status for item in errors)
    return " ".join(item["description"] for item in errors)


def test_a_client_files_a_report_that_routing_sends_to_hepco(submit: Callable[..., Any]) -> None:
    report = created(submit())

    assert report.status == ReportStatus.ROUTED
    assert report.agency is not None
    assert report.agency.code == "hepco"


def test_the_answer_carries_the_request_id_at_once(submit: Callable[..., Any]) -> None:
    response = submit()

    [answer] = response.json()
    assert set(answer) == {"service_request_id", "service_notice", "account_id"}
    assert answer["service_request_id"].startswith("HUE-")
    assert answer["service_notice"]
    assert answer["account_id"] is None


def test_the_report_is_filed_as_the_keys_service_account(
    submit: Callable[..., Any], api_key: IssuedApiKey
) -> None:
    report = created(submit())

    assert report.reporter == api_key.api_key.user
    assert report.is_public is True
    assert report.hide_name is True
    assert report.address == "5 Lê Lợi, Phú Xuân"
    assert report.description == "Đèn đường trước số 5 Lê Lợi không sáng"
    assert not report.photos.exists()


def test_the_persons_contact_details_are_kept_with_the_submission(
    submit: Callable[..., Any], api_key: IssuedApiKey
) -> None:
    report = created(
        submit(
            first_name="Hoàng",
            last_name="Minh Tuấn",
            email="tuan@example.vn",
            phone="0914 555 666",
            media_url="https://hotline.example.vn/media/1.jpg",
        )
    )

    submission = Submission.objects.get(report=report)
    assert submission.api_key == api_key.api_key
    assert (submission.first_name, submission.last_name) == ("Hoàng", "Minh Tuấn")
    assert (submission.email, submission.phone) == ("tuan@example.vn", "0914 555 666")
    assert submission.media_url == "https://hotline.example.vn/media/1.jpg"


def test_a_submitted_media_url_is_the_requests_media_url(
    submit: Callable[..., Any], client: Client
) -> None:
    report = created(submit(media_url="https://hotline.example.vn/media/1.jpg"))

    [request] = client.get(f"/open311/v2/requests/{report.reference}.json").json()

    assert request["media_url"] == "https://hotline.example.vn/media/1.jpg"


def test_filing_records_when_the_key_was_last_used(
    submit: Callable[..., Any], api_key: IssuedApiKey
) -> None:
    submit()

    api_key.api_key.refresh_from_db()
    assert api_key.api_key.last_used_at is not None


def test_the_last_use_is_written_once_a_minute_not_on_every_request(
    api_key: IssuedApiKey, reference_data: None
) -> None:
    start = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False):
        assert services.api_key_authenticate(api_key.key) is not None
    with time_machine.travel(start + timedelta(seconds=30), tick=False):
        with CaptureQueriesContext(connection) as captured:
            assert services.api_key_authenticate(api_key.key) is not None
        assert not any(q["sql"].startswith("UPDATE") for q in captured)
    api_key.api_key.refresh_from_db()
    assert api_key.api_key.last_used_at == start
    with time_machine.travel(start + timedelta(seconds=61), tick=False):
        services.api_key_authenticate(api_key.key)
    api_key.api_key.refresh_from_db()
    assert api_key.api_key.last_used_at == start + timedelta(seconds=61)


def test_a_missing_api_key_is_a_403(client: Client, reference_data: None) -> None:
    fields = request_fields("")
    del fields["api_key"]

    error(post(client, "requests.json", fields), 403)
    assert not Report.objects.exists()


@pytest.mark.parametrize("key", ["not-a-key", "x" * 1000])
def test_a_wrong_api_key_is_a_403(client: Client, reference_data: None, key: str) -> None:
    error(post(client, "requests.json", request_fields(key)), 403)

    assert not Report.objects.exists()


def test_a_deactivated_api_key_is_a_403(client: Client, api_key: IssuedApiKey) -> None:
    ApiKey.objects.filter(pk=api_key.api_key.pk).update(is_active=False)

    error(post(client, "requests.json", request_fields(api_key.key)), 403)


def test_a_key_whose_service_account_was_deactivated_is_a_403(
    client: Client, api_key: IssuedApiKey
) -> None:
    user = api_key.api_key.user
    user.is_active = False
    user.save(update_fields=["is_active"])

    error(post(client, "requests.json", request_fields(api_key.key)), 403)


def test_a_wrong_api_key_in_xml_is_an_errors_document(client: Client, reference_data: None) -> None:
    response = post(client, "requests.xml", request_fields("not-a-key"))

    assert response.status_code == 403
    root = xml(response)
    assert root.tag == "errors"
    assert root.findtext("./error/code") == "403"


@pytest.mark.parametrize("service_code", ["no_such_service", "garbage"])
def test_an_unknown_or_inactive_service_code_is_a_400(
    submit: Callable[..., Any], service_code: str
) -> None:
    Category.objects.filter(code="garbage").update(is_active=False)

    description = error(submit(service_code=service_code), 400)

    assert "service_code" in description
    assert not Report.objects.exists()


def test_a_point_outside_hue_is_a_400(submit: Callable[..., Any]) -> None:
    description = error(submit(point=SAIGON_POINT), 400)

    assert "Huế" in description or "Hue" in description
    assert not Report.objects.exists()


@pytest.mark.parametrize("field", ["service_code", "lat", "long", "description"])
def test_a_missing_field_is_a_400_that_names_it(
    client: Client, api_key: IssuedApiKey, field: str
) -> None:
    fields = request_fields(api_key.key)
    del fields[field]

    description = error(post(client, "requests.json", fields), 400)

    assert description.startswith(f"{field}: ")
    assert not Report.objects.exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("lat", "north"),
        ("lat", "nan"),
        ("long", "200"),
        ("email", "not-an-email"),
        ("media_url", "javascript:alert(1)"),
        ("description", "x" * 2001),
        ("description", "nul\x00byte"),
    ],
)
def test_an_invalid_field_is_a_400(submit: Callable[..., Any], field: str, value: str) -> None:
    description = error(submit(**{field: value}), 400)

    assert f"{field}: " in description
    assert not Report.objects.exists()


def test_a_multipart_post_is_accepted_too(
    client: Client, api_key: IssuedApiKey, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/open311/v2/requests.json", request_fields(api_key.key))

    assert created(response).status == ReportStatus.ROUTED


def test_filing_is_throttled_per_key(
    client: Client, api_key: IssuedApiKey, settings: Any, reference_data: None
) -> None:
    rates = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**rates, "open311_post": "2/min"},
    }
    other = services.api_key_create(name="Cổng dịch vụ công")
    cache.delete_many([f"throttle_open311_post_{k.api_key.pk}" for k in (api_key, other)])

    responses = [post(client, "requests.json", request_fields(api_key.key)) for _ in range(3)]
    others = post(client, "requests.json", request_fields(other.key))

    assert [r.status_code for r in responses] == [201, 201, 429]
    error(responses[-1], 429)
    assert int(responses[-1]["Retry-After"]) > 0
    assert others.status_code == 201
    assert Report.objects.count() == 3


def test_the_per_key_limit_counts_in_one_script_call_like_every_limit(
    client: Client, api_key: IssuedApiKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The per-key count is hues.throttling's (one Redis round trip on Redis), not DRF's
    read and write of a list of timestamps."""
    from hues import throttling

    counted: list[str] = []
    real = throttling.count_hit

    def spy(cache: Any, key: str, seconds: int) -> tuple[int, float]:
        counted.append(key)
        return real(cache, key, seconds)

    monkeypatch.setattr(throttling, "count_hit", spy)
    cache.delete(f"throttle_open311_post_{api_key.api_key.pk}")

    assert post(client, "requests.json", request_fields(api_key.key)).status_code == 201

    assert f"throttle_open311_post_{api_key.api_key.pk}" in counted
    assert cache.get(f"throttle_open311_post_{api_key.api_key.pk}") == 1


def test_reading_needs_no_key_and_is_not_throttled_per_key(
    client: Client, reference_data: None
) -> None:
    assert client.get("/open311/v2/requests.json").status_code == 200


def test_a_token_is_the_request_id(submit: Callable[..., Any], client: Client) -> None:
    report = created(submit())

    response = client.get(f"/open311/v2/tokens/{report.reference}.json")

    assert response.status_code == 200
    assert response.json() == [{"service_request_id": report.reference, "token": report.reference}]


def test_a_token_in_xml(submit: Callable[..., Any], client: Client) -> None:
    report = created(submit())

    root = xml(client.get(f"/open311/v2/tokens/{report.reference}.xml"))

    assert root.tag == "service_requests"
    assert root.findtext("./request/service_request_id") == report.reference
    assert root.findtext("./request/token") == report.reference


def test_a_report_filed_through_the_app_has_no_token(
    client: Client, filed: Callable[..., Report], citizen: Any
) -> None:
    report = filed(citizen)

    assert client.get(f"/open311/v2/tokens/{report.reference}.json").status_code == 404


def test_an_unknown_token_is_a_404(client: Client, reference_data: None) -> None:
    error(client.get("/open311/v2/tokens/HUE-2026-999999.json"), 404)
