"""GET requests and requests/{id}: public reports only, our statuses as open and closed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import User
from reports import lifecycle
from reports.lifecycle import RejectReason
from reports.media import photo_url
from reports.models import Report, ReportStatus
from tests.open311.conftest import get, resolve, xml

REQUEST_FIELDS = {
    "service_request_id",
    "status",
    "status_notes",
    "service_name",
    "service_code",
    "description",
    "agency_responsible",
    "service_notice",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "address",
    "address_id",
    "zipcode",
    "lat",
    "long",
    "media_url",
}


def ids(response: Any) -> list[str]:
    assert response.status_code == 200, response.content
    return [request["service_request_id"] for request in response.json()]


@pytest.fixture
def report(filed: Callable[..., Report], citizen: User) -> Report:
    return filed(citizen, address="5 Lê Lợi")


def test_a_public_report_is_listed_with_every_georeport_field(
    client: Client, report: Report
) -> None:
    [request] = get(client, "requests.json").json()

    assert set(request) == REQUEST_FIELDS
    assert request["service_request_id"] == report.reference
    assert request["service_code"] == "street_lighting"
    assert request["service_name"] == "Điện chiếu sáng công cộng"
    assert request["description"] == report.description
    assert request["address"] == "5 Lê Lợi"
    assert request["lat"] == report.lat
    assert request["long"] == report.lng
    assert request["zipcode"] is None


def test_a_routed_report_names_the_agency_responsible_and_when_it_is_expected(
    client: Client, report: Report
) -> None:
    [request] = get(client, "requests.json", headers={"Accept-Language": "en"}).json()

    assert request["status"] == "open"
    assert request["agency_responsible"] == "Hue Environment and Urban Works (HEPCO)"
    assert report.due_at is not None
    assert request["expected_datetime"] == timezone.localtime(report.due_at).isoformat(
        timespec="seconds"
    )


def test_datetimes_are_w3c_in_hue_time(client: Client, report: Report) -> None:
    [request] = get(client, "requests.json").json()

    assert request["requested_datetime"].endswith("+07:00")
    assert request["requested_datetime"] == timezone.localtime(report.created_at).isoformat(
        timespec="seconds"
    )


def test_media_url_is_the_first_photos_public_rendition(client: Client, report: Report) -> None:
    [request] = get(client, "requests.json").json()

    photo = report.photos.order_by("id").first()
    assert photo is not None
    url = photo_url(photo.public_image.name, expiring=False)
    assert request["media_url"] == f"http://testserver{url}"
    assert client.get(request["media_url"]).status_code == 200


def test_a_private_report_is_never_listed(
    client: Client, filed: Callable[..., Report], citizen: User
) -> None:
    public = filed(citizen)
    private = filed(citizen, is_public=False)

    assert ids(get(client, "requests.json")) == [public.reference]
    assert ids(get(client, "requests.json", service_request_id=private.reference)) == []
    assert get(client, f"requests/{private.reference}.json").status_code == 404


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (ReportStatus.SUBMITTED, "open"),
        (ReportStatus.NEEDS_TRIAGE, "open"),
        (ReportStatus.ROUTED, "open"),
        (ReportStatus.IN_PROGRESS, "open"),
        (ReportStatus.RESOLVED, "closed"),
        (ReportStatus.CLOSED, "closed"),
        (ReportStatus.REJECTED, "closed"),
    ],
)
def test_our_statuses_map_to_open_and_closed(
    client: Client, report: Report, status: str, expected: str
) -> None:
    Report.objects.filter(pk=report.pk).update(status=status)

    [request] = get(client, "requests.json").json()

    assert request["status"] == expected


def test_the_status_filter_keeps_open_or_closed_requests(
    client: Client, filed: Callable[..., Report], citizen: User, staff_a: User
) -> None:
    still_open = filed(citizen)
    resolved = resolve(filed(citizen), staff_a, "Đã thay bóng")

    assert ids(get(client, "requests.json", status="open")) == [still_open.reference]
    assert ids(get(client, "requests.json", status="closed")) == [resolved.reference]
    assert len(ids(get(client, "requests.json", status="open,closed"))) == 2


def test_an_unknown_status_is_a_400(client: Client, report: Report) -> None:
    response = get(client, "requests.json", status="pending")

    assert response.status_code == 400
    [error] = response.json()
    assert error["code"] == 400
    assert error["description"].startswith("status: ")


def test_the_service_code_filter_takes_a_comma_separated_list(
    client: Client, filed: Callable[..., Report], citizen: User
) -> None:
    lighting = filed(citizen)
    garbage = filed(citizen, category="garbage")
    filed(citizen, category="drainage")

    assert ids(get(client, "requests.json", service_code="street_lighting")) == [lighting.reference]
    assert ids(get(client, "requests.json", service_code="garbage,street_lighting")) == [
        garbage.reference,
        lighting.reference,
    ]


def test_an_unknown_service_code_filter_is_a_400(client: Client, report: Report) -> None:
    response = get(client, "requests.json", service_code="no_such_service")

    assert response.status_code == 400
    assert "no_such_service" in response.json()[0]["description"]


def test_service_request_ids_override_every_other_filter(
    client: Client, filed: Callable[..., Report], citizen: User
) -> None:
    first, second, third = filed(citizen), filed(citizen), filed(citizen)
    Report.objects.filter(pk=first.pk).update(created_at=timezone.now() - timedelta(days=400))

    response = get(
        client,
        "requests.json",
        service_request_id=f"{first.reference}, {third.reference}",
        status="closed",
        service_code="garbage",
    )

    assert sorted(ids(response)) == sorted([first.reference, third.reference])
    assert second.reference not in ids(response)


def test_by_default_only_the_last_90_days_are_listed(client: Client, report: Report) -> None:
    Report.objects.filter(pk=report.pk).update(created_at=timezone.now() - timedelta(days=91))

    assert ids(get(client, "requests.json")) == []


def test_a_date_range_selects_by_when_the_report_was_filed(
    client: Client, filed: Callable[..., Report], citizen: User
) -> None:
    old, recent = filed(citizen), filed(citizen)
    filed_at = timezone.now() - timedelta(days=200)
    Report.objects.filter(pk=old.pk).update(created_at=filed_at)
    start = (filed_at - timedelta(days=1)).isoformat(timespec="seconds")
    end = (filed_at + timedelta(days=1)).isoformat(timespec="seconds")

    assert ids(get(client, "requests.json", start_date=start, end_date=end)) == [old.reference]
    since = (timezone.now() - timedelta(days=10)).isoformat(timespec="seconds")
    assert ids(get(client, "requests.json", start_date=since)) == [recent.reference]


def test_a_plus_sign_lost_to_url_decoding_is_read_as_an_offset(
    client: Client, report: Report
) -> None:
    start = timezone.localtime() - timedelta(days=1)
    unencoded = start.isoformat(timespec="seconds").replace("+", " ")

    assert ids(get(client, "requests.json", start_date=unencoded)) == [report.reference]


def test_a_range_longer_than_90_days_is_a_400(client: Client, report: Report) -> None:
    response = get(
        client, "requests.json", start_date="2026-01-01T00:00:00+07:00", end_date="2026-06-01"
    )

    assert response.status_code == 400
    assert response.json()[0]["description"].startswith("end_date: ")


def test_an_end_before_the_start_is_a_400(client: Client, report: Report) -> None:
    response = get(client, "requests.json", start_date="2026-06-01", end_date="2026-05-01")

    assert response.status_code == 400


def test_a_malformed_date_is_a_400(client: Client, report: Report) -> None:
    response = get(client, "requests.json", start_date="yesterday")

    assert response.status_code == 400
    assert response.json()[0]["description"].startswith("start_date: ")


def test_empty_parameters_count_as_absent(client: Client, report: Report) -> None:
    response = get(client, "requests.json", status="", service_code="", start_date="")

    assert ids(response) == [report.reference]


def test_at_most_1000_requests_are_listed(
    client: Client, report: Report, monkeypatch: pytest.MonkeyPatch
) -> None:
    from open311 import selectors

    monkeypatch.setattr(selectors, "MAX_REQUESTS", 0)

    assert ids(get(client, "requests.json")) == []


def test_listing_requests_takes_a_constant_number_of_queries(
    client: Client,
    filed: Callable[..., Report],
    citizen: User,
    staff_a: User,
    django_assert_max_num_queries: Callable[..., Any],
) -> None:
    for _ in range(3):
        report = filed(citizen)
        lifecycle.report_post_update(report=report, actor=staff_a, message="Đang xử lý")

    with django_assert_max_num_queries(2):
        response = get(client, "requests.json", service_code="street_lighting")

    assert len(response.json()) == 3


def test_status_notes_are_the_latest_public_update(
    client: Client, report: Report, staff_a: User
) -> None:
    lifecycle.report_post_update(report=report, actor=staff_a, message="Đã tiếp nhận")
    lifecycle.report_add_note(report=report, actor=staff_a, message="Nội bộ: thiếu vật tư")
    lifecycle.report_post_update(report=report, actor=staff_a, message="Sẽ thay bóng ngày mai")
    lifecycle.report_add_note(report=report, actor=staff_a, message="Nội bộ: gọi nhà thầu")

    [request] = get(client, "requests.json").json()

    assert request["status_notes"] == "Sẽ thay bóng ngày mai"


def test_status_notes_of_a_resolved_report_are_the_resolution(
    client: Client, report: Report, staff_a: User
) -> None:
    lifecycle.report_post_update(report=report, actor=staff_a, message="Đã tiếp nhận")
    resolve(report, staff_a, "Đã thay bóng đèn mới")

    [request] = get(client, "requests.json").json()

    assert request["status"] == "closed"
    assert request["status_notes"] == "Đã thay bóng đèn mới"


def test_status_notes_of_a_rejected_report_are_the_reason_given(
    client: Client, report: Report, staff_a: User
) -> None:
    lifecycle.report_reject(
        report=report,
        actor=staff_a,
        reason=RejectReason.INVALID,
        message="Đèn vẫn sáng bình thường",
    )

    [request] = get(client, "requests.json").json()

    assert request["status"] == "closed"
    assert request["status_notes"] == "Đèn vẫn sáng bình thường"


def test_a_report_with_no_public_message_has_no_status_notes(
    client: Client, report: Report
) -> None:
    [request] = get(client, "requests.json").json()

    assert request["status_notes"] is None


def test_one_request_by_its_id(client: Client, report: Report) -> None:
    response = get(client, f"requests/{report.reference}.json")

    assert response.status_code == 200
    [request] = response.json()
    assert request["service_request_id"] == report.reference
    assert set(request) == REQUEST_FIELDS


def test_an_unknown_request_id_is_a_404(client: Client, reference_data: None) -> None:
    response = get(client, "requests/HUE-2026-999999.json")

    assert response.status_code == 404
    [error] = response.json()
    assert error["code"] == 404


def test_an_unknown_request_id_in_xml_is_an_errors_document(
    client: Client, reference_data: None
) -> None:
    response = get(client, "requests/HUE-2026-999999.xml")

    assert response.status_code == 404
    root = xml(response)
    assert root.tag == "errors"
    [error] = root.findall("error")
    assert error.findtext("code") == "404"
    assert error.findtext("description")


def test_requests_in_xml_are_request_elements_under_service_requests(
    client: Client, report: Report
) -> None:
    root = xml(get(client, "requests.xml"))

    assert root.tag == "service_requests"
    [request] = root.findall("request")
    assert {child.tag for child in request} == REQUEST_FIELDS
    assert request.findtext("service_request_id") == report.reference
    assert request.findtext("status") == "open"
    assert float(request.findtext("lat") or "nan") == report.lat
    assert float(request.findtext("long") or "nan") == report.lng
    assert request.findtext("zipcode") is None or request.findtext("zipcode") == ""


def test_text_is_escaped_in_xml(
    client: Client, filed: Callable[..., Report], citizen: User
) -> None:
    description = 'Đèn <b>hỏng</b> & "nguy hiểm" ]]> </request>'
    filed(citizen, description=description)

    root = xml(get(client, "requests.xml"))

    assert root.findtext("./request/description") == description
