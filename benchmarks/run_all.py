"""Every benchmark, one after the other, and one table of their figures beside the targets.

    python benchmarks/run_all.py                    # the sizes the targets are about
    python benchmarks/run_all.py --quick            # smaller, for a smoke run
    python benchmarks/run_all.py --only find,commands

Each benchmark measures its own floor in the same run and prints its own report; those
reports are kept in the work folder (`--workdir`, default a temporary one), and this
script prints the figures together. Run it from a normal install (`pip install .`), not an
editable one: start-up figures include importing luna, and an editable install without
bytecode caching (PYTHONDONTWRITEBYTECODE) compiles every module on every run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from figures import ENV

HERE = Path(__file__).resolve().parent

# name: (script, arguments at full size, arguments for --quick). The work folder is added.
BENCHMARKS = {
    "import": ("bench_import.py", [], ["--quick"]),
    "find": ("bench_find.py", [], ["--quick"]),
    "commands": ("bench_commands.py", [], ["--files", "5000"]),
    "copy": ("bench_copy.py", [], ["--files", "60", "--tiny", "500"]),
    "dupes": ("bench_dupes.py", [], ["--photos", "300"]),
    "similar": ("bench_similar.py", [], ["--count", "100"]),
    "postgres": ("bench_postgres.py", [], ["--quick"]),
    "places": ("bench_places.py", [], ["--quick"]),
    "thumbs": ("bench_thumbs.py", [], ["--count", "60", "--heic", "2"]),
}


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def run(name: str, work: Path, quick: bool, figures: Path, keep: bool) -> bool:
    script, full, small = BENCHMARKS[name]
    folder = work / name
    folder.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, str(HERE / script), *(small if quick else full)]
    command += ["--workdir", str(folder)]
    report = work / f"{name}.txt"
    log(f"{name}: {' '.join(command[1:])}  (report: {report})")
    started = time.perf_counter()
    with report.open("w") as out:
        done = subprocess.run(
            command, stdout=out, stderr=subprocess.STDOUT, env={**os.environ, ENV: str(figures)}
        )
    log(f"{name}: {time.perf_counter() - started:.0f} s, exit {done.returncode}")
    if not keep:
        shutil.rmtree(folder, ignore_errors=True)  # generated photos: gigabytes, some of them
    return done.returncode == 0


def table(figures: list[dict]) -> str:
    lines = [
        f"{'benchmark':<9} {'figure':<66} {'value':>10} {'floor':>9} {'ratio':>6}  "
        f"{'target':<22} verdict"
    ]
    for f in figures:
        unit = f["unit"]
        value = _number(f["value"], unit)
        floor = _number(f["floor"], unit) if f["floor"] is not None else "-"
        ratio = f"{f['ratio']:.2f}" if f["ratio"] is not None else "-"
        verdict = {True: "met", False: "MISSED", None: ""}[f["met"]]
        lines.append(
            f"{f['benchmark']:<9} {f['figure'][:66]:<66} {value:>10} {floor:>9} {ratio:>6}  "
            f"{f['target'][:22]:<22} {verdict}"
        )
    return "\n".join(lines)


def _number(value: float, unit: str) -> str:
    if unit == "ms":
        return f"{value:.0f} ms"
    if unit == "s":
        return f"{value:.2f} s" if value >= 1 else f"{value * 1000:.0f} ms"
    return f"{value:.2f}"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes, a smoke run")
    parser.add_argument("--only", help=f"comma-separated, of {', '.join(BENCHMARKS)}")
    parser.add_argument("--workdir", type=Path, help="where data and reports go")
    parser.add_argument("--keep", action="store_true", help="keep the generated data")
    args = parser.parse_args(argv)
    names = args.only.split(",") if args.only else list(BENCHMARKS)
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}")
    work = args.workdir or Path(tempfile.mkdtemp(prefix="luna-run-all-"))
    work.mkdir(parents=True, exist_ok=True)
    figures_file = work / "figures.jsonl"
    figures_file.unlink(missing_ok=True)
    failed = [name for name in names if not run(name, work, args.quick, figures_file, args.keep)]
    figures = [json.loads(line) for line in figures_file.read_text().splitlines()]
    print("=" * 136)
    print(
        f"luna benchmarks{' (quick sizes)' if args.quick else ''}: Python "
        f"{platform.python_version()}, {os.cpu_count()} cores; each figure beside its floor "
        f"measured in the same run; reports in {work}"
    )
    print(table(figures))
    if failed:
        print(f"benchmarks that failed to run: {', '.join(failed)} (see their reports)")
    print("=" * 136)
    missed = [f for f in figures if f["met"] is False]
    return 1 if failed or missed else 0


if __name__ == "__main__":
    sys.exit(main())
