"""The workflow in the admin: dispatcher queue, bulk routing, transfer, assignment, overdue."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine

from accounts.models import Role
from reports import lifecycle
from reports.lifecycle import TransferReason
from reports.models import ReportStatus
from tests.factories import UserFactory
from tests.reports.helpers import CHANGELIST, act_url, admin_client, change_url, listed

pytestmark = pytest.mark.django_db


def test_the_dispatcher_queue_lists_only_reports_to_be_routed(
    dispatcher, triage_report, routed_report
):
    response = admin_client(dispatcher).get(CHANGELIST, {"queue": "triage"})

    assert listed(response) == {triage_report.reference}


def test_dispatchers_see_how_many_reports_wait_in_their_queue(dispatcher, triage_report):
    page = admin_client(dispatcher).get(CHANGELIST).content.decode()

    assert 'class="triage-queue has-items"' in page
    assert "?queue=triage" in page


def test_staff_have_no_dispatcher_queue(staff_a, routed_report):
    page = admin_client(staff_a).get(CHANGELIST).content.decode()

    assert "triage-queue" not in page
    assert "queue=triage" not in page


def test_a_dispatcher_routes_several_reports_with_one_action(
    dispatcher, make_report, citizen, hepco
):
    reports = [make_report(citizen, category="other") for _ in range(3)]

    response = admin_client(dispatcher).post(
        CHANGELIST,
        {
            "action": "dispatch_selected",
            "_selected_action": [r.pk for r in reports],
            "apply": "1",
            "agency": hepco.pk,
            "message": "Thuộc HEPCO",
        },
    )

    assert response.status_code == 302
    for report in reports:
        report.refresh_from_db()
        assert (report.status, report.agency) == (ReportStatus.ROUTED, hepco)


def test_the_bulk_route_action_first_asks_for_the_agency(dispatcher, triage_report):
    response = admin_client(dispatcher).post(
        CHANGELIST, {"action": "dispatch_selected", "_selected_action": [triage_report.pk]}
    )

    assert response.status_code == 200
    assert 'id="dispatch-selected-form"' in response.content.decode()
    triage_report.refresh_from_db()
    assert triage_report.status == ReportStatus.NEEDS_TRIAGE


def test_staff_cannot_use_the_bulk_route_action(staff_a, routed_report, hepco):
    admin_client(staff_a).post(
        CHANGELIST,
        {
            "action": "dispatch_selected",
            "_selected_action": [routed_report.pk],
            "apply": "1",
            "agency": hepco.pk,
        },
    )

    routed_report.refresh_from_db()
    assert routed_report.events.filter(kind="routed").count() == 1


def test_staff_transfer_in_the_admin_and_the_dispatcher_sees_the_suggestion(
    staff_a, dispatcher, routed_report, phu_xuan_committee
):
    admin_client(staff_a).post(
        act_url(routed_report, "transfer"),
        {
            "reason": TransferReason.WRONG_AGENCY,
            "agency": phu_xuan_committee.pk,
            "message": "Lấn chiếm vỉa hè thuộc phường",
        },
    )
    routed_report.refresh_from_db()
    assert routed_report.status == ReportStatus.NEEDS_TRIAGE

    form = admin_client(dispatcher).get(act_url(routed_report, "dispatch")).content.decode()

    assert f'<option value="{phu_xuan_committee.pk}" selected>' in form


def test_a_manager_assigns_a_colleague_offered_from_their_own_agency_only(
    manager, routed_report, staff_a, staff_b
):
    client = admin_client(manager)
    form = client.get(act_url(routed_report, "assign")).content.decode()
    assert f'value="{staff_a.pk}"' in form
    assert f'value="{staff_b.pk}"' not in form

    client.post(act_url(routed_report, "assign"), {"assignee": staff_a.pk})

    routed_report.refresh_from_db()
    assert routed_report.assignee == staff_a
    mine = admin_client(staff_a).get(CHANGELIST, {"queue": "mine"})
    assert listed(mine) == {routed_report.reference}


def test_staff_are_not_offered_assignment(staff_a, routed_report):
    response = admin_client(staff_a).get(act_url(routed_report, "assign"))

    assert response.status_code == 404


def test_a_question_to_the_citizen_stops_the_clock(staff_a, routed_report):
    admin_client(staff_a).post(
        act_url(routed_report, "public_update"),
        {"message": "Xin cho biết số cột đèn?", "ask_citizen": "on"},
    )

    routed_report.refresh_from_db()
    assert routed_report.waiting_since is not None


def test_overdue_reports_are_marked_and_filtered(staff_a, make_report, citizen):
    late = make_report(citizen)
    on_time = make_report(citizen, description="Đèn mới hỏng")
    late.due_at = on_time.created_at - timedelta(hours=1)
    late.save(update_fields=["due_at"])

    client = admin_client(staff_a)
    overdue = client.get(CHANGELIST, {"overdue": "yes"})
    fine = client.get(CHANGELIST, {"overdue": "no"})

    assert listed(overdue) == {late.reference}
    assert listed(fine) == {on_time.reference}
    assert 'class="overdue"' in overdue.content.decode()


def test_a_report_becomes_overdue_when_its_deadline_passes(staff_a, routed_report):
    client = admin_client(staff_a)
    assert listed(client.get(CHANGELIST, {"overdue": "yes"})) == set()

    with time_machine.travel(routed_report.due_at + timedelta(minutes=5)):
        client = admin_client(staff_a)  # weeks later: a new session
        assert listed(client.get(CHANGELIST, {"overdue": "yes"})) == {routed_report.reference}


def test_the_resolve_form_requires_a_result_photo(staff_a, routed_report):
    response = admin_client(staff_a).post(act_url(routed_report, "resolve"), {"note": "Xong"})

    assert response.status_code == 200
    assert "errorlist" in response.content.decode()
    routed_report.refresh_from_db()
    assert routed_report.status == ReportStatus.ROUTED


def test_a_transferred_report_leaves_the_agencys_list(staff_a, routed_report):
    lifecycle.report_transfer(
        report=routed_report,
        actor=staff_a,
        reason=TransferReason.OUTSIDE_AREA,
        message="Ngoài địa bàn",
    )

    assert listed(admin_client(staff_a).get(CHANGELIST)) == set()


def test_a_manager_sees_the_unassigned_open_reports(manager, routed_report, hepco):
    colleague = UserFactory(role=Role.STAFF, agency=hepco)
    assigned = routed_report
    lifecycle.report_assign(report=assigned, actor=manager, assignee=colleague)

    response = admin_client(manager).get(CHANGELIST, {"queue": "unassigned"})

    assert assigned.reference not in listed(response)


def test_agency_staff_do_not_see_who_reported(staff_a, manager, routed_report, citizen):
    lifecycle.report_comment(report=routed_report, actor=citizen, message="Cột đèn số 12")

    for user in (staff_a, manager):
        page = admin_client(user).get(change_url(routed_report)).content.decode()
        assert citizen.full_name not in page
        assert citizen.phone not in page
        assert "Cột đèn số 12" in page


def test_dispatchers_and_administrators_see_who_reported(
    dispatcher, administrator, routed_report, citizen
):
    for user in (dispatcher, administrator):
        page = admin_client(user).get(change_url(routed_report)).content.decode()
        assert citizen.full_name in page
        assert citizen.phone in page


def test_the_report_page_draws_the_ward_and_the_point(staff_a, routed_report):
    page = admin_client(staff_a).get(change_url(routed_report)).content.decode()

    svg = page[page.index('<svg class="report-map"') :]
    svg = svg[: svg.index("</svg>")]
    assert '<path d="M' in svg
    assert "<circle" in svg


def test_the_list_shows_assignee_and_age(manager, staff_a, routed_report):
    lifecycle.report_assign(report=routed_report, actor=manager, assignee=staff_a)

    page = admin_client(manager).get(CHANGELIST).content.decode()

    assert 'class="field-assignee' in page
    assert staff_a.full_name in page
    assert 'class="field-age' in page


def test_a_manager_sees_the_agencys_workload_at_a_glance(
    manager, make_report, citizen, staff_a, phu_xuan_committee
):
    late, _fresh, assigned = (make_report(citizen) for _ in range(3))
    late.due_at = late.created_at - timedelta(hours=1)
    late.save(update_fields=["due_at"])
    lifecycle.report_assign(report=assigned, actor=manager, assignee=staff_a)
    make_report(citizen, category="urban_order")  # another agency's: not counted

    page = admin_client(manager).get(CHANGELIST).content.decode()
    box = page[page.index('id="workload"') :]
    box = box[: box.index("</dl>")]

    numbers = re.findall(r"<dd>(?:<a [^>]*>)?(\d+)", box)
    assert numbers == ["3", "1", "2", "0"]  # open, overdue, unassigned, waiting
