"""Places and distances typed by users, and the boxes that let the database find them.

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

# Metres per unit; the keys are matched case-insensitively.
_UNITS = {
    "": 1.0,
    "m": 1.0,
    "km": 1000.0,
    "mi": 1609.344,
    "ft": 0.3048,
    "nm": 1852.0,
}
_DISTANCE_FORMS = (
    "use a number with an optional unit: 500m, 2km, 1.5mi, 300ft, 2nm (nautical miles);"
    " a bare number is metres"
)

# Angular safety margin added to the radius before the boxes are computed (radians; about
# 6 mm on the ground, 6e-8 degrees). Growing the radius by m moves every box edge outwards
# by at least m, which is millions of times the rounding error of the box formulas and of
# distance_m, so a point that distance_m puts on the circle is never left out; and it is
# far too small to matter to the index, since the exact distance filters the rows anyway.
_MARGIN_RAD = 1e-9

_WORLD = (-90.0, -180.0, 90.0, 180.0)


class GeoError(ValueError):
    """A bad place or distance; the message is one line for the user."""


def _number(text: str, what: str) -> float:
    """A finite float from user text; the Unicode minus sign (copied from web pages) is fine."""
    cleaned = text.strip().replace("\u2212", "-")
    try:
        value = float(cleaned)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise GeoError(f"{what} {cleaned!r} is not a number")
    return value


def _check_range(value: float, text: str, what: str, limit: float) -> None:
    if not -limit <= value <= limit:
        raise GeoError(f"{what} {text.strip()} is outside -{limit:g}..{limit:g}")


def _latitude(text: str, what: str = "latitude") -> float:
    value = _number(text, what)
    _check_range(value, text, what, 90.0)
    return value


def _longitude(text: str, what: str = "longitude") -> float:
    value = _number(text, what)
    _check_range(value, text, what, 180.0)
    return value


def parse_point(text: str) -> tuple[float, float]:
    """Parse "48.85,2.35" (spaces allowed) into (lat, lon), range-checked."""
    parts = str(text).split(",")
    if len(parts) != 2 or not all(part.strip() for part in parts):
        raise GeoError(f"place {text!r} is not LAT,LON (for example 48.85,2.35)")
    return _latitude(parts[0]), _longitude(parts[1])


def parse_distance(text: str) -> float:
    """Parse "500m", "2km", "1.5mi", "300 ft", "2 nm" or a bare number of metres into metres."""
    cleaned = str(text).strip()
    body = cleaned.replace("\u2212", "-")
    end = len(body)
    while end and body[end - 1].isalpha():
        end -= 1
    number, unit = body[:end].strip(), body[end:].lower()
    factor = _UNITS.get(unit)
    try:
        value = float(number) if factor is not None and number else math.nan
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise GeoError(f"distance {cleaned!r} is not understood; {_DISTANCE_FORMS}")
    if value <= 0:
        raise GeoError(f"distance {cleaned!r} must be greater than zero; {_DISTANCE_FORMS}")
    metres = value * factor
    if not math.isfinite(metres):
        raise GeoError(f"distance {cleaned!r} is too large; {_DISTANCE_FORMS}")
    return metres


def parse_bbox(text: str) -> tuple[float, float, float, float]:
    """Parse "SOUTH,WEST,NORTH,EAST"; west > east means the box crosses the antimeridian."""
    parts = str(text).split(",")
    if len(parts) != 4 or not all(part.strip() for part in parts):
        raise GeoError(f"box {text!r} is not SOUTH,WEST,NORTH,EAST (for example 48.8,2.2,48.9,2.5)")
    south = _latitude(parts[0], "south latitude")
    west = _longitude(parts[1], "west longitude")
    north = _latitude(parts[2], "north latitude")
    east = _longitude(parts[3], "east longitude")
    if south > north:
        raise GeoError(
            f"box {text.strip()!r} has south {parts[0].strip()} above north {parts[2].strip()};"
            " the order is SOUTH,WEST,NORTH,EAST"
        )
    return south, west, north, east


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
