"""Great-circle arithmetic on latitude/longitude in degrees (pure).

The feed finds reports near a point in two steps: a latitude/longitude box that surely holds
the circle (so the database can use its index on lat/lng), then the exact great-circle
distance (haversine, in `reports.selectors`) on what is left.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

# The mean Earth radius (IUGG); haversine on a sphere is within 0.5 % of the ellipsoid.
EARTH_RADIUS_METRES = 6_371_008.8
# A margin (about a centimetre) so rounding never drops a point on the circle's edge.
_MARGIN_DEGREES = 1e-7


@dataclass(frozen=True)
class CircleBounds:
    """The latitude range and one or two longitude ranges (two when the circle crosses the
    180th meridian) that hold a circle on the sphere."""

    min_lat: float
    max_lat: float
    lng_ranges: tuple[tuple[float, float], ...]


def circle_bounds(*, lat: float, lng: float, radius: float) -> CircleBounds:
    """The smallest latitude/longitude box around the circle of `radius` metres around
    (lat, lng) (J. P. Matuschek, "Finding Points Within a Distance of a Latitude/Longitude")."""
    angular = radius / EARTH_RADIUS_METRES
    delta_lat = math.degrees(angular) + _MARGIN_DEGREES
    min_lat, max_lat = lat - delta_lat, lat + delta_lat
    if min_lat <= -90 or max_lat >= 90:
        # The circle holds a pole: every longitude is in it.
        return CircleBounds(max(min_lat, -90.0), min(max_lat, 90.0), ((-180.0, 180.0),))
    ratio = math.sin(angular) / math.cos(math.radians(lat))
    delta_lng = math.degrees(math.asin(min(ratio, 1.0))) + _MARGIN_DEGREES
    west, east = lng - delta_lng, lng + delta_lng
    if west < -180:
        ranges: tuple[tuple[float, float], ...] = ((west + 360, 180.0), (-180.0, east))
    elif east > 180:
        ranges = ((west, 180.0), (-180.0, east - 360))
    else:
        ranges = ((west, east),)
    return CircleBounds(min_lat, max_lat, ranges)
