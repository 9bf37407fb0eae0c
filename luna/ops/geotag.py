"""Positions for photos without one, from GPS tracks (`luna geotag TRACK.gpx`).

A photo's instant is its local capture time less its UTC offset: the file's own offset
where it has one, else the time zone the user names (`--tz Europe/Paris`, daylight saving
included), else nothing is done and the user is asked for one. A camera clock that was
wrong is corrected by `clock_offset` (how far ahead it was). The track then says where one
was at that instant (luna.ingest.tracks), or nothing when no track point is near enough in
time: such photos are reported, never guessed.

Files are never changed: the position is the library's (luna.store.geotags), with its
source, and goes to the XMP sidecar when sidecar writing is on. `place_each` does that for
both ways of placing photos: from tracks (here) and from the photos taken around them
(luna.ops.geotag_photos).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import NamedTuple

from luna.errors import BadValue
from luna.names import uuid_text
from luna.results import Result
from luna.store.sql import write_transaction

GUESSED_DATES = ("filename", "file:mtime")


@dataclass
class GeotagReport(Result):
    """What `luna geotag` did (or would do, with dry_run)."""

    source: str  # "gpx:walk.gpx", or "photos" (each file's own in `tagged`)
    files: int = 0  # photos and videos looked at
    tagged: list[dict] = field(default_factory=list)  # {"id", "path", "taken_utc", ..., "source"}
    own_position: int = 0  # files with a position of their own: left as they are
    not_tagged: list[dict] = field(default_factory=list)  # {"path", "reason"}
    dry_run: bool = False
    skipped: list[str] = field(default_factory=list)  # FILEs not in the library

    @property
    def problems(self):  # type: ignore[override]
        return []  # a photo outside every track is an answer, not a failure


class Placed(NamedTuple):
    """Where a file was, by luna's reckoning, and what says so."""

    taken_utc: dt.datetime | None  # its instant, when known
    latitude: float
    longitude: float
    altitude: float | None
    source: str  # "gpx:walk.gpx", "photos:ID,ID"


def geotag(lib, track, file_ids, *, max_gap, tz=None, clock_offset=dt.timedelta(0), dry_run=False):
    """Give each photo or video without a position of its own the track's position at its
    instant. BadValue, before anything changes, when a file's instant needs a time zone
    and none was given."""
    zone = time_zone(tz)

    def locate(path: str, start: dt.datetime, offset: int | None) -> Placed | str:
        instant = utc_instant(start, offset, zone)
        if instant is None:
            raise BadValue(
                f"{path} does not say its time zone: give the camera's with --tz (such as "
                "--tz Europe/Paris); nothing was changed"
            )
        instant -= clock_offset
        position = track.position_at(instant, max_gap)
        if position is None:
            return "no track point near its time"
        latitude, longitude, altitude = position
        return Placed(instant, latitude, longitude, altitude, track.source)

    return place_each(lib, file_ids, locate, GeotagReport(track.source, dry_run=dry_run))


def place_each(lib, file_ids, locate, report: GeotagReport) -> GeotagReport:
    """Ask `locate(path, start, utc_offset)` where each photo or video without a position
    of its own was (a Placed, or why it cannot say), and record the answers in one
    transaction once all are known: an error on the way (a BadValue) changes nothing."""
    rows = lib.store.geotags.candidates(file_ids)
    report.files = len(rows)
    found = []
    for file_id, path, start, offset, own, date_source in rows:
        if own:
            report.own_position += 1
            continue
        if start is None or date_source in GUESSED_DATES:
            why = "no capture date" if start is None else f"its date is a guess ({date_source})"
            report.not_tagged.append({"path": path, "reason": why})
            continue
        placed = locate(path, start, offset)
        if isinstance(placed, str):
            report.not_tagged.append({"path": path, "reason": placed})
            continue
        found.append((file_id, placed))
        report.tagged.append(_tagged(file_id, path, placed))
    if found and not report.dry_run:
        write_transaction(lib, lambda: _store(lib, found), then="no position was recorded")
    return report


def _tagged(file_id: str, path: str, placed: Placed) -> dict:
    """A line of the report's `tagged`."""
    taken = placed.taken_utc
    return {
        "id": uuid_text(file_id), "path": path,
        "taken_utc": None if taken is None else taken.isoformat() + "Z",
        "latitude": round(placed.latitude, 7), "longitude": round(placed.longitude, 7),
        "altitude": None if placed.altitude is None else round(placed.altitude, 1),
        "source": placed.source,
    }  # fmt: skip


def _store(lib, found: list[tuple[str, Placed]]) -> None:
    for file_id, placed in found:
        lib.store.geotags.set(
            file_id, placed.latitude, placed.longitude, placed.altitude, placed.source
        )
    lib.sidecars.note_changed([file_id for file_id, _ in found])


def time_zone(tz: str | None):
    """The named zone (zoneinfo), None for None; BadValue for a name that is none."""
    if tz is None:
        return None
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise BadValue(
            f"--tz: {tz!r} is not a time zone (use a name such as Europe/Paris)"
        ) from None


def utc_instant(start: dt.datetime, offset: int | None, zone) -> dt.datetime | None:
    """The capture instant, in UTC (naive): from the file's offset, else in the time zone
    given (a ZoneInfo); None when neither says."""
    if offset is not None:
        return start - dt.timedelta(minutes=offset)
    if zone is None:
        return None
    local = start.replace(tzinfo=zone)  # fold=0: an ambiguous hour is read as its first
    return local.astimezone(dt.UTC).replace(tzinfo=None)
