"""What reading one file produces, passed from a worker process back to the importer."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

# Where a date may come from, best first (the README documents this order). When several
# sources offer a date, the best one wins; `processor_metadata["date_source"]` records
# which, so every file whose date is a guess can be found. Sources not listed rank after
# the listed metadata sources and before the file name.
DATE_SOURCES = (
    "exif:DateTimeOriginal",  # the camera's "taken" time
    "quicktime:CreationDate",  # Apple's com.apple.quicktime.creationdate, local + zone
    "video:RecordedDate",  # a container's own recording date (MTS, AVI, DV, MKV)
    "quicktime:CreateDate",  # mvhd/tkhd creation time: UTC by specification
    "raw:DateTimeOriginal",  # a RAW format's own date field (CIFF, RAF, X3F, ...)
    "exif:CreateDate",  # DateTimeDigitized
    # A device's own block, for cameras whose EXIF has no date (luna.ingest.extract.makers):
    "flir:DateTimeOriginal",  # FLIR thermal cameras' CameraInfo record, with its zone
    "reconyx:DateTimeOriginal",  # Reconyx trail cameras' maker note: the trigger time
    "casio:DateTimeOriginal",  # the APP1 "QVCI" block of early Casio QV cameras
    "xmp:DateTimeOriginal",  # embedded XMP: exif:DateTimeOriginal, photoshop:DateCreated
    "iptc:DateCreated",  # IPTC 2:55 Date Created + 2:60 Time Created
    "jpeg:PictureInfo",  # the APP12 text block of old Olympus and Agfa cameras
    "xmp:CreateDate",  # embedded XMP: xmp:CreateDate
    "png:CreationTime",  # PNG "Creation Time" text chunk
    "sidecar:DateTimeOriginal",  # the same, from an XMP sidecar (IMG_1.jpg.xmp, IMG_1.xmp)
    "sidecar:CreateDate",
    # The GPS receiver's clock (EXIF GPSDateStamp + GPSTimeStamp, XMP exif:GPSTimeStamp):
    # the moment of the fix, in UTC, so the date is UTC (utc_offset 0). A capture date
    # beats it; a time of saving does not.
    "gps:DateTime",
    # A Google Takeout's JSON, photoTakenTime (luna.ops.takeout): better than a time of
    # saving or a guess, never than the file's own capture date.
    "takeout:photoTakenTime",
    # IFD0 DateTime is when software last saved the file, not when the picture was taken:
    # every source that describes the capture ranks above it.
    "exif:ModifyDate",
    "filename",  # IMG_20190601_123456.jpg, PXL_..., IMG-20190601-WA0007.jpg, Screenshot_...
    "file:mtime",  # last resort: when the file was last modified
)
_DATE_RANK = {name: rank for rank, name in enumerate(DATE_SOURCES)}
_UNLISTED_RANK = _DATE_RANK["filename"] - 0.5


class FileFailed(Exception):
    """This file cannot be recorded; the message says why, in a few words."""


@dataclass(slots=True)
class Skipped:
    """Not a photo or video (the reason says what it is instead)."""

    path: str
    reason: str


@dataclass(slots=True)
class Extracted:
    """Metadata found in a file, filled by the format's extractor."""

    width: int | None = None
    height: int | None = None
    start: dt.datetime | None = None
    end: dt.datetime | None = None
    utc_offset: int | None = None
    date_source: str | None = None
    # "day", "month" or "year" when the date says no more (XMP "2019-09-02", "2019-09",
    # "2019"; IPTC Date Created without Time Created); None for a date with its time.
    date_precision: str | None = None
    offset_source: str | None = None  # what told us utc_offset
    gps_utc: dt.datetime | None = None  # GPS date+time stamp: UTC, gives the zone
    latitude: float | None = None
    longitude: float | None = None
    altitude: float | None = None
    location_source: str | None = None
    keywords: list[str] = field(default_factory=list)
    metadata: dict = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    extractors: list[str] = field(default_factory=list)
    sidecars: list[str] = field(default_factory=list)  # sidecar files that were read

    def offer_date(
        self, when: dt.datetime, offset: int | None, source: str, precision: str | None = None
    ) -> None:
        """Take this date unless a better source already gave one. A date without a time
        (`precision` "day", "month" or "year") is given as the start of that period."""
        rank = _DATE_RANK.get(source, _UNLISTED_RANK)
        if (
            self.date_source is not None
            and _DATE_RANK.get(self.date_source, _UNLISTED_RANK) <= rank
        ):
            return
        self.start, self.utc_offset, self.date_source = when, offset, source
        self.date_precision = precision
        self.offset_source = source if offset is not None else None

    def offer_location(self, lat: float, lon: float, alt: float | None, source: str) -> None:
        """Take this position unless one was already found (callers go best first).

        Latitude and longitude both exactly 0 is what a receiver without a fix writes (the
        point in the Gulf of Guinea nobody photographs): no position, and noted as such."""
        if lat == 0 and lon == 0:
            self.note_no_fix(f"{source}: position 0, 0 (a receiver without a fix)")
            return
        if self.location_source is None:
            self.latitude, self.longitude, self.altitude = lat, lon, alt
            self.location_source = source

    def note_no_fix(self, why: str) -> None:
        """A GPS block that holds no position: metadata["gps_note"] says why."""
        self.metadata.setdefault("gps_note", why)

    def end_from_duration(self) -> None:
        """A video or sound ends its duration after its start, whichever source gave the
        start (the container, a sidecar, the file name or the file's time)."""
        seconds = self.metadata.get("duration_s")
        if self.start is None or not isinstance(seconds, (int, float)) or seconds <= 0:
            return
        try:
            self.end = self.start + dt.timedelta(seconds=seconds)
        except OverflowError:
            message = f"duration of {seconds:g} s ends after the year 9999"
            if message not in self.errors:
                self.errors.append(message)

    def add_keyword(self, keyword: str) -> None:
        keyword = keyword.strip()
        if keyword and keyword not in self.keywords:
            self.keywords.append(keyword)


@dataclass(slots=True)
class FileFacts:
    """Everything the importer records about one photo or video."""

    path: str
    size: int
    mtime_ns: int
    uid: int
    content_sha: str
    mime_type: str
    kind: str
    found: Extracted
    # The `metadata` and `processor_metadata` columns, encoded by the worker that read the
    # file: the main process, which records every file, has the least time to spare.
    metadata_json: str = "{}"
    processor_json: str = "{}"
