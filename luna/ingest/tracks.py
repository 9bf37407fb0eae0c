"""GPS tracks (GPX), and where a track says one was at a given moment.

A camera without GPS knows when a photo was taken; a GPS logger or a phone's track knows
where its owner was and when. `luna geotag` joins the two: the position at the photo's
instant, interpolated between the two track points around it, and only when both are close
enough in time (`max_gap`): a photo taken while the logger was off gets nothing rather than
a guess.

GPX 1.0 and 1.1 are read (`trk/trkseg/trkpt`, and `rte/rtept` and `wpt` points that carry
a time), by their local names, whatever namespace prefix the writer used. A track file is
untrusted input: it is streamed with expat (nothing kept but the points), DTDs and entities
are refused, and the number of points is capped.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import NamedTuple

from luna.errors import BadTrack

MAX_POINTS = 5_000_000  # points read from one file (a year of one point a second is 31 M)
# GPX 1.0 and 1.1; some writers leave the namespace out.
GPX_NAMESPACES = ("http://www.topografix.com/GPX/1/0", "http://www.topografix.com/GPX/1/1", "")
_POINT_TAGS = frozenset({"trkpt", "rtept", "wpt"})


class TrackPoint(NamedTuple):
    when: dt.datetime  # UTC, naive
    latitude: float
    longitude: float
    altitude: float | None


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
        return _between(before, after, share)


def _first_not_before(points, when: dt.datetime) -> int:
    low, high = 0, len(points)
    while low < high:  # bisect on the points' times
        middle = (low + high) // 2
        if points[middle].when < when:
            low = middle + 1
        else:
            high = middle
    return low


def _between(a: TrackPoint, b: TrackPoint, share: float):
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


# -- reading GPX ----------------------------------------------------------------------------


def read_tracks(paths: list[str]) -> Track:
    """The timed points of these GPX files, as one track. BadTrack, one line naming the
    file, for one that cannot be read, is not GPX, or has no point with a time."""
    import os

    points: list[TrackPoint] = []
    for path in paths:
        points.extend(read_gpx(path))
    points.sort(key=lambda p: p.when)
    names = ", ".join(os.path.basename(p) for p in paths)
    return Track(tuple(points), f"gpx:{names}")


def read_gpx(path: str) -> list[TrackPoint]:
    from pyexpat import ExpatError

    from luna.ingest.extract.xmp import Refused

    reader = _GpxReader(path)
    try:
        with open(path, "rb") as fp:
            read = 0
            while chunk := fp.read(1 << 16):
                read += len(chunk)
                reader.parser.Parse(chunk, False)
            if not read:
                raise BadTrack(f"{path}: empty (0 bytes), not a GPX file")
            reader.parser.Parse(b"", True)  # a file cut short fails here
    except OSError as exc:
        raise BadTrack(f"{path}: cannot read: {exc.strerror or exc}") from None
    except (ExpatError, Refused) as exc:
        raise BadTrack(f"{path}: not a readable GPX file ({_reason(exc)})") from None
    return reader.finished()


class _GpxReader:
    """Streams a GPX file with expat (DTDs and entities refused: luna.ingest.extract.xmp's
    safe_parser): each point's lat, lon, time and elevation, whatever the namespace."""

    def __init__(self, path: str):
        from luna.ingest.extract.xmp import safe_parser

        self.path = path
        self.points: list[TrackPoint] = []
        self.untimed = 0
        self.root: str | None = None
        self.point: dict | None = None  # the point being read: lat, lon, time, ele
        self.field: str | None = None  # "time" or "ele" inside it
        self.text: list[str] = []
        self.parser = safe_parser()
        self.parser.buffer_text = True
        self.parser.StartElementHandler = self.start
        self.parser.EndElementHandler = self.end
        self.parser.CharacterDataHandler = self.text.append

    def start(self, tag: str, attributes: dict) -> None:
        namespace, _, name = tag.rpartition("}")
        if self.root is None:
            self.root = name
            if name != "gpx":
                raise BadTrack(f"{self.path}: not a GPX file (its root is <{name}>)")
            if namespace not in GPX_NAMESPACES:
                raise BadTrack(f"{self.path}: not GPX 1.0 or 1.1 (its namespace is {namespace})")
        elif name in _POINT_TAGS:
            self.point = {"lat": attributes.get("lat"), "lon": attributes.get("lon")}
        elif self.point is not None and name in ("time", "ele"):
            self.field = name
            self.text.clear()

    def end(self, tag: str) -> None:
        name = tag.rpartition("}")[2]
        if self.point is None:
            return
        if name == self.field:
            self.point[name] = "".join(self.text).strip()
            self.field = None
        elif name in _POINT_TAGS:
            self._keep(self.point)
            self.point = None

    def _keep(self, fields: dict) -> None:
        try:
            latitude, longitude = float(fields["lat"]), float(fields["lon"])
        except (TypeError, ValueError):
            raise BadTrack(f"{self.path}: a track point without a valid lat and lon") from None
        if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
            raise BadTrack(f"{self.path}: a track point out of range ({latitude}, {longitude})")
        if not fields.get("time"):
            self.untimed += 1
            return
        try:
            altitude = float(fields["ele"]) if fields.get("ele") else None
        except ValueError:
            altitude = None
        when = _utc(fields["time"], self.path)
        self.points.append(TrackPoint(when, latitude, longitude, altitude))
        if len(self.points) > MAX_POINTS:
            raise BadTrack(f"{self.path}: more than {MAX_POINTS:,} track points")

    def finished(self) -> list[TrackPoint]:
        if self.root is None:
            raise BadTrack(f"{self.path}: empty, not a GPX file")
        if not self.points:
            what = (
                f"its {self.untimed:,} points have no time" if self.untimed else "no track points"
            )
            raise BadTrack(f"{self.path}: nothing to geotag with: {what}")
        return self.points


def _utc(text: str, path: str) -> dt.datetime:
    """GPX times are ISO 8601 in UTC ("2019-06-01T12:00:00Z"); an offset is honoured."""
    try:
        when = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise BadTrack(f"{path}: a track point time that is not a date: {text[:40]!r}") from None
    if when.tzinfo is not None:
        when = when.astimezone(dt.UTC).replace(tzinfo=None)
    return when


def _reason(exc) -> str:
    text = str(exc)
    if "no element found" in text or "unclosed token" in text:
        return "it is cut short"
    return text.split(":")[0] if ":" in text else text
