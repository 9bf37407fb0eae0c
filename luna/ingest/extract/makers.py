"""Dates and positions that only a maker's or a device's own block holds.

Some cameras write no EXIF date at all, or none that says where: a thermal camera keeps its
clock (with its zone) and its GPS fix in FLIR's own APP1 records, a trail camera keeps the
time of each trigger in its maker note, and Casio's first QV cameras wrote a "QVCI" APP1
block instead of EXIF. Without these, such files would be dated by their modification time.
The layouts are those ExifTool documents (Image::ExifTool::FLIR, ::Reconyx, ::Casio).

Every reader here takes untrusted bytes: each offset and length is checked against the
block before use, record counts are capped, and nothing is allocated by a length field.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import struct

from luna.ingest.extract.facts import Extracted

# -- FLIR: the FFF record directory in APP1 "FLIR\0" segments ------------------------------

FLIR_PREFIX = b"FLIR\0"
MAX_FLIR = 8 * 1024 * 1024  # the JPEG header scan stops at 4 MiB; records are far smaller
MAX_FLIR_RECORDS = 1024  # real files list 14-32 entries
FLIR_CAMERA_INFO, FLIR_GPS = 0x20, 0x2B
FLIR_DATE_AT = 0x384  # in CameraInfo: Unix seconds, milliseconds, zone (minutes west)


def join_flir_chunks(segments: list[bytes]) -> bytes | None:
    """The FFF data spread over APP1 "FLIR\\0" segments: byte 6 numbers the chunk, byte 7
    is the count less one. Chunks are joined in their numbered order; a set that does not
    agree with itself on the count is refused (as ExifTool refuses it)."""
    chunks: dict[int, bytes] = {}
    total = None
    size = 0
    for body in segments:
        if len(body) < 8 or not body.startswith(FLIR_PREFIX):
            continue
        number, count = body[6], body[7] + 1
        if total is None:
            total = count
        elif count != total:
            return None
        size += len(body) - 8
        if size > MAX_FLIR:
            return None
        chunks[number] = chunks.get(number, b"") + body[8:]
    if total is None or len(chunks) < total:
        return None
    return b"".join(chunks[n] for n in sorted(chunks))


def flir_records(data: bytes) -> dict[int, bytes]:
    """The records of an FFF structure, by record type (the first of each type). The header
    says its byte order only through its version number (100-199)."""
    if len(data) < 0x40 or data[:4] not in (b"FFF\0", b"AFF\0"):
        return {}
    for order in (">", "<"):
        version, directory, count = struct.unpack_from(order + "3L", data, 0x14)
        if 100 <= version < 200:
            break
    else:
        return {}
    records: dict[int, bytes] = {}
    for i in range(min(count, MAX_FLIR_RECORDS)):
        entry = directory + 0x20 * i
        if entry + 0x20 > len(data):
            break
        kind = struct.unpack_from(order + "H", data, entry)[0]
        offset, length = struct.unpack_from(order + "2L", data, entry + 0x0C)
        if kind == 0 or kind in records or offset + length > len(data):
            continue
        records[kind] = data[offset : offset + length]
    return records


def read_flir(segments: list[bytes], out: Extracted) -> None:
    """The capture time (with its zone) and GPS fix of a FLIR thermal camera's JPEG."""
    data = join_flir_chunks(segments)
    if data is None:
        out.errors.append("FLIR: chunks missing or inconsistent")
        return
    records = flir_records(data)
    taken = _flir_time(records.get(FLIR_CAMERA_INFO, b""))
    if taken is not None:
        when, offset = taken
        out.offer_date(when, offset, "flir:DateTimeOriginal")
        # EXIF's DateTimeOriginal of the same camera names no zone: the same moment here
        # does, so it tells which zone the EXIF time is in.
        if (
            out.utc_offset is None
            and out.start is not None
            and abs((out.start - when).total_seconds()) < 1
        ):
            out.utc_offset, out.offset_source = offset, "flir:DateTimeOriginal"
    position = _flir_position(records.get(FLIR_GPS, b""))
    if position is not None:
        out.offer_location(*position, "flir:GPS")


def _flir_time(info: bytes) -> tuple[dt.datetime, int] | None:
    """CameraInfo's date: its first 16-bit value is 2 in the record's byte order."""
    if len(info) < FLIR_DATE_AT + 10:
        return None
    order = ">" if struct.unpack_from(">H", info, 0)[0] < 0x100 else "<"
    seconds, millis, west = struct.unpack_from(order + "LLh", info, FLIR_DATE_AT)
    if seconds == 0 or abs(west) > 14 * 60:
        return None
    utc = dt.datetime(1970, 1, 1) + dt.timedelta(seconds=seconds)
    local = utc - dt.timedelta(minutes=west) + dt.timedelta(milliseconds=(millis & 0xFFFF) % 1000)
    return local, -west


def _flir_position(gps: bytes) -> tuple[float, float, float | None] | None:
    """The GPS record (little-endian, whatever the rest): valid flag, references, then
    latitude and longitude as doubles and altitude as a float."""
    if len(gps) < 0x24 or struct.unpack_from("<L", gps, 0)[0] != 1:
        return None
    lat, lon = struct.unpack_from("<2d", gps, 0x10)
    (alt,) = struct.unpack_from("<f", gps, 0x20)
    if not all(math.isfinite(v) for v in (lat, lon)) or abs(lat) > 90 or abs(lon) > 180:
        return None
    if gps[8:9] == b"S" and lat > 0:
        lat = -lat
    if gps[10:11] == b"W" and lon > 0:
        lon = -lon
    altitude = round(alt, 3) if math.isfinite(alt) and alt != -1 else None
    return round(lat, 8), round(lon, 8), altitude


# -- Casio: the APP1 "QVCI" block of the QV-7000SX and its kin ------------------------------

QVCI_PREFIX = b"QVCI\0"
_QVCI_DATE = re.compile(rb"(\d{4})[.:](\d{2})[.:](\d{2})[. ](\d{2})[.:](\d{2})[.:](\d{2})")


def read_qvci(body: bytes, out: Extracted) -> None:
    """DateTimeOriginal at byte 0x4d, written "1998.10.24.12.08.57": the camera's clock."""
    m = _QVCI_DATE.match(body[0x4D : 0x4D + 20])
    when = _datetime(*(int(g) for g in m.groups())) if m else None
    if when is not None:
        out.offer_date(when, None, "casio:DateTimeOriginal")


# -- Reconyx trail cameras: binary maker notes ----------------------------------------------

RECONYX_ULTRAFIRE, RECONYX_HF2 = b"RECONYXUF\0", b"RECONYXH2\0"


def read_maker_note(note, make: str | None, out: Extracted) -> None:
    """The maker notes luna reads for a date: Reconyx HyperFire, UltraFire and HF2 PRO.
    (Apple's, for its ContentIdentifier, is read with the camera settings.)"""
    if not isinstance(note, bytes) or len(note) < 4:
        return
    if note.startswith(RECONYX_ULTRAFIRE):
        _reconyx(out, _ultrafire_time(note), _text(note[0x4B : 0x4B + 15]))
    elif note.startswith(RECONYX_HF2):
        _reconyx(out, _hf2_time(note), _utf16(note[0x7E : 0x7E + 30]))
    elif note[:2] == b"\x01\xf1" and (note[2:4] in (b"\x02\x00", b"\x03\x00") or make == "RECONYX"):
        _reconyx(out, _hyperfire_time(note), _utf16(note[42:72]))


def _reconyx(out: Extracted, when: dt.datetime | None, serial: str | None) -> None:
    """A trail camera's trigger time is its own clock's local time, with no zone."""
    if when is not None:
        out.offer_date(when, None, "reconyx:DateTimeOriginal")
    if serial:
        out.metadata.setdefault("serial_number", serial)


def _hyperfire_time(note: bytes) -> dt.datetime | None:
    """Six little-endian 16-bit values at byte 22: second, minute, hour, month, day, year
    (some firmware writes them big-endian: a low byte of zero gives that away)."""
    if len(note) < 34:
        return None
    v = list(struct.unpack_from("<6H", note, 22))
    if v[0] & 0xFF00 and not v[0] & 0xFF:
        v = [((x >> 8) | ((x & 0xFF) << 8)) for x in v]
    second, minute, hour, month, day, year = v
    return _datetime(year, month, day, hour, minute, second)


def _ultrafire_time(note: bytes) -> dt.datetime | None:
    """Seven bytes at 0x3b: second, minute, hour, day, month, then the year low byte first."""
    if len(note) < 0x3B + 7:
        return None
    second, minute, hour, day, month, low, high = note[0x3B : 0x3B + 7]
    return _datetime(high * 256 + low, month, day, hour, minute, second)


def _hf2_time(note: bytes) -> dt.datetime | None:
    """Six little-endian 16-bit values at 0x3e: second, minute, hour, day, month, year."""
    if len(note) < 0x3E + 12:
        return None
    second, minute, hour, day, month, year = struct.unpack_from("<6H", note, 0x3E)
    return _datetime(year, month, day, hour, minute, second)


def _datetime(
    year: int, month: int, day: int, hour: int, minute: int, second: int
) -> dt.datetime | None:
    """A date from its parts, or None for an impossible one (a zeroed or garbled field)."""
    if year < 1900:
        return None
    try:
        return dt.datetime(year, month, day, hour, minute, second)
    except ValueError:
        return None


def _text(raw: bytes) -> str | None:
    text = raw.split(b"\0", 1)[0].decode("ascii", "replace").strip()
    return text if text and text.isprintable() else None


def _utf16(raw: bytes) -> str | None:
    text = raw[: len(raw) // 2 * 2].decode("utf-16-le", "replace").split("\0", 1)[0].strip()
    return text if text and text.isprintable() else None
