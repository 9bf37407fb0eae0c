"""Google Photos' Takeout: which JSON file describes which photo, and what it says.

A Takeout holds, in `Takeout/Google Photos/`, a folder per year ("Photos from 2019", in
the account's language) and one per album, each photo beside a JSON file holding what
Google knew of it: when it was taken (UTC), where, its description, whether it was a
favourite, archived or in the bin, and the people in it. Album folders hold copies of the
year folders' photos, and a `metadata.json` (in the account's language too) titling the
album. Nothing here opens a file: the callers hand names and bytes in (from zip parts or
folders alike), so that all of it is pure and tested on names alone.

Which JSON is a photo's changed with the years; each rule below is one generation or quirk:
- `IMG_1.jpg.json`, and since 2024 `IMG_1.jpg.supplemental-metadata.json`;
- a JSON name is cut to a fixed length before `.json` (46 to 51 characters by generation),
  anywhere: inside the suffix (`IMG_..._Instagram.jpg.supple.json`, `....jpg..json`) or
  inside the photo's own name (`...PORTRAIT.ORIGINAL_lo.json`);
- a second photo of the same name in a folder is `IMG_1(1).jpg`, its JSON
  `IMG_1.jpg(1).json` (or `IMG_1.jpg.supplemental-metadata(1).json`);
- some JSON names leave the photo's extension out (`IMG_1.json`);
- an edited copy (`IMG_1-edited.jpg`, `-bearbeitet`, `-modifié`...) has no JSON of its own:
  it shares the original's;
- a Live Photo's video (`IMG_1.MP`, `IMG_1.MOV`) shares its still's.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import unicodedata
from dataclasses import dataclass, field
from typing import NamedTuple, TypeGuard

SUPPLEMENTAL = "supplemental-metadata"
# Google cuts a JSON name before ".json" at 46 characters in the oldest Takeouts and at up
# to 51 in the newest: a name this long may be cut, and then names a prefix of its photo.
SHORTEST_CUT = 46

# What Google Photos adds to an edited copy's name, in the languages people reported.
EDITED_SUFFIXES = (
    "-edited", "-bearbeitet", "-modifié", "-modifie", "-modificato", "-editado", "-editada",
    "-bewerkt", "-redigerad", "-redigeret", "-redigert", "-muokattu", "-upraveno",
    "-edytowane", "-szerkesztett", "-editat", "-düzenlendi", "-изменено", "-編集済み", "-编辑",
    "-편집됨",
)  # fmt: skip

# The video of a Live Photo or Motion Photo beside its still.
LIVE_VIDEO_EXTENSIONS = (".mp", ".mov", ".mp4")

_NUMBERED = re.compile(r"^(?P<name>.*)\((?P<n>\d+)\)$", re.DOTALL)

# The year folders, in the account's language: "Photos from 2019", "Fotos von 2019",
# "Photos de 2019", "Foto del 2019", "Zdjęcia z 2019"... and the date folders of the oldest
# Takeouts ("2019-06-01", "2019-06-01 #2"). A few words, then a year, and nothing of an
# album's own; an album named like one still counts when its metadata titles it otherwise.
_YEAR_FOLDER = re.compile(r"^(?:[^\W\d_][\w'’.]*\s){1,3}(?:19|20)\d\d(?:\s?г\.?)?$")
_DATE_FOLDER = re.compile(r"^(?:19|20)\d\d-\d\d-\d\d(?:\s#\d+)?$")

# JSON files in a Takeout that describe neither a photo nor an album.
OTHER_JSON = frozenset({"print-subscriptions.json", "shared_album_comments.json",
    "user-generated-memory-titles.json"})  # fmt: skip


# -- names -------------------------------------------------------------------------------


class JsonName(NamedTuple):
    """A photo JSON's name taken apart: the photo name it stands for (`base`, possibly cut
    short), the `(n)` of a second photo of that name, and whether it is long enough to
    have been cut."""

    name: str
    base: str
    number: int | None
    may_be_cut: bool


def json_name(name: str) -> JsonName:
    """`IMG_1.jpg.supplemental-metadata(1).json` -> base `IMG_1.jpg`, number 1."""
    stem = name[: -len(".json")] if name.lower().endswith(".json") else name
    number = None
    numbered = _NUMBERED.match(stem)
    if numbered:
        stem, number = numbered["name"], int(numbered["n"])
    dot = stem.rfind(".")
    if dot > 0 and SUPPLEMENTAL.startswith(stem[dot + 1 :].lower()):
        # ".supplemental-metadata", or what the cut left of it (".supple", ".")
        stem = stem[:dot]
    return JsonName(name, stem, number, len(name) - _number_length(number) >= SHORTEST_CUT)


def _number_length(number: int | None) -> int:
    return 0 if number is None else len(f"({number})")


class MediaName(NamedTuple):
    """A photo's name as its JSON names it: without the `(n)` of a second photo of the same
    name, nor the suffix of an edited copy."""

    name: str
    original: str  # "IMG_1.jpg" for IMG_1(1).jpg and IMG_1-edited.jpg
    number: int | None
    edited: bool


def media_name(name: str) -> MediaName:
    stem, ext = os.path.splitext(name)
    edited = False
    folded = unicodedata.normalize("NFC", stem).casefold()
    for suffix in EDITED_SUFFIXES:
        if folded.endswith(suffix):
            stem, edited = stem[: len(stem) - len(suffix)], True
            break
    number = None
    numbered = _NUMBERED.match(stem)
    if numbered:
        stem, number = numbered["name"], int(numbered["n"])
    return MediaName(name, stem + ext, number, edited)


def pair_with_json(media: list[str], jsons: list[str]) -> dict[str, str]:
    """The JSON of each photo and video of one folder, by name (those without one are left
    out). `jsons`: the names of the folder's photo JSON files (not an album's)."""
    parsed = [json_name(name) for name in jsons]
    exact: dict[tuple[str, int | None], str] = {}
    for j in parsed:
        exact.setdefault((j.base, j.number), j.name)
        exact.setdefault((j.base.casefold(), j.number), j.name)
    cut = sorted((j for j in parsed if j.may_be_cut), key=lambda j: -len(j.base))
    found: dict[str, str] = {}
    taken: set[str] = set()  # the cut JSONs an original has: not another's
    names = [media_name(name) for name in media]
    for m in sorted(names, key=lambda m: m.edited):  # originals first, then edited copies
        match = _exact_json(m, exact) or _cut_json(m, cut, set() if m.edited else taken)
        if match is not None:
            found[m.name] = match
            taken.add(match)
    _pair_live_videos(names, found)
    return found


def _exact_json(m: MediaName, exact: dict) -> str | None:
    stem = os.path.splitext(m.original)[0]
    for key in ((m.original, m.number), (stem, m.number), (m.name, None)):
        for spelled in (key, (key[0].casefold(), key[1])):
            if spelled in exact:
                return exact[spelled]
    return None


def _cut_json(m: MediaName, cut: list[JsonName], taken: set[str]) -> str | None:
    """The longest JSON name cut short that starts the photo's, not another photo's."""
    for j in cut:
        starts = bool(j.base) and m.original.startswith(j.base)
        if starts and j.number == m.number and j.name not in taken:
            return j.name
    return None


def _pair_live_videos(names: list[MediaName], found: dict[str, str]) -> None:
    """A Live Photo's video without a JSON of its own takes its still's."""
    stills: dict[tuple[str, int | None], str] = {}
    for m in names:
        if m.name in found and not m.name.lower().endswith(LIVE_VIDEO_EXTENSIONS):
            stills.setdefault((os.path.splitext(m.original)[0].casefold(), m.number), m.name)
    for m in names:
        if m.name in found or not m.name.lower().endswith(LIVE_VIDEO_EXTENSIONS):
            continue
        still = stills.get((os.path.splitext(m.original)[0].casefold(), m.number))
        if still is not None:
            found[m.name] = found[still]


def is_year_folder(name: str) -> bool:
    """Whether a folder is one of the year (or date) folders Google makes, not an album."""
    name = name.strip()
    return bool(_YEAR_FOLDER.match(name) or _DATE_FOLDER.match(name))


# -- contents ------------------------------------------------------------------------------


@dataclass
class TakeoutFacts:
    """What a photo's JSON says."""

    taken_utc: dt.datetime | None = None  # photoTakenTime, naive UTC
    latitude: float | None = None  # geoDataExif, else geoData; 0,0 is no place
    longitude: float | None = None
    altitude: float | None = None
    description: str | None = None
    favorited: bool = False
    archived: bool = False
    trashed: bool = False
    people: list[str] = field(default_factory=list)


class NotTakeoutJson(ValueError):
    """Bytes that are no JSON object (a damaged or foreign file)."""


def read_json(data: bytes) -> dict:
    try:
        value = json.loads(data)
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        raise NotTakeoutJson(f"not JSON: {exc}") from None
    if not isinstance(value, dict):
        raise NotTakeoutJson("not a JSON object")
    return value


def is_photo_json(value: dict) -> bool:
    """A photo's JSON (it says when the photo was taken) rather than an album's."""
    return "photoTakenTime" in value or "geoData" in value or "imageViews" in value


def album_title(value: dict) -> str | None:
    """The title an album's metadata JSON gives (None: untitled, or not an album's)."""
    if is_photo_json(value):
        return None
    title = value.get("title")
    return title.strip() if isinstance(title, str) and title.strip() else None


def photo_facts(value: dict) -> TakeoutFacts:
    facts = TakeoutFacts()
    facts.taken_utc = _timestamp(value.get("photoTakenTime"))
    for key in ("geoDataExif", "geoData"):
        place = _place(value.get(key))
        if place is not None:
            facts.latitude, facts.longitude, facts.altitude = place
            break
    description = value.get("description")
    if isinstance(description, str) and description.strip():
        facts.description = description.strip()
    facts.favorited = value.get("favorited") is True
    facts.archived = value.get("archived") is True
    facts.trashed = value.get("trashed") is True
    for person in value.get("people") or ():
        name = person.get("name") if isinstance(person, dict) else None
        if isinstance(name, str) and name.strip() and name.strip() not in facts.people:
            facts.people.append(name.strip())
    return facts


def _timestamp(value) -> dt.datetime | None:
    """photoTakenTime's {"timestamp": "1560000000", "formatted": ...} as naive UTC."""
    if not isinstance(value, dict):
        return None
    try:
        seconds = int(str(value.get("timestamp")))
    except ValueError:
        return None
    if seconds <= 0:  # Google's "unknown" is 0, the epoch
        return None
    try:
        return dt.datetime.fromtimestamp(seconds, dt.UTC).replace(tzinfo=None)
    except (OverflowError, OSError, ValueError):
        return None


def _place(value) -> tuple[float, float, float | None] | None:
    if not isinstance(value, dict):
        return None
    latitude, longitude = value.get("latitude"), value.get("longitude")
    if not (_is_number(latitude) and _is_number(longitude)):
        return None
    if latitude == 0 and longitude == 0:  # Google's "no place"
        return None
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        return None
    altitude = value.get("altitude")  # 0.0 is what Google writes when it does not know
    if not (_is_number(altitude) and altitude != 0):
        altitude = None
    return float(latitude), float(longitude), altitude


def _is_number(value) -> TypeGuard[float]:
    return isinstance(value, int | float) and not isinstance(value, bool)
