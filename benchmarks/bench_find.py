"""How fast `luna find` answers on a library of 1,000,000 files, beside a floor.

    python benchmarks/bench_find.py            # 1,000,000 files (about a minute to build)
    python benchmarks/bench_find.py --quick    # 50,000 files

The library is synthetic, built with the core's bulk insert (luna.store.bulk): dates over
2010-2024, 70% of files with a place (a third of those clustered around Paris and Nice),
one to three tags each ("beach" on about 5%), some albums. Each luna command is timed as a
whole process (start-up included), the median of 7 runs after a warm-up, beside its floor:
a bare `python3 -c` script, started the same way, that runs the equivalent SQL with sqlite3
and prints the same lines. Outputs are compared, so a fast wrong answer cannot pass.
Targets (issue 13): `find --near ... --paths` at most 2x its floor and under 150 ms; the
other queries at most 4x their floor and under 300 ms; `luna --version` under 60 ms.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from figures import record

RUNS = 7
CITIES = [(48.8566, 2.3522), (43.70, 7.26), (40.71, -74.0), (35.68, 139.69)]
VOCABULARY = [f"tag{i:03d}" for i in range(200)]


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def luna_command() -> list[str]:
    installed = Path(sys.executable).with_name("luna")
    return [str(installed)] if installed.exists() else [sys.executable, "-m", "luna"]


# -- the synthetic library -----------------------------------------------------------------


def records(count: int, seed: int = 7):
    rng = random.Random(seed)
    first = dt.datetime(2010, 1, 1)
    span = (dt.datetime(2025, 1, 1) - first).total_seconds()
    for i in range(count):
        when = first + dt.timedelta(seconds=rng.random() * span)
        record = {
            "path": f"/photos/{when:%Y/%m}/IMG_{i:07d}.jpg",
            "size_bytes": rng.randint(500_000, 8_000_000),
            "mtime": when.timestamp(),
            "content_sha": f"{rng.getrandbits(256):064x}",
            "kind": "photo" if rng.random() < 0.9 else "video",
            "mime_type": "image/jpeg",
            "start": when,
            "owner": "alice",
            "tags": rng.sample(VOCABULARY, rng.randint(1, 3))
            + (["beach"] if rng.random() < 0.05 else []),
            "albums": [f"Album {i % 50}"] if rng.random() < 0.02 else [],
        }
        place = rng.random()
        if place < 0.7 * 0.3:  # clustered: within ~20 km of a city
            lat, lon = rng.choice(CITIES)
            record["latitude"] = lat + rng.uniform(-0.18, 0.18)
            record["longitude"] = lon + rng.uniform(-0.25, 0.25)
        elif place < 0.7:
            record["latitude"] = rng.uniform(-60, 70)
            record["longitude"] = rng.uniform(-180, 180)
        yield record


def build_library(path: Path, count: int) -> None:
    from luna.library import Library
    from luna.store.bulk import bulk_insert_files

    started = time.perf_counter()
    with Library.open(path) as lib:
        # No ANALYZE: users' libraries have no statistics, so neither does this one.
        inserted = bulk_insert_files(lib, records(count), batch=100_000)
    log(f"  {inserted:,} files in {time.perf_counter() - started:.1f} s")


# -- the floors: the same questions asked with bare sqlite3 --------------------------------

FLOOR_PRELUDE = """
import sqlite3, sys, math
con = sqlite3.connect("file:" + sys.argv[1] + "?mode=ro", uri=True)
out = sys.stdout
"""

FLOOR_NEAR = (
    FLOOR_PRELUDE
    + """
lat, lon, r = 48.8566, 2.3522, 5000.0
R = 6371008.8
dlat = math.degrees(r / R)
dlon = math.degrees(r / R / math.cos(math.radians(lat)))
rows = con.execute(
    "SELECT path, latitude, longitude, start FROM file WHERE latitude BETWEEN ? AND ? "
    "AND longitude BETWEEN ? AND ? AND +missing_since IS NULL",
    (lat - dlat, lat + dlat, lon - dlon, lon + dlon))
def dist(a, b):
    p1, p2 = math.radians(lat), math.radians(a)
    dl = math.radians(b - lon)
    h = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * R * math.asin(min(1.0, math.sqrt(h)))
hits = sorted((s is None, s or "", p) for p, a, b, s in rows if dist(a, b) <= r)
out.write("".join(p + "\\n" for _, _, p in hits))
"""
)

FLOOR_TAG = (
    FLOOR_PRELUDE
    + """
rows = con.execute(
    "SELECT path FROM file WHERE +missing_since IS NULL AND COALESCE(\\"end\\", start) >= ? "
    "AND id IN (SELECT ft.file_id FROM file_tag ft JOIN tag t ON t.id = ft.tag_id "
    "WHERE t.key = 'beach' OR t.key LIKE 'beach/%') "
    "ORDER BY start IS NULL, start, path", ("2020-01-01 00:00:00",))
out.write("".join(p + "\\n" for (p,) in rows))
"""
)

FLOOR_COUNT = (
    FLOOR_PRELUDE
    + """
total = con.execute("SELECT COUNT(*) FROM file WHERE missing_since IS NULL").fetchone()[0]
out.write("%d\\n" % total)
"""
)


def queries(library: Path) -> list[tuple[str, list[str], list[str] | None]]:
    luna = luna_command() + ["-L", str(library)]
    floor = [sys.executable, "-c"]
    lib = str(library)
    return [
        (
            "find --near 48.8566,2.3522 --radius 5km --paths",
            luna + ["find", "--near", "48.8566,2.3522", "--radius", "5km", "--paths"],
            floor + [FLOOR_NEAR, lib],
        ),
        (
            "find --tag beach --after 2020 --paths",
            luna + ["find", "--tag", "beach", "--after", "2020", "--paths"],
            floor + [FLOOR_TAG, lib],
        ),
        ("find --count", luna + ["find", "--count"], floor + [FLOOR_COUNT, lib]),
        ("--version", luna_command() + ["--version"], None),
    ]


def time_command(command: list[str]) -> tuple[float, str]:
    """Median wall time of RUNS runs after one warm-up, and the output."""
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{command[:3]} failed: {done.stderr}")
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        subprocess.run(command, capture_output=True, text=True, check=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times), done.stdout


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=1_000_000)
    parser.add_argument("--quick", action="store_true", help="50,000 files")
    parser.add_argument("--workdir", type=Path)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--reuse", action="store_true", help="reuse the workdir's library")
    args = parser.parse_args(argv)
    count = 50_000 if args.quick else args.files
    work = args.workdir or Path(tempfile.mkdtemp(prefix="luna-find-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    library = work / "library.db"
    try:
        if not (args.reuse and library.exists()):
            for stale in work.glob("library.db*"):
                stale.unlink()
            log(f"building a library of {count:,} files in {library} ...")
            build_library(library, count)
        rows = []
        for label, luna_cmd, floor_cmd in queries(library):
            log(f"timing {label} ...")
            luna_s, luna_out = time_command(luna_cmd)
            floor_s, floor_out = time_command(floor_cmd) if floor_cmd else (None, None)
            same = floor_out is None or sorted(luna_out.splitlines()) == sorted(
                floor_out.splitlines()
            )
            rows.append((label, luna_s, floor_s, len(luna_out.splitlines()), same))
        report(rows, count)
    finally:
        if not args.keep and not args.workdir:
            shutil.rmtree(work, ignore_errors=True)
    return 0


def target(label: str) -> tuple[float, float]:
    """(at most seconds, at most x its floor) for a command (issue 13's targets)."""
    if label.startswith("find --near"):
        return 0.150, 2.0
    if label == "--version":
        return 0.060, float("inf")
    return 0.300, 4.0


def report(rows, count: int) -> None:
    print("=" * 96)
    print(
        f"luna find benchmark: {count:,} files; median of {RUNS} whole-process runs "
        f"(Python {sys.version.split()[0]}, {os.cpu_count()} cores)"
    )
    print(f"{'command':<50}{'lines':>8}{'luna ms':>10}{'floor ms':>10}{'ratio':>8}  verdict")
    for label, luna_s, floor_s, lines, same in rows:
        ratio = luna_s / floor_s if floor_s else None
        limit, most = target(label)
        ok = luna_s < limit and (ratio is None or ratio <= most) and same
        record(
            "find",
            label if label == "--version" else f"{label} ({count:,} files)",
            luna_s * 1000,
            unit="ms",
            floor=None if floor_s is None else floor_s * 1000,
            ratio=ratio,
            target=(f"<= {most:g}x and " if floor_s else "") + f"< {limit * 1000:.0f} ms",
            met=ok,
        )
        verdict = "met" if ok else "TARGET MISSED"
        if not same:
            verdict += " (OUTPUT DIFFERS FROM THE FLOOR)"
        floor_text = f"{floor_s * 1000:10.0f}" if floor_s else f"{'-':>10}"
        ratio_text = f"{ratio:8.2f}" if ratio else f"{'-':>8}"
        print(f"{label:<50}{lines:>8}{luna_s * 1000:10.0f}{floor_text}{ratio_text}  {verdict}")
    print(
        "targets: find --near <= 2x its floor and < 150 ms; the other queries <= 4x and "
        "< 300 ms; luna --version < 60 ms"
    )
    print("=" * 96)


if __name__ == "__main__":
    sys.exit(main())
