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


def midpoint_distance(location) -> float:
    """Metres from the location to the point halfway along the track."""
    to_start = distance_m(location["latitude"], location["longitude"], *START)
    to_end = distance_m(location["latitude"], location["longitude"], *END)
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
