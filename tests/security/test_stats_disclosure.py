"""Issue 16, point 10 (the last leak), reproduced: /api/v1/stats counts private reports, so a
filter narrow enough (one area, one day) answered `received: 1` where the public feed showed
nothing: someone had reported there privately.

Now the public statistics withhold (null) every count under STATS_MIN_COUNT, zero included,
with what is worked out from it, and a second group in a breakdown where one alone would be
withheld (insights.disclosure): the answer is the same whether the private report exists or
not."""

from __future__ import annotations

from typing import Any

import pytest
import time_machine
from django.core.cache import cache
from rest_framework.test import APIClient

from insights import rollup
from insights.disclosure import small_counts_withheld
from reports.models import Area, Category, ReportStatus
from tests.factories import ReportFactory
from tests.insights import stats_scenario
from tests.insights.stats_scenario import NOW, at

pytestmark = pytest.mark.django_db

# An area where the scenario files nothing.
QUIET_AREA = "20056"
NARROW = {"date_from": "2026-11-29", "date_to": "2026-11-29", "area": QUIET_AREA}
NOVEMBER = {"date_from": "2026-11-01", "date_to": "2026-11-30"}


@pytest.fixture
def scenario(reference_data: None) -> Any:
    cache.clear()
    with time_machine.travel(NOW, tick=False):
        yield stats_scenario.build()


def stats(**params: str) -> dict[str, Any]:
    cache.clear()
    with time_machine.travel(NOW, tick=False):
        response = APIClient().get("/api/v1/stats", params)
    assert response.status_code == 200, response.content
    return response.json()


def test_a_narrow_filter_does_not_tell_that_a_private_report_exists(scenario):
    # A private report, alone in its area and category: the public feed shows nothing there.
    with time_machine.travel(NOW, tick=False):
        private = ReportFactory(
            category=Category.objects.get(code="drainage"),
            area=Area.objects.get(code=QUIET_AREA),
            agency=None,
            status=ReportStatus.SUBMITTED,
            is_public=False,
            created_at=at(11, 29),
        )
        rollup.refresh()
    narrow = {**NARROW, "category": "drainage"}

    with_it = stats(**narrow)
    with time_machine.travel(NOW, tick=False):
        private.delete()
        rollup.refresh()
    without_it = stats(**narrow)

    assert with_it["city"]["received"] is None  # was 1
    assert with_it["city"]["open"] is None  # was 1
    assert with_it == without_it


def test_the_scenarios_private_report_is_withheld_in_its_area_on_its_day(scenario):
    assert not scenario["r10"].is_public

    body = stats(date_from="2026-11-29", date_to="2026-11-29", area="19753")

    assert body["city"]["received"] is None  # was 1: r10 alone


def test_counts_of_at_least_the_minimum_are_shown(scenario):
    body = stats(**NOVEMBER)

    assert body["city"]["received"] == 9
    assert body["city"]["open"] == 6
    assert body["city"]["resolved"] is None  # 4 resolved: under 5
    assert body["city"]["median_resolution_hours"] is None
    assert body["city"]["satisfaction"] is None  # 3 ratings


def test_a_breakdown_never_withholds_a_single_group(scenario):
    body = stats(**NOVEMBER)

    for kind in ("agencies", "categories", "areas", "channels"):
        for name in ("received", "resolved", "open"):
            withheld = [group for group in body[kind] if group[name] is None]
            assert len(withheld) != 1 or len(body[kind]) == 1, (kind, name)


def test_the_minimum_is_a_setting(scenario, settings):
    settings.STATS_MIN_COUNT = 1

    body = stats(date_from="2026-11-29", date_to="2026-11-29", area="19753")

    assert body["city"]["received"] == 1


def figures(**counts: int) -> dict[str, Any]:
    base = dict.fromkeys(("received", "resolved", "ratings", "open", "overdue"), 10)
    rates = dict.fromkeys(
        ("on_time_rate", "median_resolution_hours", "average_resolution_hours", "satisfaction"),
        1.0,
    )
    return {**base, **rates, **counts}


def test_the_total_less_the_others_does_not_give_a_group_away():
    payload = {
        "city": figures(received=30),
        "agencies": [
            {"code": "a", **figures(received=2)},
            {"code": "b", **figures(received=12)},
            {"code": "c", **figures(received=16)},
        ],
        "categories": [],
        "areas": [],
        "channels": [],
    }

    shown = small_counts_withheld(payload, minimum=5)

    assert [group["received"] for group in shown["agencies"]] == [None, None, 16]
    assert shown["city"]["received"] == 30
    assert payload["agencies"][0]["received"] == 2  # the payload itself is unchanged
