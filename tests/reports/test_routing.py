"""Routing (reports.routing): which area holds a point, and which agency a report goes to."""

from __future__ import annotations

import csv
import functools
import json
import math
from pathlib import Path
from typing import Any

import pytest
import shapely
from django.conf import settings as django_settings
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from shapely.geometry import Point, box, mapping, shape

from reports.routing import AreaIndex, Decision, Rule, decide
from tests.conftest import PHU_XUAN, PHU_XUAN_POINT, SAIGON_POINT, VY_DA_POINT, need

HYPOTHESIS = settings(max_examples=150, deadline=None)
VY_DA = "19777"

# Real data: the 40 units of Hue (../shared/data), skipped locally when missing, required in CI.

GEOJSON = Path(django_settings.AREAS_GEOJSON)
CSV = GEOJSON.with_suffix(".csv")


@functools.cache
def _real_areas() -> tuple[tuple[str, dict[str, Any]], ...]:
    features = json.loads(GEOJSON.read_text(encoding="utf-8"))["features"]
    return tuple((feature["properties"]["code"], feature["geometry"]) for feature in features)


@functools.cache
def _inside_points() -> dict[str, tuple[float, float]]:
    with CSV.open(encoding="utf-8", newline="") as file:
        return {
            row["code"]: (float(row["inside_lat"]), float(row["inside_lng"]))
            for row in csv.DictReader(file)
        }


@pytest.fixture
def real_areas() -> tuple[tuple[str, dict[str, Any]], ...]:
    need(GEOJSON.is_file(), f"the area boundaries are not at {GEOJSON}")
    return _real_areas()


@pytest.fixture
def inside_points() -> dict[str, tuple[float, float]]:
    need(CSV.is_file(), f"the area table is not at {CSV}")
    return _inside_points()


@pytest.fixture
def real_index(real_areas) -> AreaIndex:
    return AreaIndex(real_areas)


@pytest.fixture
def real_index_with_tolerance(real_areas) -> AreaIndex:
    return AreaIndex(real_areas, tolerance=django_settings.AREA_TOLERANCE_DEGREES)


def test_the_real_boundaries_and_the_table_list_the_same_40_units(real_areas, inside_points):
    assert len(real_areas) == 40
    assert {code for code, _ in real_areas} == set(inside_points)


def test_every_units_inside_point_locates_to_its_own_code(real_index, inside_points):
    located = {code: real_index.locate(lng, lat) for code, (lat, lng) in inside_points.items()}

    assert located == {code: code for code in inside_points}


def test_every_units_inside_point_locates_to_its_own_code_with_the_configured_tolerance(
    real_index_with_tolerance, inside_points
):
    index = real_index_with_tolerance
    located = {code: index.locate(lng, lat) for code, (lat, lng) in inside_points.items()}

    assert located == {code: code for code in inside_points}


def test_the_points_the_test_suite_uses_are_in_the_wards_it_says(real_index):
    assert real_index.locate(PHU_XUAN_POINT[1], PHU_XUAN_POINT[0]) == PHU_XUAN
    assert real_index.locate(VY_DA_POINT[1], VY_DA_POINT[0]) == VY_DA


def test_a_point_in_saigon_is_outside_every_area(real_index, real_index_with_tolerance):
    lat, lng = SAIGON_POINT

    assert real_index.locate(lng, lat) is None
    assert real_index_with_tolerance.locate(lng, lat) is None


def test_a_point_just_past_the_citys_eastern_edge_is_outside_every_area(
    real_areas, real_index_with_tolerance
):
    city = shapely.union_all([shapely.make_valid(shape(geometry)) for _, geometry in real_areas])
    _, min_lat, max_lng, max_lat = city.bounds

    assert real_index_with_tolerance.locate(max_lng + 0.01, (min_lat + max_lat) / 2) is None


def test_points_in_real_overlap_slivers_go_to_the_lowest_code_whatever_the_load_order(
    real_areas,
):
    shapes = {code: shapely.make_valid(shape(geometry)) for code, geometry in real_areas}
    slivers = []
    for first, second in sorted(
        (a, b) for a in shapes for b in shapes if a < b and shapes[a].intersects(shapes[b])
    ):
        overlap = shapes[first].intersection(shapes[second])
        if overlap.area > 0:
            point = overlap.representative_point()
            holders = sorted(code for code, area in shapes.items() if area.covers(point))
            slivers.append((point, holders))
    assert slivers  # the simplified boundaries do overlap (../shared/data/README.md)
    forward = AreaIndex(real_areas)
    backward = AreaIndex(reversed(real_areas))

    for point, holders in slivers:
        assert len(holders) >= 2
        assert forward.locate(point.x, point.y) == holders[0]
        assert backward.locate(point.x, point.y) == holders[0]


# Synthetic areas: overlaps, boundaries, tolerance, holes.


def square(x0: float, y0: float, x1: float, y1: float) -> dict[str, Any]:
    return mapping(box(x0, y0, x1, y1))


def test_an_overlap_gives_the_same_answer_whatever_the_load_order():
    b_then_a = AreaIndex([("b", square(0, 0, 2, 2)), ("a", square(1, 1, 3, 3))])
    a_then_b = AreaIndex([("a", square(1, 1, 3, 3)), ("b", square(0, 0, 2, 2))])

    assert b_then_a.locate(1.5, 1.5) == a_then_b.locate(1.5, 1.5) == "a"


def test_an_overlap_goes_to_the_code_that_sorts_first_even_when_listed_last():
    index = AreaIndex([("20002", square(0, 0, 2, 2)), ("20001", square(1, 1, 3, 3))])

    assert index.locate(1.5, 1.5) == "20001"


def test_a_point_in_only_one_of_two_overlapping_areas_belongs_to_that_one():
    index = AreaIndex([("a", square(1, 1, 3, 3)), ("b", square(0, 0, 2, 2))])

    assert index.locate(0.5, 0.5) == "b"
    assert index.locate(2.5, 2.5) == "a"


def test_a_point_on_the_boundary_belongs_to_the_area():
    index = AreaIndex([("a", square(0, 0, 1, 1))])

    assert index.locate(1.0, 0.5) == "a"


def test_the_coordinates_are_longitude_then_latitude():
    index = AreaIndex([("tall", square(0, 0, 1, 10))])

    assert index.locate(0.5, 5) == "tall"
    assert index.locate(5, 0.5) is None


def test_a_point_just_outside_within_the_tolerance_snaps_to_the_area():
    index = AreaIndex([("a", square(0, 0, 1, 1))], tolerance=0.01)

    assert index.locate(1.005, 0.5) == "a"


def test_a_point_outside_beyond_the_tolerance_is_outside_every_area():
    index = AreaIndex([("a", square(0, 0, 1, 1))], tolerance=0.01)

    assert index.locate(1.02, 0.5) is None


def test_without_tolerance_a_point_just_outside_is_outside_every_area():
    index = AreaIndex([("a", square(0, 0, 1, 1))])

    assert index.locate(1.0001, 0.5) is None


def test_a_point_in_a_gap_between_neighbours_belongs_to_the_nearest():
    index = AreaIndex([("a", square(0, 0, 1, 1)), ("b", square(1.01, 0, 2, 1))], tolerance=0.01)

    assert index.locate(1.002, 0.5) == "a"
    assert index.locate(1.008, 0.5) == "b"


def test_a_point_equally_near_two_neighbours_goes_to_the_lowest_code():
    areas = [("b", square(0, 0, 1, 1)), ("a", square(1.5, 0, 2, 1))]

    assert AreaIndex(areas, tolerance=0.5).locate(1.25, 0.5) == "a"
    assert AreaIndex(reversed(areas), tolerance=0.5).locate(1.25, 0.5) == "a"


def test_an_area_containing_the_point_beats_a_nearer_boundary_of_another():
    index = AreaIndex([("a", square(0, 0, 1, 1)), ("b", square(1.001, 0, 2, 1))], tolerance=0.01)

    assert index.locate(0.9999, 0.5) == "a"
    assert index.locate(1.0011, 0.5) == "b"


def test_a_point_in_a_hole_belongs_to_the_enclave_not_the_surrounding_area():
    ring = {
        "type": "Polygon",
        "coordinates": [
            [[0, 0], [4, 0], [4, 4], [0, 4], [0, 0]],
            [[1, 1], [1, 3], [3, 3], [3, 1], [1, 1]],
        ],
    }
    index = AreaIndex([("a-ring", ring), ("z-enclave", square(1, 1, 3, 3))])

    assert index.locate(2, 2) == "z-enclave"
    assert index.locate(0.5, 0.5) == "a-ring"


def test_a_point_in_any_part_of_a_multipolygon_belongs_to_the_area():
    islands = {
        "type": "MultiPolygon",
        "coordinates": [
            [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]],
            [[[5, 5], [6, 5], [6, 6], [5, 6], [5, 5]]],
        ],
    }
    index = AreaIndex([("islands", islands)])

    assert index.locate(5.5, 5.5) == "islands"
    assert index.locate(3, 3) is None


def test_an_empty_index_holds_no_point():
    index = AreaIndex([], tolerance=1.0)

    assert len(index) == 0
    assert index.locate(0, 0) is None


@pytest.mark.parametrize(
    ("lng", "lat"),
    [(math.nan, 0.5), (0.5, math.nan), (math.inf, 0.5), (0.5, -math.inf)],
)
def test_a_point_with_a_non_finite_coordinate_is_outside_every_area(lng, lat):
    index = AreaIndex([("a", square(0, 0, 1, 1))], tolerance=0.01)

    assert index.locate(lng, lat) is None


squares = st.lists(
    st.tuples(st.integers(0, 8), st.integers(0, 8), st.integers(1, 4), st.integers(1, 4)),
    min_size=1,
    max_size=8,
)
coordinates = st.floats(-1, 13, allow_nan=False)


@HYPOTHESIS
@given(corners=squares, lng=coordinates, lat=coordinates, data=st.data())
def test_a_point_belongs_to_the_lowest_code_among_the_areas_holding_it(corners, lng, lat, data):
    areas = [(f"{i:02d}", square(x, y, x + w, y + h)) for i, (x, y, w, h) in enumerate(corners)]
    holders = sorted(code for code, geometry in areas if shape(geometry).covers(Point(lng, lat)))
    shuffled = data.draw(st.permutations(areas))

    located = AreaIndex(shuffled).locate(lng, lat)

    assert located == (holders[0] if holders else None)


@HYPOTHESIS
@given(
    lng=st.floats(-2, 3, allow_nan=False),
    lat=st.floats(-2, 3, allow_nan=False),
    tolerance=st.floats(0.001, 1),
)
def test_a_point_snaps_to_an_area_exactly_when_within_the_tolerance(lng, lat, tolerance):
    area = box(0, 0, 1, 1)
    distance = area.distance(Point(lng, lat))
    assume(abs(distance - tolerance) > 1e-9)

    located = AreaIndex([("a", mapping(area))], tolerance=tolerance).locate(lng, lat)

    assert located == ("a" if distance < tolerance else None)


@HYPOTHESIS
@given(lng=st.floats(), lat=st.floats())
def test_any_coordinates_give_an_area_or_none_never_an_error(lng, lat):
    index = AreaIndex([("a", square(0, 0, 1, 1))], tolerance=0.01)

    assert index.locate(lng, lat) in ("a", None)


# decide(): the precedence of routing rules.

AREA = "19753"
OTHER_AREA = "19774"
COMMITTEES = {AREA: f"ward-{AREA}"}


def test_a_category_and_area_rule_beats_a_category_only_rule():
    rules = [
        Rule(category="garbage", area=None, agency="hepco"),
        Rule(category="garbage", area=AREA, agency="green_city"),
    ]

    decision = decide(category="garbage", area=AREA, rules=rules, ward_committees=COMMITTEES)

    assert decision == Decision(agency="green_city", reason="rule:area")


def test_a_category_only_rule_beats_the_default_agency():
    rules = [Rule(category="garbage", area=None, agency="green_city")]

    decision = decide(
        category="garbage",
        area=AREA,
        rules=rules,
        ward_committees=COMMITTEES,
        default_agency="hepco",
    )

    assert decision == Decision(agency="green_city", reason="rule:category")


def test_the_default_agency_handles_a_category_no_rule_matches():
    decision = decide(
        category="garbage", area=AREA, rules=[], ward_committees=COMMITTEES, default_agency="hepco"
    )

    assert decision == Decision(agency="hepco", reason="default")


def test_with_no_rule_and_no_default_the_report_goes_to_triage():
    decision = decide(category="garbage", area=AREA, rules=[], ward_committees=COMMITTEES)

    assert decision == Decision(agency=None, reason="no_rule")


def test_rules_of_other_categories_are_ignored():
    rules = [
        Rule(category="drainage", area=AREA, agency="hepco"),
        Rule(category="drainage", area=None, agency="hepco"),
    ]

    decision = decide(category="garbage", area=AREA, rules=rules, ward_committees=COMMITTEES)

    assert decision == Decision(agency=None, reason="no_rule")


def test_a_rule_for_another_area_is_ignored():
    rules = [
        Rule(category="garbage", area=OTHER_AREA, agency="green_city"),
        Rule(category="garbage", area=None, agency="hepco"),
    ]

    decision = decide(category="garbage", area=AREA, rules=rules, ward_committees=COMMITTEES)

    assert decision == Decision(agency="hepco", reason="rule:category")


def test_area_rules_are_ignored_when_the_area_is_unknown():
    rules = [
        Rule(category="garbage", area=AREA, agency="green_city"),
        Rule(category="garbage", area=None, agency="hepco"),
    ]

    decision = decide(category="garbage", area=None, rules=rules, ward_committees=COMMITTEES)

    assert decision == Decision(agency="hepco", reason="rule:category")


def test_a_ward_committee_rule_resolves_to_the_committee_of_the_reports_area():
    rules = [Rule(category="urban_order", area=None, agency=None, to_ward_committee=True)]

    decision = decide(category="urban_order", area=AREA, rules=rules, ward_committees=COMMITTEES)

    assert decision == Decision(agency=f"ward-{AREA}", reason="rule:category")


def test_an_area_rule_to_the_ward_committee_resolves_to_that_committee():
    rules = [
        Rule(category="urban_order", area=None, agency="police"),
        Rule(category="urban_order", area=AREA, agency=None, to_ward_committee=True),
    ]

    decision = decide(category="urban_order", area=AREA, rules=rules, ward_committees=COMMITTEES)

    assert decision == Decision(agency=f"ward-{AREA}", reason="rule:area")


def test_a_ward_committee_rule_in_an_area_without_a_committee_goes_to_triage():
    rules = [Rule(category="urban_order", area=None, agency=None, to_ward_committee=True)]

    decision = decide(
        category="urban_order",
        area=OTHER_AREA,
        rules=rules,
        ward_committees=COMMITTEES,
        default_agency="police",
    )

    assert decision == Decision(agency=None, reason="no_ward_committee")


def test_a_ward_committee_rule_without_an_area_goes_to_triage():
    rules = [Rule(category="urban_order", area=None, agency=None, to_ward_committee=True)]

    decision = decide(category="urban_order", area=None, rules=rules, ward_committees=COMMITTEES)

    assert decision == Decision(agency=None, reason="no_ward_committee")


def test_decide_accepts_rules_as_a_one_shot_iterator():
    rules = iter([Rule(category="garbage", area=AREA, agency="green_city")])

    decision = decide(category="garbage", area=AREA, rules=rules, ward_committees=COMMITTEES)

    assert decision == Decision(agency="green_city", reason="rule:area")


CATEGORIES = ["garbage", "urban_order", "drainage"]
AREAS = ["19753", "19774", "19777"]
AGENCIES = ["hepco", "huewaco", "police", "parks_trees"]

rules_strategy = st.lists(
    st.builds(
        lambda category, area, agency, to_committee: Rule(
            category=category,
            area=area,
            agency=None if to_committee else agency,
            to_ward_committee=to_committee,
        ),
        st.sampled_from(CATEGORIES),
        st.none() | st.sampled_from(AREAS),
        st.sampled_from(AGENCIES),
        st.booleans(),
    ),
    unique_by=lambda rule: (rule.category, rule.area),  # as the database's constraint
    max_size=15,
)
committees_strategy = st.sets(st.sampled_from(AREAS)).map(
    lambda areas: {area: f"ward-{area}" for area in areas}
)
situations = st.fixed_dictionaries(
    {
        "category": st.sampled_from(CATEGORIES),
        "area": st.none() | st.sampled_from([*AREAS, "20000"]),
        "rules": rules_strategy,
        "ward_committees": committees_strategy,
        "default_agency": st.none() | st.sampled_from(AGENCIES),
    }
)


def spec(
    *,
    category: str,
    area: str | None,
    rules: list[Rule],
    ward_committees: dict[str, str],
    default_agency: str | None,
) -> Decision:
    """The precedence as PRODUCT.md states it, written independently of the code."""
    mine = [rule for rule in rules if rule.category == category]
    by_area = [rule for rule in mine if area is not None and rule.area == area]
    any_area = [rule for rule in mine if rule.area is None]
    if by_area or any_area:
        rule, reason = (by_area[0], "rule:area") if by_area else (any_area[0], "rule:category")
        if not rule.to_ward_committee:
            return Decision(rule.agency, reason)
        if area in ward_committees:
            return Decision(ward_committees[area], reason)
        return Decision(None, "no_ward_committee")
    if default_agency is not None:
        return Decision(default_agency, "default")
    return Decision(None, "no_rule")


@HYPOTHESIS
@given(situation=situations)
def test_any_rule_set_routes_as_the_precedence_says(situation):
    assert decide(**situation) == spec(**situation)


@HYPOTHESIS
@given(situation=situations, data=st.data())
def test_the_order_of_the_rules_does_not_matter(situation, data):
    shuffled = data.draw(st.permutations(situation["rules"]))

    assert decide(**{**situation, "rules": shuffled}) == decide(**situation)


@HYPOTHESIS
@given(situation=situations)
def test_rules_of_other_categories_never_change_the_decision(situation):
    own = [rule for rule in situation["rules"] if rule.category == situation["category"]]

    assert decide(**{**situation, "rules": own}) == decide(**situation)


@HYPOTHESIS
@given(situation=situations)
def test_a_report_goes_to_triage_exactly_when_no_agency_is_decided(situation):
    decision = decide(**situation)

    assert (decision.agency is None) == (decision.reason in ("no_rule", "no_ward_committee"))
