"""Vendor the gallery's third-party files into luna/gallery/ (luna gallery copies them into
every gallery it writes, so that the page needs no network):

- Leaflet (BSD-2-Clause), from its npm package: dist/leaflet.js, dist/leaflet.css,
  dist/images/ and LICENSE, into luna/gallery/leaflet/.
- The country outlines the map draws instead of tiles: Natural Earth's 1:110m admin-0
  countries (public domain), as the npm package `world-atlas` (ISC) ships them in TopoJSON,
  turned into GeoJSON here, coordinates rounded to 0.01 degree (about 1 km: the outlines
  are 1:110m anyway), and written as a script, luna/gallery/countries.js, that sets
  `window.LUNA_COUNTRIES`: a page opened from file:// may not fetch() a JSON file in
  Chromium, but it may load a script beside it.

    cd /tmp && npm pack leaflet@1.9.4 world-atlas@2.0.2
    python3 tools/build_gallery_assets.py /tmp/leaflet-1.9.4.tgz /tmp/world-atlas-2.0.2.tgz
"""

from __future__ import annotations

import json
import sys
import tarfile
from pathlib import Path

GALLERY = Path(__file__).resolve().parent.parent / "luna" / "gallery"
LEAFLET_FILES = {
    "package/dist/leaflet.js": "leaflet.js",
    "package/dist/leaflet.css": "leaflet.css",
    "package/LICENSE": "LICENSE",
    "package/dist/images/layers.png": "images/layers.png",
    "package/dist/images/layers-2x.png": "images/layers-2x.png",
    "package/dist/images/marker-icon.png": "images/marker-icon.png",
    "package/dist/images/marker-icon-2x.png": "images/marker-icon-2x.png",
    "package/dist/images/marker-shadow.png": "images/marker-shadow.png",
}
DIGITS = 2  # 0.01 degree


def vendor_leaflet(package: Path) -> None:
    with tarfile.open(package) as tar:
        version = json.load(tar.extractfile("package/package.json"))["version"]  # type: ignore[arg-type]
        for member, name in LEAFLET_FILES.items():
            target = GALLERY / "leaflet" / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(tar.extractfile(member).read())  # type: ignore[union-attr]
    print(f"Leaflet {version} -> {GALLERY / 'leaflet'}")


def countries_script(package: Path) -> str:
    with tarfile.open(package) as tar:
        version = json.load(tar.extractfile("package/package.json"))["version"]  # type: ignore[arg-type]
        topology = json.load(tar.extractfile("package/countries-110m.json"))  # type: ignore[arg-type]
    collection = to_geojson(topology, "countries")
    text = json.dumps(collection, separators=(",", ":"), ensure_ascii=True)
    return (
        f"/* Natural Earth 1:110m countries (public domain), from world-atlas {version} (ISC), "
        "by tools/build_gallery_assets.py */\n"
        f"window.LUNA_COUNTRIES = {text};\n"
    )


def to_geojson(topology: dict, name: str) -> dict:
    """A TopoJSON object's geometries as a GeoJSON FeatureCollection (the TopoJSON format:
    arcs quantized and delta-encoded, ~i meaning arc i reversed)."""
    scale, translate = topology["transform"]["scale"], topology["transform"]["translate"]
    arcs = []
    for arc in topology["arcs"]:
        x = y = 0
        points = []
        for dx, dy in arc:
            x, y = x + dx, y + dy
            points.append(
                [
                    round(x * scale[0] + translate[0], DIGITS),
                    round(y * scale[1] + translate[1], DIGITS),
                ]
            )
        arcs.append(points)

    def ring(indexes: list[int]) -> list:
        points: list = []
        for i in indexes:
            arc = arcs[i] if i >= 0 else arcs[~i][::-1]
            points.extend(arc if not points else arc[1:])
        return points

    features = []
    for geometry in topology["objects"][name]["geometries"]:
        kind = geometry.get("type")
        if kind == "Polygon":
            coordinates = [ring(r) for r in geometry["arcs"]]
        elif kind == "MultiPolygon":
            coordinates = [[ring(r) for r in polygon] for polygon in geometry["arcs"]]
        else:
            continue  # a country without a shape at this scale
        features.append(
            {
                "type": "Feature",
                "properties": {"name": geometry.get("properties", {}).get("name")},
                "geometry": {"type": kind, "coordinates": coordinates},
            }
        )
    return {"type": "FeatureCollection", "features": features}


def main(leaflet: str, world_atlas: str) -> None:
    vendor_leaflet(Path(leaflet))
    script = countries_script(Path(world_atlas))
    (GALLERY / "countries.js").write_text(script, encoding="ascii")
    print(f"countries -> {GALLERY / 'countries.js'} ({len(script):,} bytes)")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
