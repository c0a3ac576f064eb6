"""The city's wards on one SVG map, each coloured by a figure (pure; no tiles, no scripts)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from shapely.geometry import shape

from reports.maps import polygon_rings

Ring = tuple[tuple[float, float], ...]

# About 30 m at Vietnam's latitudes: invisible on a city map, and a tenth of the points.
CITY_MAP_SIMPLIFY_DEGREES = 0.0003


def area_rings(geometry: Mapping[str, Any] | None) -> tuple[Ring, ...]:
    """An area's outer and inner rings, simplified for drawing the whole city."""
    if not geometry:
        return ()
    simplified = shape(geometry).simplify(CITY_MAP_SIMPLIFY_DEGREES, preserve_topology=True)
    return tuple(
        tuple((round(x, 5), round(y, 5)) for x, y in ring)
        for ring in polygon_rings(simplified.__geo_interface__)
    )


@dataclass(frozen=True)
class MapArea:
    code: str
    name: str
    rings: tuple[Ring, ...]
    fill: str
    label: str


# An area this far (degrees) from the middle of the others is drawn in an inset: Đà Nẵng's
# Hoàng Sa lies 400 km out at sea, and on one scale with it the mainland would be a speck.
INSET_DISTANCE_DEGREES = 1.0


def _centre(area: MapArea) -> tuple[float, float]:
    xs = [x for ring in area.rings for x, _ in ring]
    ys = [y for ring in area.rings for _, y in ring]
    return (min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2


def outlying(areas: list[MapArea]) -> tuple[list[MapArea], list[MapArea]]:
    """(the areas drawn on the main map, those drawn in the inset): an area far from the
    median centre of all of them goes to the inset."""
    drawn = [area for area in areas if area.rings]
    if len(drawn) < 3:
        return drawn, []
    centres = [_centre(area) for area in drawn]
    mid_x = sorted(x for x, _ in centres)[len(centres) // 2]
    mid_y = sorted(y for _, y in centres)[len(centres) // 2]
    far = {
        area.code
        for area, (x, y) in zip(drawn, centres, strict=True)
        if math.hypot(x - mid_x, y - mid_y) > INSET_DISTANCE_DEGREES
    }
    return [a for a in drawn if a.code not in far], [a for a in drawn if a.code in far]


class _Projection:
    """Longitude and latitude to a box of the SVG, north up, scaled by cos(latitude)."""

    def __init__(
        self, areas: list[MapArea], *, left: float, top: float, width: float, height: float
    ) -> None:
        points = [point for area in areas for ring in area.rings for point in ring]
        mid_lat = (min(y for _, y in points) + max(y for _, y in points)) / 2
        self.scale_x = math.cos(math.radians(mid_lat))
        self.min_x = min(x for x, _ in points) * self.scale_x
        max_x = max(x for x, _ in points) * self.scale_x
        self.min_y = min(y for _, y in points)
        max_y = max(y for _, y in points)
        span_x, span_y = (max_x - self.min_x) or 0.01, (max_y - self.min_y) or 0.01
        self.factor = min(width / span_x, height / span_y) if height else width / span_x
        self.left = left
        self.bottom = top + (height or span_y * self.factor)
        self.height = span_y * self.factor

    def path(self, rings: tuple[Ring, ...]) -> str:
        return " ".join(
            "M"
            + " L".join(
                f"{self.left + (x * self.scale_x - self.min_x) * self.factor:.1f},"
                f"{self.bottom - (y - self.min_y) * self.factor:.1f}"
                for x, y in ring
            )
            + " Z"
            for ring in rings
        )


def city_map_svg(areas: list[MapArea], *, width: int = 640, label: str = "") -> SafeString:
    """The areas side by side, north up, each filled with its colour and titled with its
    name and label (shown on hover and read by screen readers). Areas far out (islands) are
    drawn in an inset at the top right, on a scale of their own, framed."""
    main, far = outlying(areas)
    if not main:
        return format_html('<svg class="city-map" width="0" height="0" aria-hidden="true"/>')
    margin = 8
    projection = _Projection(main, left=margin, top=margin, width=width - 2 * margin, height=0)
    height = round(projection.height + 2 * margin)
    projections = [(projection, main)]
    frame = mark_safe("")
    if far:
        side = round(min(width, height) * 0.28)
        box_left, box_top = width - margin - side, margin
        inset = _Projection(
            far, left=box_left + 6, top=box_top + 6, width=side - 12, height=side - 12
        )
        projections.append((inset, far))
        frame = format_html(
            '<rect class="inset" x="{}" y="{}" width="{}" height="{}" fill="none" '
            'stroke="#8a8f98" stroke-dasharray="4 3"/>',
            box_left,
            box_top,
            side,
            side,
        )
    shapes = format_html_join(
        "",
        '<path d="{}" fill="{}" fill-rule="evenodd" stroke="#ffffff" stroke-width="0.8" '
        'data-area="{}"><title>{}: {}</title></path>',
        (
            (drawing.path(area.rings), area.fill, area.code, area.name, area.label)
            for drawing, group in projections
            for area in group
        ),
    )
    return format_html(
        '<svg class="city-map" xmlns="http://www.w3.org/2000/svg" width="100%" '
        'viewBox="0 0 {w} {h}" role="img" aria-label="{label}">{frame}{shapes}</svg>',
        w=width,
        h=height,
        label=label,
        frame=frame,
        shapes=shapes,
    )
