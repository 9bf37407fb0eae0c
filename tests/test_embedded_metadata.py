"""Metadata embedded where Pillow does not look (luna.ingest.extract.containers): XMP in a
GIF extension, in Photoshop image resources (PSD, JPEG APP13) and in WebP's "XMP " chunk;
IPTC in PNG "Raw profile" text chunks and in a JPEG's AFCP trailer; TIFF and BigTIFF files
Pillow cannot open; and dates written without a time.

Each file is built here: Pillow writes GIF, WebP and PNG (text chunks through PngInfo),
PSD, BigTIFF, APP13 and AFCP are put together with struct. What is checked is what a user
sees: `luna show --json`, `luna find`, or read_file's reading.
"""

from __future__ import annotations

import contextlib
import io
import json
import struct
import time
from pathlib import Path

import pytest
from conftest import make_photo, run_cli
from PIL import Image, PngImagePlugin

from luna.ingest.extract import read_file
from luna.ingest.extract.facts import FileFailed

XMP = (
    '<x:xmpmeta xmlns:x="adobe:ns:meta/">'
    '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
    '<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/"'
    ' xmlns:exif="http://ns.adobe.com/exif/1.0/"'
    ' xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/"'
    ' xmlns:lr="http://ns.adobe.com/lightroom/1.0/"'
    ' photoshop:DateCreated="{date}"'
    ' exif:GPSLatitude="48,51.4N" exif:GPSLongitude="2,21.05E">'
    "<dc:subject><rdf:Bag><rdf:li>Paris</rdf:li><rdf:li>river</rdf:li></rdf:Bag></dc:subject>"
    "<lr:hierarchicalSubject><rdf:Bag><rdf:li>Places|France|Paris</rdf:li></rdf:Bag>"
    "</lr:hierarchicalSubject>"
    "</rdf:Description></rdf:RDF></x:xmpmeta>"
)
# dc:subject's "Paris" is a level of "Places|France|Paris": one tag, not two (xmp.keyword_tags).
KEYWORDS = ["river", "Places/France/Paris"]
LATITUDE, LONGITUDE = 48.85666667, 2.35083333


def xmp(date: str = "2019-09-02T10:11:12") -> bytes:
    packet = XMP.replace("{date}", date)
    begin = '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>'
    return f'{begin}{packet}<?xpacket end="w"?>'.encode()


def iptc_records(keywords=("harbour", "boats"), day="20170412", clock=None, city="Saint-Malo"):
    fields = [(25, kw) for kw in keywords] + [(55, day), (60, clock), (90, city)]
    out = b"\x1c\x01\x5a\x00\x03\x1b\x25\x47"  # 1:90: the text is UTF-8
    for dataset, text in fields:
        if text is not None:
            data = text.encode()
            out += b"\x1c\x02" + bytes([dataset]) + struct.pack(">H", len(data)) + data
    return out


def resource(number: int, data: bytes, size: int | None = None) -> bytes:
    """One Photoshop image resource (empty name), its size lying if `size` says so."""
    block = b"8BIM" + struct.pack(">H", number) + b"\0\0"
    block += struct.pack(">I", len(data) if size is None else size) + data
    return block + b"\0" * (len(data) % 2)


def psd(resources: bytes, width=40, height=30, resources_size: int | None = None) -> bytes:
    header = b"8BPS" + struct.pack(">H6xHIIHH", 1, 3, height, width, 8, 3)
    size = len(resources) if resources_size is None else resources_size
    layers = struct.pack(">I", 0)
    pixels = struct.pack(">H", 0) + b"\xff" * (width * height * 3)
    return header + struct.pack(">I", 0) + struct.pack(">I", size) + resources + layers + pixels


def gif(packet: bytes | None) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (24, 16), "red").save(buffer, "GIF")
    data = buffer.getvalue()
    if packet is None:
        return data
    trailer = b"\x01" + bytes(range(255, -1, -1)) + b"\x00"  # the 258-byte magic trailer
    extension = b"\x21\xff\x0bXMP DataXMP" + packet + trailer
    return data[:-1] + extension + data[-1:]  # before the file's own trailer (0x3B)


def jpeg_with_segment(path, segment: bytes) -> bytes:
    data = make_photo(path, taken=None, make=None, model=None).read_bytes()
    return data[:2] + segment + data[2:]


def app13(resources: bytes) -> bytes:
    payload = b"Photoshop 3.0\0" + resources
    return b"\xff\xed" + struct.pack(">H", len(payload) + 2) + payload


def raw_profile(name: str, data: bytes, declared: int | None = None) -> str:
    """ImageMagick's hex dump of a profile: "\\nname\\n   length\\nhex lines of 72"."""
    digits = data.hex()
    lines = "\n".join(digits[i : i + 72] for i in range(0, len(digits), 72))
    return f"\n{name}\n{declared if declared is not None else len(data):8d}\n{lines}\n"


def png(texts: dict[str, str], compressed=True) -> bytes:
    info = PngImagePlugin.PngInfo()
    for key, value in texts.items():
        info.add_text(key, value, zip=compressed)
    buffer = io.BytesIO()
    Image.new("RGB", (20, 10), "blue").save(buffer, "PNG", pnginfo=info)
    return buffer.getvalue()


def show(path) -> dict:
    code, out, err = run_cli("import", str(path.parent), "--json")
    assert code == 0, err
    code, out, err = run_cli("show", str(path), "--json")
    assert code == 0, err
    return json.loads(out)["files"][0]


def found(path):
    return read_file(str(path)).found


def assert_paris(record: dict) -> None:
    assert record["start"].startswith("2019-09-02T10:11:12")
    assert record["location"]["latitude"] == pytest.approx(LATITUDE)
    assert record["location"]["longitude"] == pytest.approx(LONGITUDE)
    assert sorted(record["metadata"]["keywords"]) == sorted(KEYWORDS)


# -- XMP wherever it is embedded -------------------------------------------------------------


def test_gif_xmp_extension_gives_keywords_date_and_place(photos):
    path = photos / "anim.gif"
    path.write_bytes(gif(xmp()))
    record = show(path)
    assert_paris(record)
    assert (record["width"], record["height"]) == (24, 16)
    assert record["processor_metadata"]["date_source"] == "xmp:DateTimeOriginal"


def test_gif_without_xmp_has_no_keywords(photos):
    path = photos / "plain.gif"
    path.write_bytes(gif(None))
    facts = found(path)
    assert facts.keywords == [] and facts.latitude is None
    assert facts.date_source == "file:mtime"


def test_gif_xmp_without_its_trailer_is_still_read_and_bounded(photos):
    path = photos / "cut.gif"
    data = gif(None)
    path.write_bytes(data[:-1] + b"\x21\xff\x0bXMP DataXMP" + xmp() + b"garbage" * 10)
    assert sorted(found(path).keywords) == sorted(KEYWORDS)


def test_psd_image_resources_give_xmp_iptc_and_exif(photos):
    import piexif

    exif = piexif.dump(
        {"0th": {piexif.ImageIFD.Make: b"Canon"}, "Exif": {36867: b"2015:05:06 07:08:09"}}
    )
    resources = resource(0x0404, iptc_records()) + resource(0x0422, exif[6:])
    resources += resource(0x0424, xmp())
    path = photos / "layered.psd"
    path.write_bytes(psd(resources))
    record = show(path)
    assert (record["width"], record["height"]) == (40, 30)
    # EXIF's DateTimeOriginal beats the XMP's; keywords of both IPTC and XMP are kept.
    assert record["start"].startswith("2015-05-06T07:08:09")
    assert record["metadata"]["make"] == "Canon"
    assert record["metadata"]["city"] == "Saint-Malo"
    assert set(record["metadata"]["keywords"]) == {"harbour", "boats", *KEYWORDS}
    assert record["location"]["latitude"] == pytest.approx(LATITUDE)
    assert "luna-psd" in record["processor_metadata"]["extractors"]


def test_psd_without_resources_gives_its_size_only(photos):
    path = photos / "bare.psd"
    path.write_bytes(psd(b""))
    facts = found(path)
    assert (facts.width, facts.height) == (40, 30)
    assert facts.keywords == [] and facts.date_source == "file:mtime"


@pytest.mark.parametrize(
    ("data", "keywords", "error"),
    [
        # a resource larger than the file: nothing of it is read
        (psd(resource(0x0424, xmp(), size=0xFFFFFFF0)), [], "runs past its block"),
        # a section larger than the file: its resources are read up to the end of the file
        (psd(resource(0x0424, xmp()), resources_size=0x7FFFFFFF), KEYWORDS, "run past"),
        # resources with no end, each a few bytes: the walk stops at its cap
        (psd(b"8BIM" * 300_000), [], None),
        # a colour-mode section larger than the file
        (
            b"8BPS" + struct.pack(">H6xHIIHH", 1, 3, 30, 40, 8, 3) + struct.pack(">I", 2**32 - 1),
            [],
            "colour mode section",
        ),
    ],
    ids=["resource", "section", "endless", "colour-mode"],
)
def test_psd_with_lying_lengths_is_recorded_quickly(photos, data, keywords, error):
    path = photos / "lying.psd"
    path.write_bytes(data)
    began = time.monotonic()
    facts = found(path)
    assert time.monotonic() - began < 2
    assert (facts.width, facts.height) == (40, 30)
    assert facts.keywords == keywords
    if error:
        assert any(error in e for e in facts.errors), facts.errors


def test_jpeg_app13_xmp_is_read_when_app1_has_none(photos):
    path = photos / "scan.jpg"
    path.write_bytes(jpeg_with_segment(path, app13(resource(0x0424, xmp()))))
    assert_paris(show(path))


def test_jpeg_app1_xmp_wins_over_app13(photos):
    path = photos / "both.jpg"
    data = jpeg_with_segment(path, app13(resource(0x0424, xmp("2001-01-01T00:00:00"))))
    body = b"http://ns.adobe.com/xap/1.0/\0" + xmp()
    app1 = b"\xff\xe1" + struct.pack(">H", len(body) + 2) + body
    path.write_bytes(data[:2] + app1 + data[2:])
    assert found(path).start.year == 2019


def test_jpeg_app13_with_a_lying_resource_size_keeps_the_rest(photos):
    path = photos / "lying.jpg"
    resources = resource(0x0404, iptc_records()) + resource(0x0424, xmp(), size=0x10000000)
    path.write_bytes(jpeg_with_segment(path, app13(resources)))
    facts = found(path)
    assert facts.keywords == ["harbour", "boats"]  # the IPTC before the lie still counts
    assert (facts.width, facts.height) == (64, 48)


def test_jpeg_app13_split_over_two_segments_is_read_whole(photos):
    """Resources past 64 KiB continue in a second APP13 segment (Photoshop's thumbnail
    often pushes the IPTC there); a resource cut by the split is read whole."""
    thumbnail = resource(0x040C, b"\xee" * 60_000)
    block = thumbnail + resource(0x0404, iptc_records()) + resource(0x0424, xmp())
    cut = len(thumbnail) + 10  # inside the IPTC resource's header
    segments = app13(block[:cut]) + app13(block[cut:])
    path = photos / "split.jpg"
    path.write_bytes(jpeg_with_segment(path, segments))
    record = show(path)
    assert_paris(record)
    assert record["metadata"]["city"] == "Saint-Malo"


def test_tiff_photoshop_tag_xmp(photos):
    from PIL import TiffImagePlugin

    tags = TiffImagePlugin.ImageFileDirectory_v2()
    tags[34377] = resource(0x0424, xmp())
    tags.tagtype[34377] = 7  # UNDEFINED, as Photoshop writes it
    path = photos / "layered.tif"
    Image.new("RGB", (8, 6)).save(path, tiffinfo=tags)
    assert_paris(show(path))


def test_webp_xmp_chunk_gives_keywords_date_and_place(photos):
    path = photos / "web.webp"
    Image.new("RGB", (30, 20), "green").save(path, "WEBP", xmp=xmp())
    assert_paris(show(path))


# -- IPTC in PNG raw profiles and in the AFCP trailer ----------------------------------------


@pytest.mark.parametrize("compressed", [True, False], ids=["zTXt", "tEXt"])
def test_png_raw_iptc_profile_gives_keywords_date_and_city(photos, compressed):
    path = photos / "magick.png"
    profile = raw_profile("iptc", iptc_records(clock="153000+0200"))
    path.write_bytes(png({"Raw profile type iptc": profile}, compressed))
    record = show(path)
    assert record["metadata"]["keywords"] == ["harbour", "boats"]
    assert record["metadata"]["city"] == "Saint-Malo"
    assert record["start"].startswith("2017-04-12T15:30:00")
    assert record["utc_offset_minutes"] == 120
    assert record["processor_metadata"]["date_source"] == "iptc:DateCreated"


def test_png_raw_8bim_profile_with_iptc_and_xmp(photos):
    path = photos / "magick8bim.png"
    resources = resource(0x0404, iptc_records()) + resource(0x0424, xmp())
    path.write_bytes(png({"Raw profile type 8bim": raw_profile("8bim", resources)}))
    facts = found(path)
    assert set(facts.keywords) == {"harbour", "boats", *KEYWORDS}
    assert facts.latitude == pytest.approx(LATITUDE)


def test_png_raw_xmp_profile(photos):
    path = photos / "magickxmp.png"
    path.write_bytes(png({"Raw profile type xmp": raw_profile("xmp", xmp())}))
    assert_paris(show(path))


def test_png_app1_profile_with_exif_of_old_imagemagick(photos):
    import piexif

    exif = piexif.dump(
        {"0th": {piexif.ImageIFD.Model: b"DSC-RX100"}, "Exif": {36867: b"2012:03:04 05:06:07"}}
    )
    path = photos / "oldmagick.png"
    path.write_bytes(png({"Raw profile type APP1": raw_profile("APP1", exif)}))
    record = show(path)
    assert record["metadata"]["model"] == "DSC-RX100"
    assert record["start"].startswith("2012-03-04T05:06:07")
    assert record["processor_metadata"]["date_source"] == "exif:DateTimeOriginal"


@pytest.mark.parametrize(
    "text",
    [
        raw_profile("iptc", iptc_records(), declared=10_000_000),  # more than the digits give
        "\niptc\n   99999999999\n" + "zz" * 1000,  # no hex at all
        "\niptc\n",  # no length
        "not a profile",
    ],
    ids=["long-length", "not-hex", "no-length", "garbage"],
)
def test_png_raw_profile_with_a_lying_length_is_harmless(photos, text):
    path = photos / "lying.png"
    path.write_bytes(png({"Raw profile type iptc": text}))
    began = time.monotonic()
    record = show(path)
    assert time.monotonic() - began < 10
    assert (record["width"], record["height"]) == (20, 10)


def test_png_raw_profile_declaring_more_than_it_has_says_so(photos):
    path = photos / "short.png"
    text = raw_profile("iptc", iptc_records(), declared=10_000)
    path.write_bytes(png({"Raw profile type iptc": text}))
    facts = found(path)
    assert facts.keywords == ["harbour", "boats"]
    assert any("10000 bytes declared" in error for error in facts.errors)


def afcp_trailer(start: int, records: bytes, order=">") -> bytes:
    """An AFCP block at file offset `start`: header, one IPTC entry, the records, the end
    mark. Offsets are from the start of the file."""
    mark = b"AXS!" if order == ">" else b"AXS*"
    data_at = start + 12 + 12
    header = mark + struct.pack(order + "HHI", 1, 1, 0)
    entry = b"IPTC" + struct.pack(order + "II", len(records), data_at)
    return header + entry + records + mark + struct.pack(order + "I", start) + bytes(4)


@pytest.mark.parametrize("order", [">", "<"])
def test_jpeg_afcp_trailer_iptc(photos, order):
    path = photos / "afcp.jpg"
    data = make_photo(path, taken=None, make=None, model=None).read_bytes()
    path.write_bytes(data + afcp_trailer(len(data), iptc_records(), order))
    record = show(path)
    assert record["metadata"]["keywords"] == ["harbour", "boats"]
    assert record["start"].startswith("2017-04-12")


def test_jpeg_afcp_trailer_pointing_nowhere_is_ignored(photos):
    path = photos / "afcp_lies.jpg"
    data = make_photo(path, taken=None, make=None, model=None).read_bytes()
    path.write_bytes(data + b"AXS!" + struct.pack(">I", 0x7FFFFFF0) + bytes(4))
    facts = found(path)
    assert facts.keywords == [] and (facts.width, facts.height) == (64, 48)
    assert any("AFCP" in error for error in facts.errors)


# -- dates without a time --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "start", "precision", "shown"),
    [
        ("2019-09-02", "2019-09-02T00:00:00", "day", "2019-09-02"),
        ("2019-09", "2019-09-01T00:00:00", "month", "2019-09"),
        ("2019", "2019-01-01T00:00:00", "year", "2019"),
    ],
)
def test_a_date_without_a_time_is_kept_as_a_day_month_or_year(
    photos, written, start, precision, shown
):
    path = photos / f"scan_{precision}.webp"
    Image.new("RGB", (30, 20), "green").save(path, "WEBP", xmp=xmp(written))
    record = show(path)
    assert record["start"].startswith(start)
    assert record["metadata"]["date_precision"] == precision
    assert record["processor_metadata"]["date_source"] == "xmp:DateTimeOriginal"
    code, out, _ = run_cli("show", str(path))
    taken = next(line for line in out.splitlines() if line.strip().startswith("taken"))
    assert shown in taken and "00:00" not in taken
    if precision == "day":
        code, out, _ = run_cli("find", "--on", "2019-09-02", "--json")
        assert [f["filename"] for f in json.loads(out)["files"]] == [path.name]


def test_a_date_with_a_time_has_no_precision_mark(photos):
    path = photos / "timed.webp"
    Image.new("RGB", (30, 20), "green").save(path, "WEBP", xmp=xmp("2019-09-02T10:11"))
    record = show(path)
    assert "date_precision" not in record["metadata"]


def test_iptc_date_without_time_is_a_day_until_a_better_date_comes(photos):
    path = photos / "day.png"
    day_only = raw_profile("iptc", iptc_records())  # 2:55 without 2:60
    path.write_bytes(png({"Raw profile type iptc": day_only}))
    facts = found(path)
    assert facts.start.isoformat() == "2017-04-12T00:00:00"
    assert facts.date_precision == "day"
    # The same day and an XMP date with its time: the XMP date (ranked higher) wins, and
    # with it no mark of precision remains.
    both = photos / "both.png"
    both.write_bytes(
        png({"Raw profile type iptc": day_only, "Raw profile type xmp": raw_profile("xmp", xmp())})
    )
    facts = found(both)
    assert facts.start.isoformat() == "2019-09-02T10:11:12"
    assert facts.date_precision is None


# -- TIFF and BigTIFF that Pillow cannot open ------------------------------------------------

TYPE_FORMATS = {1: "B", 3: "H", 4: "I", 16: "Q"}


def tiff(order=">", big=True, ifd0=(), exif=(), gps=(), width=4, height=3, bits=8, cut=0) -> bytes:
    """A classic TIFF or a BigTIFF: IFD0 (size, strips, camera), an Exif IFD and a GPS IFD.
    Entries are (tag, type, values) with values bytes (ASCII, UNDEFINED) or a tuple of
    numbers ((numerator, denominator) pairs for RATIONAL). `cut` drops that many bytes
    of the end (the first directory is written last)."""
    magic = b"MM" if order == ">" else b"II"
    if big:
        out = bytearray(magic + struct.pack(order + "HHHQ", 43, 8, 0, 0))
    else:
        out = bytearray(magic + struct.pack(order + "HI", 42, 0))
    pixels_at = len(out)
    out += b"\x80" * min(width * height * 3, 4096)  # a bomb's pixels are not needed
    inline, count_format, pointer = (8, "Q", "Q") if big else (4, "H", "I")

    def encode(kind, values):
        if isinstance(values, bytes):
            return values, len(values)
        if kind == 5:
            return b"".join(struct.pack(order + "II", *pair) for pair in values), len(values)
        return struct.pack(order + TYPE_FORMATS[kind] * len(values), *values), len(values)

    def directory(entries):
        encoded = []
        for tag, kind, values in sorted(entries):
            data, count = encode(kind, values)
            if len(data) <= inline:
                field = data.ljust(inline, b"\0")
            else:
                out.extend(b"\0" * (len(out) % 2))
                field = struct.pack(order + pointer, len(out))
                out.extend(data)
            head = struct.pack(order + ("HHQ" if big else "HHI"), tag, kind, count)
            encoded.append(head + field)
        out.extend(b"\0" * (len(out) % 2))
        at = len(out)
        out.extend(struct.pack(order + count_format, len(encoded)) + b"".join(encoded))
        out.extend(bytes(inline))
        return at

    long_type = 16 if big else 4
    entries = [
        (256, 3, (width,)),
        (257, 3, (height,)),
        (258, 3, (bits, bits, bits)),
        (259, 3, (1,)),
        (262, 3, (2,)),
        (273, long_type, (pixels_at,)),
        (277, 3, (3,)),
        (278, 3, (height,)),
        (279, long_type, (min(width * height * 3, 4096),)),
        *ifd0,
    ]
    if exif:
        entries.append((0x8769, long_type, (directory(exif),)))
    if gps:
        entries.append((0x8825, long_type, (directory(gps),)))
    first = directory(entries)
    struct.pack_into(order + pointer, out, 8 if big else 4, first)
    return bytes(out[: len(out) - cut])


CAMERA = [(0x10F, 2, b"Canon\0"), (0x110, 2, b"EOS 5D Mark IV\0"), (0x112, 3, (6,))]
TAKEN = [(0x9003, 2, b"2019:09:02 10:11:12\0"), (0x9011, 2, b"+02:00\0")]
PLACE = [
    (1, 2, b"N\0"),
    (2, 5, ((48, 1), (51, 1), (2400, 100))),
    (3, 2, b"W\0"),
    (4, 5, ((2, 1), (21, 1), (0, 1))),
]


@pytest.mark.parametrize("order", [">", "<"], ids=["big-endian", "little-endian"])
def test_bigtiff_gives_size_camera_date_and_place(photos, order):
    path = photos / "scan.tif"
    path.write_bytes(tiff(order, ifd0=CAMERA, exif=TAKEN, gps=PLACE))
    record = show(path)
    assert (record["width"], record["height"]) == (3, 4)  # orientation 6: turned
    assert (record["metadata"]["make"], record["metadata"]["model"]) == ("Canon", "EOS 5D Mark IV")
    assert record["start"].startswith("2019-09-02T10:11:12")
    assert record["utc_offset_minutes"] == 120
    assert record["location"]["latitude"] == pytest.approx(48.85666667)
    assert record["location"]["longitude"] == pytest.approx(-2.35)


def test_big_endian_bigtiff_is_recorded_with_pillows_complaint(photos):
    path = photos / "big.tif"
    path.write_bytes(tiff(">", ifd0=CAMERA, exif=TAKEN))
    facts = found(path)
    assert "luna-tiff" in facts.extractors
    assert any("not a readable image" in error for error in facts.errors)


def test_tiff_pillow_refuses_for_its_pixel_layout_is_recorded(photos):
    # 3 samples of 12 bits: a layout Pillow has no mode for, though the metadata is plain.
    data = tiff("<", big=False, ifd0=CAMERA, exif=TAKEN, gps=PLACE, bits=12)
    with pytest.raises(OSError):  # Pillow's UnidentifiedImageError
        Image.open(io.BytesIO(data))
    path = photos / "odd.tif"
    path.write_bytes(data)
    record = show(path)
    assert (record["width"], record["height"]) == (3, 4)
    assert record["start"].startswith("2019-09-02T10:11:12")
    assert record["location"]["latitude"] == pytest.approx(48.85666667)
    assert any("not a readable image" in e for e in record["processor_metadata"]["errors"])


def test_tiff_with_a_directory_cut_off_and_nothing_else_is_reported(photos):
    path = photos / "cut.tif"
    path.write_bytes(tiff(">", cut=40))
    with pytest.raises(FileFailed):
        read_file(str(path))


@pytest.mark.parametrize(
    "data",
    [
        # IFD0 claims 2^62 entries
        b"MM\0+\0\x08\0\0" + struct.pack(">Q", 16) + struct.pack(">Q", 2**62) + bytes(64),
        # cut inside the directory that is written last (IFD0)
        tiff(">", ifd0=CAMERA, exif=TAKEN, cut=30),
        # directories pointing at themselves
        b"II+\0\x08\0\0\0"
        + struct.pack("<Q", 16)
        + struct.pack("<Q", 1)
        + struct.pack("<HHQQ", 0x8769, 16, 1, 16)
        + bytes(8),
    ],
    ids=["huge-count", "cut", "loop"],
)
def test_bigtiff_with_lying_lengths_neither_hangs_nor_allocates(photos, data):
    path = photos / "lying.tif"
    path.write_bytes(data)
    began = time.monotonic()
    with contextlib.suppress(FileFailed):  # recorded or reported: either, but quickly
        read_file(str(path))
    assert time.monotonic() - began < 2


def test_bigtiff_value_claiming_more_than_the_file_is_skipped(photos):
    data = bytearray(tiff(">", ifd0=CAMERA, exif=TAKEN))
    # Make's count (2 bytes into IFD0's first entry after the size) becomes 2^60.
    at = data.find(struct.pack(">HHQ", 0x10F, 2, 6))
    data[at + 4 : at + 12] = struct.pack(">Q", 2**60)
    path = photos / "huge_value.tif"
    path.write_bytes(bytes(data))
    facts = found(path)
    assert "make" not in facts.metadata
    assert facts.metadata["model"] == "EOS 5D Mark IV"
    assert facts.start is not None


# -- WebP and GIF whose image Pillow refuses --------------------------------------------------


def damaged_webp(path, **chunks) -> bytes:
    """A WebP written by Pillow whose VP8 bitstream is then spoiled (libwebp refuses it)."""
    Image.new("RGB", (30, 20), "green").save(path, "WEBP", **chunks)
    data = bytearray(path.read_bytes())
    at = data.find(b"VP8 ")
    data[at + 11 : at + 14] = b"xxx"  # the frame's start code
    return bytes(data)


def test_webp_with_a_damaged_image_is_recorded_with_its_metadata(photos):
    import piexif

    exif = piexif.dump(
        {"0th": {piexif.ImageIFD.Orientation: 6}, "Exif": {36867: b"2015:05:06 07:08:09"}}
    )
    path = photos / "damaged.webp"
    path.write_bytes(damaged_webp(path, exif=exif, xmp=xmp()))
    with pytest.raises(OSError):
        Image.open(path)
    record = show(path)
    assert (record["width"], record["height"]) == (20, 30)  # canvas 30 x 20, turned by EXIF
    assert record["start"].startswith("2015-05-06T07:08:09")
    assert sorted(record["metadata"]["keywords"]) == sorted(KEYWORDS)
    assert record["location"]["latitude"] == pytest.approx(LATITUDE)
    assert any("decoder" in e for e in record["processor_metadata"]["errors"])


def test_webp_with_a_damaged_image_and_nothing_else_is_reported(photos):
    path = photos / "plain.webp"
    Image.new("RGB", (30, 20), "green").save(path, "WEBP")  # simple format: no VP8X canvas
    data = bytearray(path.read_bytes())
    at = data.find(b"VP8 ")
    data[at + 11 : at + 14] = b"xxx"  # the start code before the frame's size
    path.write_bytes(bytes(data))
    with pytest.raises(FileFailed, match="not a readable image"):
        read_file(str(path))


def test_webp_chunk_with_a_lying_length_is_harmless(photos):
    path = photos / "lying.webp"
    data = bytearray(damaged_webp(path, xmp=xmp()))
    at = data.find(b"XMP ")
    data[at + 4 : at + 8] = struct.pack("<I", 0xFFFFFF00)
    path.write_bytes(bytes(data))
    began = time.monotonic()
    facts = found(path)
    assert time.monotonic() - began < 2
    assert facts.keywords == []
    assert (facts.width, facts.height) == (30, 20)  # VP8X, before the lie, still counts


def test_gif_whose_frame_pillow_refuses_keeps_its_xmp(photos):
    data = bytearray(gif(xmp()))
    frame = data.find(b"\x2c\x00\x00\x00\x00")  # the image descriptor
    data[frame + 5 : frame + 9] = bytes(4)  # a frame 0 x 0 pixels
    path = photos / "frame.gif"
    path.write_bytes(bytes(data))
    facts = found(path)
    assert sorted(facts.keywords) == sorted(KEYWORDS)
    assert (facts.width, facts.height) == (24, 16)


def refused_png(photos, name="refused.png", **texts) -> Path:
    """A PNG with EXIF (eXIf: a Canon turned 90 degrees, a date), XMP in iTXt and the given
    text chunks, whose IHDR checksum is then damaged: Pillow refuses to open it."""
    info = PngImagePlugin.PngInfo()
    info.add_itxt("XML:com.adobe.xmp", xmp().decode(), zip=True)
    for key, value in texts.items():
        info.add_text(key, value, zip=True)
    exif = Image.Exif()
    exif[0x10F], exif[0x110], exif[0x112] = "Canon", "EOS 5D Mark IV", 6
    buffer = io.BytesIO()
    Image.new("RGB", (30, 20), "blue").save(buffer, "PNG", pnginfo=info, exif=exif)
    data = bytearray(buffer.getvalue())
    data[29:33] = bytes(4)  # IHDR's CRC
    path = photos / name
    path.write_bytes(bytes(data))
    with pytest.raises(OSError, match="cannot identify"):
        Image.open(path)
    return path


def test_png_pillow_refuses_is_recorded_from_its_chunks(photos):
    path = refused_png(photos, Title="Harbour at dawn")
    record = show(path)
    assert_paris(record)
    assert (record["width"], record["height"]) == (20, 30)  # 30 x 20, turned by EXIF
    assert (record["metadata"]["make"], record["metadata"]["title"]) == ("Canon", "Harbour at dawn")
    assert any("not a readable image" in e for e in record["processor_metadata"]["errors"])


def test_png_text_chunk_inflating_without_bound_is_skipped(photos):
    """A zTXt of a few kilobytes that inflates to 64 MiB is dropped, quickly."""
    import zlib

    path = refused_png(photos)
    data = bytearray(path.read_bytes())
    bomb = b"Title\0\0" + zlib.compress(b"a" * (64 * 1024 * 1024), 9)
    chunk = struct.pack(">I", len(bomb)) + b"zTXt" + bomb + bytes(4)
    at = data.find(b"IDAT") - 4
    path.write_bytes(bytes(data[:at]) + chunk + bytes(data[at:]))
    began = time.monotonic()
    facts = found(path)
    assert time.monotonic() - began < 5
    assert "title" not in facts.metadata
    assert sorted(facts.keywords) == sorted(KEYWORDS)  # the XMP before it still counts


def test_png_chunk_with_a_lying_length_is_harmless(photos):
    path = refused_png(photos)
    data = bytearray(path.read_bytes())
    at = data.find(b"iTXt") - 4
    data[at : at + 4] = struct.pack(">I", 0xFFFFFF00)
    path.write_bytes(bytes(data))
    facts = found(path)
    assert facts.keywords == []
    assert (facts.width, facts.height) == (30, 20)  # IHDR, before the lie; no EXIF after it
    assert any("runs past" in e for e in facts.errors)


# -- what stays a failure --------------------------------------------------------------------


def test_a_truncated_jpeg_with_nothing_readable_is_still_damaged(photos):
    path = photos / "cut.jpg"
    path.write_bytes(make_photo(photos / "whole.jpg").read_bytes()[:40])
    with pytest.raises(FileFailed):
        read_file(str(path))


def test_a_decompression_bomb_tiff_stays_refused(photos):
    path = photos / "bomb.tif"
    path.write_bytes(tiff("<", big=False, ifd0=CAMERA, exif=TAKEN, width=60000, height=60000))
    with pytest.raises(FileFailed, match="bomb"):
        read_file(str(path))
