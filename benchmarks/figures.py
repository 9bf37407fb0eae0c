"""The figures a benchmark measured, for `benchmarks/run_all.py` to gather in one table.

A benchmark calls `record(...)` for each figure it prints. When run by run_all.py, which
sets LUNA_BENCH_FIGURES to a file, each figure is appended to it as a JSON line; run on its
own, a benchmark prints its own table and `record` does nothing.
"""

from __future__ import annotations

import json
import os

ENV = "LUNA_BENCH_FIGURES"


def record(
    benchmark: str,
    figure: str,
    value: float,
    *,
    unit: str,
    target: str,
    met: bool | None,
    floor: float | None = None,
    ratio: float | None = None,
) -> None:
    """One figure: `value` in `unit` ("ms", "s", "x floor", "MiB"...), the floor measured
    in the same run (same unit) when there is one, the ratio the target is about when it
    is one, and the target as words ("<= 2x and < 150 ms"; "-" and met=None for a figure
    shown for reference)."""
    path = os.environ.get(ENV)
    if not path:
        return
    line = {
        "benchmark": benchmark,
        "figure": figure,
        "value": value,
        "unit": unit,
        "floor": floor,
        "ratio": ratio,
        "target": target,
        "met": met,  # None: a figure shown for reference, with no target
    }
    with open(path, "a", encoding="utf-8") as out:
        out.write(json.dumps(line) + "\n")
