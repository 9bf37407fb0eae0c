"""Places and distances, and the boxes that let the database find them.

The library stores a location as plain ``latitude``/``longitude`` columns with an index on
the pair. An index answers rectangles only, so ``luna find --near LAT,LON --radius DIST``
turns the circle into one or more boxes (:func:`boxes_around`), asks the index for them,
then keeps and sorts the rows by the exact great-circle distance (:func:`distance_m`).

Boxes are (south, west, north, east) in degrees with ``west <= east``: a box that crosses
the antimeridian is returned as two. This module is imported by ``luna find``, which runs in
shell loops, so it imports nothing but :mod:`math`.
"""

from __future__ import annotations

import math

EARTH_RADIUS_M = 6_371_008.8  # mean radius (IUGG)

# Angular safety margin added to the radius before the boxes are computed (radians; about
# 6 mm on the ground, 6e-8 degrees). Growing the radius by m moves every box edge outwards
# by at least m, which is millions of times the rounding error of the box formulas and of
# distance_m, so a point that distance_m puts on the circle is never left out; and it is
# far too small to matter to the index, since the exact distance filters the rows anyway.
_MARGIN_RAD = 1e-9

_WORLD = (-90.0, -180.0, 90.0, 180.0)


class GeoError(ValueError):
    """A place or radius given from Python that the boxes cannot be made for. (What users
    type is read, and refused, by luna.values.point, bbox and distance.)"""


def boxes_for_bbox(
    south: float, west: float, north: float, east: float
) -> list[tuple[float, float, float, float]]:
    """The box itself, or two boxes with west <= east when it crosses the antimeridian."""
    if west <= east:
        return [(south, west, north, east)]
    return [(south, west, north, 180.0), (south, -180.0, north, east)]


def boxes_around(
    lat: float, lon: float, radius_m: float
) -> list[tuple[float, float, float, float]]:
    """Boxes (south, west, north, east), each with west <= east, whose union holds every point
    within radius_m of (lat, lon): one box normally, two across ±180, a full band of
    longitudes when the circle covers a pole, the whole world past half the circumference.

    The bounding-coordinates method of J. P. Matuschek ("Finding Points Within a Distance of a
    Latitude/Longitude Using Bounding Coordinates"), with a small margin on the radius.
    """
    if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):
        raise GeoError(f"place {lat},{lon} is outside -90..90, -180..180")
    if not radius_m >= 0.0:  # also refuses NaN
        raise GeoError(f"radius {radius_m} must not be negative")
    r = radius_m / EARTH_RADIUS_M + _MARGIN_RAD
    if r >= math.pi:
        return [_WORLD]
    phi = math.radians(lat)
    south, north = phi - r, phi + r
    if south <= -math.pi / 2 or north >= math.pi / 2:
        # The circle covers a pole: every longitude, from the far edge to that pole.
        return [(max(math.degrees(south), -90.0), -180.0, min(math.degrees(north), 90.0), 180.0)]
    # Half-width in longitude: asin(sin r / cos phi), written as an atan2 with
    # cos^2 phi - sin^2 r = cos(phi + r) * cos(phi - r), which stays accurate when the circle
    # nearly touches a pole (where the asin argument is close to 1 and asin is ill-conditioned).
    # Both cosines are positive here because -pi/2 < phi - r < phi + r < pi/2.
    dlon = math.degrees(math.atan2(math.sin(r), math.sqrt(math.cos(north) * math.cos(south))))
    south_deg, north_deg = math.degrees(south), math.degrees(north)
    west, east = lon - dlon, lon + dlon  # dlon <= 90: at most one side crosses ±180
    if west <= -180.0:
        return [(south_deg, west + 360.0, north_deg, 180.0), (south_deg, -180.0, north_deg, east)]
    if east >= 180.0:
        return [(south_deg, west, north_deg, 180.0), (south_deg, -180.0, north_deg, east - 360.0)]
    return [(south_deg, west, north_deg, east)]


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres, by the haversine formula.

    Written as 2 * atan2(sqrt(a), sqrt(1 - a)) with 1 - a computed directly (it is the
    haversine term towards the antipode of the second point), so the result stays accurate
    to the last few bits for every pair, antipodal points included; the plain
    2 * asin(sqrt(a)) loses about 0.2 m there, where asin is ill-conditioned.
    """
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    half_dlambda = math.radians(lon2 - lon1) / 2
    cos_cos = math.cos(phi1) * math.cos(phi2)
    a = math.sin((phi2 - phi1) / 2) ** 2 + cos_cos * math.sin(half_dlambda) ** 2
    b = math.sin((phi1 + phi2) / 2) ** 2 + cos_cos * math.cos(half_dlambda) ** 2  # 1 - a
    return 2 * EARTH_RADIUS_M * math.atan2(math.sqrt(max(0.0, a)), math.sqrt(max(0.0, b)))
