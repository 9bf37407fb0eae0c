"""Build luna/places/data/zones.tsv: each country's time zones in the tz database with their
principal city's position, from the system's zone.tab (Debian's tzdata; the tz database is
in the public domain).

    python3 tools/build_zones.py [/usr/share/zoneinfo/zone.tab]

Output lines: "country code <tab> latitude <tab> longitude <tab> zone", the position in
decimal degrees (read by luna.places.zones).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "luna" / "places" / "data" / "zones.tsv"
_POSITION = re.compile(r"^([+-])(\d{2})(\d{2})(\d{2})?([+-])(\d{3})(\d{2})(\d{2})?$")


def degrees(sign: str, d: str, m: str, s: str | None) -> float:
    value = int(d) + int(m) / 60 + (int(s) if s else 0) / 3600
    return -value if sign == "-" else value


def main() -> int:
    source = Path(sys.argv[1] if len(sys.argv) > 1 else "/usr/share/zoneinfo/zone.tab")
    rows = []
    for line in source.read_text().splitlines():
        if not line or line.startswith("#"):
            continue
        codes, position, zone = line.split("\t")[:3]
        found = _POSITION.match(position)
        if not found:
            raise SystemExit(f"cannot read the position {position!r} of {zone}")
        lat = degrees(*found.group(1, 2, 3, 4))
        lon = degrees(*found.group(5, 6, 7, 8))
        rows.append(f"{codes}\t{lat:.4f}\t{lon:.4f}\t{zone}")
    OUT.write_text("\n".join(rows) + "\n")
    print(f"{OUT}: {len(rows)} zones, {OUT.stat().st_size} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
