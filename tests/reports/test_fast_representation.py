"""The feed's and detail's hand-built representations equal what DRF's declared fields give
(the OpenAPI schema's shape), for every kind of report and viewer."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import AnonymousUser
from django.utils import translation
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from accounts.models import User
from reports import lifecycle, selectors
from reports.api.serializers import NearbyReportOutput, ReportDetailOutput, ReportOutput
from reports.models import Report
from tests.reports.helpers import resolve_with_photo

pytestmark = pytest.mark.django_db


def request_as(user: User | None) -> Request:
    request = Request(APIRequestFactory().get("/api/v1/reports", secure=True))
    request.user = user or AnonymousUser()
    return request


@pytest.fixture
def reports(make_report: Callable[..., Report], citizen: User, staff_a: User) -> list[Report]:
    public = make_report(citizen, photos=2)
    hidden = make_report(citizen, hide_name=True)
    private = make_report(citizen, is_public=False)
    triage = make_report(citizen, category="other", description="Chuyện khác")
    resolved = make_report(citizen)
    lifecycle.report_accept(report=resolved, actor=staff_a)
    resolve_with_photo(report=resolved, actor=staff_a, note="Đã sửa xong")
    return [public, hidden, private, triage, resolved]


@pytest.mark.parametrize("language", ["vi", "en"])
def test_fast_equals_generic(
    reports: list[Report], citizen: User, viewer_user: User | None, language: str
) -> None:
    user = viewer_user
    request = request_as(user)
    with translation.override(language):
        for report in reports:
            detail = selectors.report_detail(user=citizen, reference=report.reference)
            assert detail is not None
            for serializer_class in (ReportOutput, ReportDetailOutput):
                serializer = serializer_class(context={"request": request})
                fast = serializer.to_representation(detail)
                assert fast == serializer.generic_representation(detail)
                assert list(fast) == list(serializer.fields)  # same keys, same order
        assert reports[3].agency is None  # a report without agency is among them
        near = selectors.reports_near(
            selectors.reports_visible_to(citizen),
            lat=reports[0].lat,
            lng=reports[0].lng,
            radius=500,
        )
        serializer = NearbyReportOutput(context={"request": request})
        for report in near:
            assert serializer.to_representation(report) == serializer.generic_representation(report)
