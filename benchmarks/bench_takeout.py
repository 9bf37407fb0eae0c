"""How fast `luna import --takeout` brings a Google Photos Takeout in from its zip parts,
beside a floor measured in the same run (issue 19).

    python benchmarks/bench_takeout.py              # a 2 GB Takeout
    python benchmarks/bench_takeout.py --quick      # 200 MB

The Takeout: photos of about 4 MB (a real small JPEG, then noise after its end, as a
camera's JPEG is mostly entropy-coded data), each with its JSON, a tenth of them also in
an album folder (the same bytes again, as Google writes them), in deflated zip parts of
500 MB.

- Floor: reading every member of the zips with zipfile, hashing it (SHA-256) and writing it
  to the destination disk with fsync: what any importer must do at least.
- luna: `luna import --takeout PARTS --into DIR` as a whole process (start-up included),
  into a fresh library. Target: at least 0.6 of the floor's throughput.
- Peak memory of the luna process (its largest resident size): target under 300 MB.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import io
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

from figures import record

PHOTO_BYTES = 4_000_000
PART_BYTES = 500_000_000
RATIO_TARGET = 0.6
MEMORY_TARGET_MB = 300


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def luna_command() -> list[str]:
    installed = Path(sys.executable).with_name("luna")
    return [str(installed)] if installed.exists() else [sys.executable, "-m", "luna"]


def small_jpeg(seed: int) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (seed % 256, (seed * 7) % 256, (seed * 13) % 256)).save(
        buffer, "JPEG"
    )
    return buffer.getvalue()


def photo_json(name: str, n: int) -> bytes:
    taken = dt.datetime(2019, 1, 1) + dt.timedelta(hours=n)
    stamp = int(taken.replace(tzinfo=dt.UTC).timestamp())
    return json.dumps({"title": name, "photoTakenTime": {"timestamp": str(stamp)},
                       "geoData": {"latitude": 48.85, "longitude": 2.35}}).encode()  # fmt: skip


def build(folder: Path, total_bytes: int) -> tuple[list[str], int]:
    """Write the zip parts; returns their paths and the bytes of media in them."""
    rng = random.Random(19)
    parts, media_bytes, part, part_bytes = [], 0, None, 0
    count = max(1, total_bytes // PHOTO_BYTES)
    for n in range(count):
        if part is None or part_bytes >= PART_BYTES:
            if part is not None:
                part.close()
            path = folder / f"takeout-{len(parts) + 1:03d}.zip"
            parts.append(str(path))
            part, part_bytes = zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED), 0
        name = f"IMG_{n:05d}.jpg"
        data = small_jpeg(n) + rng.randbytes(PHOTO_BYTES)
        folders = ["Photos from 2019"] + (["Best of"] if n % 10 == 0 else [])
        for where in folders:
            part.writestr(f"Takeout/Google Photos/{where}/{name}", data)
            part.writestr(f"Takeout/Google Photos/{where}/{name}.json", photo_json(name, n))
            media_bytes += len(data)
            part_bytes += len(data)
        if n == 0:
            part.writestr("Takeout/Google Photos/Best of/metadata.json", b'{"title": "Best of"}')
    assert part is not None
    part.close()
    return parts, media_bytes


def floor(parts: list[str], into: Path) -> float:
    """Seconds to read, hash and write (with fsync) every member of the zips."""
    into.mkdir()
    started = time.perf_counter()
    n = 0
    for path in parts:
        with zipfile.ZipFile(path) as archive:
            for info in archive.infolist():
                digest = hashlib.sha256()
                with archive.open(info) as source, open(into / f"{n:06d}", "wb") as target:
                    while chunk := source.read(1 << 20):
                        digest.update(chunk)
                        target.write(chunk)
                    target.flush()
                    os.fsync(target.fileno())
                n += 1
    return time.perf_counter() - started


def run_luna(parts: list[str], work: Path) -> tuple[float, float, dict]:
    """Seconds, peak resident MB and the report of `luna import --takeout`."""
    env = {
        **os.environ,
        "HOME": str(work / "home"),
        "XDG_DATA_HOME": str(work / "data"),
        "XDG_CONFIG_HOME": str(work / "config"),
        "XDG_CACHE_HOME": str(work / "cache"),
    }
    command = [*luna_command(), "-L", str(work / "library.db"), "import", "--takeout",
               *parts, "--into", str(work / "Photos"), "--json", "-q"]  # fmt: skip
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    took = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"luna failed ({done.returncode}): {done.stderr}")
    peak_kb = max(before, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
    return took, peak_kb / 1024, json.loads(done.stdout)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a 200 MB Takeout")
    parser.add_argument("--workdir", help="where to build (default: a temporary folder)")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    total = 200_000_000 if args.quick else 2_000_000_000
    work = Path(tempfile.mkdtemp(prefix="luna-bench-takeout-", dir=args.workdir))
    try:
        log(f"building a Takeout of {total / 1e9:.1f} GB in {work} ...")
        parts, media = build(work, total)
        log("floor: zipfile, SHA-256, write and fsync ...")
        floor_s = floor(parts, work / "floor")
        shutil.rmtree(work / "floor")
        log("luna import --takeout ...")
        luna_s, peak_mb, report = run_luna(parts, work)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    floor_rate, luna_rate = media / floor_s / 1e6, media / luna_s / 1e6
    ratio = luna_rate / floor_rate
    met_rate, met_memory = ratio >= RATIO_TARGET, peak_mb < MEMORY_TARGET_MB
    print(f"Takeout of {media / 1e9:.2f} GB of media in {len(parts)} parts: "
          f"{report['imported']:,} imported, {report['duplicates_collapsed']:,} album copies "
          "collapsed")  # fmt: skip
    print(f"luna import --takeout: {luna_rate:.0f} MB/s ({luna_s:.1f} s); floor {floor_rate:.0f} "
          f"MB/s ({floor_s:.1f} s); {ratio:.2f} of the floor (target {RATIO_TARGET}, "
          f"{'met' if met_rate else 'MISSED'})")  # fmt: skip
    print(f"peak memory of luna: {peak_mb:.0f} MB (target < {MEMORY_TARGET_MB} MB, "
          f"{'met' if met_memory else 'MISSED'})")  # fmt: skip
    record("takeout", "import --takeout throughput", luna_rate, unit="MB/s", floor=floor_rate,
           ratio=ratio, target=f">= {RATIO_TARGET} of floor", met=met_rate)  # fmt: skip
    record("takeout", "peak memory", peak_mb, unit="MB", target=f"< {MEMORY_TARGET_MB} MB",
           met=met_memory)  # fmt: skip
    return 0 if met_rate and met_memory else 1


if __name__ == "__main__":
    sys.exit(main())
