"""GET /api/v1/reports and /api/v1/reports/{ref}: the public feed and a report's detail."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import pytest
import time_machine

from reports import lifecycle
from reports.models import Agency
from tests.conftest import VY_DA_POINT

FEED = "/api/v1/reports"
HUE = ZoneInfo("Asia/Ho_Chi_Minh")


def _detail(reference):
    return f"{FEED}/{reference}"


def _references(response):
    assert response.status_code == 200, response.json()
    return [report["reference"] for report in response.json()["results"]]


def _walk(client, url):
    """Every page of the feed, following `next` from the first page."""
    pages = []
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.json()
        pages.append(response.json())
        url = response.json()["next"]
    return pages


# The public feed


def test_an_anonymous_visitor_reads_the_feed(api, routed_report):
    assert _references(api.get(FEED)) == [routed_report.reference]


def test_the_feed_lists_the_newest_report_first(api, make_report, citizen):
    older = make_report(citizen)
    newer = make_report(citizen)

    assert _references(api.get(FEED)) == [newer.reference, older.reference]


def test_the_feed_page_has_next_previous_and_results(api, routed_report):
    body = api.get(FEED).json()

    assert set(body) == {"next", "previous", "results"}
    assert body["previous"] is None
    assert body["next"] is None


def test_the_first_page_links_to_the_next_one(api, make_report, citizen):
    for _ in range(3):
        make_report(citizen)

    body = api.get(FEED, {"page_size": 2}).json()

    assert len(body["results"]) == 2
    assert body["next"] is not None
    assert body["previous"] is None


def test_walking_every_page_returns_each_public_report_once_newest_first(
    api, make_report, citizen, other_citizen
):
    public = [make_report(citizen if n % 2 else other_citizen) for n in range(7)]
    make_report(citizen, is_public=False)

    pages = _walk(api, f"{FEED}?page_size=3")

    seen = [report["reference"] for page in pages for report in page["results"]]
    assert seen == [report.reference for report in reversed(public)]
    assert len(pages) == 3


def test_the_previous_link_leads_back_to_the_first_page(api, make_report, citizen):
    for _ in range(5):
        make_report(citizen)
    first = api.get(FEED, {"page_size": 2}).json()

    second = api.get(first["next"]).json()
    back = api.get(second["previous"]).json()

    assert back["results"] == first["results"]


def test_a_garbled_cursor_is_invalid_input(api, routed_report):
    response = api.get(FEED, {"cursor": "not-a-cursor"})

    assert response.status_code == 400
    assert "cursor" in response.json()["fields"]


# Private reports


def test_a_private_report_is_not_in_another_citizens_feed(
    api_as, make_report, citizen, other_citizen
):
    private = make_report(citizen, is_public=False)

    assert private.reference not in _references(api_as(other_citizen).get(FEED))


def test_a_private_report_is_not_in_the_anonymous_feed(api, make_report, citizen):
    make_report(citizen, is_public=False)

    assert _references(api.get(FEED)) == []


def test_a_private_report_is_not_in_another_citizens_mine_list(
    api_as, make_report, citizen, other_citizen
):
    make_report(citizen, is_public=False)

    assert _references(api_as(other_citizen).get(FEED, {"mine": "true"})) == []


def test_another_citizen_opening_a_private_report_gets_404(
    api_as, make_report, citizen, other_citizen
):
    private = make_report(citizen, is_public=False)

    response = api_as(other_citizen).get(_detail(private.reference))

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_an_anonymous_visitor_opening_a_private_report_gets_404(api, make_report, citizen):
    private = make_report(citizen, is_public=False)

    assert api.get(_detail(private.reference)).status_code == 404


def test_staff_opening_a_private_report_through_the_api_gets_404(
    api_as, make_report, citizen, staff_a
):
    private = make_report(citizen, is_public=False)

    assert api_as(staff_a).get(_detail(private.reference)).status_code == 404


def test_the_owner_finds_their_private_report_with_mine(api_as, make_report, citizen):
    private = make_report(citizen, is_public=False)

    assert _references(api_as(citizen).get(FEED, {"mine": "true"})) == [private.reference]


def test_the_owner_opens_their_private_report(api_as, make_report, citizen):
    private = make_report(citizen, is_public=False)

    response = api_as(citizen).get(_detail(private.reference))

    assert response.status_code == 200
    assert response.json()["is_public"] is False


def test_a_reference_that_does_not_exist_answers_404(api, reference_data):
    assert api.get(_detail("HUE-2026-999999")).status_code == 404


# Names and private data


def test_the_reporters_name_is_shown_when_not_hidden(api, routed_report, citizen):
    body = api.get(FEED).json()["results"][0]

    assert body["reporter_name"] == citizen.full_name


def test_a_hidden_name_is_null_for_another_citizen(api_as, make_report, citizen, other_citizen):
    report = make_report(citizen, hide_name=True)

    listed = api_as(other_citizen).get(FEED).json()["results"][0]
    detail = api_as(other_citizen).get(_detail(report.reference)).json()

    assert listed["reporter_name"] is None
    assert detail["reporter_name"] is None


def test_a_hidden_name_is_null_for_an_anonymous_visitor(api, make_report, citizen):
    report = make_report(citizen, hide_name=True)

    response = api.get(_detail(report.reference))

    assert response.json()["reporter_name"] is None
    assert citizen.full_name not in response.content.decode()


def test_the_owner_sees_their_own_hidden_name(api_as, make_report, citizen):
    report = make_report(citizen, hide_name=True)

    listed = api_as(citizen).get(FEED, {"mine": "true"}).json()["results"][0]
    detail = api_as(citizen).get(_detail(report.reference)).json()

    assert listed["reporter_name"] == citizen.full_name
    assert detail["reporter_name"] == citizen.full_name


def test_the_reporters_phone_and_email_never_leave_through_the_api(
    api, api_as, file_report, citizen, other_citizen, staff_a, photo
):
    created = file_report(citizen)
    reference = created.json()["reference"]
    lifecycle.report_post_update(report=_report(reference), actor=staff_a, message="Đang xử lý.")
    national = "0" + citizen.phone.removeprefix("+84")
    bodies = [
        created.content,
        api.get(FEED).content,
        api.get(_detail(reference)).content,
        api_as(other_citizen).get(FEED).content,
        api_as(other_citizen).get(_detail(reference)).content,
        api_as(citizen).get(FEED, {"mine": "true"}).content,
        api_as(citizen).get(_detail(reference)).content,
    ]

    for body in bodies:
        text = body.decode()
        assert reference in text
        for secret in (citizen.phone, national, citizen.email, staff_a.phone):
            assert secret not in text


def _report(reference):
    from reports.models import Report

    return Report.objects.get(reference=reference)


# Filters


def test_the_feed_filters_by_one_status(api, make_report, citizen, staff_a):
    routed = make_report(citizen)
    accepted = lifecycle.report_accept(report=make_report(citizen), actor=staff_a)

    assert _references(api.get(FEED, {"status": "in_progress"})) == [accepted.reference]
    assert _references(api.get(FEED, {"status": "routed"})) == [routed.reference]


def test_the_status_filter_is_repeatable(api, make_report, citizen, staff_a):
    routed = make_report(citizen)
    accepted = lifecycle.report_accept(report=make_report(citizen), actor=staff_a)
    make_report(citizen, category="other")

    response = api.get(f"{FEED}?{urlencode([('status', 'routed'), ('status', 'in_progress')])}")

    assert _references(response) == [accepted.reference, routed.reference]


def test_the_feed_filters_by_category_code(api, make_report, citizen):
    make_report(citizen, category="street_lighting")
    garbage = make_report(citizen, category="garbage")

    assert _references(api.get(FEED, {"category": "garbage"})) == [garbage.reference]


def test_the_feed_filters_by_area_code(api, make_report, citizen):
    make_report(citizen)
    vy_da = make_report(citizen, point=VY_DA_POINT)

    assert _references(api.get(FEED, {"area": "19777"})) == [vy_da.reference]


def test_the_feed_filters_by_agency_code(api, make_report, citizen):
    make_report(citizen, category="street_lighting")
    police = make_report(citizen, category="traffic_order")

    assert _references(api.get(FEED, {"agency": "police"})) == [police.reference]


def test_an_unknown_code_in_a_filter_finds_nothing(api, routed_report):
    assert _references(api.get(FEED, {"category": "no_such_category"})) == []


def test_the_feed_filters_by_creation_time(api, make_report, citizen):
    with time_machine.travel(datetime(2026, 3, 1, 9, 0, tzinfo=HUE), tick=False):
        march = make_report(citizen)
    with time_machine.travel(datetime(2026, 4, 1, 9, 0, tzinfo=HUE), tick=False):
        april = make_report(citizen)
    with time_machine.travel(datetime(2026, 5, 1, 9, 0, tzinfo=HUE), tick=False):
        make_report(citizen)

    response = api.get(
        FEED, {"created_after": "2026-03-15T00:00:00+07:00", "created_before": "2026-04-15"}
    )

    assert _references(response) == [april.reference]
    assert march.reference in _references(api.get(FEED, {"created_before": "2026-03-02"}))


def test_created_after_includes_a_report_filed_at_that_instant(api, make_report, citizen):
    moment = datetime(2026, 3, 1, 9, 0, tzinfo=HUE)
    with time_machine.travel(moment, tick=False):
        report = make_report(citizen)

    response = api.get(FEED, {"created_after": moment.isoformat()})

    assert _references(response) == [report.reference]


def test_mine_lists_only_the_users_own_reports(api_as, make_report, citizen, other_citizen):
    own = make_report(citizen)
    make_report(other_citizen)

    assert _references(api_as(citizen).get(FEED, {"mine": "true"})) == [own.reference]


def test_mine_false_is_the_public_feed(api_as, make_report, citizen, other_citizen):
    own = make_report(citizen)
    other = make_report(other_citizen)

    response = api_as(citizen).get(FEED, {"mine": "false"})

    assert _references(response) == [other.reference, own.reference]


def test_mine_for_an_anonymous_visitor_is_an_empty_list(api, routed_report):
    response = api.get(FEED, {"mine": "true"})

    assert response.status_code == 200
    assert response.json()["results"] == []


def test_mine_combines_with_the_other_filters(api_as, make_report, citizen):
    make_report(citizen, category="street_lighting")
    garbage = make_report(citizen, category="garbage", is_public=False)

    response = api_as(citizen).get(FEED, {"mine": "true", "category": "garbage"})

    assert _references(response) == [garbage.reference]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"status": "bogus"}, "status"),
        ({"created_after": "notadate"}, "created_after"),
        ({"created_before": "31/12/2026"}, "created_before"),
        ({"mine": "maybe"}, "mine"),
    ],
)
def test_a_bad_filter_value_answers_400_in_the_error_shape(api_as, citizen, query, field):
    response = api_as(citizen).get(FEED, query)

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert isinstance(body["detail"], str)
    assert list(body["fields"]) == [field]
    assert body["fields"][field][0]["code"]


def test_mine_maybe_is_refused_for_an_anonymous_visitor_too(api, reference_data):
    assert api.get(FEED, {"mine": "maybe"}).status_code == 400


# Timeline


def test_the_detail_carries_the_citizen_visible_timeline(api, routed_report, staff_a):
    lifecycle.report_accept(report=routed_report, actor=staff_a)
    lifecycle.report_post_update(report=routed_report, actor=staff_a, message="Đang thay bóng.")

    timeline = api.get(_detail(routed_report.reference)).json()["timeline"]

    assert [event["kind"] for event in timeline] == [
        "created",
        "routed",
        "accepted",
        "public_update",
    ]
    assert timeline[-1]["message"] == "Đang thay bóng."
    assert timeline[-1]["from_status"] == timeline[-1]["to_status"] == "in_progress"


def test_internal_notes_never_appear_in_the_timeline(api_as, routed_report, citizen, staff_a):
    lifecycle.report_add_note(report=routed_report, actor=staff_a, message="Chỉ nội bộ xem.")

    response = api_as(citizen).get(_detail(routed_report.reference))

    assert "internal_note" not in [event["kind"] for event in response.json()["timeline"]]
    assert "Chỉ nội bộ xem." not in response.content.decode()


def test_the_triage_step_is_not_in_the_timeline(api, triage_report, dispatcher):
    police = Agency.objects.get(code="police")
    lifecycle.report_dispatch(report=triage_report, actor=dispatcher, agency_id=police.pk)

    timeline = api.get(_detail(triage_report.reference)).json()["timeline"]

    assert [event["kind"] for event in timeline] == ["created", "routed"]


def test_the_feed_list_carries_no_timeline(api, routed_report):
    assert "timeline" not in api.get(FEED).json()["results"][0]


# Languages


def test_names_are_vietnamese_by_default(api, routed_report):
    report = api.get(FEED).json()["results"][0]

    assert report["category"]["name"] == "Điện chiếu sáng công cộng"
    assert report["area"]["name"] == "Phường Phú Xuân"
    assert report["agency"]["name"].startswith("Công ty CP Môi trường")


def test_names_are_english_with_accept_language_en(api, routed_report):
    report = api.get(FEED, HTTP_ACCEPT_LANGUAGE="en").json()["results"][0]

    assert report["category"]["name"] == "Street lighting"
    assert report["area"]["name"] == "Phu Xuan Ward"
    assert report["agency"]["name"] == "Hue Environment and Urban Works (HEPCO)"


def test_names_are_vietnamese_with_accept_language_vi(api, routed_report):
    detail = api.get(_detail(routed_report.reference), HTTP_ACCEPT_LANGUAGE="vi").json()

    assert detail["category"]["name"] == "Điện chiếu sáng công cộng"


def test_the_report_carries_the_fields_of_the_api_contract(api, routed_report):
    report = api.get(_detail(routed_report.reference)).json()

    assert {
        "reference",
        "status",
        "category",
        "description",
        "lat",
        "lng",
        "address",
        "area",
        "agency",
        "priority",
        "is_public",
        "created_at",
        "due_at",
        "supporters",
        "photos",
        "timeline",
    } <= set(report)
    assert report["agency"] == {
        "code": "hepco",
        "name": "Công ty CP Môi trường và Công trình đô thị Huế (HEPCO)",
    }
    assert report["supporters"] == 0


def test_a_report_in_triage_shows_no_agency(api, triage_report):
    assert api.get(_detail(triage_report.reference)).json()["agency"] is None


def test_the_due_date_is_shown_once_routed(api, make_report, citizen):
    moment = datetime(2026, 3, 1, 9, 0, tzinfo=HUE)
    with time_machine.travel(moment, tick=False):
        report = make_report(citizen)

    body = api.get(_detail(report.reference)).json()

    # 75 working hours from Sunday: from Monday 07:30, 10 working days.
    assert datetime.fromisoformat(body["due_at"]) == datetime(2026, 3, 13, 17, 0, tzinfo=HUE)
