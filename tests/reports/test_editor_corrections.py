"""Staff correct what the citizen sent: category, place, address, priority; a correction that
makes another agency responsible routes the report again, and the deadline follows."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.cache import cache
from rest_framework.test import APIClient

from hues.errors import InvalidInput, NotPermitted
from notifications.models import Notification
from reports import deadlines, editing
from reports.audience import notify_event
from reports.lifecycle import TransitionNotAllowed
from reports.models import Agency, Event, Priority, ReportStatus
from reports.services import OutsideServiceArea
from tests.conftest import PHU_XUAN_POINT, SAIGON_POINT, VY_DA_POINT
from tests.factories import UserFactory
from tests.reports.helpers import admin_client

pytestmark = pytest.mark.django_db
S = ReportStatus
K = Event.Kind
HUE = ZoneInfo("Asia/Ho_Chi_Minh")
# A Tuesday at 09:00: deadlines count working hours from here.
TUESDAY = datetime(2026, 3, 10, 9, 0, tzinfo=HUE)


def _reload(report):
    report.refresh_from_db()
    return report


def test_a_hepco_report_recategorised_to_urban_order_goes_to_the_ward_committee(
    routed_report, staff_a, phu_xuan_committee
):
    editing.report_correct(
        report=routed_report,
        actor=staff_a,
        reason="Đây là lấn chiếm vỉa hè",
        category_code="urban_order",
    )

    report = _reload(routed_report)
    assert report.category.code == "urban_order"
    assert report.agency == phu_xuan_committee
    assert report.status == S.ROUTED
    corrected, rerouted = report.events.order_by("-id")[:2][::-1]
    assert corrected.kind == K.CORRECTED
    assert corrected.actor == staff_a
    assert corrected.data["before"]["category"] == "street_lighting"
    assert corrected.data["after"]["category"] == "urban_order"
    assert rerouted.kind == K.ROUTED
    assert rerouted.data["from_agency"] == "hepco"
    assert rerouted.data["agency"] == phu_xuan_committee.code


def test_both_agencies_are_told_of_the_move(routed_report, staff_a, staff_b, manager):
    editing.report_correct(
        report=routed_report, actor=staff_a, reason="Sai lĩnh vực", category_code="urban_order"
    )
    rerouted = routed_report.events.latest("id")

    notify_event(rerouted.pk)

    told = {n.user_id: n.title for n in Notification.objects.filter(event=rerouted)}
    assert staff_b.pk in told  # the new agency: the report arrives
    assert manager.pk in told  # the old agency: it left
    assert routed_report.reference in told[manager.pk]
    assert told[manager.pk] != told[staff_b.pk]  # "it left" is not "it arrived"
    assert staff_a.pk not in told  # nobody is told of their own action


def test_the_citizen_sees_the_corrected_category_and_place_in_the_app(
    routed_report, staff_a, citizen, api_as
):
    editing.report_correct(
        report=routed_report,
        actor=staff_a,
        reason="Vị trí chính xác hơn",
        location=VY_DA_POINT,
        address="12 Nguyễn Sinh Cung",
    )

    body = api_as(citizen).get(f"/api/v1/reports/{routed_report.reference}").json()
    assert body["area"]["code"] == "19777"  # Vỹ Dạ
    assert (body["lat"], body["lng"]) == VY_DA_POINT
    assert body["address"] == "12 Nguyễn Sinh Cung"
    assert body["timeline"][-1]["kind"] in (K.CORRECTED, K.ROUTED)
    notify_event(routed_report.events.get(kind=K.CORRECTED).pk)
    assert Notification.objects.filter(user=citizen, kind=K.CORRECTED).exists()


def test_a_correction_that_no_rule_covers_goes_to_the_dispatchers(routed_report, staff_a):
    editing.report_correct(
        report=routed_report, actor=staff_a, reason="Không rõ lĩnh vực", category_code="other"
    )

    report = _reload(routed_report)
    assert report.status == S.NEEDS_TRIAGE
    assert report.agency is None
    assert report.events.latest("id").kind == K.NEEDS_TRIAGE


def test_a_triage_report_corrected_to_a_routed_category_is_routed(triage_report, dispatcher, hepco):
    editing.report_correct(
        report=triage_report, actor=dispatcher, reason="Đèn hỏng", category_code="street_lighting"
    )

    report = _reload(triage_report)
    assert report.status == S.ROUTED
    assert report.agency == hepco
    assert report.due_at is not None


def test_a_place_outside_the_city_is_refused_and_nothing_changes(routed_report, staff_a):
    with pytest.raises(OutsideServiceArea):
        editing.report_correct(
            report=routed_report, actor=staff_a, reason="x", location=SAIGON_POINT
        )
    assert _reload(routed_report).lat == PHU_XUAN_POINT[0]
    assert not routed_report.events.filter(kind=K.CORRECTED).exists()


def test_a_correction_needs_a_reason_and_a_change(routed_report, staff_a):
    with pytest.raises(InvalidInput) as missing:
        editing.report_correct(report=routed_report, actor=staff_a, reason=" ", priority="urgent")
    assert missing.value.code == "reason_required"
    with pytest.raises(InvalidInput) as unchanged:
        editing.report_correct(
            report=routed_report, actor=staff_a, reason="x", category_code="street_lighting"
        )
    assert unchanged.value.code == "nothing_changed"


def test_another_agencys_staff_cannot_correct(routed_report, staff_b):
    with pytest.raises(NotPermitted):
        editing.report_correct(
            report=routed_report, actor=staff_b, reason="x", category_code="urban_order"
        )
    assert _reload(routed_report).category.code == "street_lighting"


def test_a_closed_report_cannot_be_corrected(routed_report, staff_a, dispatcher):
    from reports import lifecycle

    lifecycle.report_reject(
        report=routed_report, actor=staff_a, reason="invalid", message="Không hợp lệ"
    )
    with pytest.raises(TransitionNotAllowed):
        editing.report_correct(
            report=routed_report, actor=dispatcher, reason="x", priority="urgent"
        )


def test_an_urgent_report_made_normal_gets_the_longer_deadline_less_the_time_spent(
    make_report, citizen, staff_a
):
    with time_machine.travel(TUESDAY, tick=False):
        report = make_report(citizen, priority=Priority.URGENT)
        urgent_due = _reload(report).due_at
    category = report.category
    # Four working hours later (09:00 -> 13:30... 11:30 and 14:00: 2.5 + 0.5 h = 3 h).
    with time_machine.travel(TUESDAY + timedelta(hours=5), tick=False):
        editing.report_correct(
            report=report, actor=staff_a, reason="Không khẩn cấp", priority=Priority.NORMAL
        )
        now = TUESDAY + timedelta(hours=5)
        spent = deadlines.working_time_between(TUESDAY, now)
    report = _reload(report)
    expected = deadlines.add_working_time(now, timedelta(hours=category.deadline_hours) - spent)
    assert report.due_at == expected
    assert report.due_at > urgent_due
    assert report.priority == Priority.NORMAL


def test_a_shorter_deadline_never_falls_in_the_past(make_report, citizen, staff_a):
    with time_machine.travel(TUESDAY, tick=False):
        report = make_report(citizen)  # 75 working hours
    # Nine working days later: the urgent deadline (23 h) is long spent.
    later = TUESDAY + timedelta(days=9)
    with time_machine.travel(later, tick=False):
        editing.report_correct(
            report=report, actor=staff_a, reason="Nguy hiểm", priority=Priority.URGENT
        )
    report = _reload(report)
    assert report.due_at == deadlines.add_working_time(
        later, timedelta(hours=editing.CORRECTION_MIN_HOURS)
    )


def test_the_correction_api_shape_is_unchanged_for_others(routed_report, staff_a):
    editing.report_correct(
        report=routed_report, actor=staff_a, reason="Vị trí", location=VY_DA_POINT
    )
    body = APIClient().get(f"/api/v1/reports/{routed_report.reference}").json()
    assert body["area"]["code"] == "19777"


def test_statistics_count_the_report_under_its_corrected_category(routed_report, staff_a, settings):
    settings.STATS_MIN_COUNT = 1  # one report (small counts are withheld by default)
    editing.report_correct(report=routed_report, actor=staff_a, reason="x", category_code="garbage")
    cache.clear()  # the statistics are cached per period
    body = APIClient().get("/api/v1/stats").json()
    codes = {row["code"]: row["received"] for row in body["categories"]}
    assert codes.get("garbage") == 1
    assert "street_lighting" not in codes


def test_open311_shows_the_corrected_service(routed_report, staff_a):
    editing.report_correct(report=routed_report, actor=staff_a, reason="x", category_code="garbage")
    body = APIClient().get(f"/open311/v2/requests/{routed_report.reference}.json").json()
    assert body[0]["service_code"] == "garbage"


def test_an_agency_staff_member_corrects_only_open_reports_of_their_agency(routed_report, hepco):
    stranger = UserFactory(role="staff", agency=Agency.objects.get(code="police"))
    with pytest.raises(NotPermitted):
        editing.report_correct(report=routed_report, actor=stranger, reason="x", priority="urgent")


def test_after_a_correction_that_moves_the_report_away_staff_go_back_to_their_list(
    routed_report, staff_a
):
    client = admin_client(staff_a)
    response = client.post(
        f"/admin/reports/report/{routed_report.pk}/act/correct/",
        {
            "category": "urban_order",
            "lat": routed_report.lat,
            "lng": routed_report.lng,
            "address": "",
            "priority": "normal",
            "reason": "Lấn chiếm vỉa hè",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == "/admin/reports/report/"
    assert _reload(routed_report).agency.code == "ward-19753"
