"""Positions for photos without one, from the photos taken around them that have one
(`luna geotag --from-photos`): the phone in the pocket beside the camera.

A photo without a position of its own gets the one of the photos with a position of their
own (their file's GPS, never one luna set: a guess is not built on a guess) taken within
`within` of it on the same local day: interpolated along the ground between the nearest one
before and the nearest one after, in proportion to the time from each, when those two agree
(closer together than `max_distance`); the one photo's position when only one is that
near. Two that disagree (the phone took a photo in town, then one 5 km away) say nothing
certain: the photo is reported, not placed.

Which clock to compare: UTC instants where both sides know their offset (the file's, or
`--tz` for the photo being placed); otherwise the local clock times, which the camera and
the phone both show. The photo being placed may have a clock that was wrong
(`clock_offset`, as with tracks); the photos with a position are taken as right.

The photos with a position are read once, in one query, and bisected for each photo to
place: 200,000 files take one pass, not a query each.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_right
from typing import NamedTuple

from luna.ingest.tracks import between
from luna.names import uuid_text
from luna.ops.geotag import (
    GUESSED_DATES,
    GeotagReport,
    Placed,
    place_each,
    time_zone,
    utc_instant,
)
from luna.search.geo import distance_m

SOURCE = "photos"  # the report's; each file's is "photos:ID,ID", the ids of the photos used


class Positioned(NamedTuple):
    """A photo with a position of its own, at a time on one clock (UTC, or the local one)."""

    when: dt.datetime
    day: dt.date  # the local day it was taken
    file_id: str
    latitude: float
    longitude: float
    altitude: float | None


class Timeline:
    """Photos with a position, in the order of one clock, to find those around a moment."""

    def __init__(self, photos: list[Positioned]):
        self.photos = sorted(photos, key=lambda p: p.when)
        self.times = [p.when for p in self.photos]

    def before(self, when: dt.datetime, day: dt.date, within: dt.timedelta):
        """The last photo of `day` at or before `when`, no earlier than `within` before."""
        i = bisect_right(self.times, when) - 1
        while i >= 0 and when - self.times[i] <= within:
            if self.photos[i].day == day:
                return self.photos[i]
            i -= 1  # one of the day before, near midnight: look further back
        return None

    def after(self, when: dt.datetime, day: dt.date, within: dt.timedelta):
        """The first photo of `day` after `when`, no later than `within` after."""
        i = bisect_right(self.times, when)
        while i < len(self.times) and self.times[i] - when <= within:
            if self.photos[i].day == day:
                return self.photos[i]
            i += 1
        return None


class PhotoPositions:
    """Every photo with a position of its own, on the clocks it can be compared on: UTC for
    those whose file says its offset, the local clock for those that do not, and the local
    clock for all (to compare with a photo whose own instant is unknown)."""

    def __init__(self, rows):
        """`rows`: (id, local start, utc_offset or None, latitude, longitude, altitude)."""
        utc, local_only, local = [], [], []
        for file_id, start, offset, latitude, longitude, altitude in rows:
            at = Positioned(start, start.date(), file_id, latitude, longitude, altitude)
            local.append(at)
            if offset is None:
                local_only.append(at)
            else:
                utc.append(at._replace(when=start - dt.timedelta(minutes=offset)))
        self.by_utc = Timeline(utc)
        self.by_clock = Timeline(local_only)
        self.all_by_clock = Timeline(local)

    def around(self, clock: dt.datetime, instant: dt.datetime | None, within: dt.timedelta):
        """The nearest photo at or before the moment and the nearest after it, within
        `within` and on the local day of `clock`, each as (how far in time, photo), or None.
        `clock` is the local time of the photo to place, `instant` its UTC one if known."""
        day = clock.date()
        if instant is None:
            lines = [(self.all_by_clock, clock)]
        else:  # UTC with those that know theirs, the local clock with those that do not
            lines = [(self.by_utc, instant), (self.by_clock, clock)]
        before = [(at - p.when, p) for line, at in lines if (p := line.before(at, day, within))]
        after = [(p.when - at, p) for line, at in lines if (p := line.after(at, day, within))]
        return min(before, default=None), min(after, default=None)


def geotag_from_photos(
    lib, file_ids, *, within, max_distance, tz=None, clock_offset=dt.timedelta(0),
    dry_run=False,
):  # fmt: skip
    """Give each photo or video without a position of its own (among `file_ids`) the
    position of the photos with one taken around it (see above): `within` (a timedelta),
    `max_distance` (metres), `tz` the camera's time zone for files that do not say theirs."""
    zone = time_zone(tz)
    positions = PhotoPositions(lib.store.geotags.positioned(GUESSED_DATES))

    def locate(path: str, start: dt.datetime, offset: int | None) -> Placed | str:
        instant = utc_instant(start, offset, zone)
        if instant is not None:
            instant -= clock_offset
        before, after = positions.around(start - clock_offset, instant, within)
        return _placed(instant, before, after, max_distance)

    return place_each(lib, file_ids, locate, GeotagReport(SOURCE, dry_run=dry_run))


def _placed(instant, before, after, max_distance: float) -> Placed | str:
    """Where the photos around a photo put it, or why they cannot say."""
    if before is None and after is None:
        return "no photo with a position of its own taken near its time"
    if before is None or after is None:
        _, only = before or after
        return Placed(instant, only.latitude, only.longitude, only.altitude, _source(only))
    (to_before, first), (to_after, second) = before, after
    apart = distance_m(first.latitude, first.longitude, second.latitude, second.longitude)
    if apart >= max_distance:
        return f"photos around it are {_distance(apart)} apart"
    # to_after is never zero (a photo at the very moment is the one before), so no 0/0.
    share = to_before / (to_before + to_after)
    latitude, longitude, altitude = between(first, second, share)
    return Placed(instant, latitude, longitude, altitude, _source(first, second))


def _source(*photos: Positioned) -> str:
    return f"{SOURCE}:" + ",".join(uuid_text(p.file_id) for p in photos)


def _distance(metres: float) -> str:
    return f"{metres / 1000:.1f} km" if metres >= 1000 else f"{metres:.0f} m"
