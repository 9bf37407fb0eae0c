"""Metadata blocks found by their bytes where Pillow does not look, for image.py and
containers.py alike: a GIF's XMP application extension, IPTC in an AFCP trailer.
Bounded: a packet or block larger than anybody writes is not read."""

from __future__ import annotations

import struct

from luna.ingest.extract.jpeg import parse_iptc_records
from luna.ingest.extract.xmp import MAX_PACKET

MAX_IPTC = 1024 * 1024  # an IPTC block larger than this is not one anybody wrote
MAX_AFCP_ENTRIES = 64  # AFCP directory entries (writers use two or three)
PHOTOSHOP_TAG = 34377  # TIFF: Photoshop's image resources

GIF_XMP = b"\x21\xff\x0bXMP DataXMP"
GIF_MAGIC_TRAILER_START = b"\x01\xff\xfe\xfd\xfc"


def gif_xmp(data) -> bytes | None:
    """The XMP packet of a GIF, or None. The marker is looked for with one search of the
    whole file (in C): walking every frame's sub-blocks would cost far more, and a false
    match inside compressed pixels would only give a packet that does not parse."""
    if bytes(data[:3]) != b"GIF":
        return None
    at = data.find(GIF_XMP)
    if at < 0:
        return None
    start = at + len(GIF_XMP)
    window = bytes(data[start : start + MAX_PACKET + 1])
    end = window.find(GIF_MAGIC_TRAILER_START)
    return window[:end] if end >= 0 else window


# -- AFCP trailer ------------------------------------------------------------------------------


def afcp_iptc(data, problems: list[str]) -> dict | None:
    """IPTC records from an AFCP trailer: the file ends with "AXS!" (big-endian) or "AXS*"
    (little-endian) and the offset of the AFCP header, which repeats that mark and is
    followed by a version, an entry count, 4 reserved bytes and 12-byte entries (a name,
    a size, an offset in the file)."""
    size = len(data)
    tail = bytes(data[size - 12 : size]) if size >= 12 else b""
    if tail[:4] not in (b"AXS!", b"AXS*"):
        return None
    order = ">" if tail[3:4] == b"!" else "<"
    (start,) = struct.unpack_from(order + "I", tail, 4)
    if start + 12 > size - 12 or bytes(data[start : start + 4]) != tail[:4]:
        problems.append("AFCP trailer: its header is not where the trailer says")
        return None
    (count,) = struct.unpack_from(order + "H", data, start + 6)
    for i in range(min(count, MAX_AFCP_ENTRIES)):
        at = start + 12 + 12 * i
        if at + 12 > size:
            break
        name = bytes(data[at : at + 4])
        length, offset = struct.unpack_from(order + "II", data, at + 4)
        if name != b"IPTC":
            continue
        if offset + length > size or length > MAX_IPTC:
            problems.append("AFCP trailer: its IPTC block runs past the end of the file")
            return None
        return parse_iptc_records(bytes(data[offset : offset + length]))
    return None
