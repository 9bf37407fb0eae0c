"""How fast `luna import --copy` gathers a card into the library folder, beside `cp -r`.

Builds two trees of real JPEGs (noise, so they do not compress): camera-sized ones of
~1.5 MB (target: at most 1.3x `cp -r && sync`) and tiny ones of ~3 KB (at most 2.5x),
then, for each, in the same run times:

- the floor: `cp -r` of the tree, and `cp -r` followed by `sync` (luna flushes every file to
  the disk before it calls it copied, so the fair floor includes a flush);
- `luna import SRC --copy --into DIR` as a whole process: walk, read each file once for its
  hash and metadata, copy it to a temporary name, fsync, read it back and compare hashes,
  rename into place, record it in the library.

All runs read from a warm page cache (the tree was just written), so the figures compare
the work each does, not the disk. Usage:

    python benchmarks/bench_copy.py [--files 300] [--tiny 2000] [--workdir DIR] [--keep]
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


def build_tree(src: Path, files: int, size: tuple[int, int] = (1600, 1200)) -> int:
    import piexif
    from PIL import Image

    total = 0
    for i in range(files):
        folder = src / "DCIM" / f"{100 + i // 100}CANON"
        folder.mkdir(parents=True, exist_ok=True)
        image = Image.merge("RGB", [Image.effect_noise(size, 40 + c * 7) for c in range(3)])
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
    parser.add_argument("--files", type=int, default=300, help="camera-sized photos (300)")
    parser.add_argument("--tiny", type=int, default=2000, help="files of ~3 KB (2000)")
    parser.add_argument("--workdir")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    # In a folder the user names, only a subfolder of our own is created and removed.
    work = (
        Path(args.workdir) / "luna-bench-copy"
        if args.workdir
        else Path(tempfile.mkdtemp(prefix="luna-bench-copy-"))
    )
    work.mkdir(parents=True, exist_ok=True)
    try:
        for name, count, size, target in (
            ("card", args.files, (1600, 1200), 1.3),
            ("tiny", args.tiny, (40, 30), 2.5),
        ):
            if count:
                measure(work, name, count, size, target)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


def measure(work: Path, name: str, count: int, size: tuple[int, int], target: float) -> None:
    """`luna import --copy` of a tree of `count` JPEGs of `size` pixels, beside `cp -r`."""
    src = work / name
    if not src.exists():
        print(f"building {count} photos in {src} ...", file=sys.stderr)
        build_tree(src, count, size)
    total = sum(p.stat().st_size for p in src.rglob("*") if p.is_file())
    mb = total / 1e6
    library = work / f"{name}.db"
    luna = [sys.executable, "-m", "luna", "-L", str(library)]
    rows = []
    for _attempt in range(RUNS):
        for target_dir in ("cp", "cp-sync", "luna"):
            shutil.rmtree(work / target_dir, ignore_errors=True)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{library}{suffix}").unlink(missing_ok=True)
        # Each command starts with nothing left to write back from the one before.
        subprocess.run(["sync"])
        cp = timed(["cp", "-r", str(src), str(work / "cp")])
        subprocess.run(["sync"])
        cp_sync = timed(f"cp -r '{src}' '{work / 'cp-sync'}' && sync", shell=True)
        subprocess.run(["sync"])
        copied = timed([*luna, "import", str(src), "--copy", "--into", str(work / "luna"), "-q"])
        rows.append((cp, cp_sync, copied))
    cp, cp_sync, copied = (min(column) for column in zip(*rows, strict=True))
    each = total / count
    each_text = f"{each / 1e6:.1f} MB" if each >= 1e6 else f"{each / 1e3:.0f} KB"
    print(f"{count} photos of {each_text}, {mb:,.1f} MB (best of {RUNS} runs each)")
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
        f"import --copy of {count} photos of {each_text} vs cp -r && sync",
        copied,
        unit="s",
        floor=cp_sync,
        ratio=ratio,
        target=f"<= {target}x",
        met=ratio <= target,
    )
    print()


if __name__ == "__main__":
    os.environ.setdefault("LUNA_USER", "bench")
    main()
