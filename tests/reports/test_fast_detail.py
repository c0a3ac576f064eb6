"""A report's detail is read in three hand-written statements (selectors.report_detail over
reports.rows): it gives the same report, photos, timeline and answer as the querysets it
replaces (reports_visible_to with the original and the public timeline prefetched), for every
state a report can be in and every viewer; on SQLite and on PostgreSQL (CI)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.models import Prefetch
from django.test.utils import CaptureQueriesContext
from django.utils import translation
from rest_framework.test import APIClient

from accounts.models import User
from reports import rows, selectors
from reports.api.etags import report_etag
from reports.api.serializers import ReportDetailOutput
from reports.models import Event, Photo, Report
from tests.reports.helpers import field_values, request_as

pytestmark = pytest.mark.django_db


def orm_detail(user: User | None, reference: str) -> Report | None:
    """What report_detail gave before it was written by hand: the reference."""
    public_events = Event.objects.filter(is_public=True).select_related("actor")
    return (
        selectors.reports_visible_to(user)
        .select_related("duplicate_of")
        .prefetch_related(Prefetch("events", queryset=public_events, to_attr="public_events"))
        .filter(reference=reference)
        .first()
    )


@pytest.fixture
def reports(report_states: list[Report]) -> list[Report]:
    return report_states


def test_the_same_report_photos_and_timeline_as_the_querysets(
    reports: list[Report], viewer_user: User | None, viewer: str
) -> None:
    user = viewer_user
    seen = 0
    for report in reports:
        fast = selectors.report_detail(user=user, reference=report.reference)
        slow = orm_detail(user, report.reference)
        assert (fast is None) == (slow is None), report.reference
        if fast is None or slow is None:
            continue
        seen += 1
        assert field_values(fast, {"search_text"}) == field_values(slow, {"search_text"})
        for name in ("category", "area", "agency"):
            assert field_values(getattr(fast, name), {"boundary"}) == field_values(
                getattr(slow, name), {"boundary"}
            )
        assert fast.reporter.full_name == slow.reporter.full_name
        assert fast.reporter.pk == slow.reporter.pk
        fast_original, slow_original = fast.duplicate_of, slow.duplicate_of
        assert (fast_original and fast_original.reference) == (
            slow_original and slow_original.reference
        )
        assert [field_values(p) for p in fast.photos.all()] == [
            field_values(p) for p in slow.photos.all()
        ]
        assert all(photo.report is fast for photo in fast.photos.all())
        assert [field_values(e) for e in fast.public_events] == [  # type: ignore[attr-defined]
            field_values(e)
            for e in slow.public_events  # type: ignore[attr-defined]
        ]
    # The anonymous see the five public ones; the reporter also their private one and
    # their merged duplicate; the other citizen also the one a moderator hid from others.
    assert seen == {"anonymous": 5, "reporter": 7, "other": 6}[viewer]


@pytest.mark.parametrize("language", ["vi", "en"])
def test_the_same_answer_and_etag(
    reports: list[Report], viewer_user: User | None, language: str
) -> None:
    user = viewer_user
    request = request_as(user)
    with translation.override(language):
        for report in reports:
            fast = selectors.report_detail(user=user, reference=report.reference)
            slow = orm_detail(user, report.reference)
            if fast is None or slow is None:
                assert fast is slow
                continue
            serializer = ReportDetailOutput(context={"request": request})
            assert serializer.to_representation(fast) == serializer.to_representation(slow)
            assert report_etag(request, fast) == report_etag(request, slow)


def test_three_statements_and_no_query_from_the_serializer(
    reports: list[Report], citizen: User
) -> None:
    request = request_as(citizen)
    with CaptureQueriesContext(connection) as queries:
        report = selectors.report_detail(user=citizen, reference=reports[4].reference)
        assert report is not None
        body = ReportDetailOutput(context={"request": request}).to_representation(report)
        report_etag(request, report)
    assert len(queries) == 3
    assert body["photos"]
    assert body["timeline"]


def test_a_private_report_is_nobody_elses(
    reports: list[Report], other_citizen: User, citizen: User
) -> None:
    private = reports[2]
    assert selectors.report_detail(user=None, reference=private.reference) is None
    assert selectors.report_detail(user=other_citizen, reference=private.reference) is None
    assert selectors.report_detail(user=citizen, reference=private.reference) is not None


def test_the_api_answers_as_before(reports: list[Report], citizen: User) -> None:
    client = APIClient()
    client.force_authenticate(citizen)
    request = request_as(citizen)
    for report in reports:
        slow = orm_detail(citizen, report.reference)
        response = client.get(f"/api/v1/reports/{report.reference}", secure=True)
        if slow is None:
            assert response.status_code == 404
            continue
        assert response.status_code == 200
        expected = ReportDetailOutput(context={"request": request}).to_representation(slow)
        assert response.json()["timeline"] == expected["timeline"]
        assert response.json()["duplicate_of"] == expected["duplicate_of"]
        assert [p["public"] for p in response.json()["photos"]] == [
            p["public"] for p in expected["photos"]
        ]


def test_columns_build_none_for_a_missing_joined_row_and_keep_the_primary_key_first() -> None:
    columns = rows.Columns(Photo, "p", only={"width"})
    assert columns.attnames == ("id", "width")
    assert columns.build((None, None), 0, connection) is None
    with pytest.raises(ValueError, match="No Photo"):
        columns.build_present((None, None), 0, connection)
    photo = columns.build((7, 640), 0, connection)
    assert photo is not None
    assert photo.pk == 7
    assert photo.width == 640
    assert "height" in photo.get_deferred_fields()


def test_a_feed_pages_photos_come_in_one_statement_as_the_prefetch_gave_them(
    reports: list[Report],
) -> None:
    page = list(selectors.report_feed(user=None).filter(pk__in=[r.pk for r in reports]))
    with CaptureQueriesContext(connection) as queries:
        selectors.photos_attach(page)
        shown = {report.pk: list(report.photos.all()) for report in page}
    assert len(queries) == 1
    assert sum(len(photos) for photos in shown.values()) > len(page)  # several per report
    for report in page:
        expected = Photo.objects.filter(report=report).order_by("id")
        assert [field_values(p) for p in shown[report.pk]] == [field_values(p) for p in expected]
        assert all(photo.report is report for photo in shown[report.pk])
