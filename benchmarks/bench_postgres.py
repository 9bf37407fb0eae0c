"""A library on PostgreSQL (issue 14), beside the same work on SQLite and a floor, in one run.

    python benchmarks/bench_postgres.py            # full size: ~4 GB of JPEGs, 1M-file library
    python benchmarks/bench_postgres.py --quick    # ~10x smaller, for a smoke run

A throwaway server is started for the run (tests/pgserver.py, on a Unix socket, with fsync
on and synchronous_commit off: as safe as SQLite's WAL mode with synchronous=normal, which
luna uses). Four measurements:

1. First import of ~2,000 distinct 1-3 MB JPEGs into SQLite and into PostgreSQL, against
   SHA-256 of the same files on every core. Target: PostgreSQL >= 0.6 x the floor.
2. Re-import of ~20,000 unchanged small JPEGs, against walking the tree and stat-ing every
   entry. Target: PostgreSQL <= 3 x the floor.
3. `luna find --near` and `luna find --tag` on 1,000,000 files (built with the bulk insert),
   each a whole process, median of 7 runs. Target: < 300 ms each. The SQLite figures of the
   same library are printed beside them.
4. Four processes importing four trees into one PostgreSQL library at once, against one
   process importing one of them alone. Target: together >= 0.8 x its throughput, no error.

Figures go to stdout, progress to stderr; a missed target prints TARGET MISSED and the
script still exits 0 (a report, not a test).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import bench_find
import bench_import as bi
from figures import record

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
import pgserver  # noqa: E402 - the tests' throwaway server

NAME = "bench_postgres"
FIRST_IMPORT_TARGET = 0.6  # import throughput / hashing throughput, at least
REIMPORT_TARGET = 3.0  # re-import time / walk time, at most
FIND_TARGET_S = 0.300
TOGETHER_TARGET = 0.8  # four processes' throughput / one process's, at least
SECTIONS = ("first-import", "reimport", "find", "together")


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def verdict(ok: bool) -> str:
    return "met" if ok else "TARGET MISSED"


def first_import(work: Path, server, count: int, cores: int) -> list[str]:
    log(f"generating {count:,} big JPEGs ...")
    tree = bi.write_tree(work / "big", bi.big_base_jpegs(), count, bi.BIG_FILES_PER_FOLDER)
    bi.hash_files_on_all_cores(tree.files, cores)  # warms the page cache, untimed
    floors, sqlite_runs, server_runs = [], [], []
    for run in range(2):  # alternated, so a drift of the machine shows on every side
        floors.append(bi.hash_files_on_all_cores(tree.files, cores))
        seconds, report = bi.import_in_process(work / f"first{run}.db", [tree.root])
        sqlite_runs.append(seconds)
        seconds, report = bi.import_in_process(server.new_library(), [tree.root])
        server_runs.append(seconds)
        assert report.added == count and not report.failed, report
        log(f"  run {run + 1}: floor {floors[-1]:.1f} s, SQLite {sqlite_runs[-1]:.1f} s, "
            f"PostgreSQL {server_runs[-1]:.1f} s")  # fmt: skip
    floor, on_sqlite, on_server = min(floors), min(sqlite_runs), min(server_runs)
    ratio = floor / on_server
    met = ratio >= FIRST_IMPORT_TARGET
    record(NAME, "first import, PostgreSQL", on_server, unit="s", floor=floor, ratio=ratio,
           target=f">= {FIRST_IMPORT_TARGET} x floor", met=met)  # fmt: skip
    mb = tree.total_bytes / bi.MB
    return [
        f"1. First import of {count:,} JPEGs ({mb:,.0f} MB), {cores} cores",
        f"   floor (SHA-256 on every core)  {floor:7.1f} s  {mb / floor:7.0f} MB/s",
        f"   SQLite                         {on_sqlite:7.1f} s  {floor / on_sqlite:.2f} x floor",
        f"   PostgreSQL                     {on_server:7.1f} s  {ratio:.2f} x floor  "
        f"(target >= {FIRST_IMPORT_TARGET}: {verdict(ratio >= FIRST_IMPORT_TARGET)})",
    ]


def reimport(work: Path, server, count: int) -> list[str]:
    log(f"generating {count:,} small JPEGs ...")
    tree = bi.write_tree(work / "small", bi.small_base_jpegs(), count, bi.SMALL_FILES_PER_FOLDER)
    libraries = {"SQLite": str(work / "small.db"), "PostgreSQL": server.new_library()}
    for library in libraries.values():
        bi.import_in_process(library, [tree.root])
    bi.walk_and_stat(tree.root)  # warms the dentry and inode caches, untimed
    walks: list[float] = []
    runs: dict[str, list[float]] = {name: [] for name in libraries}
    for _ in range(bi.REPEATS):
        walks.append(bi.time_walk_and_stat(tree.root))
        for name, library in libraries.items():
            seconds, report = bi.import_in_process(library, [tree.root])
            assert report.unchanged == count and not report.added, report
            runs[name].append(seconds)
    walk = min(walks)
    lines = [f"2. Re-import of {count:,} unchanged files",
             f"   floor (walk and stat)          {walk:7.2f} s"]  # fmt: skip
    for name, seconds in runs.items():
        ratio = min(seconds) / walk
        lines.append(f"   {name:<30} {min(seconds):7.2f} s  {ratio:.2f} x floor"
                     + (f"  (target <= {REIMPORT_TARGET}: {verdict(ratio <= REIMPORT_TARGET)})"
                        if name == "PostgreSQL" else ""))  # fmt: skip
    ratio = min(runs["PostgreSQL"]) / walk
    met = ratio <= REIMPORT_TARGET
    record(NAME, "re-import, PostgreSQL", min(runs["PostgreSQL"]), unit="s", floor=walk,
           ratio=ratio, target=f"<= {REIMPORT_TARGET} x floor", met=met)  # fmt: skip
    return lines


def finds(work: Path, server, count: int) -> list[str]:
    libraries = {"SQLite": str(work / "million.db"), "PostgreSQL": server.new_library()}
    for name, library in libraries.items():
        log(f"building a library of {count:,} files on {name} ...")
        bench_find.build_library(library, count)  # type: ignore[arg-type]
    # What autovacuum does within minutes of a bulk load (marks the new rows all-visible, so
    # an index answers alone, and gathers the planner's statistics): the library as it is
    # used, not in the minute after a million rows were written.
    server.run_sql(libraries["PostgreSQL"], "VACUUM ANALYZE")
    questions = {
        "find --near 48.8566,2.3522 --radius 5km --paths": [
            "find", "--near", "48.8566,2.3522", "--radius", "5km", "--paths"],
        "find --tag beach --after 2020 --paths": [
            "find", "--tag", "beach", "--after", "2020", "--paths"],
    }  # fmt: skip
    lines = [f"3. luna find on {count:,} files (whole process, median of {bench_find.RUNS})"]
    for label, args in questions.items():
        answers, medians = {}, {}
        for name, library in libraries.items():
            medians[name], answers[name] = bench_find.time_command(
                [*bi.luna_command("-L", library), *args]
            )
        same = answers["SQLite"] == answers["PostgreSQL"]
        on_server = medians["PostgreSQL"]
        ok = on_server < FIND_TARGET_S and same
        lines.append(f"   {label}: {len(answers['PostgreSQL'].splitlines()):,} files")
        lines.append(f"     SQLite {medians['SQLite'] * 1000:6.0f} ms   PostgreSQL "
                     f"{on_server * 1000:6.0f} ms  (target < 300 ms: {verdict(ok)}"
                     f"{'' if same else ', ANSWERS DIFFER'})")  # fmt: skip
        record(NAME, f"{label}, PostgreSQL", on_server * 1000, unit="ms",
               floor=medians["SQLite"] * 1000, target="< 300 ms", met=ok)  # fmt: skip
    return lines


def together(work: Path, server, count: int) -> list[str]:
    per_tree = count // 4
    log(f"generating four trees of {per_tree:,} big JPEGs ...")
    trees = [
        bi.write_tree(work / f"tree{i}", bi.big_base_jpegs()[i:] + bi.big_base_jpegs()[:i],
                      per_tree, bi.BIG_FILES_PER_FOLDER)
        for i in range(4)
    ]  # fmt: skip
    for tree in trees:
        bi.hash_files_on_all_cores(tree.files, 2)  # page cache, untimed
    alone = server.new_library()
    started = time.perf_counter()
    _luna(alone, "import", trees[0].root).check_returncode()
    one = time.perf_counter() - started
    shared = server.new_library()
    _luna(shared, "import", trees[0].root / "000").check_returncode()  # the library exists
    started = time.perf_counter()
    running = [
        subprocess.Popen([*bi.luna_command("-L", shared, "import", str(t.root))],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        for t in trees
    ]  # fmt: skip
    errors = [p.communicate()[1] for p in running if p.wait() != 0]
    four = time.perf_counter() - started
    one_rate = per_tree / one
    four_rate = (4 * per_tree - bi.BIG_FILES_PER_FOLDER) / four
    ratio = four_rate / one_rate
    ok = ratio >= TOGETHER_TARGET and not errors
    record(NAME, "4 imports at once, PostgreSQL", four_rate, unit="files/s", floor=one_rate,
           ratio=ratio, target=f">= {TOGETHER_TARGET} x one alone", met=ok)  # fmt: skip
    lines = [
        f"4. Four imports at once into one PostgreSQL library ({per_tree:,} files each)",
        f"   one process alone   {one:7.1f} s  {one_rate:6.1f} files/s",
        f"   four at once        {four:7.1f} s  {four_rate:6.1f} files/s  {ratio:.2f} x "
        f"(target >= {TOGETHER_TARGET}: {verdict(ok)}; {len(errors)} failed)",
    ]
    lines += [f"   error: {e.strip().splitlines()[-1]}" for e in errors]
    return lines


def _luna(library: str, *args) -> subprocess.CompletedProcess:
    return subprocess.run([*bi.luna_command("-L", library), *map(str, args)],
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)  # fmt: skip


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="~10x smaller, for a smoke run")
    parser.add_argument("--files", type=int, help="big JPEGs (default 2,000)")
    parser.add_argument("--small", type=int, help="small JPEGs re-imported (default 20,000)")
    parser.add_argument("--million", type=int, help="files for find (default 1,000,000)")
    parser.add_argument("--workdir", type=Path, help="where to generate (default: a temp dir)")
    parser.add_argument("--only", choices=SECTIONS, action="append",
                        help="run only this measurement (repeatable)")  # fmt: skip
    args = parser.parse_args(argv)
    files = args.files or (200 if args.quick else 2000)
    small = args.small or (2000 if args.quick else 20_000)
    million = args.million or (50_000 if args.quick else 1_000_000)
    work = Path(tempfile.mkdtemp(prefix="luna-pg-bench-", dir=args.workdir))
    cores = bi.os.cpu_count() or 1
    server = pgserver.start(durable=True)
    sections = []
    measures = {
        "first-import": lambda: first_import(work, server, files, cores),
        "reimport": lambda: reimport(work, server, small),
        "find": lambda: finds(work, server, million),
        "together": lambda: together(work, server, files),
    }
    try:
        for name in args.only or SECTIONS:
            sections.append(measures[name]())
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)
    print(f"luna on PostgreSQL {pgserver_version()} and SQLite, {cores} cores")
    for lines in sections:
        print("\n".join(lines))
    return 0


def pgserver_version() -> str:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    return found[-1].parts[-3] if found else "?"


if __name__ == "__main__":
    sys.exit(main())
