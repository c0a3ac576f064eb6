"""A city chosen per test: its settings, and its reference data loaded inside the test's
transaction (rolled back after it, with the routing snapshot told to reload)."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.cache import cache

from hues.city import City, available_cities, load_city
from reports.cities import city_load
from reports.selectors import holidays_changed, routing_data_changed
from tests.conftest import need

CITIES = available_cities()


def inside_points(city: City) -> dict[str, tuple[float, float]]:
    """Each unit's point guaranteed to lie inside it (the CSV beside the boundaries)."""
    table = city.boundaries.with_suffix(".csv")
    need(table.is_file(), f"the area table is not at {table}")
    with table.open(encoding="utf-8", newline="") as file:
        return {
            row["code"]: (float(row["inside_lat"]), float(row["inside_lng"]))
            for row in csv.DictReader(file)
        }


@pytest.fixture(params=CITIES)
def city(request: pytest.FixtureRequest, settings: Any, db: None) -> Iterator[City]:
    """The city, selected as CITY would select it, with its reference data loaded."""
    definition = load_city(request.param)
    need(definition.boundaries.is_file(), f"the boundaries are not at {definition.boundaries}")
    settings.CITY = definition.slug
    settings.TIME_ZONE = definition.time_zone
    settings.REPORT_REFERENCE_PREFIX = definition.reference_prefix
    settings.WORKING_HOURS = definition.working_hours
    settings.AREAS_GEOJSON = Path(definition.boundaries)
    city_load(definition, boundaries=definition.boundaries)
    routing_data_changed()
    holidays_changed()
    cache.clear()  # the statistics and pages other tests cached
    yield definition
    routing_data_changed()
    holidays_changed()
