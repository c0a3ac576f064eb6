"""One service request (by id, and by token) and the requests of a list are each read in one
hand-written statement (open311.selectors over reports.rows; a list's around the narrow
query of its filters): the same instances, annotations, order and answers as the queryset
Open311 read before (orm_requests), for every kind of request and every filter; on SQLite
and on PostgreSQL (CI)."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.db.models import F, OuterRef, QuerySet, Subquery
from django.test.utils import CaptureQueriesContext
from django.utils import translation
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from open311 import selectors
from open311.serializers import ServiceRequestOutput
from reports import lifecycle, moderation
from reports.models import OPEN_STATUSES, Event, Photo, Redaction, Report
from reports.selectors import reports_visible_to
from tests.open311.conftest import resolve

pytestmark = pytest.mark.django_db

ANNOTATIONS = ("status_notes", "first_photo", "submitted_media_url")
FIELDS = ("reference", "status", "description", "address", "lat", "lng", "created_at")
FIELDS += ("updated_at", "due_at", "category_id", "agency_id")


def orm_requests() -> QuerySet[Report]:
    """What Open311 read before its statements were written by hand: public reports with
    what Open311 shows, in one queryset. The reference the statements are held to."""
    notes = (
        Event.objects.filter(
            report=OuterRef("pk"), is_public=True, kind__in=selectors.STATUS_NOTE_KINDS
        )
        .exclude(message="")
        .order_by("-created_at", "-id")
        .values("message")[:1]
    )
    first_photo = (
        Photo.objects.filter(
            report=OuterRef("pk"),
            kind=Photo.Kind.EVIDENCE,
            hidden_at__isnull=True,
            redaction=Redaction.DONE,
        )
        .exclude(public_image="")
        .order_by("id")
        .values("public_image")[:1]
    )
    return (
        reports_visible_to(None)
        .select_related(None)
        .prefetch_related(None)
        .select_related("category", "agency")
        .only(*selectors.REQUEST_FIELDS)
        .annotate(
            status_notes=Subquery(notes),
            first_photo=Subquery(first_photo),
            submitted_media_url=F("open311_submission__media_url"),
        )
    )


def orm_single(reference: str, *, token: bool = False) -> Report | None:
    """What the single request read before it was written by hand: the reference."""
    found = orm_requests().filter(reference=reference)
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


def same_request(fast: Report, slow: Report) -> None:
    for name in (*FIELDS, *ANNOTATIONS):
        assert getattr(fast, name) == getattr(slow, name), (fast.reference, name)
    assert (fast.category.code, fast.category.name_vi, fast.category.name_en) == (
        slow.category.code,
        slow.category.name_vi,
        slow.category.name_en,
    )
    fast_agency, slow_agency = fast.agency, slow.agency
    assert (fast_agency and (fast_agency.name, fast_agency.name_en)) == (
        slow_agency and (slow_agency.name, slow_agency.name_en)
    )


@pytest.mark.parametrize("token", [False, True])
def test_the_same_request_as_the_orm_queryset(references: list[str], token: bool) -> None:
    found = 0
    for reference in references:
        read = selectors.service_request_for_token if token else selectors.service_request_get
        fast, slow = read(reference), orm_single(reference, token=token)
        assert (fast is None) == (slow is None), reference
        if fast is None or slow is None:
            continue
        found += 1
        same_request(fast, slow)
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


def orm_list(**filters: Any) -> list[Report]:
    """service_requests' filters over the ORM's queryset (what the list read before)."""
    found = orm_requests()
    if filters.get("references") is not None:
        found = found.filter(reference__in=filters["references"])
    else:
        if filters.get("service_codes"):
            found = found.filter(category__code__in=filters["service_codes"])
        if filters.get("start") is not None:
            found = found.filter(created_at__gte=filters["start"])
        if filters.get("end") is not None:
            found = found.filter(created_at__lte=filters["end"])
        if filters.get("statuses") == ["open"]:
            found = found.filter(status__in=OPEN_STATUSES)
        elif filters.get("statuses") == ["closed"]:
            found = found.exclude(status__in=OPEN_STATUSES)
    return list(found.order_by("-id")[: selectors.MAX_REQUESTS])


def list_filters(references: list[str]) -> list[dict[str, Any]]:
    created = sorted(Report.objects.values_list("created_at", flat=True))
    middle = created[len(created) // 2]
    return [
        {},
        {"references": references},
        {"references": []},
        {"service_codes": ["street_lighting"]},
        {"service_codes": ["street_lighting", "other"], "statuses": ["open"]},
        {"statuses": ["closed"]},
        {"start": middle},
        {"end": middle},
        {"start": middle, "end": middle},
        {"service_codes": ["no-such-code"]},
    ]


def test_a_list_has_the_same_requests_in_the_same_order(references: list[str]) -> None:
    seen = 0
    for filters in list_filters(references):
        fast, slow = selectors.service_requests(**filters), orm_list(**filters)
        assert [r.reference for r in fast] == [r.reference for r in slow], filters
        for mine, theirs in zip(fast, slow, strict=True):
            same_request(mine, theirs)
        seen += len(fast)
    assert seen > 10


@pytest.mark.parametrize("language", ["vi", "en"])
def test_a_list_answers_the_same(references: list[str], language: str) -> None:
    request = Request(APIRequestFactory().get("/open311/v2/requests.json", secure=True))
    with translation.override(language):
        fast = ServiceRequestOutput(
            selectors.service_requests(), many=True, context={"request": request}
        ).data
        slow = [
            ServiceRequestOutput(context={"request": request}).to_representation(report)
            for report in orm_list()
        ]
    assert fast == slow
    assert len(fast) == 5


def test_a_list_is_one_statement_and_cut_at_the_maximum(
    references: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with CaptureQueriesContext(connection) as queries:
        assert len(selectors.service_requests(service_codes=["street_lighting"])) > 1
    assert len(queries) == 1
    monkeypatch.setattr(selectors, "MAX_REQUESTS", 2)
    newest = [r.reference for r in selectors.service_requests()]
    assert newest == [r.reference for r in orm_requests().order_by("-id")[:2]]
