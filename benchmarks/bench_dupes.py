"""How long `luna dupes --similar` takes on a library of generated photos, beside a floor.

Generates N distinct photos (default 2,000, 3 MP JPEGs: windows cut from one large random
scene, each with shapes of its own, so each is a different picture), plus a resized and a
recompressed copy of every tenth one. Imports them (not timed), then times, as whole
processes:

- the floor: a bare Python script that reads every photo's bytes, as any tool comparing
  pictures must at least do;
- `luna dupes --similar --json`, first run: every photo decoded (at 1/8 scale, Pillow's
  draft mode) and hashed in worker processes, hashes cached in the library, grouped;
- the same again: hashes come from the cache.

Usage: python benchmarks/bench_dupes.py [--photos 2000] [--workdir DIR] [--keep]
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from figures import record

WIDTH, HEIGHT = 2000, 1500

FLOOR = """
import os, sys
total = 0
for root, _dirs, files in os.walk(sys.argv[1]):
    for name in files:
        if name.lower().endswith(".jpg"):
            with open(os.path.join(root, name), "rb") as fp:
                total += len(fp.read())
print(total)
"""


def canvas(seed: int = 7):
    from PIL import Image, ImageDraw, ImageFilter

    rng = random.Random(seed)
    size = (WIDTH * 4, HEIGHT * 4)
    image = Image.new("RGB", size, (90, 120, 150))
    draw = ImageDraw.Draw(image)
    for _ in range(6000):
        x, y = rng.randrange(size[0]), rng.randrange(size[1])
        w, h = rng.randrange(40, 900), rng.randrange(40, 700)
        colour = tuple(rng.randrange(256) for _ in range(3))
        draw.ellipse((x, y, x + w, y + h), fill=colour)
    return image.filter(ImageFilter.GaussianBlur(3))


def build(folder: Path, photos: int) -> tuple[int, int]:
    big = canvas()
    rng = random.Random(1)
    files = 0
    for i in range(photos):
        x = rng.randrange(big.width - WIDTH)
        y = rng.randrange(big.height - HEIGHT)
        picture = big.crop((x, y, x + WIDTH, y + HEIGHT))
        _own_shapes(picture, rng)  # overlapping windows must still be different pictures
        day = folder / f"2019-06-{1 + i % 28:02d}"
        day.mkdir(parents=True, exist_ok=True)
        picture.save(day / f"IMG_{i:05d}.jpg", quality=90)
        files += 1
        if i % 10 == 0:  # the copies a cloud service or an export would hand back
            copies = folder / "cloud"
            copies.mkdir(exist_ok=True)
            picture.resize((WIDTH // 2, HEIGHT // 2)).save(copies / f"IMG_{i:05d}-small.jpg")
            picture.save(copies / f"IMG_{i:05d}-q40.jpg", quality=40)
            files += 2
    return photos, files


def _own_shapes(picture, rng: random.Random) -> None:
    from PIL import ImageDraw

    draw = ImageDraw.Draw(picture)
    for _ in range(12):
        x, y = rng.randrange(WIDTH), rng.randrange(HEIGHT)
        w, h = rng.randrange(200, 900), rng.randrange(200, 700)
        colour = tuple(rng.randrange(256) for _ in range(3))
        draw.rectangle((x - w // 2, y - h // 2, x + w // 2, y + h // 2), fill=colour)


def timed(cmd: list[str]) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if done.returncode not in (0, 3):
        sys.exit(f"{cmd[:4]} failed ({done.returncode}): {done.stderr[-2000:]}")
    return elapsed, done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=2000)
    parser.add_argument("--workdir")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    # In a folder the user names, only a subfolder of our own is created and removed.
    work = (
        Path(args.workdir) / "luna-bench-dupes"
        if args.workdir
        else Path(tempfile.mkdtemp(prefix="luna-bench-dupes-"))
    )
    work.mkdir(parents=True, exist_ok=True)
    photos_dir, library = work / "photos", work / "library.db"
    luna = [sys.executable, "-m", "luna", "-L", str(library)]
    try:
        if not photos_dir.exists():
            print(f"generating {args.photos} photos in {photos_dir} ...", file=sys.stderr)
            started = time.perf_counter()
            build(photos_dir, args.photos)
            print(f"  ({time.perf_counter() - started:.0f} s)", file=sys.stderr)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{library}{suffix}").unlink(missing_ok=True)
        subprocess.run([*luna, "import", str(photos_dir), "-q"], check=True)
        files = sum(1 for _ in photos_dir.rglob("*.jpg"))
        floor, _ = timed([sys.executable, "-c", FLOOR, str(photos_dir)])
        first, out = timed([*luna, "dupes", "--similar", "--json"])
        doc = json.loads(out)
        cached, _ = timed([*luna, "dupes", "--similar", "--json"])
        print(f"{files} photos ({args.photos} pictures, {WIDTH}x{HEIGHT} JPEG, and copies)")
        print(f"{'':42}{'seconds':>9}{'ms/photo':>10}{'vs floor':>10}")
        for label, seconds in (
            ("floor: read every photo's bytes", floor),
            ("luna dupes --similar (hashes computed)", first),
            ("luna dupes --similar (hashes cached)", cached),
        ):
            print(f"{label:42}{seconds:9.2f}{1000 * seconds / files:10.2f}{seconds / floor:9.1f}x")
            if label.startswith("luna"):
                record(
                    "dupes",
                    f"{label.removeprefix('luna ')}, {files:,} photos, vs reading them",
                    seconds,
                    unit="s",
                    floor=floor,
                    ratio=seconds / floor,
                    target="-",
                    met=None,
                )
        sizes = sorted(len(g["files"]) for g in doc["groups"])
        expected = len(range(0, args.photos, 10))
        print(
            f"groups found: {len(sizes)} (expected {expected} groups of 3); "
            f"sizes: {dict((s, sizes.count(s)) for s in sorted(set(sizes)))}"
        )
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
