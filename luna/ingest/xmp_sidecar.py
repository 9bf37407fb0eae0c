"""XMP sidecars that luna writes: its tags, rating, colour label, pick/reject flag, title,
description, albums and events, kept beside each photo (IMG_1.jpg.xmp) where digiKam,
darktable, Lightroom, Bridge and ExifTool read them, and from which a library can be
rebuilt (read_sidecar_fields).

An existing sidecar usually belongs to another program too: darktable keeps its whole edit
history in it, Lightroom its develop settings. So it is edited as text, never rebuilt from
a parse: expat finds where luna's own properties are (byte offsets), those spans are
replaced or removed, new properties are inserted, and every other byte stays as it was
(prefixes, attribute order and quoting, comments, whitespace, the <?xpacket?> wrapper).
What luna writes:

- tags: dc:subject (Bag) holds each tag's last level once ("Paris"), lr:hierarchicalSubject
  (Bag) every tag with its levels joined by "|" ("Places|France|Paris"), digiKam:TagsList
  (Seq) every tag as luna spells it ("Places/France/Paris"); flat tags are themselves.
- rating: xmp:Rating, 0-5 stars; -1 for a rejected photo (what Lightroom, Bridge and
  darktable read as rejected), its stars then in luna:Rating.
- label: xmp:Label, in Lightroom's and Bridge's words: Red, Yellow, Green, Blue, Purple.
- flag: digiKam:PickLabel (3 pick, 1 reject) and luna:Flag ("pick", "reject").
- title, description: the x-default item of dc:title and dc:description (Lang Alt); the
  other languages stay.
- albums, events: luna:Albums and luna:Events, Bags of structs (luna:Name, luna:Owner;
  luna:Name, luna:Start, luna:End, luna:Description) in luna's own namespace (xmp.LUNA).
- taken: exif:DateTimeOriginal ("2019-06-01T14:05:09+02:00"; no zone when unknown).
- position: exif:GPSLatitude and GPSLongitude ("48,51.396N"), GPSAltitude ("35125/1000",
  millimetres) with GPSAltitudeRef (0 above, 1 below sea level), GPSVersionID 2.2.0.0.

The managed fields mirror luna exactly: an empty value removes the property, in every form
and every rdf:Description it appears in. Keyword lists the reader also takes tags from are
managed with them: MicrosoftPhoto:LastKeywordXMP is rewritten when present and an MWG
keyword tree (mwg-kw:Keywords) removed, or a tag removed in luna would come back from the
sidecar. The supplementary fields (taken, position) are written only when given.

A sidecar is untrusted input: it passes the XMP reader's limits first (no DTD, size,
depth; luna.ingest.extract.xmp), and one luna cannot edit safely raises SidecarRefused;
the caller reports it and leaves the file alone. The result is read back before it is
returned, and must say exactly what luna wrote.

Nothing here touches a file. A caller writes a sidecar with luna.files.replace:

    found = read_with_state(path, limit=MAX_PACKET)      # None: no sidecar yet
    existing, state = found if found else (None, None)
    data = updated_sidecar(existing, fields)             # SidecarRefused: report, skip
    if data != existing:
        replace_file(path, data, expected=state)         # ChangedSinceRead: read again
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from luna.errors import SidecarRefused
from luna.ingest.extract import xmp
from luna.ingest.extract.dates import EARLIEST_YEAR
from luna.ingest.extract.xmp import (
    DARKTABLE,
    DC,
    DIGIKAM,
    DIGIKAM_COLORS,
    EXIF,
    LIGHTROOM,
    LUNA,
    MAX_DEPTH,
    MICROSOFT_PHOTO,
    MWG_KW,
    RDF,
    XML,
    XMP,
    XmpInfo,
)
from luna.values import LABELS
from luna.version import __version__

FLAGS = ("pick", "reject")


@dataclass(frozen=True, slots=True)
class AlbumRef:
    name: str
    owner: str | None = None


@dataclass(frozen=True, slots=True)
class EventRef:
    name: str
    start: dt.datetime  # naive local wall-clock time, as luna keeps it
    end: dt.datetime | None = None
    utc_offset: int | None = None  # minutes east of UTC, for start and end
    description: str = ""


@dataclass(frozen=True, slots=True)
class SidecarFields:
    """What luna keeps in a sidecar. Managed fields mirror luna's state exactly (None/empty
    means: remove it from the sidecar); supplementary fields are written only when given
    and never removed.

    Tags, albums and events are sets: the sidecar holds them in a fixed order (normalized),
    so the same set always gives the same bytes, whatever order the caller had them in."""

    tags: tuple[str, ...] = ()  # luna tags, levels joined by "/": "Places/France/Paris"
    rating: int | None = None  # 0-5 stars (0 = unrated, written as 0)
    label: str | None = None  # "red" | "yellow" | "green" | "blue" | "purple"
    flag: str | None = None  # "pick" | "reject"
    title: str | None = None
    description: str | None = None
    albums: tuple[AlbumRef, ...] = ()
    events: tuple[EventRef, ...] = ()
    # Supplementary: written only where luna knows them and the photo itself lacks them
    # (the caller decides). A position is one value: latitude and longitude together, and
    # writing one replaces the altitude too (removed when the new position has none).
    taken: dt.datetime | None = None  # naive local wall-clock time
    utc_offset: int | None = None  # minutes east of UTC, with `taken`
    latitude: float | None = None
    longitude: float | None = None
    altitude: float | None = None  # metres, negative below sea level

    def normalized(self) -> SidecarFields:
        """The fields as a sidecar holds them, and as read_sidecar_fields gives them back:
        tag levels trimmed (empty levels dropped), texts trimmed (empty ones None), sets
        without repeats and sorted. read_sidecar_fields(updated_sidecar(None, f)) ==
        f.normalized() for any valid f."""
        albums = {AlbumRef(_text(a.name) or "", _text(a.owner)) for a in self.albums}
        events = {
            replace(e, name=_text(e.name) or "", description=_text(e.description) or "")
            for e in self.events
        }
        return replace(
            self,
            tags=tuple(sorted({t for t in map(_tidy_tag, self.tags) if t}, key=_tag_order)),
            title=_text(self.title),
            description=_text(self.description),
            albums=tuple(sorted((a for a in albums if a.name), key=_album_order)),
            events=tuple(sorted((e for e in events if e.name), key=_event_order)),
            # As precise as luna keeps them (and as a sidecar gives them back).
            latitude=None if self.latitude is None else round(self.latitude, 8),
            longitude=None if self.longitude is None else round(self.longitude, 8),
            altitude=None if self.altitude is None else round(self.altitude, 3),
        )


def updated_sidecar(existing: bytes | None, fields: SidecarFields) -> bytes:
    """The sidecar with luna's fields written: `existing` edited (None, or an empty file:
    a new sidecar). Deterministic and idempotent: updating the result with the same fields
    gives the same bytes, so an unchanged sidecar need not be written again.

    Raises ValueError for fields luna cannot hold (a rating of 7, an unknown label), and
    SidecarRefused when `existing` is not XMP that luna can safely edit.
    """
    _validate(fields)
    fields = fields.normalized()
    if existing is None or not existing.strip():
        text, bom = _new_sidecar(), b""
    else:
        text, bom = _existing_text(existing)
    start, end = _root(text)
    plan = _plan(fields)
    markup = xmp.clean_markup(text[start:end]).encode("utf-8")
    edited = _Editor(markup).edit(plan)
    result = bom + text[:start].encode("utf-8") + edited + text[end:].encode("utf-8")
    _verify(result, fields)
    return result


def read_sidecar_fields(packet: bytes) -> SidecarFields | None:
    """What a sidecar (luna's or another program's) says of luna's fields, as luna would
    store them (normalized); None if it is not XMP, or refused as hostile.

    tags: hierarchical keywords joined with "/", and the flat dc:subject keywords that are
    not a level of one of them (xmp.keyword_tags). rating: xmp:Rating's stars; luna:Rating
    when xmp:Rating is -1 (rejected). label: the lowercase colour of xmp:Label, None for a
    label that is not one of the five colours (its text stays in parse_xmp(...).label).
    flag: luna:Flag while xmp:Rating agrees with it (a photo Lightroom rejected since is
    rejected), else digiKam:PickLabel (3 pick, 1 reject), else reject for xmp:Rating -1.
    title, description: the x-default text, else the first. taken: exif:DateTimeOriginal,
    else photoshop:DateCreated, as the importer reads them.
    """
    info = xmp.parse_xmp(packet)
    return None if info is None else fields_of(info)


def tag_changes(packet: bytes) -> tuple[set[str], set[str]] | None:
    """(tags added, tags removed) by other programs since luna last wrote the sidecar: its
    keywords now against luna:Tags, what luna wrote. A sidecar luna never wrote tags to
    adds its keywords and removes nothing. None if it is not XMP, or refused as hostile."""
    info = xmp.parse_xmp(packet)
    if info is None:
        return None
    now = {_tidy_tag(tag) for tag in xmp.keyword_tags(info)} - {""}
    if info.luna_tags is None:
        return now, set()
    written = {_tidy_tag(tag) for tag in info.luna_tags} - {""}
    return now - written, written - now


def _label(info: XmpInfo) -> str:
    """The colour label: against what luna last wrote with it (luna:Label), the one a
    program changed since (digiKam's number, then Lightroom's word); in a sidecar luna
    never wrote a label to, Lightroom's word, else digiKam's, else darktable's first
    colour. "" for none."""
    labels = info.color_labels
    written = info.luna_label
    if written is not None:
        written = written.strip().lower().replace("none", "")
        changed = [labels[p] for p in ("digikam", "xmp") if labels.get(p, written) != written]
        return changed[0] if changed else written
    return next((labels[p] for p in ("xmp", "digikam", "darktable") if p in labels), "")


def fields_of(info: XmpInfo) -> SidecarFields:
    """read_sidecar_fields, from a packet already parsed."""
    rejected = info.rating == -1
    if rejected:
        rating = info.luna_rating
    else:
        rating = info.rating if info.rating is not None and 0 <= info.rating <= 5 else None
    flag = info.luna_flag if (info.luna_flag == "reject") == rejected else None
    flag = flag or {3: "pick", 1: "reject"}.get(info.pick_label or 0)
    if flag is None and rejected:
        flag = "reject"
    label = _label(info)
    taken, offset = info.date_original if info.date_original else (None, None)
    return SidecarFields(
        tags=tuple(xmp.keyword_tags(info)),
        rating=rating,
        label=label if label in LABELS else None,
        flag=flag,
        title=info.title,
        description=info.description,
        albums=tuple(AlbumRef(name, owner) for name, owner in info.albums),
        events=tuple(
            EventRef(
                e.name,
                e.start[0],
                e.end[0] if e.end else None,
                e.start[1],
                e.description,
            )
            for e in info.events
        ),
        taken=taken,
        utc_offset=offset,
        latitude=info.latitude,
        longitude=info.longitude,
        altitude=info.altitude,
    ).normalized()


# -- the fields ----------------------------------------------------------------------------

# Minutes east of UTC that a date may carry, as the reader accepts them (dates.parse_offset).
_MAX_OFFSET = 14 * 60 + 59


def _validate(f: SidecarFields) -> None:
    if f.rating is not None and (type(f.rating) is not int or f.rating not in range(6)):
        raise ValueError(f"a rating is 0 to 5 stars, not {f.rating!r}")
    if f.label is not None and f.label not in LABELS:
        raise ValueError(f"a label is one of {', '.join(LABELS)}, not {f.label!r}")
    if f.flag is not None and f.flag not in FLAGS:
        raise ValueError(f"a flag is pick or reject, not {f.flag!r}")
    if f.utc_offset is not None and f.taken is None:
        raise ValueError("utc_offset without taken")
    _check_time(f.taken, f.utc_offset, "taken")
    for event in f.events:
        _check_time(event.start, event.utc_offset, f"event {event.name!r}")
        _check_time(event.end, event.utc_offset, f"event {event.name!r}")
    if (f.latitude is None) != (f.longitude is None):
        raise ValueError("a position needs both latitude and longitude")
    if f.altitude is not None and f.latitude is None:
        raise ValueError("an altitude without a position")
    for value, limit, what in ((f.latitude, 90, "latitude"), (f.longitude, 180, "longitude")):
        if value is not None and not (math.isfinite(value) and abs(value) <= limit):
            raise ValueError(f"{what} out of range: {value!r}")
    if f.altitude is not None and not math.isfinite(f.altitude):
        raise ValueError(f"altitude out of range: {f.altitude!r}")


def _check_time(when: dt.datetime | None, offset: int | None, what: str) -> None:
    if when is not None and when.tzinfo is not None:
        raise ValueError(f"{what}: a naive local time is expected, with utc_offset apart")
    if when is not None and when.year < EARLIEST_YEAR:
        raise ValueError(f"{what}: {when.year} is before photography ({EARLIEST_YEAR})")
    if offset is not None and abs(offset) > _MAX_OFFSET:
        raise ValueError(f"{what}: UTC offset out of range: {offset} minutes")


def _tidy_tag(tag: str) -> str:
    return "/".join(level for part in tag.split("/") if (level := _text(part)))


def _text(value: str | None) -> str | None:
    """Trimmed, without the characters XML cannot hold, nor U+FEFF (a byte order mark
    inside a packet makes readers take the text after it for the packet); None when
    nothing is left."""
    return xmp.clean_markup(value or "").replace("\ufeff", "").strip() or None


def _tag_order(tag: str) -> tuple[str, str]:
    return tag.casefold(), tag


def _album_order(album: AlbumRef) -> tuple:
    return album.name.casefold(), album.name, album.owner or ""


def _event_order(event: EventRef) -> tuple:
    end = event.end or event.start
    offset = event.utc_offset if event.utc_offset is not None else -10_000
    return event.start, event.name.casefold(), event.name, end, offset, event.description


# -- what to write, property by property ---------------------------------------------------


@dataclass(slots=True)
class _Node:
    """An element luna writes: text, or child elements, with attributes."""

    ns: str
    name: str
    text: str | None = None
    children: list[_Node] = field(default_factory=list)
    attrs: list[tuple[str, str, str]] = field(default_factory=list)  # (ns, name, value)

    @property
    def simple(self) -> bool:
        return not self.children and not self.attrs


def _simple(ns: str, name: str, value: object) -> _Node | None:
    """A simple property; None (remove it) for no value."""
    return None if value is None else _Node(ns, name, str(value))


def _array(ns: str, name: str, kind: str, items: list[_Node]) -> _Node:
    return _Node(ns, name, children=[_Node(RDF, kind, children=items)])


def _list(ns: str, name: str, kind: str, texts: list[str]) -> _Node | None:
    items = [_Node(RDF, "li", text) for text in texts]
    return _array(ns, name, kind, items) if items else None


def _struct(fields: list[tuple[str, str | None]]) -> _Node:
    children = [_Node(LUNA, name, value) for name, value in fields if value]
    return _Node(RDF, "li", children=children, attrs=[(RDF, "parseType", "Resource")])


class _Keep:
    """Leave the property as it is (a supplementary field not given)."""


class _IfPresent:
    """Rewrite the property (None: remove it) only where the sidecar already has it."""

    def __init__(self, node: _Node | None):
        self.node = node


class _LangAlt:
    """dc:title or dc:description: the x-default item is luna's, other languages stay."""

    def __init__(self, text: str | None):
        self.text = text


_KEEP = _Keep()
_Action = _Node | _Keep | _IfPresent | _LangAlt | None  # None: remove the property

# Preferred prefixes, where the sidecar has none for the namespace already.
PREFIXES = {
    RDF: "rdf",
    DC: "dc",
    XMP: "xmp",
    EXIF: "exif",
    LIGHTROOM: "lr",
    DIGIKAM: "digiKam",
    DARKTABLE: "darktable",
    MICROSOFT_PHOTO: "MicrosoftPhoto",
    MWG_KW: "mwg-kw",
    LUNA: "luna",
}

_LANG_ALTS = {(DC, "title"), (DC, "description")}
_DIGIKAM_CODES = {name: code for code, name in DIGIKAM_COLORS.items() if name in LABELS}


def _plan(f: SidecarFields) -> list[tuple[tuple[str, str], _Action]]:
    """Each property luna manages, in the order new ones are appended, with what to do."""
    paths = [tag.split("/") for tag in f.tags]
    last_levels = list(dict.fromkeys(path[-1] for path in paths))
    # A level holding "|" cannot be written in Lightroom's list, which "|" separates:
    # such a tag is in digiKam's list and dc:subject only.
    lightroom = ["|".join(path) for path in paths if not any("|" in level for level in path)]
    rejected = f.flag == "reject"
    stars = -1 if rejected else f.rating
    tags = list(f.tags)
    taken = None if f.taken is None else _date(f.taken, f.utc_offset)
    values: list[tuple[str, str, _Action]] = [
        (DC, "title", _LangAlt(f.title)),
        (DC, "description", _LangAlt(f.description)),
        (DC, "subject", _list(DC, "subject", "Bag", last_levels)),
        (LIGHTROOM, "hierarchicalSubject",
         _list(LIGHTROOM, "hierarchicalSubject", "Bag", lightroom)),
        (DIGIKAM, "TagsList", _list(DIGIKAM, "TagsList", "Seq", tags)),
        # What luna wrote, for telling later what another program changed (tag_changes).
        (LUNA, "Tags", _list(LUNA, "Tags", "Bag", tags)),
        (MICROSOFT_PHOTO, "LastKeywordXMP",
         _IfPresent(_list(MICROSOFT_PHOTO, "LastKeywordXMP", "Bag", tags))),
        (MWG_KW, "Keywords", None),
        (XMP, "Rating", _simple(XMP, "Rating", stars)),
        (XMP, "Label", _simple(XMP, "Label", f.label.title() if f.label else None)),
        # digiKam reads its own number before xmp:Label. (darktable's list, which may hold
        # several colours, stays darktable's: luna reads it, never writes it.)
        (DIGIKAM, "ColorLabel", _simple(DIGIKAM, "ColorLabel", _DIGIKAM_CODES.get(f.label or ""))),
        # What luna wrote ("none" for no label), for telling later which program changed it.
        (LUNA, "Label", _Node(LUNA, "Label", f.label or "none")),
        (DIGIKAM, "PickLabel", _simple(DIGIKAM, "PickLabel", f.flag and (1 if rejected else 3))),
        (LUNA, "Rating", _simple(LUNA, "Rating", f.rating if rejected else None)),
        (LUNA, "Flag", _simple(LUNA, "Flag", f.flag)),
        (LUNA, "Albums", _album_bag(f.albums)),
        (LUNA, "Events", _event_bag(f.events)),
        (EXIF, "DateTimeOriginal",
         _KEEP if taken is None else _simple(EXIF, "DateTimeOriginal", taken)),
    ]  # fmt: skip
    plan = [((ns, name), action) for ns, name, action in values]
    plan.extend(_position_plan(f))
    return plan


def _album_bag(albums: tuple[AlbumRef, ...]) -> _Node | None:
    items = [_struct([("Name", a.name), ("Owner", a.owner)]) for a in albums]
    return _array(LUNA, "Albums", "Bag", items) if items else None


def _event_bag(events: tuple[EventRef, ...]) -> _Node | None:
    items = [
        _struct(
            [
                ("Name", e.name),
                ("Start", _date(e.start, e.utc_offset)),
                ("End", _date(e.end, e.utc_offset) if e.end else None),
                ("Description", e.description),
            ]
        )
        for e in events
    ]
    return _array(LUNA, "Events", "Bag", items) if items else None


def _position_plan(f: SidecarFields) -> list[tuple[tuple[str, str], _Action]]:
    names = ("GPSVersionID", "GPSLatitude", "GPSLongitude", "GPSAltitudeRef", "GPSAltitude")
    if f.latitude is None or f.longitude is None:
        return [((EXIF, name), _KEEP) for name in names]
    values: list[str | None] = ["2.2.0.0", _coordinate(f.latitude, "NS")]
    values.append(_coordinate(f.longitude, "EW"))
    if f.altitude is None:
        values += [None, None]
    else:
        # Millimetres, as luna keeps altitudes (round(..., 3)).
        values += ["1" if f.altitude < 0 else "0", f"{round(abs(f.altitude) * 1000)}/1000"]
    return [
        ((EXIF, name), _simple(EXIF, name, value))
        for name, value in zip(names, values, strict=True)
    ]


def _date(when: dt.datetime, offset: int | None) -> str:
    """An XMP date: "2019-06-01T14:05:09", with a fraction of a second when there is one and
    the zone when it is known ("+02:00")."""
    text = when.strftime("%Y-%m-%dT%H:%M:%S")
    if when.microsecond:
        text += f".{when.microsecond:06d}".rstrip("0")
    if offset is not None:
        sign = "-" if offset < 0 else "+"
        text += f"{sign}{abs(offset) // 60:02d}:{abs(offset) % 60:02d}"
    return text


def _coordinate(value: float, axis: str) -> str:
    """XMP's GPSCoordinate "DDD,MM.mmmmmmmmk": degrees and minutes to 1e-8 minute (about
    0.02 mm), more than the 1e-8 degree luna keeps, so the value reads back the same."""
    units = round(abs(value) * 60 * 10**8)  # whole 1e-8 minutes: no float rounding to 60.0
    degrees, minutes = divmod(units, 60 * 10**8)
    whole, fraction = divmod(minutes, 10**8)
    digits = f"{fraction:08d}".rstrip("0") or "0"
    return f"{degrees},{whole}.{digits}{axis[1] if value < 0 else axis[0]}"


# -- the sidecar's text --------------------------------------------------------------------

_XPACKET_ID = "W5M0MpCehiHzreSzNTczkc9d"  # the XMP specification's fixed packet id


def _new_sidecar() -> str:
    return (
        f'<?xpacket begin="\ufeff" id="{_XPACKET_ID}"?>\n'
        f'<x:xmpmeta xmlns:x="adobe:ns:meta/" x:xmptk="luna {__version__}">\n'
        f' <rdf:RDF xmlns:rdf="{RDF}">\n'
        '  <rdf:Description rdf:about="">\n'
        "  </rdf:Description>\n"
        " </rdf:RDF>\n"
        "</x:xmpmeta>\n"
        '<?xpacket end="w"?>\n'
    )


_UTF8_BOM = b"\xef\xbb\xbf"
_ENCODING = re.compile(r"""(<\?xml\b[^>]*?\bencoding\s*=\s*)(["'])([^"']*)\2""")


def _existing_text(existing: bytes) -> tuple[str, bytes]:
    """The sidecar's text, once the XMP reader accepted it; and its byte order mark, kept
    when it is UTF-8's (luna writes UTF-8: a UTF-16 sidecar becomes UTF-8)."""
    problems: list[str] = []
    if xmp.parse_xmp(existing, problems) is None:
        why = problems[0].removeprefix("XMP ignored: ") if problems else "it is not XMP"
        raise SidecarRefused(f"not XMP luna can safely edit ({why}); it was left as it is")
    text = xmp.packet_text(existing)
    bom = _UTF8_BOM if existing.startswith(_UTF8_BOM) else b""
    start, end = _root(text)
    if not _only_misc(text[:start]) or not _only_misc(text[end:]):
        raise SidecarRefused(
            "not XMP luna can safely edit (there is text around the XMP that is not XML); "
            "it was left as it is"
        )
    declaration = _ENCODING.search(text[:start])
    if declaration and declaration.group(3).lower().replace("-", "") != "utf8":
        text = text[: declaration.start(3)] + "UTF-8" + text[declaration.end(3) :]
    return text, bom


def _only_misc(text: str) -> bool:
    """Whether the text is only what XML allows around the root element: white space,
    processing instructions (the xpacket wrapper, an XML declaration) and comments."""
    at = 0
    while at < len(text):
        if text[at] in " \t\r\n":
            at += 1
            continue
        for opening, closing in (("<?", "?>"), ("<!--", "-->")):
            if text.startswith(opening, at):
                end = text.find(closing, at + len(opening))
                if end < 0:
                    return False
                at = end + len(closing)
                break
        else:
            return False
    return True


def _root(text: str) -> tuple[int, int]:
    span = xmp.root_span(text)
    if span is None or span[1] is None:
        raise SidecarRefused(
            "not XMP luna can safely edit (its root element is not closed); it was left as it is"
        )
    return span[0], span[1]


def _verify(result: bytes, fields: SidecarFields) -> None:
    """The edit reads back as exactly what luna wrote, or nothing is written: a sidecar
    whose XML defeated the editor is left alone rather than damaged."""
    info = xmp.parse_xmp(result)
    got = fields_of(info) if info is not None else None
    if got is not None:
        # What the sidecar may say beside luna: the other languages of a title luna does not
        # have, and the supplementary fields luna did not give.
        got = replace(
            got,
            title=got.title if fields.title is not None else None,
            description=got.description if fields.description is not None else None,
        )
        if fields.taken is None:
            got = replace(got, taken=None, utc_offset=None)
        if fields.latitude is None:
            got = replace(got, latitude=None, longitude=None, altitude=None)
    if got != fields:
        raise SidecarRefused(
            "not XMP luna can safely edit (its structure defeated luna's editor); "
            "it was left as it is"
        )


# -- editing the text ----------------------------------------------------------------------


@dataclass(eq=False, slots=True)
class _Attr:
    qname: str
    ns: str | None  # None for a namespace declaration (xmlns, xmlns:p)
    name: str
    start: int  # where the white space before it starts
    name_start: int
    value_start: int  # the opening quote
    end: int  # after the closing quote

    def value(self, buf: bytes) -> str:
        return buf[self.value_start + 1 : self.end - 1].decode("utf-8")


@dataclass(eq=False, slots=True)
class _Element:
    kind: str  # root, rdf, description, property, container, item: see _Scan._kind
    ns: str
    name: str
    qname: str
    start: int  # its "<"
    tag_end: int  # after its start tag
    empty: bool  # <x/>
    scope: dict[str, str]  # prefix -> namespace inside it; "" for the default namespace
    attrs: list[_Attr]
    children: list[_Element] = field(default_factory=list)  # those kept
    first_child: int = -1  # where its first child element starts, kept or not
    close: int = -1  # where its end tag starts (for an empty element: where "/>" starts)
    end: int = -1  # after it


_START_TAG = re.compile(rb"""<([^\s/>]+)((?:\s+[^\s=/>]+\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*(/?)>""")
_ATTRIBUTE = re.compile(rb"""(\s+)([^\s=/>]+)\s*=\s*("[^"]*"|'[^']*')""")
_SPACE = b" \t\r\n"


class _Scan:
    """Where things are in the markup: the root, the rdf:RDF elements, the top-level
    rdf:Description elements with luna's properties (`managed`) and the items of the Lang
    Alt ones, which luna edits in place. Nothing else is kept, so memory does not grow with
    what other programs wrote: a darktable history is read by expat and forgotten."""

    def __init__(self, buf: bytes, managed: set[tuple[str, str]]):
        self.buf = buf
        self.managed = managed
        self.root: _Element | None = None
        self.rdfs: list[_Element] = []
        self.descriptions: list[_Element] = []
        self._stack: list[_Element | None] = []
        self._pending: dict[str, str] = {}
        parser = xmp.safe_parser()
        parser.namespace_prefixes = True
        parser.StartNamespaceDeclHandler = self._declare
        parser.StartElementHandler = self._start
        parser.EndElementHandler = self._end
        self._parser = parser
        parser.Parse(buf, True)

    def _declare(self, prefix: str | None, uri: str | None) -> None:
        self._pending[prefix or ""] = uri or ""

    def _start(self, name: str, _attrs) -> None:
        if len(self._stack) >= MAX_DEPTH:
            raise xmp.Refused(f"nested more than {MAX_DEPTH} deep")
        pending, self._pending = self._pending, {}
        parent = self._stack[-1] if self._stack else None
        ns, _, rest = name.partition("}") if "}" in name else ("", "", name)
        local = rest.partition("}")[0]
        at = self._parser.CurrentByteIndex
        if parent is not None and parent.first_child < 0:
            parent.first_child = at
        kind = self._kind(parent, ns, local)
        if kind is None:
            self._stack.append(None)
            return
        element = self._element(kind, at, ns, local, parent, pending)
        self._stack.append(element)
        if kind in ("root", "rdf") and self.root is None:
            self.root = element
        if kind == "rdf":
            self.rdfs.append(element)
        elif kind == "description":
            self.descriptions.append(element)
        if parent is not None:
            parent.children.append(element)

    def _kind(self, parent: _Element | None, ns: str, local: str) -> str | None:
        """What the element is, if it is kept: the root; an rdf:RDF (the root or its
        child); a top-level rdf:Description; its properties; the container and items of
        dc:title and dc:description."""
        is_rdf = (ns, local) == (RDF, "RDF")
        if not self._stack:
            return "rdf" if is_rdf else "root"
        if parent is None:
            return None
        if parent.kind == "root":
            return "rdf" if is_rdf else None
        if parent.kind == "rdf":
            return "description" if (ns, local) == (RDF, "Description") else None
        if parent.kind == "description":
            return "property" if (ns, local) in self.managed else None
        if parent.kind == "property" and (parent.ns, parent.name) in _LANG_ALTS:
            return "container"
        return "item" if parent.kind == "container" else None

    def _element(
        self,
        kind: str,
        at: int,
        ns: str,
        local: str,
        parent: _Element | None,
        pending: dict[str, str],
    ) -> _Element:
        tag = _START_TAG.match(self.buf, at)
        if tag is None:  # expat accepted it: cannot happen
            raise xmp.Refused("a start tag luna cannot follow")
        scope = parent.scope if parent is not None else {}
        if pending:
            scope = {**scope, **pending}
        qname = tag.group(1).decode("utf-8")
        attrs = []
        for m in _ATTRIBUTE.finditer(self.buf, tag.start(2), tag.end(2)):
            attr_qname = m.group(2).decode("utf-8")
            prefix, colon, attr_local = attr_qname.rpartition(":")
            attr_ns: str | None
            if attr_qname == "xmlns" or prefix == "xmlns":
                attr_ns = None
            elif prefix == "xml":
                attr_ns = XML
            else:
                attr_ns = scope.get(prefix, "") if colon else ""
            if attr_ns not in (None, RDF, XML) and (attr_ns, attr_local) not in self.managed:
                continue  # another program's: nothing to do with it
            attrs.append(
                _Attr(attr_qname, attr_ns, attr_local, m.start(1), m.start(2), m.start(3), m.end(3))
            )
        return _Element(kind, ns, local, qname, at, tag.end(), bool(tag.group(3)), scope, attrs)

    def _end(self, _name: str) -> None:
        element = self._stack.pop()
        if element is None:
            return
        if element.empty:
            element.close, element.end = element.tag_end - 2, element.tag_end
        else:
            element.close = self._parser.CurrentByteIndex
            element.end = self.buf.index(b">", element.close) + 1


class _Editor:
    """Edits of the markup, as (start, end, new bytes) spans applied at the end."""

    def __init__(self, buf: bytes):
        self.buf = buf
        self.newline = b"\r\n" if b"\r\n" in buf else b"\n"
        self.step = b" "

    def edit(self, plan: list[tuple[tuple[str, str], _Action]]) -> bytes:
        managed = {prop for prop, _ in plan}
        scan = self._scan(managed)
        if not scan.descriptions:
            # Somewhere to write: an rdf:Description is added first, then edited as any.
            self.buf = self._apply([self._add_description(scan)])
            scan = self._scan(managed)
        self.scan = scan
        self.rdfs = scan.rdfs
        self.step = self._step(scan.descriptions[0])
        self.edits: list[tuple[int, int, bytes]] = []
        self.appended: dict[int, list[_Node]] = {}
        self.declared: dict[int, dict[str, str]] = {}  # description -> namespace -> prefix
        for prop, action in plan:
            self._write(prop, action)
        for index, nodes in self.appended.items():
            self._append(scan.descriptions[index], nodes)
        for index, declared in self.declared.items():
            if declared:
                self._declare(scan.descriptions[index], declared)
        return self._apply(self.edits)

    def _scan(self, managed: set[tuple[str, str]]) -> _Scan:
        try:
            return _Scan(self.buf, managed)
        except xmp.Refused as exc:
            raise SidecarRefused(
                f"not XMP luna can safely edit ({exc}); it was left as it is"
            ) from None

    # -- one property

    def _write(self, prop: tuple[str, str], action: _Action) -> None:
        if isinstance(action, _Keep):
            return
        found = self._occurrences(prop)
        if isinstance(action, _IfPresent):
            if not found:
                return
            action = action.node
        if isinstance(action, _LangAlt):
            self._write_language_alternative(prop, action.text, found)
            return
        if action is None:
            for _, where in found:
                self._remove(where)
            return
        self._write_node(action, found)

    def _occurrences(self, prop: tuple[str, str]) -> list[tuple[int, _Attr | _Element]]:
        """Every form of the property, attributes before elements in each rdf:Description,
        as the reader takes them: (index of the description, where)."""
        found: list[tuple[int, _Attr | _Element]] = []
        for index, description in enumerate(self.scan.descriptions):
            found.extend((index, a) for a in description.attrs if (a.ns, a.name) == prop)
            found.extend((index, c) for c in description.children if (c.ns, c.name) == prop)
        return found

    def _write_node(self, node: _Node, found: list[tuple[int, _Attr | _Element]]) -> None:
        if not found:
            self.appended.setdefault(0, []).append(node)
            return
        (index, first), rest = found[0], found[1:]
        for _, where in rest:
            self._remove(where)
        if isinstance(first, _Attr):
            if node.simple:  # in place, where the writer put it
                value = b'"' + _escape_attribute(node.text or "").encode("utf-8") + b'"'
                self.edits.append((first.value_start, first.end, value))
            else:
                self._remove(first)
                self.appended.setdefault(index, []).append(node)
            return
        description = self.scan.descriptions[index]
        indent = self._line_indent(first.start)
        if indent is None:
            indent = self._child_indent(description)
        text = self._render(node, indent, index)
        self.edits.append((first.start, first.end, text))

    def _write_language_alternative(
        self, prop: tuple[str, str], text: str | None, found: list[tuple[int, _Attr | _Element]]
    ) -> None:
        """Replace, add or remove the x-default item; the other languages stay."""
        if text is None:
            for _, where in found:
                alt = self._alt(where)
                if alt is None:
                    self._remove(where)
                    continue
                defaults = [li for li in alt.children if _is_default(li, self.buf)]
                if len(defaults) == len(alt.children):
                    self._remove(where)
                else:
                    for li in defaults:
                        self._remove(li)
            return
        node = _Node(RDF, "li", text, attrs=[(XML, "lang", "x-default")])
        whole = _Node(*prop, children=[_Node(RDF, "Alt", children=[node])])
        alt = self._alt(found[0][1]) if found else None
        rdf = _prefix_in(alt.scope, RDF) if alt is not None else None
        if alt is None or rdf is None:
            self._write_node(whole, found)
            return
        for _, where in found[1:]:
            self._remove(where)
        rendered = self._render_with(node, b"", lambda ns: "xml" if ns == XML else rdf)
        defaults = [item for item in alt.children if _is_default(item, self.buf)]
        if defaults:
            self.edits.append((defaults[0].start, defaults[0].end, rendered))
            for item in defaults[1:]:
                self._remove(item)
            return
        # No x-default item: it goes first, as the XMP specification asks, laid out as the
        # item that was first.
        indent = self._line_indent(alt.children[0].start)
        lead = b"" if indent is None else self.newline + indent
        self.edits.append((alt.tag_end, alt.tag_end, lead + rendered))

    def _alt(self, where: _Attr | _Element) -> _Element | None:
        """The rdf:Alt of a language alternative written as an element, with its items; None
        for any other form (which is then replaced whole)."""
        if isinstance(where, _Attr) or len(where.children) != 1:
            return None
        alt = where.children[0]
        if (alt.ns, alt.name) != (RDF, "Alt") or not alt.children:
            return None
        return alt if all((li.ns, li.name) == (RDF, "li") for li in alt.children) else None

    # -- spans

    def _remove(self, where: _Attr | _Element) -> None:
        if isinstance(where, _Attr):
            self.edits.append((where.start, where.end, b""))
            return
        start = where.start
        while start > 0 and self.buf[start - 1] in _SPACE:
            start -= 1
        self.edits.append((start, where.end, b""))

    def _append(self, description: _Element, nodes: list[_Node]) -> None:
        index = self.scan.descriptions.index(description)
        indent = self._child_indent(description)
        items = [self._render(node, indent, index) for node in nodes]
        self.edits.append(self._at_end(description, indent, items))

    def _at_end(
        self, parent: _Element, indent: bytes, items: list[bytes]
    ) -> tuple[int, int, bytes]:
        """The edit that puts `items`, one a line at `indent`, after the parent's content
        (an empty element <a/> gets an end tag)."""
        text = b"".join(self.newline + indent + item for item in items)
        own = self._line_indent(parent.start) or b""
        if parent.empty:
            closing = self.newline + own + b"</" + parent.qname.encode("utf-8") + b">"
            return parent.close, parent.end, b">" + text + closing
        point = parent.close
        while point > parent.tag_end and self.buf[point - 1] in _SPACE:
            point -= 1
        if b"\n" not in self.buf[point : parent.close]:
            text += self.newline + own
        return point, point, text

    def _declare(self, description: _Element, declared: dict[str, str]) -> None:
        """Namespace declarations on the rdf:Description, after those it has."""
        xmlns = [a for a in description.attrs if a.ns is None]
        if xmlns:
            point = xmlns[-1].end
            separator = self.buf[xmlns[-1].start : xmlns[-1].name_start]
        else:
            about = [a for a in description.attrs if a.ns == RDF]
            name_end = description.start + 1 + len(description.qname.encode("utf-8"))
            point = about[-1].end if about else name_end
            own = self._line_indent(description.start) or b""
            separator = self.newline + own + self.step * 2
        text = b"".join(
            separator + f'xmlns:{prefix}="{_escape_attribute(ns)}"'.encode()
            for ns, prefix in declared.items()
        )
        self.edits.append((point, point, text))

    def _apply(self, edits: list[tuple[int, int, bytes]]) -> bytes:
        """The markup with the edits made, in one pass. They never overlap (an insertion
        may be where a removal starts: it goes first)."""
        pieces, at = [], 0
        for start, end, text in sorted(edits, key=lambda edit: (edit[0], edit[1])):
            if start < at:
                raise SidecarRefused("luna's edits overlap (a bug in luna); it was left as it is")
            pieces += [self.buf[at:start], text]
            at = end
        pieces.append(self.buf[at:])
        return b"".join(pieces)

    def _add_description(self, scan: _Scan) -> tuple[int, int, bytes]:
        """An empty rdf:Description, in the first rdf:RDF (or a new rdf:RDF in the root)."""
        parent = scan.rdfs[0] if scan.rdfs else scan.root
        assert parent is not None  # expat parsed a root element
        own = self._line_indent(parent.start) or b""
        step = self.step
        rdf = _prefix_in(parent.scope, RDF)
        declaration = ""
        if rdf is None:
            rdf = _free_prefix("rdf", parent.scope)
            declaration = f' xmlns:{rdf}="{RDF}"'
        description = f'<{rdf}:Description{declaration if scan.rdfs else ""} {rdf}:about="">'
        description += f"</{rdf}:Description>"
        text = description.encode("utf-8")
        if not scan.rdfs:
            inner = self.newline + own + step * 2 + text + self.newline + own + step
            text = f"<{rdf}:RDF{declaration}>".encode() + inner + f"</{rdf}:RDF>".encode()
        return self._at_end(parent, own + step, [text])

    # -- layout

    def _line_indent(self, position: int) -> bytes | None:
        """The white space before `position` when it starts a line, else None."""
        start = position
        while start > 0 and self.buf[start - 1] in b" \t":
            start -= 1
        return self.buf[start:position] if start > 0 and self.buf[start - 1] == 10 else None

    def _child_indent(self, description: _Element) -> bytes:
        """The indentation of the description's properties (of its first one)."""
        if description.first_child >= 0:
            indent = self._line_indent(description.first_child)
            if indent is not None:
                return indent
        return (self._line_indent(description.start) or b"") + self.step

    def _step(self, description: _Element) -> bytes:
        """One level of indentation, as the sidecar has it (Adobe and Exiv2 use one space)."""
        own = self._line_indent(description.start) or b""
        if description.first_child >= 0:
            indent = self._line_indent(description.first_child)
            if indent is not None and indent.startswith(own) and len(indent) > len(own):
                return indent[len(own) :]
        for rdf in self.rdfs:
            outer = self._line_indent(rdf.start)
            if outer is not None and own.startswith(outer) and len(own) > len(outer):
                return own[len(outer) :]
        return b" "

    # -- new elements

    def _render(self, node: _Node, indent: bytes, index: int) -> bytes:
        return self._render_with(node, indent, lambda ns: self._prefix(index, ns))

    def _render_with(self, node: _Node, indent: bytes, prefix: Callable[[str], str]) -> bytes:
        """The element, its first line unindented, the next ones at `indent` and deeper."""
        qname = f"{prefix(node.ns)}:{node.name}".encode()
        attrs = b"".join(
            f' {prefix(ns)}:{name}="{_escape_attribute(value)}"'.encode()
            for ns, name, value in node.attrs
        )
        if node.children:
            inner = indent + self.step
            children = b"".join(
                self.newline + inner + self._render_with(child, inner, prefix)
                for child in node.children
            )
            content = children + self.newline + indent
        else:
            content = _escape_text(node.text or "").encode("utf-8")
        return b"".join((b"<", qname, attrs, b">", content, b"</", qname, b">"))

    def _prefix(self, index: int, ns: str) -> str:
        """The prefix of `ns` in the rdf:Description: one it has, else one declared there."""
        if ns == XML:
            return "xml"
        declared = self.declared.setdefault(index, {})
        if ns in declared:
            return declared[ns]
        scope = self.scan.descriptions[index].scope
        found = _prefix_in(scope, ns)
        if found is not None:
            return found
        prefix = _free_prefix(
            PREFIXES.get(ns, "ns"), {**scope, **{p: n for n, p in declared.items()}}
        )
        declared[ns] = prefix
        return prefix


def _prefix_in(scope: dict[str, str], ns: str) -> str | None:
    """A prefix bound to `ns` (the usual one if it is), never the default namespace."""
    prefixes = sorted(prefix for prefix, uri in scope.items() if uri == ns and prefix)
    usual = PREFIXES.get(ns)
    return usual if usual in prefixes else (prefixes[0] if prefixes else None)


def _free_prefix(wanted: str, scope: dict[str, str]) -> str:
    prefix, n = wanted, 1
    while prefix in scope:
        prefix, n = f"{wanted}{n}", n + 1
    return prefix


def _is_default(li: _Element, buf: bytes) -> bool:
    lang = next((a for a in li.attrs if (a.ns, a.name) == (XML, "lang")), None)
    return lang is not None and lang.value(buf).strip().lower() == "x-default"


def _escape_text(text: str) -> str:
    text = xmp.clean_markup(text)
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")
    )


def _escape_attribute(text: str) -> str:
    text = _escape_text(text).replace('"', "&quot;")
    return text.replace("\t", "&#9;").replace("\n", "&#10;")
