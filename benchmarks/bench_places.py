"""How fast luna's places work (issue 17), each figure beside a floor measured in the same run.

    python benchmarks/bench_places.py             # 200,000 lookups and library files
    python benchmarks/bench_places.py --quick     # 20,000

- The first load of the place data, and that importing luna.places does not load it.
- 200,000 lookups (luna.places.places_of), target under 10 s, in two sets timed as one
  call each: uniform over the sphere (mostly sea) and photo-like (within 20 km of towns).
  Floor: a bare loop turning the same points into the unit vectors any lookup starts from.
- Reading a GPX track of 100,000 points (luna.ingest.tracks), target under 5 s. Floor: the
  same file through expat with handlers that only keep each point's attributes and text.
- Working out the places of a library of 200,000 located files (`luna places update
  --all`: read the rows, look up, write the names back). Floor: the lookups alone.
"""

from __future__ import annotations

import argparse
import math
import random
import sys
import tempfile
import time
from pathlib import Path

from figures import record

LOOKUP_TARGET_S = 10.0
TRACK_POINTS = 100_000
TRACK_TARGET_S = 5.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20,000 lookups and files")
    parser.add_argument("--workdir", help="where the library is made (default: a temporary folder)")
    args = parser.parse_args()
    count = 20_000 if args.quick else 200_000
    failed = False
    index = first_load()
    uniform, near = sample_points(index, count)
    failed |= lookups(uniform, near, count)
    failed |= track_reading()
    with tempfile.TemporaryDirectory(prefix="luna-bench-places-", dir=args.workdir) as work:
        failed |= library_pass(Path(work), near)
    return 1 if failed else 0


def first_load():
    started = time.perf_counter()
    from luna.places import _index

    imported = time.perf_counter() - started
    assert _index._loaded is None, "importing luna.places must not load the data"
    started = time.perf_counter()
    index, _ = _index.load()
    loaded = time.perf_counter() - started
    print(
        f"import luna.places: {imported * 1000:.0f} ms; first load of the data: {loaded:.2f} s "
        f"({len(index.names):,} places)"
    )
    record("places", "first load", loaded, unit="s", target="-", met=None)
    return index


def sample_points(index, count: int) -> tuple[list, list]:
    rng = random.Random(17)
    uniform = [
        (math.degrees(math.asin(rng.uniform(-1, 1))), rng.uniform(-180, 180)) for _ in range(count)
    ]
    near = []
    for _ in range(count):
        i = rng.randrange(len(index.names))
        lat = math.degrees(math.asin(index.zs[i]))
        lon = math.degrees(math.atan2(index.ys[i], index.xs[i]))
        near.append(
            (
                max(-90.0, min(90.0, lat + rng.uniform(-0.18, 0.18))),
                (lon + rng.uniform(-0.18, 0.18) + 180) % 360 - 180,
            )
        )
    return uniform, near


def lookups(uniform: list, near: list, count: int) -> bool:
    import luna.places

    failed = False
    for label, points in (("uniform over the sphere", uniform), ("near towns", near)):
        floor = _timed(lambda points=points: _unit_vectors(points))
        started = time.perf_counter()
        found = luna.places.places_of(points)
        took = time.perf_counter() - started
        named = sum(1 for place in found if place.city)
        # The target is for 200,000: a smaller run is held to its share.
        target = LOOKUP_TARGET_S * count / 200_000
        met = took < target
        failed |= not met
        print(
            f"{count:,} lookups, {label}: {took:.2f} s (target {target:.1f} s, "
            f"{'ok' if met else 'SLOW'}; floor {floor:.2f} s); {named:,} with a city"
        )
        record("places", f"{count:,} lookups, {label}", took, unit="s", floor=floor,
               target=f"< {target:.1f} s", met=met)  # fmt: skip
    return failed


def _unit_vectors(points: list) -> list:
    cos, sin, rad = math.cos, math.sin, math.radians
    out = []
    for lat, lon in points:
        phi, lam = rad(lat), rad(lon)
        out.append((cos(phi) * cos(lam), cos(phi) * sin(lam), sin(phi)))
    return out


def track_reading() -> bool:
    from luna.ingest.tracks import read_tracks

    with tempfile.TemporaryDirectory(prefix="luna-bench-track-") as work:
        path = Path(work) / "long.gpx"
        _write_gpx(path, TRACK_POINTS)
        floor = _timed(lambda: _bare_expat(path))
        started = time.perf_counter()
        track = read_tracks([str(path)])
        took = time.perf_counter() - started
    assert len(track.points) == TRACK_POINTS, len(track.points)
    met = took < TRACK_TARGET_S
    print(
        f"reading a GPX track of {TRACK_POINTS:,} points: {took:.2f} s "
        f"(target {TRACK_TARGET_S:.0f} s, {'ok' if met else 'SLOW'}; "
        f"floor {floor:.2f} s, bare expat)"
    )
    record("places", f"GPX track of {TRACK_POINTS:,} points", took, unit="s", floor=floor,
           target=f"< {TRACK_TARGET_S:.0f} s", met=met)  # fmt: skip
    return not met


def _write_gpx(path: Path, points: int) -> None:
    import datetime as dt

    start = dt.datetime(2019, 6, 1, 8, 0, 0)
    with path.open("w") as out:
        out.write('<?xml version="1.0"?>\n<gpx version="1.1" '
                  'xmlns="http://www.topografix.com/GPX/1/1"><trk><trkseg>\n')  # fmt: skip
        for i in range(points):
            when = (start + dt.timedelta(seconds=i)).strftime("%Y-%m-%dT%H:%M:%SZ")
            lat, lon = 48.0 + i * 1e-5, 2.0 + i * 1e-5
            out.write(f'<trkpt lat="{lat:.6f}" lon="{lon:.6f}"><ele>35.0</ele>'
                      f"<time>{when}</time></trkpt>\n")  # fmt: skip
        out.write("</trkseg></trk></gpx>\n")


def _bare_expat(path: Path) -> int:
    from xml.parsers import expat

    kept = []
    parser = expat.ParserCreate(namespace_separator=" ")
    parser.StartElementHandler = lambda name, attributes: kept.append(attributes)
    parser.CharacterDataHandler = kept.append
    with path.open("rb") as source:
        parser.ParseFile(source)
    return len(kept)


def library_pass(work: Path, points: list) -> bool:
    """`luna places update --all` on a library of len(points) located files."""
    from luna.library import Library
    from luna.places import places_of
    from luna.store.bulk import bulk_insert_files

    library = work / "library.db"
    rows = [
        {
            "path": f"/photos/{i // 1000:04d}/IMG_{i:06d}.jpg",
            "size_bytes": 4_000_000,
            "mtime": 1_700_000_000 + i,
            "content_sha": f"{i:064x}",
            "mime_type": "image/jpeg",
            "latitude": lat,
            "longitude": lon,
        }
        for i, (lat, lon) in enumerate(points)
    ]
    with Library.open(library) as lib:
        bulk_insert_files(lib, rows, batch=50_000)
    floor = _timed(lambda: places_of(points))
    with Library.open(library) as lib:
        started = time.perf_counter()
        report = lib.update_places(everything=True)
        took = time.perf_counter() - started
    assert report.files == len(points)
    print(
        f"places of a library of {len(points):,} located files (places update --all): "
        f"{took:.2f} s (floor {floor:.2f} s, the lookups alone; {took / floor:.2f}x)"
    )
    record("places", f"places update of {len(points):,} files", took, unit="s", floor=floor,
           ratio=took / floor, target="-", met=None)  # fmt: skip
    return False


def _timed(fn) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


if __name__ == "__main__":
    sys.exit(main())
