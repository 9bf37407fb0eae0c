"""JPEG XL: EXIF from the container's "Exif" box, XMP from its "xml " box, and the size and
orientation from the codestream's header (a few dozen bits at its start).

A bare codestream (starting FF 0A) has no room for metadata; only its size is read. Boxes
compressed with Brotli ("brob") are noted and skipped: reading them would need a Brotli
decoder, which luna does not depend on.
"""

from __future__ import annotations

import re

from luna.ingest.extract import image
from luna.ingest.extract.dates import parse_exif_datetime
from luna.ingest.extract.facts import Extracted
from luna.ingest.extract.isobmff import iter_boxes
from luna.ingest.extract.raw import Damaged, read_tiff_exif, set_displayed_size, tiff_at

CODESTREAM_SIGNATURE = b"\xff\x0a"
CONTAINER_SIGNATURE = b"\0\0\0\x0cJXL \r\n\x87\n"
MAX_XMP = 1024 * 1024  # an XMP packet larger than this is not read

# Width = height x ratio for the codestream's 3-bit aspect ratio codes 1-7.
RATIOS = {1: (1, 1), 2: (12, 10), 3: (4, 3), 4: (3, 2), 5: (16, 9), 6: (5, 4), 7: (2, 1)}

# XMP dates, as attributes (name="value") or elements (<name>value</name>), best first.
XMP_DATES = (
    ("exif:DateTimeOriginal", "xmp:DateTimeOriginal"),
    ("photoshop:DateCreated", "xmp:DateTimeOriginal"),
    ("xmp:CreateDate", "xmp:CreateDate"),
)


def extract_jxl(data, out: Extracted) -> None:
    """Fill `out` from a JPEG XL file (container or bare codestream); never raises."""
    out.metadata["format"] = "JXL"
    try:
        if bytes(data[:2]) == CODESTREAM_SIGNATURE:
            _read_codestream(bytes(data[2:64]), out)
        elif bytes(data[:12]) == CONTAINER_SIGNATURE:
            _read_container(data, out)
        else:
            out.errors.append("jxl: no JPEG XL signature")
    except Exception as exc:  # hostile files raise anything; what was read so far stays
        out.errors.append(f"jxl: {image.short_reason(exc)}")


def _read_container(data, out: Extracted) -> None:
    codestream = b""
    for kind, start, end in iter_boxes(data, 0, len(data)):
        if kind == b"Exif":
            _read_exif_box(data, start, end, out)
        elif kind == b"xml " and end - start <= MAX_XMP:
            _read_xmp(bytes(data[start:end]), out)
        elif kind == b"brob":
            inner = bytes(data[start : start + 4]).decode("latin-1")
            out.errors.append(f"jxl: Brotli-compressed {inner.strip()!r} box not read")
        elif kind == b"jxlc" and not codestream:
            codestream = bytes(data[start : start + 64])
        elif kind == b"jxlp" and not codestream:  # the first part: a 4-byte index, then data
            codestream = bytes(data[start + 4 : start + 68])
    if codestream[:2] == CODESTREAM_SIGNATURE:
        _read_codestream(codestream[2:], out)


def _read_exif_box(data, start: int, end: int, out: Extracted) -> None:
    """The "Exif" box: a 4-byte offset to the TIFF header, then the TIFF structure. A broken
    one is noted and the other boxes are still read."""
    skip = int.from_bytes(bytes(data[start : start + 4]), "big")
    tiff = tiff_at(data, start + 4 + skip, end) if start + 4 + skip < end else None
    if tiff is None:
        out.errors.append("jxl: Exif box without a TIFF header")
        return
    read_tiff_exif(tiff, out)


def _read_xmp(xmp: bytes, out: Extracted) -> None:
    text = xmp.decode("utf-8", "replace")
    for name, source in XMP_DATES:
        match = re.search(rf"{name}(?:=[\"']|>)([^\"'<]+)", text)
        parsed = parse_exif_datetime(match.group(1)) if match else None
        if parsed:
            out.offer_date(parsed[0], parsed[1], source)
    if "orientation" not in out.metadata:
        orientation = image.xmp_orientation(xmp)
        if orientation is not None:
            out.metadata["orientation"] = orientation


class Bits:
    """The codestream's header is read bit by bit, least significant bit first."""

    def __init__(self, data: bytes):
        self.data, self.pos = data, 0

    def read(self, count: int) -> int:
        value = 0
        for i in range(count):
            byte = self.pos >> 3
            if byte >= len(self.data):
                raise Damaged("codestream header cut short")
            value |= ((self.data[byte] >> (self.pos & 7)) & 1) << i
            self.pos += 1
        return value

    def size(self, small: bool) -> int:
        """One dimension: 5 bits of 8-pixel steps when small, else 9 to 30 bits."""
        if small:
            return (self.read(5) + 1) * 8
        return self.read((9, 13, 18, 30)[self.read(2)]) + 1


def _read_codestream(header: bytes, out: Extracted) -> None:
    """SizeHeader (height, then width or an aspect ratio), then the start of ImageMetadata,
    whose orientation the decoder applies, so it is the one that turns the displayed size."""
    bits = Bits(header)
    small = bool(bits.read(1))
    height = bits.size(small)
    ratio = bits.read(3)
    if ratio:
        numerator, denominator = RATIOS[ratio]
        width = height * numerator // denominator
    else:
        width = bits.size(small)
    orientation = _codestream_orientation(bits)
    if orientation is not None:
        out.metadata["orientation"] = orientation
    set_displayed_size(out, width, height)


def _codestream_orientation(bits: Bits) -> int | None:
    try:
        all_default = bits.read(1)
        if all_default or not bits.read(1):  # no extra fields: orientation 1
            return 1
        return bits.read(3) + 1
    except Damaged:
        return None
