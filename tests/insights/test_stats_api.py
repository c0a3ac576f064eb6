"""GET /api/v1/stats: the city's public figures, worked out by hand in stats_scenario."""

from __future__ import annotations

from typing import Any

import pytest
import time_machine
from django.core.cache import cache
from rest_framework.test import APIClient

from insights import rollup
from tests.hues.test_schema_conformance import assert_conforms
from tests.insights import stats_scenario
from tests.insights.stats_scenario import NOW

pytestmark = pytest.mark.django_db

NOVEMBER = {"date_from": "2026-11-01", "date_to": "2026-11-30"}


@pytest.fixture(autouse=True)
def _every_count_shown(settings: Any) -> None:
    """These tests check the arithmetic on a dozen reports: nothing withheld (the
    withholding of small counts: tests/security/test_stats_disclosure.py)."""
    settings.STATS_MIN_COUNT = 1


@pytest.fixture
def scenario(reference_data: None) -> Any:
    cache.clear()
    with time_machine.travel(NOW, tick=False):
        reports = stats_scenario.build()
        yield reports


def get(api: APIClient, **params: str) -> Any:
    with time_machine.travel(NOW, tick=False):
        return api.get("/api/v1/stats", params)


def group(body: dict[str, Any], kind: str, code: str) -> dict[str, Any]:
    return next(item for item in body[kind] if item["code"] == code)


def test_city_figures_count_the_period_in_hues_time(api: APIClient, scenario: Any) -> None:
    response = get(api, **NOVEMBER)
    assert response.status_code == 200, response.content
    city = response.json()["city"]
    assert city == {
        "received": 9,  # r1 r2 r3 r5 r6 r7 r9 r10 r11 (not r4, r8, r12)
        "resolved": 4,  # r1 r2 r4 r7
        "on_time_rate": 0.5,  # r1 and r7
        "median_resolution_hours": 48.0,  # 6, 24, 72, 312
        "average_resolution_hours": 103.5,
        "satisfaction": 3.67,  # 5, 2, 4
        "ratings": 3,
        "open": 6,  # r3 r5 r9 r10 r11 r12
        "overdue": 1,  # r3
    }
    assert_conforms(response, "GET", "/api/v1/stats")


def test_figures_per_agency_category_and_area(api: APIClient, scenario: Any) -> None:
    body = get(api, **NOVEMBER).json()
    hepco = group(body, "agencies", "hepco")
    assert (hepco["received"], hepco["resolved"], hepco["open"], hepco["overdue"]) == (6, 4, 4, 1)
    assert hepco["on_time_rate"] == 0.5
    ward = group(body, "agencies", "ward-19753")
    assert (ward["received"], ward["resolved"], ward["open"]) == (2, 0, 1)
    assert ward["on_time_rate"] is None
    assert ward["median_resolution_hours"] is None
    lighting = group(body, "categories", "street_lighting")
    assert (lighting["received"], lighting["resolved"]) == (5, 3)
    assert lighting["on_time_rate"] == pytest.approx(1 / 3, abs=1e-4)
    assert lighting["median_resolution_hours"] == 72.0
    vy_da = group(body, "areas", "19777")
    assert (vy_da["received"], vy_da["resolved"], vy_da["open"]) == (2, 1, 1)
    # The report without an agency is counted for the city, not for any agency.
    assert sum(item["received"] for item in body["agencies"]) == body["city"]["received"] - 1


def test_filters_narrow_every_figure(api: APIClient, scenario: Any) -> None:
    body = get(api, **NOVEMBER, agency="hepco", category="street_lighting").json()
    assert body["city"]["received"] == 5
    assert [item["code"] for item in body["agencies"]] == ["hepco"]
    body = get(api, **NOVEMBER, area="19777").json()
    assert body["city"]["received"] == 2
    assert {item["code"] for item in body["categories"]} == {"drainage", "other"}


def test_the_default_period_is_the_last_thirty_days(api: APIClient, scenario: Any) -> None:
    body = get(api).json()
    assert (body["date_from"], body["date_to"]) == ("2026-11-02", "2026-12-01")
    # r1 (3 Nov) is in, r4's resolution (2 Nov) too; r12 (1 Dec, Hue time) is received.
    assert body["city"]["received"] == 10
    assert body["city"]["resolved"] == 4


def test_names_follow_the_language(api: APIClient, scenario: Any) -> None:
    with time_machine.travel(NOW, tick=False):
        english = api.get("/api/v1/stats", NOVEMBER, HTTP_ACCEPT_LANGUAGE="en").json()
        vietnamese = api.get("/api/v1/stats", NOVEMBER, HTTP_ACCEPT_LANGUAGE="vi").json()
    assert group(english, "categories", "drainage")["name"] == "Drainage and flooding"
    assert group(vietnamese, "categories", "drainage")["name"] == "Thoát nước, ngập úng"


def test_served_from_the_cache_after_the_first_call(
    api: APIClient, scenario: Any, django_assert_max_num_queries: Any, settings: Any
) -> None:
    settings.STATS_CACHE_SECONDS = 300
    with django_assert_max_num_queries(8):
        first = get(api, **NOVEMBER).json()
    with django_assert_max_num_queries(0):
        again = get(api, **NOVEMBER).json()
    assert again == first
    scenario["r3"].delete()
    rollup.rebuild()  # a deletion is counted by the nightly rebuild
    with time_machine.travel(NOW, tick=False):
        assert api.get("/api/v1/stats", NOVEMBER).json()["city"]["received"] == 9


def test_the_cache_lasts_stats_cache_seconds(api: APIClient, scenario: Any, settings: Any) -> None:
    settings.STATS_CACHE_SECONDS = 0  # not kept at all
    assert get(api, **NOVEMBER).json()["city"]["received"] == 9
    scenario["r3"].delete()
    rollup.rebuild()  # a deletion is counted by the nightly rebuild
    assert get(api, **NOVEMBER).json()["city"]["received"] == 8


def test_private_reports_are_only_counted(api: APIClient, scenario: Any) -> None:
    body = get(api, **NOVEMBER).content.decode()
    private = scenario["r10"]
    assert private.reference not in body
    assert private.description not in body


@pytest.mark.parametrize(
    ("params", "field", "code"),
    [
        ({"date_from": "2026-13-01"}, "date_from", "invalid"),
        ({"date_to": "yesterday"}, "date_to", "invalid"),
        ({"date_from": "2026-12-05", "date_to": "2026-12-01"}, "date_from", "invalid"),
        ({"date_from": "1990-01-01", "date_to": "2026-01-01"}, "date_from", "out_of_range"),
        ({"date_from": "2000-01-01", "date_to": "2026-01-01"}, "date_from", "invalid"),
        ({"date_to": "99999-01-01"}, "date_to", "invalid"),
        ({"category": "potholes"}, "category", "unknown_category"),
        ({"agency": "nobody"}, "agency", "unknown_agency"),
        ({"area": "00000"}, "area", "unknown_area"),
        ({"area": "19753\x00"}, "area", "null_characters_not_allowed"),
        ({"agency": "x" * 500}, "agency", "max_length"),
    ],
)
def test_bad_parameters_answer_400_naming_the_field(
    api: APIClient, scenario: Any, params: dict[str, str], field: str, code: str
) -> None:
    response = get(api, **params)
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == "invalid"
    assert code in [error["code"] for error in body["fields"][field]]
    assert_conforms(response, "GET", "/api/v1/stats")


def test_an_empty_city_has_zeroes_and_no_rates(api: APIClient, reference_data: None) -> None:
    cache.clear()
    body = get(api, **NOVEMBER).json()
    assert body["city"]["received"] == 0
    assert body["city"]["on_time_rate"] is None
    assert body["agencies"] == body["categories"] == body["areas"] == []
