"""A small SVG map of a report's place, drawn from its area's polygon by our own code (pure;
no tiles, no scripts). The city's map of the dashboard is insights.maps."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString


def polygon_rings(geometry: Mapping[str, Any]) -> Iterable[list[list[float]]]:
    coordinates = geometry.get("coordinates") or []
    if geometry.get("type") == "Polygon":
        yield from coordinates
    elif geometry.get("type") == "MultiPolygon":
        for polygon in coordinates:
            yield from polygon


def location_svg(
    geometry: Mapping[str, Any] | None, lat: float, lng: float, *, size: int = 260
) -> SafeString:
    """The area's outline with the report's point, north up, in an equirectangular
    projection scaled by cos(latitude) so shapes keep their proportions."""
    rings = list(polygon_rings(geometry or {}))
    points = [point for ring in rings for point in ring] + [[lng, lat]]
    scale_x = math.cos(math.radians(lat))
    xs = [x * scale_x for x, _ in points]
    ys = [y for _, y in points]
    span = max(max(xs) - min(xs), max(ys) - min(ys)) or 0.01
    margin = 12
    factor = (size - 2 * margin) / span

    def project(x: float, y: float) -> tuple[float, float]:
        return (
            round(margin + (x * scale_x - min(xs)) * factor, 1),
            round(size - margin - (y - min(ys)) * factor, 1),
        )

    paths = format_html_join(
        "",
        '<path d="{}" fill="#e8f1f8" stroke="#417690" stroke-width="1.5"/>',
        (
            ("M" + " L".join(f"{px},{py}" for px, py in (project(x, y) for x, y in ring)) + " Z",)
            for ring in rings
        ),
    )
    px, py = project(lng, lat)
    return format_html(
        '<svg class="report-map" xmlns="http://www.w3.org/2000/svg" width="{size}" '
        'height="{size}" viewBox="0 0 {size} {size}" role="img" aria-label="{lat}, {lng}">'
        '<rect width="{size}" height="{size}" fill="#fafafa"/>{paths}'
        '<circle cx="{px}" cy="{py}" r="6" fill="#ba2121" stroke="#fff" stroke-width="2"/>'
        "</svg>",
        size=size,
        paths=paths,
        px=px,
        py=py,
        lat=f"{lat:.5f}",
        lng=f"{lng:.5f}",
    )
