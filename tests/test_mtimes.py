"""The mtime kept to the nanosecond, and the floats of libraries before schema 5 read as
the nanoseconds they stood for (luna.mtimes)."""

from __future__ import annotations

import os
import random

from luna.mtimes import ns_from_seconds, same_mtime, seconds_from_ns


def _mtimes(count: int) -> list[int]:
    rng = random.Random(5)
    near_now = [rng.randrange(1_000_000_000, 2_000_000_000) * 10**9 + rng.randrange(10**9)
                for _ in range(count)]  # fmt: skip
    edges = [0, 1, 999_999_999, 10**9, -1, -(10**9) - 1, -86_400 * 10**9 + 5]
    return near_now + edges


def test_seconds_are_what_stat_gives_as_st_mtime(tmp_path):
    path = tmp_path / "f"
    path.write_bytes(b"x")
    for ns in _mtimes(500):
        os.utime(path, ns=(ns, ns))
        st = os.stat(path)
        assert st.st_mtime_ns == ns
        assert seconds_from_ns(ns) == st.st_mtime  # bit for bit, also before 1970


def test_an_old_float_compares_equal_only_at_its_precision_and_only_when_approximate():
    for ns in _mtimes(500):
        recorded = ns_from_seconds(seconds_from_ns(ns))  # what an upgrade makes of st_mtime
        assert abs(recorded - ns) <= 256  # the float's precision near 2030
        assert same_mtime(recorded, ns, approximate=True)
        assert same_mtime(ns, ns) and not same_mtime(ns, ns + 1)
        if recorded != ns:
            assert not same_mtime(recorded, ns)  # an exact row is compared exactly
    # A file changed by more than the float could hold is a change even then.
    recorded = ns_from_seconds(seconds_from_ns(1_700_000_000_123_456_789))
    assert not same_mtime(recorded, 1_700_000_000_123_457_789, approximate=True)
