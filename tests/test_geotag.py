"""`luna geotag TRACK.gpx [FILE...]` (issue 17): positions from GPS tracks for photos taken
without one, at their instant (their own UTC offset, else --tz, else an error), corrected
for a wrong camera clock; photos outside every track are named, never guessed; files are
never changed, and a file's own GPS, once it has one, wins.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys

import pytest
from conftest import make_photo, run_cli

from luna.search.geo import distance_m

START = (64.1466, -21.9426)  # Reykjavik
END = (64.1500, -21.9000)
NEAR = (64.1480, -21.9300)  # 630 m from START


def gpx(points) -> str:
    """(latitude, longitude, "2019-06-01T10:00:00Z") points as a GPX 1.1 track."""
    rows = "".join(
        f'<trkpt lat="{lat}" lon="{lon}"><ele>10</ele><time>{when}</time></trkpt>'
        for lat, lon, when in points
    )
    return (
        '<?xml version="1.0"?><gpx version="1.1" xmlns="http://www.topografix.com/GPX/1/1">'
        f"<trk><trkseg>{rows}</trkseg></trk></gpx>"
    )


@pytest.fixture
def walk(tmp_path):
    """A track from START at 10:00 UTC to END at 10:10 UTC on 2019-06-01."""
    path = tmp_path / "walk.gpx"
    path.write_text(gpx([(*START, "2019-06-01T10:00:00Z"), (*END, "2019-06-01T10:10:00Z")]))
    return path


def photo(folder, name, taken, offset=None, gps=None):
    return make_photo(folder / name, taken=taken, offset=offset, gps=gps, color=(len(name), 1, 1))


def position(path):
    code, out, _ = run_cli("show", str(path), "--json")
    return json.loads(out)["files"][0]["location"]


def midpoint_distance(location, start=START, end=END) -> float:
    """Metres from the location to the point halfway along the track (or between `start`
    and `end`)."""
    to_start = distance_m(location["latitude"], location["longitude"], *start)
    to_end = distance_m(location["latitude"], location["longitude"], *end)
    return abs(to_start - to_end)


def test_a_photo_halfway_through_the_walk_is_placed_halfway(tmp_path, walk, library_path):
    shots = tmp_path / "shots"
    half = photo(shots, "half.jpg", "2019:06:01 12:05:00", offset="+02:00")  # 10:05 UTC
    own = photo(shots, "own.jpg", "2019:06:01 12:05:00", offset="+02:00", gps=(48.85, 2.35))
    late = photo(shots, "late.jpg", "2019:06:01 12:50:00", offset="+02:00")  # 40 min after
    before = {
        p: (hashlib.sha256(p.read_bytes()).digest(), p.stat().st_mtime_ns)
        for p in (half, own, late)
    }
    assert run_cli("import", str(shots))[0] == 0

    code, out, err = run_cli("geotag", str(walk), str(shots), "--json")
    assert code == 0, err
    report = json.loads(out)
    assert [t["path"] for t in report["tagged"]] == [str(half)]
    assert (report["own_position"], len(report["not_tagged"])) == (1, 1)
    assert f"not placed: {late}: no track point near its time" in err

    placed = position(half)
    assert midpoint_distance(placed) < 1 and placed["source"] == "gpx:walk.gpx"
    assert position(late) is None
    assert position(own)["latitude"] == pytest.approx(48.85)  # its own, untouched
    code, out, _ = run_cli("show", str(half))
    assert "(from gpx:walk.gpx)" in out
    code, out, _ = run_cli("find", "--near", f"{START[0]},{START[1]}", "--radius", "5km", "--paths")
    assert out.split() == [str(half)]
    assert {
        p: (hashlib.sha256(p.read_bytes()).digest(), p.stat().st_mtime_ns) for p in before
    } == before


def test_without_a_time_zone_it_asks_for_one_and_changes_nothing(tmp_path, walk):
    shots = tmp_path / "shots"
    plain = photo(shots, "plain.jpg", "2019:06:01 10:05:00")  # no offset in the file
    run_cli("import", str(shots))
    code, out, err = run_cli("geotag", str(walk), str(shots))
    assert code != 0 and "--tz" in err and len(err.strip().splitlines()) == 1
    assert position(plain) is None
    code, _, err = run_cli("geotag", str(walk), str(shots), "--tz", "Atlantic/Reykjavik")
    assert code == 0, err
    assert midpoint_distance(position(plain)) < 1  # Reykjavik is UTC all year


def test_tz_follows_daylight_saving(tmp_path):
    """Paris is UTC+1 in winter, UTC+2 in summer: 03:30 on the night the clocks went forward
    (2019-03-31) is 01:30 UTC; the same wall time the night before is 02:30 UTC."""
    track = tmp_path / "night.gpx"
    points = [
        (10.0, 10.0, "2019-03-30T02:30:00Z"),
        (10.0, 10.5, "2019-03-30T02:40:00Z"),
        (20.0, 20.0, "2019-03-31T01:30:00Z"),
        (20.0, 20.5, "2019-03-31T01:40:00Z"),
    ]
    track.write_text(gpx(points))
    shots = tmp_path / "shots"
    winter = photo(shots, "winter.jpg", "2019:03:30 03:30:00")
    summer = photo(shots, "summer.jpg", "2019:03:31 03:30:00")
    run_cli("import", str(shots))
    assert run_cli("geotag", str(track), str(shots), "--tz", "Europe/Paris")[0] == 0
    assert (position(winter)["latitude"], position(winter)["longitude"]) == pytest.approx((10, 10))
    assert (position(summer)["latitude"], position(summer)["longitude"]) == pytest.approx((20, 20))


def test_a_camera_clock_an_hour_ahead_is_corrected(tmp_path, walk):
    shots = tmp_path / "shots"
    fast = photo(shots, "fast.jpg", "2019:06:01 13:05:00", offset="+02:00")  # really 10:05Z
    run_cli("import", str(shots))
    code, out, err = run_cli("geotag", str(walk), str(fast), "--dry-run", "--json")
    assert json.loads(out)["tagged"] == [] and position(fast) is None  # 11:05Z: off the track
    assert run_cli("geotag", str(walk), str(fast), "--clock-offset", "+1h")[0] == 0
    assert midpoint_distance(position(fast)) < 1


def test_the_files_own_gps_wins_once_it_has_one_and_luna_s_stays_until_then(tmp_path, walk):
    shots = tmp_path / "shots"
    half = photo(shots, "half.jpg", "2019:06:01 12:05:00", offset="+02:00")
    run_cli("import", str(shots))
    run_cli("geotag", str(walk), str(half))
    make_photo(half, taken="2019:06:01 12:05:00", offset="+02:00", color=(9, 9, 9))  # edited
    run_cli("import", str(shots))
    assert position(half)["source"] == "gpx:walk.gpx"  # still no GPS of its own: luna's stays
    make_photo(half, taken="2019:06:01 12:05:00", offset="+02:00", gps=(48.85, 2.35))
    run_cli("import", str(shots))
    assert position(half)["latitude"] == pytest.approx(48.85)
    assert position(half)["source"] == "exif:GPS"


def test_a_dry_run_changes_nothing(tmp_path, walk):
    shots = tmp_path / "shots"
    half = photo(shots, "half.jpg", "2019:06:01 12:05:00", offset="+02:00")
    run_cli("import", str(shots))
    code, out, err = run_cli("geotag", str(walk), str(half), "--dry-run")
    assert code == 0 and "would place 1 of 1" in err and str(half) in out
    assert position(half) is None


def test_a_bad_track_is_one_line_and_nothing_changes(tmp_path, walk):
    shots = tmp_path / "shots"
    half = photo(shots, "half.jpg", "2019:06:01 12:05:00", offset="+02:00")
    run_cli("import", str(shots))
    cut = tmp_path / "cut.gpx"
    cut.write_text(walk.read_text()[:120])
    code, out, err = run_cli("geotag", str(walk), str(cut), str(half))
    assert code == 1 and out == "" and "cut.gpx" in err and len(err.strip().splitlines()) == 1
    assert position(half) is None
    code, _, err = run_cli("geotag", str(half))
    assert code != 0 and "GPX" in err


@pytest.mark.skipif(shutil.which("unshare") is None, reason="needs unshare (util-linux)")
def test_geotag_needs_no_network(tmp_path, walk, library_path):
    """Run in a network namespace of its own: no network at all."""
    shots = tmp_path / "shots"
    half = photo(shots, "half.jpg", "2019:06:01 12:05:00", offset="+02:00")
    run_cli("import", str(shots))
    command = ["unshare", "-n", sys.executable, "-m", "luna", "-L", str(library_path), "geotag",
               str(walk), str(half)]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    if "unshare failed" in done.stderr or "Operation not permitted" in done.stderr:
        pytest.skip("no network namespace here")
    assert done.returncode == 0, done.stderr
    assert midpoint_distance(position(half)) < 1


def test_placed_positions_go_to_the_sidecar_with_sidecar_writing(tmp_path, walk):
    from luna.ingest.xmp_sidecar import read_sidecar_fields

    shots = tmp_path / "shots"
    half = photo(shots, "half.jpg", "2019:06:01 12:05:00", offset="+02:00")
    run_cli("import", str(shots))
    assert run_cli("geotag", str(walk), str(half), "--write-sidecars")[0] == 0
    fields = read_sidecar_fields((shots / "half.jpg.xmp").read_bytes())
    assert distance_m(fields.latitude, fields.longitude, *START) > 0
    assert midpoint_distance({"latitude": fields.latitude, "longitude": fields.longitude}) < 1


def test_tracks_and_time_values_are_checked(tmp_path, walk):
    for args, option in (
        (["--max-gap", "soon"], "--max-gap"),
        (["--clock-offset", "1x"], "--clock-offset"),
        (["--tz", "Mars/Olympus"], "--tz"),
    ):
        code, out, err = run_cli("geotag", str(walk), *args)
        assert code != 0 and option in err and len(err.strip().splitlines()) == 1, err


def test_find_by_where_the_position_came_from(tmp_path, walk):
    shots = tmp_path / "shots"
    half = photo(shots, "half.jpg", "2019:06:01 12:05:00", offset="+02:00")
    own = photo(shots, "own.jpg", "2019:06:01 12:05:00", offset="+02:00", gps=(48.85, 2.35))
    none = photo(shots, "none.jpg", "2019:06:01 18:00:00", offset="+02:00")
    run_cli("import", str(shots))
    run_cli("geotag", str(walk), str(shots))

    def found(source):
        code, out, err = run_cli("find", "--location-source", source, "--kind", "photo", "--paths")
        assert code == 0, err
        return out.split()

    assert found("gpx") == [str(half)]
    assert found("gpx:walk.gpx") == [str(half)]
    assert found("exif") == [str(own)]
    assert found("none") == [str(none)]
    code, _, err = run_cli("find", "--location-source", "moon")
    assert code == 2 and "--location-source" in err


# -- --from-photos: the phone beside the camera ------------------------------------------------


def file_id(path) -> str:
    code, out, _ = run_cli("show", str(path), "--json")
    return json.loads(out)["files"][0]["id"]


@pytest.fixture
def phone_walk(tmp_path):
    """Photos from a phone that knew where it was: START at 12:00, NEAR (630 m on) at 12:08
    (UTC+2), and
    one far away (Paris) at 13:00; a camera's photo halfway, by its own offset, and
    another that does not say its offset (its local clock is compared)."""
    phone, camera = tmp_path / "phone", tmp_path / "camera"
    shots = {
        "start": photo(phone, "a.jpg", "2019:06:01 12:00:00", offset="+02:00", gps=START),
        "end": photo(phone, "b.jpg", "2019:06:01 12:08:00", offset="+02:00", gps=NEAR),
        "paris": photo(phone, "c.jpg", "2019:06:01 13:00:00", offset="+02:00", gps=(48.85, 2.35)),
        "half": photo(camera, "half.jpg", "2019:06:01 12:04:00", offset="+02:00"),
        "local": photo(camera, "local.jpg", "2019:06:01 12:04:00"),  # no offset
    }
    assert run_cli("import", str(phone), str(camera))[0] == 0
    return shots


def test_from_photos_places_a_photo_between_the_phone_s_photos_around_it(phone_walk):
    before = {p: p.read_bytes() for p in phone_walk.values()}
    code, out, err = run_cli("geotag", "--from-photos", "--json")
    assert code == 0, err
    report = json.loads(out)
    assert report["source"] == "photos" and report["files"] == 2  # those without a position
    placed = {t["path"]: t for t in report["tagged"]}
    assert set(placed) == {str(phone_walk["half"]), str(phone_walk["local"])}
    assert list(report) == [
        "version", "source", "files", "tagged", "own_position", "not_tagged", "dry_run", "skipped",
    ]  # fmt: skip
    assert list(report["tagged"][0]) == [
        "id", "path", "taken_utc", "latitude", "longitude", "altitude", "source",
    ]  # fmt: skip
    expected = f"photos:{file_id(phone_walk['start'])},{file_id(phone_walk['end'])}"
    for name in ("half", "local"):
        location = position(phone_walk[name])
        assert midpoint_distance(location, START, NEAR) < 2 and location["source"] == expected
        assert distance_m(location["latitude"], location["longitude"], *START) < 320
    assert placed[str(phone_walk["half"])]["taken_utc"] == "2019-06-01T10:04:00Z"
    assert placed[str(phone_walk["local"])]["taken_utc"] is None  # its zone is unknown
    assert f"(from {expected})" in run_cli("show", str(phone_walk["half"]))[1]

    def found(source):
        return run_cli("find", "--location-source", source, "--paths")[1].split()

    assert sorted(found("photos")) == sorted(placed)
    assert sorted(found(expected)) == sorted(placed)
    assert str(phone_walk["start"]) not in found("photos")
    assert {p: p.read_bytes() for p in phone_walk.values()} == before  # files untouched


def test_from_photos_takes_the_one_photo_near_enough_and_no_farther(tmp_path, phone_walk):
    late = photo(tmp_path / "camera", "late.jpg", "2019:06:01 12:28:00", offset="+02:00")
    run_cli("import", str(late))
    code, out, err = run_cli("geotag", "--from-photos", str(late), "--within", "10m")
    assert code == 0 and "no photo with a position of its own" in err and position(late) is None
    # 20 min after the one at NEAR, 32 min before the one in Paris: only NEAR is within 25m.
    code, out, err = run_cli("geotag", "--from-photos", str(late), "--within", "25m")
    assert code == 0, err
    location = position(late)
    assert distance_m(location["latitude"], location["longitude"], *NEAR) < 2
    assert location["source"] == f"photos:{file_id(phone_walk['end'])}"
    code, out, err = run_cli("geotag", "--from-photos", str(late), "--within", "35m")
    assert "photos around it are 2" in err and "km apart" in err  # Paris is too far


def test_photos_around_that_disagree_place_nothing(tmp_path):
    shots = tmp_path / "shots"
    photo(shots, "town.jpg", "2019:06:01 12:00:00", offset="+02:00", gps=START)
    photo(shots, "away.jpg", "2019:06:01 12:06:00", offset="+02:00", gps=(64.1466, -21.8400))
    between = photo(shots, "between.jpg", "2019:06:01 12:03:00", offset="+02:00")
    run_cli("import", str(shots))
    code, out, err = run_cli("geotag", "--from-photos", "--json")
    assert code == 0 and json.loads(out)["tagged"] == []
    assert f"not placed: {between}: photos around it are 5.0 km apart" in err
    assert position(between) is None
    code, out, err = run_cli("geotag", "--from-photos", "--max-distance", "6km")
    assert code == 0 and position(between) is not None  # they agree within 6 km


def test_from_photos_never_builds_on_positions_luna_set(tmp_path, walk):
    shots = tmp_path / "shots"
    phone = photo(shots, "phone.jpg", "2019:06:01 12:00:00", offset="+02:00", gps=START)
    first = photo(shots, "first.jpg", "2019:06:01 12:05:00", offset="+02:00")  # 5 min: placed
    second = photo(shots, "second.jpg", "2019:06:01 12:14:00", offset="+02:00")  # 9 after first
    tracked = photo(shots, "tracked.jpg", "2019:06:01 12:10:00", offset="+02:00")
    run_cli("import", str(shots))
    assert run_cli("geotag", str(walk), str(tracked))[0] == 0  # luna's, from the track
    for _ in range(2):  # nor from what the first run placed
        code, out, err = run_cli("geotag", "--from-photos", str(first), str(second))
        assert code == 0, err
    assert position(first)["source"] == f"photos:{file_id(phone)}"
    assert position(second) is None and f"not placed: {second}" in err
    assert position(tracked)["source"] == "gpx:walk.gpx"  # placed before, left as it was


def test_from_photos_keeps_to_the_day_and_corrects_the_camera_clock(tmp_path):
    shots = tmp_path / "shots"
    photo(shots, "night.jpg", "2019:06:01 23:58:00", offset="+02:00", gps=START)
    photo(shots, "noon.jpg", "2019:06:02 12:00:00", offset="+02:00", gps=END)
    after_midnight = photo(shots, "after.jpg", "2019:06:02 00:03:00", offset="+02:00")
    fast = photo(shots, "fast.jpg", "2019:06:02 13:02:00", offset="+02:00")  # an hour ahead
    run_cli("import", str(shots))
    code, out, err = run_cli("geotag", "--from-photos", "--dry-run", "--json")
    assert json.loads(out)["tagged"] == [] and position(after_midnight) is None
    code, out, err = run_cli("geotag", "--from-photos", str(fast), "--clock-offset", "+1h")
    assert (
        code == 0 and distance_m(position(fast)["latitude"], position(fast)["longitude"], *END) < 2
    )


def test_from_photos_from_python(tmp_path, phone_walk, lib):
    report = lib.geotag_from_photos(
        [str(phone_walk["half"])], within="5m", max_distance="700m", dry_run=True
    )
    assert [t["path"] for t in report.tagged] == [str(phone_walk["half"])]
    assert report.tagged[0]["source"].startswith("photos:") and report.dry_run
    assert lib.geotag_from_photos([str(phone_walk["half"])], within="1m").tagged == []


def test_tracks_or_from_photos_one_way_at_a_time(tmp_path, walk):
    for args, says in (
        ([str(walk), "--from-photos"], "--from-photos takes no track"),
        ([], "GPS track"),
        (["--from-photos", "--max-gap", "5m"], "--max-gap"),
        ([str(walk), "--within", "5m"], "--within"),
        (["--from-photos", "--max-distance", "near"], "--max-distance"),
        (["--from-photos", "--within", "soon"], "--within"),
        (["--from-photos", "--json", "--geojson"], "cannot be used together"),
    ):
        code, out, err = run_cli("geotag", *args)
        assert code == 2 and says in err and len(err.strip().splitlines()) == 1, (args, err)


# -- KML and GeoJSON tracks, --geojson ---------------------------------------------------------


def test_kml_and_geojson_tracks_place_a_photo_where_gpx_does(tmp_path, walk):
    shots = tmp_path / "shots"
    half = photo(shots, "half.jpg", "2019:06:01 12:05:00", offset="+02:00")
    run_cli("import", str(shots))
    kml = tmp_path / "walk.kml"
    kml.write_text(
        '<kml xmlns="http://www.opengis.net/kml/2.2" xmlns:gx="http://www.google.com/kml/ext/2.2">'
        "<Placemark><gx:Track><when>2019-06-01T10:00:00Z</when><when>2019-06-01T10:10:00Z</when>"
        f"<gx:coord>{START[1]} {START[0]} 10</gx:coord><gx:coord>{END[1]} {END[0]} 10</gx:coord>"
        "</gx:Track></Placemark></kml>"
    )
    geojson = tmp_path / "walk.geojson"
    line = {"type": "LineString", "coordinates": [[START[1], START[0], 10], [END[1], END[0], 10]]}
    times = {"coordTimes": ["2019-06-01T10:00:00Z", "2019-06-01T10:10:00Z"]}
    geojson.write_text(json.dumps({"type": "Feature", "properties": times, "geometry": line}))
    answers = {}
    for track in (walk, kml, geojson):
        code, out, err = run_cli("geotag", str(track), str(half), "--dry-run", "--json")
        assert code == 0, err
        (answers[track.suffix],) = json.loads(out)["tagged"]
    where = {k: (v["latitude"], v["longitude"], v["altitude"]) for k, v in answers.items()}
    assert where[".kml"] == where[".gpx"] == where[".geojson"]
    assert answers[".kml"]["source"] == "kml:walk.kml"
    assert run_cli("geotag", str(geojson), str(half))[0] == 0
    assert position(half)["source"] == "geojson:walk.geojson"


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("bad.kml", '<kml xmlns="http://www.opengis.net/kml/2.2"><Placemark><gx:Track>'),
        ("bad.geojson", '{"type": "FeatureCollection", "features": [{"type": "Feat'),
    ],
)
def test_a_bad_kml_or_geojson_track_changes_nothing(tmp_path, walk, library_path, name, text):
    from conftest import library_snapshot

    shots = tmp_path / "shots"
    half = photo(shots, "half.jpg", "2019:06:01 12:05:00", offset="+02:00")
    run_cli("import", str(shots))
    bad = tmp_path / name
    bad.write_text(text)
    before = library_snapshot(library_path)
    code, out, err = run_cli("geotag", str(walk), str(bad), str(half))
    assert code == 1 and out == "" and name in err and len(err.strip().splitlines()) == 1, err
    assert library_snapshot(library_path) == before and position(half) is None


def test_geojson_output_is_a_feature_per_placed_file(tmp_path, walk, phone_walk):
    camera = str(tmp_path / "camera" / "half.jpg")
    code, out, err = run_cli("geotag", str(walk), camera, "--dry-run", "--geojson")
    assert code == 0 and "would place 1 of 1" in err
    collection = json.loads(out)
    assert collection["type"] == "FeatureCollection" and "version" not in collection
    (feature,) = collection["features"]
    assert feature["type"] == "Feature" and feature["geometry"]["type"] == "Point"
    (tagged,) = json.loads(run_cli("geotag", str(walk), camera, "--dry-run", "--json")[1])["tagged"]
    where = [tagged["longitude"], tagged["latitude"], tagged["altitude"]]
    assert feature["geometry"]["coordinates"] == where
    assert feature["properties"] == {
        "id": file_id(phone_walk["half"]), "path": str(phone_walk["half"]),
        "taken_utc": "2019-06-01T10:04:00Z", "source": "gpx:walk.gpx",
    }  # fmt: skip
    assert position(phone_walk["half"]) is None  # a dry run
    code, out, err = run_cli("geotag", "--from-photos", "--geojson")
    features = json.loads(out)["features"]
    assert code == 0 and len(features) == 2 and position(phone_walk["half"]) is not None
    assert {f["properties"]["source"][:7] for f in features} == {"photos:"}
