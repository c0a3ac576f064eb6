"""Context on the staff's report page: likely duplicates nearby (with "merge into this" for
those who may merge), earlier reports at the same place, and, for the operations centre
only, the reporter's history. Only reports the viewer may see are listed, in a bounded
number of queries."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape
from urllib.parse import quote

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from reports import lifecycle
from reports.models import Report, ReportStatus
from reports.selectors import REPORTER_HISTORY_LIMIT, report_context, reports_for_staff
from tests.conftest import PHU_XUAN_POINT
from tests.factories import UserFactory
from tests.reports.helpers import admin_client, change_url, resolve_with_photo

pytestmark = pytest.mark.django_db

# One metre north is about 1/111,195 of a degree of latitude.
METRE = 1 / 111_195


def north(metres: float) -> tuple[float, float]:
    return (PHU_XUAN_POINT[0] + metres * METRE, PHU_XUAN_POINT[1])


def references(reports: list[Report]) -> list[str]:
    return [report.reference for report in reports]


def table(html: str, table_id: str) -> str:
    match = re.search(rf'<table id="{table_id}">.*?</table>', html, re.S)
    return match[0] if match else ""


@pytest.fixture
def reject(dispatcher):
    def done(report: Report) -> Report:
        return lifecycle.report_reject(
            report=report, actor=dispatcher, reason=lifecycle.RejectReason.INVALID, message="Sai"
        )

    return done


@pytest.fixture
def resolved_days_ago(make_report, staff_a):
    def make(citizen, days: int, **fields) -> Report:
        with time_machine.travel(timezone.now() - timedelta(days=days), tick=False):
            report = make_report(citizen, **fields)
            return resolve_with_photo(report=report, actor=staff_a, note="Đã thay bóng")

    return make


def test_nearby_lists_open_and_lately_resolved_reports_of_the_category_within_its_radius(
    make_report, citizen, other_citizen, dispatcher, reject, resolved_days_ago
):
    recent = resolved_days_ago(other_citizen, 10, point=north(50))
    resolved_long_ago = resolved_days_ago(other_citizen, 40, point=north(50))
    open_near = make_report(other_citizen, point=north(100))
    reject(make_report(other_citizen, point=north(20)))
    make_report(other_citizen, point=north(300))  # beyond street lighting's 150 m
    make_report(other_citizen, category="garbage", point=north(20))
    report = make_report(citizen)

    context = report_context(report=report, viewer=dispatcher)

    # Open first, then resolved; nearest first in each; never the report itself.
    assert references(context.nearby) == [open_near.reference, recent.reference]
    assert resolved_long_ago.reference not in references(context.nearby)
    assert [round(other.distance) for other in context.nearby] == [100, 50]


def test_earlier_reports_at_the_same_place_are_listed_whatever_their_category_or_status(
    make_report, citizen, other_citizen, dispatcher, reject, resolved_days_ago
):
    years_ago = resolved_days_ago(other_citizen, 700, point=north(10))
    rejected = reject(make_report(other_citizen, point=north(20)))
    garbage = make_report(other_citizen, category="garbage", point=north(25))
    make_report(other_citizen, point=north(45))  # beyond 30 m
    report = make_report(citizen)
    make_report(other_citizen, point=north(5))  # filed after it

    context = report_context(report=report, viewer=dispatcher)

    assert references(context.same_place) == [
        garbage.reference,
        rejected.reference,
        years_ago.reference,
    ]


def test_agency_staff_see_only_their_agencys_reports_around(
    make_report, citizen, other_citizen, staff_a, dispatcher, phu_xuan_committee
):
    ward_order = make_report(other_citizen, category="urban_order", point=north(10))
    lighting = make_report(other_citizen, point=north(60))
    lifecycle.report_dispatch(
        report=lighting, actor=dispatcher, agency_id=phu_xuan_committee.pk, message="Của phường"
    )
    ours = make_report(other_citizen, point=north(80))
    report = make_report(citizen)

    for_staff = report_context(report=report, viewer=staff_a)
    for_dispatcher = report_context(report=report, viewer=dispatcher)
    html = admin_client(staff_a).get(change_url(report)).content.decode()

    assert references(for_staff.nearby) == [ours.reference]
    assert references(for_staff.same_place) == []
    assert set(references(for_dispatcher.nearby)) == {lighting.reference, ours.reference}
    assert references(for_dispatcher.same_place) == [ward_order.reference]
    assert ours.reference in table(html, "report-context-nearby")
    for hidden in (ward_order, lighting):
        assert hidden.reference not in html


def test_the_operations_centre_sees_the_reporters_history(
    make_report, citizen, other_citizen, dispatcher, administrator
):
    earlier = [
        make_report(citizen, category="garbage", point=north(400 + 50 * n)) for n in range(6)
    ]
    make_report(other_citizen, point=north(500))
    report = make_report(citizen)

    context = report_context(report=report, viewer=dispatcher)
    html = admin_client(administrator).get(change_url(report)).content.decode()

    assert context.reporter is not None
    assert context.reporter.count == 7
    assert references(context.reporter.latest) == references(
        list(reversed(earlier))[:REPORTER_HISTORY_LIMIT]
    )
    assert "Người dân này đã gửi 7 phản ánh." in html
    history = table(html, "report-context-reporter")
    assert [earlier[-1].reference in history, earlier[0].reference in history] == [True, False]


@pytest.mark.parametrize("role", ["staff_a", "manager"])
def test_agency_staff_never_see_the_reporters_history(role, request, make_report, citizen):
    for n in range(3):
        make_report(citizen, category="garbage", point=north(400 + 50 * n))
    report = make_report(citizen)
    viewer = request.getfixturevalue(role)

    context = report_context(report=report, viewer=viewer)
    html = admin_client(viewer).get(change_url(report)).content.decode()

    assert context.reporter is None
    assert 'id="report-context-reporter' not in html
    assert "Người dân này đã gửi" not in html
    assert citizen.full_name not in html
    assert citizen.phone not in html


def merge_links(client, report: Report) -> list[str]:
    html = client.get(change_url(report)).content.decode()
    return [unescape(link) for link in re.findall(r'class="merge-into" href="([^"]+)"', html)]


@pytest.mark.parametrize("role", ["staff_a", "manager", "dispatcher"])
def test_those_who_may_merge_are_offered_merge_into_each_open_report_nearby(
    role, request, make_report, citizen, other_citizen, resolved_days_ago
):
    resolved_days_ago(other_citizen, 3, point=north(40))
    original = make_report(other_citizen, point=north(30))
    report = make_report(citizen)
    viewer = request.getfixturevalue(role)

    links = merge_links(admin_client(viewer), report)

    assert "merge" in lifecycle.allowed_transitions(report, viewer)
    # Only towards the open one: a resolved report takes no duplicates.
    merge = reverse("admin:reports_report_act", args=[report.pk, "merge"])
    assert links == [f"{merge}?original={quote(original.reference)}"]


def test_no_merge_is_offered_to_those_who_may_not_merge(
    make_report, citizen, other_citizen, dispatcher, staff_a
):
    hotline = UserFactory(role=Role.HOTLINE)
    make_report(other_citizen, category="other", point=north(30))
    waiting = make_report(citizen, category="other")
    make_report(other_citizen, point=north(30))
    resolved = resolve_with_photo(report=make_report(citizen), actor=staff_a, note="Xong")

    assert "merge" not in lifecycle.allowed_transitions(waiting, hotline)
    assert "merge" not in lifecycle.allowed_transitions(resolved, dispatcher)
    # Each sees an open report nearby, and no link to merge into it.
    assert report_context(report=waiting, viewer=hotline).nearby
    assert merge_links(admin_client(hotline), waiting) == []
    assert report_context(report=resolved, viewer=dispatcher).nearby
    assert merge_links(admin_client(dispatcher), resolved) == []


def test_the_page_says_when_there_is_nothing_around(citizen, make_report, staff_a):
    report = make_report(citizen)

    html = admin_client(staff_a).get(change_url(report)).content.decode()

    assert "Không có phản ánh Điện chiếu sáng công cộng nào đang xử lý" in html
    assert "Chưa có phản ánh nào trước đây tại vị trí này." in html


def _page_queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_the_context_costs_the_same_queries_however_many_reports_are_around(
    make_report, citizen, other_citizen, dispatcher, django_assert_max_num_queries
):
    report = make_report(citizen, point=north(0))
    client = admin_client(dispatcher)
    client.get(change_url(report))
    few = _page_queries(client, change_url(report))
    for n in range(8):
        make_report(other_citizen, point=north(3 * n + 1))
        make_report(citizen, category="garbage", point=north(400 + 20 * n))

    many = _page_queries(client, change_url(report))
    report = reports_for_staff(dispatcher).get(pk=report.pk)  # as the admin reads it
    with CaptureQueriesContext(connection) as direct:
        report_context(report=report, viewer=dispatcher)

    assert many == few
    assert len(direct) == 4  # nearby, same place, the reporter's count and latest
    # The whole page: the report, its photos, timeline, actions, the editor's context and this.
    with django_assert_max_num_queries(20):
        client.get(change_url(report))


def test_a_staff_members_context_takes_two_queries(make_report, citizen, staff_a):
    report = reports_for_staff(staff_a).get(pk=make_report(citizen).pk)  # as the admin does

    with CaptureQueriesContext(connection) as captured:
        report_context(report=report, viewer=staff_a)

    assert len(captured) == 2


def test_a_citizen_account_gets_nothing_around(make_report, citizen, other_citizen):
    make_report(other_citizen, point=north(10))
    report = make_report(citizen)

    context = report_context(report=report, viewer=UserFactory())

    assert (context.nearby, context.same_place, context.reporter) == ([], [], None)


def test_a_dispatcher_merges_a_report_into_a_nearby_one_from_its_page(
    make_report, citizen, other_citizen, dispatcher
):
    original = make_report(other_citizen, point=north(30))
    report = make_report(citizen)
    client = admin_client(dispatcher)

    page = client.get(change_url(report)).content.decode()
    (link,) = re.findall(r'class="merge-into" href="([^"]+)"', page)
    form = client.get(unescape(link)).content.decode()
    merged = client.post(unescape(link), {"original": original.reference, "message": ""})

    assert re.search(rf'name="original" value="{original.reference}"', form)
    assert merged.status_code == 302, merged.content.decode()[:2000]
    report.refresh_from_db()
    assert report.status == ReportStatus.MERGED
    assert report.duplicate_of_id == original.pk
