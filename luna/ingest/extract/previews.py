"""The JPEG preview a camera stores inside its RAW file: what a thumbnail is made from, since
luna never demosaics a RAW (a full decode takes seconds; the camera already did it).

Where each format keeps it:
- TIFF-based RAWs (NEF, CR2, ARW, DNG, PEF, ORF, RW2...): a directory (IFD0, IFD1 or a
  SubIFD) pointing at a JPEG through JPEGInterchangeFormat/Length, or a strip of
  old-style JPEG (Compression 6 or 7) that is not the raw data itself. The largest wins.
- RAF: the header's JPEG (offset at 84, length at 88), as luna.ingest.extract.raw reads it.
- CR3: the PRVW box inside Canon's preview uuid box (a 1620x1080 JPEG).

Like raw.py, `data` is the whole file (an mmap): sliced, never copied whole, and every
offset is checked against its end.
"""

from __future__ import annotations

from luna.ingest.extract.isobmff import iter_boxes
from luna.ingest.extract.raw import _directories, _first_int, _unpack, tiff_at

JPEG_OFFSET, JPEG_LENGTH = 0x0201, 0x0202
COMPRESSION, PHOTOMETRIC, STRIP_OFFSETS, STRIP_BYTES = 0x0103, 0x0106, 0x0111, 0x0117
ORIENTATION = 0x0112
# Old-style and new-style JPEG compression; 7 is also a DNG's lossless raw data, told apart
# by its photometric interpretation (CFA 32803, LinearRaw 34892).
JPEG_COMPRESSIONS = (6, 7)
RAW_PHOTOMETRICS = (32803, 34892)
PREVIEW_UUID = bytes.fromhex("eaf42b5e1c984b88b9fbb7dc406e4d16")  # CR3's preview box
SOI = b"\xff\xd8"


def embedded_jpeg(data) -> tuple[int, int, int] | None:
    """(start, end, orientation) of the largest embedded JPEG preview, or None. The
    orientation is the RAW's own (1 when it says none): previews often carry none."""
    head = bytes(data[:16])
    if head.startswith(b"FUJIFILMCCD-RAW"):
        return _raf(data)
    if head[4:12] == b"ftypcrx ":
        return _cr3(data)
    tiff = tiff_at(data, 0, len(data))
    return _tiff(data, tiff) if tiff is not None else None


def _tiff(data, tiff) -> tuple[int, int, int] | None:
    directories = _directories(tiff)
    orientation = _first_int(tiff, directories[0].get(ORIENTATION)) if directories else None
    best: tuple[int, int] | None = None
    for entries in directories:
        for start, length in _jpegs_of(tiff, entries):
            end = start + length
            larger = best is None or length > best[1] - best[0]
            if larger and 0 < start < end <= len(data) and bytes(data[start : start + 2]) == SOI:
                best = (start, end)
    if best is None:
        return None
    turn = orientation if orientation is not None and 1 <= orientation <= 8 else 1
    return best[0], best[1], turn


def _jpegs_of(tiff, entries: dict) -> list[tuple[int, int]]:
    """(start, length) of the JPEGs one directory points at."""
    found = []
    offset = _first_int(tiff, entries.get(JPEG_OFFSET))
    length = _first_int(tiff, entries.get(JPEG_LENGTH))
    if offset and length:
        found.append((tiff.base + offset, length))
    compression = _first_int(tiff, entries.get(COMPRESSION))
    photometric = _first_int(tiff, entries.get(PHOTOMETRIC))
    strips = entries.get(STRIP_OFFSETS)
    if (
        compression in JPEG_COMPRESSIONS
        and photometric not in RAW_PHOTOMETRICS
        and strips is not None
        and strips.count == 1
    ):
        start, size = _first_int(tiff, strips), _first_int(tiff, entries.get(STRIP_BYTES))
        if start and size:
            found.append((tiff.base + start, size))
    return found


def _raf(data) -> tuple[int, int, int] | None:
    place = _unpack(">II", data, 84)
    if place is None:
        return None
    start, length = place
    if start + length > len(data) or bytes(data[start : start + 2]) != SOI:
        return None
    return start, start + length, 1  # the JPEG's own EXIF says how to turn it


def _cr3(data) -> tuple[int, int, int] | None:
    for kind, payload, end in iter_boxes(data, 0, len(data)):
        if kind == b"uuid" and bytes(data[payload : payload + 16]) == PREVIEW_UUID:
            # uuid, then 8 bytes, then the PRVW box: 8 bytes of header, 16 of fields.
            for inner, at, inner_end in iter_boxes(data, payload + 24, end):
                if inner == b"PRVW":
                    start = at + 16
                    if bytes(data[start : start + 2]) == SOI:
                        return start, inner_end, 1
    return None
