"""The places data in memory, and the grid that finds the cities near a point.

Points are 3-D unit vectors, so nothing is special at the 180th meridian or at the poles:
two points are near when their vectors are, and the straight-line (chord) distance between
vectors orders pairs as the great-circle distance does. Space is cut into cubes and each
city put in the cube its vector falls in (a dict keyed by the cube's number):
  * fine cubes of 4 km for the nearest city: the cubes around the point are read ring by
    ring; a city in a cube k+1 rings out is at least k cubes' side away, so once the best so
    far is nearer than that, no unread cube can hold a nearer one;
  * coarse cubes of 30 km (the sea cut-off) for the nearest city when none is within two
    rings of fine cubes: the 27 cubes around the point hold every city within 30 km;
  * the same coarse cubes for the discs of the big cities (radius 2 km or more, 126,000
    people): each is listed in every coarse cube its disc reaches, so the one cube the
    point is in names every big city whose disc may hold it. Discs smaller than 2 km are
    all within the first ring of fine cubes, which is always read.
Pure Python (no numpy): 200,000 lookups take a few seconds (benchmarks/bench_places.py).
"""

from __future__ import annotations

import array
import bisect
import gzip
import itertools
import math
import struct
import sys
import threading
from importlib import resources

EARTH_RADIUS_KM = 6371.0088
DENSITY = 10_000.0  # people per km² that a city's disc is drawn at
CUTOFF_KM = 30.0  # no city further than this from its centre (open sea, desert, ice)
# Added to the distance before it is divided by a disc's radius: GeoNames puts a city's
# point somewhere in its centre, not at a surveyed spot, and a district's point (Berlin's
# "Mitte", Toronto's "Bay Street Corridor") may lie metres from the point where one stands
# in the big city's centre. With the slack the big city keeps its core (Berlin, not Mitte,
# 600 m from Berlin's point), while a suburb's centre is still the suburb (Levallois-Perret,
# 6.5 km from Paris's point).
SLACK_KM = 0.5
BIG_RADIUS_KM = 2.0  # discs this size or bigger are indexed by the coarse cubes
FINE_KM = 4.0
RINGS = 2  # rings of fine cubes read before the coarse cubes are asked

# GeoNames' codes for territories that Natural Earth's boundaries fold into the country they
# belong to (their towns are found in that country's land): Svalbard in Norway, Réunion
# in France... Found by tools/build_countries.py's check, and tested.
FOLDED = {
    "BQ": "NL", "CC": "AU", "CX": "AU", "GF": "FR", "GP": "FR", "MQ": "FR", "RE": "FR",
    "SJ": "NO", "TK": "NZ", "YT": "FR",
}  # fmt: skip

_SIDE = 1 << 12  # cube numbers per axis in a key; fine cubes need 2 / (4 km / R) < 3200


def _chord(km: float) -> float:
    """The straight-line distance between unit vectors that are km apart on the Earth."""
    return 2 * math.sin(km / EARTH_RADIUS_KM / 2)


def _km(chord: float) -> float:
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, chord / 2))


def radius_km(population: int) -> float:
    """The radius of a city's disc: the area its people would fill at DENSITY, taking a
    place of unknown population (0) for one of 1,000."""
    return math.sqrt(max(population, 1000) / (math.pi * DENSITY))


def _vector(latitude: float, longitude: float) -> tuple[float, float, float]:
    phi, lam = math.radians(latitude), math.radians(longitude)
    c = math.cos(phi)
    return c * math.cos(lam), c * math.sin(lam), math.sin(phi)


class Index:
    def __init__(self, text: str) -> None:
        self.countries: dict[str, str] = {}
        self.regions: list[tuple[str, str]] = []
        self.names: list[str] = []
        self.region: list[int] = []
        xs: list[float] = []
        ys: list[float] = []
        zs: list[float] = []
        radii: list[float] = []
        for line in text.splitlines():
            kind, rest = line.split("\t", 1)
            if kind == "C":
                code, name = rest.split("\t")
                self.countries[code] = name
            elif kind == "R":
                code, name = rest.split("\t")
                self.regions.append((name, code))
            else:
                lon, population, region, name = rest.split("\t")
                x, y, z = _vector(float(kind), float(lon))
                xs.append(x)
                ys.append(y)
                zs.append(z)
                radii.append(radius_km(int(population)))
                self.region.append(int(region))
                self.names.append(name)
        self.xs, self.ys, self.zs = xs, ys, zs
        # Each city's country code, as the boundaries name it (FOLDED).
        self.land_code = [
            FOLDED.get(code, code) for _, code in (self.regions[r] for r in self.region)
        ]
        self.radius = radii
        self.fine_step = _chord(FINE_KM)
        self.coarse_step = _chord(CUTOFF_KM)
        self.cutoff = _chord(CUTOFF_KM)
        self.fine: dict[int, list[int]] = {}
        self.coarse: dict[int, list[int]] = {}
        self.discs: dict[int, list[int]] = {}
        for i in range(len(xs)):
            self.fine.setdefault(self._key(xs[i], ys[i], zs[i], self.fine_step), []).append(i)
            self.coarse.setdefault(self._key(xs[i], ys[i], zs[i], self.coarse_step), []).append(i)
            if radii[i] >= BIG_RADIUS_KM:
                self._add_disc(i)
        self.rings = [self._ring(k) for k in range(RINGS + 1)]
        self.around = self._ring(0) + self._ring(1)

    @staticmethod
    def _cube(v: float, step: float) -> int:
        return int((v + 1.0) / step)

    def _key(self, x: float, y: float, z: float, step: float) -> int:
        c = self._cube
        return (c(x, step) * _SIDE + c(y, step)) * _SIDE + c(z, step)

    @staticmethod
    def _ring(k: int) -> list[int]:
        """Key offsets of the cubes exactly k cubes away (the ring k around a cube)."""
        span = range(-k, k + 1)
        return [
            (i * _SIDE + j) * _SIDE + m
            for i in span
            for j in span
            for m in span
            if max(abs(i), abs(j), abs(m)) == k
        ]

    def _add_disc(self, i: int) -> None:
        """List city i in every coarse cube its disc's bounding cube reaches."""
        step, reach = self.coarse_step, _chord(self.radius[i])
        c = self._cube
        ranges = [
            range(c(v - reach, step), c(v + reach, step) + 1)
            for v in (self.xs[i], self.ys[i], self.zs[i])
        ]
        for a in ranges[0]:
            for b in ranges[1]:
                for m in ranges[2]:
                    self.discs.setdefault((a * _SIDE + b) * _SIDE + m, []).append(i)

    def region_of(self, city: int) -> tuple[str, str]:
        """(region name, country code) of a city; the name is "" when GeoNames has none."""
        return self.regions[self.region[city]]

    def nearest(
        self, latitude: float, longitude: float, country: str | None = None
    ) -> tuple[int, float] | None:
        """(city, km to its centre) for a point, or None when no city is within the cut-off;
        only cities of `country` when it is given. See luna.places for the rule."""
        x, y, z = _vector(latitude, longitude)
        xs, ys, zs, radius = self.xs, self.ys, self.zs, self.radius
        codes = self.land_code
        best, best_chord = -1, math.inf
        inside: list[tuple[float, int]] = []  # (depth, city) of the discs holding the point
        fine = self.fine
        key = self._key(x, y, z, self.fine_step)
        for k, ring in enumerate(self.rings):
            for offset in ring:
                for i in fine.get(key + offset, ()):
                    if country is not None and codes[i] != country:
                        continue
                    dx, dy, dz = xs[i] - x, ys[i] - y, zs[i] - z
                    chord = math.sqrt(dx * dx + dy * dy + dz * dz)
                    if chord < best_chord:
                        best, best_chord = i, chord
                    if radius[i] < BIG_RADIUS_KM:
                        km = _km(chord)
                        if km < radius[i]:
                            inside.append(((km + SLACK_KM) / radius[i], i))
            if k >= 1 and best_chord <= k * self.fine_step:
                break
        else:
            # Nothing within two rings of fine cubes: the 27 coarse cubes around the point
            # hold every city within the cut-off.
            coarse = self.coarse
            key = self._key(x, y, z, self.coarse_step)
            for offset in self.around:
                for i in coarse.get(key + offset, ()):
                    if country is not None and codes[i] != country:
                        continue
                    dx, dy, dz = xs[i] - x, ys[i] - y, zs[i] - z
                    chord = math.sqrt(dx * dx + dy * dy + dz * dz)
                    if chord < best_chord:
                        best, best_chord = i, chord
        for i in self.discs.get(self._key(x, y, z, self.coarse_step), ()):
            if country is not None and codes[i] != country:
                continue
            dx, dy, dz = xs[i] - x, ys[i] - y, zs[i] - z
            km = _km(math.sqrt(dx * dx + dy * dy + dz * dz))
            if km < radius[i]:
                inside.append(((km + SLACK_KM) / radius[i], i))
        if inside:
            # A disc counts only in the country of the nearest place: Rome's disc covers the
            # Vatican, and a border town's may reach over the border.
            inside = [(d, i) for d, i in inside if codes[i] == codes[best]]
        if inside:
            city = min(inside)[1]
            dx, dy, dz = xs[city] - x, ys[city] - y, zs[city] - z
            return city, _km(math.sqrt(dx * dx + dy * dy + dz * dz))
        if best_chord <= self.cutoff:
            return best, _km(best_chord)
        return None


class Countries:
    """The country of each 1-arc-minute cell: land, and the sea to about 12 nautical miles
    (territorial waters), from Natural Earth's boundaries (tools/build_countries.py says
    how). Each row of cells is kept as runs: the first column of each, and its country."""

    SEA = ""  # open sea, or land Natural Earth gives no ISO code (Bir Tawil)
    BORDER = "?"  # a cell where two countries meet: it cannot tell

    def __init__(self, data: bytes) -> None:
        if data[:8] != b"LUNAPLC1":
            raise ValueError("not a luna countries file")
        self.rows, self.columns, count = struct.unpack_from("<III", data, 8)
        offset = 20
        text = data[offset : offset + 2 * count].decode("ascii")
        self.codes = [self.SEA] + [text[i : i + 2] for i in range(2, 2 * count, 2)]
        self.codes += [self.BORDER] * (256 - len(self.codes))
        offset += 2 * count
        counts = array.array("I")
        counts.frombytes(data[offset : offset + 4 * self.rows])
        offset += 4 * self.rows
        runs = sum(counts)
        self.starts = array.array("H")
        self.starts.frombytes(data[offset : offset + 2 * runs])
        self.values = data[offset + 2 * runs : offset + 3 * runs]
        offset += 3 * runs
        # The BORDER cells told again at sub x sub smaller cells: their keys (row * columns
        # + column, sorted), and the countries of their smaller cells (0 where it is sea).
        self.sub, border_cells = struct.unpack_from("<II", data, offset)
        offset += 8
        self.border_keys = array.array("I")
        self.border_keys.frombytes(data[offset : offset + 4 * border_cells])
        offset += 4 * border_cells
        self.border_values = data[offset : offset + self.sub * self.sub * border_cells]
        if sys.byteorder != "little":
            counts.byteswap()
            self.starts.byteswap()
            self.border_keys.byteswap()
        self.first = [0, *itertools.accumulate(counts)]

    def at(self, latitude: float, longitude: float) -> str:
        """The ISO code of the country at a point, SEA, or BORDER where the point lies in
        the sea next to where two countries meet (the nearest town will tell)."""
        y, x = (90.0 - latitude) * 60, (longitude + 180.0) * 60
        row = min(int(y), self.rows - 1)
        column = int(x) % self.columns
        lo, hi = self.first[row], self.first[row + 1]
        code = self.codes[self.values[bisect.bisect_right(self.starts, column, lo, hi) - 1]]
        if code != self.BORDER:
            return code
        key = row * self.columns + column
        found = bisect.bisect_left(self.border_keys, key)
        if found == len(self.border_keys) or self.border_keys[found] != key:
            return code
        sub = self.sub
        inner = min(int((y - row) * sub), sub - 1) * sub + min(int((x - int(x)) * sub), sub - 1)
        value = self.border_values[found * sub * sub + inner]
        return self.codes[value] if value else self.BORDER


_loaded: tuple[Index, Countries] | None = None
_lock = threading.Lock()


def load() -> tuple[Index, Countries]:
    """The cities and the countries, read from the package's data on first use."""
    global _loaded
    if _loaded is None:
        with _lock:
            if _loaded is None:
                folder = resources.files("luna.places").joinpath("data")
                cities = gzip.decompress(folder.joinpath("cities.tsv.gz").read_bytes())
                countries = gzip.decompress(folder.joinpath("countries.bin.gz").read_bytes())
                _loaded = Index(cities.decode("utf-8")), Countries(countries)
    return _loaded
