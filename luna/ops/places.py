"""Where each file was taken, in words: city, region and country.

A file may name its place itself (IPTC/XMP City, State, Country and CountryCode, written
by the photographer or an agency's software): those names win, field by field, and the
place source says so ("file"). Otherwise luna looks its position up in its own offline
data (luna.places: "lookup"). A file naming only part of its place (a city, no country)
gets the rest from the lookup ("file+lookup"), unless the file's country is another than
the lookup's: its names then describe another place than its GPS, and only they are kept.
A file with neither gets place_source "" (worked out: no place).

The library keeps the names in columns (luna.store.places) so that `find --place`,
`luna places`, `luna stats` and `{city}` read them without the lookup's data. A file
recorded or given a position anew has place_source NULL, "to work out": an import, a
geotag and `luna places update` end with work_out_places.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from luna.names import place_key
from luna.results import Result, Rows
from luna.store.places import OWN_NAME_KEYS
from luna.store.sql import write_transaction

Names = tuple[str | None, str | None, str | None, str | None, str]  # ..., country_code, source


@dataclass
class PlacesReport(Result):
    """What a pass of work_out_places did."""

    files: int = 0  # files whose place was worked out
    looked_up: int = 0  # of which positions looked up in luna's data
    named_by_file: int = 0  # of which files naming their place themselves
    with_place: int = 0  # of which now with a place
    problems: list = field(default_factory=list)


def work_out_places(lib, *, everything: bool = False) -> PlacesReport:
    """Give the files whose place is not worked out yet (every file, with `everything`)
    their city, region and country, a batch at a time (each batch its own transaction:
    what is done stays done). The lookup's data is read only if one of them has a
    position."""
    report = PlacesReport()
    for rows in lib.store.places.to_work_out(everything=everything):
        names = _names_of(rows, report)
        write_transaction(
            lib, lambda names=names: lib.store.places.set_names(names),
            then="no place name was recorded; run `luna places update` once this is fixed",
        )  # fmt: skip
    return report


def _names_of(rows: list[tuple], report: PlacesReport) -> list[tuple]:
    """(city, region, country, country_code, source, file id) of each row."""
    # A sidecar is no photo of a place: the names it holds are its photo's.
    photos = [row if row[1] != "sidecar" else (*row[:2], None, None, {}) for row in rows]
    found = _look_up([(lat, lon) for _, _, lat, lon, _ in photos])
    names = []
    for (file_id, _, _, _, own), place in zip(photos, found, strict=True):
        named = names_for(own, place)
        names.append((*named, file_id))
        report.files += 1
        report.looked_up += place is not None
        report.named_by_file += named[4].startswith("file")
        report.with_place += named[4] != ""
    return names


def place_names(metadata: dict, latitude, longitude) -> tuple:
    """(city, region, country, country_code) of a file not in the library yet, from its
    metadata and position: where `import --copy` files it under a {country}/{city}
    template."""
    own = {key: value.strip() for key in OWN_NAME_KEYS
           if isinstance(value := (metadata or {}).get(key), str) and value.strip()}  # fmt: skip
    return names_for(own, _look_up([(latitude, longitude)])[0])[:4]


def _look_up(points: list[tuple]) -> list:
    """luna.places.Place for each point that is one, None for the others (no position, or
    one outside -90..90, -180..180 that a damaged file gave)."""
    valid = [
        i for i, (lat, lon) in enumerate(points)
        if lat is not None and lon is not None and -90 <= lat <= 90 and -180 <= lon <= 180
    ]  # fmt: skip
    found: list = [None] * len(points)
    if valid:
        from luna.places import places_of  # reads luna's place data: only when needed

        for i, place in zip(valid, places_of(points[i] for i in valid), strict=True):
            found[i] = place
    return found


def names_for(own: dict, place) -> Names:
    """(city, region, country, country_code, source) from the file's own names (`own`,
    luna.store.places.OWN_NAME_KEYS) and the lookup of its position (a luna.places.Place,
    or None)."""
    code = _country_code(own.get("country_code"))
    mine = (own.get("city"), own.get("state"), own.get("country"), code)
    looked = (place.city, place.region, place.country, place.country_code) if place else None
    if not any(mine):
        return (*looked, "lookup") if looked and any(looked) else (None, None, None, None, "")
    if looked is None or not _same_country(mine, looked):
        return (*mine, "file")
    merged = tuple(m if m else other for m, other in zip(mine, looked, strict=True))
    return (*merged, "file" if merged == mine else "file+lookup")  # type: ignore[return-value]


def _country_code(text) -> str | None:
    """An ISO 3166 code as files write it: 2 letters, or IPTC-IIM's older 3 ("FRA")."""
    if not isinstance(text, str):
        return None
    code = text.strip().upper()
    return code if code.isascii() and code.isalpha() and len(code) in (2, 3) else None


def _same_country(mine: tuple, looked: tuple) -> bool:
    """Whether the file's names can be completed by the lookup: no country of the file's
    own, or the lookup's (by code or by name, any case and accents)."""
    _, _, country, code = mine
    if code and looked[3] and len(code) == 2:
        return code == looked[3]
    if country and looked[2]:
        return place_key(country) == place_key(looked[2])
    return True


# -- listing -------------------------------------------------------------------------------

LEVELS = ("city", "region", "country")


def list_places(lib, by: str = "city") -> Rows:
    """The places of the files present with how many files each has, most first: by city
    (with its region and country), by region (with its country), or by country. The files
    without one (by country: without a country) are counted in the document's
    "without_place"."""
    if by not in LEVELS:
        from luna.errors import BadValue

        raise BadValue(f"--by: {by!r} is not one of {', '.join(LEVELS)}")
    counts: dict[tuple, int] = {}
    without = 0
    for code, country, region, city, files in lib.store.places.counts():
        key = {
            "city": (city, region, country, code),
            "region": (None, region, country, code),
            "country": (None, None, country, code),
        }[by]
        if not any(key):  # (by country: a file naming its city alone has no country)
            without += files
            continue
        counts[key] = counts.get(key, 0) + files
    rows = [
        _place_row(by, key, files)
        for key, files in sorted(counts.items(), key=lambda item: (-item[1], _order(item[0])))
    ]
    return Rows("places", rows, {"by": by, "without_place": without})


def _place_row(by: str, key: tuple, files: int) -> dict:
    city, region, country, code = key
    row = {"city": city, "region": region, "country": country, "country_code": code}
    if by != "city":
        del row["city"]
    if by == "country":
        del row["region"]
    return {**row, "files": files}


def _order(key: tuple) -> tuple:
    return tuple(place_key(part or "") for part in key)


def by_country_and_city(lib) -> tuple[dict[str, int], dict[str, int]]:
    """Files per country and per city ("Paris, France"), most first, as `luna stats` counts
    them: the files without a country are "unknown", last (as by_camera's)."""
    by_country = list_places(lib, "country")
    countries = {row["country"] or row["country_code"]: row["files"] for row in by_country.rows}
    if by_country.about["without_place"]:
        countries["unknown"] = by_country.about["without_place"]
    cities: dict[str, int] = {}
    for row in list_places(lib, "city").rows:
        if row["city"]:
            name = ", ".join(p for p in (row["city"], row["country"] or row["country_code"]) if p)
            cities[name] = cities.get(name, 0) + row["files"]
    return countries, cities
