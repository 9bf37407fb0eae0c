"""How long everyday commands take on a library of 20,000 files, beside a floor.

    python benchmarks/bench_commands.py             # 20,000 files
    python benchmarks/bench_commands.py --files 5000

The library is synthetic, built with the core's bulk insert (luna.store.bulk), over empty
files that exist on disk (a FILE argument is looked up by its real path): photos over
2019-2020 in bursts of a few hours, so that `event detect` finds events. Each luna command
is timed as a whole process (start-up included), the median of several runs after a
warm-up, alternating with its floor: a bare `python3 -c` script, started the same way,
that asks sqlite3 the same question and prints the same kind of answer. Outputs are
checked, so a fast wrong answer cannot pass.

Targets (issue 13): `find --json` of 20,000 files, `show` of 100 files and `event detect`
on 20,000 files each under 0.3 s; `tag add` and `album add` of 10,000 files read from
`-0 -` each under 0.5 s; `luna --version` under 60 ms.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from figures import record

RUNS = 5


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def luna_command() -> list[str]:
    installed = Path(sys.executable).with_name("luna")
    return [str(installed)] if installed.exists() else [sys.executable, "-m", "luna"]


# -- the library ---------------------------------------------------------------------------


def records(folder: Path, count: int, seed: int = 5):
    """Photos in bursts: a burst every ~3 days, each of a few hours."""
    rng = random.Random(seed)
    when = dt.datetime(2019, 1, 1, 9)
    for i in range(count):
        if i % 50 == 0:  # a new burst
            when += dt.timedelta(days=rng.uniform(1, 5))
        when += dt.timedelta(minutes=rng.uniform(0.5, 5))
        yield {
            "path": str(folder / f"{when:%Y-%m}" / f"IMG_{i:06d}.jpg"),
            "size_bytes": rng.randint(500_000, 8_000_000),
            "mtime": when.timestamp(),
            "content_sha": f"{rng.getrandbits(256):064x}",
            "mime_type": "image/jpeg",
            "start": when,
            "latitude": 48.85 + rng.uniform(-0.1, 0.1) if rng.random() < 0.5 else None,
            "longitude": 2.35 + rng.uniform(-0.1, 0.1),
            "owner": "alice",
            "tags": rng.sample(["family", "trip", "food", "city", "sea"], rng.randint(0, 2)),
            "processor_metadata": {"date_source": "exif:DateTimeOriginal"},
        }


def build(work: Path, count: int) -> tuple[Path, list[str]]:
    from luna.library import Library
    from luna.store.bulk import bulk_insert_files

    photos = work / "photos"
    library = work / "library.db"
    rows = list(records(photos, count))
    for row in rows:
        path = Path(row["path"])
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch()
        if row["latitude"] is None:
            del row["latitude"], row["longitude"]
    with Library.open(library) as lib:
        bulk_insert_files(lib, rows, batch=50_000)
    return library, [row["path"] for row in rows]


# -- the floors ----------------------------------------------------------------------------

PRELUDE = """
import json, sqlite3, sys
con = sqlite3.connect(sys.argv[1])
"""

FLOOR_FIND_JSON = (
    PRELUDE
    + """
rows = con.execute(
    'SELECT id, path, filename, kind, mime_type, size_bytes, start, "end", latitude, '
    'longitude, altitude, width, height, content_sha FROM file '
    'WHERE missing_since IS NULL ORDER BY start IS NULL, start, path').fetchall()
tags = {}
for file_id, name in con.execute(
        'SELECT ft.file_id, t.name FROM file_tag ft JOIN tag t ON t.id = ft.tag_id'):
    tags.setdefault(file_id, []).append(name)
keys = ('id', 'path', 'filename', 'kind', 'mime_type', 'size_bytes', 'start', 'end',
        'latitude', 'longitude', 'altitude', 'width', 'height', 'content_sha')
files = [dict(zip(keys, r), tags=tags.get(r[0], [])) for r in rows]
sys.stdout.write(json.dumps({"version": 1, "count": len(files), "files": files}))
"""
)

FLOOR_SHOW = (
    PRELUDE
    + """
out = []
for path in sys.argv[2:]:
    row = con.execute('SELECT * FROM file WHERE path = ?', (path,)).fetchone()
    names = [r[0] for r in con.execute(
        'SELECT t.name FROM file_tag ft JOIN tag t ON t.id = ft.tag_id WHERE ft.file_id = ?',
        (row[0],))]
    out.append({'row': [str(v) for v in row], 'tags': names})
sys.stdout.write(json.dumps({'version': 1, 'files': out}))
"""
)

FLOOR_DETECT = (
    PRELUDE
    + """
import datetime as dt
rows = con.execute("SELECT id, start FROM file WHERE start IS NOT NULL AND kind != 'sidecar' "
                   "AND missing_since IS NULL ORDER BY start, path").fetchall()
groups, last = [], None
for file_id, start in rows:
    t = dt.datetime.fromisoformat(start)
    if last is None or t - last > dt.timedelta(hours=6):
        groups.append([])
    groups[-1].append(file_id)
    last = t
print(len([g for g in groups if len(g) >= 5]))
"""
)

FLOOR_COUNT = (
    PRELUDE
    + """
print(con.execute("SELECT COUNT(*) FROM file WHERE missing_since IS NULL").fetchone()[0])
"""
)

FLOOR_TAG_ADD = (
    PRELUDE
    + """
paths = [p for p in sys.stdin.buffer.read().decode().split('\\0') if p]
ids = []
for i in range(0, len(paths), 500):
    chunk = paths[i:i + 500]
    ids += [r[0] for r in con.execute(
        'SELECT id FROM file WHERE path IN (%s)' % ','.join('?' * len(chunk)), chunk)]
with con:
    con.execute("INSERT INTO tag (name, key, created) VALUES ('bench', 'bench', '2026-01-01') "
                "ON CONFLICT DO NOTHING")
    tag = con.execute("SELECT id FROM tag WHERE key = 'bench'").fetchone()[0]
    con.executemany("INSERT INTO file_tag (file_id, tag_id, source) VALUES (?, ?, 'user') "
                    "ON CONFLICT DO NOTHING", [(i, tag) for i in ids])
    con.execute("DELETE FROM file_tag WHERE tag_id = ?", (tag,))
print(len(ids))
"""
)


# -- timing --------------------------------------------------------------------------------


@dataclass
class Case:
    name: str
    luna: list[str]
    floor: list[str] | None
    target_s: float
    stdin: bytes | None = None
    reset: list[str] | None = None  # a luna command run (untimed) after each timed run
    check: object = None  # stdout -> None, raising AssertionError if it is wrong


def run(command: list[str], stdin: bytes | None) -> tuple[float, bytes]:
    started = time.perf_counter()
    done = subprocess.run(command, input=stdin, capture_output=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command[:4])}... failed: {done.stderr.decode()[-500:]}")
    return seconds, done.stdout


def measure(case: Case) -> tuple[float, float | None]:
    """Median seconds of luna and of its floor, alternating, after a warm-up of each."""
    lunas, floors = [], []
    _, out = run(case.luna, case.stdin)
    if case.check:
        case.check(out)
    if case.reset:
        run(case.reset, case.stdin)
    if case.floor:
        run(case.floor, case.stdin)
    for _ in range(RUNS):
        lunas.append(run(case.luna, case.stdin)[0])
        if case.reset:
            run(case.reset, case.stdin)
        if case.floor:
            floors.append(run(case.floor, case.stdin)[0])
    return statistics.median(lunas), statistics.median(floors) if floors else None


def cases(library: Path, paths: list[str], empty: Path) -> list[Case]:
    luna = luna_command() + ["-L", str(library)]
    lib = str(library)
    py = [sys.executable, "-c"]
    hundred = paths[:: max(1, len(paths) // 100)][:100]
    ten_thousand = "\0".join(paths[:10_000]).encode() + b"\0"
    count = len(paths)
    named = min(count, 10_000)

    def all_files(out: bytes) -> None:
        assert json.loads(out)["count"] == count, "find --json did not list every file"

    def hundred_files(out: bytes) -> None:
        assert json.loads(out)["count"] == 100, "show did not show the 100 files"

    def some_events(out: bytes) -> None:
        assert json.loads(out)["count"] > 10, "event detect found no events"

    return [
        Case(
            f"find --json ({count:,} files)",
            luna + ["find", "--json"],
            py + [FLOOR_FIND_JSON, lib],
            0.3,
            check=all_files,
        ),
        Case(
            "show --json (100 files)",
            luna + ["show", "--json", *hundred],
            py + [FLOOR_SHOW, lib, *hundred],
            0.3,
            check=hundred_files,
        ),
        Case(
            f"event detect --dry-run --json ({count:,} files)",
            luna + ["event", "detect", "--dry-run", "--json"],
            py + [FLOOR_DETECT, lib],
            0.3,
            check=some_events,
        ),
        Case(
            f"tag add -z - ({named:,} files)",
            luna + ["tag", "add", "bench", "-z", "-"],
            py + [FLOOR_TAG_ADD, lib],
            0.5,
            stdin=ten_thousand,
            reset=luna + ["tag", "delete", "bench", "--yes"],
        ),
        Case(
            f"album add -z - ({named:,} files)",
            luna + ["album", "add", "bench", "-z", "-", "--as", "alice"],
            py + [FLOOR_TAG_ADD, lib],
            0.5,
            stdin=ten_thousand,
            reset=luna + ["album", "remove", "bench", "-z", "-", "--as", "alice"],
        ),
        Case("--version", luna_command() + ["--version"], py + ["pass"], 0.06),
        Case(
            "find --count (an empty library)",
            luna_command() + ["-L", str(empty), "find", "--count"],
            py + [FLOOR_COUNT, str(empty)],
            0.1,
        ),
    ]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=20_000)
    parser.add_argument("--workdir", type=Path)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args(argv)
    work = args.workdir or Path(tempfile.mkdtemp(prefix="luna-commands-bench-"))
    try:
        if work.exists() and args.workdir:
            shutil.rmtree(work / "photos", ignore_errors=True)
            for stale in work.glob("library.db*"):
                stale.unlink()
        work.mkdir(parents=True, exist_ok=True)
        log(f"building a library of {args.files:,} files in {work} ...")
        library, paths = build(work, args.files)
        subprocess.run(
            luna_command() + ["-L", str(library), "album", "create", "bench", "--as", "alice"],
            check=True,
            capture_output=True,
        )
        figures = []
        empty = work / "empty.db"
        empty.unlink(missing_ok=True)
        (work / "nothing").mkdir(exist_ok=True)
        subprocess.run(
            luna_command() + ["-L", str(empty), "import", str(work / "nothing"), "-q"],
            capture_output=True,
        )
        for case in cases(library, paths, empty):
            log(f"timing {case.name} ...")
            seconds, floor = measure(case)
            figures.append((case, seconds, floor))
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    print_table(figures)
    for case, seconds, floor in figures:
        record(
            "commands",
            case.name,
            seconds * 1000,
            unit="ms",
            floor=None if floor is None else floor * 1000,
            ratio=None if floor is None else seconds / floor,
            target=f"< {case.target_s * 1000:.0f} ms",
            met=seconds < case.target_s,
        )
    return 0  # a missed target is a figure to read, not a failure to run


def print_table(figures) -> None:
    line = "=" * 96
    print(line)
    print(
        f"luna commands benchmark: median of {RUNS} whole-process runs, alternating with the "
        f"floor (Python {sys.version.split()[0]}, {os.cpu_count()} cores)"
    )
    print(f"{'command':<46}{'luna ms':>9}{'floor ms':>10}{'ratio':>7}{'target':>10}  verdict")
    for case, seconds, floor in figures:
        ratio = f"{seconds / floor:.2f}" if floor else "-"
        floor_ms = f"{floor * 1000:.0f}" if floor else "-"
        verdict = "met" if seconds < case.target_s else "TARGET MISSED"
        print(
            f"{case.name:<46}{seconds * 1000:>9.0f}{floor_ms:>10}{ratio:>7}"
            f"{'< ' + format(case.target_s * 1000, '.0f'):>10}  {verdict}"
        )
    print("floor: a bare python3 -c script asking sqlite3 the same question (for --version:")
    print("`python3 -c pass`, the cost of starting Python at all)")
    print(line)


if __name__ == "__main__":
    sys.exit(main())
