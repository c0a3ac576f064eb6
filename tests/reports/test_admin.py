"""The agency workspace in Django admin: scope, actions through the lifecycle, reference data."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from reports.models import Category, Event, Photo, Report, ReportStatus, RoutingRule
from tests.images import image_bytes
from tests.reports.helpers import CHANGELIST, act_url, admin_client, change_url, listed

pytestmark = pytest.mark.django_db


@pytest.fixture
def hepco_report(citizen, file_report) -> Report:
    response = file_report(
        citizen, category="street_lighting", description="Đèn đường hỏng ở Lê Lợi"
    )
    return Report.objects.get(reference=response.json()["reference"])


@pytest.fixture
def ward_report(other_citizen, file_report) -> Report:
    response = file_report(
        other_citizen,
        category="urban_order",
        description="Quán lấn chiếm vỉa hè đường Trần Hưng Đạo",
    )
    return Report.objects.get(reference=response.json()["reference"])


@pytest.fixture
def triage_report(citizen, file_report) -> Report:
    response = file_report(citizen, category="other", description="Việc khác")
    return Report.objects.get(reference=response.json()["reference"])


def test_staff_see_only_their_own_agencys_reports_in_the_list(staff_a, hepco_report, ward_report):
    references = listed(admin_client(staff_a).get(CHANGELIST))

    assert references == {hepco_report.reference}


def test_staff_cannot_open_another_agencys_report(staff_b, hepco_report):
    client = admin_client(staff_b)

    assert client.get(change_url(hepco_report)).status_code == 404
    assert client.get(act_url(hepco_report, "accept")).status_code == 404
    assert client.post(act_url(hepco_report, "accept")).status_code == 404
    hepco_report.refresh_from_db()
    assert hepco_report.status == ReportStatus.ROUTED


def test_search_and_filters_never_reach_another_agencys_reports(staff_a, hepco_report, ward_report):
    client = admin_client(staff_a)

    by_text = client.get(CHANGELIST, {"q": "Trần Hưng Đạo"})
    by_agency = client.get(CHANGELIST, {"agency__id__exact": ward_report.agency_id})
    by_reference = client.get(CHANGELIST, {"q": ward_report.reference})

    assert by_text.status_code == 200
    assert listed(by_text) == set()
    assert ward_report.reference not in listed(by_agency)
    assert listed(by_reference) == set()
    # The agency filter offers only agencies the user can see reports of.
    assert ward_report.agency.name not in client.get(CHANGELIST).content.decode()


def test_dispatchers_see_every_report(dispatcher, hepco_report, ward_report, triage_report):
    references = listed(admin_client(dispatcher).get(CHANGELIST))

    assert references == {r.reference for r in (hepco_report, ward_report, triage_report)}


def test_staff_accept_a_report_and_the_timeline_records_it(staff_a, hepco_report):
    client = admin_client(staff_a)
    assert "report-action-accept" in client.get(change_url(hepco_report)).content.decode()

    response = client.post(act_url(hepco_report, "accept"))

    assert response.status_code == 302
    hepco_report.refresh_from_db()
    assert hepco_report.status == ReportStatus.IN_PROGRESS
    event = hepco_report.events.get(kind=Event.Kind.ACCEPTED)
    assert event.actor == staff_a
    assert (event.from_status, event.to_status) == (ReportStatus.ROUTED, ReportStatus.IN_PROGRESS)


def test_staff_post_a_public_update_that_the_citizen_sees(staff_a, hepco_report, api):
    admin_client(staff_a).post(
        act_url(hepco_report, "public_update"), {"message": "Đội sửa chữa sẽ đến chiều nay."}
    )

    timeline = api.get(f"/api/v1/reports/{hepco_report.reference}").json()["timeline"]
    assert any(item["message"] == "Đội sửa chữa sẽ đến chiều nay." for item in timeline)
    hepco_report.refresh_from_db()
    assert hepco_report.status == ReportStatus.ROUTED


def test_staff_resolve_with_a_note_and_a_result_photo(
    staff_a, hepco_report, api, django_capture_on_commit_callbacks
):
    upload = SimpleUploadedFile("after.jpg", image_bytes("JPEG", gps=True))

    # After the commit, the result photo goes through the privacy step before it is public.
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client(staff_a).post(
            act_url(hepco_report, "resolve"),
            {"note": "Đã thay bóng đèn mới.", "photos": [upload]},
        )

    assert response.status_code == 302
    hepco_report.refresh_from_db()
    assert hepco_report.status == ReportStatus.RESOLVED
    assert hepco_report.photos.filter(kind=Photo.Kind.RESULT).count() == 1
    body = api.get(f"/api/v1/reports/{hepco_report.reference}").json()
    assert [p["kind"] for p in body["photos"]] == ["evidence", "result"]
    assert body["timeline"][-1]["message"] == "Đã thay bóng đèn mới."


def test_resolving_without_a_note_is_refused_and_changes_nothing(staff_a, hepco_report):
    response = admin_client(staff_a).post(act_url(hepco_report, "resolve"), {"note": ""})

    assert response.status_code == 200
    assert "errorlist" in response.content.decode()
    hepco_report.refresh_from_db()
    assert hepco_report.status == ReportStatus.ROUTED


def test_a_bad_result_photo_is_refused_and_changes_nothing(staff_a, hepco_report):
    fake = SimpleUploadedFile("after.jpg", b"this is not an image")

    response = admin_client(staff_a).post(
        act_url(hepco_report, "resolve"), {"note": "Xong", "photos": [fake]}
    )

    assert response.status_code == 200
    hepco_report.refresh_from_db()
    assert hepco_report.status == ReportStatus.ROUTED
    assert not hepco_report.photos.filter(kind=Photo.Kind.RESULT).exists()


def test_staff_reject_a_duplicate_naming_the_original(staff_a, citizen, file_report, hepco_report):
    duplicate = Report.objects.get(
        reference=file_report(citizen, description="Lại đèn hỏng").json()["reference"]
    )

    admin_client(staff_a).post(
        act_url(duplicate, "reject"),
        {
            "reason": "duplicate",
            "message": "Đã có phản ánh trước.",
            "duplicate_of": hepco_report.reference,
        },
    )

    duplicate.refresh_from_db()
    assert duplicate.status == ReportStatus.REJECTED
    assert duplicate.duplicate_of == hepco_report


def test_a_dispatcher_routes_a_report_from_triage(dispatcher, triage_report, hepco):
    assert triage_report.status == ReportStatus.NEEDS_TRIAGE

    admin_client(dispatcher).post(
        act_url(triage_report, "dispatch"), {"agency": hepco.pk, "message": "Thuộc HEPCO"}
    )

    triage_report.refresh_from_db()
    assert triage_report.status == ReportStatus.ROUTED
    assert triage_report.agency == hepco
    assert triage_report.due_at is not None


def test_staff_cannot_dispatch(staff_a, hepco_report, hepco):
    response = admin_client(staff_a).post(act_url(hepco_report, "dispatch"), {"agency": hepco.pk})

    assert response.status_code == 404


def test_nobody_edits_a_report_as_a_form(administrator, hepco_report):
    client = admin_client(administrator)

    client.post(change_url(hepco_report), {"status": "closed", "description": "x"})

    hepco_report.refresh_from_db()
    assert hepco_report.status == ReportStatus.ROUTED
    assert hepco_report.description == "Đèn đường hỏng ở Lê Lợi"


def test_accept_selected_accepts_only_what_the_user_may(staff_a, hepco_report, ward_report):
    admin_client(staff_a).post(
        CHANGELIST,
        {
            "action": "accept_selected",
            "_selected_action": [hepco_report.pk, ward_report.pk],
        },
    )

    hepco_report.refresh_from_db()
    ward_report.refresh_from_db()
    assert hepco_report.status == ReportStatus.IN_PROGRESS
    assert ward_report.status == ReportStatus.ROUTED


def test_citizens_cannot_enter_the_admin(citizen):
    response = admin_client(citizen).get(CHANGELIST)

    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_administrators_manage_reference_data_and_staff_only_read_it(administrator, staff_a):
    form = {
        "code": "potholes",
        "name_vi": "Ổ gà",
        "name_en": "Potholes",
        "deadline_hours": 48,
        "urgent_deadline_hours": 24,
        "sort_order": 20,
        "is_active": "on",
    }

    refused = admin_client(staff_a).post("/admin/reports/category/add/", form)
    created = admin_client(administrator).post("/admin/reports/category/add/", form)

    assert refused.status_code == 403
    assert created.status_code == 302
    assert Category.objects.filter(code="potholes").exists()


def test_a_rule_saved_in_the_admin_routes_the_next_report(
    administrator, citizen, file_report, hepco
):
    category = Category.objects.get(code="other")
    admin_client(administrator).post(
        "/admin/reports/routingrule/add/",
        {
            "category": category.pk,
            "agency": hepco.pk,
        },
    )
    assert RoutingRule.objects.filter(category=category, agency=hepco).exists()

    response = file_report(citizen, category="other")

    assert response.json()["reference"]
    report = Report.objects.get(reference=response.json()["reference"])
    assert report.agency == hepco


@pytest.mark.parametrize("count", [3, 12])
def test_the_report_list_runs_a_constant_number_of_queries(
    count, dispatcher, citizen, file_report, django_assert_max_num_queries
):
    for _ in range(count):
        file_report(citizen)
    client = admin_client(dispatcher)
    client.get(CHANGELIST)  # warm the session and content types

    with django_assert_max_num_queries(14):
        response = client.get(CHANGELIST)
    assert len(listed(response)) == count


def test_the_admin_speaks_vietnamese_by_default_and_english_on_request(staff_a):
    client = admin_client(staff_a)

    vietnamese = client.get("/admin/").content.decode()
    client.post("/i18n/setlang/", {"language": "en", "next": "/admin/"})
    english = client.get("/admin/").content.decode()

    assert "Phản ánh của người dân" in vietnamese
    assert "Citizen reports" in english
