"""ISO base media files (MP4, MOV, 3GP, CR3, JPEG XL): the box walker, and the metadata boxes
of a movie that MediaInfo does not report.

MediaInfo gives a movie's dates, camera and Apple/Android ISO 6709 position; it says nothing
of a 3GPP LocationInformation box (`loci`), of XMP (QuickTime's `XMP_` box, MP4's XMP `uuid`
box) or of keywords (`kywd`, `©key`, the iTunes `keyw` item, Apple's mdta keywords). They
are read here, from the movie header (`moov`) and the top level, never from the media data.

`data` is the whole file (usually an mmap): it is read by slices, and every slice is capped,
so a box that claims gigabytes costs no more than a real one.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from luna.ingest.extract.xmp import MAX_PACKET

MAX_BOXES = 4096  # boxes listed at one level (real movies have tens)
MAX_TEXT = 64 * 1024  # the largest text value copied out (a keyword list, a place name)
MAX_KEYWORDS = 1000  # keywords kept from one movie, as from one XMP packet
MAX_STRINGS = 256  # strings read from one text box (one per language, or one per keyword)

XMP_UUID = bytes.fromhex("be7acfcb97a942e89c71999491e3afac")
# Keys of Apple's moov/meta (mdta), lower-cased as compared.
APPLE_LOCATION = "com.apple.quicktime.location.iso6709"
APPLE_KEYWORDS = "com.apple.quicktime.keywords"
UTF16_MARK = b"\xfe\xff"


# -- the box walker -------------------------------------------------------------------------


def iter_boxes(data, start: int, end: int):
    """(type, payload start, end) of the ISO-BMFF boxes in data[start:end]. A box that runs
    past the end is cut there and ends the listing; at most MAX_BOXES. Readers descend only
    along fixed paths (moov/trak/mdia/...), so nesting needs no limit of its own."""
    end = min(end, len(data))
    pos = start
    for _ in range(MAX_BOXES):
        if pos < 0 or pos + 8 > end:
            return
        size, kind = struct.unpack_from(">I4s", data, pos)
        header = 8
        if size == 1:
            if pos + 16 > end:
                return
            size, header = struct.unpack_from(">Q", data, pos + 8)[0], 16
        elif size == 0:
            size = end - pos
        if size < header:
            return
        yield kind, pos + header, min(pos + size, end)
        if pos + size >= end:
            return
        pos += size


def child(data, start: int, end: int, kind: bytes) -> tuple[int, int] | None:
    """The payload span of the first `kind` box in data[start:end]."""
    for found, payload, box_end in iter_boxes(data, start, end):
        if found == kind:
            return payload, box_end
    return None


def box_path(data, start: int, end: int, *kinds: bytes) -> tuple[int, int] | None:
    """The payload of the box reached through `kinds` (moov, trak, ...), first of each."""
    span: tuple[int, int] | None = (start, end)
    for kind in kinds:
        span = child(data, *span, kind) if span else None
    return span


# -- a movie's metadata boxes ---------------------------------------------------------------


@dataclass(slots=True)
class MovieTags:
    """What the movie header says beyond MediaInfo's report; empty where it says nothing."""

    iso6709: list[str] = field(default_factory=list)  # Apple's key, then ©xyz, best first
    # (latitude, longitude, altitude) from 3GPP loci boxes, as stored (not yet checked)
    loci: list[tuple[float, float, float]] = field(default_factory=list)
    xmp: list[bytes] = field(default_factory=list)  # XMP_ then uuid packets, as found
    keywords: list[str] = field(default_factory=list)

    def add_keyword(self, text: str) -> None:
        text = text.strip()
        if text and text not in self.keywords and len(self.keywords) < MAX_KEYWORDS:
            self.keywords.append(text)


def read_movie_tags(data) -> MovieTags:
    """The metadata boxes of a QuickTime/MP4 movie in `data` (the whole file)."""
    tags = MovieTags()
    for kind, start, end in iter_boxes(data, 0, len(data)):
        if kind == b"moov":
            _read_moov(data, start, end, tags)
        elif kind == b"uuid":
            _read_xmp_uuid(data, start, end, tags)
    return tags


def _read_moov(data, start: int, end: int, tags: MovieTags) -> None:
    for kind, payload, box_end in iter_boxes(data, start, end):
        if kind == b"udta":
            _read_user_data(data, payload, box_end, tags)
        elif kind == b"meta":
            _read_apple_keys(data, *_meta_children(data, payload, box_end), tags)
        elif kind == b"uuid":
            _read_xmp_uuid(data, payload, box_end, tags)
        elif kind == b"trak":
            for inner, inner_start, inner_end in iter_boxes(data, payload, box_end):
                if inner == b"uuid":
                    _read_xmp_uuid(data, inner_start, inner_end, tags)


def _read_user_data(data, start: int, end: int, tags: MovieTags) -> None:
    """moov/udta: QuickTime's ©xyz, ©key and XMP_, 3GPP's loci and kywd, iTunes' meta/ilst."""
    for kind, payload, box_end in iter_boxes(data, start, end):
        if kind == b"\xa9xyz":
            tags.iso6709.extend(_international_texts(data, payload, box_end)[:1])
        elif kind == b"\xa9key":
            for text in _international_texts(data, payload, box_end):
                tags.add_keyword(text)
        elif kind == b"loci":
            position = _location_information(_slice(data, payload, box_end, MAX_TEXT))
            if position is not None:
                tags.loci.append(position)
        elif kind == b"kywd":
            for text in _keywords_box(_slice(data, payload, box_end, MAX_TEXT)):
                tags.add_keyword(text)
        elif kind == b"XMP_":
            tags.xmp.append(_slice(data, payload, box_end, MAX_PACKET + 1))
        elif kind == b"meta":
            _read_item_list(data, *_meta_children(data, payload, box_end), tags)


def _read_xmp_uuid(data, start: int, end: int, tags: MovieTags) -> None:
    if _slice(data, start, end, 16) == XMP_UUID:
        tags.xmp.append(_slice(data, start + 16, end, MAX_PACKET + 1))


def _meta_children(data, start: int, end: int) -> tuple[int, int]:
    """The span of a meta box's children. ISO's meta box starts with version and flags,
    QuickTime's does not: its first child (hdlr) follows at once."""
    if _slice(data, start + 4, end, 4) == b"hdlr":
        return start, end
    return start + 4, end


def _read_apple_keys(data, start: int, end: int, tags: MovieTags) -> None:
    """moov/meta with `keys` (mdta names) and `ilst` (values by 1-based key index)."""
    keys = child(data, start, end, b"keys")
    items = child(data, start, end, b"ilst")
    if keys is None or items is None:
        return
    names = _key_names(data, *keys)
    for kind, payload, box_end in iter_boxes(data, *items):
        name = names.get(int.from_bytes(kind, "big"))
        if name == APPLE_LOCATION:
            tags.iso6709[:0] = _data_texts(data, payload, box_end)[:1]  # the best source
        elif name == APPLE_KEYWORDS:
            for text in _data_texts(data, payload, box_end):
                tags.add_keyword(text)


def _key_names(data, start: int, end: int) -> dict[int, str]:
    """{1-based index: lower-cased name} from a `keys` box (version, flags, count, entries of
    size, namespace and name)."""
    names = {}
    pos = start + 8
    for index in range(1, MAX_BOXES + 1):
        if pos + 8 > end:
            break
        size = struct.unpack_from(">I", data, pos)[0]
        if size < 8 or pos + size > end:
            break
        names[index] = _decode(_slice(data, pos + 8, pos + size, MAX_TEXT), utf16=False).lower()
        pos += size
    return names


def _read_item_list(data, start: int, end: int, tags: MovieTags) -> None:
    """udta/meta/ilst, as iTunes and many encoders write it: the `keyw` and `©key` items."""
    items = child(data, start, end, b"ilst")
    if items is None:
        return
    for kind, payload, box_end in iter_boxes(data, *items):
        if kind in (b"keyw", b"\xa9key"):
            for text in _data_texts(data, payload, box_end):
                tags.add_keyword(text)


def _data_texts(data, start: int, end: int) -> list[str]:
    """The texts of an ilst item's `data` boxes (type 1 is UTF-8, 2 is UTF-16)."""
    texts: list[str] = []
    for kind, payload, box_end in iter_boxes(data, start, end):
        if kind != b"data" or payload + 8 > box_end or len(texts) >= MAX_STRINGS:
            continue
        value_type = struct.unpack_from(">I", data, payload)[0] & 0xFFFFFF
        if value_type in (1, 2):
            raw = _slice(data, payload + 8, box_end, MAX_TEXT)
            texts.append(_decode(raw, utf16=value_type == 2))
    return [text for text in texts if text]


def _international_texts(data, start: int, end: int) -> list[str]:
    """The strings of a QuickTime user data text (©xyz, ©key): records of a 16-bit length,
    a 16-bit language code and the text, one per language."""
    texts = []
    pos = start
    for _ in range(MAX_STRINGS):
        if pos + 4 > end:
            break
        length = struct.unpack_from(">H", data, pos)[0]
        if pos + 4 + length > end:
            # The QuickTime specification counts the 4 header bytes in the length; hardly
            # any writer does, but a text that fits once they are taken off is whole.
            length -= 4
            if length < 0 or pos + 4 + length > end:
                break  # cut short: a damaged box, not a shorter text
        text = _decode(_slice(data, pos + 4, pos + 4 + length, MAX_TEXT))
        if text:
            texts.append(text)
        pos += 4 + length
    return texts


def _location_information(raw: bytes) -> tuple[float, float, float] | None:
    """(latitude, longitude, altitude) from a 3GPP `loci` box (TS 26.244 8.4.2): version and
    flags, a language code, the place name (NUL-terminated, UTF-8 or UTF-16 with a byte order
    mark), a role byte, then longitude, latitude and altitude as signed 16.16 fixed point,
    then a body and notes that luna does not use."""
    name_end = _string_end(raw, 6)
    if name_end is None or name_end + 14 > len(raw):
        return None
    # The role byte (0 where it was shot, 1 a real place shown, 2 a fictional one) is not
    # checked: ExifTool reports every role's position, and writers set 0.
    lon, lat, alt = struct.unpack_from(">iii", raw, name_end + 2)
    return lat / 65536, lon / 65536, alt / 65536


def _string_end(raw: bytes, start: int) -> int | None:
    """Where the NUL (UTF-8) or NUL NUL (UTF-16, marked) ending the string at `start` ends,
    less one: the position of its last terminator byte."""
    if raw[start : start + 2] == UTF16_MARK:
        for pos in range(start + 2, len(raw) - 1, 2):
            if raw[pos : pos + 2] == b"\0\0":
                return pos + 1
        return None
    pos = raw.find(b"\0", start)
    return pos if pos >= 0 else None


def _keywords_box(raw: bytes) -> list[str]:
    """The keywords of a 3GPP `kywd` box (TS 26.244 8.4.5): version and flags, a language
    code, a count, then that many strings each after its byte length. iPhones write plain
    NUL-separated text instead, recognised as ExifTool does by its first byte."""
    if raw[:1] != b"\0":
        return [text for part in raw.split(b"\0") if (text := _decode(part))]
    if len(raw) < 7:
        return []
    texts = []
    pos = 7
    for _ in range(raw[6]):
        if pos >= len(raw):
            break
        length = raw[pos]
        if pos + 1 + length > len(raw):  # cut short, as ExifTool reads it
            break
        text = _decode(raw[pos + 1 : pos + 1 + length])
        if text:
            texts.append(text)
        pos += 1 + length
    return texts


def _slice(data, start: int, end: int, limit: int) -> bytes:
    """data[start:end], at most `limit` bytes of it."""
    return bytes(data[start : min(end, start + limit)]) if start < end else b""


def _decode(raw: bytes, utf16: bool | None = None) -> str:
    """Text from a box: UTF-16 if told so or marked so, else UTF-8 (Latin-1 where it is not
    valid UTF-8, as old QuickTime wrote Mac Roman); NULs and surrounding blanks removed."""
    if utf16 is None:
        utf16 = raw.startswith((UTF16_MARK, b"\xff\xfe"))
    if utf16:
        marked = raw[:2] in (UTF16_MARK, b"\xff\xfe")
        text = raw.decode("utf-16" if marked else "utf-16-be", "replace")
    else:
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            text = raw.decode("latin-1")
    text = text.replace("\x00", "").strip()
    return text if text.isprintable() else ""
