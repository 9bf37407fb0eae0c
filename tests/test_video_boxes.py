"""What luna reads from a video container itself, beside MediaInfo's report: 3GPP positions
(`loci`), XMP (QuickTime `XMP_`, MP4 `uuid`), keyword boxes, and AVCHD camcorder data in
transport streams. Every file is written here byte by byte."""

from __future__ import annotations

import datetime as dt
import os
import struct
import time
import tracemalloc

import pytest
from test_video import (
    IDENTITY,
    TIMESCALE,
    UTC,
    apple_metadata,
    box,
    extracted,
    full_box,
    mac_time,
    paris,  # noqa: F401 - a fixture, used by name
    user_data_string,
    video_track,
)

from luna.ingest.extract import read_file
from luna.ingest.extract.avchd import SCAN_BYTES

XMP_UUID = bytes.fromhex("be7acfcb97a942e89c71999491e3afac")
ENGLISH = 0x15C7  # ISO 639-2 "eng" packed in 15 bits, as QuickTime and 3GPP store it


# -- writing movies -------------------------------------------------------------------------


def movie(path, *, udta=(), keys=None, top=(), moov=(), track=(), created=None, brand=b"qt  "):
    """A 10-second movie with these user data boxes, Apple keys, boxes at the top level,
    in moov and in the track."""
    when, ticks = mac_time(created), 10 * TIMESCALE
    mvhd = full_box(
        b"mvhd",
        0,
        struct.pack(">IIII", when, when, TIMESCALE, ticks),
        struct.pack(">IH10x", 0x10000, 0x100),
        struct.pack(">9i", *IDENTITY),
        bytes(24),
        struct.pack(">I", 2),
    )
    trak = video_track(when, ticks, 640, 480, IDENTITY)
    if track:  # a box appended inside the track: its size grows by theirs
        extra = b"".join(track)
        trak = struct.pack(">I", len(trak) + len(extra)) + trak[4:] + extra
    parts = [mvhd, trak, *moov]
    if udta:
        parts.append(box(b"udta", *udta))
    if keys:
        parts.append(apple_metadata(keys))
    path.write_bytes(box(b"ftyp", brand, bytes(4), brand) + box(b"moov", *parts) + b"".join(top))
    return path


def fixed(value: float) -> int:
    return round(value * 65536)


def loci(lat: float, lon: float, alt: float = 0.0, name: bytes = b"Tour Eiffel\0") -> bytes:
    """3GPP LocationInformation: language, name, role, longitude, latitude, altitude (16.16),
    astronomical body, notes."""
    position = struct.pack(">Biii", 0, fixed(lon), fixed(lat), fixed(alt))
    return full_box(b"loci", 0, struct.pack(">H", ENGLISH), name, position, b"earth\0", b"\0")


def kywd(*words: str) -> bytes:
    """3GPP keywords: language, count, then each keyword after its byte length."""
    encoded = [w.encode() for w in words]
    body = b"".join(bytes([len(w)]) + w for w in encoded)
    return full_box(b"kywd", 0, struct.pack(">HB", ENGLISH, len(words)), body)


def item_list(*items: tuple[bytes, str]) -> bytes:
    """udta/meta/ilst as iTunes writes it (an ISO meta box, with version and flags)."""
    entries = b"".join(
        box(kind, box(b"data", struct.pack(">II", 1, 0), text.encode())) for kind, text in items
    )
    handler = full_box(b"hdlr", 0, struct.pack(">I4s12x", 0, b"mdir"), b"\0")
    return full_box(b"meta", 0, handler, box(b"ilst", entries))


def xmp(body: str) -> bytes:
    return (
        '<x:xmpmeta xmlns:x="adobe:ns:meta/">'
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/"'
        ' xmlns:exif="http://ns.adobe.com/exif/1.0/" xmlns:xmp="http://ns.adobe.com/xap/1.0/"'
        f' xmlns:lr="http://ns.adobe.com/lightroom/1.0/">{body}</rdf:Description>'
        "</rdf:RDF></x:xmpmeta>"
    ).encode()


HOLIDAY_XMP = xmp(
    "<dc:subject><rdf:Bag><rdf:li>holiday</rdf:li><rdf:li>beach</rdf:li></rdf:Bag></dc:subject>"
    "<lr:hierarchicalSubject><rdf:Bag><rdf:li>Places|France|Nice</rdf:li></rdf:Bag>"
    "</lr:hierarchicalSubject>"
    "<exif:DateTimeOriginal>2018-07-14T21:30:00+02:00</exif:DateTimeOriginal>"
    "<exif:GPSLatitude>43,41.5N</exif:GPSLatitude><exif:GPSLongitude>7,15.9E</exif:GPSLongitude>"
)


def found(path):
    """What the importer records for the file (after sidecars and date fallbacks)."""
    return read_file(str(path)).found


# -- positions ------------------------------------------------------------------------------


def test_loci_position_of_a_3gp(tmp_path):
    path = movie(tmp_path / "a.3gp", udta=[loci(48.8584, 2.2945, 35.5)], brand=b"3gp6")
    out = extracted(path)
    # 16.16 fixed point keeps about 5 decimals, as ExifTool shows: 48.85840 2.29449
    assert round(out.latitude, 5) == 48.8584 and round(out.longitude, 5) == 2.29449
    assert out.altitude == 35.5
    assert out.location_source == "3gpp:LocationInformation"


def test_loci_with_a_utf16_name_and_southern_western_position(tmp_path):
    name = "Sé".encode("utf-16-be")
    path = movie(tmp_path / "a.mp4", udta=[loci(-33.5, -70.25, -3.0, b"\xfe\xff" + name + b"\0\0")])
    out = extracted(path)
    assert (out.latitude, out.longitude, out.altitude) == (-33.5, -70.25, -3.0)


@pytest.mark.parametrize(("lat", "lon"), [(0.0, 0.0), (999.0, 999.0)])
def test_loci_without_a_fix_is_no_location(tmp_path, lat, lon):
    """0, 0 is what a device without a fix writes; 999 is ExifTool's "unknown"."""
    out = extracted(movie(tmp_path / "a.3gp", udta=[loci(lat, lon)]))
    assert (out.latitude, out.longitude, out.location_source) == (None, None, None)
    if lat == 0:
        assert any("0, 0 ignored" in error for error in out.errors)


def test_apple_position_is_preferred_to_loci(tmp_path):
    keys = {"com.apple.quicktime.location.ISO6709": "+40.6892-074.0445+010.000/"}
    out = extracted(movie(tmp_path / "a.mov", udta=[loci(48.8584, 2.2945)], keys=keys))
    assert (out.latitude, out.longitude) == (40.6892, -74.0445)
    assert out.location_source == "quicktime:GPS"


def test_zero_iso6709_position_is_no_location(tmp_path):
    path = movie(tmp_path / "a.mp4", udta=[user_data_string(b"\xa9xyz", "+00.0000+000.0000/")])
    out = extracted(path)
    assert out.latitude is None
    assert any("0, 0 ignored" in error for error in out.errors)


# -- XMP ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "where",
    ["XMP_ in udta", "uuid at the top", "uuid in moov", "uuid in the track"],
)
def test_xmp_inside_the_movie(tmp_path, where):
    xmp_box = box(b"uuid", XMP_UUID, HOLIDAY_XMP)
    layout = {
        "XMP_ in udta": {"udta": [box(b"XMP_", HOLIDAY_XMP)]},
        "uuid at the top": {"top": [xmp_box]},
        "uuid in moov": {"moov": [xmp_box]},
        "uuid in the track": {"track": [xmp_box]},
    }[where]
    out = found(movie(tmp_path / "a.mp4", **layout))
    assert out.keywords == ["holiday", "beach", "Places/France/Nice"]
    assert (out.start, out.utc_offset) == (dt.datetime(2018, 7, 14, 21, 30), 120)
    assert out.date_source == "xmp:DateTimeOriginal"
    assert (round(out.latitude, 6), round(out.longitude, 6)) == (43.691667, 7.265)
    assert out.location_source == "xmp:GPS"


def test_a_uuid_box_of_another_kind_is_not_xmp(tmp_path):
    other = box(b"uuid", bytes(16), HOLIDAY_XMP)
    out = extracted(movie(tmp_path / "a.mp4", top=[other]))
    assert out.keywords == [] and out.latitude is None


@pytest.mark.usefixtures("paris")
def test_xmp_dates_rank_below_the_movie_header_as_a_photo_xmp_below_exif(tmp_path):
    created = dt.datetime(2019, 6, 1, 10, 0, tzinfo=UTC)
    out = found(movie(tmp_path / "a.mov", udta=[box(b"XMP_", HOLIDAY_XMP)], created=created))
    assert out.date_source == "quicktime:CreateDate"
    assert out.start == dt.datetime(2019, 6, 1, 12, 0)  # Paris in June
    assert out.keywords == ["holiday", "beach", "Places/France/Nice"]  # the rest still counts


def test_oversized_xmp_is_refused_without_reading_it_whole(tmp_path):
    """A 64 MiB XMP_ box (sparse on disk): at most the XMP limit is copied, and the refusal
    is noted."""
    path = movie(tmp_path / "a.mov")
    size = 64 * 1024 * 1024
    with open(path, "r+b") as f:
        data = f.read()
        moov = data.index(b"moov") - 4
        udta = struct.pack(">I4s", 8 + 8 + size, b"udta") + struct.pack(">I4s", 8 + size, b"XMP_")
        f.seek(0)
        moov_size = len(data) - moov + len(udta) + size
        f.write(data[:moov] + struct.pack(">I", moov_size) + data[moov + 4 :])
        f.write(udta)
        f.truncate(f.tell() + size)
    tracemalloc.start()
    try:
        out = extracted(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 16 * 1024 * 1024
    assert any("XMP ignored" in error for error in out.errors)


# -- keywords -------------------------------------------------------------------------------


def test_keywords_from_every_keyword_box(tmp_path):
    keys = {"com.apple.quicktime.keywords": "sunset"}
    udta = [
        kywd("alpha", "beta"),
        user_data_string(b"\xa9key", "gamma"),
        item_list((b"keyw", "delta"), (b"\xa9key", "epsilon"), (b"\xa9nam", "not a keyword")),
    ]
    out = found(movie(tmp_path / "a.mp4", udta=udta, keys=keys))
    assert sorted(out.keywords) == ["alpha", "beta", "delta", "epsilon", "gamma", "sunset"]


def test_iphone_keyword_box_of_plain_text(tmp_path):
    out = extracted(movie(tmp_path / "a.mov", udta=[box(b"kywd", b"alpha\0beta\0")]))
    assert out.keywords == ["alpha", "beta"]


def test_keywords_become_tags_through_import_and_show(tmp_path, cli, cli_json):
    folder = tmp_path / "clips"
    folder.mkdir()
    movie(folder / "a.3gp", udta=[kywd("Beach", "Nice"), loci(43.7, 7.25)], brand=b"3gp6")
    code, _, err = cli("import", folder)
    assert code == 0, err
    rec = cli_json("show", folder / "a.3gp")[1]["files"][0]
    assert sorted(rec["tags"]) == ["Beach", "Nice"]
    assert round(rec["location"]["latitude"], 4) == 43.7
    assert round(rec["location"]["longitude"], 4) == 7.25


# -- hostile boxes --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "udta",
    [
        [struct.pack(">I4s", 0xFFFFFFFF, b"loci") + bytes(20)],  # runs far past the file
        [struct.pack(">I4sQ", 1, b"XMP_", 2**63) + b"<x"],  # a 64-bit size lie
        [full_box(b"loci", 0, b"\x15\xc7no terminator at all")],
        [full_box(b"loci", 0, b"\x15\xc7\xfe\xff\x00A")],  # UTF-16, no terminator
        [full_box(b"kywd", 0, b"\x15\xc7\xff\x05abc")],  # 255 keywords promised, one cut
        [box(b"\xa9key", struct.pack(">HH", 0xFFFF, ENGLISH), b"short")],
        [box(b"meta", bytes(4), box(b"ilst", struct.pack(">I4s", 0xFFFF, b"keyw")))],
        [struct.pack(">I4s", 4, b"kywd")] * 3,  # smaller than its own header
    ],
)
def test_lying_boxes_are_cut_short(tmp_path, udta):
    path = movie(tmp_path / "a.mp4", udta=udta)
    started = time.monotonic()
    out = extracted(path)
    assert time.monotonic() - started < 5
    assert (out.latitude, out.keywords) == (None, [])
    assert out.metadata["duration_s"] == 10.0  # MediaInfo's part still counts


def test_apple_keys_that_lie_about_their_count(tmp_path):
    keys_box = full_box(b"keys", 0, struct.pack(">I", 0xFFFFFFFF), struct.pack(">I4s", 3, b"mdta"))
    handler = full_box(b"hdlr", 0, struct.pack(">I4s12x", 0, b"mdta"), b"\0")
    meta = box(b"meta", handler, keys_box, box(b"ilst", box(struct.pack(">I", 1), b"")))
    out = extracted(movie(tmp_path / "a.mov", moov=[meta]))
    assert out.keywords == [] and out.latitude is None


def test_thousands_of_empty_boxes_end_the_listing(tmp_path):
    out = extracted(movie(tmp_path / "a.mp4", udta=[box(b"free")] * 20000 + [kywd("late")]))
    assert out.keywords == []  # past the 4096 boxes one level may list


# -- AVCHD camcorder data -------------------------------------------------------------------

MDPM_UUID = bytes.fromhex("17ee8c60f84d11d98cd60800200c9a66")


def mdpm(records: list[tuple[int, bytes]]) -> bytes:
    """An H.264 SEI NAL unit holding unregistered user data with MDPM records."""
    body = MDPM_UUID + b"MDPM" + bytes([len(records)])
    body += b"".join(bytes([tag]) + value for tag, value in records)
    # H.264 escapes every 00 00 0x (x <= 3) as 00 00 03 0x.
    escaped = bytearray()
    zeros = 0
    for byte in body:
        if zeros >= 2 and byte <= 3:
            escaped.append(3)
            zeros = 0
        escaped.append(byte)
        zeros = zeros + 1 if byte == 0 else 0
    return b"\0\0\0\x01\x06\x05" + bytes([len(body)]) + bytes(escaped) + b"\x80"


def canon_records(zone: int = 0x02) -> list[tuple[int, bytes]]:
    """31 Dec 2008 23:16:24, UTC+1 (the corpus's Canon HF100 clip), and Canon's make."""
    return [
        (0x18, bytes([zone, 0x20, 0x08, 0x12])),
        (0x19, bytes([0x31, 0x23, 0x16, 0x24])),
        (0x70, b"\xca\xf4\xff\xff"),
        (0xE0, b"\x10\x11\x30\x00"),
    ]


def transport_stream(payload: bytes, packet: int = 192, pid: int = 0x1011, lead: int = 3) -> bytes:
    """`payload` cut into transport packets of this PID (after `lead` packets of another),
    each behind a 4-byte timestamp when `packet` is 192 (BDAV)."""

    def one(pid: int, chunk: bytes, first: bool) -> bytes:
        header = struct.pack(">BHB", 0x47, (0x4000 if first else 0) | pid, 0x10)
        data = header + chunk + b"\xff" * (184 - len(chunk))
        return (bytes(4) + data) if packet == 192 else data

    packets = [one(0x100, b"", True) for _ in range(lead)]
    packets += [one(pid, payload[i : i + 184], i == 0) for i in range(0, len(payload), 184)]
    return b"".join(packets)


def pes(nal_units: bytes) -> bytes:
    """A video PES packet header before the NAL units."""
    return b"\0\0\x01\xe0\0\0\x80\x80\x05" + bytes(5) + b"\0\0\0\x01\x09\x10" + nal_units


@pytest.mark.parametrize("packet", [188, 192])
def test_avchd_date_and_make_from_mdpm(tmp_path, packet):
    path = tmp_path / ("00001.MTS" if packet == 192 else "00001.m2ts")
    path.write_bytes(transport_stream(pes(mdpm(canon_records())), packet))
    out = found(path)
    assert (out.start, out.utc_offset) == (dt.datetime(2008, 12, 31, 23, 16, 24), 60)
    assert out.date_source == "video:RecordedDate"
    assert out.metadata["make"] == "Canon"


def test_mdpm_straddling_packets_with_an_escaped_zero(tmp_path):
    """The records begin in one packet and end in the next; the zone byte 0x00 (UTC) after
    two zero bytes is escaped in the stream."""
    padding = b"\0\0\0\x01\x0c" + b"\xff" * 150  # filler NAL pushing MDPM to the boundary
    records = [(0x13, b"\x00\x00\x00\x00"), *canon_records(zone=0x00)]
    path = tmp_path / "00002.MTS"
    path.write_bytes(transport_stream(pes(padding + mdpm(records))))
    out = extracted(path)
    assert (out.start, out.utc_offset) == (dt.datetime(2008, 12, 31, 23, 16, 24), 0)


def test_sony_model_position_and_western_zone(tmp_path):
    def rational(numerator: int, denominator: int = 1) -> bytes:
        return struct.pack(">HH", numerator, denominator)

    records = [
        (0x18, bytes([0x20 | 5 << 1 | 0x40, 0x20, 0x11, 0x07])),  # UTC-5, summer time flag
        (0x19, bytes([0x04, 0x09, 0x30, 0x00])),
        (0xB1, b"N\0\0\0"),
        (0xB2, rational(40)),
        (0xB3, rational(41)),
        (0xB4, rational(2121, 100)),
        (0xB5, b"W\0\0\0"),
        (0xB6, rational(74)),
        (0xB7, rational(2)),
        (0xB8, rational(4020, 100)),
        (0xB9, bytes(4)),
        (0xBA, rational(12)),
        (0xE0, b"\x01\x08\x30\x01"),
        (0xE4, b"HDR-"),
        (0xE5, b"CX70"),
        (0xE6, b"0\0\0\0"),
    ]
    path = tmp_path / "00003.MTS"
    path.write_bytes(transport_stream(pes(mdpm(records))))
    out = extracted(path)
    assert (out.start, out.utc_offset) == (dt.datetime(2011, 7, 4, 9, 30), -300)
    assert (out.metadata["make"], out.metadata["model"]) == ("Sony", "HDR-CX700")
    assert (round(out.latitude, 4), round(out.longitude, 4), out.altitude) == (
        40.6892,
        -74.0445,
        12.0,
    )


@pytest.mark.parametrize(
    "records",
    [
        [(0x18, b"\x02\x20\x08\x13"), (0x19, b"\x31\x23\x16\x24")],  # month 13
        [(0x18, b"\x02\x2a\x08\x12"), (0x19, b"\x31\x23\x16\x24")],  # not BCD
        [(0x19, b"\x31\x23\x16\x24"), (0x18, b"\x02\x20\x08\x12")],  # out of order
    ],
)
def test_invalid_mdpm_dates_are_no_dates(tmp_path, records):
    path = tmp_path / "bad.MTS"
    path.write_bytes(transport_stream(pes(mdpm(records))))
    out = extracted(path)
    assert out.start is None


def test_mdpm_beyond_the_scanned_start_is_not_read(tmp_path):
    lead = SCAN_BYTES // 192 + 10
    path = tmp_path / "late.MTS"
    path.write_bytes(transport_stream(pes(mdpm(canon_records())), lead=lead))
    started = time.monotonic()
    out = extracted(path)
    assert time.monotonic() - started < 10
    assert out.start is None


@pytest.mark.parametrize(
    "payload",
    [
        MDPM_UUID + b"MDPM\xff" + b"\x18" * 3,  # 255 records promised, none whole
        MDPM_UUID + b"MDPM",  # the stream ends after the signature
        (MDPM_UUID + b"MDPM\x01\x18\x02") * 100,  # many signatures, none complete
    ],
)
def test_lying_mdpm_blocks_end_quietly(tmp_path, payload):
    path = tmp_path / "lie.MTS"
    path.write_bytes(transport_stream(payload))
    out = extracted(path)
    assert out.start is None and "make" not in out.metadata


# -- video spans ----------------------------------------------------------------------------


def test_end_follows_a_date_from_a_sidecar(tmp_path):
    path = movie(tmp_path / "clip.mp4")  # no date in the movie itself
    (tmp_path / "clip.xmp").write_bytes(
        xmp("<exif:DateTimeOriginal>2020-05-01T08:00:00</exif:DateTimeOriginal>")
    )
    out = found(path)
    assert out.date_source == "sidecar:DateTimeOriginal"
    assert out.start == dt.datetime(2020, 5, 1, 8, 0)
    assert out.end == dt.datetime(2020, 5, 1, 8, 0, 10)


def test_end_follows_a_date_from_the_file_name_or_its_time(tmp_path):
    named = found(movie(tmp_path / "VID_20190601_123456.mp4"))
    assert named.date_source == "filename"
    assert named.end == dt.datetime(2019, 6, 1, 12, 35, 6)
    unnamed = tmp_path / "clip.mp4"
    movie(unnamed)
    os.utime(unnamed, (1_600_000_000, 1_600_000_000))
    out = found(unnamed)
    assert out.date_source == "file:mtime"
    assert out.end - out.start == dt.timedelta(seconds=10)


def test_a_photo_has_no_end(tmp_path):
    from conftest import make_photo

    out = found(make_photo(tmp_path / "a.jpg"))
    assert out.end is None
