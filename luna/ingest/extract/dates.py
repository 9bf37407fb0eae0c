"""Reading the date strings cameras write, and refusing the invalid ones."""

from __future__ import annotations

import datetime as dt
import re

# "2019:06:01 12:34:56", with "-" or "/" instead of ":" in the date part as some software
# writes, optional fractional seconds and an optional zone ("Z", "+02:00").
_EXIF_DATE = re.compile(
    r"^\s*(\d{4})[:\-/](\d{2})[:\-/](\d{2})[ T](\d{2}):(\d{2})(?::(\d{2}))?"
    r"(?:\.(\d{1,6}))?\s*(Z|[+-]\d{2}:?\d{2})?\s*$"
)
_OFFSET = re.compile(r"^\s*([+-])(\d{2}):?(\d{2})\s*$")

# Cameras with a flat clock battery write 1970 or 2000-01-01; neither is a real date taken,
# but both are possible in principle, so only the impossible ones are refused.
EARLIEST_YEAR = 1826  # the oldest surviving photograph


def _text(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, bytes):
        value = value.decode("ascii", "replace")
    if isinstance(value, (tuple, list)):
        value = value[0] if value else ""
    return str(value).replace("\x00", "").strip() or None


def parse_exif_datetime(value) -> tuple[dt.datetime, int | None] | None:
    """(naive local datetime, UTC offset in minutes or None), or None if absent or invalid.

    `0000:00:00 00:00:00`, blank fields, month 13 and garbage bytes all count as absent.
    """
    text = _text(value)
    if not text:
        return None
    m = _EXIF_DATE.match(text)
    if not m:
        return None
    year, month, day, hour, minute = (int(m.group(i)) for i in range(1, 6))
    second = int(m.group(6) or 0)
    micro = int((m.group(7) or "0").ljust(6, "0"))
    if year < EARLIEST_YEAR:
        return None
    try:
        when = dt.datetime(year, month, day, hour, minute, min(second, 59), micro)
    except ValueError:
        return None
    offset = parse_offset(m.group(8)) if m.group(8) else None
    return when, offset


def parse_offset(value) -> int | None:
    """Minutes east of UTC from "+02:00", "-0500" or "Z"; None if absent or invalid."""
    text = _text(value)
    if not text:
        return None
    if text == "Z":
        return 0
    m = _OFFSET.match(text)
    if not m:
        return None
    sign = -1 if m.group(1) == "-" else 1
    hours, minutes = int(m.group(2)), int(m.group(3))
    if hours > 14 or minutes >= 60:
        return None
    return sign * (hours * 60 + minutes)


def with_subseconds(when: dt.datetime, subsec) -> dt.datetime:
    """Apply EXIF SubSecTimeOriginal ("123" means .123 s) when the date has none."""
    text = _text(subsec)
    if not text or when.microsecond or not text.isdigit():
        return when
    return when.replace(microsecond=int(text[:6].ljust(6, "0")))


def local_from_timestamp(ts: float) -> tuple[dt.datetime, int]:
    """The machine's local wall-clock time for a Unix timestamp, and that zone's offset."""
    aware = dt.datetime.fromtimestamp(ts).astimezone()
    offset = aware.utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset is not None else 0
    return aware.replace(tzinfo=None), minutes
