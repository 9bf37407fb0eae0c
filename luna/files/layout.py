"""Where a file goes inside the library folder: a path template and the file's facts make a
safe relative path ("{year}/{month}/{day}/{filename}" -> "2019/06/01/IMG_1.jpg").

Two kinds of input meet here and neither can be trusted.

- The template is typed by a user. It is checked once, by `parse_template`, and every
  mistake (an unknown field, a stray brace, an absolute path, "..", a file-name part that
  would give every file the same name) is a usage error saying what to write instead.
- The values come from the file: its own name, and the camera make, model and keywords
  that any software may have written into it. A model of "../../etc", a keyword holding a
  NUL or a 1000-character make must neither move a file out of the library folder nor make
  a name the file system refuses. So every path segment is cleaned after its values are
  put in, and the finished path is checked once more (`is_safe_relative`) before it is
  returned: the template and the cleaning rules must make a bad path impossible.

Names are `str` as Python gives them (luna.fsnames): bytes that are not UTF-8 arrive as
lone surrogates and are kept, so `os.fsencode` of a copy's name gives the original bytes.
Limits are counted in bytes, as the file system counts them: 255 per name, and 3000 for
the relative path, which leaves room for the library folder inside Linux's 4096.

Decisions (the README repeats them):
- A missing make, model, camera or kind renders as "unknown", a missing tag as "untagged",
  a missing extension as nothing; `{field|text}` chooses another text, `{field|}` nothing.
- `{tag}` is the first of the file's tags in alphabetical order; a hierarchical tag's
  levels are joined by " - " ("Places/France" -> "Places - France"): a tag never makes a
  folder of its own.
- A file without a date, under a template using date fields without a fallback, goes into
  UNDATED_FOLDER, which takes the place of the first folder that needed a date; the other
  folders needing a date are dropped: "{year}/{month}/{day}/{filename}" -> "undated/IMG_1.jpg",
  "{camera}/{year}/{filename}" -> "Canon EOS 5D/undated/IMG_1.jpg". In the file-name part
  the date fields are left out with the separators around them ("{year}-{filename}" ->
  "undated/IMG_1.jpg").
- The file name keeps the file's extension: a last part with neither {filename} nor {ext}
  gets ".{ext}" added ("{sha8}" -> "3f2a9c1b.jpg", "{year}/{stem}" -> "2019/IMG_1.jpg"),
  so that a viewer still knows the file and its sidecar still names it.
- Cleaning: "/", "\\", NUL and control characters become "_"; spaces around a name and dots
  at its end go (Windows drops them, and a trailing dot hides the extension); a leading dot
  becomes "_" (it would hide the file); an empty name, "." or ".." becomes "_"; Windows'
  device names (CON, NUL, COM1, "con.txt", ...) get a "_" in front, so a library stays
  usable on an exFAT or NTFS disk. Other characters Windows refuses (":" "?" "*" ...) are
  kept: they are common in real file names on Linux and macOS and renaming them would
  surprise more people than it helps.

No I/O and only the standard library: `luna import` renders a path for every file, so a
template is parsed once into segments and rendering is string work alone.
"""

from __future__ import annotations

import datetime as dt
import difflib
import os
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from luna.errors import BadTemplate
from luna.readable import camera as camera_name  # also `luna find`'s {camera}
from luna.readable import text as _text

DEFAULT_TEMPLATE = "{year}/{month}/{day}/{filename}"
UNDATED_FOLDER = "undated"

# Every field a template can use, with the line `--help` and the README show for it.
FIELDS: dict[str, str] = {
    "year": "year the file was taken, 4 digits (2019)",
    "month": "month, 2 digits (06)",
    "day": "day of the month, 2 digits (01)",
    "hour": "hour, 2 digits, 00-23 (14)",
    "minute": "minute, 2 digits (05)",
    "filename": "the original file name (IMG_1.jpg)",
    "stem": "the file name without its extension (IMG_1)",
    "ext": "the extension as written, without the dot (jpg); empty when there is none",
    "kind": "photo, video or sidecar",
    "make": "camera maker (Canon); 'unknown' when missing",
    "model": "camera model (Canon EOS 5D); 'unknown' when missing",
    "camera": "maker and model, the maker not repeated (Canon EOS 5D); 'unknown' when missing",
    "sha8": "first 8 hex digits of the content's SHA-256 (3f2a9c1b)",
    "tag": "first tag in alphabetical order, levels joined by ' - ' (Places - France);"
    " 'untagged' when none",
    "city": "city where it was taken (Paris); 'unknown' when missing",
    "region": "region, state or province (Île-de-France); 'unknown' when missing",
    "country": "country (France); 'unknown' when missing",
    "country_code": "ISO country code (FR); 'unknown' when missing",
}

TEMPLATE_SYNTAX = (
    "A template is a path relative to the library folder made of text and {field}s."
    " {field|text} renders text when the value is missing ({camera|no camera});"
    " {field:lower} and {field:upper} change the case ({ext:lower})."
    " The last part must contain {filename}, {stem} or {sha8}, so that files get"
    " different names, and keeps the file's extension: without {filename} or {ext}"
    " there, '.{ext}' is added ({sha8} gives 3f2a9c1b.jpg). Write {{ and }} for a literal"
    " brace."
    f" Files without a date go into '{UNDATED_FOLDER}/'."
)

DATE_FIELDS = frozenset({"year", "month", "day", "hour", "minute"})
# At least one of these in the last segment, or every file of a folder gets one name.
NAME_FIELDS = ("filename", "stem", "sha8")
# What a missing value renders as when the template gives no fallback. Not listed: "".
MISSING = {
    "make": "unknown",
    "model": "unknown",
    "camera": "unknown",
    "kind": "unknown",
    "sha8": "unknown",
    "tag": "untagged",
    "city": "unknown",
    "region": "unknown",
    "country": "unknown",
    "country_code": "unknown",
}
PLACE_FIELDS = ("city", "region", "country", "country_code")
TRANSFORMS: dict[str, Callable[[str], str]] = {"lower": str.lower, "upper": str.upper}

NAME_MAX_BYTES = 255  # NAME_MAX of ext4, btrfs, xfs, APFS; exFAT and NTFS allow 255 chars
PATH_MAX_BYTES = 3000  # the relative part; the library folder needs room within 4096
MAX_SEGMENTS = 32  # so that the path limit can always be met (see _fit_path)
_FOLDER_FLOOR_BYTES = 64  # _fit_path never cuts a folder name shorter than this
_EXT_MAX_CHARS = 16  # a longer "extension" is part of the name ("Report v1.2 final")
# render() leaves this much of PATH_MAX_BYTES free, so that numbered() and sidecar_name()
# can lengthen its file name without going over.
_HEADROOM_BYTES = 96
_HIER = " - "  # joins the levels of a hierarchical tag

# Characters no name may hold: separators, NUL and the other C0/C1 controls, and the
# Unicode line separators (a path is printed one per line by `luna find`).
_BAD_CHARS = re.compile(r"[\x00-\x1f\x7f-\x9f/\\\u2028\u2029]")
# Lone surrogates other than U+DC80..U+DCFF stand for no byte: os.fsencode refuses them.
# A file system never produces them, but JSON metadata can ("\ud800").
_UNENCODABLE = re.compile(r"[\ud800-\udc7f\udd00-\udfff]")
_CONTROL_OR_BACKSLASH = re.compile(r"[\x00-\x1f\x7f-\x9f\\\u2028\u2029]")

# Names Windows keeps for devices, with or without an extension ("con.txt" too).
_RESERVED = frozenset(
    ["CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"]
    + [f"{dev}{n}" for dev in ("COM", "LPT") for n in (*"123456789", "¹", "²", "³")]
)
# Characters that belong to the one before them: a cut must not strand them.
_JOINERS = frozenset("\u200d\ufe0e\ufe0f")
# Literal text that only separates: left out with the date fields of an undated file.
_SEPARATORS = frozenset(" -_.")


class LayoutBug(RuntimeError):
    """render() made a path that is not safe: impossible unless this module has a bug."""


@dataclass(slots=True)
class LayoutFacts:
    """What a template can use about one file."""

    filename: str  # the original name, as Python gives it (may hold lone surrogates)
    start: dt.datetime | None  # local wall-clock time taken; None when unknown
    kind: str  # photo, video, sidecar
    make: str | None
    model: str | None
    content_sha: str  # SHA-256, hex
    tags: list[str] = field(default_factory=list)
    place: tuple = ()  # city, region, country, country_code (luna.ops.places), or ()


def facts_from_row(
    filename: str,
    start: dt.datetime | None,
    kind: str,
    metadata: dict | None,
    content_sha: str,
    tags: Iterable[str] | None,
    place: tuple = (),
) -> LayoutFacts:
    """LayoutFacts from what the library stores about a file (File.metadata and its tags)."""
    metadata = metadata or {}
    return LayoutFacts(
        filename=filename,
        start=start,
        kind=kind,
        make=_text(metadata.get("make")),
        model=_text(metadata.get("model")),
        content_sha=content_sha or "",
        tags=[tag for tag in tags or () if isinstance(tag, str)],
        place=tuple(place),
    )


# --- parsing ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Field:
    name: str
    transform: Callable[[str], str] | None
    fallback: str | None  # None: no "|" in the template


_Segment = tuple  # of str (literal text) and _Field, in order


def parse_template(text: str) -> Template:
    """Check a template and compile it for `Template.render`; raise BadTemplate if wrong."""
    if not text or not text.strip():
        raise BadTemplate(f"the path template is empty; the default is {DEFAULT_TEMPLATE!r}")
    if text.startswith(("/", "\\")):
        raise BadTemplate(
            f"path template {text!r} is absolute; it must be relative to the library"
            f" folder, like {DEFAULT_TEMPLATE!r}"
        )
    segments = _tokenize(text)
    if len(segments) > MAX_SEGMENTS:
        raise BadTemplate(f"path template {text!r} has more than {MAX_SEGMENTS} levels of folders")
    for segment in segments:
        _check_segment(segment, text)
    last = segments[-1]
    if not any(isinstance(p, _Field) and p.name in NAME_FIELDS for p in last):
        raise BadTemplate(
            f"the last part of path template {text!r} names the file, so it must contain"
            " {filename}, {stem} or {sha8}; without one every file in a folder would get"
            " the same name"
        )
    segments[-1] = _keeping_extension(last)
    return Template(text, segments)


def _keeping_extension(last: _Segment) -> _Segment:
    """The file-name segment, ending in ".{ext}" unless it already has {filename} or {ext}:
    a file named "3f2a9c1b" instead of "3f2a9c1b.jpg" opens in no viewer, and its sidecar
    "3f2a9c1b.xmp" would no longer say which photo it describes. A file without an
    extension gets none ("3f2a9c1b.": the trailing dot is cleaned away)."""
    if any(isinstance(p, _Field) and p.name in ("filename", "ext") for p in last):
        return last
    return (*last, ".", _Field("ext", None, None))


def _tokenize(text: str) -> list[_Segment]:
    """Split a template into segments at "/" and each segment into text and fields."""
    segments: list[_Segment] = []
    parts: list = []
    literal: list[str] = []

    def flush() -> None:
        if literal:
            parts.append("".join(literal))
            literal.clear()

    i = 0
    while i < len(text):
        char = text[i]
        if char == "{" and text.startswith("{{", i):
            literal.append("{")
            i += 2
        elif char == "{":
            end = text.find("}", i + 1)
            inner = text.find("{", i + 1)
            if end == -1 or inner != -1 and inner < end:
                raise BadTemplate(
                    f"path template {text!r}: the '{{' at position {i + 1} is not closed;"
                    " write '{{' for a literal brace"
                )
            flush()
            parts.append(_parse_field(text[i + 1 : end], text))
            i = end + 1
        elif char == "}":
            if not text.startswith("}}", i):
                raise BadTemplate(
                    f"path template {text!r}: the '}}' at position {i + 1} closes nothing;"
                    " write '}}' for a literal brace"
                )
            literal.append("}")
            i += 2
        elif char == "/":
            flush()
            segments.append(tuple(parts))
            parts = []
            i += 1
        else:
            literal.append(char)
            i += 1
    flush()
    segments.append(tuple(parts))
    return segments


def _parse_field(inner: str, text: str) -> _Field:
    """One "{name:spec|fallback}", without its braces."""
    head, bar, fallback = inner.partition("|")
    name, colon, spec = (piece.strip() for piece in head.partition(":"))
    if name not in FIELDS:
        close = difflib.get_close_matches(name, FIELDS, n=1)
        hint = f" (did you mean {{{close[0]}}}?)" if close else ""
        raise BadTemplate(
            f"path template {text!r}: unknown field {{{name}}}{hint}."
            f" Known fields: {', '.join(FIELDS)}"
        )
    if colon and spec not in TRANSFORMS:
        raise BadTemplate(
            f"path template {text!r}: format {spec!r} in {{{inner}}} is not supported;"
            f" use one of: {', '.join(TRANSFORMS)} (dates are already zero-padded)"
        )
    if bar and ("/" in fallback or _CONTROL_OR_BACKSLASH.search(fallback)):
        raise BadTemplate(
            f"path template {text!r}: the fallback in {{{inner}}} may not contain '/',"
            " '\\' or control characters"
        )
    return _Field(name, TRANSFORMS.get(spec) if colon else None, fallback if bar else None)


def _check_segment(segment: _Segment, text: str) -> None:
    """Refuse literal text that would climb out, hide files or be renamed behind the user's
    back; fields are cleaned at render time, but the user's own text should be right."""
    if not segment:
        raise BadTemplate(
            f"path template {text!r} has an empty folder name ('//' or a '/' at the end)"
        )
    literals = [p for p in segment if isinstance(p, str)]
    if any(_CONTROL_OR_BACKSLASH.search(p) for p in literals):
        raise BadTemplate(
            f"path template {text!r} contains '\\' or a control character; folders are"
            " separated by '/'"
        )
    first = segment[0]
    if isinstance(first, str) and first.startswith("."):
        if len(segment) == 1 and first.strip() in (".", ".."):
            raise BadTemplate(
                f"path template {text!r} contains {first!r}: every part must name a folder"
                " inside the library folder"
            )
        raise BadTemplate(
            f"path template {text!r}: a name starting with '.' ({first!r}) would be hidden"
        )
    if len(segment) == 1 and isinstance(first, str):
        cleaned = _fit_name(_clean(first), 0)
        if cleaned != first:
            raise BadTemplate(
                f"path template {text!r}: folder name {first!r} cannot be used as it is"
                f" (reserved on Windows, too long, or with spaces or dots at an end);"
                f" it would become {cleaned!r}"
            )


class Template:
    """A checked template, ready to render many files."""

    __slots__ = ("text", "fields", "uses_date", "_dated", "_undated")

    def __init__(self, text: str, segments: list[_Segment]):
        self.text = text
        self.fields = frozenset(p.name for seg in segments for p in seg if isinstance(p, _Field))
        self.uses_date = bool(self.fields & DATE_FIELDS)
        self._dated = segments
        self._undated = _undated_segments(segments)

    def __repr__(self) -> str:
        return f"Template({self.text!r})"

    def render(self, facts: LayoutFacts) -> str:
        """The relative path ("/"-separated) for this file: never absolute, no "..", each
        name at most 255 bytes, the whole at most PATH_MAX_BYTES less room for numbered()
        and sidecar_name() to lengthen the name. Raises LayoutBug, never BadTemplate."""
        values = _values(facts, self.fields)
        segments = self._dated if facts.start is not None else self._undated
        names = [_clean(_render_segment(seg, values)) for seg in segments]
        names = [_fit_name(name, 0) for name in names[:-1]] + [_fit_name(names[-1], None)]
        path = "/".join(_fit_path(names))
        if not is_safe_relative(path):
            raise LayoutBug(f"layout made an unsafe path {path!r} from {self.text!r}")
        return path


def _needs_date(part) -> bool:
    return isinstance(part, _Field) and part.name in DATE_FIELDS and part.fallback is None


def _undated_segments(segments: list[_Segment]) -> list[_Segment]:
    """The segments to use for a file without a date (see the module docstring)."""
    needs = [any(_needs_date(p) for p in seg) for seg in segments]
    if not any(needs):
        return segments
    folders: list[_Segment] = []
    placed = False
    for seg, need in zip(segments[:-1], needs[:-1], strict=True):
        if not need:
            folders.append(seg)
        elif not placed:
            folders.append((UNDATED_FOLDER,))
            placed = True
    if not placed:  # only the file name used a date: still keep undated files apart
        folders.append((UNDATED_FOLDER,))
    return [*folders, _without_dates(segments[-1])]


def _without_dates(segment: _Segment) -> _Segment:
    """The file-name segment without its date fields: each run of date fields and the
    separators around them goes; a run between two other parts leaves its last separator
    to join them ("{stem}_{year}.{ext}" -> "{stem}.{ext}", "{year}-{filename}" ->
    "{filename}")."""

    def in_run(part) -> bool:
        if isinstance(part, str):
            return all(char in _SEPARATORS for char in part)
        return _needs_date(part)

    out: list = []
    i = 0
    while i < len(segment):
        if not in_run(segment[i]):
            out.append(segment[i])
            i += 1
            continue
        j = i
        while j < len(segment) and in_run(segment[j]):
            j += 1
        run = segment[i:j]
        if not any(_needs_date(p) for p in run):
            out.extend(run)
        else:
            separators = [p for p in run if isinstance(p, str)]
            if out and j < len(segment) and separators:
                out.append(separators[-1])
        i = j
    return tuple(out)


# --- values ----------------------------------------------------------------------------


def _values(facts: LayoutFacts, used: frozenset[str]) -> dict[str, str | None]:
    """The raw value of each field the template uses; None or "" when missing."""
    values: dict[str, str | None] = {}
    start = facts.start
    if start is not None and not used.isdisjoint(DATE_FIELDS):
        values["year"] = f"{start.year:04d}"
        values["month"] = f"{start.month:02d}"
        values["day"] = f"{start.day:02d}"
        values["hour"] = f"{start.hour:02d}"
        values["minute"] = f"{start.minute:02d}"
    values["filename"] = facts.filename
    if "stem" in used or "ext" in used:
        values["stem"], values["ext"] = split_name(facts.filename)
    values["kind"] = facts.kind
    values["make"] = _text(facts.make)
    values["model"] = _text(facts.model)
    if "camera" in used:
        values["camera"] = camera_name(facts.make, facts.model)
    values["sha8"] = (facts.content_sha or "")[:8].lower()
    if "tag" in used:
        values["tag"] = tag_text(facts.tags)
    for name, value in zip(PLACE_FIELDS, facts.place, strict=False):
        values[name] = _text(value)
    return values


def _render_segment(segment: _Segment, values: dict[str, str | None]) -> str:
    pieces = []
    for part in segment:
        if type(part) is str:
            pieces.append(part)
            continue
        value = values.get(part.name)
        if value:
            pieces.append(part.transform(value) if part.transform else value)
        elif part.fallback is not None:
            pieces.append(part.fallback)
        else:
            pieces.append(MISSING.get(part.name, ""))
    return "".join(pieces)


def split_name(name: str) -> tuple[str, str]:
    """(stem, extension without the dot): "IMG_1.jpg" -> ("IMG_1", "jpg"). A name starting
    with its only dot (".hidden") has no extension, nor has one whose text after the last
    dot is empty, has spaces or is longer than 16 characters ("Report v1.2 final")."""
    dot = name.rfind(".")
    if dot <= 0:
        return name, ""
    ext = name[dot + 1 :]
    if not ext or len(ext) > _EXT_MAX_CHARS or any(char.isspace() for char in ext):
        return name, ""
    return name[:dot], ext


def tag_text(tags: Iterable[str]) -> str | None:
    """The tag `{tag}` shows: the first in alphabetical order (case ignored), its levels
    joined by " - " so that "Places/France" never makes a folder. None when untagged."""
    names = [tag.strip() for tag in tags or () if isinstance(tag, str) and tag.strip()]
    if not names:
        return None
    first = min(names, key=lambda tag: (tag.casefold(), tag))
    levels = [level.strip() for level in first.split("/") if level.strip()]
    return _HIER.join(levels) or None


# --- cleaning --------------------------------------------------------------------------


def _size(text: str) -> int:
    """Length in bytes as the file system stores it (`text` is always encodable here)."""
    return len(text) if text.isascii() else len(os.fsencode(text))


def _canonical(text: str) -> str:
    """`text` as the file system will give it back: surrogates that cannot be encoded
    become "_", and surrogates whose bytes form valid UTF-8 (only possible in metadata)
    become those characters. A file system name is already canonical and is unchanged."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return os.fsdecode(os.fsencode(_UNENCODABLE.sub("_", text)))


def _is_reserved(name: str) -> bool:
    return name.split(".", 1)[0].rstrip(" ").upper() in _RESERVED


def _clean(text: str) -> str:
    """One rendered segment made a valid, visible name (the length is _fit_name's job)."""
    if not text.isascii():
        text = _canonical(text)  # first: decoding surrogates may reveal a control char
    text = _BAD_CHARS.sub("_", text).lstrip(" ").rstrip(" .")
    if not text:
        return "_"
    if text[0] == ".":
        text = "_" + text[1:]
    if _is_reserved(text):
        text = "_" + text
    return text


def _fit_name(name: str, keep: int | None) -> str:
    """`name` cut to NAME_MAX_BYTES, keeping its last `keep` characters (None: keep the
    extension, for the file name: "very long….jpg" stays a .jpg)."""
    if _size(name) <= NAME_MAX_BYTES:
        return name
    if keep is None:
        ext = split_name(name)[1]
        keep = len(ext) + 1 if ext else 0
    return _cut(name, NAME_MAX_BYTES, keep)


def _cut(text: str, limit: int, keep: int = 0) -> str:
    """`text` shortened to `limit` bytes on a character boundary, its last `keep`
    characters kept unless they would take more than half of it."""
    if _size(text) <= limit:
        return text
    tail = text[len(text) - keep :] if keep else ""
    if _size(tail) > limit // 2:
        tail = ""
    head = _prefix(text[: len(text) - len(tail)], limit - _size(tail)).rstrip(" .")
    return (head or "_") + tail


def _prefix(text: str, budget: int) -> str:
    """The longest start of `text` within `budget` bytes that does not strand an accent or
    an emoji joiner from the character it belongs to."""
    used = 0
    for i, char in enumerate(text):
        used += 1 if char < "\x80" else len(os.fsencode(char))
        if used > budget:
            while i > 0 and (unicodedata.combining(text[i]) or text[i] in _JOINERS):
                i -= 1
            return text[:i].rstrip("\u200d")
    return text


def _fit_path(names: list[str]) -> list[str]:
    """Shorten the longest folder names until the path leaves _HEADROOM_BYTES of
    PATH_MAX_BYTES free. With at most MAX_SEGMENTS names, folders cut to
    _FOLDER_FLOOR_BYTES always fit: 31 * 64 + 255 + 31 separators = 2270 bytes."""
    sizes = [_size(name) for name in names]
    excess = sum(sizes) + len(names) - 1 - (PATH_MAX_BYTES - _HEADROOM_BYTES)
    if excess <= 0:
        return names
    names = list(names)
    for i in sorted(range(len(names) - 1), key=lambda k: -sizes[k]):
        room = sizes[i] - _FOLDER_FLOOR_BYTES
        if room <= 0:
            break
        names[i] = _cut(names[i], sizes[i] - min(room, excess))
        excess -= sizes[i] - _size(names[i])
        if excess <= 0:
            break
    return names


def is_safe_relative(path: str) -> bool:
    """True when `path` is a usable relative path: not empty, not absolute, no "", "." or
    ".." segment, no "\\", NUL or control character, encodable, each name at most
    NAME_MAX_BYTES and the whole at most PATH_MAX_BYTES."""
    if not isinstance(path, str) or not path or path[0] == "/":
        return False
    if _CONTROL_OR_BACKSLASH.search(path):
        return False
    try:
        if len(os.fsencode(path)) > PATH_MAX_BYTES:
            return False
    except UnicodeEncodeError:
        return False
    return all(
        name not in ("", ".", "..") and _size(name) <= NAME_MAX_BYTES for name in path.split("/")
    )


# --- collisions and sidecars -----------------------------------------------------------


def numbered(relative_path: str, n: int) -> str:
    """The n-th other name for a destination that is taken by different content:
    "2019/06/01/IMG_1.jpg", 1 -> "2019/06/01/IMG_1 (1).jpg". Only the last extension stays
    after the number ("archive.tar (1).gz"); the name is cut to stay within 255 bytes."""
    if n < 1:
        raise ValueError(f"numbered() counts from 1, not {n}")
    folder, slash, name = relative_path.rpartition("/")
    stem, ext = split_name(name)
    tail = f" ({n})" + (f".{ext}" if ext else "")
    return f"{folder}{slash}{_cut(stem + tail, _name_budget(folder), len(tail))}"


def sidecar_name(media_dest_name: str, sidecar_source_name: str, media_source_name: str) -> str:
    """Where a sidecar goes so that it keeps matching its photo's new name: with the photo
    IMG_1.jpg going to "IMG_1 (1).jpg", IMG_1.jpg.xmp -> "IMG_1 (1).jpg.xmp", IMG_1.xmp ->
    "IMG_1 (1).xmp", IMG_1.AAE -> "IMG_1 (1).AAE". Any of the names may be a path; the result
    is in the folder of `media_dest_name`. Case is ignored when matching ("img_1.xmp").
    A sidecar whose name does not start with the photo's gets the photo's new stem and its
    own extension. Only a name at the 255-byte limit is cut (and may then stop matching)."""
    folder, slash, dest = media_dest_name.rpartition("/")
    sidecar = sidecar_source_name.rpartition("/")[2]
    media = media_source_name.rpartition("/")[2]
    media_stem, dest_stem = split_name(media)[0], split_name(dest)[0]
    if _starts_with(sidecar, media):  # IMG_1.jpg.xmp, IMG_1.jpg.supplemental-metadata.json
        head, tail = dest, sidecar[len(media) :]
    elif _starts_with(sidecar, media_stem):  # IMG_1.xmp, IMG_1.AAE, IMG_1_01.jpg.xmp
        head, tail = dest_stem, sidecar[len(media_stem) :]
    else:
        ext = split_name(sidecar)[1]
        head, tail = dest_stem, "." + (ext or sidecar)
    # The sidecar's own name is file input like any other: cleaned, and never empty, so
    # that it cannot take the photo's name.
    tail = _BAD_CHARS.sub("_", _canonical(tail)).rstrip(" .") or "_"
    name = _clean(head + tail)
    keep = len(tail) if name.endswith(tail) else len(split_name(name)[1]) + 1
    return f"{folder}{slash}{_cut(name, _name_budget(folder), keep)}"


def name_in(folder: str, name: str) -> str:
    """`name` as a file of `folder`: cleaned as every name luna makes, and cut (keeping its
    extension) where it would go over the name or path limit."""
    clean = _clean(name)
    ext = split_name(clean)[1]
    return os.path.join(folder, _cut(clean, _name_budget(folder), len(ext) + 1 if ext else 0))


def _name_budget(folder: str) -> int:
    """Bytes a name may take in `folder`: NAME_MAX_BYTES, or less where the whole path
    would go over PATH_MAX_BYTES (a folder from render() leaves at least 96 bytes)."""
    return min(NAME_MAX_BYTES, PATH_MAX_BYTES - _size(folder) - 1)


def _starts_with(name: str, prefix: str) -> bool:
    """`name` is `prefix` (case ignored) followed by more, starting with a non-alphanumeric
    character: IMG_1 starts "IMG_1.xmp" but not "IMG_10.xmp"."""
    if not prefix or len(name) <= len(prefix):
        return False
    return name[: len(prefix)].casefold() == prefix.casefold() and not name[len(prefix)].isalnum()
