"""Camera RAW and JPEG XL metadata (luna.ingest.extract.raw, luna.ingest.extract.jxl).

Each format is built here byte by byte in its smallest form (a TIFF structure, CR3's boxes,
RAF's header around a JPEG, CRW's CIFF heaps, MRW's blocks, X3F's sections), then damaged:
cut short, looping, lying about sizes. The real samples in ../shared/corpus are compared
with ExifTool's reading when the corpus is there.
"""

from __future__ import annotations

import datetime as dt
import json
import mmap
import struct
import time

import pytest
from conftest import CORPUS, make_photo, requires_corpus

from luna.ingest.extract.facts import Extracted
from luna.ingest.extract.jxl import extract_jxl
from luna.ingest.extract.raw import CANON_UUID, extract_raw

# -- building TIFF structures ---------------------------------------------------------------

BYTE, ASCII, SHORT, LONG, RATIONAL, UNDEFINED = 1, 2, 3, 4, 5, 7


def text(value: str):
    return (ASCII, value.encode() + b"\0")


def byte(*values: int):
    return (BYTE, bytes(values))


def short(*values: int):
    return (SHORT, values)


def long(*values: int):
    return (LONG, values)


def rational(*values: float):
    return (RATIONAL, tuple((round(v * 10000), 10000) for v in values))


def undefined(value: bytes):
    return (UNDEFINED, value)


def ref(*names: str):
    """Offsets of other directories of the same structure (SubIFDs, EXIF, GPS)."""
    return ("ref", names)


def _encode(value, order: str, layout: dict) -> tuple[int, bytes, int]:
    kind, values = value
    if kind == "ref":
        offsets = [layout.get(name, 0) for name in values]
        return LONG, struct.pack(f"{order}{len(offsets)}I", *offsets), len(offsets)
    if kind in (BYTE, ASCII, UNDEFINED):
        return kind, values, len(values)
    if kind == RATIONAL:
        flat = [n for pair in values for n in pair]
        return kind, struct.pack(f"{order}{len(flat)}I", *flat), len(values)
    code = {SHORT: "H", LONG: "I"}[kind]
    return kind, struct.pack(f"{order}{len(values)}{code}", *values), len(values)


def build_tiff(directories: dict, chain=("ifd0",), order="<", magic=42, preamble=b"") -> bytes:
    """A TIFF structure: `directories` maps a name to {tag: value}; `chain` lists the ones
    linked as IFD0, IFD1, ...; the others are reached through ref() values. `preamble` goes
    between the header and the first directory (CR2 and IIQ put their signature there)."""
    layout, pos = {}, 8 + len(preamble)
    for name, entries in directories.items():
        layout[name] = pos
        payloads = [_encode(v, order, {})[1] for v in entries.values()]
        pos += 6 + 12 * len(entries) + sum(len(p) + len(p) % 2 for p in payloads if len(p) > 4)
    mark = b"II" if order == "<" else b"MM"
    out = bytearray(mark + struct.pack(f"{order}HI", magic, layout[chain[0]]) + preamble)
    for name, entries in directories.items():
        data_at = layout[name] + 6 + 12 * len(entries)
        table, data = struct.pack(f"{order}H", len(entries)), b""
        for tag in sorted(entries):
            kind, payload, count = _encode(entries[tag], order, layout)
            if len(payload) <= 4:
                field = payload.ljust(4, b"\0")
            else:
                field = struct.pack(f"{order}I", data_at + len(data))
                data += payload + b"\0" * (len(payload) % 2)
            table += struct.pack(f"{order}HHI", tag, kind, count) + field
        following = list(chain[chain.index(name) + 1 :]) if name in chain else []
        table += struct.pack(f"{order}I", layout[following[0]] if following else 0)
        out += table + data
    return bytes(out)


def gps_entries(lat: float, lon: float, alt: float) -> dict:
    def dms(value: float):
        value = abs(value)
        degrees, minutes = int(value), int(abs(value) * 60) % 60
        return rational(degrees, minutes, (value - degrees - minutes / 60) * 3600)

    return {
        1: text("N" if lat >= 0 else "S"),
        2: dms(lat),
        3: text("E" if lon >= 0 else "W"),
        4: dms(lon),
        5: byte(0),  # above sea level
        6: rational(alt),
    }


CAMERA = {0x010F: text("NIKON CORPORATION"), 0x0110: text("NIKON D850")}
EXPOSURE = {
    0x829A: rational(1 / 250),
    0x829D: rational(5.6),
    0x8827: short(400),
    0x920A: rational(50),
    0xA434: text("50.0 mm f/1.8"),
}


def read(data, mime="image/x-nikon-nef") -> Extracted:
    out = Extracted()
    extract_raw(data, mime, out)
    return out


# -- TIFF-based RAWs ---------------------------------------------------------------------


def nef_like(orientation=6) -> bytes:
    return build_tiff(
        {
            "ifd0": {
                **CAMERA,
                0x0100: long(8256),
                0x0101: long(5504),
                0x0112: short(orientation),
                0x8769: ref("exif"),
                0x8825: ref("gps"),
            },
            "exif": {
                **EXPOSURE,
                0x9003: text("2021:07:04 10:11:12"),
                0x9011: text("+02:00"),
            },
            "gps": gps_entries(48.858222, -2.294500, 35.5),
        }
    )


def test_tiff_raw_gives_camera_date_place_exposure_and_displayed_size():
    out = read(nef_like(orientation=6))
    assert out.metadata["format"] == "NEF"
    assert out.metadata["make"] == "NIKON CORPORATION"
    assert out.metadata["model"] == "NIKON D850"
    assert out.metadata["orientation"] == 6
    assert (out.start, out.utc_offset) == (dt.datetime(2021, 7, 4, 10, 11, 12), 120)
    assert out.date_source == "exif:DateTimeOriginal"
    assert out.latitude == pytest.approx(48.858222, abs=1e-5)
    assert out.longitude == pytest.approx(-2.2945, abs=1e-5)
    assert out.altitude == pytest.approx(35.5)
    assert out.location_source == "exif:GPS"
    assert out.metadata["exposure_time"] == pytest.approx(0.004)
    assert out.metadata["f_number"] == 5.6
    assert out.metadata["iso"] == 400
    assert out.metadata["focal_length"] == 50
    assert out.metadata["lens"] == "50.0 mm f/1.8"
    assert (out.width, out.height) == (5504, 8256)  # turned by orientation 6
    assert out.errors == []


def test_full_resolution_sub_ifd_gives_the_size_not_the_preview_in_ifd0():
    data = build_tiff(
        {
            "ifd0": {
                **CAMERA,
                0x00FE: long(1),  # a reduced-resolution preview
                0x0100: long(256),
                0x0101: long(171),
                0x014A: ref("preview", "raw"),
                0xC612: byte(1, 4, 0, 0),  # DNGVersion
            },
            "preview": {0x00FE: long(1), 0x0100: long(1024), 0x0101: long(683)},
            "raw": {0x00FE: long(0), 0x0100: long(6048), 0x0101: long(4024)},
        }
    )
    out = read(data, "image/x-adobe-dng")
    assert out.metadata["format"] == "DNG"
    assert (out.width, out.height) == (6048, 4024)


def test_cr2_is_told_by_its_signature_and_its_ifd0_gives_the_size():
    data = build_tiff(
        {
            "ifd0": {0x010F: text("Canon"), 0x0100: long(5472), 0x0101: long(3648)},
            "thumbnail": {0x0100: long(160), 0x0101: long(120)},
        },
        chain=("ifd0", "thumbnail"),
        preamble=b"CR\x02\x00\x00\x00\x00\x00",
    )
    out = read(data, "image/tiff")
    assert out.metadata["format"] == "CR2"
    assert (out.width, out.height) == (5472, 3648)


def test_panasonic_rw2_size_is_the_sensor_crop_and_its_jpeg_fills_the_gaps(tmp_path):
    jpeg = make_photo(tmp_path / "in.jpg", make="Panasonic", gps=(35.0, 139.0)).read_bytes()
    data = build_tiff(
        {
            "ifd0": {
                4: short(8),  # top, left, bottom, right borders of the sensor's crop
                5: short(4),
                6: short(3464),
                7: short(5192),
                0x0017: short(200),  # ISO
                0x002E: undefined(jpeg),  # JpgFromRaw, with the full EXIF
                0x010F: text("Panasonic"),
                0x0110: text("DC-G9"),
                0x0112: short(1),
                0x8769: ref("exif"),
            },
            "exif": {0x9003: text("2020:02:02 20:20:20")},
        },
        magic=0x55,
    )
    out = read(data, "image/x-panasonic-rw2")
    assert out.metadata["format"] == "RW2"
    assert out.metadata["model"] == "DC-G9"
    assert out.metadata["iso"] == 200
    assert (out.width, out.height) == (5188, 3456)
    assert out.start == dt.datetime(2020, 2, 2, 20, 20, 20)
    assert (out.latitude, out.longitude) == (pytest.approx(35.0), pytest.approx(139.0))


def test_olympus_orf_and_big_endian_structures_are_read():
    orf = build_tiff({"ifd0": {0x010F: text("OLYMPUS IMAGING CORP.")}}, magic=0x4F52)
    assert read(orf, "image/x-olympus-orf").metadata["format"] == "ORF"
    pef = build_tiff({"ifd0": {0x010F: text("PENTAX"), 0x0100: long(6000)}}, order=">")
    out = read(pef, "image/x-pentax-pef")
    assert (out.metadata["format"], out.metadata["make"]) == ("PEF", "PENTAX")
    assert out.width is None  # a width without a height is no size


def phase_one_note(width: int, height: int, rotation_code: int) -> bytes:
    entries = [(0x0100, 4, 4, rotation_code), (0x010C, 4, 4, width), (0x010D, 4, 4, height)]
    table = struct.pack("<II", len(entries), 0) + b"".join(struct.pack("<4I", *e) for e in entries)
    return b"IIII\x01waR" + struct.pack("<I", 16) + b"\0" * 4 + table


def test_phase_one_iiq_size_comes_from_its_maker_note():
    data = build_tiff(
        {
            "ifd0": {0x00FE: long(0), 0x0100: short(1), 0x0101: short(1), 0x8769: ref("exif")},
            "exif": {0x927C: undefined(phase_one_note(7320, 5484, rotation_code=1))},
        },
        preamble=b"IIII\x01waR",
    )
    out = read(data, "image/x-phaseone-iiq")
    assert out.metadata["format"] == "IIQ"
    assert out.metadata["orientation"] == 6  # code 1: turned 90 degrees clockwise
    assert (out.width, out.height) == (5484, 7320)


# -- CR3 -----------------------------------------------------------------------------------


def box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", 8 + len(payload)) + kind + payload


def cr3(cmt1: dict, track_size: tuple[int, int] | None = None) -> bytes:
    canon = box(
        b"uuid",
        CANON_UUID
        + box(b"CNCV", b"CanonCR3_001/00.09.00/00.00.00")
        + box(b"CMT1", build_tiff({"ifd0": cmt1}))
        + box(
            b"CMT2",
            build_tiff(
                {"ifd0": {**EXPOSURE, 0x9003: text("2018:02:21 12:08:56"), 0x9011: text("+09:00")}}
            ),
        )
        + box(b"CMT4", build_tiff({"ifd0": gps_entries(-33.8568, 151.2153, 5.0)})),
    )
    tracks = b""
    if track_size:
        entry = box(b"CRAW", b"\0" * 24 + struct.pack(">HH", *track_size) + b"\0" * 50)
        stsd = box(b"stsd", struct.pack(">II", 0, 1) + entry)
        tracks = box(b"trak", box(b"mdia", box(b"minf", box(b"stbl", stsd))))
    moov = box(b"moov", canon + box(b"mvhd", b"\0" * 100) + tracks)
    return box(b"ftyp", b"crx \x00\x00\x00\x01crx isom") + moov + box(b"mdat", b"\0" * 64)


def test_cr3_reads_its_cmt_boxes():
    cmt1 = {
        0x010F: text("Canon"),
        0x0110: text("Canon EOS R5"),
        0x0112: short(8),
        0x0100: long(8192),
        0x0101: long(5464),
    }
    out = read(cr3(cmt1), "image/x-canon-cr3")
    assert out.metadata["format"] == "CR3"
    assert (out.metadata["make"], out.metadata["model"]) == ("Canon", "Canon EOS R5")
    assert (out.start, out.utc_offset) == (dt.datetime(2018, 2, 21, 12, 8, 56), 540)
    assert out.latitude == pytest.approx(-33.8568, abs=1e-5)
    assert out.longitude == pytest.approx(151.2153, abs=1e-5)
    assert out.metadata["iso"] == 400
    assert (out.width, out.height) == (5464, 8192)  # orientation 8 turns it


def test_cr3_without_a_size_in_cmt1_takes_the_raw_track_s():
    out = read(cr3({0x010F: text("Canon")}, track_size=(6000, 4000)), "image/x-canon-cr3")
    assert (out.width, out.height) == (6000, 4000)


# -- RAF, CRW, MRW, X3F, Kyocera -------------------------------------------------------------


def raf(jpeg: bytes) -> bytes:
    header = b"FUJIFILMCCD-RAW 0201FF383501".ljust(28, b"\0") + b"X-T3".ljust(32, b"\0")
    header = header.ljust(84, b"\0")
    header += struct.pack(">II", 100, len(jpeg))
    return header.ljust(100, b"\0") + jpeg + b"\0" * 64


def test_raf_reads_the_embedded_jpeg_s_exif_and_size(tmp_path):
    jpeg = make_photo(
        tmp_path / "in.jpg",
        make="FUJIFILM",
        model="X-T3",
        orientation=6,
        size=(64, 48),
        taken="2019:03:04 05:06:07",
        gps=(51.5, -0.12),
    ).read_bytes()
    out = read(raf(jpeg), "image/x-fuji-raf")
    assert out.metadata["format"] == "RAF"
    assert (out.metadata["make"], out.metadata["model"]) == ("FUJIFILM", "X-T3")
    assert out.start == dt.datetime(2019, 3, 4, 5, 6, 7)
    assert out.latitude == pytest.approx(51.5, abs=1e-5)
    assert (out.width, out.height) == (48, 64)


def ciff_heap(records: list) -> bytes:
    """A CIFF heap: the values, then a table (count, 10-byte records: id, size, offset), then
    the table's offset in the last 4 bytes. A list as value is a heap inside this one."""
    data, table = b"", []
    for tag, value in records:
        payload = ciff_heap(value) if isinstance(value, list) else value
        table.append(struct.pack("<HII", tag, len(payload), len(data)))
        data += payload
    table_at = len(data)
    data += struct.pack("<H", len(table)) + b"".join(table)
    return data + struct.pack("<I", table_at)


def crw(rotation: int = 90) -> bytes:
    camera = [(0x080A, b"Canon\0Canon EOS 10D\0")]
    props = [
        (0x1810, struct.pack("<IIfiIII", 3072, 2048, 1.0, rotation, 8, 24, 257)),
        (0x180E, struct.pack("<IiI", 1068485966, 0, 0)),  # 2003-11-10 17:39:26
        (0x2807, camera),
    ]
    header = b"II" + struct.pack("<I", 26) + b"HEAPCCDR" + struct.pack("<I", 0x10002) + b"\0" * 8
    return header + ciff_heap([(0x2005, b"<raw data>"), (0x300A, props)])


def test_crw_reads_its_ciff_heaps():
    out = read(crw(rotation=90), "image/x-canon-crw")
    assert out.metadata["format"] == "CRW"
    assert (out.metadata["make"], out.metadata["model"]) == ("Canon", "Canon EOS 10D")
    assert out.start == dt.datetime(2003, 11, 10, 17, 39, 26)
    assert out.date_source == "raw:DateTimeOriginal"
    assert out.metadata["orientation"] == 6
    assert (out.width, out.height) == (2048, 3072)


def mrw() -> bytes:
    prd = b"21810002" + struct.pack(">HHHH", 2456, 3272, 2448, 3264) + b"\x0c\x0cY\0\0\0\0\x01"
    ttw = build_tiff(
        {
            "ifd0": {
                0x010F: text("Konica Minolta Camera, Inc."),
                0x0110: text("DiMAGE A2"),
                0x8769: ref("exif"),
            },
            "exif": {0x9003: text("2004:11:18 23:14:58")},
        },
        order=">",
    )
    blocks = b"\0PRD" + struct.pack(">I", len(prd)) + prd
    blocks += b"\0TTW" + struct.pack(">I", len(ttw)) + ttw
    return b"\0MRM" + struct.pack(">I", len(blocks)) + blocks + b"\0" * 64


def test_mrw_reads_its_prd_and_ttw_blocks():
    out = read(mrw(), "image/x-minolta-mrw")
    assert out.metadata["format"] == "MRW"
    assert out.metadata["model"] == "DiMAGE A2"
    assert out.start == dt.datetime(2004, 11, 18, 23, 14, 58)
    assert (out.width, out.height) == (3264, 2448)


def x3f(properties: dict, rotation: int = 90) -> bytes:
    header = b"FOVb" + struct.pack("<I", 0x00020002) + b"\0" * 20
    header += struct.pack("<III", 2268, 1512, rotation) + b"Auto".ljust(32, b"\0")
    chars, pairs = "", []
    for name, value in properties.items():
        pairs.append(struct.pack("<II", len(chars), len(chars) + len(name) + 1))
        chars += f"{name}\0{value}\0"
    prop = b"SECp" + struct.pack("<5I", 0x00020000, len(pairs), 0, 0, len(chars))
    prop += b"".join(pairs) + chars.encode("utf-16-le")
    directory_at = len(header) + len(prop)
    directory = b"SECd" + struct.pack("<II", 0x00020000, 1)
    directory += struct.pack("<II", len(header), len(prop)) + b"PROP"
    return header + prop + directory + struct.pack("<I", directory_at)


def test_x3f_reads_its_header_and_properties():
    props = {
        "CAMMANUF": "SIGMA",
        "CAMMODEL": "SIGMA SD10",
        "TIME": "978309395",
        "ISO": "100",
        "SHUTTER": "0.00929",
        "APERTURE": "8.35419",
        "FLENGTH": "30.0",
    }
    out = read(x3f(props, rotation=90), "image/x-sigma-x3f")
    assert out.metadata["format"] == "X3F"
    assert (out.metadata["make"], out.metadata["model"]) == ("SIGMA", "SIGMA SD10")
    assert (out.start, out.date_source) == (
        dt.datetime(2001, 1, 1, 0, 36, 35),
        "raw:DateTimeOriginal",
    )
    assert out.metadata["iso"] == 100
    assert out.metadata["f_number"] == 8.35
    assert (out.width, out.height) == (1512, 2268)  # the header's rotation turns it


def kyocera() -> bytes:
    header = bytearray(156)
    header[0x0C:0x18] = b"N DIGITAL\0\0\0"[::-1]
    header[0x19:0x20] = b"KYOCERA"[::-1]
    header[0x21:0x34] = b"2005:07:16 18:14:30"[::-1]
    struct.pack_into(">II", header, 0x34, 13, 56)  # ISO code 13 = 100; 2^(56/8)/16000 s
    struct.pack_into(">I", header, 0x58, 56)  # 2^(56/16) = f/11.3
    struct.pack_into(">I", header, 0x70, 55)
    header[0x7C:0x87] = b"VS28-80/3.5"
    return bytes(header) + b"\0" * 64


def test_kyocera_raw_is_told_from_a_panasonic_raw_by_its_content():
    out = read(kyocera(), "image/x-panasonic-raw")
    assert (out.metadata["make"], out.metadata["model"]) == ("KYOCERA", "N DIGITAL")
    assert out.start == dt.datetime(2005, 7, 16, 18, 14, 30)
    assert out.metadata["iso"] == 100
    assert out.metadata["exposure_time"] == 0.008
    assert out.metadata["lens"] == "VS28-80/3.5"


# -- JPEG XL ---------------------------------------------------------------------------------


def jxl_codestream(width: int, height: int, orientation: int = 1) -> bytes:
    """FF 0A, then a SizeHeader with explicit 13-bit sizes and ImageMetadata whose extra
    fields carry the orientation; bits are packed least significant first."""
    fields = [(0, 1), (1, 2), (height - 1, 13), (0, 3), (1, 2), (width - 1, 13)]
    fields += [(0, 1), (1, 1), (orientation - 1, 3)]  # not all default; extra fields
    value, count = 0, 0
    for field, bits in fields:
        value |= field << count
        count += bits
    return b"\xff\x0a" + value.to_bytes((count + 7) // 8 + 4, "little")


XMP = (
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF><rdf:Description '
    b"xmp:CreateDate='2022-05-06T07:08:09+02:00'/></rdf:RDF></x:xmpmeta>"
)


def test_jxl_bare_codestream_gives_its_size():
    out = Extracted()
    extract_jxl(jxl_codestream(200, 130), out)
    assert (out.width, out.height) == (200, 130)
    assert out.errors == []


def test_jxl_container_reads_exif_xmp_and_the_codestream_orientation():
    exif = build_tiff(
        {
            "ifd0": {0x010F: text("Lab 308"), 0x8769: ref("exif"), 0x8825: ref("gps")},
            "exif": {0x9003: text("2025:08:15 22:25:54")},
            "gps": gps_entries(44.0603785, -121.314136, 2019.847),
        }
    )
    data = (
        box(b"JXL ", b"\r\n\x87\n")
        + box(b"ftyp", b"jxl \0\0\0\0jxl ")
        + box(b"Exif", b"\0\0\0\0" + exif)
        + box(b"xml ", XMP)
        + box(b"jxlp", b"\0\0\0\0" + jxl_codestream(1280, 1024, orientation=6))
    )
    out = Extracted()
    extract_jxl(data, out)
    assert out.metadata["make"] == "Lab 308"
    assert (out.start, out.date_source) == (
        dt.datetime(2025, 8, 15, 22, 25, 54),
        "exif:DateTimeOriginal",
    )
    assert out.longitude == pytest.approx(-121.314136, abs=1e-5)
    assert out.metadata["orientation"] == 6
    assert (out.width, out.height) == (1024, 1280)


def test_jxl_xmp_date_is_used_when_there_is_no_exif():
    data = box(b"JXL ", b"\r\n\x87\n") + box(b"xml ", XMP) + box(b"brob", b"Exif\x1b\x00")
    out = Extracted()
    extract_jxl(data, out)
    assert (out.start, out.utc_offset, out.date_source) == (
        dt.datetime(2022, 5, 6, 7, 8, 9),
        120,
        "xmp:CreateDate",
    )
    assert any("Brotli" in e for e in out.errors)  # compressed boxes are noted, not read


# -- hostile files -------------------------------------------------------------------------


def samples(tmp_path) -> dict[str, tuple[bytes, str]]:
    jpeg = make_photo(tmp_path / "in.jpg", gps=(1.0, 2.0)).read_bytes()
    return {
        "nef": (nef_like(), "image/x-nikon-nef"),
        "cr3": (cr3({0x010F: text("Canon")}, track_size=(60, 40)), "image/x-canon-cr3"),
        "raf": (raf(jpeg), "image/x-fuji-raf"),
        "crw": (crw(), "image/x-canon-crw"),
        "mrw": (mrw(), "image/x-minolta-mrw"),
        "x3f": (x3f({"CAMMANUF": "SIGMA", "TIME": "978309395"}), "image/x-sigma-x3f"),
        "raw": (kyocera(), "image/x-panasonic-raw"),
        "jxl": (box(b"JXL ", b"\r\n\x87\n") + box(b"jxlc", jxl_codestream(64, 48)), "image/jxl"),
    }


def extract_any(data, mime: str) -> Extracted:
    out = Extracted()
    if mime == "image/jxl":
        extract_jxl(data, out)
    else:
        extract_raw(data, mime, out)
    return out


@pytest.mark.filterwarnings("ignore")  # Pillow warns about the cut EXIF; that is expected
def test_files_cut_anywhere_never_raise(tmp_path):
    for name, (data, mime) in samples(tmp_path).items():
        for length in range(0, len(data), max(1, len(data) // 300)):
            out = extract_any(data[:length], mime)
            assert out.width is None or out.width > 0, (name, length)


def test_loops_in_the_ifd_chain_and_sub_ifds_end():
    # IFD0 at 8: its SubIFDs entry and its next-IFD pointer both point back at itself.
    ifd0 = struct.pack("<H", 2) + struct.pack("<HHII", 0x0100, 4, 1, 640)
    ifd0 += struct.pack("<HHII", 0x014A, 4, 1, 8) + struct.pack("<I", 8)
    started = time.monotonic()
    out = read(b"II*\0" + struct.pack("<I", 8) + ifd0)
    assert time.monotonic() - started < 1
    assert out.width is None


def test_a_directory_claiming_65535_entries_is_refused_quickly():
    data = b"II*\0" + struct.pack("<IH", 8, 65535) + b"\x0f\x01\x02\x00" * 3000
    started = time.monotonic()
    out = read(data)
    assert time.monotonic() - started < 1
    assert any("65535 entries" in e for e in out.errors)


def test_boxes_that_lie_about_their_size_end_the_walk():
    huge = struct.pack(">I4sQ", 1, b"moov", 2**63) + b"\0" * 32
    tiny = struct.pack(">I4s", 3, b"moov") + b"\0" * 32
    for body in (huge, tiny):
        out = read(box(b"ftyp", b"crx \0\0\0\1crx isom") + body, "image/x-canon-cr3")
        assert out.errors and out.width is None


def test_a_ciff_heap_that_contains_itself_ends():
    # The root heap's one record is a heap (type 0x30) spanning the root heap itself.
    heap = struct.pack("<HHII", 1, 0x300A, 16, 0) + b"\0\0" + struct.pack("<I", 0)
    data = b"II" + struct.pack("<I", 26) + b"HEAPCCDR" + b"\0" * 12 + heap
    out = read(data, "image/x-canon-crw")
    assert out.metadata["format"] == "CRW"


def test_lying_counts_in_x3f_properties_are_bounded():
    data = bytearray(x3f({"CAMMANUF": "SIGMA"}))
    prop_at = 28 + 12 + 32
    struct.pack_into("<I", data, prop_at + 8, 2**31)  # count of properties
    out = read(bytes(data), "image/x-sigma-x3f")
    assert out.metadata["format"] == "X3F"


def test_content_that_is_no_raw_is_noted():
    out = read(b"hello, this is not a camera file", "image/x-nikon-nef")
    assert out.errors == ["raw: not a RAW structure luna knows"]


def test_the_mmap_can_be_closed_right_after_reading(tmp_path):
    path = tmp_path / "a.nef"
    path.write_bytes(nef_like())
    with open(path, "rb") as f:
        mm = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        out = read(mm)
        mm.close()  # raises BufferError if a view into the map were still alive
    assert out.metadata["model"] == "NIKON D850"


# -- real samples, against ExifTool ---------------------------------------------------------

# Where luna's displayed size is right and ExifTool's reading is not what a viewer shows.
LUNA_IS_RIGHT = {
    # X3F header: Rotation 90; ExifTool reports the stored size and no orientation.
    "exiftool/Sigma.x3f": (1512, 2268),
    # ExifTool takes the size of the embedded JPEG, shrunk to 8x8 in its test file; the
    # X3F header has the image's 2640x1760.
    "exiftool/SigmaDP2.x3f": (2640, 1760),
}
CORPUS_SAMPLES = [
    "exiftool/CanonRaw.cr2",
    "exiftool/CanonRaw.cr3",
    "exiftool/CanonRaw.crw",
    "exiftool/DNG.dng",
    "exiftool/FujiFilm.raf",
    "exiftool/JXL.jxl",
    "exiftool/KyoceraRaw.raw",
    "exiftool/Minolta.mrw",
    "exiftool/Nikon.nef",
    "exiftool/Panasonic.rw2",
    "exiftool/PhaseOne.iiq",
    "exiftool/Sigma.x3f",
    "exiftool/SigmaDP2.x3f",
    "exif-py/jxl/test_0001.jxl",
    "exif-py/raw/nikon_z_9_high_efficiency_compressed_dx_cropped_max_overexposed.dng",
    "exif-py/raw/sony_alpha_a7iii_raw_image.ARW",
]


@requires_corpus()
@pytest.mark.filterwarnings("ignore")
@pytest.mark.parametrize("name", CORPUS_SAMPLES)
def test_corpus_samples_agree_with_exiftool(name):
    from luna.ingest.sniff import classify, sniff_mime

    path = CORPUS / name
    with open(CORPUS / "exiftool-reference.jsonl", encoding="utf-8") as f:
        ref = next(r for r in map(json.loads, f) if r["SourceFile"] == name)
    data = path.read_bytes()
    out = extract_any(data, classify(str(path), sniff_mime(data[:16384]))[1])
    taken = ref.get("DateTimeOriginal") or ref.get("CreateDate")
    if taken:
        assert out.start.strftime("%Y:%m:%d %H:%M:%S") == taken[:19]
    for key in ("Make", "Model"):
        if key in ref:
            assert out.metadata[key.lower()] == ref[key].strip()
    if "GPSLatitude" in ref:
        assert out.latitude == pytest.approx(ref["GPSLatitude"], abs=1e-6)
        assert out.longitude == pytest.approx(ref["GPSLongitude"], abs=1e-6)
    if "ImageWidth" in ref:
        size = (ref["ImageWidth"], ref["ImageHeight"])
        if ref.get("Orientation") in (5, 6, 7, 8):
            size = size[::-1]
        assert (out.width, out.height) == LUNA_IS_RIGHT.get(name, size)
