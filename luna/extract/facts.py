"""What reading one file produces, passed from a worker process back to the importer."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

# Where a date may come from, best first. When several sources offer a date, the best
# one wins; `processor_metadata["date_source"]` records which, so guesses can be found.
DATE_SOURCES = (
    "exif:DateTimeOriginal",
    "exif:CreateDate",
    "exif:ModifyDate",
    "file:mtime",
)
_DATE_RANK = {name: rank for rank, name in enumerate(DATE_SOURCES)}


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
    latitude: float | None = None
    longitude: float | None = None
    altitude: float | None = None
    location_source: str | None = None
    keywords: list[str] = field(default_factory=list)
    metadata: dict = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    extractors: list[str] = field(default_factory=list)

    def offer_date(self, when: dt.datetime, offset: int | None, source: str) -> None:
        """Take this date unless a better source already gave one."""
        rank = _DATE_RANK.get(source, len(DATE_SOURCES))
        if self.date_source is not None and _DATE_RANK.get(self.date_source, 99) <= rank:
            return
        self.start, self.utc_offset, self.date_source = when, offset, source

    def offer_location(self, lat: float, lon: float, alt: float | None, source: str) -> None:
        if self.location_source is None:
            self.latitude, self.longitude, self.altitude = lat, lon, alt
            self.location_source = source

    def add_keyword(self, keyword: str) -> None:
        keyword = keyword.strip()
        if keyword and keyword not in self.keywords:
            self.keywords.append(keyword)


@dataclass(slots=True)
class FileFacts:
    """Everything the importer records about one photo or video."""

    path: str
    size: int
    mtime: float
    uid: int
    content_sha: str
    mime_type: str
    kind: str
    found: Extracted
    processor: dict = field(default_factory=dict)  # becomes `processor_metadata`
