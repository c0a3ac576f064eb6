"""Open311 fixtures: an API key, a client that speaks form-encoded GeoReport v2, reports
filed through the mobile API (with photos, routed) to read back."""

from __future__ import annotations

import importlib
import io
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode
from xml.etree import ElementTree as ET

import pytest
from django.apps import apps
from django.test import Client

from accounts.models import User
from open311 import services
from open311.services import IssuedApiKey
from reports.models import Report
from reports.services import Upload, report_resolve_with_photos
from tests.conftest import PHU_XUAN_POINT
from tests.images import image_bytes

BASE = "/open311/v2"


@pytest.fixture(autouse=True)
def _open311_throttle_rate(settings: Any) -> None:
    """Filing is throttled per key; the tests that are not about throttling never meet it."""
    rates = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**rates, "open311_post": "10000/min"},
    }


@pytest.fixture
def open311_roles(reference_data: None) -> None:
    """The role permissions of open311's migration, put back after a flush emptied them."""
    importlib.import_module("open311.migrations.0002_role_permissions").grant(apps, None)


@pytest.fixture
def api_key(reference_data: None) -> IssuedApiKey:
    return services.api_key_create(name="Tổng đài 1022")


@pytest.fixture
def client() -> Client:
    return Client()


def get(client: Client, path: str, **params: Any) -> Any:
    headers = params.pop("headers", {})
    return client.get(f"{BASE}/{path}", params, headers=headers)


def post(client: Client, path: str, data: dict[str, Any]) -> Any:
    """A form-encoded POST, as GeoReport v2 clients send it."""
    return client.post(
        f"{BASE}/{path}", urlencode(data), content_type="application/x-www-form-urlencoded"
    )


def xml(response: Any) -> ET.Element:
    assert response["Content-Type"].startswith("text/xml"), response["Content-Type"]
    # Our own server's answer, parsed as a client would: no untrusted XML here.
    return ET.fromstring(response.content)  # noqa: S314


def request_fields(
    key: str, *, point: tuple[float, float] = PHU_XUAN_POINT, **fields: Any
) -> dict[str, Any]:
    return {
        "api_key": key,
        "service_code": "street_lighting",
        "lat": point[0],
        "long": point[1],
        "address_string": "5 Lê Lợi, Phú Xuân",
        "description": "Đèn đường trước số 5 Lê Lợi không sáng",
        **fields,
    }


@pytest.fixture
def submit(
    client: Client,
    api_key: IssuedApiKey,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> Callable[..., Any]:
    """POST requests.<format> with the fixture's key, running the after-commit routing."""

    def make(fmt: str = "json", **fields: Any) -> Any:
        with django_capture_on_commit_callbacks(execute=True):
            return post(client, f"requests.{fmt}", request_fields(api_key.key, **fields))

    return make


@pytest.fixture
def filed(file_report: Callable[..., Any]) -> Callable[..., Report]:
    """A report filed by a citizen through the mobile API (one photo, routed)."""

    def make(user: User, **fields: Any) -> Report:
        response = file_report(user, **fields)
        assert response.status_code == 201, response.json()
        return Report.objects.get(reference=response.json()["reference"])

    return make


def resolve(report: Report, actor: User, note: str) -> Report:
    """Resolve as agency staff do: a note and a photo of the result."""
    data = image_bytes(size=(64, 48))
    photo = Upload(stream=io.BytesIO(data), size=len(data))
    return report_resolve_with_photos(report=report, actor=actor, note=note, photos=[photo])
