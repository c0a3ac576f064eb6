"""Open311's hand-built request representation equals what DRF's declared fields give (the
GeoReport v2 shape), for every kind of request a list holds."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import translation
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from open311 import selectors
from open311.serializers import ServiceRequestOutput
from reports import lifecycle
from tests.open311.conftest import resolve

pytestmark = pytest.mark.django_db


@pytest.fixture
def requests(filed, submit, citizen, staff_a) -> list[Any]:
    photographed = filed(citizen)
    triage = filed(citizen, category="other", description="Chuyện khác")
    done = filed(citizen)
    lifecycle.report_accept(report=done, actor=staff_a)
    lifecycle.report_post_update(report=done, actor=staff_a, message="Đang xử lý")
    resolve(done, staff_a, "Đã sửa xong")
    assert submit(media_url="https://example.org/a.jpg").status_code == 201
    assert submit().status_code == 201  # no photo, no media URL
    rows = selectors.service_requests()
    assert {row.reference for row in rows} >= {photographed.reference, triage.reference}
    return rows


@pytest.mark.parametrize("language", ["vi", "en"])
@pytest.mark.parametrize("secure", [True, False])
def test_the_fast_representation_equals_the_declared_fields(requests, language, secure):
    request = Request(APIRequestFactory().get("/open311/v2/requests.json", secure=secure))
    serializer = ServiceRequestOutput(context={"request": request})

    with translation.override(language):
        for row in requests:
            assert serializer.to_representation(row) == serializer.generic_representation(row)
    assert any(serializer.to_representation(row)["media_url"] for row in requests)
    assert any(serializer.to_representation(row)["status_notes"] for row in requests)
    assert any(serializer.to_representation(row)["expected_datetime"] is None for row in requests)


def test_without_a_request_the_urls_stay_relative(requests):
    serializer = ServiceRequestOutput(context={})

    for row in requests:
        assert serializer.to_representation(row) == serializer.generic_representation(row)
