"""AVCHD camcorder data (.mts, .m2ts): the recording date, make, model and position that
camcorders keep in the H.264 stream itself, as "MDPM" user data.

Each frame's SEI (supplemental enhancement information) may carry unregistered user data:
a 16-byte UUID, here 17EE8C60-F84D-11D9-8CD6-0800200C9A66, then "MDPM", a record count and
records of a tag byte and four value bytes (ExifTool's H264.pm documents the tags). The first
frame holds them, or (Panasonic) one of the next, so only the start of the stream is read.

The transport stream is cut into 188-byte packets (192 in BDAV .m2ts, a 4-byte timestamp
first) whose payloads are joined per stream (PID) before the user data is looked for: a
record may straddle two packets.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

SCAN_BYTES = 4 * 1024 * 1024  # the start of the file that is read (about 1.5 s of AVCHD)
MAX_HITS = 16  # MDPM blocks tried before giving up (each frame may repeat it)
SYNC = 0x47
MDPM_SIGNATURE = bytes.fromhex("17ee8c60f84d11d98cd60800200c9a66") + b"MDPM"
RECORD = 5  # a tag byte and four value bytes
# The block is at most 255 records; H.264 inserts a 0x03 after every two zero bytes, so the
# escaped form may be up to half as long again.
MAX_BLOCK = 1 + 255 * RECORD * 3 // 2

# Tag 0xe0's first 16-bit value (ExifTool's H264 %convMake).
MAKES = {0x0103: "Panasonic", 0x0108: "Sony", 0x1011: "Canon", 0x1104: "JVC"}

DATE_TAG, TIME_TAG = 0x18, 0x19
MAKE_TAG = 0xE0
MODEL_TAGS = (0xE4, 0xE5, 0xE6)  # Sony's model name, 12 characters over three records
LATITUDE_REF, LATITUDE = 0xB1, (0xB2, 0xB3, 0xB4)  # 'N'/'S', degrees, minutes, seconds
LONGITUDE_REF, LONGITUDE = 0xB5, (0xB6, 0xB7, 0xB8)
ALTITUDE_REF, ALTITUDE = 0xB9, 0xBA


@dataclass(slots=True)
class CamcorderData:
    """What one MDPM block says; None where it says nothing."""

    recorded: tuple[dt.datetime, int | None] | None = None  # wall clock, minutes east of UTC
    make: str | None = None
    model: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    altitude: float | None = None


def is_transport_stream(data) -> bool:
    return _packet_layout(data) is not None


def read_camcorder_data(data) -> CamcorderData | None:
    """The first MDPM block with a date or a make in the start of the stream, else None."""
    for stream in _streams(data):
        start = 0
        for _ in range(MAX_HITS):
            found = stream.find(MDPM_SIGNATURE, start)
            if found < 0:
                break
            block_start = found + len(MDPM_SIGNATURE)
            block = _unescape(stream[block_start : block_start + MAX_BLOCK])
            camcorder = _read_records(_records(block))
            if camcorder.recorded or camcorder.make:
                return camcorder
            start = found + 1
    return None


# -- from packets to streams ----------------------------------------------------------------


def _packet_layout(data) -> tuple[int, int] | None:
    """(packet size, offset of the first sync byte): 188 for .mts written by a camcorder's
    MPEG-TS, 192 for BDAV .m2ts, recognised by three sync bytes in a row."""
    for size, first in ((188, 0), (192, 4)):
        if len(data) >= first + 1 and all(
            data[pos] == SYNC for pos in range(first, min(len(data), first + 3 * size), size)
        ):
            return size, first
    return None


def _streams(data) -> list[bytes]:
    """The payloads of the packets in the first SCAN_BYTES, joined per PID."""
    layout = _packet_layout(data)
    if layout is None:
        return []
    size, first = layout
    payloads: dict[int, list[bytes]] = {}
    end = min(len(data), SCAN_BYTES)
    for pos in range(first, end - 187, size):
        packet = bytes(data[pos : pos + 188])
        if packet[0] != SYNC:
            continue  # a damaged packet: skip it, the next may be whole
        pid = (packet[1] & 0x1F) << 8 | packet[2]
        control = packet[3] >> 4 & 0x3  # 1: payload, 2: adaptation field, 3: both
        start = 4
        if control & 2:
            start += 1 + packet[4]
        if control & 1 and start < 188 and pid != 0x1FFF:
            payloads.setdefault(pid, []).append(packet[start:])
    return [b"".join(parts) for parts in payloads.values()]


def _unescape(raw: bytes) -> bytes:
    """H.264's emulation prevention undone: 00 00 03 becomes 00 00."""
    return raw.replace(b"\x00\x00\x03", b"\x00\x00")


# -- the records ----------------------------------------------------------------------------


def _records(block: bytes) -> dict[int, bytes]:
    """{tag: four value bytes}. Tags come in increasing order; one that does not ends the
    block, as in ExifTool (the rest is other data)."""
    records: dict[int, bytes] = {}
    if not block:
        return records
    last = -1
    for index in range(block[0]):
        pos = 1 + index * RECORD
        if pos + RECORD > len(block) or block[pos] <= last:
            break
        last = block[pos]
        records[last] = block[pos + 1 : pos + RECORD]
    return records


def _read_records(records: dict[int, bytes]) -> CamcorderData:
    camcorder = CamcorderData(recorded=_recorded(records))
    make = records.get(MAKE_TAG)
    if make is not None:
        camcorder.make = MAKES.get(int.from_bytes(make[:2], "big"))
    model = b"".join(records.get(tag, b"") for tag in MODEL_TAGS)
    camcorder.model = _text(model) if camcorder.make == "Sony" else None
    _read_position(records, camcorder)
    return camcorder


def _recorded(records: dict[int, bytes]) -> tuple[dt.datetime, int | None] | None:
    """Tag 0x18: a time zone byte, then year (two BCD bytes) and month; tag 0x19: day, hour,
    minute, second, all BCD."""
    date, time = records.get(DATE_TAG), records.get(TIME_TAG)
    if date is None or time is None:
        return None
    digits = [_bcd(b) for b in date[1:] + time]
    numbers = [d for d in digits if d is not None]
    if len(numbers) != 7:
        return None
    century, year, month, day, hour, minute, second = numbers
    try:
        when = dt.datetime(century * 100 + year, month, day, hour, minute, second)
    except ValueError:
        return None
    return when, _zone(date[0])


def _zone(code: int) -> int | None:
    """Minutes east of UTC from the zone byte: 0x80 set means no zone; 0x20 is the sign,
    bits 1-4 the hours, 0x01 a further half hour. The 0x40 flag (summer time) is not added,
    as ExifTool does not: the hours are taken as the offset of the wall clock."""
    if code & 0x80:
        return None
    minutes = (code >> 1 & 0x0F) * 60 + (30 if code & 0x01 else 0)
    return -minutes if code & 0x20 else minutes


def _bcd(byte: int) -> int | None:
    high, low = byte >> 4, byte & 0x0F
    return high * 10 + low if high < 10 and low < 10 else None


def _read_position(records: dict[int, bytes], camcorder: CamcorderData) -> None:
    """Sony's GPS records: a reference letter, then degrees, minutes and seconds as 16-bit
    rationals, each in its own record, as EXIF GPS has them."""
    lat = _angle(records, LATITUDE_REF, LATITUDE, b"S")
    lon = _angle(records, LONGITUDE_REF, LONGITUDE, b"W")
    if lat is None or lon is None or abs(lat) > 90 or abs(lon) > 180:
        return
    camcorder.latitude, camcorder.longitude = round(lat, 8), round(lon, 8)
    altitude = _rational(records.get(ALTITUDE))
    if altitude is not None:
        below = int.from_bytes(records.get(ALTITUDE_REF, bytes(4)), "big") != 0
        camcorder.altitude = -altitude if below else altitude


def _angle(records: dict[int, bytes], ref_tag: int, tags, negative: bytes) -> float | None:
    ref = records.get(ref_tag)
    parts = [part for tag in tags if (part := _rational(records.get(tag))) is not None]
    if ref is None or len(parts) != 3:
        return None
    degrees, minutes, seconds = parts
    value = degrees + minutes / 60 + seconds / 3600
    return -value if ref[:1] == negative else value


def _rational(value: bytes | None) -> float | None:
    if value is None:
        return None
    numerator, denominator = int.from_bytes(value[:2], "big"), int.from_bytes(value[2:], "big")
    return numerator / denominator if denominator else None


def _text(raw: bytes) -> str | None:
    text = raw.split(b"\0", 1)[0].decode("latin-1").strip()
    return text if text and text.isprintable() else None
