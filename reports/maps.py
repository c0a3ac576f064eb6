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
    geometry: Mapping[str, Any] | None,
    lat: float,
    lng: float,
    *,
    size: int = 260,
    before: tuple[float, float] | None = None,
    before_geometry: Mapping[str, Any] | None = None,
) -> SafeString:
    """The area's outline with the report's point, north up, in an equirectangular
    projection scaled by cos(latitude) so shapes keep their proportions. After a correction,
    `before` is the old point (lat, lng), drawn hollow, in its old area (`before_geometry`,
    dashed) when that was another."""
    rings = list(polygon_rings(geometry or {}))
    old_rings = list(polygon_rings(before_geometry or {}))
    points = [point for ring in rings + old_rings for point in ring] + [[lng, lat]]
    if before is not None:
        points.append([before[1], before[0]])
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
    old_paths = format_html_join(
        "",
        '<path class="before" d="{}" fill="none" stroke="#8a8f98" stroke-width="1.2" '
        'stroke-dasharray="4 3"/>',
        (
            ("M" + " L".join(f"{px},{py}" for px, py in (project(x, y) for x, y in ring)) + " Z",)
            for ring in old_rings
        ),
    )
    old_point = ""
    if before is not None:
        bx, by = project(before[1], before[0])
        old_point = format_html(
            '<circle class="before" cx="{}" cy="{}" r="6" fill="none" stroke="#8a8f98" '
            'stroke-width="2"/><line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#8a8f98" '
            'stroke-dasharray="3 3"/>',
            bx,
            by,
            bx,
            by,
            *project(lng, lat),
        )
    px, py = project(lng, lat)
    return format_html(
        '<svg class="report-map" xmlns="http://www.w3.org/2000/svg" width="{size}" '
        'height="{size}" viewBox="0 0 {size} {size}" role="img" aria-label="{lat}, {lng}">'
        '<rect width="{size}" height="{size}" fill="#fafafa"/>{paths}{old_paths}{old_point}'
        '<circle cx="{px}" cy="{py}" r="6" fill="#ba2121" stroke="#fff" stroke-width="2"/>'
        "</svg>",
        size=size,
        paths=paths,
        old_paths=old_paths,
        old_point=old_point,
        px=px,
        py=py,
        lat=f"{lat:.5f}",
        lng=f"{lng:.5f}",
    )
