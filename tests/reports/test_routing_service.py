"""lifecycle.report_route: the demo rules send each report to its agency, or to triage."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings

from reports import lifecycle, services, tasks
from reports.models import Agency, Area, Category, Event, ReportStatus, RoutingRule
from reports.selectors import routing_data_changed
from tests.conftest import PHU_XUAN, PHU_XUAN_POINT, VY_DA_POINT

VY_DA = "19777"
HUE = ZoneInfo("Asia/Ho_Chi_Minh")
NOON = datetime(2026, 3, 10, 12, 0, tzinfo=HUE)


def _routed(report):
    """The report after the routing task ran, as stored."""
    lifecycle.report_route(report_id=report.pk)
    report.refresh_from_db()
    return report


@pytest.fixture
def unrouted(make_report, citizen):
    """File a report as `citizen` and leave it submitted, as if the task had not run yet."""

    def make(**fields):
        return make_report(citizen, route=False, **fields)

    return make


def test_a_filed_report_waits_in_submitted_until_routed(unrouted):
    report = unrouted()

    assert report.status == ReportStatus.SUBMITTED
    assert report.agency is None


def test_street_lighting_goes_to_hepco(unrouted):
    report = _routed(unrouted(category="street_lighting"))

    assert report.status == ReportStatus.ROUTED
    assert report.agency.code == "hepco"


def test_urban_order_goes_to_the_ward_committee_of_the_reports_area(unrouted):
    report = _routed(unrouted(category="urban_order", point=VY_DA_POINT))

    assert report.area.code == VY_DA
    assert report.agency.code == f"ward-{VY_DA}"


def test_urban_order_in_phu_xuan_goes_to_the_phu_xuan_committee(unrouted):
    report = _routed(unrouted(category="urban_order", point=PHU_XUAN_POINT))

    assert report.agency.code == f"ward-{PHU_XUAN}"


def test_trees_in_phu_xuan_go_to_the_monuments_centre_by_the_area_rule(unrouted):
    report = _routed(unrouted(category="trees_parks", point=PHU_XUAN_POINT))

    assert report.agency.code == "monuments"


def test_trees_in_vy_da_go_to_the_parks_and_trees_centre(unrouted):
    report = _routed(unrouted(category="trees_parks", point=VY_DA_POINT))

    assert report.agency.code == "parks_trees"


def test_a_report_no_rule_matches_goes_to_triage_without_an_agency(unrouted):
    report = _routed(unrouted(category="other"))

    assert report.status == ReportStatus.NEEDS_TRIAGE
    assert report.agency is None
    assert report.due_at is None


def test_routing_records_a_routed_event_with_the_agency_and_the_reason(unrouted):
    report = _routed(unrouted(category="trees_parks", point=PHU_XUAN_POINT))

    event = report.events.get(kind=Event.Kind.ROUTED)
    assert event.actor is None
    assert (event.from_status, event.to_status) == (ReportStatus.SUBMITTED, ReportStatus.ROUTED)
    assert event.data == {"agency": "monuments", "reason": "rule:area"}
    assert event.is_public is True


def test_routing_by_the_category_rule_records_that_reason(unrouted):
    report = _routed(unrouted(category="urban_order"))

    assert report.events.get(kind=Event.Kind.ROUTED).data["reason"] == "rule:category"


def test_routing_to_triage_records_a_private_needs_triage_event_with_the_reason(unrouted):
    report = _routed(unrouted(category="other"))

    event = report.events.get(kind=Event.Kind.NEEDS_TRIAGE)
    assert (event.from_status, event.to_status) == (
        ReportStatus.SUBMITTED,
        ReportStatus.NEEDS_TRIAGE,
    )
    assert event.data == {"reason": "no_rule"}
    assert event.is_public is False


def test_routing_sets_routed_at_and_the_deadline_from_the_categorys_hours(unrouted):
    with time_machine.travel(NOON, tick=False):
        report = _routed(unrouted(category="street_lighting"))

    assert report.routed_at == NOON
    # 75 working hours from Tuesday noon (counted from the 13:30 opening): 10 working days.
    assert report.due_at == datetime(2026, 3, 24, 11, 30, tzinfo=HUE)


def test_a_category_with_a_short_deadline_gets_its_own_hours(unrouted):
    with time_machine.travel(NOON, tick=False):
        report = _routed(unrouted(category="drainage"))

    assert report.due_at == datetime(2026, 3, 13, 14, 0, tzinfo=HUE)  # 23 working hours


def test_an_urgent_report_gets_the_shorter_urgent_deadline(unrouted):
    with time_machine.travel(NOON, tick=False):
        report = _routed(unrouted(category="street_lighting", priority="urgent"))

    assert report.due_at == datetime(2026, 3, 13, 14, 0, tzinfo=HUE)  # 23 working hours


def test_an_urgent_report_never_gets_longer_than_the_normal_deadline(unrouted):
    Category.objects.filter(code="street_lighting").update(
        deadline_hours=24, urgent_deadline_hours=72
    )
    with time_machine.travel(NOON, tick=False):
        report = _routed(unrouted(category="street_lighting", priority="urgent"))

    assert report.due_at == datetime(2026, 3, 13, 15, 0, tzinfo=HUE)  # 24 working hours


def test_routing_counts_the_attempt(unrouted):
    report = unrouted()

    services.report_route_attempt(report_id=report.pk)

    report.refresh_from_db()
    assert (report.status, report.routing_attempts) == ("routed", 1)


def test_routing_a_report_twice_changes_nothing_the_second_time(unrouted):
    with time_machine.travel(NOON, tick=False):
        report = _routed(unrouted())
    before = (report.events.count(), report.updated_at, report.due_at, report.routing_attempts)

    with time_machine.travel(NOON + timedelta(hours=1), tick=False):
        again = _routed(report)

    after = (again.events.count(), again.updated_at, again.due_at, again.routing_attempts)
    assert after == before
    assert again.status == ReportStatus.ROUTED


def test_routing_a_triaged_report_again_leaves_it_in_triage(unrouted):
    report = _routed(unrouted(category="other"))
    events = report.events.count()

    again = _routed(report)

    assert again.status == ReportStatus.NEEDS_TRIAGE
    assert again.events.count() == events


def test_routing_a_report_that_does_not_exist_returns_none(reference_data):
    assert lifecycle.report_route(report_id=987654) is None


def test_the_routing_task_ignores_a_report_that_does_not_exist(reference_data):
    assert tasks.route_report.delay(987654).successful()


def test_a_rule_added_later_is_used_for_the_next_report(unrouted):
    RoutingRule.objects.create(
        category=Category.objects.get(code="garbage"),
        area=Area.objects.get(code=VY_DA),
        agency=Agency.objects.get(code="police"),
    )
    routing_data_changed()

    report = _routed(unrouted(category="garbage", point=VY_DA_POINT))

    assert report.agency.code == "police"
    assert report.events.get(kind=Event.Kind.ROUTED).data["reason"] == "rule:area"


def test_a_rule_for_a_once_unrouted_category_takes_it_out_of_triage(unrouted):
    RoutingRule.objects.create(category=Category.objects.get(code="other"), to_ward_committee=True)
    routing_data_changed()

    report = _routed(unrouted(category="other", point=VY_DA_POINT))

    assert report.status == ReportStatus.ROUTED
    assert report.agency.code == f"ward-{VY_DA}"


def test_an_inactive_agency_is_not_routed_to_and_the_report_goes_to_triage(unrouted):
    Agency.objects.filter(code="hepco").update(is_active=False)
    routing_data_changed()

    report = _routed(unrouted(category="street_lighting"))

    assert report.status == ReportStatus.NEEDS_TRIAGE
    assert report.agency is None


def test_an_area_rule_to_an_inactive_agency_falls_back_to_the_category_default(unrouted):
    Agency.objects.filter(code="monuments").update(is_active=False)
    routing_data_changed()

    report = _routed(unrouted(category="trees_parks", point=PHU_XUAN_POINT))

    assert report.agency.code == "parks_trees"


def test_an_inactive_ward_committee_sends_urban_order_to_triage(unrouted):
    Agency.objects.filter(code=f"ward-{VY_DA}").update(is_active=False)
    routing_data_changed()

    report = _routed(unrouted(category="urban_order", point=VY_DA_POINT))

    assert report.status == ReportStatus.NEEDS_TRIAGE
    assert report.events.get(kind=Event.Kind.NEEDS_TRIAGE).data["reason"] == "no_ward_committee"


def test_the_sweeper_leaves_a_report_submitted_less_than_the_sweep_delay(unrouted):
    with time_machine.travel(NOON, tick=False):
        report = unrouted()
    with time_machine.travel(NOON + settings.ROUTING_SWEEP_AFTER - timedelta(seconds=1)):
        swept = tasks.sweep_unrouted()

    report.refresh_from_db()
    assert swept == 0
    assert report.status == ReportStatus.SUBMITTED


def test_the_sweeper_routes_a_report_left_submitted_longer_than_the_sweep_delay(unrouted):
    with time_machine.travel(NOON, tick=False):
        report = unrouted()
    with time_machine.travel(NOON + settings.ROUTING_SWEEP_AFTER + timedelta(seconds=1)):
        swept = tasks.sweep_unrouted()

    report.refresh_from_db()
    assert swept == 1
    assert report.status == ReportStatus.ROUTED
    assert report.agency.code == "hepco"


def test_the_sweeper_re_drives_only_the_stale_reports(unrouted):
    with time_machine.travel(NOON, tick=False):
        stale = unrouted()
    late = NOON + settings.ROUTING_SWEEP_AFTER + timedelta(minutes=1)
    with time_machine.travel(late, tick=False):
        fresh = unrouted()
        swept = tasks.sweep_unrouted()

    stale.refresh_from_db()
    fresh.refresh_from_db()
    assert swept == 1
    assert stale.status == ReportStatus.ROUTED
    assert fresh.status == ReportStatus.SUBMITTED


def test_the_sweeper_leaves_routed_and_triaged_reports_alone(unrouted):
    with time_machine.travel(NOON, tick=False):
        routed = _routed(unrouted())
        triaged = _routed(unrouted(category="other"))
    events = routed.events.count() + triaged.events.count()
    with time_machine.travel(NOON + timedelta(days=1)):
        swept = tasks.sweep_unrouted()

    assert swept == 0
    assert routed.events.count() + triaged.events.count() == events
