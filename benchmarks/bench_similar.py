"""How fast `luna dupes --similar` can hash photos and group the hashes, beside a floor.

    python benchmarks/bench_similar.py                  # 2,000 photos of 12 MP (~6.5 GB)
    python benchmarks/bench_similar.py --count 200      # a smoke run
    python benchmarks/bench_similar.py --workdir /var/tmp/sim --keep   # generate once, rerun

Photos: 4000x3000 JPEGs at quality 90, about 3.2 MB each, like a phone's or a compact
camera's. Each is one of a few generated scenes (shapes at quarter size, scaled up, with
per-channel sensor-like grain, since a smooth picture would compress, and so decode,
unrealistically fast), made unique by a few shapes of its own; one in four is stored
turned, with EXIF Orientation 6, as a camera held upright stores it. They are generated
once into the work directory and reused when it already holds them.

Measured, in this process, on files in the page cache (a warm-up read puts them there):

1. The floor: reading every file's bytes (``open().read()``). Any hash must read them.
2. :func:`luna.ops.similar.perceptual_hash` over every file, one process.
3. For a sample, the same grey pictures decoded at full size (no ``draft``): what hashing
   would cost without the 1/8-scale decode.
4. :func:`luna.ops.similar.group_similar` on 200,000 random hashes (a tenth of them near copies
   of another), at threshold 10 and at the default.

Figures go to stdout as a table, progress to stderr. A report, not a test: exits 0.
Uses only the standard library, Pillow and piexif (plus luna itself).
"""

from __future__ import annotations

import argparse
import io
import multiprocessing
import os
import platform
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

import piexif
from figures import record
from PIL import Image, ImageDraw, ImageFilter

from luna.ops import similar

SIZE = (4000, 3000)
QUALITY = 90
GRAIN = 0.2  # blend weight of the noise layer: 0.2 gives ~3.2 MB per photo at quality 90
SCENES = 16  # distinct base pictures; each file adds shapes of its own
TURNED_EVERY = 4  # one file in four is stored turned, with Orientation 6
FULL_DECODE_SAMPLE = 50
GROUP_COUNT = 200_000
NEAR_COPY_SHARE = 0.1


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# -- the photos ----------------------------------------------------------------------------


def scene(seed: int) -> Image.Image:
    """A 12 MP picture with the structure of a photo (soft shapes) and its grain."""
    rng = random.Random(seed)
    quarter = (SIZE[0] // 4, SIZE[1] // 4)
    im = Image.new("RGB", quarter, tuple(rng.randrange(256) for _ in range(3)))
    draw = ImageDraw.Draw(im)
    for _ in range(rng.randint(20, 50)):
        x, y = rng.randrange(quarter[0]), rng.randrange(quarter[1])
        w, h = rng.randint(10, quarter[0] // 2), rng.randint(10, quarter[1] // 2)
        colour = tuple(rng.randrange(256) for _ in range(3))
        if rng.random() < 0.5:
            draw.ellipse([x - w // 2, y - h // 2, x + w // 2, y + h // 2], fill=colour)
        else:
            corners = [(rng.randrange(quarter[0]), rng.randrange(quarter[1])) for _ in range(5)]
            draw.polygon(corners, fill=colour)
    im = im.filter(ImageFilter.GaussianBlur(2)).resize(SIZE, Image.Resampling.BICUBIC)
    grain = Image.merge("RGB", [Image.effect_noise(SIZE, 40) for _ in range(3)])
    return Image.blend(im, grain, GRAIN)


def photo_bytes(base: Image.Image, index: int) -> bytes:
    rng = random.Random(index)
    im = base.copy()
    draw = ImageDraw.Draw(im)
    for _ in range(3):  # what makes this file's picture its own
        x, y = rng.randrange(SIZE[0]), rng.randrange(SIZE[1])
        r = rng.randint(50, 300)
        draw.ellipse([x - r, y - r, x + r, y + r], fill=tuple(rng.randrange(256) for _ in range(3)))
    zeroth = {piexif.ImageIFD.Make: b"Luna Bench", piexif.ImageIFD.Model: b"Similar"}
    if index % TURNED_EVERY == 0:
        im = im.transpose(Image.Transpose.ROTATE_90)  # displayed upright with Orientation 6
        zeroth[piexif.ImageIFD.Orientation] = 6
    out = io.BytesIO()
    im.save(out, "JPEG", quality=QUALITY, exif=piexif.dump({"0th": zeroth}))
    return out.getvalue()


def _write_photos(job: tuple[Path, int, list[int]]) -> None:
    folder, seed, indexes = job
    base = scene(seed)
    for index in indexes:
        (folder / f"IMG_{index:05d}.jpg").write_bytes(photo_bytes(base, index))


def ensure_photos(folder: Path, count: int) -> list[Path]:
    """The `count` photos in `folder`, generating those missing (on every core)."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / f"IMG_{i:05d}.jpg" for i in range(count)]
    missing = [i for i, p in enumerate(paths) if not p.exists()]
    if missing:
        log(f"generating {len(missing)} photos of {SIZE[0]}x{SIZE[1]} in {folder}")
        jobs = [
            (folder, seed, [i for i in missing if i % SCENES == seed]) for seed in range(SCENES)
        ]
        with multiprocessing.Pool() as pool:
            pool.map(_write_photos, [job for job in jobs if job[2]])
        os.sync()  # flushed now, so writeback does not run during a measurement
    return paths


# -- the measurements ----------------------------------------------------------------------


def read_all(paths: list[Path]) -> tuple[float, int]:
    started = time.perf_counter()
    total = 0
    for path in paths:
        with open(path, "rb") as f:
            total += len(f.read())
    return time.perf_counter() - started, total


def hash_all(paths: list[Path]) -> tuple[float, list[int]]:
    started = time.perf_counter()
    values = [similar.perceptual_hash(str(path)) for path in paths]
    return time.perf_counter() - started, values


def decode_grey(paths: list[Path], *, draft: bool) -> float:
    """Seconds to decode each photo as grey, at 1/8 scale or at full size, and average it
    onto a 9x8 grid: the decoding part of a hash, with or without the draft."""
    started = time.perf_counter()
    for path in paths:
        with Image.open(path) as im:
            if draft:
                im.draft("L", similar._DRAFT_SIZE)
            im.convert("L").resize((9, 8), Image.Resampling.BOX)
    return time.perf_counter() - started


def random_hashes(count: int, seed: int = 11) -> dict[int, int]:
    rng = random.Random(seed)
    values: list[int] = []
    for _ in range(count):
        if values and rng.random() < NEAR_COPY_SHARE:
            value = rng.choice(values)
            for bit in rng.sample(range(64), rng.randint(0, 6)):
                value ^= 1 << bit
            values.append(value)
        else:
            values.append(rng.getrandbits(64))
    return dict(enumerate(values))


def time_grouping(hashes: dict[int, int], threshold: int) -> tuple[float, list[list[int]]]:
    started = time.perf_counter()
    groups = similar.group_similar(hashes, threshold)
    return time.perf_counter() - started, groups


def time_kept_pairs(hashes: dict[int, int], threshold: int, folder: Path) -> tuple[float, float]:
    """What `dupes --similar` spends on finding and grouping close pairs, in a library that
    keeps them: the first run (every hash searched around) and the next (none)."""
    from luna.library import Library
    from luna.ops.dupes import close_pairs_kept

    library = folder / "pairs.db"
    for stale in folder.glob("pairs.db*"):
        stale.unlink()
    values = set(hashes.values())
    seconds = []
    with Library.open(library) as lib:
        for _ in range(2):
            started = time.perf_counter()
            pairs = close_pairs_kept(lib, values, threshold)
            similar.group_similar(hashes, threshold, close_pairs=pairs)
            seconds.append(time.perf_counter() - started)
    return seconds[0], seconds[1]


# -- the report ----------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=2000, help="photos to hash (2000)")
    parser.add_argument("--workdir", type=Path, help="where the photos go (a temp dir)")
    parser.add_argument("--keep", action="store_true", help="keep the photos for a rerun")
    args = parser.parse_args()

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="luna-bench-similar-"))
    try:
        paths = ensure_photos(workdir / "photos", args.count)
        log("warm-up read (page cache)")
        read_all(paths)
        log("reading every file")
        read_seconds, total_bytes = read_all(paths)
        log("perceptual_hash of every file")
        hash_seconds, _ = hash_all(paths)
        sample = paths[:FULL_DECODE_SAMPLE]
        log(f"decoding {len(sample)} photos at full size and at 1/8")
        full_seconds = decode_grey(sample, draft=False)
        draft_seconds = decode_grey(sample, draft=True)
        hashes = random_hashes(GROUP_COUNT)
        groupings = []
        for threshold in sorted({10, similar.DEFAULT_THRESHOLD}, reverse=True):
            log(f"group_similar: {GROUP_COUNT:,} hashes at threshold {threshold}")
            groupings.append((threshold, *time_grouping(hashes, threshold)))
        log(f"the same, pairs kept in a library, threshold {similar.DEFAULT_THRESHOLD}")
        kept_first, kept_next = time_kept_pairs(hashes, similar.DEFAULT_THRESHOLD, workdir)
    finally:
        if args.keep or args.workdir:
            log(f"photos kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)

    count, sampled = len(paths), len(sample)
    cores = os.cpu_count() or 1
    print(
        f"luna.ops.similar {similar.HASH_METHOD}, Python {platform.python_version()}, "
        f"Pillow {Image.__version__}, {cores} CPUs"
    )
    print(
        f"{count} JPEGs of {SIZE[0]}x{SIZE[1]}, quality {QUALITY}, "
        f"{total_bytes / count / 1e6:.2f} MB each on average"
    )
    print()
    print(f"{'':<44} {'total':>11} {'per photo':>12}")
    rows = [
        ("floor: read every file", read_seconds, count,
         f"{total_bytes / read_seconds / 1e6:,.0f} MB/s"),
        ("perceptual_hash, one process", hash_seconds, count,
         f"{hash_seconds / read_seconds:.0f}x the floor"),
        (f"  grey decode at 1/8 scale (draft), {sampled}", draft_seconds, sampled, ""),
        (f"  grey decode at full size, {sampled}", full_seconds, sampled,
         f"{full_seconds / draft_seconds:.1f}x the draft"),
    ]  # fmt: skip
    for what, seconds, n, note in rows:
        print(f"{what:<44} {seconds:9.2f} s {1000 * seconds / n:9.2f} ms  {note}")
    per_hash = hash_seconds / count
    print(
        f"10,000 photos: {10_000 * per_hash:.0f} s in one process, "
        f"about {10_000 * per_hash / cores:.0f} s on {cores} cores"
    )
    print()
    print(f"{'group_similar, ' + format(GROUP_COUNT, ',') + ' hashes':<44} {'total':>11}  groups")
    for threshold, seconds, groups in groupings:
        print(f"{'  threshold ' + str(threshold):<44} {seconds:9.2f} s  {len(groups):,}")
        record(
            "similar",
            f"grouping {GROUP_COUNT:,} hashes, threshold {threshold}, nothing kept",
            seconds,
            unit="s",
            target="-",
            met=None,
        )
    print(
        f"{'  threshold ' + str(similar.DEFAULT_THRESHOLD) + ', pairs kept: first run':<44} "
        f"{kept_first:9.2f} s"
    )
    print(f"{'    every run after it':<44} {kept_next:9.2f} s")
    for label, seconds, target in (
        ("first run", kept_first, None),
        ("every later run", kept_next, 1.0),
    ):
        record(
            "similar",
            f"grouping {GROUP_COUNT:,} cached hashes (default threshold), {label}",
            seconds,
            unit="s",
            target="-" if target is None else f"< {target:g} s",
            met=None if target is None else seconds < target,
        )
    record(
        "similar",
        f"perceptual hash of a {SIZE[0]}x{SIZE[1]} JPEG, vs reading it",
        per_hash * 1000,
        unit="ms",
        floor=read_seconds / count * 1000,
        ratio=hash_seconds / read_seconds,
        target="-",
        met=None,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
