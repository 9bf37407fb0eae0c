"""How fast luna writes XMP sidecars and marks files, beside floors measured in the same run.

    python benchmarks/bench_sidecars.py               # 10,000 photos
    python benchmarks/bench_sidecars.py --files 2000

The library is synthetic (the core's bulk insert, luna.store.bulk) over empty files that
exist on disk, 100 to a folder, each with two tags; every photo gets 4 stars, a label, a
title and an album, so that each sidecar holds what a real one would.

Targets (issue 16):
- `luna sidecar write` of 10,000 photos: at least 0.5x the files per second of the floor, a
  bare Python loop writing the same number of files of the same size, each written to a
  temporary file, fsynced and renamed into place, in the same folders.
- `luna rate 4 - -z` of 10,000 files named on stdin, without sidecars: under 2 s.
Each is timed as a whole process (start-up included), the best of RUNS, and every run
starts from sidecars that do not exist yet (for writing) or from unrated files.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from figures import record

RUNS = 3


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def luna_command() -> list[str]:
    installed = Path(sys.executable).with_name("luna")
    return [str(installed)] if installed.exists() else [sys.executable, "-m", "luna"]


def build(work: Path, count: int) -> tuple[Path, list[str]]:
    from luna.library import Library
    from luna.store.bulk import bulk_insert_files

    photos, library = work / "photos", work / "library.db"
    rows = []
    for i in range(count):
        path = photos / f"{i // 100:03d}" / f"IMG_{i:06d}.jpg"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch()
        rows.append(
            {
                "path": str(path),
                "size_bytes": 4_000_000,
                "mtime": 1_700_000_000 + i,
                "content_sha": f"{i:064x}",
                "mime_type": "image/jpeg",
                "owner": "alice",
                "tags": [f"Places/France/City {i % 40}", f"trip {i % 7}"],
            }
        )
    paths = [row["path"] for row in rows]
    with Library.open(library) as lib:
        bulk_insert_files(lib, rows, batch=50_000)
        lib.marks.rate(4, paths)
        lib.marks.label("green", paths)
        lib.marks.describe(paths, title="A day out")
        lib.albums.create("Best", user="alice")
        lib.albums.add("Best", paths, user="alice")
    return library, paths


def clear_sidecars(paths: list[str]) -> None:
    for path in paths:
        for name in (path + ".xmp", path + ".xmp.tmp"):
            if os.path.exists(name):
                os.unlink(name)


def forget_sidecars(library: Path) -> None:
    """The library as before the write: no sidecar rows (so that each run writes anew)."""
    import sqlite3

    with sqlite3.connect(library) as con:
        con.execute("DELETE FROM file WHERE kind = 'sidecar'")


def floor_write(paths: list[str], size: int) -> float:
    """Seconds to write `size` bytes beside each path the way luna does at best: a
    temporary file, fsync, rename, and the folder fsynced once per file."""
    data = b"x" * size
    began = time.perf_counter()
    for path in paths:
        target = path + ".xmp"
        temporary = target + ".tmp"
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        try:
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.rename(temporary, target)
        folder = os.open(os.path.dirname(target), os.O_RDONLY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)
    return time.perf_counter() - began


def timed(command: list[str], env: dict, stdin: bytes | None = None) -> float:
    began = time.perf_counter()
    done = subprocess.run(command, env=env, input=stdin, capture_output=True)
    elapsed = time.perf_counter() - began
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed: {done.stderr.decode()[-2000:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--workdir")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    work = Path(args.workdir or tempfile.mkdtemp(prefix="luna-sidecars-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        run(work, args.files)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


def run(work: Path, count: int) -> None:
    log(f"building a library of {count:,} photos in {work} ...")
    library, paths = build(work, count)
    env = {**os.environ, "LUNA_LIBRARY": str(library), "LUNA_CONFIG": str(work / "none.toml")}
    luna = luna_command()

    log("writing the sidecars once, to learn their size (untimed) ...")
    timed([*luna, "sidecar", "write"], env)
    size = round(sum(os.path.getsize(p + ".xmp") for p in paths) / len(paths))

    writes, floors = [], []
    for n in range(RUNS):
        log(f"round {n + 1}: floor, then luna sidecar write ...")
        clear_sidecars(paths)
        floors.append(floor_write(paths, size))
        clear_sidecars(paths)
        forget_sidecars(library)
        writes.append(timed([*luna, "sidecar", "write"], env))
    written = sum(os.path.exists(p + ".xmp") for p in paths)
    assert written == count, f"only {written} of {count} sidecars written"

    log(f"timing luna rate 4 - -z of {count:,} files ...")
    listing = b"".join(p.encode() + b"\0" for p in paths)
    rates = []
    for _ in range(RUNS):
        timed([*luna, "rate", "0", "-", "-z"], env, listing)  # back to unrated, untimed
        rates.append(timed([*luna, "rate", "4", "-", "-z"], env, listing))

    best_write, best_floor, best_rate = min(writes), min(floors), min(rates)
    write_rate, floor_rate = count / best_write, count / best_floor
    ratio = write_rate / floor_rate
    print("=" * 90)
    print(f"luna sidecar benchmark: {count:,} photos, sidecars of {size:,} bytes, best of {RUNS}")
    for name, seconds, rate in (
        ("floor: write + fsync + rename, one process", best_floor, floor_rate),
        ("luna sidecar write (whole process)", best_write, write_rate),
    ):
        print(f"  {name:<44} {seconds:7.2f} s  {rate:8,.0f} files/s")
    verdict = "met" if ratio >= 0.5 else "TARGET MISSED"
    print(f"  ratio luna / floor: {ratio:.2f}   target >= 0.5: {verdict}")
    print(
        f"  luna rate 4 - -z ({count:,} files, no sidecars)  {best_rate:7.2f} s   target < 2 s: "
        f"{'met' if best_rate < 2 else 'TARGET MISSED'}"
    )
    print("=" * 90)
    record(
        "sidecars",
        f"sidecar write ({count:,} photos)",
        write_rate,
        unit="files/s",
        floor=floor_rate,
        ratio=ratio,
        target=">= 0.5x floor",
        met=ratio >= 0.5,
    )
    record(
        "sidecars",
        f"rate -z ({count:,} files)",
        best_rate,
        unit="s",
        target="< 2 s",
        met=best_rate < 2,
    )


if __name__ == "__main__":
    main()
