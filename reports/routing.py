"""Pure routing logic: which area holds a point, and which agency handles a category there.

No ORM and no request here: `AreaIndex` is built once per process from plain data and
answers point-in-polygon queries with shapely (an STR tree over prepared polygons), and
`decide` applies the routing rules to a category and an area.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import shapely
from shapely.geometry import Point, shape
from shapely.strtree import STRtree


class AreaIndex:
    """Point-in-polygon lookup over the city's areas.

    Where simplified polygons overlap, the point belongs to the area whose code sorts first,
    so the answer never depends on load order. A point in a thin gap between neighbours
    (within `tolerance` degrees of a boundary) belongs to the nearest area.
    """

    def __init__(self, areas: Iterable[tuple[str, Mapping[str, Any]]], tolerance: float = 0.0):
        items = sorted(((code, shape(geometry)) for code, geometry in areas), key=lambda a: a[0])
        self.codes: list[str] = [code for code, _ in items]
        self.geometries = [geometry for _, geometry in items]
        for geometry in self.geometries:
            shapely.prepare(geometry)
        self.tree = STRtree(self.geometries)
        self.tolerance = tolerance

    def __len__(self) -> int:
        return len(self.codes)

    def locate(self, lng: float, lat: float) -> str | None:
        """The code of the area that holds (lng, lat), or None outside every area."""
        if not self.codes or not (math.isfinite(lng) and math.isfinite(lat)):
            # No area holds a point at infinity, and GEOS raises on NaN.
            return None
        point = Point(lng, lat)
        hits = self.tree.query(point, predicate="intersects")
        if len(hits):
            return self.codes[int(min(hits))]
        if self.tolerance <= 0:
            return None
        nearest = self.tree.query_nearest(point, max_distance=self.tolerance, all_matches=True)
        if len(nearest):
            return self.codes[int(min(nearest))]
        return None

    def inside_point(self, code: str) -> tuple[float, float]:
        """(lat, lng) of a point that `locate` finds in the area: where a report placed by
        its ward alone (an address, no point) is put. A point on the area's surface, else
        one of a grid over it (where a neighbour's sliver covers the first)."""
        geometry = self.geometries[self.codes.index(code)]
        min_x, min_y, max_x, max_y = geometry.bounds
        candidates = [geometry.point_on_surface(), geometry.centroid]
        steps = 12
        candidates += [
            Point(min_x + (max_x - min_x) * i / steps, min_y + (max_y - min_y) * j / steps)
            for i in range(1, steps)
            for j in range(1, steps)
        ]
        for point in candidates:
            if self.locate(point.x, point.y) == code:
                return round(point.y, 6), round(point.x, 6)
        raise ValueError(f"No point of area {code} is located in it.")


@dataclass(frozen=True)
class Rule:
    category: str
    area: str | None  # None: any area
    agency: str | None  # None with to_ward_committee: the area's committee
    to_ward_committee: bool = False


@dataclass(frozen=True)
class Decision:
    agency: str | None  # None: needs triage
    reason: str  # "rule:area", "rule:category", "default", "no_rule", "no_ward_committee"


def decide(
    *,
    category: str,
    area: str | None,
    rules: Iterable[Rule],
    ward_committees: Mapping[str, str],
    default_agency: str | None = None,
) -> Decision:
    """Apply the most specific rule: category+area, then category alone, then the category's
    default agency. `ward_committees` maps an area code to its committee's agency code."""
    by_area: Rule | None = None
    any_area: Rule | None = None
    for rule in rules:
        if rule.category != category:
            continue
        if rule.area is None:
            any_area = rule
        elif area is not None and rule.area == area:
            by_area = rule
    for candidate, reason in ((by_area, "rule:area"), (any_area, "rule:category")):
        if candidate is None:
            continue
        if not candidate.to_ward_committee:
            return Decision(agency=candidate.agency, reason=reason)
        committee = ward_committees.get(area) if area else None
        if committee:
            return Decision(agency=committee, reason=reason)
        return Decision(agency=None, reason="no_ward_committee")
    if default_agency:
        return Decision(agency=default_agency, reason="default")
    return Decision(agency=None, reason="no_rule")
