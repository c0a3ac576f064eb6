"""One service request (by id, and by token) is read in one hand-written statement
(open311.selectors over reports.rows): the same instance, annotations and answer as the
queryset the lists use (_service_requests), for every kind of request; on SQLite and on
PostgreSQL (CI)."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from open311 import selectors
from open311.serializers import ServiceRequestOutput
from reports import lifecycle, moderation
from reports.models import Report
from tests.open311.conftest import resolve

pytestmark = pytest.mark.django_db

ANNOTATIONS = ("status_notes", "first_photo", "submitted_media_url")
FIELDS = ("reference", "status", "description", "address", "lat", "lng", "created_at")
FIELDS += ("updated_at", "due_at", "category_id", "agency_id")


def orm_single(reference: str, *, token: bool = False) -> Report | None:
    """What the single request read before it was written by hand: the reference."""
    found = selectors._service_requests().filter(reference=reference)
    if token:
        found = found.filter(open311_submission__isnull=False)
    return found.first()


@pytest.fixture
def references(filed, submit, citizen, other_citizen, staff_a, dispatcher) -> list[str]:
    photographed = filed(citizen)
    moderation.photo_set_hidden(
        photo=photographed.photos.get(), actor=dispatcher, hidden=True, reason="personal_data"
    )
    triage = filed(citizen, category="other", description="Chuyện khác")
    done = filed(other_citizen)
    lifecycle.report_accept(report=done, actor=staff_a)
    lifecycle.report_comment(report=done, actor=other_citizen, message="Cảm ơn")  # no note
    lifecycle.report_post_update(report=done, actor=staff_a, message="Đang xử lý")
    resolve(done, staff_a, "Đã sửa xong")
    private = filed(citizen, is_public=False)
    with_media = submit(media_url="https://example.org/a.jpg").json()[0]["service_request_id"]
    without = submit().json()[0]["service_request_id"]
    return [
        photographed.reference,
        triage.reference,
        done.reference,
        private.reference,
        with_media,
        without,
        "HUE-2026-999999",
    ]


@pytest.mark.parametrize("token", [False, True])
def test_the_same_request_as_the_lists_queryset(references: list[str], token: bool) -> None:
    found = 0
    for reference in references:
        read = selectors.service_request_for_token if token else selectors.service_request_get
        fast, slow = read(reference), orm_single(reference, token=token)
        assert (fast is None) == (slow is None), reference
        if fast is None or slow is None:
            continue
        found += 1
        for name in (*FIELDS, *ANNOTATIONS):
            assert getattr(fast, name) == getattr(slow, name), (reference, name)
        assert (fast.category.code, fast.category.name_vi, fast.category.name_en) == (
            slow.category.code,
            slow.category.name_vi,
            slow.category.name_en,
        )
        fast_agency, slow_agency = fast.agency, slow.agency
        assert (fast_agency and (fast_agency.name, fast_agency.name_en)) == (
            slow_agency and (slow_agency.name, slow_agency.name_en)
        )
    # By id: the five public ones; by token: the two filed through Open311.
    assert found == (2 if token else 5)


@pytest.mark.parametrize("language", ["vi", "en"])
def test_the_same_answer(references: list[str], language: str) -> None:
    request = Request(APIRequestFactory().get("/open311/v2/requests/x.json", secure=True))
    serializer = ServiceRequestOutput(context={"request": request})
    answers: list[dict[str, Any]] = []
    with translation.override(language):
        for reference in references:
            fast, slow = selectors.service_request_get(reference), orm_single(reference)
            if fast is None or slow is None:
                continue
            answers.append(serializer.to_representation(fast))
            assert answers[-1] == serializer.to_representation(slow)
    assert any(answer["media_url"] for answer in answers)
    assert any(answer["status_notes"] for answer in answers)
    assert any(answer["agency_responsible"] is None for answer in answers)


def test_one_statement(references: list[str]) -> None:
    with CaptureQueriesContext(connection) as queries:
        assert selectors.service_request_get(references[2]) is not None
    assert len(queries) == 1
