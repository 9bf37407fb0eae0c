"""Dates in the names phones, cameras and apps give files: a fallback for files whose
metadata has no date (WhatsApp strips EXIF, screenshots never had it).

Recognised, among others:
    IMG_20190601_123456.jpg   VID_20190601_123456.mp4   PXL_20190601_123456789.jpg
    20190601_123456.jpg       IMG-20190601-WA0007.jpg   Screenshot_2019-06-01-12-34-56.png
    Screenshot_20190601-123456.png   "Screenshot 2019-06-01 at 12.34.56.png"
    "Screen Shot 2019-06-01 at 1.34.56 PM.png"   "2019-06-01 12.34.56.jpg"
    signal-2019-06-01-123456.jpg   PANO_20190601_123456.jpg
"""

from __future__ import annotations

import datetime as dt
import re

# A date (year 1990-2099, month, day), optionally followed by a time. Separators between
# the parts may be "-", "_", ".", " " or nothing; digits must not run on either side, so
# a long serial number never reads as a date.
_DATE_TIME = re.compile(
    r"(?<!\d)(?P<y>(?:19|20)\d{2})[-_. ]?(?P<m>\d{2})[-_. ]?(?P<d>\d{2})"
    r"(?:(?:[-_ T]|\s*at\s*|_-_)"
    r"(?P<H>\d{1,2})[-_.:h ]?(?P<M>\d{2})[-_.:m ]?(?P<S>\d{2})(?:\d{1,3})?"
    r"(?:\s*(?P<ampm>[AaPp][Mm]))?)?"
    r"(?!\d)"
)


def date_from_filename(name: str) -> tuple[dt.datetime, bool] | None:
    """(date, has_time) from a file name, or None. A date alone means midnight."""
    for m in _DATE_TIME.finditer(name):
        when = _to_datetime(m)
        if when is not None:
            return when, m.group("H") is not None
    return None


def _to_datetime(m: re.Match) -> dt.datetime | None:
    year, month, day = int(m.group("y")), int(m.group("m")), int(m.group("d"))
    hour = minute = second = 0
    if m.group("H") is not None:
        hour, minute, second = int(m.group("H")), int(m.group("M")), int(m.group("S"))
        ampm = (m.group("ampm") or "").lower()
        if ampm == "pm" and hour < 12:
            hour += 12
        elif ampm == "am" and hour == 12:
            hour = 0
    try:
        when = dt.datetime(year, month, day, hour, minute, second)
    except ValueError:
        return None
    # A name date in the future is a serial number that looks like one.
    if when > dt.datetime.now() + dt.timedelta(days=2):
        return None
    return when
