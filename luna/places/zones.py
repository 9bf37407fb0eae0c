"""The time zone at a place, offline: the zone of the tz database whose principal city is
nearest, among the zones of the point's country (luna.places' boundaries), from
data/zones.tsv (zone.tab of the tz database, by tools/build_zones.py; public domain).

    >>> time_zone_at(48.8566, 2.3522)
    'Europe/Paris'

Right wherever a country keeps one clock, and for most points of a country with several
(the nearest principal city is usually in the point's own zone); near a zone boundary inside
a country (between US states, say) it may be the neighbouring zone's. At sea, beyond any
country's waters, the nautical zone of the longitude ("Etc/GMT-2" is UTC+2).
"""

from __future__ import annotations

import math
import threading
from importlib import resources

_lock = threading.Lock()
_zones: dict[str, list[tuple[float, float, str]]] | None = None


def time_zone_at(latitude: float, longitude: float) -> str:
    """The tz database name of the zone at a point (signed decimal degrees)."""
    from luna.places import place_of

    code = place_of(latitude, longitude).country_code
    zones = _load()
    candidates = zones.get(code or "", [])
    if not candidates:
        if code is None:
            return _nautical(longitude)
        candidates = [zone for found in zones.values() for zone in found]
    return min(candidates, key=lambda z: _distance(latitude, longitude, z[0], z[1]))[2]


def _nautical(longitude: float) -> str:
    hours = round(longitude / 15)
    if hours == 0:
        return "Etc/GMT"
    return f"Etc/GMT{-hours:+d}"  # POSIX's sign: Etc/GMT-2 is two hours east, UTC+2


def _distance(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """The central angle between two points (haversine), for comparing only."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * math.asin(min(1.0, math.sqrt(a)))


def _load() -> dict[str, list[tuple[float, float, str]]]:
    global _zones
    with _lock:
        if _zones is None:
            text = resources.files("luna.places").joinpath("data/zones.tsv").read_text()
            zones: dict[str, list[tuple[float, float, str]]] = {}
            for line in text.splitlines():
                codes, lat, lon, name = line.split("\t")
                for code in codes.split(","):
                    zones.setdefault(code, []).append((float(lat), float(lon), name))
            _zones = zones
        return _zones
