"""A fast path for JPEG, the format most of a library is made of: walk the markers of the
file's bytes to find its size (SOF), EXIF (APP1) and IPTC (APP13) without opening it as an
image. Pillow's generic open costs more than the rest of the metadata work together.

Anything unusual (no SOF before the scan data, a segment running past the end) returns
None, and the caller falls back to Pillow, which also reports what is damaged.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Start-of-frame markers carry the dimensions; C4 (DHT), C8 (JPG) and CC (DAC) do not.
_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
_STANDALONE = frozenset(range(0xD0, 0xD9)) | {0x01}  # RSTn, SOI, EOI, TEM: no length
_SOS = 0xDA
XMP_ID = b"http://ns.adobe.com/xap/1.0/\0"
MAX_HEADER = 4 * 1024 * 1024  # metadata lives in the first segments; never scan further
PHOTOSHOP_PREFIX = b"Photoshop 3.0\0"
_PREFIX = len(PHOTOSHOP_PREFIX)
RESOURCE_SIGNATURES = (b"8BIM", b"MeSa", b"PHUT", b"AgHg", b"DCSR")  # 8BIM by far the most
IPTC_RESOURCE, EXIF_RESOURCE, XMP_RESOURCE = 0x0404, 0x0422, 0x0424
# The MD5 of the IPTC block when XMP and IPTC were last written together (MWG's digest).
IPTC_DIGEST_RESOURCE = 0x0425
READ_RESOURCES = frozenset((IPTC_RESOURCE, EXIF_RESOURCE, XMP_RESOURCE, IPTC_DIGEST_RESOURCE))
MAX_RESOURCES = 1024  # image resources read from one block (Photoshop writes about 40)


@dataclass(slots=True)
class JpegHeader:
    width: int
    height: int
    exif: bytes | None  # the TIFF structure after "Exif\0\0"
    iptc: dict | None  # {(record, dataset): [values]} from the Photoshop IRB
    xmp: bytes | None  # the XMP packet (APP1, else Photoshop's resource 0x0424 in APP13)
    is_mpo: bool  # has a Multi-Picture Format index (APP2 "MPF"): stereo or multi-frame
    picture_info: bytes | None  # APP12 "[picture info]" text of old Olympus/Agfa cameras
    ciff: bytes | None  # APP0 Canon CIFF heap ("HEAPJPGM") of early PowerShots
    # Device blocks for luna.ingest.extract.makers, and the APP13 segment the IPTC is in.
    flir: list[bytes] = field(default_factory=list)  # APP1 "FLIR\0" chunks, in file order
    qvci: bytes | None = None  # APP1 "QVCI\0" block of early Casio QV cameras
    photoshop: bytes | None = None  # the APP13 "Photoshop 3.0" segment (its IPTC digest)


def scan_jpeg(data) -> JpegHeader | None:
    """Read a JPEG's header from `data` (bytes or mmap); None if it is not plain."""
    end = min(len(data), MAX_HEADER)
    if data[:2] != b"\xff\xd8":
        return None
    pos, exif, xmp, is_mpo, picture_info, ciff = 2, None, None, False, None, None
    flir: list[bytes] = []
    app13: list[bytes] = []  # the "Photoshop 3.0" segments, without their prefix
    qvci = None
    while pos + 4 <= end:
        if data[pos] != 0xFF:
            return None
        code = data[pos + 1]
        if code == 0xFF:  # fill byte
            pos += 1
            continue
        if code in _STANDALONE:
            pos += 2
            continue
        length = int.from_bytes(data[pos + 2 : pos + 4], "big")
        body_start, body_end = pos + 4, pos + 2 + length
        if length < 2 or body_end > len(data):
            return None
        if code in _SOF:
            if length < 7:
                return None
            height = int.from_bytes(data[body_start + 1 : body_start + 3], "big")
            width = int.from_bytes(data[body_start + 3 : body_start + 5], "big")
            if not width or not height:
                return None
            photoshop = joined_app13(app13)
            resources = app13_resources(photoshop or b"")
            block = resources.get(IPTC_RESOURCE)
            iptc = parse_iptc_records(block) if block is not None else None
            xmp = xmp or resources.get(XMP_RESOURCE)
            header = JpegHeader(width, height, exif, iptc, xmp, is_mpo, picture_info, ciff)
            header.flir, header.qvci, header.photoshop = flir, qvci, photoshop
            return header
        if code == _SOS:
            return None  # scan data before any frame header: leave it to Pillow
        if code == 0xE1 and exif is None and data[body_start : body_start + 6] == b"Exif\0\0":
            exif = bytes(data[body_start + 6 : body_end])
        elif code == 0xE1 and xmp is None and data[body_start : body_start + 29] == XMP_ID:
            xmp = bytes(data[body_start + 29 : body_end])
        elif code == 0xE1 and data[body_start : body_start + 5] == b"FLIR\0":
            flir.append(bytes(data[body_start:body_end]))
        elif code == 0xE1 and qvci is None and data[body_start : body_start + 5] == b"QVCI\0":
            qvci = bytes(data[body_start:body_end])
        elif code == 0xE2 and data[body_start : body_start + 4] == b"MPF\0":
            is_mpo = True
        elif code == 0xE0 and data[body_start + 6 : body_start + 10] == b"HEAP":
            ciff = bytes(data[body_start:body_end])
        elif code == 0xEC and b"[picture info]" in data[body_start : body_start + 64]:
            picture_info = bytes(data[body_start:body_end])
        elif code == 0xED and data[body_start : body_start + _PREFIX] == PHOTOSHOP_PREFIX:
            app13.append(bytes(data[body_start + _PREFIX : body_end]))
        pos = body_end
    return None


def joined_app13(segments: list[bytes]) -> bytes | None:
    """One "Photoshop 3.0" block from the APP13 segments that hold it: resources larger
    than a segment (64 KiB) continue in the next one, in file order, each segment starting
    with the prefix again (as ExifTool and Photoshop read them)."""
    return PHOTOSHOP_PREFIX + b"".join(segments) if segments else None


def parse_photoshop_iptc(segment: bytes) -> dict | None:
    """IPTC-NAA records from an APP13 "Photoshop 3.0" image resource block."""
    block = app13_resources(segment).get(IPTC_RESOURCE)
    return parse_iptc_records(block) if block is not None else None


def app13_resources(segment: bytes) -> dict[int, bytes]:
    """The image resources of an APP13 "Photoshop 3.0" segment ({} if it is another)."""
    if not segment.startswith(PHOTOSHOP_PREFIX):
        return {}
    return photoshop_resources(segment, len(PHOTOSHOP_PREFIX), len(segment), [])


def photoshop_resources(
    data, start: int, end: int, problems: list[str], wanted=READ_RESOURCES
) -> dict[int, bytes]:
    """The resources {id: data} of a block of Photoshop image resources at data[start:end]
    (JPEG APP13, a PSD's resources section, TIFF tag 34377); the first of each `wanted` id
    counts, and others (thumbnails, print settings, paths) are skipped uncopied.
    Each is: a signature, a 2-byte id, a Pascal name padded to an even length, a 4-byte
    size and the data, padded to even. A size running past the block ends the walk."""
    end = min(end, len(data))
    found: dict[int, bytes] = {}
    pos = start
    for _ in range(MAX_RESOURCES):
        if pos + 12 > end or bytes(data[pos : pos + 4]) not in RESOURCE_SIGNATURES:
            break
        resource = int.from_bytes(data[pos + 4 : pos + 6], "big")
        name_length = data[pos + 6]
        pos += 7 + name_length + ((name_length + 1) % 2)
        if pos + 4 > end:
            break
        size = int.from_bytes(data[pos : pos + 4], "big")
        pos += 4
        if size > end - pos:
            problems.append(f"image resource 0x{resource:04X} runs past its block")
            break
        if resource in wanted and resource not in found:
            found[resource] = bytes(data[pos : pos + size])
        pos += size + (size % 2)
    return found


def parse_iptc_records(data: bytes) -> dict:
    records: dict[tuple[int, int], list[bytes]] = {}
    pos = 0
    while pos + 5 <= len(data) and data[pos] == 0x1C:
        key = (data[pos + 1], data[pos + 2])
        size = int.from_bytes(data[pos + 3 : pos + 5], "big")
        pos += 5
        if size & 0x8000:  # extended dataset: the length is in the next N bytes
            n = size & 0x7FFF
            size = int.from_bytes(data[pos : pos + n], "big")
            pos += n
        records.setdefault(key, []).append(data[pos : pos + size])
        pos += size
    return records
