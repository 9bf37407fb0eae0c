"""Dates and positions only a device's own block holds (FLIR, Reconyx, Casio QVCI), GPS time
as the date of last resort before guesses, empty GPS fixes, HEIF orientation, and IPTC
reconciled with XMP by the IPTC digest. Every file is built here, byte by byte where no
library writes such blocks."""

from __future__ import annotations

import datetime as dt
import hashlib
import struct
import time

import piexif
import pytest
from conftest import make_photo

from luna.ingest.extract import read_file


def with_segments(path, *segments: bytes) -> None:
    """Insert JPEG segments (marker and body already joined) right after SOI."""
    data = path.read_bytes()
    path.write_bytes(data[:2] + b"".join(segments) + data[2:])


def segment(marker: int, body: bytes) -> bytes:
    return bytes((0xFF, marker)) + (len(body) + 2).to_bytes(2, "big") + body


def found(path):
    return read_file(str(path)).found


def is_a_guess(extracted) -> bool:
    return extracted.date_source in ("file:mtime", "filename")


# -- FLIR ------------------------------------------------------------------------------------

FLIR_TAKEN_UTC = dt.datetime(2012, 2, 11, 13, 17, 8)  # 14:17:08.253 at +01:00


def flir_camera_info(when_utc=FLIR_TAKEN_UTC, west_minutes=-60, millis=253) -> bytes:
    """A big-endian CameraInfo record: 2 first, then the date at 0x384."""
    record = bytearray(0x400)
    record[0:2] = (2).to_bytes(2, "big")
    seconds = int((when_utc - dt.datetime(1970, 1, 1)).total_seconds())
    struct.pack_into(">LLh", record, 0x384, seconds, millis, west_minutes)
    return bytes(record)


def flir_gps(lat=59.3293, lon=18.0686, valid=1) -> bytes:
    record = bytearray(0x60)
    struct.pack_into("<L", record, 0, valid)
    record[8:10], record[10:12] = b"N\0", b"E\0"
    struct.pack_into("<2df", record, 0x10, lat, lon, 12.5)
    return bytes(record)


def fff(records: dict[int, bytes], *, count=None, lie=None) -> bytes:
    """An FFF structure (big-endian, as in JPEG APP1): header, directory, records. `lie`
    replaces one entry's (offset, length)."""
    header_size, entry_size = 0x40, 0x20
    directory = header_size
    data_at = directory + entry_size * len(records)
    entries, payload = b"", b""
    for i, (kind, body) in enumerate(records.items()):
        offset, length = data_at + len(payload), len(body)
        if lie is not None and i == 0:
            offset, length = lie
        entries += struct.pack(">HHLLLL", kind, 1, 0x64, 1, offset, length) + b"\0" * 12
        payload += body
    header = bytearray(header_size)
    header[0:4] = b"FFF\0"
    n = len(records) if count is None else count
    struct.pack_into(">LLL", header, 0x14, 100, directory, n)
    return bytes(header) + entries + payload


def flir_segments(data: bytes, chunks: int = 1) -> list[bytes]:
    size = -(-len(data) // chunks)
    parts = [data[i * size : (i + 1) * size] for i in range(chunks)]
    return [
        segment(0xE1, b"FLIR\0\x01" + bytes((n, chunks - 1)) + part) for n, part in enumerate(parts)
    ]


def test_a_flir_camera_date_and_position_come_from_its_records(photos):
    path = make_photo(photos / "FLIR0001.jpg", taken=None, make="FLIR Systems AB")
    data = fff({0x20: flir_camera_info(), 0x2B: flir_gps()})
    first, second = flir_segments(data, chunks=2)
    with_segments(path, second, first)  # chunks are joined by number, not file order
    info = found(path)
    assert info.start == dt.datetime(2012, 2, 11, 14, 17, 8, 253000)
    assert info.utc_offset == 60
    assert info.date_source == "flir:DateTimeOriginal"
    assert (info.latitude, info.longitude, info.altitude) == (59.3293, 18.0686, 12.5)
    assert info.location_source == "flir:GPS"


def test_flir_names_the_zone_of_the_same_time_in_exif(photos):
    path = make_photo(photos / "FLIR0002.jpg", taken="2012:02:11 14:17:08")
    with_segments(path, *flir_segments(fff({0x20: flir_camera_info()})))
    info = found(path)
    assert info.date_source == "exif:DateTimeOriginal"
    assert info.start == dt.datetime(2012, 2, 11, 14, 17, 8)
    assert (info.utc_offset, info.offset_source) == (60, "flir:DateTimeOriginal")


def test_flir_gps_marked_invalid_is_no_position(photos):
    path = make_photo(photos / "FLIR0003.jpg", taken=None)
    with_segments(path, *flir_segments(fff({0x2B: flir_gps(valid=0)})))
    assert found(path).latitude is None


@pytest.mark.parametrize(
    "data",
    [
        fff({0x20: flir_camera_info()}, count=0xFFFFFFFF),  # a directory of 4 billion entries
        fff({0x20: flir_camera_info()}, lie=(0x40, 0xFFFFFFF0)),  # a record past the end
        fff({0x20: flir_camera_info()}, lie=(0xFFFFFFF0, 0x10)),
        fff({0x20: flir_camera_info()[:0x300]}),  # CameraInfo too short for its date
        b"FFF\0" + b"\xff" * 60,  # no version that makes sense in either byte order
    ],
    ids=["count", "length", "offset", "short-record", "version"],
)
def test_flir_records_with_lying_lengths_are_survived(photos, data):
    path = make_photo(photos / "FLIR0004.jpg", taken=None)
    with_segments(path, *flir_segments(data))
    started = time.monotonic()
    info = found(path)
    assert time.monotonic() - started < 5
    assert info.date_source != "flir:DateTimeOriginal" or info.start.year == 2012
    assert info.width == 64  # the file is still recorded


def test_flir_chunks_that_disagree_on_their_count_are_noted(photos):
    path = make_photo(photos / "FLIR0005.jpg", taken=None)
    first, _ = flir_segments(fff({0x20: flir_camera_info()}), chunks=2)
    bad = segment(0xE1, b"FLIR\0\x01\x01\x05" + b"\0" * 16)  # says 6 chunks, the first 2
    with_segments(path, first, bad)
    info = found(path)
    assert is_a_guess(info)
    assert any("FLIR" in e for e in info.errors)


# -- Reconyx -----------------------------------------------------------------------------------


def with_maker_note(path, note: bytes) -> None:
    exif = piexif.load(str(path))
    exif["Exif"][piexif.ExifIFD.MakerNote] = note
    piexif.insert(piexif.dump(exif), str(path))


def hyperfire_note(year=2020, month=3, day=16, hour=10, minute=0, second=0, big=False):
    note = bytearray(713)
    note[0:4] = b"\x01\xf1\x03\x00"
    order = ">" if big else "<"
    struct.pack_into(order + "6H", note, 22, second, minute, hour, month, day, year)
    note[42:72] = "H500EE06130468".encode("utf-16-le").ljust(30, b"\0")
    return bytes(note)


def ultrafire_note():
    note = bytearray(0x80)
    note[0:10] = b"RECONYXUF\0"
    note[0x3B : 0x3B + 7] = bytes((5, 4, 3, 2, 1, 2021 & 0xFF, 2021 >> 8))
    note[0x4B : 0x4B + 15] = b"UF12345\0".ljust(15, b"\0")
    return bytes(note)


def hf2_note():
    note = bytearray(0x9E)
    note[0:10] = b"RECONYXH2\0"
    struct.pack_into("<6H", note, 0x3E, 59, 58, 23, 31, 12, 2022)
    note[0x7E : 0x7E + 30] = "HF2-77".encode("utf-16-le").ljust(30, b"\0")
    return bytes(note)


@pytest.mark.parametrize(
    ("note", "taken", "serial"),
    [
        (hyperfire_note(), dt.datetime(2020, 3, 16, 10, 0, 0), "H500EE06130468"),
        (hyperfire_note(second=7, big=True), dt.datetime(2020, 3, 16, 10, 0, 7), "H500EE06130468"),
        (ultrafire_note(), dt.datetime(2021, 1, 2, 3, 4, 5), "UF12345"),
        (hf2_note(), dt.datetime(2022, 12, 31, 23, 58, 59), "HF2-77"),
    ],
    ids=["hyperfire", "hyperfire-big-endian-date", "ultrafire", "hf2-pro"],
)
def test_a_trail_camera_date_comes_from_its_maker_note(photos, note, taken, serial):
    path = make_photo(photos / "RCNX0001.JPG", taken=None, make=None, model=None)
    with_maker_note(path, note)
    info = found(path)
    assert (info.start, info.utc_offset) == (taken, None)
    assert info.date_source == "reconyx:DateTimeOriginal"
    assert info.metadata["serial_number"] == serial


def test_exif_dates_outrank_a_maker_note(photos):
    path = make_photo(photos / "RCNX0002.JPG", taken="2024:05:06 07:08:09")
    with_maker_note(path, hyperfire_note())
    info = found(path)
    assert info.date_source == "exif:DateTimeOriginal"
    assert info.start == dt.datetime(2024, 5, 6, 7, 8, 9)


@pytest.mark.parametrize(
    "note",
    [
        hyperfire_note()[:20],  # cut before the date
        b"RECONYXUF\0" + b"\xff" * 10,
        b"RECONYXH2\0",
        hyperfire_note(month=13),  # a garbled date
        b"\x01\xf1\x09\x00" + hyperfire_note()[4:],  # not a Reconyx version, no RECONYX make
    ],
    ids=["short-hyperfire", "short-ultrafire", "short-hf2", "bad-month", "not-reconyx"],
)
def test_short_or_foreign_maker_notes_give_no_date(photos, note):
    path = make_photo(photos / "RCNX0003.JPG", taken=None, make=None)
    with_maker_note(path, note)
    info = found(path)
    assert is_a_guess(info)
    assert info.width == 64


# -- Casio QVCI --------------------------------------------------------------------------------


def qvci_block(date=b"1998.10.24.12.08.57") -> bytes:
    body = bytearray(0x86)
    body[0:5] = b"QVCI\0"
    body[0x4D : 0x4D + len(date) + 1] = date + b"\0"
    body[0x62:0x69] = b"KX-778\0"
    return bytes(body)


def test_an_early_casio_date_comes_from_its_qvci_block(photos):
    path = make_photo(photos / "CIMG0001.JPG", taken=None, make=None, model=None)
    with_segments(path, segment(0xE1, qvci_block()))
    info = found(path)
    assert info.start == dt.datetime(1998, 10, 24, 12, 8, 57)
    assert info.date_source == "casio:DateTimeOriginal"


@pytest.mark.parametrize("body", [b"QVCI\0", qvci_block(b"1998.13.24.12.08.57"), qvci_block(b"")])
def test_a_short_or_garbled_qvci_block_gives_no_date(photos, body):
    path = make_photo(photos / "CIMG0002.JPG", taken=None, make=None, model=None)
    with_segments(path, segment(0xE1, body))
    assert is_a_guess(found(path))


# -- GPS time as the last date before guesses --------------------------------------------------


def test_gps_time_dates_a_photo_without_a_capture_date(photos):
    path = make_photo(photos / "IMG_20010101_000000.jpg", taken=None, gps_utc="2019:06:01 10:34:56")
    info = found(path)
    assert (info.start, info.utc_offset) == (dt.datetime(2019, 6, 1, 10, 34, 56), 0)
    assert info.date_source == "gps:DateTime"  # above the date in the file name


def test_gps_time_outranks_a_time_of_saving_but_not_a_capture_date(photos):
    saved = make_photo(
        photos / "a.jpg", taken=None, modified="2020:01:01 00:00:00", gps_utc="2019:06:01 10:34:56"
    )
    assert found(saved).date_source == "gps:DateTime"
    taken = make_photo(photos / "b.jpg", taken="2019:06:01 12:34:56", gps_utc="2019:06:01 10:34:56")
    info = found(taken)
    assert (info.date_source, info.start, info.utc_offset) == (
        "exif:DateTimeOriginal",
        dt.datetime(2019, 6, 1, 12, 34, 56),
        120,  # the zone, from the two clocks
    )


SIDECAR = """<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF
 xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description
 xmlns:exif="http://ns.adobe.com/exif/1.0/" {attrs}/></rdf:RDF></x:xmpmeta>"""


def test_xmp_gps_time_dates_a_photo_without_a_capture_date(photos):
    path = make_photo(photos / "c.jpg", taken=None)
    (photos / "c.xmp").write_text(
        SIDECAR.format(attrs='exif:GPSTimeStamp="2019-06-01T12:34:56+02:00"')
    )
    info = found(path)
    assert (info.start, info.utc_offset, info.date_source) == (
        dt.datetime(2019, 6, 1, 10, 34, 56),
        0,
        "gps:DateTime",
    )


# -- Empty GPS fixes ---------------------------------------------------------------------------


def test_a_position_of_zero_zero_is_no_position(photos):
    info = found(make_photo(photos / "a.jpg", gps=(0.0, 0.0)))
    assert (info.latitude, info.longitude, info.location_source) == (None, None, None)
    assert "0, 0" in info.metadata["gps_note"]


def test_a_void_gps_measurement_is_no_position(photos):
    path = make_photo(photos / "a.jpg", gps=(48.85, 2.29))
    exif = piexif.load(str(path))
    exif["GPS"][piexif.GPSIFD.GPSStatus] = b"V"
    piexif.insert(piexif.dump(exif), str(path))
    info = found(path)
    assert info.latitude is None
    assert "void" in info.metadata["gps_note"]


def test_xmp_zero_position_is_no_position_and_a_real_one_still_counts(photos):
    zero = make_photo(photos / "z.jpg")
    (photos / "z.xmp").write_text(
        SIDECAR.format(attrs='exif:GPSLatitude="0,0.0N" exif:GPSLongitude="0,0.0E"')
    )
    assert found(zero).latitude is None
    real = make_photo(photos / "r.jpg")
    (photos / "r.xmp").write_text(
        SIDECAR.format(attrs='exif:GPSLatitude="0,30.0N" exif:GPSLongitude="0,0.0E"')
    )
    assert (found(real).latitude, found(real).longitude) == (0.5, 0.0)  # the equator is real


def test_a_video_position_of_zero_zero_is_no_position():
    from luna.ingest.extract.facts import Extracted
    from luna.ingest.extract.video import parse_iso6709

    out = Extracted()
    out.offer_location(*parse_iso6709("+00.0000+000.0000/"), "quicktime:GPS")
    assert out.location_source is None and "quicktime:GPS" in out.metadata["gps_note"]
    out.offer_location(*parse_iso6709("+00.0000+012.5000/"), "quicktime:GPS")
    assert (out.latitude, out.longitude) == (0.0, 12.5)  # on the equator, not "no fix"


# -- HEIF orientation --------------------------------------------------------------------------


def heic_with_exif_orientation(path, orientation: int, keep_irot: bool) -> None:
    pillow_heif = pytest.importorskip("pillow_heif")
    from PIL import Image

    pillow_heif.register_heif_opener()
    exif = piexif.dump({"0th": {piexif.ImageIFD.Orientation: orientation}})
    Image.new("RGB", (64, 48), (10, 20, 30)).save(path, format="HEIF", exif=exif, quality=30)
    if not keep_irot:  # pillow-heif turns EXIF orientation into an irot box: undo it
        data = bytearray(path.read_bytes())
        at = data.find(b"irot")
        assert at > 0
        data[at + 4] = 0  # a rotation of 0
        path.write_bytes(bytes(data))


def test_heic_keeps_exif_orientation_and_the_container_decides_the_size(photos):
    turned = photos / "turned.heic"
    heic_with_exif_orientation(turned, 6, keep_irot=True)
    info = found(turned)
    assert (info.width, info.height, info.metadata["orientation"]) == (48, 64, 6)
    not_turned = photos / "exif-only.heic"
    heic_with_exif_orientation(not_turned, 6, keep_irot=False)
    info = found(not_turned)
    # Phones show such a file as stored: EXIF orientation in HEIF is information only.
    assert (info.width, info.height, info.metadata["orientation"]) == (64, 48, 6)


# -- IPTC against XMP: the IPTC digest ---------------------------------------------------------

XMP_PACKET = """<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF
 xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description
 xmlns:dc="http://purl.org/dc/elements/1.1/"
 xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/" photoshop:City="Lyon">
 <dc:subject><rdf:Bag><rdf:li>xmp-word</rdf:li></rdf:Bag></dc:subject>
 </rdf:Description></rdf:RDF></x:xmpmeta>"""


def iptc_block(keywords: list[str], city: str) -> bytes:
    records = b""
    for dataset, value in [(25, k) for k in keywords] + [(90, city)]:
        raw = value.encode()
        records += b"\x1c\x02" + bytes((dataset,)) + len(raw).to_bytes(2, "big") + raw
    return records


def resource(kind: int, data: bytes) -> bytes:
    body = b"8BIM" + kind.to_bytes(2, "big") + b"\0\0" + len(data).to_bytes(4, "big") + data
    return body + (b"\0" if len(data) % 2 else b"")


def app13(iptc: bytes, digest: bytes | None) -> bytes:
    body = b"Photoshop 3.0\0" + resource(0x0404, iptc)
    if digest is not None:
        body += resource(0x0425, digest)
    return segment(0xED, body)


def photo_with_both(path, digest_of: bytes | None, xmp: bool = True):
    make_photo(path, taken=None)
    iptc = iptc_block(["iptc-word"], "Paris")
    digest = hashlib.md5(digest_of).digest() if digest_of is not None else None
    segments = [app13(iptc, digest)]
    if xmp:
        segments.insert(0, segment(0xE1, b"http://ns.adobe.com/xap/1.0/\0" + XMP_PACKET.encode()))
    with_segments(path, *segments)
    return iptc


@pytest.mark.parametrize("in_sync", [True, False], ids=["digest-matches", "no-digest"])
def test_xmp_is_preferred_over_iptc_that_is_not_newer(photos, in_sync):
    path = photos / "a.jpg"
    iptc = iptc_block(["iptc-word"], "Paris")
    photo_with_both(path, iptc if in_sync else None)
    info = found(path)
    assert info.keywords == ["xmp-word"]  # the IPTC copy is not added as a tag
    assert info.metadata["city"] == "Lyon"


def test_iptc_changed_after_the_xmp_is_preferred(photos):
    path = photos / "a.jpg"
    photo_with_both(path, b"the IPTC block as it was before")
    info = found(path)
    assert info.keywords == ["iptc-word"]
    assert info.metadata["city"] == "Paris"


def test_iptc_alone_still_gives_keywords(photos):
    path = photos / "a.jpg"
    photo_with_both(path, None, xmp=False)
    info = found(path)
    assert (info.keywords, info.metadata["city"]) == (["iptc-word"], "Paris")


def test_a_photoshop_resource_with_a_lying_size_is_survived(photos):
    path = make_photo(photos / "a.jpg", taken=None)
    lying = b"Photoshop 3.0\0" + b"8BIM\x04\x25\0\0\xff\xff\xff\xf0" + b"\0" * 16
    with_segments(path, segment(0xED, lying))
    info = found(path)
    assert info.width == 64 and info.keywords == []
