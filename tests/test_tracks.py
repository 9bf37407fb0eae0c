"""GPS tracks (luna.ingest.tracks, issue 17): GPX read safely, and the position at a moment
interpolated between the two track points around it, never guessed beyond them."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from luna.errors import BadTrack
from luna.ingest.tracks import read_gpx, read_kml, read_tracks
from luna.search.geo import distance_m

T0 = dt.datetime(2019, 6, 1, 10, 0, 0)
GAP = dt.timedelta(minutes=30)


def gpx(points, namespace="http://www.topografix.com/GPX/1/1", times=True) -> str:
    """A GPX 1.1 track of (latitude, longitude, minutes after T0[, elevation]) points."""
    rows = []
    for lat, lon, minutes, *ele in points:
        when = (T0 + dt.timedelta(minutes=minutes)).isoformat() + "Z"
        inner = (f"<ele>{ele[0]}</ele>" if ele else "") + (f"<time>{when}</time>" if times else "")
        rows.append(f'<trkpt lat="{lat}" lon="{lon}">{inner}</trkpt>')
    return (
        f'<?xml version="1.0"?><gpx version="1.1" creator="test" xmlns="{namespace}">'
        f"<trk><name>walk</name><trkseg>{''.join(rows)}</trkseg></trk></gpx>"
    )


def track_of(tmp_path, points, name="walk.gpx"):
    path = tmp_path / name
    path.write_text(gpx(points))
    return read_tracks([str(path)])


def test_halfway_between_two_points_is_halfway_along_the_ground(tmp_path):
    track = track_of(tmp_path, [(48.8566, 2.3522, 0, 35), (48.8606, 2.3376, 10, 45)])
    lat, lon, ele = track.position_at(T0 + dt.timedelta(minutes=5), GAP)
    to_start = distance_m(lat, lon, 48.8566, 2.3522)
    to_end = distance_m(lat, lon, 48.8606, 2.3376)
    assert abs(to_start - to_end) < 1 and ele == pytest.approx(40)
    assert track.source == "gpx:walk.gpx"


def test_a_point_at_a_track_time_is_that_point(tmp_path):
    track = track_of(tmp_path, [(10.0, 20.0, 0), (11.0, 21.0, 10)])
    assert track.position_at(T0 + dt.timedelta(minutes=10), GAP) == (11.0, 21.0, None)


@pytest.mark.parametrize("minutes", [-40, 50, 250])
def test_a_photo_beyond_the_track_or_in_a_long_gap_gets_nothing(tmp_path, minutes):
    # Points at 0 and 10 min, then a gap of 3 hours (the logger was off), then 200 min.
    track = track_of(tmp_path, [(10.0, 20.0, 0), (10.1, 20.1, 10), (11.0, 21.0, 200)])
    assert track.position_at(T0 + dt.timedelta(minutes=minutes), GAP) is None


def test_forty_minutes_after_the_end_gets_nothing_but_within_the_track_does(tmp_path):
    track = track_of(tmp_path, [(10.0, 20.0, 0), (10.1, 20.1, 20)])
    assert track.position_at(T0 + dt.timedelta(minutes=60), GAP) is None
    assert track.position_at(T0 + dt.timedelta(minutes=19), GAP) is not None


def test_a_track_across_the_180th_meridian_stays_on_the_short_way(tmp_path):
    track = track_of(tmp_path, [(-17.0, 179.9, 0), (-17.0, -179.9, 10)])
    lat, lon, _ = track.position_at(T0 + dt.timedelta(minutes=5), GAP)
    assert abs(abs(lon) - 180.0) < 1e-6 and lat == pytest.approx(-17.0, abs=1e-3)


def test_points_of_several_files_are_one_track_in_time_order(tmp_path):
    (tmp_path / "b.gpx").write_text(gpx([(1.0, 1.0, 20), (1.0, 1.2, 30)]))
    (tmp_path / "a.gpx").write_text(gpx([(1.0, 0.8, 0), (1.0, 1.0, 10)]))
    track = read_tracks([str(tmp_path / "b.gpx"), str(tmp_path / "a.gpx")])
    assert [p.longitude for p in track.points] == [0.8, 1.0, 1.0, 1.2]
    lat, lon, _ = track.position_at(T0 + dt.timedelta(minutes=15), GAP)
    assert lon == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        (gpx([(1, 1, 0), (1, 2, 10)])[:150], "cut short"),
        (gpx([(1, 1, 0)], namespace="http://example.com/not-gpx"), "namespace"),
        (gpx([(1, 1, 0), (1, 2, 10)], times=False), "no time"),
        ('<?xml version="1.0"?><kml><Document/></kml>', "not a GPX file"),
        ("", "empty"),
        ("<gpx xmlns='http://www.topografix.com/GPX/1/1'><trk><trkseg/></trk></gpx>", "no track"),
        ('<!DOCTYPE gpx [<!ENTITY a "aaaa">]><gpx>&a;</gpx>', "not a readable GPX"),
        (gpx([(95, 1, 0)]), "out of range"),
        (gpx([(1, 1, 0)]).replace("2019-06-01T10:00:00Z", "yesterday"), "not a date"),
    ],
    ids=[
        "truncated",
        "wrong namespace",
        "no times",
        "KML",
        "empty",
        "no points",
        "DTD",
        "latitude 95",
        "bad time",
    ],  # fmt: skip
)
def test_a_bad_track_is_one_clear_line(tmp_path, text, says):
    path = tmp_path / "bad.gpx"
    path.write_text(text)
    with pytest.raises(BadTrack) as caught:
        read_gpx(str(path))
    message = str(caught.value)
    assert says in message and str(path) in message and "\n" not in message


def test_a_gpx_10_track_without_a_namespace_prefix_is_read(tmp_path):
    path = tmp_path / "old.gpx"
    path.write_text(
        '<gpx version="1.0"><trk><trkseg><trkpt lat="1.5" lon="2.5">'
        "<time>2019-06-01T10:00:00+02:00</time></trkpt></trkseg></trk></gpx>"
    )
    (point,) = read_gpx(str(path))
    assert (point.when, point.latitude) == (dt.datetime(2019, 6, 1, 8, 0), 1.5)  # in UTC


# -- KML and GeoJSON ----------------------------------------------------------------------------

WALK = [(48.8566, 2.3522, 0, 35), (48.8606, 2.3376, 10, 45), (48.8650, 2.3210, 20, 50)]


def when(minutes) -> str:
    return (T0 + dt.timedelta(minutes=minutes)).isoformat() + "Z"


def kml_track(points) -> str:
    """The points as a KML gx:Track: the times, then the positions (lon lat alt)."""
    whens = "".join(f"<when>{when(m)}</when>" for _, _, m, _ in points)
    coords = "".join(f"<gx:coord>{lon} {lat} {ele}</gx:coord>" for lat, lon, _, ele in points)
    return (
        '<?xml version="1.0"?><kml xmlns="http://www.opengis.net/kml/2.2" '
        'xmlns:gx="http://www.google.com/kml/ext/2.2"><Document><Placemark><name>walk</name>'
        f"<gx:Track>{whens}{coords}</gx:Track></Placemark></Document></kml>"
    )


def kml_placemarks(points) -> str:
    """The points as KML Placemarks, each a Point with a TimeStamp."""
    marks = "".join(
        f"<Placemark><TimeStamp><when>{when(m)}</when></TimeStamp>"
        f"<Point><coordinates>{lon},{lat},{ele}</coordinates></Point></Placemark>"
        for lat, lon, m, ele in points
    )
    return f'<kml xmlns="http://earth.google.com/kml/2.1"><Document>{marks}</Document></kml>'


def geojson_line(points, key="coordTimes") -> str:
    """The points as a GeoJSON LineString with a time per position (togeojson's way)."""
    feature = {
        "type": "Feature",
        "properties": {"name": "walk", key: [when(m) for _, _, m, _ in points]},
        "geometry": {"type": "LineString", "coordinates": [[o, a, e] for a, o, _, e in points]},
    }
    return json.dumps({"type": "FeatureCollection", "features": [feature]})


def geojson_points(points) -> str:
    features = [
        {
            "type": "Feature",
            "properties": {"time": when(m)},
            "geometry": {"type": "Point", "coordinates": [lon, lat, ele]},
        }
        for lat, lon, m, ele in points
    ]
    return json.dumps({"type": "FeatureCollection", "features": features})


def geojson_multiline(points, nested=True) -> str:
    """The points as a MultiLineString of two lines; times a list per line, or one list."""
    parts = (points[:2], points[2:])
    lines = [[[o, a, e] for a, o, _, e in part] for part in parts]
    per_line = [[when(m) for _, _, m, _ in part] for part in parts]
    times = per_line if nested else [t for line in per_line for t in line]
    geometry = {"type": "MultiLineString", "coordinates": lines}
    return json.dumps(
        {"type": "Feature", "properties": {"coordTimes": times}, "geometry": geometry}
    )


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("walk.kml", kml_track(WALK)),
        ("marks.kml", kml_placemarks(WALK)),
        ("walk.geojson", geojson_line(WALK)),
        ("walk.json", geojson_line(WALK, key="times")),
        ("marks.geojson", geojson_points(WALK)),
        ("nested.geojson", geojson_multiline(WALK)),
        ("flat.geojson", geojson_multiline(WALK, nested=False)),
    ],
)
def test_kml_and_geojson_tracks_say_what_the_same_gpx_says(tmp_path, name, text):
    expected = track_of(tmp_path, WALK)
    (tmp_path / name).write_text(text)
    track = read_tracks([str(tmp_path / name)])
    assert track.points == expected.points
    for minutes in (3, 10, 14.5):
        moment = T0 + dt.timedelta(minutes=minutes)
        assert track.position_at(moment, GAP) == expected.position_at(moment, GAP)
    family = "kml" if name.endswith(".kml") else "geojson"  # .json is GeoJSON too
    assert track.source == f"{family}:{name}"


def test_tracks_of_several_formats_are_credited_to_tracks(tmp_path):
    (tmp_path / "a.gpx").write_text(gpx(WALK[:2]))
    (tmp_path / "b.kml").write_text(kml_track(WALK[2:]))
    track = read_tracks([str(tmp_path / "a.gpx"), str(tmp_path / "b.kml")])
    assert len(track.points) == 3 and track.source == "tracks:a.gpx, b.kml"


def test_a_kml_line_without_times_has_nothing_to_geotag_with(tmp_path):
    path = tmp_path / "line.kml"
    path.write_text(
        '<kml xmlns="http://www.opengis.net/kml/2.2"><Placemark><Point>'
        "<coordinates>2.35,48.85</coordinates></Point></Placemark><Placemark><LineString>"
        "<coordinates>2.35,48.85 2.36,48.86</coordinates></LineString></Placemark></kml>"
    )
    with pytest.raises(BadTrack, match="its 1 points have no time"):
        read_kml(str(path))


@pytest.mark.parametrize(
    ("name", "text", "says"),
    [
        ("cut.kml", kml_track(WALK)[:200], "cut short"),
        ("gpx.kml", gpx(WALK), "not a KML file"),
        ("ns.kml", kml_track(WALK).replace("opengis.net/kml/2.2", "example.com/x"), "namespace"),
        ("short.kml", kml_track(WALK).replace(f"<when>{when(0)}</when>", ""), "with 2 times"),
        ("bad.kml", kml_track(WALK).replace(when(0), "noon"), "not a date"),
        ("dtd.kml", '<!DOCTYPE kml [<!ENTITY a "aa">]><kml>&a;</kml>', "not a readable KML"),
        ("empty.kml", "", "empty"),
        ("cut.geojson", geojson_line(WALK)[:80], "cut short"),
        ("broken.geojson", '{"type": "FeatureCollection",, }', "line 1"),
        ("list.geojson", "[1, 2]", "not GeoJSON"),
        ("short.geojson", geojson_line(WALK).replace(f'"{when(0)}", ', ""), "with 2 times"),
        ("text.geojson", geojson_line(WALK).replace("48.8566", '"north"'), "valid lat and lon"),
        ("range.geojson", geojson_line(WALK).replace("48.8566", "98.8566"), "out of range"),
        ("number.geojson", geojson_points(WALK).replace(f'"{when(0)}"', "1e9"), "not a date"),
        ("untimed.geojson", geojson_line(WALK, key="other"), "have no time"),
        ("deep.geojson", "[" * 100_000 + "]" * 100_000, "not a readable GeoJSON"),
        ("latin1.geojson", '{"type": "Feature", "name": "caf\xe9"}', "UTF-8"),
        ("empty.json", "", "empty"),
    ],
    ids=lambda value: value if isinstance(value, str) and len(value) < 16 else "",
)
def test_a_bad_kml_or_geojson_track_is_one_clear_line(tmp_path, name, text, says):
    path = tmp_path / name
    path.write_bytes(text.encode("latin-1" if "latin1" in name else "utf-8"))
    with pytest.raises(BadTrack) as caught:
        read_tracks([str(path)])
    message = str(caught.value)
    assert says in message and str(path) in message and "\n" not in message, message
