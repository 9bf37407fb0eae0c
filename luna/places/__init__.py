"""Offline reverse geocoding: from a latitude and longitude to the city, the region (first-
level administrative division) and the country, from GeoNames' places of 1,000 people or
more and Natural Earth's country boundaries (see luna/places/data/README.md). No network.

    >>> place_of(48.8566, 2.3522)
    Place(city='Paris', region='Île-de-France', country='France', country_code='FR', ...)

Which country: the boundaries', drawn as cells of 1 arc-minute (1.85 km north-south) over
land and the sea to 12 nautical miles off the coast (territorial waters), and where two
countries meet as cells of a quarter of that (460 m: Basel, Weil am Rhein and Saint-Louis
are 3 km apart). Open sea beyond, and the Arctic's sea ice, are no country and no city.
Antarctica is "AQ". Where even a small cell cannot tell (in the sea between two
countries' waters, or a country smaller than a cell, the Vatican), the nearest town's
country is taken.

Which city, among that country's: each city is given a disc, the size a town of its
population would cover at 10,000 people per km² (Paris: a radius of 8.2 km; a village of
1,000 people: 180 m).
  * A point inside one or more discs belongs to the city it is deepest inside, relative to
    the disc: the smallest (distance + 0.5 km) / radius. So the centre of Paris is Paris
    although the centre point of a smaller place (a district, a suburb) may be nearer,
    while the centre of a suburb kilometres from the big city's is still the suburb. The
    0.5 km is the slack of GeoNames' centre points: without it a district whose point lies
    a few metres away would take the big city's core (Berlin's "Mitte"). Where the cell
    cannot tell the country, a disc counts only in the nearest town's country, so Rome's
    disc does not take the Vatican.
  * A point inside no disc belongs to the nearest city centre up to 30 km away; beyond, the
    country alone (a desert, an ice sheet, a boat in territorial waters). 30 km: most
    inhabited land is closer than that to a place of 1,000 people, and it is more than
    territorial waters reach, so a boat in them still gets the nearest coastal town.
The region and the country's name and code are those of the city found (GeoNames' codes:
Svalbard is SJ, although its boundaries are Norway's).

The data (2.6 MB and 1.4 MB gzipped) is read on the first lookup, not on import: `luna find`
imports this module's callers and must stay fast.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from luna.places import _index


@dataclass(frozen=True, slots=True)
class Place:
    """Where a point is: its city (None in open sea or far from any town), that city's
    region and country, and the distance to the city's centre point in km."""

    city: str | None
    region: str | None
    country: str | None
    country_code: str | None  # ISO 3166-1 alpha-2
    distance_km: float | None


NOWHERE = Place(None, None, None, None, None)


def place_of(latitude: float, longitude: float) -> Place:
    """The place of one point (signed decimal degrees). Raises ValueError outside
    -90..90, -180..180 (or NaN)."""
    return places_of([(latitude, longitude)])[0]


def places_of(points: Iterable[tuple[float, float]]) -> list[Place]:
    """The places of many points, in order: the fast path for a whole library."""
    index, countries = _index.load()
    found = []
    for latitude, longitude in points:
        if not (-90.0 <= latitude <= 90.0 and -180.0 <= longitude <= 180.0):
            raise ValueError(f"place {latitude},{longitude} is outside -90..90, -180..180")
        code = countries.at(latitude, longitude)
        if code == countries.SEA:
            found.append(NOWHERE)
            continue
        if code == countries.BORDER:
            match = index.nearest(latitude, longitude)  # the nearest town's country
        else:
            match = index.nearest(latitude, longitude, code)
        if match is None:
            found.append(
                NOWHERE
                if code == countries.BORDER
                else Place(None, None, index.countries.get(code, code), code, None)
            )
            continue
        city, distance = match
        region, code = index.region_of(city)
        found.append(
            Place(index.names[city], region or None, index.countries.get(code), code, distance)
        )
    return found
