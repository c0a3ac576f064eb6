"""The city's wards on one SVG map, each coloured by a figure (pure; no tiles, no scripts)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
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


def city_map_svg(areas: list[MapArea], *, width: int = 640, label: str = "") -> SafeString:
    """The areas side by side, north up, each filled with its colour and titled with its
    name and label (shown on hover and read by screen readers)."""
    points = [point for area in areas for ring in area.rings for point in ring]
    if not points:
        return format_html('<svg class="city-map" width="0" height="0" aria-hidden="true"/>')
    mid_lat = (min(y for _, y in points) + max(y for _, y in points)) / 2
    scale_x = math.cos(math.radians(mid_lat))
    min_x = min(x for x, _ in points) * scale_x
    max_x = max(x for x, _ in points) * scale_x
    min_y = min(y for _, y in points)
    max_y = max(y for _, y in points)
    margin = 8
    factor = (width - 2 * margin) / ((max_x - min_x) or 0.01)
    height = round((max_y - min_y) * factor + 2 * margin)

    def path(rings: tuple[Ring, ...]) -> str:
        return " ".join(
            "M"
            + " L".join(
                f"{margin + (x * scale_x - min_x) * factor:.1f},"
                f"{height - margin - (y - min_y) * factor:.1f}"
                for x, y in ring
            )
            + " Z"
            for ring in rings
        )

    shapes = format_html_join(
        "",
        '<path d="{}" fill="{}" fill-rule="evenodd" stroke="#ffffff" stroke-width="0.8" '
        'data-area="{}"><title>{}: {}</title></path>',
        ((path(area.rings), area.fill, area.code, area.name, area.label) for area in areas),
    )
    return format_html(
        '<svg class="city-map" xmlns="http://www.w3.org/2000/svg" width="100%" '
        'viewBox="0 0 {w} {h}" role="img" aria-label="{label}">{shapes}</svg>',
        w=width,
        h=height,
        label=label,
        shapes=shapes,
    )
