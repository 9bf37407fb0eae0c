"""Positions for photos without one, from GPS tracks (`luna geotag TRACK.gpx`).

A photo's instant is its local capture time less its UTC offset: the file's own offset
where it has one, else the time zone the user names (`--tz Europe/Paris`, daylight saving
included), else nothing is done and the user is asked for one. A camera clock that was
wrong is corrected by `clock_offset` (how far ahead it was). The track then says where one
was at that instant (luna.ingest.tracks), or nothing when no track point is near enough in
time: such photos are reported, never guessed.

Files are never changed: the position is the library's (luna.store.geotags), with its
source, and goes to the XMP sidecar when sidecar writing is on.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from luna.errors import BadValue
from luna.results import Result
from luna.store.sql import write_transaction

GUESSED_DATES = ("filename", "file:mtime")


@dataclass
class GeotagReport(Result):
    """What `luna geotag` did (or would do, with dry_run)."""

    source: str  # "gpx:walk.gpx"
    files: int = 0  # photos and videos looked at
    tagged: list[dict] = field(default_factory=list)  # {"id", "path", "taken_utc", ...}
    own_position: int = 0  # files with a position of their own: left as they are
    not_tagged: list[dict] = field(default_factory=list)  # {"path", "reason"}
    dry_run: bool = False
    skipped: list[str] = field(default_factory=list)  # FILEs not in the library

    @property
    def problems(self):  # type: ignore[override]
        return []  # a photo outside every track is an answer, not a failure


def geotag(lib, track, file_ids, *, max_gap, tz=None, clock_offset=dt.timedelta(0), dry_run=False):
    """Give each photo or video without a position of its own the track's position at its
    instant. BadValue, before anything changes, when a file's instant needs a time zone
    and none was given."""
    zone = time_zone(tz)
    rows = lib.store.geotags.candidates(file_ids)
    report = GeotagReport(track.source, files=len(rows), dry_run=dry_run)
    found = []
    for file_id, path, start, offset, own, date_source in rows:
        if own:
            report.own_position += 1
            continue
        if start is None or date_source in GUESSED_DATES:
            why = "no capture date" if start is None else f"its date is a guess ({date_source})"
            report.not_tagged.append({"path": path, "reason": why})
            continue
        instant = _utc(start, offset, zone, path) - clock_offset
        position = track.position_at(instant, max_gap)
        if position is None:
            report.not_tagged.append({"path": path, "reason": "no track point near its time"})
            continue
        latitude, longitude, altitude = position
        found.append((file_id, latitude, longitude, altitude))
        report.tagged.append(
            {
                "id": file_id, "path": path, "taken_utc": instant.isoformat() + "Z",
                "latitude": round(latitude, 7), "longitude": round(longitude, 7),
                "altitude": None if altitude is None else round(altitude, 1),
            }
        )  # fmt: skip
    if found and not dry_run:
        write_transaction(
            lib, lambda: _store(lib, found, track.source), then="no position was recorded"
        )
    return report


def _store(lib, found: list[tuple], source: str) -> None:
    for file_id, latitude, longitude, altitude in found:
        lib.store.geotags.set(file_id, latitude, longitude, altitude, source)
    lib.sidecars.note_changed([row[0] for row in found])


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


def _utc(start: dt.datetime, offset: int | None, zone, path: str) -> dt.datetime:
    """The capture instant, in UTC (naive)."""
    if offset is not None:
        return start - dt.timedelta(minutes=offset)
    if zone is None:
        raise BadValue(
            f"{path} does not say its time zone: give the camera's with --tz (such as "
            "--tz Europe/Paris); nothing was changed"
        )
    local = start.replace(tzinfo=zone)  # fold=0: an ambiguous hour is read as its first
    return local.astimezone(dt.UTC).replace(tzinfo=None)
