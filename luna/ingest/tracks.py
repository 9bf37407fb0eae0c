"""GPS tracks (GPX, KML, GeoJSON), and where a track says one was at a given moment.

A camera without GPS knows when a photo was taken; a GPS logger or a phone's track knows
where its owner was and when. `luna geotag` joins the two: the position at the photo's
instant, interpolated between the two track points around it, and only when both are close
enough in time (`max_gap`): a photo taken while the logger was off gets nothing rather than
a guess.

GPX 1.0 and 1.1 are read (`trk/trkseg/trkpt`, and `rte/rtept` and `wpt` points that carry
a time), by their local names, whatever namespace prefix the writer used; KML's `gx:Track`s
and timed Placemarks; GeoJSON's lines with a time per position (`coordTimes`) and timed
Points. A track file is untrusted input: XML is streamed with expat (nothing kept but the
points), DTDs and entities are refused; a GeoJSON file is read whole, up to a size; the
number of points is capped. Only the standard library is used.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import NamedTuple, Protocol

from luna.errors import BadTrack

MAX_POINTS = 5_000_000  # points read from one file (a year of one point a second is 31 M)
# GPX 1.0 and 1.1; some writers leave the namespace out.
GPX_NAMESPACES = ("http://www.topografix.com/GPX/1/0", "http://www.topografix.com/GPX/1/1", "")
_POINT_TAGS = frozenset({"trkpt", "rtept", "wpt"})
# KML 2.0 to 2.3 (Google's, then the OGC's); some writers leave the namespace out.
KML_NAMESPACES = ("http://www.opengis.net/kml/", "http://earth.google.com/kml/")
MAX_JSON_BYTES = 512 << 20  # a GeoJSON file is read whole: 512 MB holds ~5 M positions


class TrackPoint(NamedTuple):
    when: dt.datetime  # UTC, naive
    latitude: float
    longitude: float
    altitude: float | None


class Located(Protocol):
    """Anything with a position: a track point, a photo."""

    @property
    def latitude(self) -> float: ...
    @property
    def longitude(self) -> float: ...
    @property
    def altitude(self) -> float | None: ...


@dataclass(frozen=True)
class Track:
    """The timed points of one or more track files, in time order."""

    points: tuple[TrackPoint, ...]
    source: str  # what the positions are credited to: "gpx:walk.gpx"

    def position_at(self, when: dt.datetime, max_gap: dt.timedelta):
        """(latitude, longitude, altitude or None) at the UTC instant `when`, between the
        two points around it when each is within `max_gap` of it (a point exactly at
        `when` needs no neighbour); None when the track does not say."""
        points = self.points
        i = _first_not_before(points, when)
        after = points[i] if i < len(points) else None
        before = points[i - 1] if i > 0 else None
        if after is not None and after.when == when:
            return after.latitude, after.longitude, after.altitude
        if before is None or after is None:
            return None
        if when - before.when > max_gap or after.when - when > max_gap:
            return None
        share = (when - before.when) / (after.when - before.when)
        return between(before, after, share)


def _first_not_before(points, when: dt.datetime) -> int:
    low, high = 0, len(points)
    while low < high:  # bisect on the points' times
        middle = (low + high) // 2
        if points[middle].when < when:
            low = middle + 1
        else:
            high = middle
    return low


def between(a: Located, b: Located, share: float):
    """The point `share` of the way from a to b: along the great circle (as a GPS moves),
    which crosses the 180th meridian and passes near the poles as the earth does."""
    va, vb = _vector(a.latitude, a.longitude), _vector(b.latitude, b.longitude)
    angle = math.acos(max(-1.0, min(1.0, sum(x * y for x, y in zip(va, vb, strict=True)))))
    if angle < 1e-12:
        latitude, longitude = a.latitude, a.longitude
    else:
        wa = math.sin((1 - share) * angle) / math.sin(angle)
        wb = math.sin(share * angle) / math.sin(angle)
        x, y, z = (wa * p + wb * q for p, q in zip(va, vb, strict=True))
        latitude = math.degrees(math.atan2(z, math.hypot(x, y)))
        longitude = math.degrees(math.atan2(y, x))
    altitude = None
    if a.altitude is not None and b.altitude is not None:
        altitude = a.altitude + share * (b.altitude - a.altitude)
    return latitude, longitude, altitude


def _vector(latitude: float, longitude: float) -> tuple[float, float, float]:
    lat, lon = math.radians(latitude), math.radians(longitude)
    return math.cos(lat) * math.cos(lon), math.cos(lat) * math.sin(lon), math.sin(lat)


# -- reading track files ----------------------------------------------------------------------

# The formats read, by the file's extension (what `luna geotag` takes for a track); a file
# of another name is read as GPX, as it always was.
TRACK_FORMATS = {".gpx": "gpx", ".kml": "kml", ".geojson": "geojson", ".json": "geojson"}


def track_format(path: str) -> str | None:
    """The format of a track file by its name ("gpx", "kml", "geojson"); None for others."""
    import os

    return TRACK_FORMATS.get(os.path.splitext(path)[1].lower())


def read_tracks(paths: list[str]) -> Track:
    """The timed points of these track files (GPX, KML, GeoJSON), as one track. BadTrack,
    one line naming the file, for one that cannot be read, is not of its format, or has no
    point with a time."""
    import os

    points: list[TrackPoint] = []
    formats = []
    for path in paths:
        kind = track_format(path) or "gpx"
        formats.append(kind)
        points.extend(_READERS[kind](path))
    points.sort(key=lambda p: p.when)
    # Credited to the format ("gpx:walk.gpx"); files of several formats are "tracks:".
    family = formats[0] if len(set(formats)) == 1 else "tracks"
    names = ", ".join(os.path.basename(p) for p in paths)
    return Track(tuple(points), f"{family}:{names}")


class _Points:
    """The timed points read from one track file, checked as they come: lat and lon in
    range, a time that is a date, at most MAX_POINTS. Points without a time are counted, not
    kept (they cannot say when one was there)."""

    what = "track"  # the format, as messages name it

    def __init__(self, path: str):
        self.path = path
        self.points: list[TrackPoint] = []
        self.untimed = 0
        self.root: str | None = None  # the document's root, once seen

    def keep(self, latitude, longitude, when: str | None, altitude=None) -> None:
        """A point from its fields as the file gives them (text or numbers)."""
        try:
            lat, lon = float(latitude), float(longitude)
        except (TypeError, ValueError):
            raise BadTrack(f"{self.path}: a track point without a valid lat and lon") from None
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise BadTrack(f"{self.path}: a track point out of range ({lat}, {lon})")
        if not when:
            self.untimed += 1
            return
        try:
            ele = float(altitude) if altitude not in (None, "") else None
        except (TypeError, ValueError):
            ele = None  # a height is a nicety: a bad one is dropped, the point kept
        self.points.append(TrackPoint(_utc(when, self.path), lat, lon, ele))
        if len(self.points) > MAX_POINTS:
            raise BadTrack(f"{self.path}: more than {MAX_POINTS:,} track points")

    def finished(self) -> list[TrackPoint]:
        if self.root is None:
            raise BadTrack(f"{self.path}: empty, not a {self.what} file")
        if not self.points:
            what = (
                f"its {self.untimed:,} points have no time" if self.untimed else "no track points"
            )
            raise BadTrack(f"{self.path}: nothing to geotag with: {what}")
        return self.points


def _utc(text, path: str) -> dt.datetime:
    """Track times are ISO 8601 in UTC ("2019-06-01T12:00:00Z"); an offset is honoured."""
    try:
        when = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except (AttributeError, ValueError):  # AttributeError: a JSON number, not a text
        shown = text[:40] if isinstance(text, str) else text
        raise BadTrack(f"{path}: a track point time that is not a date: {shown!r}") from None
    if when.tzinfo is not None:
        when = when.astimezone(dt.UTC).replace(tzinfo=None)
    return when


# -- XML: GPX and KML -------------------------------------------------------------------------


class _XmlPoints(_Points):
    """Streams an XML track file with expat (DTDs and entities refused: luna.ingest.extract.
    xmp's safe_parser), by local names, whatever namespace prefix the writer used. A
    subclass checks the root (`root_is`) and reads the elements it knows (`opened`,
    `closed`); the text of the element being read gathers in `text`."""

    def __init__(self, path: str):
        from luna.ingest.extract.xmp import safe_parser

        super().__init__(path)
        self.text: list[str] = []
        self.parser = safe_parser()
        self.parser.buffer_text = True
        self.parser.StartElementHandler = self._start
        self.parser.EndElementHandler = self._end
        self.parser.CharacterDataHandler = self.text.append

    def _start(self, tag: str, attributes: dict) -> None:
        namespace, _, name = tag.rpartition("}")
        if self.root is None:
            self.root = name
            self.root_is(namespace, name)
        else:
            self.opened(name, attributes)

    def _end(self, tag: str) -> None:
        self.closed(tag.rpartition("}")[2])

    def gathered(self) -> str:
        """The text since the last `self.text.clear()`."""
        return "".join(self.text).strip()

    def root_is(self, namespace: str, name: str) -> None: ...

    def opened(self, name: str, attributes: dict) -> None: ...

    def closed(self, name: str) -> None: ...

    def read(self) -> list[TrackPoint]:
        from pyexpat import ExpatError

        from luna.ingest.extract.xmp import Refused

        path = self.path
        try:
            with open(path, "rb") as fp:
                read = 0
                while chunk := fp.read(1 << 16):
                    read += len(chunk)
                    self.parser.Parse(chunk, False)
                if not read:
                    raise BadTrack(f"{path}: empty (0 bytes), not a {self.what} file")
                self.parser.Parse(b"", True)  # a file cut short fails here
        except OSError as exc:
            raise BadTrack(f"{path}: cannot read: {exc.strerror or exc}") from None
        except (ExpatError, Refused) as exc:
            raise BadTrack(f"{path}: not a readable {self.what} file ({_reason(exc)})") from None
        return self.finished()


def _reason(exc) -> str:
    text = str(exc)
    if "no element found" in text or "unclosed token" in text:
        return "it is cut short"
    return text.split(":")[0] if ":" in text else text


def read_gpx(path: str) -> list[TrackPoint]:
    return _GpxPoints(path).read()


class _GpxPoints(_XmlPoints):
    """GPX 1.0 and 1.1: each point's lat, lon, time and elevation."""

    what = "GPX"

    def __init__(self, path: str):
        super().__init__(path)
        self.point: dict | None = None  # the point being read: lat, lon, time, ele
        self.field: str | None = None  # "time" or "ele" inside it

    def root_is(self, namespace: str, name: str) -> None:
        if name != "gpx":
            raise BadTrack(f"{self.path}: not a GPX file (its root is <{name}>)")
        if namespace not in GPX_NAMESPACES:
            raise BadTrack(f"{self.path}: not GPX 1.0 or 1.1 (its namespace is {namespace})")

    def opened(self, name: str, attributes: dict) -> None:
        if name in _POINT_TAGS:
            self.point = {"lat": attributes.get("lat"), "lon": attributes.get("lon")}
        elif self.point is not None and name in ("time", "ele"):
            self.field = name
            self.text.clear()

    def closed(self, name: str) -> None:
        if self.point is None:
            return
        if name == self.field:
            self.point[name] = self.gathered()
            self.field = None
        elif name in _POINT_TAGS:
            point = self.point
            self.keep(point["lat"], point["lon"], point.get("time"), point.get("ele"))
            self.point = None


def read_kml(path: str) -> list[TrackPoint]:
    return _KmlPoints(path).read()


class _KmlPoints(_XmlPoints):
    """KML 2.x: `gx:Track`s (a list of `<when>`s, then as many `<gx:coord>lon lat alt`,
    paired in order; KML 2.3's `Track` alike) and `Placemark`s with a `TimeStamp/when` and
    a `Point/coordinates` ("lon,lat[,alt]"). Lines without a time per point (LineString)
    say nothing of when: they are not read."""

    what = "KML"

    def __init__(self, path: str):
        super().__init__(path)
        self.track: tuple[list[str], list[str]] | None = None  # its whens and coords
        self.placemark: dict | None = None  # "when", and "points": Point coordinates
        self.inside: set[str] = set()  # TimeStamp, Point: what the next text belongs to
        self.field: str | None = None  # when, coord or coordinates, being read

    def root_is(self, namespace: str, name: str) -> None:
        if name != "kml":
            raise BadTrack(f"{self.path}: not a KML file (its root is <{name}>)")
        if namespace and not namespace.startswith(KML_NAMESPACES):
            raise BadTrack(f"{self.path}: not KML (its namespace is {namespace})")

    def opened(self, name: str, attributes: dict) -> None:
        if name == "Track":
            self.track = ([], [])
        elif name == "Placemark":
            self.placemark = {"when": None, "points": []}
        elif name in ("TimeStamp", "Point"):
            self.inside.add(name)
        if self._wanted(name):
            self.field = name
            self.text.clear()

    def _wanted(self, name: str) -> bool:
        if self.track is not None:
            return name in ("when", "coord")
        if self.placemark is None:
            return False
        return (name == "when" and "TimeStamp" in self.inside) or (
            name == "coordinates" and "Point" in self.inside
        )

    def closed(self, name: str) -> None:
        if name == self.field:
            self._field_read(name, self.gathered())
            self.field = None
        elif name in ("TimeStamp", "Point"):
            self.inside.discard(name)
        elif name == "Track" and self.track is not None:
            self._track_read(*self.track)
            self.track = None
        elif name == "Placemark" and self.placemark is not None:
            for lon, lat, alt in self.placemark["points"]:
                self.keep(lat, lon, self.placemark["when"], alt)
            self.placemark = None

    def _field_read(self, name: str, text: str) -> None:
        if self.track is not None:
            self.track[0 if name == "when" else 1].append(text)
        elif self.placemark is not None and name == "when":
            self.placemark["when"] = text
        elif self.placemark is not None:
            self.placemark["points"].append(_three(text.split(",")))

    def _track_read(self, whens: list[str], coords: list[str]) -> None:
        if len(whens) != len(coords):
            raise BadTrack(
                f"{self.path}: a gx:Track of {len(coords):,} positions with {len(whens):,} times"
            )
        for when, coord in zip(whens, coords, strict=True):
            lon, lat, alt = _three(coord.split())
            self.keep(lat, lon, when, alt)


def _three(parts: list) -> tuple:
    """(first, second, third) of a position's parts, None for those missing."""
    return tuple(parts[:3]) + (None,) * (3 - len(parts[:3]))


# -- GeoJSON ----------------------------------------------------------------------------------


def read_geojson(path: str) -> list[TrackPoint]:
    import json

    try:
        with open(path, "rb") as fp:
            data = fp.read(MAX_JSON_BYTES + 1)
    except OSError as exc:
        raise BadTrack(f"{path}: cannot read: {exc.strerror or exc}") from None
    if not data:
        raise BadTrack(f"{path}: empty (0 bytes), not a GeoJSON file")
    if len(data) > MAX_JSON_BYTES:
        raise BadTrack(f"{path}: larger than {MAX_JSON_BYTES >> 20} MB, too large to read")
    try:
        document = json.loads(data)
    except UnicodeDecodeError:
        raise BadTrack(f"{path}: not a readable GeoJSON file (not UTF-8 text)") from None
    except json.JSONDecodeError as exc:
        # A document that ends inside a string, or where more was expected, was cut short.
        cut = exc.msg.startswith("Unterminated string") or exc.pos >= len(exc.doc.rstrip())
        why = "it is cut short" if cut else f"line {exc.lineno}: {exc.msg}"
        raise BadTrack(f"{path}: not a readable GeoJSON file ({why})") from None
    except RecursionError:
        raise BadTrack(f"{path}: not a readable GeoJSON file (nested too deeply)") from None
    points = _GeoJsonPoints(path)
    points.read(document)
    return points.finished()


class _GeoJsonPoints(_Points):
    """GeoJSON (RFC 7946) features: LineStrings and MultiLineStrings with a time per
    position in `properties.coordTimes` (togeojson's convention: a list, or a list per
    line) or `properties.times`, and Points with `properties.time`. Positions are
    [lon, lat, alt]."""

    what = "GeoJSON"

    def read(self, document) -> None:
        kind = document.get("type") if isinstance(document, dict) else None
        if kind not in ("FeatureCollection", "Feature"):
            raise BadTrack(f"{self.path}: not GeoJSON (no FeatureCollection or Feature)")
        self.root = kind
        features = document.get("features") if kind == "FeatureCollection" else [document]
        if not isinstance(features, list):
            raise BadTrack(f"{self.path}: not GeoJSON (its features are not a list)")
        for feature in features:
            self._feature(feature)

    def _feature(self, feature) -> None:
        if not isinstance(feature, dict):
            raise BadTrack(f"{self.path}: not GeoJSON (a feature that is not an object)")
        geometry = feature.get("geometry") or {}
        properties = feature.get("properties") or {}
        if not isinstance(geometry, dict) or not isinstance(properties, dict):
            raise BadTrack(f"{self.path}: not GeoJSON (a feature's geometry is not an object)")
        kind, coordinates = geometry.get("type"), geometry.get("coordinates")
        times = properties.get("coordTimes", properties.get("times"))
        if kind == "Point":
            self._position(coordinates, properties.get("time"))
        elif kind == "LineString":
            self._line(coordinates, times)
        elif kind == "MultiLineString":
            self._lines(coordinates, times)
        # Other geometries have no time per position: nothing to geotag with.

    def _lines(self, lines, times) -> None:
        self._check_list(lines, "MultiLineString")
        if isinstance(times, list) and times and all(isinstance(t, list) for t in times):
            if len(times) != len(lines):
                raise BadTrack(
                    f"{self.path}: a MultiLineString of {len(lines):,} lines with "
                    f"{len(times):,} lists of times"
                )
            for line, line_times in zip(lines, times, strict=True):
                self._line(line, line_times)
        else:  # one list of times for the lines one after the other
            for line in lines:
                self._check_list(line, "MultiLineString")
            self._line([position for line in lines for position in line], times)

    def _line(self, positions, times) -> None:
        self._check_list(positions, "LineString")
        if times is None:
            times = [None] * len(positions)
        self._check_list(times, "coordTimes")
        if len(times) != len(positions):
            raise BadTrack(
                f"{self.path}: a line of {len(positions):,} positions with {len(times):,} times"
            )
        for position, when in zip(positions, times, strict=True):
            self._position(position, when)

    def _position(self, position, when) -> None:
        if not isinstance(position, list) or not all(
            isinstance(x, int | float) and not isinstance(x, bool) for x in position
        ):
            raise BadTrack(f"{self.path}: a track point without a valid lat and lon")
        lon, lat, alt = _three(position)
        self.keep(lat, lon, when, alt)

    def _check_list(self, value, what: str) -> None:
        if not isinstance(value, list):
            raise BadTrack(f"{self.path}: not GeoJSON (a {what} that is not a list)")


_READERS = {"gpx": read_gpx, "kml": read_kml, "geojson": read_geojson}
