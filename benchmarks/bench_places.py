"""How fast luna.places answers: the first load of its data, then 200,000 lookups beside the
target of 10 s (issue 17).

    python benchmarks/bench_places.py

Two sets of 200,000 points, each timed as one places_of call: uniform over the sphere (most
of it sea: the coarse cubes are read) and photo-like, within 20 km of random places of the
data (dense towns: the fine cubes are read, and cities compared).
"""

from __future__ import annotations

import math
import random
import sys
import time

N = 200_000
TARGET_S = 10.0


def main() -> int:
    started = time.perf_counter()
    import luna.places
    from luna.places import _index

    imported = time.perf_counter() - started
    assert _index._loaded is None, "importing luna.places must not load the data"
    started = time.perf_counter()
    index, _ = _index.load()
    loaded = time.perf_counter() - started
    print(
        f"import luna.places: {imported * 1000:.0f} ms; first load: {loaded:.2f} s "
        f"({len(index.names):,} places)"
    )

    rng = random.Random(17)
    uniform = [
        (math.degrees(math.asin(rng.uniform(-1, 1))), rng.uniform(-180, 180)) for _ in range(N)
    ]
    near = []
    for _ in range(N):
        i = rng.randrange(len(index.names))
        lat = math.degrees(math.asin(index.zs[i]))
        lon = math.degrees(math.atan2(index.ys[i], index.xs[i]))
        near.append(
            (
                max(-90.0, min(90.0, lat + rng.uniform(-0.18, 0.18))),
                (lon + rng.uniform(-0.18, 0.18) + 180) % 360 - 180,
            )
        )
    failed = False
    for label, points in (("uniform over the sphere", uniform), ("near towns", near)):
        started = time.perf_counter()
        found = luna.places.places_of(points)
        took = time.perf_counter() - started
        named = sum(1 for place in found if place.city)
        verdict = "ok" if took < TARGET_S else "SLOW"
        failed |= took >= TARGET_S
        print(
            f"{N:,} lookups, {label}: {took:.2f} s (target {TARGET_S:.0f} s, {verdict}); "
            f"{named:,} with a city"
        )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
