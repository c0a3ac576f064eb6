"""The API's reads cost a constant number of queries, whatever the amount of data."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from reports import lifecycle
from reports.models import Category

FEED = "/api/v1/reports"


def _queries(client, url, data=None, **headers):
    """The SQL a request ran, after checking it succeeded."""
    with CaptureQueriesContext(connection) as context:
        response = client.get(url, data, **headers)
    assert response.status_code == 200, response.content
    return [query["sql"] for query in context.captured_queries]


@pytest.fixture
def file_many(make_report):
    def make(reporter, count, *, photos=1, **fields):
        return [make_report(reporter, photos=photos, **fields) for _ in range(count)]

    return make


def test_the_anonymous_feed_costs_two_queries(api, file_many, citizen, django_assert_num_queries):
    file_many(citizen, 3, photos=2)

    with django_assert_num_queries(2):
        api.get(FEED)


def test_the_feed_costs_the_same_for_30_reports_as_for_5(api, file_many, citizen):
    file_many(citizen, 5)
    small = _queries(api, FEED, {"page_size": 50})
    file_many(citizen, 25)

    large = _queries(api, FEED, {"page_size": 50})

    assert len(api.get(FEED, {"page_size": 50}).json()["results"]) == 30
    assert len(large) == len(small)


def test_the_feed_costs_the_same_whatever_the_page_size(api, file_many, citizen):
    file_many(citizen, 12)

    assert len(_queries(api, FEED, {"page_size": 2})) == len(_queries(api, FEED, {"page_size": 12}))


def test_the_feed_costs_the_same_with_five_photos_per_report_as_with_one(
    api, file_many, citizen, other_citizen
):
    file_many(citizen, 4, photos=1)
    one_photo = _queries(api, FEED, {"page_size": 4})
    file_many(other_citizen, 4, photos=5)

    five_photos = _queries(api, FEED, {"page_size": 4})

    assert len(five_photos) == len(one_photo)


def test_a_signed_in_users_feed_costs_the_same_for_30_reports_as_for_5(
    api_as, file_many, citizen, django_assert_max_num_queries
):
    client = api_as(citizen)
    file_many(citizen, 5, is_public=False)
    small = _queries(client, FEED, {"mine": "true", "page_size": 50})
    file_many(citizen, 25, is_public=False)

    with django_assert_max_num_queries(len(small)):
        response = client.get(FEED, {"mine": "true", "page_size": 50})

    assert len(response.json()["results"]) == 30


def test_a_filtered_feed_costs_the_same_as_the_plain_one(api, file_many, citizen):
    file_many(citizen, 4)

    filtered = _queries(
        api, FEED, {"status": "routed", "category": "street_lighting", "agency": "hepco"}
    )

    assert len(filtered) == len(_queries(api, FEED))


def test_the_feed_does_not_load_area_boundaries(api, file_many, citizen):
    file_many(citizen, 2)

    sql = " ".join(_queries(api, FEED))

    assert "boundary" not in sql


def test_the_detail_costs_the_same_whatever_the_timeline_length(
    api, routed_report, staff_a, django_assert_max_num_queries
):
    url = f"{FEED}/{routed_report.reference}"
    short = _queries(api, url)
    lifecycle.report_accept(report=routed_report, actor=staff_a)
    for n in range(15):
        lifecycle.report_post_update(report=routed_report, actor=staff_a, message=f"Bước {n}")
        lifecycle.report_add_note(report=routed_report, actor=staff_a, message=f"Ghi chú {n}")

    with django_assert_max_num_queries(len(short)):
        response = api.get(url)

    assert len(response.json()["timeline"]) == 2 + 1 + 15


def test_the_detail_costs_the_same_whatever_the_number_of_photos(
    api, make_report, citizen, django_assert_max_num_queries
):
    one = make_report(citizen, photos=1)
    five = make_report(citizen, photos=5)
    expected = len(_queries(api, f"{FEED}/{one.reference}"))

    with django_assert_max_num_queries(expected):
        response = api.get(f"{FEED}/{five.reference}")

    assert len(response.json()["photos"]) == 5


def test_the_categories_list_costs_one_query_however_many_categories(
    api, reference_data, django_assert_num_queries
):
    for n in range(10):
        Category.objects.create(code=f"extra-{n}", name_vi=f"Thêm {n}", name_en=f"Extra {n}")

    with django_assert_num_queries(1):
        response = api.get("/api/v1/categories")

    assert len(response.json()) == 21


def test_the_areas_list_costs_one_query_for_all_40_areas(
    api, reference_data, django_assert_num_queries
):
    with django_assert_num_queries(1):
        response = api.get("/api/v1/areas")

    assert len(response.json()) == 40


def test_the_areas_list_does_not_load_the_boundaries(api, reference_data):
    assert "boundary" not in " ".join(_queries(api, "/api/v1/areas"))
