"""How fast `luna import --copy` gathers a card into the library folder, beside `cp -r`.

Builds a tree of real JPEGs (noise, so they are as big as camera files and do not
compress), then in the same run times:

- the floor: `cp -r` of the tree, and `cp -r` followed by `sync` (luna flushes every file to
  the disk before it calls it copied, so the fair floor includes a flush);
- `luna import SRC --copy --into DIR` as a whole process: walk, read each file once for its
  hash and metadata, copy it to a temporary name, fsync, read it back and compare hashes,
  rename into place, record it in the library.

All runs read from a warm page cache (the tree was just written), so the figures compare
the work each does, not the disk. Usage:

    python benchmarks/bench_copy.py [--files 300] [--workdir DIR] [--keep]
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


def build_tree(src: Path, files: int) -> int:
    import piexif
    from PIL import Image

    total = 0
    for i in range(files):
        folder = src / "DCIM" / f"{100 + i // 100}CANON"
        folder.mkdir(parents=True, exist_ok=True)
        image = Image.merge("RGB", [Image.effect_noise((1600, 1200), 40 + c * 7) for c in range(3)])
        day = 1 + i % 28
        taken = f"2019:06:{day:02d} 12:{i % 60:02d}:00".encode()
        exif = piexif.dump(
            {
                "0th": {piexif.ImageIFD.Make: b"Canon", piexif.ImageIFD.Model: b"EOS 5D"},
                "Exif": {piexif.ExifIFD.DateTimeOriginal: taken},
            }
        )
        path = folder / f"IMG_{i:04d}.JPG"
        image.save(path, quality=92, exif=exif)
        total += path.stat().st_size
    return total


def timed(cmd: list[str] | str, **kwargs) -> float:
    started = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, **kwargs)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"{cmd} failed ({done.returncode}): {done.stderr[-2000:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=300)
    parser.add_argument("--workdir")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    work = Path(args.workdir or tempfile.mkdtemp(prefix="luna-bench-copy-"))
    work.mkdir(parents=True, exist_ok=True)
    src = work / "card"
    try:
        if not src.exists():
            print(f"building {args.files} photos in {src} ...", file=sys.stderr)
            size = build_tree(src, args.files)
        else:
            size = sum(p.stat().st_size for p in src.rglob("*") if p.is_file())
        mb = size / 1e6
        luna = [sys.executable, "-m", "luna", "-L", str(work / "library.db")]
        rows = []
        for _attempt in range(RUNS):
            for target in ("cp", "cp-sync", "luna"):
                shutil.rmtree(work / target, ignore_errors=True)
            for suffix in ("", "-wal", "-shm"):
                (work / f"library.db{suffix}").unlink(missing_ok=True)
            # Each command starts with nothing left to write back from the one before.
            subprocess.run(["sync"])
            cp = timed(["cp", "-r", str(src), str(work / "cp")])
            subprocess.run(["sync"])
            cp_sync = timed(f"cp -r '{src}' '{work / 'cp-sync'}' && sync", shell=True)
            subprocess.run(["sync"])
            copied = timed(
                [*luna, "import", str(src), "--copy", "--into", str(work / "luna"), "-q"]
            )
            rows.append((cp, cp_sync, copied))
        cp, cp_sync, copied = (min(column) for column in zip(*rows, strict=True))
        print(f"{args.files} photos, {mb:,.0f} MB (best of {RUNS} runs each)")
        print(f"{'':28}{'seconds':>9}{'MB/s':>9}{'vs cp -r':>10}{'vs cp+sync':>12}")
        for label, seconds in (
            ("cp -r (floor)", cp),
            ("cp -r && sync (floor)", cp_sync),
            ("luna import --copy", copied),
        ):
            print(
                f"{label:28}{seconds:9.2f}{mb / seconds:9.0f}{seconds / cp:9.2f}x"
                f"{seconds / cp_sync:11.2f}x"
            )
        ratio = copied / cp_sync
        record(
            "copy",
            f"import --copy of {args.files} photos ({mb / args.files:.1f} MB each) vs "
            "cp -r && sync",
            copied,
            unit="s",
            floor=cp_sync,
            ratio=ratio,
            target="<= 1.3x",
            met=ratio <= 1.3,
        )
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    os.environ.setdefault("LUNA_USER", "bench")
    main()
