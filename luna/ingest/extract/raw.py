"""Camera RAW files: date taken, position, camera, exposure and displayed size, read from each
format's own structure without decoding a pixel.

Most RAW formats are TIFF inside (CR2, NEF, NRW, ARW, SR2, DNG, PEF, SRW, ORF, RW2, IIQ, 3FR,
ERF, KDC, DCR, MEF, MOS): their IFD0 and EXIF/GPS sub-IFDs are read with Pillow's EXIF reader
and the same code that reads a JPEG's EXIF (`image.read_exif`). Other formats wrap a TIFF
structure (CR3's CMT boxes, MRW's TTW block), carry an embedded JPEG with EXIF (RAF, X3F) or
have fields of their own (CRW's CIFF heap, X3F's header and properties, MRW, Kyocera RAW).

Dimensions follow ExifTool's choice, the reference photographers compare against: the full
resolution image (the TIFF directory whose SubfileType is 0, else IFD0), the crop of the
sensor for RW2, the size in the format's own header for CRW, MRW and IIQ, and the embedded
JPEG's size for RAF. X3F is the exception: ExifTool prefers an embedded JPEG's size to the
header's, luna keeps the header's, which is the image's. Sizes are given as displayed:
swapped when the picture is turned by 90 degrees (EXIF orientation, or the rotation a CRW,
X3F or IIQ header records).

`data` is the whole file (usually an mmap): it is read by slices and struct.unpack_from, never
copied whole, and every offset and length read from the file is checked against its end.
"""

from __future__ import annotations

import datetime as dt
import math
import struct
from dataclasses import dataclass, field
from typing import Any

from luna.ingest.extract import image
from luna.ingest.extract.dates import parse_exif_datetime
from luna.ingest.extract.facts import Extracted
from luna.ingest.extract.isobmff import box_path as _path
from luna.ingest.extract.isobmff import child as _child
from luna.ingest.extract.isobmff import iter_boxes
from luna.ingest.extract.window import Window

# Hostile files: every walk is bounded by these, whatever the file claims.
MAX_IFDS = 32  # directories visited in one TIFF structure (the IFD chain and SubIFDs)
MAX_SUBIFDS = 16  # SubIFD offsets followed from one directory
MAX_ENTRIES = 1024  # entries read from one directory (real ones have under 200)
MAX_CIFF_DEPTH = 8  # nesting of CRW heaps
MAX_CIFF_RECORDS = 4096  # records read from a whole CRW file
MAX_SECTIONS = 256  # X3F directory entries, MRW blocks
MAX_PROPERTIES = 1024  # X3F properties
SMALL_VALUE = 4096  # the largest format-specific field copied out of the file

# TIFF magic numbers: 42 is TIFF's own; Panasonic (RW2, RAW, RWL) uses 0x55 and Olympus ORF
# "RO" or "RS" in place of it, with a standard IFD structure behind.
TIFF_MAGIC, PANASONIC_MAGIC, OLYMPUS_MAGICS = 42, 0x55, (0x4F52, 0x5352)

# TIFF tags used for the structure (the EXIF ones are image.py's).
SUBFILE_TYPE, OLD_SUBFILE_TYPE, IMAGE_WIDTH, IMAGE_HEIGHT = 0x00FE, 0x00FF, 0x0100, 0x0101
SUB_IFDS, DNG_VERSION = 0x014A, 0xC612
# Panasonic's IFD0: the sensor's crop borders, ISO, and the JPEG that carries the full EXIF.
PANASONIC_TOP, PANASONIC_LEFT, PANASONIC_BOTTOM, PANASONIC_RIGHT = 4, 5, 6, 7
PANASONIC_ISO, PANASONIC_JPEG = 0x0017, 0x002E

# Bytes per value of each TIFF field type (1 BYTE to 13 IFD; 16-18 are BigTIFF's 8-byte ones),
# and how to unpack the integer ones.
TIFF_TYPE_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8}
TIFF_TYPE_SIZES.update({13: 4, 16: 8, 17: 8, 18: 8})
TIFF_INT_FORMATS = {1: "B", 3: "H", 4: "I", 6: "b", 8: "h", 9: "i", 13: "I", 16: "Q", 17: "q"}

# Format names for the TIFF-based RAWs that cannot be told apart by content.
FORMAT_BY_MIME = {
    "image/x-canon-cr2": "CR2",
    "image/x-nikon-nef": "NEF",
    "image/x-nikon-nrw": "NRW",
    "image/x-sony-arw": "ARW",
    "image/x-sony-sr2": "SR2",
    "image/x-sony-srf": "SRF",
    "image/x-adobe-dng": "DNG",
    "image/x-pentax-pef": "PEF",
    "image/x-samsung-srw": "SRW",
    "image/x-olympus-orf": "ORF",
    "image/x-panasonic-rw2": "RW2",
    "image/x-panasonic-raw": "RAW",
    "image/x-leica-rwl": "RWL",
    "image/x-phaseone-iiq": "IIQ",
    "image/x-hasselblad-3fr": "3FR",
    "image/x-epson-erf": "ERF",
    "image/x-kodak-dcr": "DCR",
    "image/x-kodak-kdc": "KDC",
    "image/x-kodak-k25": "K25",
    "image/x-mamiya-mef": "MEF",
    "image/x-leaf-mos": "MOS",
}

CANON_UUID = bytes.fromhex("85c0b687820f11e08111f4ce462b6a48")  # CR3's metadata box in moov

# Quarter turns: EXIF orientations for a rotation clockwise in degrees (CRW, X3F, IIQ).
ORIENTATION_BY_ROTATION = {0: 1, 90: 6, 180: 3, 270: 8}


class Damaged(Exception):
    """The structure is not what its format promises; the message says where."""


def extract_raw(data, mime: str, out: Extracted) -> None:
    """Fill `out` from a camera RAW file. `data` is the whole file as a bytes-like object
    (an mmap.mmap or bytes): slice it, never copy it whole."""
    reader = _reader_for(data)
    if reader is None:
        out.errors.append("raw: not a RAW structure luna knows")
        return
    try:
        reader(data, mime, out)
    except Exception as exc:  # hostile files raise anything; what was read so far stays
        out.errors.append(f"raw: {image.short_reason(exc)}")


def _reader_for(data):
    """The reader for this file's structure, told by its first bytes (the MIME type only
    names the variant: a Kyocera RAW and a Panasonic RAW share the .raw extension)."""
    head = bytes(data[:16])
    if head.startswith(b"FUJIFILMCCD-RAW"):
        return _extract_raf
    if head[:4] == b"\0MRM":
        return _extract_mrw
    if head[:4] == b"FOVb":
        return _extract_x3f
    if head[:2] in (b"II", b"MM") and head[6:14] == b"HEAPCCDR":
        return _extract_crw
    if head[4:12] == b"ftypcrx ":
        return _extract_cr3
    if tiff_at(data, 0, len(data)) is not None:
        return _extract_tiff_raw
    if bytes(data[0x19:0x20]) == b"ARECOYK":  # "KYOCERA", stored backwards
        return _extract_kyocera
    return None


# -- reading the file by pieces ---------------------------------------------------------------


class Span:
    """data[start:end] for readers that index and slice (luna.ingest.extract.jpeg.scan_jpeg),
    without copying it: each slice copies only the bytes it asks for."""

    def __init__(self, data, start: int, end: int):
        self.data, self.start = data, start
        self.end = max(start, min(end, len(data)))

    def __len__(self) -> int:
        return self.end - self.start

    def __getitem__(self, key):
        if isinstance(key, slice):
            first, last, _ = key.indices(len(self))
            return self.data[self.start + first : self.start + max(first, last)]
        if not -len(self) <= key < len(self):
            raise IndexError("index out of range")
        return self.data[self.start + key % len(self)]


def _unpack(fmt: str, data, pos: int, end: int | None = None) -> tuple | None:
    """struct.unpack_from, or None when the value would run past `end` (or the file)."""
    limit = len(data) if end is None else min(end, len(data))
    if pos < 0 or pos + struct.calcsize(fmt) > limit:
        return None
    return struct.unpack_from(fmt, data, pos)


def _text(raw) -> str | None:
    """A NUL-terminated, space-padded string field; None if empty or not printable."""
    text = bytes(raw).split(b"\0", 1)[0].decode("latin-1").strip()
    return text if text and text.isprintable() else None


def _unix_time(seconds: int) -> dt.datetime | None:
    """A clock reading stored as seconds since 1970 (CRW, X3F): cameras store their local
    wall-clock time this way, so it is taken as it is, without a zone."""
    if not 0 < seconds < 2**32:
        return None
    return dt.datetime(1970, 1, 1) + dt.timedelta(seconds=seconds)


def set_displayed_size(out: Extracted, width, height) -> None:
    """Store the stored size as displayed: orientations 5-8 turn the picture on its side."""
    if not (isinstance(width, int) and isinstance(height, int)):
        return
    if not (0 < width < 2**31 and 0 < height < 2**31):
        return
    if out.metadata.get("orientation") in image.ROTATED_ORIENTATIONS:
        width, height = height, width
    out.width, out.height = width, height


def _fill_missing(out: Extracted, extra: Extracted) -> None:
    """Add what a second source (an embedded JPEG's EXIF) knows and `out` does not."""
    for key, value in extra.metadata.items():
        out.metadata.setdefault(key, value)
    if extra.start is not None and extra.date_source:
        out.offer_date(extra.start, extra.utc_offset, extra.date_source)
    if extra.location_source and extra.latitude is not None and extra.longitude is not None:
        out.offer_location(extra.latitude, extra.longitude, extra.altitude, extra.location_source)
    if getattr(out, "gps_utc", None) is None and getattr(extra, "gps_utc", None) is not None:
        out.gps_utc = extra.gps_utc
    out.errors.extend(extra.errors)


# -- TIFF structures ------------------------------------------------------------------------


@dataclass(slots=True)
class Tiff:
    """A TIFF structure inside `data`: offsets in it count from `base`, and nothing it points
    to may lie past `end` (the file's end, or the end of the box or block holding it)."""

    data: Any  # bytes, an mmap or a Span: anything struct.unpack_from and slices read
    base: int
    end: int
    order: str  # "<" little-endian ("II"), ">" big-endian ("MM")
    magic: int
    ifd0: int


@dataclass(slots=True)
class Entry:
    type: int
    count: int
    pos: int  # where the value is in the file: in the entry if it fits in 4 bytes


def tiff_at(data, base: int, end: int) -> Tiff | None:
    """The TIFF header at `base`, or None if there is none."""
    order = {b"II": "<", b"MM": ">"}.get(bytes(data[base : base + 2]))
    if order is None:
        return None
    fields = _unpack(f"{order}HI", data, base + 2, end)
    if fields is None:
        return None
    magic, ifd0 = fields
    if magic not in (TIFF_MAGIC, PANASONIC_MAGIC, *OLYMPUS_MAGICS) or ifd0 < 8:
        return None
    return Tiff(data, base, min(end, len(data)), order, magic, ifd0)


def _ifd(tiff: Tiff, offset: int) -> tuple[dict[int, Entry], int] | None:
    """The entries of the directory at `offset` and the offset of the next one (0: none)."""
    pos = tiff.base + offset
    header = _unpack(f"{tiff.order}H", tiff.data, pos, tiff.end) if offset >= 8 else None
    if header is None:
        return None
    count = min(header[0], MAX_ENTRIES, (tiff.end - pos - 2) // 12)
    entries: dict[int, Entry] = {}
    for i in range(count):
        at = pos + 2 + 12 * i
        tag, kind, n, value = struct.unpack_from(f"{tiff.order}HHII", tiff.data, at)
        inline = TIFF_TYPE_SIZES.get(kind, 0) * n <= 4
        entries.setdefault(tag, Entry(kind, n, at + 8 if inline else tiff.base + value))
    following = _unpack(f"{tiff.order}I", tiff.data, pos + 2 + 12 * count, tiff.end)
    return entries, following[0] if following and count == header[0] else 0


def _ints(tiff: Tiff, entry: Entry | None, limit: int = 1) -> list[int]:
    """Up to `limit` integer values of an entry; [] if it is not an integer or is cut off."""
    if entry is None or entry.type not in TIFF_INT_FORMATS:
        return []
    fmt = f"{tiff.order}{min(entry.count, limit)}{TIFF_INT_FORMATS[entry.type]}"
    return list(_unpack(fmt, tiff.data, entry.pos, tiff.end) or ())


def _first_int(tiff: Tiff, entry: Entry | None) -> int | None:
    values = _ints(tiff, entry)
    return values[0] if values else None


def _directories(tiff: Tiff) -> list[dict[int, Entry]]:
    """IFD0, its SubIFDs, IFD1 and its SubIFDs... in the order ExifTool reads them, each once
    and at most MAX_IFDS in all (hostile files loop their chains)."""
    found: list[dict[int, Entry]] = []
    seen: set[int] = set()
    offset = tiff.ifd0
    while offset and offset not in seen and len(found) < MAX_IFDS:
        seen.add(offset)
        parsed = _ifd(tiff, offset)
        if parsed is None:
            break
        entries, offset = parsed
        found.append(entries)
        for sub in _ints(tiff, entries.get(SUB_IFDS), MAX_SUBIFDS):
            if sub in seen or len(found) >= MAX_IFDS:
                continue
            seen.add(sub)
            sub_parsed = _ifd(tiff, sub)
            if sub_parsed is not None:
                found.append(sub_parsed[0])
    return found


def _full_resolution_size(tiff: Tiff, directories) -> tuple[int, int] | None:
    """ExifTool's ImageWidth/ImageHeight: the first directory marked full resolution
    (SubfileType 0, or the old SubfileType 1) if it has a size, else the first size found.
    In a NEF or DNG that is the raw image in a SubIFD, not IFD0's small preview."""
    first, marked = None, False
    for entries in directories:
        is_full = not marked and (
            _first_int(tiff, entries.get(SUBFILE_TYPE)) == 0
            or _first_int(tiff, entries.get(OLD_SUBFILE_TYPE)) == 1
        )
        marked = marked or is_full
        width = _first_int(tiff, entries.get(IMAGE_WIDTH))
        height = _first_int(tiff, entries.get(IMAGE_HEIGHT))
        if not (width and height):
            continue
        if is_full:
            return width, height
        first = first or (width, height)
    return first


def pillow_exif(tiff: Tiff):
    """Pillow's Exif reader over the TIFF structure, in place in the file. Pillow reads the
    IFD given by offset, so the non-standard magic numbers of RW2 and ORF are no obstacle."""
    from PIL import Image

    _refuse_oversized_directories(tiff)
    exif = Image.Exif()
    exif.endian = tiff.order
    # A Window reads like the file Pillow expects (read, seek, tell), without copying it.
    exif.load_from_fp(Window(tiff.data, tiff.base, tiff.end), tiff.ifd0)  # type: ignore[arg-type]
    return exif


def _refuse_oversized_directories(tiff: Tiff) -> None:
    """Pillow reads every entry a directory claims, up to 65535; a damaged count would cost
    it a long loop over garbage. IFD0, EXIF and GPS directories are checked first."""
    parsed = _ifd(tiff, tiff.ifd0)
    ifd0 = parsed[0] if parsed else {}
    sub_offsets = (_first_int(tiff, ifd0.get(tag)) for tag in (image.IFD_EXIF, image.IFD_GPS))
    for offset in (tiff.ifd0, *sub_offsets):
        count = (
            _unpack(f"{tiff.order}H", tiff.data, tiff.base + offset, tiff.end) if offset else None
        )
        if count and count[0] > MAX_ENTRIES:
            raise Damaged(f"a directory claims {count[0]} entries")


def read_tiff_exif(tiff: Tiff, out: Extracted):
    """IFD0 and the EXIF and GPS IFDs of a TIFF structure into `out`; returns the Exif."""
    exif = image.safely(out, "exif", lambda: pillow_exif(tiff))
    if exif is not None:
        read_exif(exif, out)
    return exif


def read_exif(exif, out: Extracted) -> None:
    """image.read_exif, plus what RAW files need beyond it; a broken part is noted."""
    image.safely(out, "exif", lambda: image.read_exif(exif, out))
    image.safely(out, "exif", lambda: _read_camera_from_exif_ifd(exif, out))
    image.safely(out, "exif", lambda: _read_high_iso(exif, out))


def _read_camera_from_exif_ifd(exif, out: Extracted) -> None:
    """Make and Model belong in IFD0, but some writers put them in the EXIF IFD, where
    ExifTool still finds them."""
    if "make" in out.metadata and "model" in out.metadata:
        return
    sub = exif.get_ifd(image.IFD_EXIF) or {}
    for key, tag in (("make", image.MAKE), ("model", image.MODEL)):
        if key not in out.metadata:
            image.put_text(out.metadata, key, sub.get(tag))


# EXIF's ISO tag stops at 65535; above that the camera writes the real value in one of these
# (which one SensitivityType says; any of them present is the same number).
SATURATED_ISO = 65535
ISO_BEYOND_65535 = (0x8832, 0x8833, 0x8831)  # RecommendedExposureIndex, ISOSpeed, SOS


def _read_high_iso(exif, out: Extracted) -> None:
    if out.metadata.get("iso") != SATURATED_ISO:
        return
    sub = exif.get_ifd(image.IFD_EXIF) or {}
    for tag in ISO_BEYOND_65535:
        value = image.to_int(sub.get(tag))
        if value and value > SATURATED_ISO:
            out.metadata["iso"] = value
            return


def _exif_from_jpeg(data, start: int, end: int, out: Extracted):
    """The EXIF and frame size of a JPEG embedded at data[start:end] (RAF, X3F, RW2)."""
    from luna.ingest.extract.jpeg import scan_jpeg

    if not 0 <= start < min(end, len(data)):
        return None
    header = scan_jpeg(Span(data, start, end))
    if header is not None and header.exif:
        exif = image.safely(out, "exif", lambda: image.exif_from_jpeg(header.exif))
        if exif is not None:
            read_exif(exif, out)
    return header


# -- TIFF-based RAWs: CR2, NEF, ARW, DNG, PEF, SRW, ORF, RW2, IIQ, 3FR, ... -------------------


def _extract_tiff_raw(data, mime: str, out: Extracted) -> None:
    tiff = tiff_at(data, 0, len(data))
    if tiff is None:  # the caller saw a TIFF header; a file changed meanwhile has none
        raise Damaged("no TIFF header")
    directories = _directories(tiff)
    ifd0 = directories[0] if directories else {}
    out.metadata["format"] = _tiff_format(data, tiff, ifd0, mime)
    exif = read_tiff_exif(tiff, out)
    size = _full_resolution_size(tiff, directories)
    if tiff.magic == PANASONIC_MAGIC:
        size = _panasonic_size(tiff, ifd0) or size
        _read_panasonic_extras(tiff, ifd0, out)
    if exif is not None:
        size = _phase_one_size(exif, out) or size
    if size:
        set_displayed_size(out, *size)


def _tiff_format(data, tiff: Tiff, ifd0: dict, mime: str) -> str:
    """The format's name, from the content where it tells, else from the MIME type."""
    if tiff.magic in OLYMPUS_MAGICS:
        return "ORF"
    if bytes(data[8:11]) == b"CR\x02":
        return "CR2"
    if bytes(data[8:12]) in (b"IIII", b"MMMM"):
        return "IIQ"
    if DNG_VERSION in ifd0:
        return "DNG"
    if tiff.magic == PANASONIC_MAGIC:  # one structure, three names
        return {"image/x-panasonic-raw": "RAW", "image/x-leica-rwl": "RWL"}.get(mime, "RW2")
    return FORMAT_BY_MIME.get(mime, "TIFF")


def _panasonic_size(tiff: Tiff, ifd0: dict) -> tuple[int, int] | None:
    """RW2 has no ImageWidth: ExifTool's is the sensor's crop, right minus left border."""
    top, left, bottom, right = (
        _first_int(tiff, ifd0.get(tag))
        for tag in (PANASONIC_TOP, PANASONIC_LEFT, PANASONIC_BOTTOM, PANASONIC_RIGHT)
    )
    if top is None or left is None or bottom is None or right is None:
        return None
    if right <= left or bottom <= top:
        return None
    return right - left, bottom - top


def _read_panasonic_extras(tiff: Tiff, ifd0: dict, out: Extracted) -> None:
    """ISO sits in RW2's IFD0, and the embedded JPEG has the EXIF the IFD0 lacks (GPS,
    lens, camera settings)."""
    iso = _first_int(tiff, ifd0.get(PANASONIC_ISO))
    if iso and "iso" not in out.metadata:
        out.metadata["iso"] = iso
    jpeg = ifd0.get(PANASONIC_JPEG)
    if jpeg is not None and jpeg.type in (1, 7):
        extra = Extracted()
        _exif_from_jpeg(tiff.data, jpeg.pos, min(jpeg.pos + jpeg.count, tiff.end), extra)
        _fill_missing(out, extra)


def _phase_one_size(exif, out: Extracted) -> tuple[int, int] | None:
    """IIQ keeps its image size in the Phase One maker note (IFD0 is a 1x1 stand-in)."""
    note = (exif.get_ifd(image.IFD_EXIF) or {}).get(image.MAKER_NOTE)
    fields = parse_phase_one(note) if isinstance(note, bytes) else None
    if not fields:
        return None
    turn = fields.get("orientation")
    if turn is not None and "orientation" not in out.metadata:
        out.metadata["orientation"] = turn
    if fields.get("lens"):
        out.metadata.setdefault("lens", fields["lens"])
    if fields.get("width") and fields.get("height"):
        return fields["width"], fields["height"]
    return None


def parse_phase_one(note: bytes) -> dict:
    """Width, height, orientation and lens from a Phase One directory: "IIII" + "Raw"-like
    tag, the directory's offset at 8, then 16-byte entries (tag, size of one value, byte
    count, value or offset), all offsets from the directory's header."""
    if note[:4] not in (b"IIII", b"MMMM") or len(note) < 16:
        return {}
    order = "<" if note[:4] == b"IIII" else ">"
    start = struct.unpack_from(f"{order}I", note, 8)[0]
    header = _unpack(f"{order}I", note, start)
    if header is None:
        return {}
    fields: dict = {}
    for i in range(min(header[0], MAX_ENTRIES)):
        entry = _unpack(f"{order}IIII", note, start + 8 + 16 * i)
        if entry is None:
            break
        tag, _, size, value = entry
        if tag == 0x010C:
            fields["width"] = value
        elif tag == 0x010D:
            fields["height"] = value
        elif tag == 0x0100:  # CameraOrientation: 0 normal, 1 90 CW, 2 270 CW, 3 180
            fields["orientation"] = (1, 6, 8, 3)[value & 3]
        elif tag == 0x0412 and 4 < size <= 256:  # LensModel, a string at an offset
            fields["lens"] = _text(note[value : value + size])
    return fields


# -- CR3: ISO base media file with TIFF structures in boxes -----------------------------------


def _extract_cr3(data, mime: str, out: Extracted) -> None:
    out.metadata["format"] = "CR3"
    moov = _path(data, 0, len(data), b"moov")
    canon = _canon_box(data, *moov) if moov else None
    if moov is None or canon is None:
        raise Damaged("no Canon metadata box in moov")
    boxes = {
        kind: (payload, box_end)
        for kind, payload, box_end in iter_boxes(data, *canon)
        if kind in (b"CMT1", b"CMT2", b"CMT4")
    }
    ifd0 = tiff_at(data, *boxes[b"CMT1"]) if b"CMT1" in boxes else None
    exif = _cr3_exif(data, boxes, out)
    if exif is not None:
        read_exif(exif, out)
    size = _full_resolution_size(ifd0, _directories(ifd0)) if ifd0 else None
    size = size or _cr3_track_size(data, *moov)
    if size:
        set_displayed_size(out, *size)


def _canon_box(data, start: int, end: int) -> tuple[int, int] | None:
    for kind, payload, box_end in iter_boxes(data, start, end):
        if kind == b"uuid" and bytes(data[payload : payload + 16]) == CANON_UUID:
            return payload + 16, box_end
    return None


class CombinedExif:
    """IFD0 with EXIF and GPS directories that a format stores apart (CR3's CMT1, CMT2 and
    CMT4 boxes are each a TIFF structure of one IFD), shaped like the Pillow Exif that
    image.read_exif reads."""

    def __init__(self, ifd0, ifds: dict):
        self.ifd0, self.ifds = ifd0, ifds

    def get(self, tag: int, default=None):
        return self.ifd0.get(tag, default)

    def get_ifd(self, tag: int):
        return self.ifds.get(tag) or {}


def _cr3_exif(data, boxes: dict, out: Extracted) -> CombinedExif | None:
    loaded = {}
    for kind in (b"CMT1", b"CMT2", b"CMT4"):
        tiff = tiff_at(data, *boxes[kind]) if kind in boxes else None
        if tiff is not None:
            loaded[kind] = image.safely(out, "exif", lambda tiff=tiff: pillow_exif(tiff))
    if not any(loaded.values()):
        return None
    return CombinedExif(
        loaded.get(b"CMT1") or {},
        {image.IFD_EXIF: loaded.get(b"CMT2"), image.IFD_GPS: loaded.get(b"CMT4")},
    )


def _cr3_track_size(data, start: int, end: int) -> tuple[int, int] | None:
    """The first track's CRAW sample entry: the full-size image when CMT1 has no size."""
    stsd = _path(data, start, end, b"trak", b"mdia", b"minf", b"stbl", b"stsd")
    entry = _child(data, stsd[0] + 8, stsd[1], b"CRAW") if stsd else None
    # A visual sample entry: 6 reserved, 2 reference index, 16 predefined, then the size.
    size = _unpack(">HH", data, entry[0] + 24, entry[1]) if entry else None
    return size if size and all(size) else None


# -- RAF: Fujifilm's header, an embedded JPEG with the EXIF, and the raw data -----------------


def _extract_raf(data, mime: str, out: Extracted) -> None:
    """The RAF header gives the embedded JPEG's place (offset at 84, length at 88); its EXIF
    has everything, and its frame size is what ExifTool reports as the image size."""
    out.metadata["format"] = "RAF"
    place = _unpack(">II", data, 84)
    if place is None:
        raise Damaged("RAF header cut short")
    start, length = place
    header = _exif_from_jpeg(data, start, start + length, out)
    out.metadata.setdefault("make", "FUJIFILM")
    model = _text(data[28:60])
    if model and "model" not in out.metadata:
        out.metadata["model"] = model
    if header is None:
        raise Damaged("RAF embedded JPEG unreadable")
    set_displayed_size(out, header.width, header.height)


# -- MRW: Minolta's blocks (PRD: dimensions, TTW: a TIFF structure with the EXIF) -----------


def _extract_mrw(data, mime: str, out: Extracted) -> None:
    out.metadata["format"] = "MRW"
    header = _unpack(">I", data, 4)
    end = min(len(data), 8 + header[0]) if header else 8
    size = ttw = None
    pos = 8
    for _ in range(MAX_SECTIONS):
        block = _unpack(">4sI", data, pos, end)
        if block is None:
            break
        kind, length = block
        body, pos = pos + 8, pos + 8 + length
        if kind == b"\0PRD":  # ImageHeight at 12, ImageWidth at 14 (sensor size before)
            dims = _unpack(">HH", data, body + 12, min(pos, end))
            size = (dims[1], dims[0]) if dims else size
        elif kind == b"\0TTW":
            ttw = tiff_at(data, body, min(pos, end))
    if ttw is not None:
        read_tiff_exif(ttw, out)
        size = size or _full_resolution_size(ttw, _directories(ttw))
    if size:
        set_displayed_size(out, *size)


# -- X3F: Sigma's header, directory of sections, properties and embedded JPEG ---------------


def _extract_x3f(data, mime: str, out: Extracted) -> None:
    """Size and rotation from the header; camera, date and exposure from the PROP section;
    the full EXIF from the embedded JPEG that cameras since the DP1 write."""
    out.metadata["format"] = "X3F"
    version = _unpack("<I", data, 4)
    if version is None:
        raise Damaged("X3F header cut short")
    # Version 4 headers moved the size from 28 to 40.
    size = _unpack("<III", data, 40 if version[0] >> 16 >= 4 else 28)
    for kind, start, end in _x3f_sections(data, out):
        if kind == b"PROP":
            _read_x3f_properties(data, start, end, out)
        elif kind in (b"IMA2", b"IMAG") and bytes(data[start : start + 16]) == X3F_JPEG:
            extra = Extracted()
            _exif_from_jpeg(data, start + 28, end, extra)
            _fill_missing(out, extra)
    if size:
        width, height, rotation = size
        if "orientation" not in out.metadata and rotation in ORIENTATION_BY_ROTATION:
            out.metadata["orientation"] = ORIENTATION_BY_ROTATION[rotation]
        set_displayed_size(out, width, height)


# An image section holding a JPEG: "SECi", version 2.0, type 2, format 18.
X3F_JPEG = b"SECi\0\0\x02\0\x02\0\0\0\x12\0\0\0"


def _x3f_sections(data, out: Extracted):
    """(type, start, end) of each section listed in the directory the last 4 bytes point to.
    Without it the header's size and rotation are still good."""
    pointer = _unpack("<I", data, len(data) - 4)
    directory = pointer[0] if pointer else 0
    header = _unpack("<4sII", data, directory)
    if header is None or header[0] != b"SECd":
        out.errors.append("raw: X3F directory not found")
        return
    for i in range(min(header[2], MAX_SECTIONS)):
        entry = _unpack("<II4s", data, directory + 12 + 12 * i)
        if entry is None:
            return
        start, length, kind = entry
        if start + length <= len(data):
            yield kind, start, start + length


def _read_x3f_properties(data, start: int, end: int, out: Extracted) -> None:
    """The PROP section: "SECp", version, count, character format (0: UTF-16LE), reserved,
    total characters; then (name, value) character offsets; then the characters."""
    header = _unpack("<4sIIIII", data, start, end)
    if header is None or header[0] != b"SECp" or header[3] != 0:
        return
    count = min(header[2], MAX_PROPERTIES)
    chars_at = start + 24 + 8 * count
    chars = bytes(data[chars_at : min(end, chars_at + 2 * header[5], chars_at + SMALL_VALUE * 16)])
    props = {}
    for i in range(count):
        pair = _unpack("<II", data, start + 24 + 8 * i, end)
        if pair is None:
            break
        props[_utf16_at(chars, pair[0])] = _utf16_at(chars, pair[1])
    _apply_x3f_properties(props, out)


def _utf16_at(chars: bytes, index: int) -> str:
    """The NUL-terminated UTF-16LE string starting at character `index`."""
    raw = chars[2 * index : 2 * index + 512]
    for i in range(0, len(raw) - 1, 2):
        if raw[i : i + 2] == b"\0\0":
            raw = raw[:i]
            break
    return raw.decode("utf-16-le", "replace").strip()


# X3F property names of the numbers luna keeps, and the decimals each is rounded to.
X3F_NUMBERS = (
    ("exposure_time", "SHUTTER", 6),
    ("f_number", "APERTURE", 2),
    ("focal_length", "FLENGTH", 2),
    ("iso", "ISO", 0),
)


def _apply_x3f_properties(props: dict, out: Extracted) -> None:
    md = out.metadata
    for key, name in (("make", "CAMMANUF"), ("model", "CAMMODEL")):
        if props.get(name) and key not in md:
            image.put_text(md, key, props[name])
    for key, name, decimals in X3F_NUMBERS:
        value = _number(props.get(name))
        if value and key not in md:
            md[key] = round(value, decimals) if decimals else round(value)
    when = _unix_time(int(_number(props.get("TIME")) or 0))
    if when:
        out.offer_date(when, None, "raw:DateTimeOriginal")


def _number(text) -> float | None:
    try:
        value = float(text)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) and value > 0 else None


# -- CRW: Canon's CIFF heaps ----------------------------------------------------------------


@dataclass
class Ciff:
    """What the CIFF records of a CRW file say, gathered while walking its heaps."""

    data: Any  # bytes or an mmap
    order: str
    records: int = 0
    seen: set = field(default_factory=set)
    found: dict = field(default_factory=dict)  # record id -> its value bytes


# CIFF record ids (without the storage bits) that luna reads.
CIFF_MAKE_MODEL, CIFF_TIME, CIFF_IMAGE_INFO = 0x080A, 0x180E, 0x1810
CIFF_EXPOSURE, CIFF_FOCAL, CIFF_SHOT_INFO = 0x1818, 0x1029, 0x102A
CIFF_WANTED = {
    CIFF_MAKE_MODEL,
    CIFF_TIME,
    CIFF_IMAGE_INFO,
    CIFF_EXPOSURE,
    CIFF_FOCAL,
    CIFF_SHOT_INFO,
}


def _extract_crw(data, mime: str, out: Extracted) -> None:
    out.metadata["format"] = "CRW"
    read_ciff(data, out)


def read_ciff(data, out: Extracted) -> None:
    """A Canon CIFF heap: a CRW file, or the APP0 block early PowerShots put in JPEGs."""
    ciff = Ciff(data, "<" if bytes(data[:2]) == b"II" else ">")
    header = _unpack(f"{ciff.order}I", data, 2)
    if header is None:
        return
    _walk_ciff_heap(ciff, header[0], len(data), 0)
    _apply_ciff(ciff, out)


def _walk_ciff_heap(ciff: Ciff, start: int, end: int, depth: int) -> None:
    """A heap's last 4 bytes give its table's offset; the table is a count and 10-byte
    records (id with storage bits, size, offset from the heap's start). Records of type
    0x28 and 0x30 are heaps themselves."""
    pointer = _unpack(f"{ciff.order}I", ciff.data, end - 4, end)
    if pointer is None or depth > MAX_CIFF_DEPTH or start in ciff.seen:
        return
    ciff.seen.add(start)
    table = start + pointer[0]
    count = _unpack(f"{ciff.order}H", ciff.data, table, end)
    for i in range(min(count[0], (end - table - 2) // 10) if count else 0):
        ciff.records += 1
        if ciff.records > MAX_CIFF_RECORDS:
            return
        tag, size, offset = struct.unpack_from(f"{ciff.order}HII", ciff.data, table + 2 + 10 * i)
        in_record = tag & 0x4000
        value_start, value_end = (
            (table + 4 + 10 * i, table + 12 + 10 * i)
            if in_record
            else (start + offset, start + offset + size)
        )
        if tag & 0x8000 or value_end > end:
            continue
        if (tag >> 8) & 0x38 in (0x28, 0x30) and not in_record:
            _walk_ciff_heap(ciff, value_start, value_end, depth + 1)
        elif tag & 0x3FFF in CIFF_WANTED and value_end - value_start <= SMALL_VALUE:
            ciff.found.setdefault(tag & 0x3FFF, bytes(ciff.data[value_start:value_end]))


def _apply_ciff(ciff: Ciff, out: Extracted) -> None:
    md, found, order = out.metadata, ciff.found, ciff.order
    names = found.get(CIFF_MAKE_MODEL, b"").split(b"\0")
    if len(names) >= 2:
        image.put_text(md, "make", names[0])
        image.put_text(md, "model", names[1])
    stamp = _unpack(f"{order}IiI", found.get(CIFF_TIME, b""), 0)
    taken = _unix_time(stamp[0]) if stamp else None
    if stamp and taken:
        # The zone is known only when the camera sets the top bit of TimeZoneInfo.
        zone = stamp[1] // 60 if stamp[2] & 0x80000000 and abs(stamp[1]) <= 14 * 3600 else None
        out.offer_date(taken, zone, "raw:DateTimeOriginal")
    _apply_ciff_exposure(found, order, md)
    info = _unpack(f"{order}IIfi", found.get(CIFF_IMAGE_INFO, b""), 0)
    if info:
        width, height, _, rotation = info
        if rotation % 360 in ORIENTATION_BY_ROTATION:
            md["orientation"] = ORIENTATION_BY_ROTATION[rotation % 360]
        set_displayed_size(out, width, height)


def _apply_ciff_exposure(found: dict, order: str, md: dict) -> None:
    """Shutter and aperture from ExposureInfo (APEX values), else from the shot info (Canon's
    EV codes); focal length in mm; ISO as BaseISO x AutoISO / 100, as ExifTool computes it."""
    focal = _unpack(f"{order}HH", found.get(CIFF_FOCAL, b""), 0)
    if focal and focal[1]:
        md["focal_length"] = float(focal[1])
    raw = found.get(CIFF_SHOT_INFO, b"")
    shot = _unpack(f"{order}{min(len(raw) // 2, 23)}h", raw, 0) or ()
    if len(shot) > 2 and 0 < shot[2] < CANON_EV_LIMIT and abs(shot[1]) < CANON_EV_LIMIT:
        md["iso"] = round(2 ** (shot[2] / 32) * 100 / 32 * 2 ** (shot[1] / 32))
    exposure = _unpack(f"{order}fff", found.get(CIFF_EXPOSURE, b""), 0)
    if exposure and all(map(math.isfinite, exposure)) and abs(exposure[1]) < 64:
        md["exposure_time"] = round(2 ** -exposure[1], 6)
        if 0 < exposure[2] < 64:
            md["f_number"] = round(2 ** (exposure[2] / 2), 2)
    elif len(shot) > 22:
        if 0 < shot[21] < CANON_EV_LIMIT:  # 0 means unknown for the aperture
            md["f_number"] = round(2 ** (_canon_ev(shot[21]) / 2), 2)
        if abs(shot[22]) < CANON_EV_LIMIT:  # but 0 is 1 s for the shutter
            md["exposure_time"] = round(2 ** -_canon_ev(shot[22]), 6)


CANON_EV_LIMIT = 32 * 32  # Canon EV codes beyond 32 stops are damage, not exposure


def _canon_ev(code: int) -> float:
    """Canon's EV codes: 32 per stop, with 0x0C and 0x14 standing for 1/3 and 2/3."""
    sign, code = (-1, -code) if code < 0 else (1, code)
    fraction = {0x0C: 32 / 3, 0x14: 64 / 3}.get(code & 0x1F, code & 0x1F)
    return sign * ((code & ~0x1F) + fraction) / 32


# -- Kyocera (Contax N Digital) RAW: a fixed big-endian header with reversed strings ---------

# ISO speeds for Kyocera's codes 7 to 19 (thirds of a stop from ISO 25).
KYOCERA_ISO = dict(enumerate((25, 32, 40, 50, 64, 80, 100, 125, 160, 200, 250, 320, 400), start=7))


def _extract_kyocera(data, mime: str, out: Extracted) -> None:
    """A 156-byte big-endian header at fixed places; its strings are stored backwards."""
    out.metadata["format"] = "RAW"
    header = bytes(data[:156])
    if len(header) < 156:
        raise Damaged("Kyocera header cut short")
    md = out.metadata
    # Reversed, the NUL padding comes first: strip it before the text is read.
    image.put_text(md, "make", header[0x19:0x20][::-1].strip(b"\0"))
    image.put_text(md, "model", header[0x0C:0x18][::-1].strip(b"\0"))
    image.put_text(md, "lens", header[0x7C:0x9C].split(b"\0", 1)[0])
    iso, shutter = struct.unpack_from(">II", header, 0x34)
    (aperture,) = struct.unpack_from(">I", header, 0x58)
    (focal,) = struct.unpack_from(">I", header, 0x70)
    if iso in KYOCERA_ISO:
        md["iso"] = KYOCERA_ISO[iso]
    if shutter < 512:  # APEX-like eighths of a stop
        md["exposure_time"] = round(2 ** (shutter / 8) / 16000, 6)
    if 0 < aperture < 256:  # sixteenths of a stop
        md["f_number"] = round(2 ** (aperture / 16), 2)
    if 0 < focal < 10000:
        md["focal_length"] = float(focal)
    parsed = parse_exif_datetime(header[0x21:0x35][::-1])
    if parsed:
        out.offer_date(parsed[0], parsed[1], "raw:DateTimeOriginal")
