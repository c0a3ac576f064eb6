"""POST /api/v1/reports: a verified citizen files a report with photos and GPS."""

from __future__ import annotations

import re

import pytest
import time_machine
from rest_framework.test import APIClient

from reports.models import Event, Photo, Report, ReportStatus
from tests.conftest import PHU_XUAN_POINT, SAIGON_POINT

URL = "/api/v1/reports"
FILED_AT = "2026-03-10 09:00:00+07:00"


def _body(photo, **fields):
    body = {
        "category": "street_lighting",
        "description": "Đèn đường trước nhà số 5 không sáng",
        "lat": PHU_XUAN_POINT[0],
        "lng": PHU_XUAN_POINT[1],
        "photos": [photo()],
    }
    body.update(fields)
    return body


def _nothing_was_filed() -> bool:
    return not (Report.objects.exists() or Photo.objects.exists() or Event.objects.exists())


@pytest.fixture
def post(api_as, photo, django_capture_on_commit_callbacks):
    """POST a report as `user` (None: anonymously), running the after-commit routing."""

    def make(user, **fields):
        client = api_as(user) if user is not None else APIClient()
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(URL, _body(photo, **fields), format="multipart")

    return make


@time_machine.travel(FILED_AT, tick=False)
def test_a_verified_citizen_files_a_report_and_gets_201_with_its_reference(post, citizen):
    response = post(citizen)

    assert response.status_code == 201, response.json()
    assert response.json()["reference"] == "HUE-2026-000001"


@time_machine.travel(FILED_AT, tick=False)
def test_references_are_numbered_sequentially_within_the_year(post, citizen, other_citizen):
    first = post(citizen).json()["reference"]
    second = post(other_citizen).json()["reference"]

    assert re.fullmatch(r"HUE-2026-\d{6}", first)
    assert int(second.rsplit("-", 1)[1]) == int(first.rsplit("-", 1)[1]) + 1


def test_the_numbering_starts_again_each_year(post, citizen):
    with time_machine.travel("2026-12-31 12:00:00+07:00", tick=False):
        post(citizen)
        post(citizen)
    with time_machine.travel("2027-01-02 12:00:00+07:00", tick=False):
        reference = post(citizen).json()["reference"]

    assert reference == "HUE-2027-000001"


def test_the_year_of_the_reference_is_the_year_in_hue(post, citizen):
    # 17:30 UTC on New Year's Eve is already half past midnight in Hue (UTC+7).
    with time_machine.travel("2026-12-31 17:30:00+00:00", tick=False):
        reference = post(citizen).json()["reference"]

    assert reference.startswith("HUE-2027-")


@time_machine.travel(FILED_AT, tick=False)
def test_a_rejected_request_does_not_use_up_a_reference_number(post, citizen):
    post(citizen, category="no_such_category")

    assert post(citizen).json()["reference"] == "HUE-2026-000001"


def test_the_created_report_carries_its_category_and_area_as_code_and_name(post, citizen):
    body = post(citizen).json()

    assert body["category"] == {"code": "street_lighting", "name": "Điện chiếu sáng công cộng"}
    assert body["area"] == {"code": "19753", "name": "Phường Phú Xuân"}


def test_the_response_shows_the_report_submitted_and_routing_follows_the_commit(post, citizen):
    response = post(citizen)

    assert response.json()["status"] == ReportStatus.SUBMITTED
    report = Report.objects.get(reference=response.json()["reference"])
    assert report.status == ReportStatus.ROUTED


def test_the_created_report_lists_its_photos_with_urls_and_dimensions(post, citizen, photo):
    body = post(citizen, photos=[photo(), photo(fmt="PNG")]).json()

    assert len(body["photos"]) == 2
    for item in body["photos"]:
        assert item["url"].startswith("http://testserver/")
        assert item["thumbnail_url"].startswith("http://testserver/")
        assert item["url"] != item["thumbnail_url"]
        assert (item["width"], item["height"]) == (640, 480)


def test_the_created_report_links_to_itself_in_the_body_and_the_location_header(post, citizen):
    response = post(citizen)

    reference = response.json()["reference"]
    expected = f"http://testserver/api/v1/reports/{reference}"
    assert response.json()["links"]["self"] == expected
    assert response["Location"] == expected


def test_the_location_header_opens_the_new_report(post, api_as, citizen):
    response = post(citizen)

    detail = api_as(citizen).get(response["Location"])

    assert detail.status_code == 200
    assert detail.json()["reference"] == response.json()["reference"]


def test_an_anonymous_visitor_cannot_file_a_report(post, reference_data):
    response = post(None)

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert _nothing_was_filed()


def test_a_user_with_an_unverified_phone_cannot_file_a_report(post, unverified):
    response = post(unverified)

    assert response.status_code == 403
    assert response.json()["code"] == "phone_not_verified"
    assert _nothing_was_filed()


def test_an_unknown_category_is_refused_on_the_category_field(post, citizen):
    response = post(citizen, category="no_such_category")

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "unknown_category"
    assert body["fields"]["category"][0]["code"] == "unknown_category"


def test_an_inactive_category_is_refused_as_unknown(post, citizen):
    from reports.models import Category

    Category.objects.filter(code="street_lighting").update(is_active=False)

    response = post(citizen)

    assert response.status_code == 400
    assert response.json()["code"] == "unknown_category"


def test_a_point_outside_hue_is_refused_as_outside_the_service_area(post, citizen):
    response = post(citizen, lat=SAIGON_POINT[0], lng=SAIGON_POINT[1])

    assert response.status_code == 400
    assert response.json()["code"] == "outside_service_area"


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"lat": 200}, "lat"),
        ({"lat": -90.5}, "lat"),
        ({"lng": "abc"}, "lng"),
        ({"lng": 181}, "lng"),
        ({"description": "Đèn hỏng\x00"}, "description"),
        ({"address": "số 5\x00"}, "address"),
        ({"description": ""}, "description"),
        ({"priority": "panic"}, "priority"),
        ({"is_public": "perhaps"}, "is_public"),
    ],
)
def test_an_invalid_field_is_refused_with_400_naming_that_field(post, citizen, fields, field):
    response = post(citizen, **fields)

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert set(body["fields"]) == {field}


def test_a_report_without_a_photo_is_refused_on_the_photos_field(post, citizen):
    response = post(citizen, photos=[])

    assert response.status_code == 400
    assert response.json()["code"] == "photo_count"
    assert "photos" in response.json()["fields"]


def test_a_report_with_six_photos_is_refused_on_the_photos_field(post, citizen, photo):
    response = post(citizen, photos=[photo() for _ in range(6)])

    assert response.status_code == 400
    assert response.json()["code"] == "photo_count"


@pytest.mark.parametrize(
    "fields",
    [
        {"category": "no_such_category"},
        {"lat": SAIGON_POINT[0], "lng": SAIGON_POINT[1]},
        {"lat": 200},
        {"lng": "abc"},
        {"description": "\x00"},
        {"photos": []},
    ],
    ids=["unknown-category", "outside-hue", "lat-200", "lng-abc", "nul-byte", "no-photo"],
)
def test_a_rejected_request_creates_no_report_photo_or_event(post, citizen, fields):
    response = post(citizen, **fields)

    assert response.status_code == 400
    assert _nothing_was_filed()


def test_a_rejected_request_stores_no_photo_file(post, citizen, settings):
    post(citizen, lat=SAIGON_POINT[0], lng=SAIGON_POINT[1], photos=[])
    post(citizen, category="no_such_category")

    assert [path for path in settings.MEDIA_ROOT.rglob("*") if path.is_file()] == []


def test_hide_name_is_honoured(post, citizen):
    response = post(citizen, hide_name=True)

    assert response.json()["hide_name"] is True
    assert Report.objects.get().hide_name is True


def test_is_public_false_files_a_private_report(post, citizen):
    response = post(citizen, is_public=False)

    assert response.json()["is_public"] is False
    assert Report.objects.get().is_public is False


def test_a_report_is_public_and_shows_its_name_by_default(post, citizen):
    body = post(citizen).json()

    assert body["is_public"] is True
    assert body["hide_name"] is False
    assert body["priority"] == "normal"


def test_an_urgent_priority_is_honoured(post, citizen):
    response = post(citizen, priority="urgent")

    assert response.json()["priority"] == "urgent"
    assert Report.objects.get().priority == "urgent"


def test_filing_records_a_created_event_by_the_reporter(post, citizen):
    post(citizen)

    created = Event.objects.get(kind=Event.Kind.CREATED)
    assert created.actor == citizen
    assert created.to_status == ReportStatus.SUBMITTED


def test_routing_is_enqueued_after_the_commit_not_during_the_request(
    api_as, citizen, photo, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = api_as(citizen).post(URL, _body(photo), format="multipart")

    assert response.status_code == 201
    assert Report.objects.get().status == ReportStatus.SUBMITTED
    # The photo's privacy step, the routing task's, and the count of reports filed
    # (/metrics): all after the commit.
    assert len(callbacks) == 3


def test_running_the_after_commit_callback_routes_the_report(
    api_as, citizen, photo, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        api_as(citizen).post(URL, _body(photo), format="multipart")

    callbacks[1]()  # [0] is the photo's privacy step

    report = Report.objects.get()
    assert report.status == ReportStatus.ROUTED
    assert report.agency.code == "hepco"
