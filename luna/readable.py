"""A file's camera and video facts as photographers say them (`1/15 s`, `f/2.8`, `35 mm
(52 mm equiv.)`, `ISO 400`, `0:02:13`, `29.97 fps`), and the fields `luna find` gives
for them.

The metadata keeps numbers (exposure_time in seconds, f_number, focal_length in mm, iso,
duration_s, frame_rate); only what people read is turned into words, here, so that
`luna show`, `find --format` and `find --fields` say the same thing. Pure functions on
values from the library, which a damaged file may have made of any JSON type: anything
that is not the number expected reads as unknown, never as an error. Standard library
only, and nothing heavy: `luna find` imports this inside shell loops.
"""

from __future__ import annotations

import functools
import math

# The metadata keys a search record carries, as stored (numbers stay numbers): the CSV
# columns and --json keys `luna find` adds to each file's record, after `camera` (made of
# the first two).
RECORD_KEYS = (
    "make",
    "model",
    "lens",
    "iso",
    "exposure_time",
    "f_number",
    "focal_length",
    "focal_length_35mm",
    "duration_s",
    "frame_rate",
    "video_codec",
    "rating",
    "label",
    "title",
    "description",
    "city",
)


def _number(value) -> float | None:
    """A finite number, or None (a bool, a text, a list or NaN is not one)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def _positive(value) -> float | None:
    number = _number(value)
    return number if number is not None and number > 0 else None


def text(value) -> str | None:
    """A metadata value as text, or None when it is missing or blank."""
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    elif isinstance(value, int | float) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        return None
    return value.strip() or None


def _trimmed(number: float, places: int) -> str:
    """2.8 -> "2.8", 4.0 -> "4", 1.4142 -> "1.41" (at most `places` decimals)."""
    shown = f"{number:.{places}f}"
    return shown.rstrip("0").rstrip(".") if "." in shown else shown


# -- what people read ----------------------------------------------------------------------


def exposure(seconds) -> str | None:
    """An exposure time as cameras show it: 1/15 s under a second (the nearest 1/N, or a
    fraction such as 10/13 s when the time is not one), 2.5 s or 30 s from a second on."""
    value = _positive(seconds)
    if value is None:
        return None
    if value >= 1:
        return f"{_trimmed(value, 1)} s"
    denominator = 1 / value
    if abs(denominator - round(denominator)) < 0.05 * denominator or denominator >= 10:
        return f"1/{round(denominator)} s"
    from fractions import Fraction  # only to print exposures: decimal with it is 2.5 ms

    fraction = Fraction(value).limit_denominator(100)  # 0.3 s -> 3/10 s, 0.77 s -> 10/13 s
    return f"{fraction.numerator}/{fraction.denominator} s"


def aperture(f_number) -> str | None:
    """f/2.8, f/11."""
    value = _positive(f_number)
    return None if value is None else f"f/{_trimmed(value, 1)}"


def focal_length(mm, equivalent=None) -> str | None:
    """35 mm, with the 35 mm equivalent when known and different: 4.2 mm (26 mm equiv.)."""
    value, same_frame = _positive(mm), _positive(equivalent)
    if value is None:
        return None if same_frame is None else f"{_trimmed(same_frame, 1)} mm equiv."
    shown = f"{_trimmed(value, 1)} mm"
    if same_frame is not None and abs(same_frame - value) >= 0.5:
        shown += f" ({_trimmed(same_frame, 1)} mm equiv.)"
    return shown


def iso(speed) -> str | None:
    """ISO 400."""
    value = _positive(speed)
    return None if value is None else f"ISO {_trimmed(value, 0)}"


def flash(fired) -> str | None:
    """fired, did not fire; None when the file does not say."""
    if not isinstance(fired, bool):
        return None
    return "fired" if fired else "did not fire"


def duration(seconds) -> str | None:
    """A running time as players show it: 0:02:13 (hours always there, seconds rounded)."""
    value = _number(seconds)
    if value is None or value < 0:
        return None
    minutes, secs = divmod(round(value), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}"


def frame_rate(fps) -> str | None:
    """29.97 fps, 25 fps."""
    value = _positive(fps)
    return None if value is None else f"{_trimmed(value, 2)} fps"


def camera(make, model) -> str | None:
    """Make and model in one, without saying the maker twice: ("Canon", "Canon EOS 5D") ->
    "Canon EOS 5D", ("NIKON CORPORATION", "NIKON D750") -> "NIKON D750", ("Apple",
    "iPhone 8") -> "Apple iPhone 8", ("OLYMPUS IMAGING CORP.", "E-P3") -> "OLYMPUS E-P3".
    None when neither is known."""
    make, model = text(make), text(model)
    if not make or not model:
        return model or make
    first_word = model.split()[0].casefold()
    make_words = {word.strip(".,").casefold() for word in make.split()}
    if first_word in make_words or model.casefold().startswith(make.casefold() + " "):
        return model
    return f"{_brand(make)} {model}"


# Words that makers put after their name in EXIF Make ("CASIO COMPUTER CO.,LTD"), which say
# nothing about the camera and make folder names long.
_COMPANY_WORDS = frozenset({"ab", "ag", "co", "co.,ltd", "company", "computer", "corp",
    "corporation", "electric", "film", "gmbh", "imaging", "inc", "limited", "ltd", "optical",
    "photo", "systems"})  # fmt: skip


def _brand(make: str) -> str:
    """The maker's name without its company suffixes: "PENTAX Corporation" -> "PENTAX"."""
    words = make.split()
    while len(words) > 1 and words[-1].strip(".,").casefold() in _COMPANY_WORDS:
        words.pop()
    return " ".join(words)


# What `luna show` says in words, in the order a photographer reads it: each line's label,
# how it is said, and the metadata keys it is said from.
_SPOKEN = (
    ("camera", camera, ("make", "model")),
    ("lens", text, ("lens",)),
    ("exposure", exposure, ("exposure_time",)),
    ("aperture", aperture, ("f_number",)),
    ("focal length", focal_length, ("focal_length", "focal_length_35mm")),
    ("ISO", iso, ("iso",)),
    ("flash", flash, ("flash_fired",)),
    ("duration", duration, ("duration_s",)),
    ("frame rate", frame_rate, ("frame_rate",)),
    ("codec", text, ("video_codec",)),
)


def readable_lines(metadata: dict) -> tuple[list[tuple[str, str]], set[str]]:
    """The lines `luna show` prints for the camera and video facts it can say in words,
    (label, text), and the metadata keys they say: a value it cannot read (a text where a
    number belongs) is left to be shown as it is."""
    lines: list[tuple[str, str]] = []
    said: set[str] = set()
    for label, say, keys in _SPOKEN:
        shown = say(*(metadata.get(key) for key in keys))
        if shown:
            lines.append((label, shown))
            said.update(keys)
    return lines, said


# -- the fields of a search record ----------------------------------------------------------


def record_fields(found, date_source, said=None, place=None) -> dict:
    """What a search record (find --json, --jsonl, --csv) adds for a file: `camera`, the
    values of RECORD_KEYS as stored (numbers as numbers, a value of the wrong type as
    None) and where the date came from. `found` holds the metadata's values of RECORD_KEYS,
    in that order (luna.store.search reads them so); `said`, what people said in luna
    (luna.store.marks: rating, label, flag, title, description), wins over them; `place`,
    the library's place columns (city, region, country, country_code, place_source), over
    the metadata's city once worked out (luna.ops.places). Written for speed: `find --json`
    makes 20,000 of them."""
    fields = dict(_NO_FIELDS)
    if type(found) is not list or len(found) != len(RECORD_KEYS):
        found = _UNKNOWN
    for key, value, number in zip(RECORD_KEYS, found, _IS_NUMBER, strict=True):
        if value is None:
            continue
        kind = type(value)
        if number:
            if kind is int or (kind is float and -math.inf < value < math.inf):
                fields[key] = value
        elif kind is str:
            fields[key] = value.strip() or None
        else:
            fields[key] = text(value)
    fields["camera"] = _cached_camera(found[0], found[1])
    if isinstance(date_source, str):
        fields["date_source"] = date_source
    if place is not None and place[4] is not None:
        fields["city"], fields["region"], fields["country"], fields["country_code"] = place[:4]
        fields["place_source"] = place[4] or None
    if said is not None and said != _NOTHING_SAID or fields["rating"] is not None:
        _apply_said(fields, said or _NOTHING_SAID)
    elif fields["label"] is not None:
        fields["label"] = fields["label"].lower()
    return fields


_NOTHING_SAID = (None, None, None, None, None)
FLAG_NAMES = {1: "pick", -1: "reject"}  # luna.store.marks' values


def _apply_said(fields: dict, said: tuple) -> None:
    """What people said in luna over the file's values ('' and 0 said "none"). A file's
    rating of -1 (Lightroom's and darktable's reject) is a flag, not a number of stars."""
    rating, label, flag, title, description = said
    file_rating = fields["rating"]
    if file_rating is not None and not 0 <= file_rating <= 5:
        fields["rating"] = None
    if flag is not None:
        fields["flag"] = FLAG_NAMES.get(flag)
    elif file_rating == -1:
        fields["flag"] = "reject"
    if rating is not None:
        fields["rating"] = rating
    if label is not None:
        fields["label"] = label or None
    elif fields["label"] is not None:
        fields["label"] = fields["label"].lower()
    for key, value in (("title", title), ("description", description)):
        if value is not None:
            fields[key] = value or None


MARKS = ("rating", "label", "flag", "title", "description")


def effective_marks(metadata: dict | None, said) -> dict:
    """rating, label, flag, title and description as find's records give them: what people
    said in luna (luna.store.marks' columns, in MARKS' order), else what the file says."""
    metadata = metadata or {}
    fields = record_fields([metadata.get(key) for key in RECORD_KEYS], None, said)
    return {key: fields[key] for key in MARKS}


# Where the file was taken, in words: the metadata's city (RECORD_KEYS' last) until the
# library's place columns say more (luna.ops.places).
PLACE_FIELDS = ("city", "region", "country", "country_code", "place_source")
# The fields record_fields gives, in their order: `flag` ("pick", "reject" or None) after
# the label, the place's after the city.
_KEYS = list(RECORD_KEYS)
SHOT_FIELDS = ("camera", *_KEYS[: _KEYS.index("label") + 1], "flag",
    *_KEYS[_KEYS.index("label") + 1 :], *PLACE_FIELDS[1:], "date_source")  # fmt: skip
_NO_FIELDS = dict.fromkeys(SHOT_FIELDS)
_UNKNOWN = [None] * len(RECORD_KEYS)
# Those that are numbers (int or float), or None: the others are text, or None.
NUMBER_FIELDS = frozenset({"iso", "exposure_time", "f_number", "focal_length",
    "focal_length_35mm", "duration_s", "frame_rate", "rating"})  # fmt: skip
_IS_NUMBER = [key in NUMBER_FIELDS for key in RECORD_KEYS]


@functools.lru_cache(maxsize=1024)
def _camera_of(make, model) -> str | None:
    """camera(), once per make and model: a library has few of them."""
    return camera(make, model)


def _cached_camera(make, model) -> str | None:
    try:
        return _camera_of(make, model)
    except TypeError:  # a list where a name belongs: not hashable, and no camera
        return camera(make, model)


def template_fields(record: dict) -> dict:
    """The fields --format and --fields add to a record: the same facts in words
    (`exposure` 1/15 s, `aperture` f/2.8, `focal_length` 35 mm (52 mm equiv.), `duration`
    0:02:13, `frame_rate` 29.97 fps). `iso` and `rating` stay numbers, to be written
    `ISO {iso}` or compared."""
    return {
        "exposure": exposure(record.get("exposure_time")),
        "aperture": aperture(record.get("f_number")),
        "focal_length": focal_length(record.get("focal_length"), record.get("focal_length_35mm")),
        "duration": duration(record.get("duration_s")),
        "frame_rate": frame_rate(record.get("frame_rate")),
        "iso": _whole(record.get("iso")),
        "rating": _whole(record.get("rating")),
    }


def _whole(value):
    """400.0 -> 400: a whole number as one, whatever type the database gave it."""
    number = _number(value)
    if number is None:
        return None
    return int(number) if number.is_integer() else number
