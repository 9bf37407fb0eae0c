"""luna's own EXIF reader for JPEGs (luna.ingest.extract.exif) finds exactly what Pillow's
finds: the same camera, dates, zone, place, size and reported problems, for real files,
for generated ones of every shape luna reads, and for hostile ones (where it hands over to
Pillow rather than guess)."""

from __future__ import annotations

import io
import os
import random
import struct
import time
import warnings

import pytest
from conftest import CORPUS, make_photo, requires_corpus

from luna.ingest.extract import exif, image, read_file
from luna.ingest.extract.facts import Extracted, FileFacts

# -- comparing the two readers ------------------------------------------------------------


def facts_of(path) -> tuple:
    """What a user sees of a file's reading: metadata, dates, zone, place, size, errors."""
    try:
        result = read_file(str(path))
    except Exception as exc:  # noqa: BLE001 - a failure's message is part of the result
        return ("failed", type(exc).__name__, str(exc))
    if not isinstance(result, FileFacts):
        return ("skipped", result.reason)
    f = result.found
    return (
        f.metadata,
        f.start,
        f.utc_offset,
        f.date_source,
        f.offset_source,
        f.latitude,
        f.longitude,
        f.altitude,
        f.location_source,
        f.gps_utc,
        f.width,
        f.height,
        f.errors,
        f.keywords,
    )


def with_pillow(monkeypatch, fn):
    """`fn()` with JPEG EXIF read by Pillow, as before luna had its own reader."""
    with monkeypatch.context() as m:
        m.setattr(image, "exif_from_jpeg", exif.pillow_exif)
        return fn()


def read_block(block: bytes, loader) -> tuple:
    """image.read_exif over an EXIF block read by `loader`, with the warnings it raised."""
    out = Extracted()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        loaded = image.safely(out, "exif", lambda: loader(block))
        if loaded is not None:
            image.read_exif(loaded, out)
    return (
        out.metadata,
        out.start,
        out.utc_offset,
        out.date_source,
        out.latitude,
        out.longitude,
        out.altitude,
        out.gps_utc,
        out.errors,
        [str(w.message) for w in caught],
    )


def assert_same_as_pillow(block: bytes) -> tuple:
    ours = read_block(block, exif.exif_from_jpeg)
    assert ours == read_block(block, exif.pillow_exif)
    return ours


def is_ours(block: bytes) -> bool:
    """Whether luna's reader (rather than Pillow) reads this block's IFD0."""
    try:
        return isinstance(exif.JpegExif(block), exif.JpegExif)
    except exif.Fallback:
        return False


# -- (a) the shared corpus of real and damaged files ----------------------------------------


def corpus_files() -> list[str]:
    if not CORPUS.is_dir():
        return []
    found = []
    for root, dirs, names in os.walk(CORPUS):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        found += [os.path.join(root, n) for n in sorted(names) if not n.startswith(".")]
    return found


@requires_corpus()
def test_corpus_reads_the_same_as_with_pillow(monkeypatch):
    """Every corpus file (JPEGs, and RAWs whose embedded JPEG holds the EXIF) gives the same
    facts with luna's reader as with Pillow's; most JPEGs are read by luna's."""
    paths = corpus_files()
    read_by_us = []
    real = exif.exif_from_jpeg

    def spy(block):
        loaded = real(block)
        if isinstance(loaded, exif.JpegExif):
            read_by_us.append(block)
        return loaded

    monkeypatch.setattr(image, "exif_from_jpeg", spy)
    started = time.monotonic()
    ours = {path: facts_of(path) for path in paths}
    pillows = with_pillow(monkeypatch, lambda: {path: facts_of(path) for path in paths})
    assert time.monotonic() - started < 20
    differ = [path for path in paths if ours[path] != pillows[path]]
    assert not differ, f"{len(differ)} files differ, first {differ[0]}: {ours[differ[0]]}"
    assert len(read_by_us) >= 100  # the comparison is about luna's reader, not the fallback


# -- building EXIF blocks -------------------------------------------------------------------

ORDERS = {"<": b"II*\x00", ">": b"MM\x00*"}


def field(order: str, kind: int, values) -> tuple[int, int, bytes]:
    """(type, count, bytes) of a TIFF field: `values` is bytes for BYTE, ASCII, UNDEFINED,
    else a tuple of numbers ((numerator, denominator) pairs for rationals)."""
    if isinstance(values, bytes):
        return kind, len(values), values
    if kind in (5, 10):
        flat = [part for pair in values for part in pair]
        return (
            kind,
            len(values),
            struct.pack(f"{order}{len(flat)}{'L' if kind == 5 else 'l'}", *flat),
        )
    fmt = exif.NUMBER_FORMATS[kind]
    return kind, len(values), struct.pack(f"{order}{len(values)}{fmt}", *values)


def tiff_block(order: str, ifd0: dict, sub: dict | None = None, gps: dict | None = None) -> bytes:
    """An EXIF block (a TIFF structure): IFD0 at 8, then the EXIF and GPS IFDs, then the
    values that do not fit in an entry. Each dict maps tag -> (type, values)."""
    dirs = [dict(ifd0)]
    if sub is not None:
        dirs[0][exif.IFD_EXIF] = (4, (0,))
        dirs.append(dict(sub))
    if gps is not None:
        dirs[0][exif.IFD_GPS] = (4, (0,))
        dirs.append(dict(gps))
    starts, pos = [], 8
    for d in dirs:
        starts.append(pos)
        pos += 2 + 12 * len(d) + 4
    pointers = iter(starts[1:])
    for tag in (exif.IFD_EXIF, exif.IFD_GPS):
        if tag in dirs[0]:
            dirs[0][tag] = (4, (next(pointers),))
    out, heap = bytearray(ORDERS[order] + struct.pack(f"{order}L", 8)), bytearray()
    for d in dirs:
        out += struct.pack(f"{order}H", len(d))
        for tag in sorted(d):
            kind, count, raw = field(order, *d[tag])
            if len(raw) <= 4:
                value = raw.ljust(4, b"\0")
            else:
                value = struct.pack(f"{order}L", pos + len(heap))
                heap += raw + b"\0" * (len(raw) % 2)
            out += struct.pack(f"{order}HHL", tag, kind, count) + value
        out += struct.pack(f"{order}L", 0)
    return bytes(out + heap)


def jpeg_with(block: bytes, path) -> str:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (90, 140, 200)).save(buffer, "JPEG", exif=b"Exif\0\0" + block)
    path.write_bytes(buffer.getvalue())
    return str(path)


def apple_note(order: str, identifier: bytes) -> bytes:
    """An iPhone maker note holding a ContentIdentifier (tag 0x11, ASCII)."""
    mark = b"MM" if order == ">" else b"II"
    text = identifier + b"\0"
    entry = struct.pack(f"{order}HHLL", 0x11, 2, len(text), 16 + 12 + 4)
    return b"Apple iOS\0\0\x01" + mark + struct.pack(f"{order}H", 1) + entry + b"\0" * 4 + text


def phone_block(order: str) -> bytes:
    """What a phone writes, in the given byte order."""
    return tiff_block(
        order,
        {
            image.MAKE: (2, b"Apple\0"),
            image.MODEL: (2, b"iPhone 12\0"),
            image.ORIENTATION: (3, (6,)),
            image.SOFTWARE: (2, b"16.1\0"),
            image.DATETIME: (2, b"2022:07:14 18:00:01\0"),
        },
        {
            image.EXPOSURE_TIME: (5, ((1, 120),)),
            image.F_NUMBER: (5, ((8, 5),)),
            image.ISO: (3, (50,)),
            image.DATETIME_ORIGINAL: (2, b"2022:07:14 17:59:58\0"),
            image.DATETIME_DIGITIZED: (2, b"2022:07:14 17:59:58\0"),
            image.OFFSET_TIME_ORIGINAL: (2, b"+02:00\0"),
            image.OFFSET_TIME_DIGITIZED: (2, b"+02:00\0"),
            image.SUBSEC_ORIGINAL: (2, b"250\0"),
            image.FOCAL_LENGTH: (5, ((42, 10),)),
            image.FOCAL_35MM: (3, (26,)),
            image.FLASH: (3, (16,)),
            image.MAKER_NOTE: (7, apple_note(order, b"5E2A-LIVE-0001")),
            image.LENS_MAKE: (2, b"Apple\0"),
            image.LENS_MODEL: (2, b"iPhone 12 back camera 4.2mm f/1.6\0"),
        },
        {
            0: (1, b"\x02\x02\x00\x00"),
            image.GPS_LAT_REF: (2, b"N\0"),
            image.GPS_LAT: (5, ((48, 1), (51, 1), (2988, 100))),
            image.GPS_LON_REF: (2, b"E\0"),
            image.GPS_LON: (5, ((2, 1), (17, 1), (4020, 100))),
            image.GPS_ALT_REF: (1, b"\x01"),
            image.GPS_ALT: (5, ((3512, 100),)),
            image.GPS_TIME: (5, ((15, 1), (59, 1), (58, 1))),
            image.GPS_DATE: (2, b"2022:07:14\0"),
        },
    )


# -- (b) generated files: what luna reads, in both byte orders --------------------------------


@pytest.mark.parametrize("order", ["<", ">"])
def test_phone_exif_in_both_byte_orders(order, tmp_path, monkeypatch):
    block = phone_block(order)
    assert is_ours(block)
    path = jpeg_with(block, tmp_path / "phone.jpg")
    facts = facts_of(path)
    assert facts == with_pillow(monkeypatch, lambda: facts_of(path))
    md, start, utc_offset, date_source = facts[0], facts[1], facts[2], facts[3]
    assert md["make"] == "Apple" and md["model"] == "iPhone 12"
    assert md["orientation"] == 6 and facts[10:12] == (30, 40)  # turned: width is height
    assert md["exposure_time"] == 1 / 120 and md["f_number"] == 1.6 and md["iso"] == 50
    assert md["focal_length"] == 4.2 and md["focal_length_35mm"] == 26
    assert md["flash_fired"] is False
    assert md["content_identifier"] == "5E2A-LIVE-0001"
    assert md["lens"] == "iPhone 12 back camera 4.2mm f/1.6"
    assert (str(start), utc_offset, date_source) == (
        "2022-07-14 17:59:58.250000",
        120,
        "exif:DateTimeOriginal",
    )
    assert (facts[5], facts[6], facts[7]) == (48.85830000, 2.29450000, -35.12)
    assert str(facts[9]) == "2022-07-14 15:59:58"  # GPS time (UTC)
    assert facts[12] == []


def test_piexif_photos_read_the_same(tmp_path, monkeypatch):
    """Files as tests/conftest.make_photo writes them (piexif, big-endian)."""
    cases = [
        dict(gps=(-33.8688, 151.2093), altitude=-12.5, gps_utc="2019:06:01 02:34:56"),
        dict(offset="-05:00", digitized="2019:06:01 12:34:57", modified="2020:01:01 00:00:00"),
        dict(taken=None, modified="2018:02:03 04:05:06", orientation=8, make=None),
        dict(taken="0000:00:00 00:00:00", model="Model\0with junk"),
    ]
    for i, case in enumerate(cases):
        path = str(make_photo(tmp_path / f"{i}.jpg", **case))
        facts = facts_of(path)
        assert facts == with_pillow(monkeypatch, lambda path=path: facts_of(path)), case
    assert facts_of(str(tmp_path / "0.jpg"))[5:8] == (-33.8688, 151.2093, -12.5)


@pytest.mark.parametrize("order", ["<", ">"])
def test_values_of_every_shape_match_pillow(order):
    """Counts above one, every numeric type, strings without or with several NULs, bytes
    that are not UTF-8, zero denominators, duplicate tags and types Pillow skips."""
    block = tiff_block(
        order,
        {
            image.MAKE: (2, b"Ca\xefon"),  # no NUL, not UTF-8
            image.MODEL: (2, b"ION230\0F\0"),
            image.ARTIST: (2, b"\0"),
            image.COPYRIGHT: (2, b"A\0"),  # fits in the entry
            image.DESCRIPTION: (7, b"undefined text"),
            image.SOFTWARE: (1, b"bytes\0"),
            image.ORIENTATION: (4, (3,)),  # LONG where SHORT is usual
            0x9999: (14, b"????"),  # a type Pillow does not know: skipped
            0x0128: (2, b"inch\0"),  # ResolutionUnit: Pillow turns its names into numbers
            0xF000: (3, (4000, 3000)),  # tags Pillow has no table entry for
            0xF001: (8, (-3,)),
            0xF002: (9, (-70000, 5)),
            0xF003: (11, (1.5,)),
            0xF004: (12, (2.25, -1.0)),
            0xF005: (6, b"\xff"),
            0xF006: (16, (2**40,)),
            0xF007: (13, (77,)),
        },
        {
            image.EXPOSURE_TIME: (5, ((1, 0),)),  # x/0: nan in Pillow, no exposure time
            image.F_NUMBER: (10, ((-28, -10),)),
            image.FOCAL_LENGTH: (5, ((0, 0),)),
            image.ISO: (3, (100, 200)),
            image.FOCAL_35MM: (4, (35,)),
            image.FLASH: (5, ((1, 1),)),
            image.DATETIME_ORIGINAL: (2, b"2021:01:02 03:04:05"),
            image.SUBSEC_ORIGINAL: (2, b"07"),
            image.OFFSET_TIME_ORIGINAL: (2, b"-03:30\0\0"),
            image.BODY_SERIAL: (10, ((0, -5),)),
            image.MAKER_NOTE: (7, b"\0" * 300),
            0xA420: (2, b"x" * 40),
        },
        {
            image.GPS_LAT_REF: (2, b"S"),
            image.GPS_LAT: (5, ((10, 1), (30, 0), (0, 1))),  # a minute over zero
            image.GPS_LON_REF: (7, b"W"),
            image.GPS_LON: (10, ((-5, 1), (6, 1), (7, 2))),
            image.GPS_ALT: (5, ((5, 0),)),
            image.GPS_DATE: (2, b"2021:01:02"),
            image.GPS_TIME: (5, ((1, 1), (2, 0), (3, 1))),
        },
    )
    assert is_ours(block)
    assert_same_as_pillow(block)
    ours, pillows = exif.exif_from_jpeg(block), exif.pillow_exif(block)
    for tag in (image.MAKE, image.MODEL, image.ARTIST, image.COPYRIGHT, image.DESCRIPTION):
        assert ours.get(tag) == pillows.get(tag)
    for tag in (image.SOFTWARE, image.ORIENTATION, 0x9999, 0x1234, 0x0128, *range(0xF000, 0xF008)):
        assert ours.get(tag) == pillows.get(tag), hex(tag)
    assert ours.get(image.MAKE) == "Ca\xefon" and ours.get(image.MODEL) == "ION230\0F"
    assert ours.get(0x0128) == 2
    for group in (exif.IFD_EXIF, exif.IFD_GPS):
        mine, theirs = ours.get_ifd(group), pillows.get_ifd(group)
        assert set(mine) == set(theirs)
        for tag in theirs:
            # repr tells str from bytes, 5 from 5.0 and a tuple from one value; an
            # IFDRational's repr is its float's, nan for x/0.
            assert repr(mine[tag]) == repr(theirs[tag]), hex(tag)
    assert ours.get_ifd(exif.IFD_EXIF).get(image.ISO) == (100, 200)


def test_duplicate_tags_keep_the_first_as_pillow_does():
    block = bytearray(tiff_block(">", {image.MAKE: (2, b"First\0"), image.MODEL: (2, b"Two\0")}))
    struct.pack_into(">H", block, 8 + 2 + 12, image.MAKE)  # the second entry is Make too
    assert is_ours(bytes(block))
    assert assert_same_as_pillow(bytes(block))[0] == {"make": "First"}
    # ... unless the first holds nothing: Pillow skips an empty entry, the second counts.
    struct.pack_into(">L", block, 8 + 2 + 4, 0)
    assert assert_same_as_pillow(bytes(block))[0] == {"make": "Two"}
    assert exif.exif_from_jpeg(bytes(block)).get(0x9999) is None


def test_tag_tables_match_pillow():
    from PIL import TiffImagePlugin

    dispatch = TiffImagePlugin.ImageFileDirectory_v2._load_dispatch
    assert {kind: size for kind, (size, _) in dispatch.items()} == exif.UNIT_SIZES


def test_more_values_than_pillow_allows_goes_to_pillow_with_its_warning():
    """Pillow keeps the first of several values for a one-value tag, and warns."""
    block = tiff_block("<", {image.ORIENTATION: (3, (6, 1))}, {image.ISO: (3, (100,))})
    assert not is_ours(block)
    result = assert_same_as_pillow(block)
    assert result[0]["orientation"] == 6
    gps = tiff_block("<", {}, {}, {image.GPS_ALT: (5, ((10, 1), (20, 1)))})
    assert is_ours(gps)  # IFD0 is fine; the GPS IFD goes to Pillow when asked for
    result = assert_same_as_pillow(gps)
    assert result[6] is None  # no place without latitude and longitude
    assert "tag 6 had too many entries: 2, expected 1" in " ".join(result[-1])


# -- (c) hostile blocks ---------------------------------------------------------------------


def patched(block: bytes, pos: int, fmt: str, *values) -> bytes:
    out = bytearray(block)
    struct.pack_into(fmt, out, pos, *values)
    return bytes(out)


def entry_pos(block: bytes, order: str, ifd: int, tag: int) -> int:
    (count,) = struct.unpack_from(order + "H", block, ifd)
    for i in range(count):
        at = ifd + 2 + 12 * i
        if struct.unpack_from(order + "H", block, at)[0] == tag:
            return at
    raise LookupError(tag)


def sub_ifd(block: bytes, order: str, tag: int) -> int:
    return struct.unpack_from(order + "L", block, entry_pos(block, order, 8, tag) + 8)[0]


@pytest.mark.parametrize("order", ["<", ">"])
def test_truncated_blocks(order):
    # The second block ends with a directory, whose next-IFD offset is the last thing cut.
    small = tiff_block(order, {image.ORIENTATION: (3, (6,))}, None, {5: (1, b"\x01")})
    for block in (phone_block(order), small):
        for cut in range(len(block)):
            assert_same_as_pillow(block[:cut])
    assert "Corrupt EXIF data" in " ".join(assert_same_as_pillow(small[:-1])[-1])


@pytest.mark.parametrize("order", ["<", ">"])
def test_hostile_offsets_and_counts(order):
    block = phone_block(order)
    L = order + "L"
    exif_ifd, gps_ifd = sub_ifd(block, order, exif.IFD_EXIF), sub_ifd(block, order, exif.IFD_GPS)
    exif_ptr = entry_pos(block, order, 8, exif.IFD_EXIF) + 8
    gps_ptr = entry_pos(block, order, 8, exif.IFD_GPS) + 8
    model = entry_pos(block, order, 8, image.MODEL)
    make = entry_pos(block, order, 8, image.MAKE)
    note = entry_pos(block, order, exif_ifd, image.MAKER_NOTE)
    lat = entry_pos(block, order, gps_ifd, image.GPS_LAT)
    hostile = {
        "IFD0 past the end": patched(block, 4, L, len(block) + 100),
        "IFD0 at 0": patched(block, 4, L, 0),
        "IFD0 claims 65535 entries": patched(block, 8, order + "H", 0xFFFF),
        "EXIF IFD is IFD0": patched(block, exif_ptr, L, 8),
        "EXIF IFD points past the end": patched(block, exif_ptr, L, 2**32 - 1),
        "GPS IFD is the EXIF IFD": patched(block, gps_ptr, L, exif_ifd),
        "GPS IFD in the middle of an entry": patched(block, gps_ptr, L, gps_ifd + 7),
        "EXIF IFD claims 65535 entries": patched(block, exif_ifd, order + "H", 0xFFFF),
        "value past the end": patched(block, model + 8, L, len(block) - 3),
        "huge count": patched(block, model + 4, L, 2**32 - 1),
        "huge maker note": patched(block, note + 4, L, 2**31),
        "huge rational count": patched(block, lat + 4, L, 2**29),
        # Each value fits, but together they are larger than the block: Pillow warns.
        "values overlapping": patched(
            patched(block, model + 4, order + "LL", len(block) // 2, 8),
            make + 4,
            order + "LL",
            len(block) * 2 // 3,
            8,
        ),
        "EXIF IFD inside the header": patched(block, exif_ptr, L, 4),
        "EXIF IFD at 0": patched(block, exif_ptr, L, 0),
        "pointer as ASCII": patched(block, exif_ptr - 6, order + "H", 2),
        "pointer with two values": patched(block, exif_ptr - 4, L, 2),
        "BigTIFF": b"MM\0+" + block[4:],
        "odd magic": b"II\0*" + block[4:],
        "Exif header twice": b"Exif\0\0" + block,
    }
    # The EXIF IFD points to itself through its own pointer tag: nothing follows it.
    looped = tiff_block(order, {}, {exif.IFD_EXIF: (4, (0,)), image.ISO: (3, (64,))})
    looped_ifd = sub_ifd(looped, order, exif.IFD_EXIF)
    at = entry_pos(looped, order, looped_ifd, exif.IFD_EXIF) + 8
    hostile["EXIF IFD points to itself"] = patched(looped, at, L, looped_ifd)
    for name, data in hostile.items():
        started = time.monotonic()
        result = assert_same_as_pillow(data)
        assert time.monotonic() - started < 1, name
        assert isinstance(result, tuple), name
    assert assert_same_as_pillow(hostile["EXIF IFD points to itself"])[0] == {"iso": 64}
    assert "Tag data larger than file" in " ".join(
        assert_same_as_pillow(hostile["values overlapping"])[-1]
    )


def test_random_damage_reads_the_same_as_pillow():
    """Random bytes changed in real-shaped blocks: luna's reader (or the hand-over to Pillow)
    answers exactly as Pillow, never raises and never takes long."""
    rng = random.Random(1234)
    blocks = [phone_block("<"), phone_block(">")]
    started = time.monotonic()
    ours_read = 0
    for i in range(3000):
        data = bytearray(rng.choice(blocks))
        for _ in range(rng.randint(1, 4)):
            pos = rng.randrange(len(data))
            data[pos] = rng.choice((0, 0xFF, rng.randrange(256)))
        block = bytes(data[: rng.randint(len(data) // 2, len(data))] if i % 5 == 0 else data)
        assert_same_as_pillow(block)
        ours_read += is_ours(block)
    assert time.monotonic() - started < 15
    assert ours_read > 1000


def test_a_readers_warning_lands_in_the_files_record_in_a_worker_too(photos, lib):
    # In an import's workers warnings are recorded for the whole process (no per-file
    # catch_warnings); a warning must still reach the file that raised it, and only it.
    from luna.ingest.importer import ImportOptions

    gps = tiff_block("<", {}, {}, {image.GPS_ALT: (5, ((10, 1), (20, 1)))})
    warned = jpeg_with(gps, photos / "a-warned.jpg")
    make_photo(photos / "b-plain.jpg")
    expected = "tag 6 had too many entries: 2, expected 1"
    assert any(expected in e for e in read_file(warned).found.errors)  # in this process
    lib.import_paths([str(photos)], ImportOptions(jobs=1))
    records = {
        p: lib.serialize(lib.get_file(str(photos / p))) for p in ("a-warned.jpg", "b-plain.jpg")
    }
    assert any(expected in e for e in records["a-warned.jpg"]["processor_metadata"]["errors"])
    assert records["b-plain.jpg"]["processor_metadata"]["errors"] == []
