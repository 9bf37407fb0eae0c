"""A JPEG's bytes without the position it holds, for the originals `luna gallery` exports
(luna.ops.gallery): a gallery shared with others must not tell where each photo was taken
unless asked to (--keep-location).

Only the places a JPEG can hold a position are touched, everything else is kept byte for
byte (the orientation, the colour profile, the camera's facts, the picture itself):
- the EXIF GPS IFD (and IFD0's pointer to it), rewritten with piexif;
- an XMP packet that mentions GPS (exif:GPSLatitude...): dropped whole, as is extended XMP
  (it may continue such a packet);
- whatever follows the picture's end (EOI): the second picture of an MPO, a phone's
  "motion photo" video, each of which may carry a position of its own; the MPF index
  (APP2) that points at them goes with them.
A file that cannot be read this way is refused (CannotStrip): the caller leaves it out
rather than export it unread.
"""

from __future__ import annotations

import struct

SOI, EOI, SOS = b"\xff\xd8", b"\xff\xd9", 0xDA
_EXIF = b"Exif\x00\x00"
_XMP = b"http://ns.adobe.com/xap/1.0/\x00"
_XMP_EXTENSION = b"http://ns.adobe.com/xmp/extension/\x00"
_MPF = b"MPF\x00"
_STANDALONE = {0x01, *range(0xD0, 0xD8)}  # markers without a length


class CannotStrip(Exception):
    """The file cannot be read well enough to be sure its position is gone."""


def jpeg_without_location(data: bytes) -> bytes:
    """`data` (a JPEG) without any position; the same bytes when it holds none. The result
    is read once more: a second pass that would still remove something means this reader
    missed a way the file holds it, and the file is refused."""
    stripped = _stripped(data)
    if stripped is not data and _stripped(stripped) != stripped:
        raise CannotStrip("its position could not be removed with certainty")
    return stripped


def _stripped(data: bytes) -> bytes:
    if not data.startswith(SOI):
        raise CannotStrip("not a JPEG")
    kept = [SOI]
    i = 2
    while True:
        marker, i = _next_marker(data, i)
        if marker == SOS:
            end = data.find(EOI, i)
            # A picture cut short keeps what it has; anything after its end goes.
            kept.append(data[i - 2 : len(data) if end < 0 else end + 2])
            result = b"".join(kept)
            return data if result == data else result
        if marker in _STANDALONE:
            kept.append(bytes((0xFF, marker)))
            continue
        if i + 2 > len(data):
            raise CannotStrip("the file ends inside its headers")
        (length,) = struct.unpack(">H", data[i : i + 2])
        if length < 2 or i + length > len(data):
            raise CannotStrip("a header segment runs past the end of the file")
        segment = data[i - 2 : i + length]
        kept.append(_without_position(marker, segment))
        i += length


def _next_marker(data: bytes, i: int) -> tuple[int, int]:
    """The marker at `i` (after any fill bytes) and the offset just after it."""
    if i >= len(data) or data[i] != 0xFF:
        raise CannotStrip("a header segment is damaged")
    while i < len(data) and data[i] == 0xFF:
        i += 1
    if i >= len(data):
        raise CannotStrip("the file ends inside its headers")
    return data[i], i + 1


def _without_position(marker: int, segment: bytes) -> bytes:
    """One header segment (marker, length, payload) as kept: b"" to drop it."""
    payload = segment[4:]
    if marker == 0xE1 and payload.startswith(_EXIF):
        return _exif_without_gps(segment)
    if marker == 0xE1 and payload.startswith(_XMP):
        return b"" if b"GPS" in payload else segment
    if marker == 0xE1 and payload.startswith(_XMP_EXTENSION):
        return b""
    if marker == 0xE2 and payload.startswith(_MPF):
        return b""  # the index of the pictures after EOI, which are not kept
    return segment


def _exif_without_gps(segment: bytes) -> bytes:
    import piexif

    try:
        exif = piexif.load(segment[4:])
    except Exception as exc:  # piexif raises anything on a damaged EXIF block
        raise CannotStrip(f"its EXIF cannot be read ({exc})") from None
    if not exif.get("GPS") and piexif.ImageIFD.GPSTag not in exif.get("0th", {}):
        return segment  # no position: the block stays as it is, byte for byte
    exif["GPS"] = {}
    exif["0th"].pop(piexif.ImageIFD.GPSTag, None)
    try:
        block = piexif.dump(exif)
    except Exception as exc:
        raise CannotStrip(f"its EXIF cannot be written back without GPS ({exc})") from None
    if not block.startswith(_EXIF):
        block = _EXIF + block
    if len(block) + 2 > 0xFFFF:
        raise CannotStrip("its EXIF block is too large to write back")
    return b"\xff\xe1" + struct.pack(">H", len(block) + 2) + block
