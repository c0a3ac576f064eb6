"""GET /api/v1/reports: search, places, orderings, sync and conditional requests.

The filters of issue 4: q (Vietnamese with or without diacritics), bbox, near and radius,
ordering (newest, most_supported, nearest) with cursor pages in each, updated_after, and
the weak ETag with If-None-Match.
"""

from __future__ import annotations

import base64
import importlib
import json
import math
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.apps import apps
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import given
from hypothesis import strategies as st

from reports import lifecycle
from reports.models import Report
from reports.text import search_normalize, search_words, without_diacritics
from tests.conftest import PHU_XUAN_POINT, VY_DA_POINT
from tests.factories import ReportFactory

FEED = "/api/v1/reports"
HUE = ZoneInfo("Asia/Ho_Chi_Minh")
EARTH_RADIUS = 6_371_008.8
# About 111 metres of latitude.
MILLI_DEGREE = 0.001
CENTRE = PHU_XUAN_POINT
NEAR = f"{CENTRE[0]},{CENTRE[1]}"


def _references(response):
    assert response.status_code == 200, response.content
    return [report["reference"] for report in response.json()["results"]]


def _walk(client, url, params=None):
    """The references on every page, following `next` from the first page."""
    seen = []
    response = client.get(url, params)
    while True:
        assert response.status_code == 200, response.content
        seen.append([report["reference"] for report in response.json()["results"]])
        if not response.json()["next"]:
            return seen
        response = client.get(response.json()["next"])


def _distance(a, b):
    """Great-circle distance in metres (haversine), computed here independently."""
    phi1, phi2 = math.radians(a[0]), math.radians(b[0])
    half = (
        math.sin((phi2 - phi1) / 2) ** 2
        + math.cos(phi1) * math.cos(phi2) * math.sin(math.radians(b[1] - a[1]) / 2) ** 2
    )
    return 2 * EARTH_RADIUS * math.asin(math.sqrt(half))


def _north(metres):
    return (CENTRE[0] + metres / 111_195, CENTRE[1])


def _set_supporters(report, count):
    Report.objects.filter(pk=report.pk).update(supporters_count=count)


def _errors(response):
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == "invalid"
    return body["fields"]


# Text normalisation (pure)


@pytest.mark.parametrize(
    ("text", "normalised"),
    [
        ("Đường Lê Lợi, số 5", "duong le loi so 5"),
        ("ĐÔNG BA", "dong ba"),
        ("Cầu Trường Tiền", "cau truong tien"),
        ("Phường Phú Xuân", "phuong phu xuan"),
        ("HUE-2026-000123", "hue 2026 000123"),
        ("  nước   ngập\tsâu\n", "nuoc ngap sau"),
        ("", ""),
    ],
)
def test_search_text_is_lower_case_without_diacritics(text, normalised):
    assert search_normalize(text) == normalised


def test_a_query_is_split_into_distinct_normalised_words():
    assert search_words("Đèn đường, ĐÈN!") == ["den", "duong"]


VIETNAMESE = st.text(
    alphabet="aăâbcdđeêghiklmnoôơpqrstuưvxyáàảãạắằẳẵặấầẩẫậéèẻẽẹếềểễệíìỉĩịóòỏõọốồổỗộớờởỡợúùủũụ"
    "ứừửữựýỳỷỹỵAĂÂĐÊÔƠƯÁÀẢÃẠÉÈÍÓÒÚÙÝ 0123456789,.-",
    max_size=40,
)


@given(VIETNAMESE)
def test_text_with_or_without_diacritics_normalises_the_same(text):
    assert search_normalize(text) == search_normalize(without_diacritics(text))


@given(VIETNAMESE)
def test_normalising_twice_changes_nothing(text):
    assert search_normalize(search_normalize(text)) == search_normalize(text)


# q: search


def test_q_finds_a_report_by_a_word_of_its_description(api, make_report, citizen):
    lamp = make_report(citizen, description="Đèn đường không sáng")
    make_report(citizen, description="Rác thải ven sông")

    assert _references(api.get(FEED, {"q": "sáng"})) == [lamp.reference]


def test_q_without_diacritics_finds_text_with_diacritics(api, make_report, citizen):
    lamp = make_report(citizen, description="Đèn đường không sáng")
    make_report(citizen, description="Rác thải ven sông")

    assert _references(api.get(FEED, {"q": "duong"})) == [lamp.reference]


def test_q_with_diacritics_finds_text_without_diacritics(api, make_report, citizen):
    market = make_report(citizen, description="Lan chiem via he gan cho dong ba")
    make_report(citizen, description="Rác thải ven sông")

    assert _references(api.get(FEED, {"q": "Đông Ba"})) == [market.reference]


def test_q_ignores_case(api, make_report, citizen):
    lamp = make_report(citizen, description="đèn đường không sáng")

    assert _references(api.get(FEED, {"q": "ĐÈN ĐƯỜNG"})) == [lamp.reference]


def test_q_finds_only_reports_holding_every_word(api, make_report, citizen):
    both = make_report(citizen, description="Đèn đường hỏng trước chợ")
    make_report(citizen, description="Đèn trang trí hỏng")
    make_report(citizen, description="Đường ngập nước")

    assert _references(api.get(FEED, {"q": "đèn đường"})) == [both.reference]


def test_q_searches_the_address(api, make_report, citizen):
    on_le_loi = make_report(citizen, description="Cây đổ", address="12 Lê Lợi, Phú Hội")
    make_report(citizen, description="Cây đổ", address="3 Trần Hưng Đạo")

    assert _references(api.get(FEED, {"q": "le loi"})) == [on_le_loi.reference]


def test_q_finds_a_report_by_its_reference(api, make_report, citizen):
    wanted = make_report(citizen)
    make_report(citizen)

    assert _references(api.get(FEED, {"q": wanted.reference})) == [wanted.reference]


def test_q_finds_part_of_a_word(api, make_report, citizen):
    flooded = make_report(citizen, description="Ngập úng sau mưa")

    assert _references(api.get(FEED, {"q": "ung"})) == [flooded.reference]


def test_q_that_matches_nothing_gives_an_empty_page(api, make_report, citizen):
    make_report(citizen, description="Đèn đường không sáng")

    assert _references(api.get(FEED, {"q": "xe buýt"})) == []


def test_q_of_punctuation_only_filters_nothing(api, make_report, citizen):
    report = make_report(citizen)

    assert _references(api.get(FEED, {"q": "?!,"})) == [report.reference]


def test_q_never_finds_another_citizens_private_report(api_as, make_report, citizen, other_citizen):
    make_report(citizen, description="Ống nước vỡ trong hẻm", is_public=False)

    assert _references(api_as(other_citizen).get(FEED, {"q": "ong nuoc"})) == []


def test_q_with_mine_finds_the_users_own_private_report(api_as, make_report, citizen):
    private = make_report(citizen, description="Ống nước vỡ trong hẻm", is_public=False)

    response = api_as(citizen).get(FEED, {"q": "ong nuoc", "mine": "true"})

    assert _references(response) == [private.reference]


def test_q_with_more_than_ten_words_is_refused(api, reference_data):
    response = api.get(FEED, {"q": " ".join(f"w{n}" for n in range(11))})

    assert _errors(response)["q"][0]["code"] == "too_many_words"


def test_q_longer_than_200_characters_is_refused(api, reference_data):
    assert "q" in _errors(api.get(FEED, {"q": "a" * 201}))


def test_filing_a_report_fills_its_search_text(make_report, citizen):
    report = make_report(citizen, description="Đèn đường", address="Đông Ba")

    assert report.search_text == f"{search_normalize(report.reference)} den duong dong ba"


def test_the_migration_fills_the_search_text_of_existing_reports(api, reference_data):
    old = ReportFactory(description="Vỉa hè bị lấn chiếm", address="Chợ Đông Ba")
    assert old.search_text == ""
    migration = importlib.import_module("reports.migrations.0005_report_search_text_fill")

    migration.fill_search_text(apps, None)

    assert _references(api.get(FEED, {"q": "via he dong ba"})) == [old.reference]


def test_the_migration_leaves_updated_at_alone(reference_data):
    old = ReportFactory(description="Vỉa hè bị lấn chiếm")
    migration = importlib.import_module("reports.migrations.0005_report_search_text_fill")

    migration.fill_search_text(apps, None)

    old_updated_at = old.updated_at
    old.refresh_from_db()
    assert old.updated_at == old_updated_at


# bbox


def test_bbox_keeps_only_the_reports_inside_the_box(api, make_report, citizen):
    phu_xuan = make_report(citizen)
    make_report(citizen, point=VY_DA_POINT)
    lat, lng = PHU_XUAN_POINT

    response = api.get(FEED, {"bbox": f"{lng - 0.01},{lat - 0.01},{lng + 0.01},{lat + 0.01}"})

    assert _references(response) == [phu_xuan.reference]


def test_bbox_includes_a_report_on_its_edge(api, make_report, citizen):
    report = make_report(citizen)
    lat, lng = PHU_XUAN_POINT

    assert _references(api.get(FEED, {"bbox": f"{lng},{lat},{lng},{lat}"})) == [report.reference]


def test_bbox_never_shows_another_citizens_private_report(
    api_as, make_report, citizen, other_citizen
):
    make_report(citizen, is_public=False)

    response = api_as(other_citizen).get(FEED, {"bbox": "107.0,16.0,108.0,17.0"})

    assert _references(response) == []


@pytest.mark.parametrize(
    "bbox",
    [
        "107.5,16.4,107.6",
        "107.5,16.4,107.6,16.5,1",
        "a,b,c,d",
        "nan,nan,nan,nan",
        "1e2,16.4,107.6,16.5",
        "107.6,16.4,107.5,16.5",
        "107.5,16.5,107.6,16.4",
        "-181,16.4,107.6,16.5",
        "107.5,-91,107.6,16.5",
        "107.5,16.4,1000000000000000000000,16.5",
        "107.5\x00,16.4,107.6,16.5",
    ],
)
def test_a_bad_bbox_answers_400_naming_bbox(api, reference_data, bbox):
    assert list(_errors(api.get(FEED, {"bbox": bbox}))) == ["bbox"]


# near and radius


def test_near_keeps_the_reports_within_1000_metres_by_default(api, make_report, citizen):
    close = make_report(citizen, point=_north(900))
    make_report(citizen, point=_north(1100))

    assert _references(api.get(FEED, {"near": NEAR})) == [close.reference]


def test_radius_sets_the_distance_in_metres(api, make_report, citizen):
    close = make_report(citizen, point=_north(300))
    make_report(citizen, point=_north(700))

    assert _references(api.get(FEED, {"near": NEAR, "radius": 500})) == [close.reference]


def test_near_measures_the_exact_distance_not_the_box_around_it(api, make_report, citizen):
    # North-east of the centre, 0.8 radius north and 0.8 radius east: inside the box that
    # holds the 1000 m circle, but 1130 m away.
    lat = CENTRE[0] + 800 / 111_195
    lng = CENTRE[1] + 800 / (111_195 * math.cos(math.radians(CENTRE[0])))
    corner = make_report(citizen, point=(lat, lng))
    assert _distance(CENTRE, (corner.lat, corner.lng)) > 1100

    assert _references(api.get(FEED, {"near": NEAR, "radius": 1000})) == []


def test_a_report_one_metre_inside_the_radius_is_kept_and_one_outside_is_not(
    api, make_report, citizen
):
    report = make_report(citizen, point=(CENTRE[0] + 0.0042, CENTRE[1] + 0.0031))
    distance = _distance(CENTRE, (report.lat, report.lng))

    inside = api.get(FEED, {"near": NEAR, "radius": math.ceil(distance + 1)})
    outside = api.get(FEED, {"near": NEAR, "radius": math.floor(distance - 1)})

    assert _references(inside) == [report.reference]
    assert _references(outside) == []


def test_near_never_shows_another_citizens_private_report(
    api_as, make_report, citizen, other_citizen
):
    make_report(citizen, is_public=False)

    assert _references(api_as(other_citizen).get(FEED, {"near": NEAR})) == []


def test_the_largest_radius_is_accepted(api, make_report, citizen):
    report = make_report(citizen, point=VY_DA_POINT)

    assert _references(api.get(FEED, {"near": NEAR, "radius": 50_000})) == [report.reference]


def test_a_radius_without_near_answers_400_naming_radius(api, reference_data):
    assert list(_errors(api.get(FEED, {"radius": 500}))) == ["radius"]


@pytest.mark.parametrize(
    "radius", ["0", "-5", "50001", "abc", "1e3", "12.5", "9" * 30, "9" * 5000, "5\x00"]
)
def test_a_bad_radius_answers_400_naming_radius(api, reference_data, radius):
    assert list(_errors(api.get(FEED, {"near": NEAR, "radius": radius}))) == ["radius"]


@pytest.mark.parametrize(
    "near",
    [
        "16.48",
        "16.48,107.57,3",
        "abc,def",
        "nan,nan",
        "inf,107.5",
        "1e1,107.5",
        "91,107.5",
        "16.48,181",
        "16.48;107.57",
        "16.48,107.57\x00",
        "1" * 5000,
    ],
)
def test_a_bad_near_answers_400_naming_near(api, reference_data, near):
    assert list(_errors(api.get(FEED, {"near": near}))) == ["near"]


def test_a_bad_near_with_ordering_nearest_names_only_near(api, reference_data):
    assert list(_errors(api.get(FEED, {"near": "x", "ordering": "nearest"}))) == ["near"]


# Orderings


def test_the_feed_is_newest_first_by_default_and_with_ordering_newest(api, make_report, citizen):
    older, newer = make_report(citizen), make_report(citizen)

    assert _references(api.get(FEED)) == [newer.reference, older.reference]
    assert _references(api.get(FEED, {"ordering": "newest"})) == [newer.reference, older.reference]


def test_most_supported_puts_the_most_supported_first_then_the_newest(api, make_report, citizen):
    few, none_old, many, none_new = (make_report(citizen) for _ in range(4))
    _set_supporters(few, 2)
    _set_supporters(many, 7)

    response = api.get(FEED, {"ordering": "most_supported"})

    assert _references(response) == [
        many.reference,
        few.reference,
        none_new.reference,
        none_old.reference,
    ]


def test_the_supporters_count_is_in_each_report(api, make_report, citizen):
    report = make_report(citizen)
    _set_supporters(report, 3)

    assert api.get(FEED, {"ordering": "most_supported"}).json()["results"][0]["supporters"] == 3


def test_nearest_puts_the_closest_first(api, make_report, citizen):
    far = make_report(citizen, point=_north(800))
    close = make_report(citizen, point=_north(100))
    middle = make_report(citizen, point=_north(400))

    response = api.get(FEED, {"near": NEAR, "ordering": "nearest"})

    assert _references(response) == [close.reference, middle.reference, far.reference]


def test_nearest_breaks_ties_by_the_oldest_first(api, make_report, citizen):
    first, second = make_report(citizen), make_report(citizen)

    response = api.get(FEED, {"near": NEAR, "ordering": "nearest"})

    assert _references(response) == [first.reference, second.reference]


def test_nearest_without_near_answers_400_naming_ordering(api, reference_data):
    assert list(_errors(api.get(FEED, {"ordering": "nearest"}))) == ["ordering"]


@pytest.mark.parametrize("ordering", ["oldest", "-id", "supporters_count", "nearest\x00"])
def test_an_unknown_ordering_answers_400_naming_ordering(api, reference_data, ordering):
    assert list(_errors(api.get(FEED, {"ordering": ordering}))) == ["ordering"]


# Cursor pages in every ordering


def test_most_supported_pages_show_each_report_once_in_order(api, make_report, citizen):
    supporters = [1, 0, 3, 0, 1, 0, 3]
    reports = [make_report(citizen) for _ in supporters]
    for report, count in zip(reports, supporters, strict=True):
        _set_supporters(report, count)
    ranked = sorted(zip(supporters, reports, strict=True), key=lambda pair: (-pair[0], -pair[1].pk))
    expected = [report.reference for _count, report in ranked]

    pages = _walk(api, FEED, {"ordering": "most_supported", "page_size": 2})

    assert [reference for page in pages for reference in page] == expected
    assert [len(page) for page in pages] == [2, 2, 2, 1]


def test_nearest_pages_show_each_report_once_in_order_with_ties(api, make_report, citizen):
    # Two reports at each of three places: distances tie in pairs.
    reports = [make_report(citizen, point=_north(metres)) for metres in (500, 100, 300) * 2]
    by_distance = sorted(reports, key=lambda r: (_distance(CENTRE, (r.lat, r.lng)), r.pk))

    pages = _walk(api, FEED, {"near": NEAR, "ordering": "nearest", "page_size": 2})

    assert [reference for page in pages for reference in page] == [
        report.reference for report in by_distance
    ]


def test_the_previous_link_leads_back_in_most_supported(api, make_report, citizen):
    for supporters in (5, 4, 3, 2, 1):
        _set_supporters(make_report(citizen), supporters)
    first = api.get(FEED, {"ordering": "most_supported", "page_size": 2}).json()

    second = api.get(first["next"]).json()
    back = api.get(second["previous"]).json()

    assert back["results"] == first["results"]
    assert back["previous"] is None


def test_the_previous_link_leads_back_in_nearest(api, make_report, citizen):
    for metres in (100, 200, 300, 400, 500):
        make_report(citizen, point=_north(metres))
    first = api.get(FEED, {"near": NEAR, "ordering": "nearest", "page_size": 2}).json()

    third = api.get(api.get(first["next"]).json()["next"]).json()
    second = api.get(third["previous"]).json()
    back = api.get(second["previous"]).json()

    assert len(third["results"]) == 1
    assert back["results"] == first["results"]


def test_a_report_filed_while_paging_does_not_shift_the_next_page(api, make_report, citizen):
    reports = [make_report(citizen) for _ in range(4)]
    first = api.get(FEED, {"page_size": 2}).json()

    make_report(citizen)
    second = api.get(first["next"]).json()

    assert [report["reference"] for report in second["results"]] == [
        reports[1].reference,
        reports[0].reference,
    ]


def test_a_cursor_of_another_ordering_answers_400_naming_cursor(api, make_report, citizen):
    for _ in range(3):
        make_report(citizen)
    newest = api.get(FEED, {"page_size": 2}).json()
    cursor = newest["next"].split("cursor=")[1].split("&")[0]

    response = api.get(FEED, {"ordering": "most_supported", "cursor": cursor})

    assert list(_errors(response)) == ["cursor"]


def _cursor(payload):
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode()


@pytest.mark.parametrize(
    "cursor",
    [
        "not-a-cursor",
        "\x00",
        _cursor({"o": ["-id"], "v": [10**30], "r": False}),
        _cursor({"o": ["-id"], "v": ["1"], "r": False}),
        _cursor({"o": ["-id"], "v": [True], "r": False}),
        _cursor({"o": ["-id"], "v": [1, 2], "r": False}),
        _cursor({"o": ["-id"], "v": [1], "r": "yes"}),
        _cursor({"o": ["-id"], "v": [1]}),
        _cursor([1, 2, 3]),
        "A" * 5000,
    ],
)
def test_a_garbled_cursor_answers_400_naming_cursor(api, routed_report, cursor):
    assert list(_errors(api.get(FEED, {"cursor": cursor}))) == ["cursor"]


@pytest.mark.parametrize("page_size", ["0", "-1", "abc", "9" * 30, "\x00"])
def test_a_bad_page_size_falls_back_to_the_default(api, routed_report, page_size):
    assert _references(api.get(FEED, {"page_size": page_size})) == [routed_report.reference]


# updated_after


def test_updated_after_lists_only_the_reports_changed_since(api, make_report, citizen, staff_a):
    with time_machine.travel(datetime(2026, 3, 2, 9, 0, tzinfo=HUE), tick=False):
        untouched = make_report(citizen)
        worked_on = make_report(citizen)
    with time_machine.travel(datetime(2026, 3, 3, 9, 0, tzinfo=HUE), tick=False):
        lifecycle.report_accept(report=worked_on, actor=staff_a)

    response = api.get(FEED, {"updated_after": "2026-03-03T00:00:00+07:00"})

    assert _references(response) == [worked_on.reference]
    assert untouched.reference in _references(api.get(FEED, {"updated_after": "2026-03-01"}))


def test_updated_after_includes_a_report_changed_at_that_instant(api, make_report, citizen):
    moment = datetime(2026, 3, 2, 9, 0, 0, 123456, tzinfo=HUE)
    with time_machine.travel(moment, tick=False):
        report = make_report(citizen)

    response = api.get(FEED, {"updated_after": report.updated_at.isoformat()})

    assert _references(response) == [report.reference]


def test_updated_after_syncs_from_the_latest_updated_at_seen(api, make_report, citizen, staff_a):
    with time_machine.travel(datetime(2026, 3, 2, 9, 0, tzinfo=HUE), tick=False):
        make_report(citizen)
        seen = api.get(FEED).json()["results"]
    latest = max(report["updated_at"] for report in seen)
    with time_machine.travel(datetime(2026, 3, 2, 10, 0, tzinfo=HUE), tick=False):
        new = make_report(citizen)

    assert set(_references(api.get(FEED, {"updated_after": latest}))) == {
        seen[0]["reference"],
        new.reference,
    }


@pytest.mark.parametrize("value", ["yesterday", "2026-13-01", "99999-01-01T00:00", "2026\x00"])
def test_a_bad_updated_after_answers_400_naming_it(api, reference_data, value):
    assert list(_errors(api.get(FEED, {"updated_after": value}))) == ["updated_after"]


# Combinations


def test_q_near_and_category_combine(api, make_report, citizen):
    wanted = make_report(citizen, description="Đèn đường hỏng", point=_north(200))
    make_report(citizen, description="Đèn đường hỏng", point=VY_DA_POINT)
    make_report(citizen, description="Đèn đường hỏng", category="garbage", point=_north(200))
    make_report(citizen, description="Cây đổ", point=_north(200))

    response = api.get(
        FEED, {"q": "den duong", "near": NEAR, "radius": 1000, "category": "street_lighting"}
    )

    assert _references(response) == [wanted.reference]


def test_most_supported_within_a_radius(api, make_report, citizen):
    close_quiet = make_report(citizen, point=_north(100))
    close_popular = make_report(citizen, point=_north(300))
    far_popular = make_report(citizen, point=VY_DA_POINT)
    _set_supporters(close_popular, 4)
    _set_supporters(far_popular, 9)

    response = api.get(FEED, {"near": NEAR, "ordering": "most_supported"})

    assert _references(response) == [close_popular.reference, close_quiet.reference]


def test_nearest_with_q_and_bbox(api, make_report, citizen):
    far = make_report(citizen, description="Ngập nước", point=_north(600))
    close = make_report(citizen, description="Ngập nước", point=_north(200))
    make_report(citizen, description="Rác", point=_north(100))
    lat, lng = CENTRE

    response = api.get(
        FEED,
        {
            "q": "ngap",
            "near": NEAR,
            "ordering": "nearest",
            "bbox": f"{lng - 0.01},{lat},{lng + 0.01},{lat + 0.01}",
        },
    )

    assert _references(response) == [close.reference, far.reference]


def test_nearest_with_mine_lists_the_users_own_private_reports(
    api_as, make_report, citizen, other_citizen
):
    own = make_report(citizen, is_public=False)
    make_report(other_citizen)

    response = api_as(citizen).get(FEED, {"mine": "true", "near": NEAR, "ordering": "nearest"})

    assert _references(response) == [own.reference]


def test_the_nearest_page_carries_no_distance_field(api, routed_report):
    report = api.get(FEED, {"near": NEAR, "ordering": "nearest"}).json()["results"][0]

    assert "distance" not in report


@pytest.mark.parametrize(
    "params",
    [
        {"q": "\x00"},
        {"category": "street\x00lighting"},
        {"status": "routed\x00"},
        {"mine": "\x00"},
        {"created_after": "\x00"},
        {"near": "\x00", "radius": "\x00", "ordering": "\x00"},
        {"bbox": "\x00" * 100},
    ],
)
def test_nul_bytes_in_any_parameter_answer_400_never_500(api, reference_data, params):
    assert api.get(FEED, params).status_code == 400


# ETag and If-None-Match


def test_the_feed_carries_a_weak_etag(api, routed_report):
    assert api.get(FEED)["ETag"].startswith('W/"')


def test_the_feed_answers_304_to_its_own_etag(api, routed_report):
    etag = api.get(FEED)["ETag"]

    response = api.get(FEED, HTTP_IF_NONE_MATCH=etag)

    assert response.status_code == 304
    assert response.content == b""
    assert response["ETag"] == etag


def test_the_feed_answers_304_to_the_etag_among_others(api, routed_report):
    etag = api.get(FEED)["ETag"]

    response = api.get(FEED, HTTP_IF_NONE_MATCH=f'"other", {etag.removeprefix("W/")}')

    assert response.status_code == 304


def test_the_feed_answers_304_to_a_star(api, routed_report):
    assert api.get(FEED, HTTP_IF_NONE_MATCH="*").status_code == 304


def test_the_feed_answers_200_to_another_etag(api, routed_report):
    response = api.get(FEED, HTTP_IF_NONE_MATCH='W/"something-else"')

    assert response.status_code == 200
    assert _references(response) == [routed_report.reference]


def test_a_status_change_changes_the_feed_etag(api, routed_report, staff_a):
    etag = api.get(FEED)["ETag"]

    lifecycle.report_accept(report=routed_report, actor=staff_a)
    response = api.get(FEED, HTTP_IF_NONE_MATCH=etag)

    assert response.status_code == 200
    assert response["ETag"] != etag


def test_a_new_report_changes_the_feed_etag(api, make_report, citizen):
    make_report(citizen)
    etag = api.get(FEED)["ETag"]

    make_report(citizen)

    assert api.get(FEED, HTTP_IF_NONE_MATCH=etag).status_code == 200


def test_a_new_supporter_changes_the_feed_etag(api, routed_report):
    etag = api.get(FEED)["ETag"]

    _set_supporters(routed_report, 1)

    assert api.get(FEED, HTTP_IF_NONE_MATCH=etag).status_code == 200


def test_the_etag_differs_by_language(api, routed_report):
    vietnamese = api.get(FEED, HTTP_ACCEPT_LANGUAGE="vi")["ETag"]

    response = api.get(FEED, HTTP_ACCEPT_LANGUAGE="en", HTTP_IF_NONE_MATCH=vietnamese)

    assert response.status_code == 200
    assert response["ETag"] != vietnamese


def test_the_etag_differs_by_viewer(api, api_as, make_report, citizen):
    make_report(citizen, hide_name=True)
    anonymous = api.get(FEED)["ETag"]

    assert api_as(citizen).get(FEED, HTTP_IF_NONE_MATCH=anonymous).status_code == 200


def test_each_page_has_its_own_etag(api, make_report, citizen):
    for _ in range(3):
        make_report(citizen)
    first = api.get(FEED, {"page_size": 2})

    second = api.get(first.json()["next"])

    assert first["ETag"] != second["ETag"]


def test_the_detail_carries_a_weak_etag_and_answers_304_to_it(api, routed_report):
    url = f"{FEED}/{routed_report.reference}"
    etag = api.get(url)["ETag"]

    response = api.get(url, HTTP_IF_NONE_MATCH=etag)

    assert etag.startswith('W/"')
    assert response.status_code == 304
    assert response.content == b""


def test_a_public_update_changes_the_detail_etag(api, routed_report, staff_a):
    url = f"{FEED}/{routed_report.reference}"
    lifecycle.report_accept(report=routed_report, actor=staff_a)
    etag = api.get(url)["ETag"]

    lifecycle.report_post_update(report=routed_report, actor=staff_a, message="Đang thay bóng.")
    response = api.get(url, HTTP_IF_NONE_MATCH=etag)

    assert response.status_code == 200
    assert response.json()["timeline"][-1]["message"] == "Đang thay bóng."


def test_a_private_report_answers_404_whatever_the_etag(
    api_as, make_report, citizen, other_citizen
):
    private = make_report(citizen, is_public=False)

    response = api_as(other_citizen).get(f"{FEED}/{private.reference}", HTTP_IF_NONE_MATCH="*")

    assert response.status_code == 404


# Query counts: every filter and ordering costs what the plain feed costs


def _queries(client, data=None, **headers):
    with CaptureQueriesContext(connection) as context:
        response = client.get(FEED, data, **headers)
    assert response.status_code in (200, 304), response.content
    return len(context.captured_queries)


@pytest.mark.parametrize(
    "params",
    [
        {"q": "đèn đường"},
        {"bbox": "107.5,16.4,107.7,16.6"},
        {"near": NEAR},
        {"near": NEAR, "radius": 5000, "ordering": "nearest"},
        {"ordering": "most_supported"},
        {"updated_after": "2026-01-01T00:00:00+07:00"},
        {"q": "den", "near": NEAR, "ordering": "most_supported", "category": "street_lighting"},
    ],
)
def test_a_filtered_or_ordered_feed_costs_what_the_plain_feed_costs(
    api, make_report, citizen, params
):
    for _ in range(3):
        make_report(citizen, photos=2)

    assert _queries(api, params) == _queries(api)


@pytest.mark.parametrize(
    "params",
    [{"near": NEAR, "ordering": "nearest"}, {"ordering": "most_supported"}, {"q": "den"}],
)
def test_an_ordered_feed_costs_the_same_for_30_reports_as_for_5(api, make_report, citizen, params):
    for _ in range(5):
        make_report(citizen)
    small = _queries(api, {**params, "page_size": 50})
    for _ in range(25):
        make_report(citizen)

    assert _queries(api, {**params, "page_size": 50}) == small


def test_a_later_page_costs_what_the_first_page_costs(api, make_report, citizen):
    for _ in range(5):
        make_report(citizen)
    first = api.get(FEED, {"ordering": "most_supported", "page_size": 2}).json()

    with CaptureQueriesContext(connection) as later:
        api.get(first["next"])

    assert len(later.captured_queries) == _queries(api, {"ordering": "most_supported"})


def test_a_304_costs_no_more_than_a_200(api, make_report, citizen):
    for _ in range(3):
        make_report(citizen)
    etag = api.get(FEED)["ETag"]

    assert _queries(api, HTTP_IF_NONE_MATCH=etag) <= _queries(api)
