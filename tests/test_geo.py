"""Places, distances and the index boxes behind `luna find --near/--radius` and `--bbox`."""

from __future__ import annotations

import ast
import math
import random
from pathlib import Path

import pytest

from luna.errors import BadValue
from luna.search import geo
from luna.search.geo import (
    EARTH_RADIUS_M,
    GeoError,
    boxes_around,
    boxes_for_bbox,
    distance_m,
)
from luna.values import bbox as parse_bbox
from luna.values import distance as parse_distance
from luna.values import point as parse_point

HALF_CIRCUMFERENCE_M = math.pi * EARTH_RADIUS_M
WORLD = (-90.0, -180.0, 90.0, 180.0)


# --- helpers ----------------------------------------------------------------------------


def inside(boxes, lat, lon):
    return any(s <= lat <= n and w <= lon <= e for s, w, n, e in boxes)


def check_valid(boxes):
    assert 1 <= len(boxes) <= 2
    for s, w, n, e in boxes:
        assert -90.0 <= s <= n <= 90.0
        assert -180.0 <= w <= e <= 180.0


def destination(lat, lon, bearing_deg, dist_m):
    """The point dist_m from (lat, lon) along the initial bearing, lon wrapped to -180..180."""
    phi, lam = math.radians(lat), math.radians(lon)
    theta, delta = math.radians(bearing_deg), dist_m / EARTH_RADIUS_M
    sin_phi2 = math.sin(phi) * math.cos(delta) + math.cos(phi) * math.sin(delta) * math.cos(theta)
    phi2 = math.asin(max(-1.0, min(1.0, sin_phi2)))
    lam2 = lam + math.atan2(
        math.sin(theta) * math.sin(delta) * math.cos(phi),
        math.cos(delta) - math.sin(phi) * sin_phi2,
    )
    lon2 = (math.degrees(lam2) + 180.0) % 360.0 - 180.0
    return math.degrees(phi2), lon2


def representations(lat, lon):
    """A point as the database may hold it: on the antimeridian both 180 and -180 occur."""
    yield lat, lon
    if lon in (180.0, -180.0):
        yield lat, -lon


# --- parse_point ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("48.85,2.35", (48.85, 2.35)),
        (" 48.85 , 2.35 ", (48.85, 2.35)),
        ("-17.7,179.9", (-17.7, 179.9)),
        ("90,-180", (90.0, -180.0)),
        ("-90,180", (-90.0, 180.0)),
        ("0,0", (0.0, 0.0)),
        ("\u221233.9,18.4", (-33.9, 18.4)),  # Unicode minus, as copied from web pages
    ],
)
def test_parse_point_valid(text, expected):
    assert parse_point(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("95,2", "latitude 95 is outside -90..90"),
        ("-90.5,2", "latitude -90.5 is outside -90..90"),
        ("48,190", "longitude 190 is outside -180..180"),
        ("48,-180.01", "longitude -180.01 is outside -180..180"),
        ("abc,2", "latitude 'abc' is not a number"),
        ("48,nan", "longitude 'nan' is not a number"),
        ("inf,2", "latitude 'inf' is not a number"),
        ("48.85", "place '48.85' is not LAT,LON (for example 48.85,2.35)"),
        ("48,2,3", "place '48,2,3' is not LAT,LON (for example 48.85,2.35)"),
        ("48,", "place '48,' is not LAT,LON (for example 48.85,2.35)"),
        ("", "empty value"),
    ],
)
def test_parse_point_invalid(text, message):
    with pytest.raises(BadValue) as info:
        parse_point(text, "--near")
    assert str(info.value) == "--near: " + message
    assert "\n" not in str(info.value)


def test_geo_error_is_a_value_error():
    assert issubclass(GeoError, ValueError)


# --- parse_distance ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "metres"),
    [
        ("500m", 500.0),
        ("500", 500.0),
        ("2km", 2000.0),
        ("2 km", 2000.0),
        (" 2KM ", 2000.0),
        ("1.5mi", 1.5 * 1609.344),
        ("300 ft", 300 * 0.3048),
        ("2nm", 3704.0),
        ("0.5", 0.5),
        (".5km", 500.0),
        ("1e3", 1000.0),
        ("1e3 m", 1000.0),
        ("+5m", 5.0),
    ],
)
def test_parse_distance_valid(text, metres):
    assert parse_distance(text) == pytest.approx(metres, rel=1e-12)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("-5km", "distance '-5km' must be greater than zero"),
        ("0", "distance '0' must be greater than zero"),
        ("0 km", "distance '0 km' must be greater than zero"),
        ("nan", "distance 'nan' is not understood"),
        ("inf", "distance 'inf' is not understood"),
        ("-inf km", "distance '-inf km' is not understood"),
        ("1e400", "distance '1e400' is not understood"),
        ("1e308mi", "distance '1e308mi' is too large"),
        ("abc", "distance 'abc' is not understood"),
        ("km", "distance 'km' is not understood"),
        ("5 parsecs", "distance '5 parsecs' is not understood"),
        ("5 k m", "distance '5 k m' is not understood"),
        ("5e", "distance '5e' is not understood"),
        ("5,5km", "distance '5,5km' is not understood"),
    ],
)
def test_parse_distance_invalid(text, problem):
    with pytest.raises(BadValue) as info:
        parse_distance(text, "--radius")
    message = str(info.value)
    assert message.startswith("--radius: " + problem + "; ")
    for form in ("500m", "2km", "1.5mi", "300ft", "2nm", "bare number is metres"):
        assert form in message
    assert "\n" not in message


# --- parse_bbox / boxes_for_bbox --------------------------------------------------------


def test_parse_bbox_valid():
    assert parse_bbox("48.8,2.2,48.9,2.5") == (48.8, 2.2, 48.9, 2.5)
    assert parse_bbox(" -18 , 179 , -17 , -179 ") == (-18.0, 179.0, -17.0, -179.0)  # crosses
    assert parse_bbox("-90,-180,90,180") == WORLD
    assert parse_bbox("10,5,10,5") == (10.0, 5.0, 10.0, 5.0)  # a single point


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("95,0,96,1", "south latitude 95 is outside -90..90"),
        ("0,0,91,1", "north latitude 91 is outside -90..90"),
        ("0,-181,1,1", "west longitude -181 is outside -180..180"),
        ("0,0,1,200", "east longitude 200 is outside -180..180"),
        ("0,x,1,1", "west longitude 'x' is not a number"),
        (
            "50,0,40,1",
            "box '50,0,40,1' has south 50 above north 40; the order is SOUTH,WEST,NORTH,EAST",
        ),
        ("1,2,3", "box '1,2,3' is not SOUTH,WEST,NORTH,EAST (for example 48.8,2.2,48.9,2.5)"),
        ("1,2,,4", "box '1,2,,4' is not SOUTH,WEST,NORTH,EAST (for example 48.8,2.2,48.9,2.5)"),
    ],
)
def test_parse_bbox_invalid(text, message):
    with pytest.raises(BadValue) as info:
        parse_bbox(text, "--bbox")
    assert str(info.value) == "--bbox: " + message


def test_boxes_for_bbox():
    assert boxes_for_bbox(48.8, 2.2, 48.9, 2.5) == [(48.8, 2.2, 48.9, 2.5)]
    assert boxes_for_bbox(*WORLD) == [WORLD]
    assert boxes_for_bbox(-18.0, 179.0, -17.0, -179.0) == [
        (-18.0, 179.0, -17.0, 180.0),
        (-18.0, -180.0, -17.0, -179.0),
    ]
    for boxes in (boxes_for_bbox(-18.0, 179.0, -17.0, -179.0), boxes_for_bbox(0, 10, 1, 20)):
        check_valid(boxes)


# --- distance_m -------------------------------------------------------------------------


def test_distance_paris_london():
    d = distance_m(48.8566, 2.3522, 51.5074, -0.1278)
    assert d == pytest.approx(343_500, rel=0.005)
    assert distance_m(51.5074, -0.1278, 48.8566, 2.3522) == pytest.approx(d, rel=1e-12)


@pytest.mark.parametrize(
    ("a", "b"),
    [((0, 0), (0, 180)), ((10, 20), (-10, -160)), ((90, 0), (-90, 0)), ((-45, 179.9), (45, -0.1))],
)
def test_distance_antipodes(a, b):
    assert distance_m(*a, *b) == pytest.approx(HALF_CIRCUMFERENCE_M, rel=1e-12)


def test_distance_zero_and_small():
    assert distance_m(48.85, 2.35, 48.85, 2.35) == 0.0
    assert distance_m(90, 0, 90, 123) == pytest.approx(0.0, abs=1e-6)  # every lon is the pole
    assert distance_m(0, 180, 0, -180) == pytest.approx(0.0, abs=1e-6)  # the same meridian
    # One degree of latitude, and across the antimeridian.
    assert distance_m(0, 0, 1, 0) == pytest.approx(math.radians(1) * EARTH_RADIUS_M, rel=1e-12)
    assert distance_m(0, 179.5, 0, -179.5) == pytest.approx(
        math.radians(1) * EARTH_RADIUS_M, rel=1e-9
    )


# --- boxes_around: named cases ----------------------------------------------------------


def test_fiji_across_the_antimeridian():
    boxes = boxes_around(-17.7, 179.9, 50_000)
    check_valid(boxes)
    assert len(boxes) == 2
    assert distance_m(-17.7, 179.9, -17.7, -179.9) <= 50_000
    assert inside(boxes, -17.7, -179.9)
    assert inside(boxes, -17.7, 179.9)
    assert inside(boxes, -17.7, 180.0) and inside(boxes, -17.7, -180.0)
    assert not inside(boxes, -17.7, 179.0) and not inside(boxes, -17.7, -179.0)


def test_one_tight_box_normally():
    boxes = boxes_around(48.85, 2.35, 5_000)
    assert len(boxes) == 1
    s, w, n, e = boxes[0]
    half_lat = math.degrees(5_000 / EARTH_RADIUS_M)
    half_lon = math.degrees(
        math.asin(math.sin(5_000 / EARTH_RADIUS_M) / math.cos(math.radians(48.85)))
    )
    # Exact up to the safety margin (a few millimetres).
    assert (n - 48.85, 48.85 - s) == pytest.approx((half_lat, half_lat), abs=1e-6)
    assert (e - 2.35, 2.35 - w) == pytest.approx((half_lon, half_lon), abs=1e-6)


def test_circle_over_the_north_pole_is_a_full_band():
    boxes = boxes_around(89.9, 0.0, 50_000)
    assert len(boxes) == 1
    s, w, n, e = boxes[0]
    assert (w, n, e) == (-180.0, 90.0, 180.0)
    assert s == pytest.approx(89.9 - math.degrees(50_000 / EARTH_RADIUS_M), abs=1e-4)
    assert inside(boxes, 89.95, 180.0)  # over the pole, on the other side


@pytest.mark.parametrize("lat", [90.0, -90.0])
def test_centre_on_a_pole_is_a_full_band(lat):
    (box,) = boxes_around(lat, 0.0, 10)
    assert box[1:4:2] == (-180.0, 180.0)
    assert (box[2] == 90.0) if lat > 0 else (box[0] == -90.0)


@pytest.mark.parametrize("radius", [30_000_000, HALF_CIRCUMFERENCE_M, 1e12])
def test_half_the_circumference_or_more_is_the_whole_world(radius):
    assert boxes_around(48.85, 2.35, radius) == [WORLD]


def test_zero_radius_still_finds_the_centre():
    for lat, lon in [(48.85, 2.35), (0.0, 180.0), (0.0, -180.0), (-90.0, 0.0)]:
        boxes = boxes_around(lat, lon, 0.0)
        check_valid(boxes)
        for p in representations(lat, lon):
            assert inside(boxes, *p)


@pytest.mark.parametrize(
    ("args", "word"),
    [
        ((95.0, 0.0, 10.0), "place"),
        ((0.0, 181.0, 10.0), "place"),
        ((math.nan, 0.0, 10.0), "place"),
        ((0.0, 0.0, -1.0), "radius"),
        ((0.0, 0.0, math.nan), "radius"),
    ],
)
def test_boxes_around_refuses_bad_input(args, word):
    with pytest.raises(GeoError, match=word):
        boxes_around(*args)


# --- boxes_around: brute force ----------------------------------------------------------

CENTRES = [
    (0.0, 0.0),
    (48.85, 2.35),
    (-17.7, 179.9),
    (89.9, 0.0),
    (-89.9, 45.0),
    (90.0, 0.0),
    (-90.0, 0.0),
    (12.5, 179.99),
    (-33.9, -179.99),
    (60.0, 180.0),
    (-45.0, -180.0),
    (0.0, 90.0),
    (75.0, -120.0),
]
RADII = [10, 5_000, 500_000, 5_000_000, 15_000_000, 25_000_000]


def tangent_points(lat, lon, radius_m):
    """Where the circle reaches its extreme longitudes (when it covers no pole)."""
    r, phi = radius_m / EARTH_RADIUS_M, math.radians(lat)
    if abs(phi) + r >= math.pi / 2:
        return []
    lat_t = math.degrees(math.asin(math.sin(phi) / math.cos(r)))
    dlon = math.degrees(math.asin(math.sin(r) / math.cos(phi)))
    return [(lat_t, (lon + s * dlon + 180.0) % 360.0 - 180.0) for s in (-1, 1)]


def candidate_points(rng, lat, lon, radius_m):
    """Points in, on and just outside the circle, plus a few anywhere on the sphere."""
    reach = min(radius_m, HALF_CIRCUMFERENCE_M)
    for k in range(72):  # the circle itself, every 5 degrees of bearing
        yield destination(lat, lon, k * 5.0, reach)
    for _ in range(150):
        yield destination(lat, lon, rng.uniform(0, 360), reach * math.sqrt(rng.random()))
    for _ in range(40):
        yield destination(lat, lon, rng.uniform(0, 360), reach * rng.uniform(0.999, 1.001))
    for _ in range(40):
        z = rng.uniform(-1, 1)
        yield math.degrees(math.asin(z)), rng.uniform(-180, 180)
    yield from tangent_points(lat, lon, radius_m)
    yield lat, lon


def test_every_point_within_the_radius_is_in_a_box():
    rng = random.Random(20240611)
    checked = 0
    for lat, lon in CENTRES:
        for radius in RADII:
            boxes = boxes_around(lat, lon, radius)
            check_valid(boxes)
            for point in candidate_points(rng, lat, lon, radius):
                for p in representations(*point):
                    if distance_m(lat, lon, *p) <= radius:
                        checked += 1
                        assert inside(boxes, *p), (lat, lon, radius, p, boxes)
    assert checked > len(CENTRES) * len(RADII) * 150


def test_random_centres_and_radii():
    rng = random.Random(7)
    for _ in range(200):
        lat = math.degrees(math.asin(rng.uniform(-1, 1)))
        lon = rng.uniform(-180, 180)
        radius = 10 ** rng.uniform(0, 7.5)
        boxes = boxes_around(lat, lon, radius)
        check_valid(boxes)
        for point in candidate_points(rng, lat, lon, radius):
            if distance_m(lat, lon, *point) <= radius:
                assert inside(boxes, *point), (lat, lon, radius, point, boxes)


def test_boxes_are_not_much_larger_than_the_circle():
    # Away from the poles the box must hug the circle: its corners are outside it but
    # its edge midpoints are on it (within the margin).
    for lat, lon, radius in [(48.85, 2.35, 5_000), (-17.7, 179.9, 50_000), (0.0, 0.0, 500_000)]:
        boxes = boxes_around(lat, lon, radius)
        s, n = boxes[0][0], boxes[0][2]
        assert distance_m(lat, lon, n, lon) == pytest.approx(radius, abs=0.01)
        assert distance_m(lat, lon, s, lon) == pytest.approx(radius, abs=0.01)
        for t in tangent_points(lat, lon, radius):
            edges = [w for _, w, _, _ in boxes] + [e for _, _, _, e in boxes]
            assert min(abs(t[1] - x) for x in edges) < 1e-6


# --- import cost ------------------------------------------------------------------------


def test_module_imports_only_math():
    # `luna find` runs in shell loops: luna.search.geo must stay a microsecond import.
    tree = ast.parse(Path(geo.__file__).read_text(encoding="utf-8"))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            imported.add(node.module)
    assert imported <= {"math", "__future__"}
