"""Values typed after an option, read one way by every command: dates and times,
durations, sizes, places, distances, kinds and counts, each with its range.

Each function takes the text and the option's name, and returns the value or raises
BadValue (exit code 2) with one line naming the option and the value and saying what is
expected: the same mistake gets the same answer whichever command it is typed to
(`--older-than 5x` and `--gap 5x`, `--after 2019-13` and `--start 2019-13-01`). A number
out of its range is the same kind of line, never a traceback from deep in the code.

`luna find` parses its options here, so this module imports only what find loads anyway.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import NamedTuple

from luna.errors import BadValue

# The largest integer SQLite stores: counts, limits, offsets and sizes stop there.
MAX_INTEGER = 2**63 - 1

KINDS = ("photo", "video", "sidecar")


def _not_a(option: str, text: str, what: str, forms: str) -> BadValue:
    return BadValue(f"{option}: {text!r} is not {what} (use {forms})")


def _out_of_range(option: str, text: str, allowed: str) -> BadValue:
    return BadValue(f"{option}: {text!r} is out of range (use {allowed})")


def optional(parse, text: str | None, option: str):
    """`parse(text, option)`, or None for an option that was not given."""
    return None if text is None else parse(text, option)


def each(parse, texts: list[str] | None, option: str) -> list:
    """Every value of a repeatable option, each read by `parse`."""
    return [parse(text, option) for text in texts or []]


# -- text -------------------------------------------------------------------------------


def nonempty(text: str, option: str) -> str:
    """The text itself, unless it is empty or only spaces: `--album "$ALBUM"` with an unset
    variable must not quietly mean "no filter" and list everything."""
    if not text.strip():
        raise BadValue(f"{option}: empty value")
    return text


def kind(text: str, option: str = "--kind") -> str:
    """photo, video or sidecar."""
    if nonempty(text, option) not in KINDS:
        raise _not_a(option, text, "a kind", "photo, video or sidecar")
    return text


# The colour labels of Lightroom, Bridge, digiKam and darktable, as luna names them.
LABELS = ("red", "yellow", "green", "blue", "purple")


def label(text: str, option: str = "--label") -> str:
    """A colour label (any case), or "none"."""
    name = nonempty(text, option).strip().lower()
    if name not in (*LABELS, "none"):
        raise _not_a(option, text, "a colour label", ", ".join((*LABELS, "none")))
    return name


# -- numbers ----------------------------------------------------------------------------


def count(text: str, option: str, low: int = 0, high: int = MAX_INTEGER) -> int:
    """A whole number from `low` to `high` (--limit, --offset, --jobs, --min-files...)."""
    allowed = f"{low} to {high}"
    if not re.fullmatch(r"\s*[+-]?\d+\s*", nonempty(text, option)):
        raise _not_a(option, text, "a whole number", allowed)
    value = int(text)
    if not low <= value <= high:
        raise _out_of_range(option, text, allowed)
    return value


def number(text: str, option: str, low: float, high: float) -> float:
    """A decimal number from `low` to `high` (--timeout)."""
    try:
        value = float(nonempty(text, option))
    except ValueError:
        value = math.nan
    allowed = f"{low:g} to {high:g}"
    if math.isnan(value):
        raise _not_a(option, text, "a number", allowed)
    if not low <= value <= high:
        raise _out_of_range(option, text, allowed)
    return value


# -- dates and times --------------------------------------------------------------------

WHEN_FORMS = (
    "2019, 2019-06, 2019-06-01, 2019-06-01T14:00 or 2019-06-01 14:00:00, optionally with a "
    "UTC offset such as +02:00 or Z"
)
# Patterns as text, compiled (and cached by re) on first use: `luna find` without a date
# would otherwise compile them on every run.
_WHEN = (
    r"(\d{4})(?:-(\d{1,2})(?:-(\d{1,2})"
    r"(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?)?)?)?"
    r"\s*(Z|[+-]\d{2}:?\d{2})?"
)
MAX_OFFSET_MINUTES = 14 * 60  # UTC-14:00 to UTC+14:00, as EXIF offsets are read


class When(NamedTuple):
    """A date or time as typed. `moment` is the first instant it names and `after` the
    first instant after it: 2019-06 names all of June, 2019-06-01 that day, 14:00 that
    minute. `date_only` when no time was given. The UTC offset is kept as typed, not
    applied: luna compares local wall-clock times."""

    moment: dt.datetime
    after: dt.datetime
    utc_offset: int | None = None
    date_only: bool = False


def when(text: str, option: str) -> When:
    """A partial or full date, or a date and time: 2019, 2019-06, 2019-06-01,
    2019-06-01T14:00, 2019-06-01 14:00:05.5, each optionally with a UTC offset (+02:00,
    -0500, Z) once the day is given."""
    m = re.fullmatch(_WHEN, nonempty(text, option).strip())
    if not m or (m.group(8) and m.group(3) is None):
        raise _not_a(option, text, "a date", WHEN_FORMS)
    year, month, day, hour, minute, second = (int(g) if g else None for g in m.groups()[:6])
    micro = int((m.group(7) or "0").ljust(6, "0"))
    assert year is not None  # the pattern requires it
    try:
        moment = dt.datetime(year, month or 1, day or 1, hour or 0, minute or 0, second or 0, micro)
        after = _after(moment, month, day, minute, second)
    except (ValueError, OverflowError):  # 2019-13, 2019-02-30, 25:00, the year 9999's end
        raise _not_a(option, text, "a date", WHEN_FORMS) from None
    offset = _offset(m.group(8), text, option) if m.group(8) else None
    return When(moment, after, offset, date_only=hour is None)


def _after(moment: dt.datetime, month, day, minute, second) -> dt.datetime:
    """The first instant after the span a date or time names, to its precision."""
    first = moment.replace(microsecond=0)
    if second is not None:
        return first + dt.timedelta(seconds=1)
    if minute is not None:
        return first + dt.timedelta(minutes=1)
    if day is not None:
        return first + dt.timedelta(days=1)
    if month is not None:
        return first.replace(year=first.year + (first.month == 12), month=first.month % 12 + 1)
    return first.replace(year=first.year + 1)


def _offset(text: str, typed: str, option: str) -> int:
    """Minutes east of UTC from "+02:00", "-0500" or "Z"."""
    if text == "Z":
        return 0
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:])
    total = hours * 60 + minutes
    if minutes >= 60 or total > MAX_OFFSET_MINUTES:
        raise BadValue(f"{option}: {typed!r} has an impossible UTC offset (use -14:00 to +14:00)")
    return sign * total


# -- durations --------------------------------------------------------------------------

DURATION_FORMS = "90s, 30m, 2h, 3d or 1w"
_DURATION = r"(\d+(?:\.\d+)?)\s*([smhdw])"
_SECONDS_PER = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
MAX_DURATION = dt.timedelta(days=36500)  # a hundred years: longer than any library


def duration(text: str, option: str) -> dt.timedelta:
    """A length of time: 90s, 30m, 2h, 3d, 1w (seconds to weeks; decimals allowed); more
    than zero and at most 36500d."""
    m = re.fullmatch(_DURATION, nonempty(text, option).strip().lower())
    if not m:
        raise _not_a(option, text, "a duration", DURATION_FORMS)
    seconds = float(m.group(1)) * _SECONDS_PER[m.group(2)]
    if not 0 < seconds <= MAX_DURATION.total_seconds():
        raise _out_of_range(option, text, f"more than 0s, up to {MAX_DURATION.days}d")
    return dt.timedelta(seconds=seconds)


_CLOCK_PART = re.compile(r"(\d+(?:\.\d+)?)([smhd])")


def clock_offset(text: str, option: str = "--clock-offset") -> dt.timedelta:
    """How far a camera's clock was ahead (+) or behind (-): +1m30s, -1h, 45s; at most a
    year either way."""
    written = nonempty(text, option).strip().lower()
    sign = -1 if written.startswith("-") else 1
    body = written.lstrip("+-")
    parts = _CLOCK_PART.findall(body)
    if not parts or "".join(n + u for n, u in parts) != body:
        raise _not_a(option, text, "a clock offset", "+1m30s, -1h, 45s")
    seconds = sum(float(n) * _SECONDS_PER[u] for n, u in parts)
    if seconds > 366 * 86400:
        raise _out_of_range(option, text, "at most 366d either way")
    return dt.timedelta(seconds=sign * seconds)


# -- sizes ------------------------------------------------------------------------------

SIZE_FORMS = "500k, 2MB, 1.5GiB or a number of bytes"
_SIZE = r"(\d+(?:\.\d+)?)\s*([kmgt]?i?b?)"


def size(text: str, option: str) -> int:
    """Bytes from "2MB" (10^6), "2MiB" (2^20), "500k", "1.5GB", or a bare number of bytes;
    at most 2^63-1 (SQLite's largest integer)."""
    m = re.fullmatch(_SIZE, nonempty(text, option).strip(), re.IGNORECASE)
    if not m:
        raise _not_a(option, text, "a size", SIZE_FORMS)
    digits, unit = m.group(1), m.group(2).lower()
    letter = unit[:1] if unit[:1] in ("k", "m", "g", "t") else ""
    power = "kmgt".index(letter) + 1 if letter else 0
    factor = (1024 if "i" in unit else 1000) ** power
    # Whole numbers are multiplied exactly: 9007199254740993 bytes is not rounded.
    value = int(digits) * factor if digits.isdigit() else int(float(digits) * factor)
    if value > MAX_INTEGER:
        raise _out_of_range(option, text, f"0 to {MAX_INTEGER} bytes")
    return value


# -- places and distances ---------------------------------------------------------------

# Metres per unit; the keys are matched case-insensitively.
_DISTANCE_UNITS = {"": 1.0, "m": 1.0, "km": 1000.0, "mi": 1609.344, "ft": 0.3048, "nm": 1852.0}
DISTANCE_FORMS = (
    "use a number with an optional unit: 500m, 2km, 1.5mi, 300ft, 2nm (nautical miles);"
    " a bare number is metres"
)


def _coordinate(text: str, what: str, limit: float, option: str) -> float:
    """A finite number within ±limit; the Unicode minus sign (copied from web pages) is
    fine."""
    cleaned = text.strip().replace("\u2212", "-")
    try:
        value = float(cleaned)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise BadValue(f"{option}: {what} {cleaned!r} is not a number")
    if not -limit <= value <= limit:
        raise BadValue(f"{option}: {what} {text.strip()} is outside -{limit:g}..{limit:g}")
    return value


def point(text: str, option: str = "--near") -> tuple[float, float]:
    """(lat, lon) from "48.85,2.35" (spaces allowed), range-checked."""
    parts = nonempty(text, option).split(",")
    if len(parts) != 2 or not all(part.strip() for part in parts):
        raise BadValue(f"{option}: place {text!r} is not LAT,LON (for example 48.85,2.35)")
    return (
        _coordinate(parts[0], "latitude", 90.0, option),
        _coordinate(parts[1], "longitude", 180.0, option),
    )


def bbox(text: str, option: str = "--bbox") -> tuple[float, float, float, float]:
    """(south, west, north, east) from "S,W,N,E"; west > east crosses the antimeridian."""
    parts = nonempty(text, option).split(",")
    if len(parts) != 4 or not all(part.strip() for part in parts):
        raise BadValue(
            f"{option}: box {text!r} is not SOUTH,WEST,NORTH,EAST (for example 48.8,2.2,48.9,2.5)"
        )
    south = _coordinate(parts[0], "south latitude", 90.0, option)
    west = _coordinate(parts[1], "west longitude", 180.0, option)
    north = _coordinate(parts[2], "north latitude", 90.0, option)
    east = _coordinate(parts[3], "east longitude", 180.0, option)
    if south > north:
        raise BadValue(
            f"{option}: box {text.strip()!r} has south {parts[0].strip()} above north "
            f"{parts[2].strip()}; the order is SOUTH,WEST,NORTH,EAST"
        )
    return south, west, north, east


def distance(text: str, option: str = "--radius") -> float:
    """Metres from "500m", "2km", "1.5mi", "300 ft", "2 nm" or a bare number of metres;
    more than zero (a radius past half the Earth's circumference covers all of it)."""
    cleaned = nonempty(text, option).strip()
    body = cleaned.replace("\u2212", "-")
    end = len(body)
    while end and body[end - 1].isalpha():
        end -= 1
    digits, unit = body[:end].strip(), body[end:].lower()
    factor = _DISTANCE_UNITS.get(unit)
    try:
        value = float(digits) if factor is not None and digits else math.nan
    except ValueError:
        value = math.nan
    if factor is None or not math.isfinite(value):
        raise BadValue(f"{option}: distance {cleaned!r} is not understood; {DISTANCE_FORMS}")
    if value <= 0:
        raise BadValue(
            f"{option}: distance {cleaned!r} must be greater than zero; {DISTANCE_FORMS}"
        )
    metres = value * factor
    if not math.isfinite(metres):
        raise BadValue(f"{option}: distance {cleaned!r} is too large; {DISTANCE_FORMS}")
    return metres


# -- ranges -----------------------------------------------------------------------------


class Range(NamedTuple):
    """From `low` to `high`, both included; None on a side that is open."""

    low: float | None
    high: float | None


def value_range(
    text: str, option: str, parse, what: str, example: str, *, low: float = 0.0
) -> Range:
    """A range as typed after --iso, --focal, --aperture, --rating and --duration: one
    value (400: that value), two joined by a hyphen (100-800), or one side only (400-: at
    least 400; -800: at most 800). `parse(text)` reads one value (None if it cannot) and
    nothing below `low` is one; the low end must not be above the high one."""
    cleaned = nonempty(text, option).strip().replace("\u2212", "-").replace("\u2013", "-")
    forms = f"{example}, or one side only ({example.split('-')[0]}- or -{example.split('-')[1]})"
    first, hyphen, second = cleaned.partition("-")
    sides = [first.strip(), second.strip()] if hyphen else [first.strip(), first.strip()]
    if not any(sides) or (hyphen and "-" in second):
        raise _not_a(option, text, what, forms)
    bounds = []
    for side in sides:
        value = parse(side) if side else None
        if side and (value is None or not math.isfinite(value) or value < low):
            raise _not_a(option, text, what, forms)
        bounds.append(value)
    if bounds[0] is not None and bounds[1] is not None and bounds[0] > bounds[1]:
        raise BadValue(f"{option}: {text!r} goes from high to low (use {example})")
    return Range(bounds[0], bounds[1])


def _plain_number(text: str, unit: str = "") -> float | None:
    """A decimal number, with `unit` after it if one is given (35mm, 35 mm, 35)."""
    text = text.strip().lower()
    if unit and text.endswith(unit):
        text = text[: -len(unit)].strip()
    if not re.fullmatch(r"\d+(?:\.\d+)?|\.\d+", text):
        return None
    return float(text)


def iso_range(text: str, option: str = "--iso") -> Range:
    """ISO speeds: 400, 100-800, 1600-, -200."""
    return value_range(text, option, _plain_number, "an ISO range", "100-800")


def focal_range(text: str, option: str = "--focal") -> Range:
    """Focal lengths in mm: 24-70, 50, 200-, -35 (mm after a number is allowed)."""
    return value_range(
        text, option, lambda side: _plain_number(side, "mm"), "a focal length range", "24-70"
    )


def aperture_range(text: str, option: str = "--aperture") -> Range:
    """f-numbers: 1.4-2.8, 8, -2 (f/ before a number is allowed)."""
    return value_range(
        text,
        option,
        lambda side: _plain_number(side.lower().removeprefix("f/")),
        "an aperture range",
        "1.4-2.8",
    )


def rating_range(text: str, option: str = "--rating") -> Range:
    """Stars: 5, 3-5, 4- (at least 4), -1 (up to 1); 0 to 5."""
    found = value_range(text, option, _plain_number, "a rating", "3-5")
    if any(bound is not None and bound > 5 for bound in found):
        raise _out_of_range(option, text, "0 to 5 stars")
    return found


def duration_range(text: str, option: str = "--duration") -> Range:
    """Lengths in seconds, written as durations are (luna.values.duration): 30s-2m, 1h-,
    -90s, 10m."""

    def seconds(side: str) -> float | None:
        try:
            return duration(side, option).total_seconds()
        except BadValue:
            return None

    return value_range(text, option, seconds, "a duration range", "30s-2m")


# -- where a date came from -------------------------------------------------------------

# The families of luna.ingest.extract.facts.DATE_SOURCES ("exif" for exif:DateTimeOriginal,
# exif:CreateDate...), as --date-source names them (tests/test_fields.py checks that every
# source has one), and the words that stand for several.
DATE_SOURCE_FAMILIES = ("exif", "quicktime", "video", "raw", "flir", "reconyx", "casio",
    "xmp", "iptc", "jpeg", "png", "sidecar", "gps", "takeout", "filename", "file")  # fmt: skip
# The dates that are not when the picture was taken (a time of saving, a guess): a date luna
# was given for the file (a Google Takeout's) is worth more.
NOT_CAPTURE_DATES = ("exif:ModifyDate", "filename", "file:mtime")
DATE_SOURCE_WORDS = {
    "guessed": ("filename", "file:mtime"),  # no file said when it was taken
    "mtime": ("file:mtime",),
    "none": (),  # no date at all
}
DATE_SOURCE_FORMS = (
    "exif, quicktime, video, raw, xmp, iptc, jpeg, png, sidecar, filename, mtime, guessed, "
    "none, or a full source such as exif:DateTimeOriginal"
)


def date_source(text: str, option: str = "--date-source") -> str:
    """Where a date came from, as --date-source takes it: a family (exif), a word that
    stands for several (guessed, mtime, none) or one full source (exif:CreateDate); in
    lower case, as it is compared."""
    cleaned = nonempty(text, option).strip().lower()
    family, colon, name = cleaned.partition(":")
    known = family in DATE_SOURCE_FAMILIES or (not colon and cleaned in DATE_SOURCE_WORDS)
    if not known or (name and not re.fullmatch(r"[a-z0-9_]+", name)):
        raise _not_a(option, text, "a date source", DATE_SOURCE_FORMS)
    return cleaned if name else family  # "exif:" is the family


# Where a position may come from: the file (EXIF, XMP, a sidecar, a video's container), or
# luna geotag (gpx:, kml:, geojson: a track; tracks: several of different formats; photos:
# the photos taken around it).
LOCATION_SOURCE_FAMILIES = ("exif", "xmp", "sidecar", "video", "quicktime", "raw", "flir",
    "gpx", "kml", "geojson", "tracks", "photos", "takeout", "none")  # fmt: skip


def location_source(text: str, option: str = "--location-source") -> str:
    """Where a position came from: a family (gpx, photos, exif...), "none" (no position), or
    one full source (gpx:walk.gpx, exif:GPS); in lower case, as it is compared."""
    cleaned = nonempty(text, option).strip().lower()
    family = cleaned.partition(":")[0]
    if family not in LOCATION_SOURCE_FAMILIES or (family == "none" and cleaned != "none"):
        raise _not_a(option, text, "a location source", ", ".join(LOCATION_SOURCE_FAMILIES))
    return cleaned


def words(text: str, option: str = "--text") -> list[str]:
    """The words of --text, in lower case: each must be found (any case)."""
    return nonempty(text, option).lower().split()
