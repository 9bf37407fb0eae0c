"""XMP packets and sidecars: what parse_xmp reads and what apply_xmp lets into a file's record.

The packets are written here, in the styles of the programs that write them (Lightroom,
digiKam, darktable, Photo Mechanic, f-spot); the real-world samples of ../shared/corpus are
checked against ExifTool's reading at the end, when the corpus is present.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import time

import pytest
from conftest import CORPUS, make_photo, requires_corpus

from luna.ingest.extract.facts import Extracted
from luna.ingest.extract.xmp import (
    MAX_PACKET,
    LunaEvent,
    XmpInfo,
    _parse_xml,
    apply_xmp,
    parse_coordinate,
    parse_xmp,
    parse_xmp_date,
)

RDF_OPEN = '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
NAMESPACES = (
    'xmlns:xmp="http://ns.adobe.com/xap/1.0/" '
    'xmlns:tiff="http://ns.adobe.com/tiff/1.0/" '
    'xmlns:exif="http://ns.adobe.com/exif/1.0/" '
    'xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/" '
    'xmlns:dc="http://purl.org/dc/elements/1.1/" '
    'xmlns:lr="http://ns.adobe.com/lightroom/1.0/"'
)


def packet(attributes: str = "", elements: str = "", namespaces: str = NAMESPACES) -> str:
    """One rdf:Description with these properties, in the usual x:xmpmeta wrapper."""
    return (
        '<x:xmpmeta xmlns:x="adobe:ns:meta/">'
        f"{RDF_OPEN}"
        f'<rdf:Description rdf:about="" {namespaces} {attributes}>{elements}</rdf:Description>'
        "</rdf:RDF></x:xmpmeta>"
    )


def xpacket(body: str) -> str:
    return (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
        f'{body}\n{" " * 2047}\n<?xpacket end="w"?>'
    )


def parse(text: str) -> XmpInfo:
    info = parse_xmp(text.encode("utf-8"))
    assert info is not None
    return info


def bag(*items: str, kind: str = "Bag") -> str:
    lis = "".join(f"<rdf:li>{item}</rdf:li>" for item in items)
    return f"<rdf:{kind}>{lis}</rdf:{kind}>"


def alt(**by_language: str) -> str:
    lis = "".join(
        f'<rdf:li xml:lang="{lang.replace("_", "-")}">{text}</rdf:li>'
        for lang, text in by_language.items()
    )
    return f"<rdf:Alt>{lis}</rdf:Alt>"


# -- the styles of real writers ------------------------------------------------------------

LIGHTROOM = xpacket(
    '<x:xmpmeta xmlns:x="adobe:ns:meta/" x:xmptk="Adobe XMP Core 7.0-c000 1.000000">'
    f"{RDF_OPEN}"
    '<rdf:Description rdf:about=""'
    f" {NAMESPACES}"
    ' xmlns:crs="http://ns.adobe.com/camera-raw-settings/1.0/"'
    ' xmp:CreateDate="2019-06-01T12:34:56.12+02:00"'
    ' xmp:ModifyDate="2019-06-03T09:00:00+02:00"'
    ' xmp:Rating="3" xmp:Label="Red"'
    ' tiff:Make="Canon" tiff:Model="Canon EOS 5D Mark IV" tiff:Orientation="6"'
    ' exif:DateTimeOriginal="2019-06-01T12:34:56.12+02:00"'
    ' exif:GPSLatitude="48,51.5N" exif:GPSLongitude="2,17.7E"'
    ' exif:GPSAltitude="350/10" exif:GPSAltitudeRef="0"'
    ' photoshop:DateCreated="2019-06-01T12:34:56.12+02:00"'
    ' crs:Version="11.0" crs:Exposure2012="+0.35">'
    f"<dc:title>{alt(x_default='Eiffel Tower')}</dc:title>"
    f"<dc:description>{alt(en='Evening', x_default='At dusk')}</dc:description>"
    f"<dc:subject>{bag('Eiffel Tower', 'Paris', 'France', 'Paris')}</dc:subject>"
    f"<lr:hierarchicalSubject>{bag('Places|France|Paris', 'Places|France')}"
    "</lr:hierarchicalSubject>"
    f"<crs:ToneCurvePV2012>{bag('0, 0', '255, 255', kind='Seq')}</crs:ToneCurvePV2012>"
    "</rdf:Description></rdf:RDF></x:xmpmeta>"
)


def test_lightroom_sidecar():
    info = parse(LIGHTROOM)
    assert info.keywords == ["Eiffel Tower", "Paris", "France"]
    assert info.hierarchical == [["Places", "France", "Paris"], ["Places", "France"]]
    assert info.date_original == (dt.datetime(2019, 6, 1, 12, 34, 56, 120000), 120)
    assert info.create_date == (dt.datetime(2019, 6, 1, 12, 34, 56, 120000), 120)
    assert info.latitude == pytest.approx(48 + 51.5 / 60)
    assert info.longitude == pytest.approx(2 + 17.7 / 60)
    assert info.altitude == 35.0
    assert (info.title, info.description) == ("Eiffel Tower", "At dusk")
    assert (info.rating, info.label, info.orientation) == (3, "Red", 6)
    assert (info.make, info.model) == ("Canon", "Canon EOS 5D Mark IV")
    assert info.content_identifier is None


DIGIKAM = (
    '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>'
    '<x:xmpmeta xmlns:x="adobe:ns:meta/" x:xmptk="XMP Core 4.4.0-Exiv2">'
    f"{RDF_OPEN}"
    '<rdf:Description rdf:about=""'
    ' xmlns:exif="http://ns.adobe.com/exif/1.0/"'
    ' xmlns:xmp="http://ns.adobe.com/xap/1.0/"'
    ' xmlns:tiff="http://ns.adobe.com/tiff/1.0/"'
    ' xmlns:digiKam="http://www.digikam.org/ns/1.0/"'
    ' xmlns:MicrosoftPhoto="http://ns.microsoft.com/photo/1.0/"'
    ' xmlns:lr="http://ns.adobe.com/lightroom/1.0/"'
    ' xmlns:dc="http://purl.org/dc/elements/1.1/"'
    ' exif:DateTimeOriginal="2019-06-01T12:34:56"'
    ' exif:GPSLatitude="33,51.408S" exif:GPSLongitude="151,12.918E"'
    ' exif:GPSAltitude="5/1" exif:GPSAltitudeRef="0"'
    ' xmp:Rating="5" tiff:Make="NIKON CORPORATION" tiff:Model="NIKON D750">'
    "<digiKam:TagsList>"
    f"{bag('People/Family/Anna', 'Places/Australia/Sydney', kind='Seq')}"
    "</digiKam:TagsList>"
    "<MicrosoftPhoto:LastKeywordXMP>"
    f"{bag('People/Family/Anna', 'Places/Australia/Sydney')}"
    "</MicrosoftPhoto:LastKeywordXMP>"
    "<lr:hierarchicalSubject>"
    f"{bag('People|Family|Anna', 'Places|Australia|Sydney')}"
    "</lr:hierarchicalSubject>"
    f"<dc:subject>{bag('Anna', 'Sydney')}</dc:subject>"
    "</rdf:Description></rdf:RDF></x:xmpmeta>"
    '<?xpacket end="w"?>'
)


def test_digikam_sidecar_paths_are_read_once():
    info = parse(DIGIKAM)
    assert info.keywords == ["Anna", "Sydney"]
    # The same paths in three lists (Lightroom's, digiKam's, Windows'): each counted once.
    assert info.hierarchical == [["People", "Family", "Anna"], ["Places", "Australia", "Sydney"]]
    assert info.date_original == (dt.datetime(2019, 6, 1, 12, 34, 56), None)
    assert info.create_date is None
    assert info.latitude == pytest.approx(-33.8568)
    assert info.longitude == pytest.approx(151.2153)
    assert info.altitude == 5.0
    assert (info.rating, info.make, info.model) == (5, "NIKON CORPORATION", "NIKON D750")


# darktable (through exiv2) writes EXIF's own date format into XMP.
DARKTABLE = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<x:xmpmeta xmlns:x="adobe:ns:meta/" x:xmptk="XMP Core 4.4.0-Exiv2">\n'
    f" {RDF_OPEN}\n"
    '  <rdf:Description rdf:about=""\n'
    '    xmlns:exif="http://ns.adobe.com/exif/1.0/"\n'
    '    xmlns:xmp="http://ns.adobe.com/xap/1.0/"\n'
    '    xmlns:xmpMM="http://ns.adobe.com/xap/1.0/mm/"\n'
    '    xmlns:darktable="http://darktable.sf.net/"\n'
    '    xmlns:dc="http://purl.org/dc/elements/1.1/"\n'
    '    xmlns:lr="http://ns.adobe.com/lightroom/1.0/"\n'
    '   exif:DateTimeOriginal="2018:09:15 13:52:33.250"\n'
    '   exif:GPSLatitude="31,30.0000N"\n'
    '   exif:GPSLongitude="35,30.0000E"\n'
    '   exif:GPSAltitude="4300/10"\n'
    '   exif:GPSAltitudeRef="1"\n'
    '   xmp:Rating="1"\n'
    '   xmpMM:DerivedFrom="IMG_0001.CR2"\n'
    '   darktable:xmp_version="3"\n'
    '   darktable:history_end="2">\n'
    "   <dc:subject>\n"
    f"    {bag('cat', 'garden')}\n"
    "   </dc:subject>\n"
    "   <lr:hierarchicalSubject>\n"
    f"    {bag('animals|cat', 'places|garden')}\n"
    "   </lr:hierarchicalSubject>\n"
    "   <darktable:history>\n"
    "    <rdf:Seq>\n"
    '     <rdf:li darktable:operation="rawprepare" darktable:enabled="1"'
    ' darktable:params="gz08eJxjZIAAAAAeAAA="/>\n'
    "    </rdf:Seq>\n"
    "   </darktable:history>\n"
    "  </rdf:Description>\n"
    " </rdf:RDF>\n"
    "</x:xmpmeta>\n"
)


def test_darktable_sidecar_below_sea_level():
    info = parse(DARKTABLE)
    assert info.keywords == ["cat", "garden"]
    assert info.hierarchical == [["animals", "cat"], ["places", "garden"]]
    assert info.date_original == (dt.datetime(2018, 9, 15, 13, 52, 33, 250000), None)
    assert (info.latitude, info.longitude) == (31.5, 35.5)
    assert info.altitude == -430.0  # the Dead Sea shore: GPSAltitudeRef 1 is below sea level
    assert info.rating == 1


PHOTO_MECHANIC = packet(
    elements=(
        "<photoshop:DateCreated>2006-10-29</photoshop:DateCreated>"
        "<photomechanic:TimeCreated>062751-0500</photomechanic:TimeCreated>"
    ),
    namespaces=NAMESPACES + ' xmlns:photomechanic="http://ns.camerabits.com/photomechanic/1.0/"',
)


def test_photo_mechanic_time_completes_the_date_created():
    assert parse(PHOTO_MECHANIC).date_original == (dt.datetime(2006, 10, 29, 6, 27, 51), -300)


# -- the spellings of RDF ------------------------------------------------------------------

ATTRIBUTE_FORM = packet(
    attributes=(
        'exif:DateTimeOriginal="2019-06-01T12:34:56+02:00" xmp:CreateDate="2019-06-01"'
        ' exif:GPSLatitude="40,41.3N" exif:GPSLongitude="74,2.7W" exif:GPSAltitude="12"'
        ' xmp:Rating="2" tiff:Orientation="8" tiff:Make="Apple" tiff:Model="iPhone 12"'
        ' dc:title="Liberty" xmp:Label="Blue"'
    ),
    elements=f"<dc:subject>{bag('statue')}</dc:subject>",
)
ELEMENT_FORM = packet(
    elements=(
        "<exif:DateTimeOriginal>2019-06-01T12:34:56+02:00</exif:DateTimeOriginal>"
        "<xmp:CreateDate>2019-06-01</xmp:CreateDate>"
        "<exif:GPSLatitude>40,41.3N</exif:GPSLatitude>"
        "<exif:GPSLongitude>74,2.7W</exif:GPSLongitude>"
        "<exif:GPSAltitude>12</exif:GPSAltitude>"
        "<xmp:Rating>2</xmp:Rating><tiff:Orientation>8</tiff:Orientation>"
        "<tiff:Make>Apple</tiff:Make><tiff:Model>iPhone 12</tiff:Model>"
        f"<dc:title>{alt(x_default='Liberty')}</dc:title><xmp:Label>Blue</xmp:Label>"
        f"<dc:subject>{bag('statue')}</dc:subject>"
    )
)


def test_attribute_and_element_forms_read_the_same():
    by_attributes, by_elements = parse(ATTRIBUTE_FORM), parse(ELEMENT_FORM)
    assert by_attributes == by_elements
    assert by_elements.date_original == (dt.datetime(2019, 6, 1, 12, 34, 56), 120)
    assert by_elements.create_date == (dt.datetime(2019, 6, 1), None)
    assert by_elements.latitude == pytest.approx(40.688333333)
    assert by_elements.longitude == pytest.approx(-74.045)
    assert by_elements.altitude == 12.0
    assert (by_elements.rating, by_elements.orientation, by_elements.label) == (2, 8, "Blue")
    assert (by_elements.title, by_elements.keywords) == ("Liberty", ["statue"])


def test_properties_split_across_descriptions_with_unusual_prefixes():
    # Namespaces count by URI: dc under "d", rdf under "r", xmp under "xap" (pre-2004).
    text = (
        '<x:xmpmeta xmlns:x="adobe:ns:meta/">'
        '<r:RDF xmlns:r="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<r:Description r:about="" xmlns:d="http://purl.org/dc/elements/1.1/">'
        "<d:subject><r:Bag><r:li>one</r:li><r:li>two</r:li></r:Bag></d:subject>"
        "</r:Description>"
        '<r:Description r:about="" xmlns:xap="http://ns.adobe.com/xap/1.0/" xap:Rating="4"/>'
        '<r:Description r:about="" xmlns:dc="http://example.com/not-dublin-core/">'
        "<dc:subject><r:Bag><r:li>wrong</r:li></r:Bag></dc:subject>"
        "</r:Description>"
        "</r:RDF></x:xmpmeta>"
    )
    info = parse(text)
    assert (info.keywords, info.rating) == (["one", "two"], 4)


def test_node_id_reference_as_written_by_f_spot():
    text = (
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF'
        ' xmlns:dc="http://purl.org/dc/elements/1.1/"'
        ' xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Bag rdf:nodeID="anon2"><rdf:li>beach</rdf:li><rdf:li>sunset</rdf:li></rdf:Bag>'
        '<rdf:Description rdf:about="" dc:title="f-spot">'
        '<dc:subject rdf:nodeID="anon2"/></rdf:Description>'
        "</rdf:RDF></x:xmpmeta>"
    )
    info = parse(text)
    assert (info.keywords, info.title) == (["beach", "sunset"], "f-spot")


def test_bare_rdf_without_xmpmeta_wrapper():
    text = packet(attributes='xmp:Rating="1"')
    bare = text[text.index("<rdf:RDF") : text.index("</x:xmpmeta>")]
    assert parse(bare).rating == 1


def test_empty_xmpmeta_is_xmp_with_nothing_in_it():
    assert parse('<x:xmpmeta xmlns:x="adobe:ns:meta/" />') == XmpInfo()


def test_escaped_text_and_cdata_read_as_xml_says():
    info = parse(
        packet(elements=f"<dc:subject>{bag('&amp;-<![CDATA[&amp;]]>-&#233;')}</dc:subject>")
    )
    assert info.keywords == ["&-&amp;-é"]  # as ExifTool reads XMP.xmp of its test suite


@pytest.mark.parametrize(
    ("items", "expected"),
    [
        ({"fr": "Tour", "x_default": "Tower", "de": "Turm"}, "Tower"),
        ({"fr": "", "de": "Turm"}, "Turm"),
        ({"x_default": ""}, None),
    ],
)
def test_title_prefers_the_default_language(items, expected):
    assert parse(packet(elements=f"<dc:title>{alt(**items)}</dc:title>")).title == expected


def test_mwg_keyword_hierarchy():
    def node(name: str, *children: str, applied: str | None = None) -> str:
        fields = f"<mwg-kw:Keyword>{name}</mwg-kw:Keyword>"
        if applied is not None:
            fields += f"<mwg-kw:Applied>{applied}</mwg-kw:Applied>"
        if children:
            fields += f"<mwg-kw:Children><rdf:Bag>{''.join(children)}</rdf:Bag></mwg-kw:Children>"
        return f'<rdf:li rdf:parseType="Resource">{fields}</rdf:li>'

    tree = node(
        "Places", node("France", node("Paris"), node("Lyon", applied="False")), applied="True"
    ) + node("People", node("Anna"))
    text = packet(
        namespaces=NAMESPACES
        + ' xmlns:mwg-kw="http://www.metadataworkinggroup.com/schemas/keywords/"',
        elements=(
            '<mwg-kw:Keywords rdf:parseType="Resource"><mwg-kw:Hierarchy>'
            f"<rdf:Bag>{tree}</rdf:Bag></mwg-kw:Hierarchy></mwg-kw:Keywords>"
        ),
    )
    # Leaves are applied unless they say otherwise; inner nodes only when they say so.
    assert parse(text).hierarchical == [
        ["Places"],
        ["Places", "France", "Paris"],
        ["People", "Anna"],
    ]


@pytest.mark.parametrize(
    ("attributes", "expected"),
    [
        (
            'xmlns:apple-fi="http://ns.apple.com/faceinfo/1.0/"'
            ' apple-fi:ContentIdentifier="9AA60F20-186A-4B5D-AE1C-34DD4B8B11CA"',
            "9AA60F20-186A-4B5D-AE1C-34DD4B8B11CA",
        ),
        # Under a namespace of the converter's own, an Apple one is still preferred.
        (
            'xmlns:conv="http://example.com/conv/" conv:ContentIdentifier="OTHER"'
            ' xmlns:apple="http://ns.apple.com/livephoto/1.0/" apple:ContentIdentifier="A-1"',
            "A-1",
        ),
        ('xmlns:conv="http://example.com/conv/" conv:ContentIdentifier=" B-2 "', "B-2"),
        ("", None),
    ],
)
def test_content_identifier(attributes, expected):
    assert parse(packet(attributes=attributes)).content_identifier == expected


@pytest.mark.parametrize(
    ("rating", "expected"),
    [("-1", -1), ("0", 0), ("5", 5), ("3.0", 3), ("6", None), ("-2", None), ("many", None)],
)
def test_rating(rating, expected):
    assert parse(packet(attributes=f'xmp:Rating="{rating}"')).rating == expected


@pytest.mark.parametrize(
    ("orientation", "expected"), [("1", 1), ("8", 8), ("0", None), ("9", None)]
)
def test_orientation(orientation, expected):
    assert parse(packet(attributes=f'tiff:Orientation="{orientation}"')).orientation == expected


# -- dates ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2019-06-01T12:34:56+02:00", (dt.datetime(2019, 6, 1, 12, 34, 56), 120)),
        ("2019-06-01T12:34:56.12", (dt.datetime(2019, 6, 1, 12, 34, 56, 120000), None)),
        ("2019-06-01T12:34:56.1234567Z", (dt.datetime(2019, 6, 1, 12, 34, 56, 123456), 0)),
        ("2019-06-01T12:34-05:00", (dt.datetime(2019, 6, 1, 12, 34), -300)),
        ("2019-06-01T12:34:56+0530", (dt.datetime(2019, 6, 1, 12, 34, 56), 330)),
        ("2008-05-25T19:31:26.0+1:00", (dt.datetime(2008, 5, 25, 19, 31, 26), 60)),  # Canon
        # A date alone is midnight with no zone; missing month and day are the first.
        ("2019-06-01", (dt.datetime(2019, 6, 1), None)),
        ("2019-06", (dt.datetime(2019, 6, 1), None)),
        ("1987", (dt.datetime(1987, 1, 1), None)),
        # EXIF's format, as darktable and exiv2 write it.
        ("2019:06:01 12:34:56", (dt.datetime(2019, 6, 1, 12, 34, 56), None)),
    ],
)
def test_xmp_dates(text, expected):
    assert parse_xmp_date(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "yesterday",
        "0000-00-00T00:00:00",
        "0000:00:00 00:00:00",
        "2019-13-01",
        "2019-02-30",
        "2019-06-01T25:00:00",
        "2019-06-01T12:00:00+25:00",
        "1700-01-01",
    ],
)
def test_invalid_xmp_dates(text):
    assert parse_xmp_date(text) is None


def test_invalid_date_original_falls_back_to_date_created():
    info = parse(
        packet(
            attributes='exif:DateTimeOriginal="0000-00-00T00:00:00"'
            ' photoshop:DateCreated="1975-07"'
            ' xmp:CreateDate="garbage" exif:DateTimeDigitized="2001-02-03T04:05:06Z"'
        )
    )
    assert info.date_original == (dt.datetime(1975, 7, 1), None)
    assert info.create_date == (dt.datetime(2001, 2, 3, 4, 5, 6), 0)


# -- positions -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "axis", "expected"),
    [
        ("48,51.5N", "NS", 48.85833333),
        ("48,51,30N", "NS", 48.85833333),
        ("33,51.408S", "NS", -33.8568),
        ("74,2.7W", "EW", -74.045),
        ("151, 12.918 E", "EW", 151.2153),
        ("0,0.0N", "NS", 0.0),
        ("48.8583N", "NS", 48.8583),
        ("-33.8568", "NS", -33.8568),
        ("2.2945", "EW", 2.2945),
    ],
)
def test_gps_coordinates(text, axis, expected):
    assert parse_coordinate(text, axis) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("text", "axis"),
    [
        ("91,0.0N", "NS"),
        ("181,0.0W", "EW"),
        ("48,61.0N", "NS"),  # 61 minutes
        ("48,51,60N", "NS"),
        ("48,51.5E", "NS"),  # a latitude marked east
        ("48.5,30N", "NS"),  # fractional degrees followed by minutes
        ("N", "NS"),
        ("", "NS"),
        (None, "NS"),
    ],
)
def test_invalid_gps_coordinates(text, axis):
    assert parse_coordinate(text, axis) is None


def test_position_needs_both_coordinates():
    info = parse(packet(attributes='exif:GPSLatitude="48,51.5N" exif:GPSAltitude="35"'))
    assert (info.latitude, info.longitude, info.altitude) == (None, None, None)


def test_altitude_with_a_zero_denominator_is_dropped():
    info = parse(
        packet(
            attributes='exif:GPSLatitude="1,0.0N" exif:GPSLongitude="1,0.0E"'
            ' exif:GPSAltitude="12/0"'
        )
    )
    assert (info.latitude, info.longitude, info.altitude) == (1.0, 1.0, None)


# -- wrappers and encodings ----------------------------------------------------------------

SIMPLE = packet(
    attributes='xmp:Rating="4"', elements=f"<dc:subject>{bag('Café', '日本')}</dc:subject>"
)


@pytest.mark.parametrize(
    "data",
    [
        xpacket(SIMPLE).encode("utf-8"),
        b"\xef\xbb\xbf" + SIMPLE.encode("utf-8"),
        b"\xff\xfe" + xpacket(SIMPLE).encode("utf-16-le"),
        b"\xfe\xff" + xpacket(SIMPLE).encode("utf-16-be"),
        xpacket(SIMPLE).encode("utf-16-be"),  # no byte order mark: XML's own detection
        xpacket(SIMPLE).encode("utf-32"),
        b"  \r\n\t" + SIMPLE.encode("utf-8"),
        b"\x00" + xpacket(SIMPLE).encode("utf-8"),  # a stray NUL is not UTF-16
        b"\x00\x01JUNK\xff\xd8" + xpacket(SIMPLE).encode("utf-8") + b"\x00" * 100,
        b"JUNK" + b"\xff\xfe" + SIMPLE.encode("utf-16-le") + b"\x00\x00 \x00",
        # The xpacket header of XMP2.xmp in ExifTool's tests: a control character.
        ('<?xpacket begin="\x1a" id="testing"?>' + SIMPLE + '<?xpacket end="r"?>').encode(),
    ],
    ids=[
        "xpacket",
        "utf8-bom",
        "utf16le-bom",
        "utf16be-bom",
        "utf16be-unmarked",
        "utf32",
        "whitespace",
        "nul-then-utf8",
        "garbage-and-padding",
        "garbage-then-utf16",
        "control-character",
    ],
)
def test_wrappers_and_encodings(data):
    info = parse_xmp(data)
    assert info is not None
    assert (info.keywords, info.rating) == (["Café", "日本"], 4)


def test_latin1_bytes_in_a_utf8_packet_are_read_as_latin1():
    data = SIMPLE.encode("utf-8").replace("Café".encode(), b"Caf\xe9")
    assert parse_xmp(data).keywords == ["Café", "日本"]


def test_accepts_memoryview_and_bytearray():
    data = SIMPLE.encode("utf-8")
    assert parse_xmp(memoryview(data)) == parse_xmp(bytearray(data)) == parse_xmp(data)


def test_unread_properties_of_any_size_cost_nothing():
    ancestors = bag(*(f"xmp.did:{i:032X}" for i in range(50_000)))
    text = packet(
        attributes='xmp:Rating="2"',
        elements=f"<photoshop:DocumentAncestors>{ancestors}</photoshop:DocumentAncestors>",
    )
    assert len(text) < MAX_PACKET
    assert parse(text).rating == 2


# -- garbage and attacks -------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x00" * 1000,
        b"garbage",
        b"<html><body>not XMP</body></html>",
        b"<?xml version='1.0'?><root/>",
        SIMPLE.encode()[:150],  # truncated
        SIMPLE.encode().replace(b"</rdf:Bag>", b""),  # unbalanced
        SIMPLE.encode().replace(b"Caf", b"&nbsp;Caf"),  # an entity XML does not define
        b"<x:xmpmeta xmlns:x='adobe:ns:meta/'><rdf:RDF",
        random.Random(7).randbytes(20_000),
        b"\xff\xd8\xff\xe1" + random.Random(8).randbytes(5000),
    ],
)
def test_garbage_is_none(data):
    assert parse_xmp(data) is None


def test_random_damage_never_raises():
    rng = random.Random(42)
    original = xpacket(LIGHTROOM).encode("utf-8")
    for _ in range(300):
        data = bytearray(original)
        for _ in range(rng.randint(1, 20)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        result = parse_xmp(bytes(data[: rng.randrange(len(data) + 1)]))
        assert result is None or isinstance(result, XmpInfo)


BILLION_LAUGHS = (
    '<?xml version="1.0"?>\n<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n'
    + "".join(
        f' <!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">\n'
        for i in range(1, 10)
    )
    + "]>\n"
    + packet(elements="<dc:subject><rdf:Bag><rdf:li>&lol9;</rdf:li></rdf:Bag></dc:subject>")
)


def test_billion_laughs_is_refused_quickly():
    started = time.monotonic()
    assert parse_xmp(BILLION_LAUGHS.encode()) is None
    assert parse_xmp(b"JUNK" + BILLION_LAUGHS.encode("utf-16")) is None
    assert time.monotonic() - started < 1


def test_external_entity_is_refused():
    text = '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>' + packet(
        elements="<dc:subject><rdf:Bag><rdf:li>&xxe;</rdf:li></rdf:Bag></dc:subject>"
    )
    assert parse_xmp(text.encode()) is None


def test_the_xml_parser_itself_refuses_any_dtd():
    # Defence in depth: even text that got past the "<!DOCTYPE" check cannot declare one.
    with pytest.raises(ValueError):
        _parse_xml('<!DOCTYPE a [<!ENTITY e "x">]><a>&e;</a>')
    with pytest.raises(ValueError):
        _parse_xml('<!DOCTYPE a SYSTEM "http://example.com/a.dtd"><a/>')


def test_oversized_packet_is_refused():
    assert parse_xmp(SIMPLE.encode() + b" " * MAX_PACKET) is None


def test_deep_nesting_is_refused_quickly():
    depth = 400_000
    text = packet(elements="<dc:subject>" + "<a>" * depth + "</a>" * depth + "</dc:subject>")
    started = time.monotonic()
    assert parse_xmp(text.encode()) is None
    assert time.monotonic() - started < 2


DEEP = packet(elements="<dc:subject>" + "<a>" * 300 + "</a>" * 300 + "</dc:subject>")


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (SIMPLE.encode() + b" " * MAX_PACKET, "XMP ignored: larger than 4 MB"),
        (DEEP.encode(), "XMP ignored: nested more than 200 deep"),
        (BILLION_LAUGHS.encode(), "XMP ignored: it declares a DTD"),
    ],
    ids=["too large", "too deep", "a DTD"],
)
def test_a_packet_refused_for_a_limit_says_why(data, why):
    problems = []
    assert parse_xmp(data, problems) is None
    assert problems == [why]


def test_garbage_is_not_a_refusal():
    problems = []
    assert parse_xmp(b"<html>not XMP</html>", problems) is None
    assert parse_xmp(SIMPLE.encode()[:150], problems) is None
    assert problems == []


# -- into a file's record ------------------------------------------------------------------

XMP_DATES = packet(
    attributes='exif:DateTimeOriginal="2019-06-01T12:34:56+02:00" xmp:CreateDate="2019-06-02"'
)


def test_xmp_date_fills_a_record_that_has_only_a_guess():
    out = Extracted()
    out.offer_date(dt.datetime(2024, 1, 1), 0, "file:mtime")
    apply_xmp(parse(XMP_DATES), out, "sidecar")
    assert (out.start, out.utc_offset) == (dt.datetime(2019, 6, 1, 12, 34, 56), 120)
    assert out.date_source == "sidecar:DateTimeOriginal"


def test_sidecar_date_does_not_override_exif_date_time_original():
    out = Extracted()
    out.offer_date(dt.datetime(2019, 6, 1, 10, 0), None, "exif:DateTimeOriginal")
    apply_xmp(parse(XMP_DATES), out, "sidecar")
    apply_xmp(parse(XMP_DATES), out, "xmp")
    assert (out.start, out.date_source) == (dt.datetime(2019, 6, 1, 10, 0), "exif:DateTimeOriginal")


def test_exif_create_date_ranks_above_xmp():
    out = Extracted()
    out.offer_date(dt.datetime(2019, 6, 1, 10, 0), None, "exif:CreateDate")
    apply_xmp(parse(XMP_DATES), out, "xmp")
    assert out.date_source == "exif:CreateDate"


@pytest.mark.parametrize("order", [("sidecar", "xmp"), ("xmp", "sidecar")])
def test_embedded_xmp_beats_the_sidecar_in_either_order(order):
    embedded = parse(packet(attributes='exif:DateTimeOriginal="2019-06-01T12:00:00"'))
    sidecar = parse(packet(attributes='exif:DateTimeOriginal="2020-01-01T00:00:00"'))
    out = Extracted()
    for prefix in order:
        apply_xmp(embedded if prefix == "xmp" else sidecar, out, prefix)
    assert (out.start, out.date_source) == (dt.datetime(2019, 6, 1, 12), "xmp:DateTimeOriginal")


def test_create_date_alone_is_offered_as_create_date():
    out = Extracted()
    apply_xmp(parse(packet(attributes='xmp:CreateDate="2019-06-02T08:00:00Z"')), out, "sidecar")
    assert (out.start, out.utc_offset) == (dt.datetime(2019, 6, 2, 8), 0)
    assert out.date_source == "sidecar:CreateDate"


def test_date_original_beats_create_date_of_the_same_packet():
    out = Extracted()
    apply_xmp(parse(XMP_DATES), out, "xmp")
    assert (out.start, out.date_source) == (
        dt.datetime(2019, 6, 1, 12, 34, 56),
        "xmp:DateTimeOriginal",
    )


def test_xmp_gps_fills_a_record_without_position():
    out = Extracted()
    apply_xmp(parse(DARKTABLE), out, "sidecar")
    assert (out.latitude, out.longitude, out.altitude) == (31.5, 35.5, -430.0)
    assert out.location_source == "sidecar:GPS"


def test_xmp_gps_does_not_override_an_existing_position():
    out = Extracted()
    out.offer_location(43.4674, 11.8851, 300.0, "exif:GPS")
    apply_xmp(parse(DARKTABLE), out, "xmp")
    assert (out.latitude, out.longitude, out.altitude) == (43.4674, 11.8851, 300.0)
    assert out.location_source == "exif:GPS"


def test_metadata_only_where_absent():
    out = Extracted()
    out.metadata.update({"make": "FUJIFILM", "orientation": 1, "description": "from EXIF"})
    apply_xmp(parse(LIGHTROOM), out, "sidecar")
    assert out.metadata == {
        "make": "FUJIFILM",
        "orientation": 1,
        "description": "from EXIF",
        "model": "Canon EOS 5D Mark IV",
        "title": "Eiffel Tower",
        "rating": 3,
        "label": "Red",
    }


def test_luna_s_own_namespace_and_digikam_s_pick_label():
    """What luna writes in its sidecars (luna.ingest.xmp_sidecar), in any RDF spelling."""
    luna = 'xmlns:luna="http://luna.invalid/ns/1.0/" xmlns:digiKam="http://www.digikam.org/ns/1.0/"'
    text = packet(
        attributes='luna:Flag="Reject" luna:Rating="4" digiKam:PickLabel="1"',
        elements=(
            "<luna:Albums><rdf:Bag>"
            '<rdf:li rdf:parseType="Resource"><luna:Name>Family</luna:Name>'
            "<luna:Owner>anna</luna:Owner></rdf:li>"
            '<rdf:li><rdf:Description luna:Name="Best"/></rdf:li>'
            '<rdf:li rdf:parseType="Resource"><luna:Owner>nobody</luna:Owner></rdf:li>'
            "</rdf:Bag></luna:Albums>"
            "<luna:Events><rdf:Bag>"
            '<rdf:li rdf:parseType="Resource"><luna:Name>Trip</luna:Name>'
            "<luna:Start>2019-06-01T08:00:00+02:00</luna:Start>"
            "<luna:End>2019-06-03T20:00:00+02:00</luna:End>"
            "<luna:Description>By train</luna:Description></rdf:li>"
            '<rdf:li rdf:parseType="Resource"><luna:Name>No start</luna:Name></rdf:li>'
            "</rdf:Bag></luna:Events>"
        ),
        namespaces=f"{NAMESPACES} {luna}",
    )
    info = parse(text)
    assert (info.luna_flag, info.luna_rating, info.pick_label) == ("reject", 4, 1)
    assert info.albums == [("Family", "anna"), ("Best", None)]
    assert info.events == [
        LunaEvent(
            "Trip",
            (dt.datetime(2019, 6, 1, 8), 120),
            (dt.datetime(2019, 6, 3, 20), 120),
            "By train",
        )
    ]
    odd = parse(packet(attributes='luna:Flag="maybe" luna:Rating="-1" digiKam:PickLabel="7"',
                       namespaces=f"{NAMESPACES} {luna}"))  # fmt: skip
    assert (odd.luna_flag, odd.luna_rating, odd.pick_label) == (None, None, None)


def test_content_identifier_is_recorded():
    text = packet(
        attributes='xmlns:apple-fi="http://ns.apple.com/faceinfo/1.0/"'
        ' apple-fi:ContentIdentifier="9AA60F20-186A-4B5D-AE1C-34DD4B8B11CA"'
    )
    out = Extracted()
    apply_xmp(parse(text), out, "xmp")
    assert out.metadata == {"content_identifier": "9AA60F20-186A-4B5D-AE1C-34DD4B8B11CA"}


def test_keywords_and_hierarchies_join_existing_keywords():
    out = Extracted()
    out.add_keyword("Paris")  # from IPTC
    apply_xmp(parse(LIGHTROOM), out, "sidecar")
    apply_xmp(parse(LIGHTROOM), out, "xmp")  # nothing twice
    # dc:subject's "Paris" and "France" are levels of the hierarchical keywords: the same
    # keywords, not tags of their own. The IPTC "Paris" was there before and stays.
    assert out.keywords == ["Paris", "Eiffel Tower", "Places/France/Paris", "Places/France"]


@pytest.mark.parametrize(
    ("subjects", "hierarchical", "tags"),
    [
        # digiKam and Lightroom write each level of a hierarchical keyword to dc:subject too.
        (["Places", "France", "Paris", "river"], ["Places|France|Paris"],
         ["river", "Places/France/Paris"]),
        (["paris"], ["Places|France|Paris"], ["Places/France/Paris"]),  # any case
        (["river"], ["river"], ["river"]),  # a flat tag written as a one-level path
        (["Paris"], [], ["Paris"]),  # no hierarchy: flat keywords are tags
        ([], ["People|Anna"], ["People/Anna"]),
    ],
)  # fmt: skip
def test_a_flat_keyword_that_is_a_level_of_a_hierarchical_one_is_not_a_tag_of_its_own(
    subjects, hierarchical, tags
):
    text = packet(elements=f"<dc:subject>{bag(*subjects)}</dc:subject>" if subjects else "")
    if hierarchical:
        text = text.replace(
            "</rdf:Description>",
            f"<lr:hierarchicalSubject>{bag(*hierarchical)}</lr:hierarchicalSubject>"
            "</rdf:Description>",
        )
    out = Extracted()
    apply_xmp(parse(text), out, "sidecar")
    assert out.keywords == tags


def test_empty_info_changes_nothing():
    out = Extracted()
    apply_xmp(XmpInfo(), out, "xmp")
    assert out == Extracted()


# -- the real-world corpus -----------------------------------------------------------------


def _reference() -> dict[str, dict]:
    lines = (CORPUS / "exiftool-reference.jsonl").read_text().splitlines()
    return {entry["SourceFile"]: entry for entry in map(json.loads, lines)}


@requires_corpus()
def test_corpus_sidecars_read_as_exiftool_reads_them():
    reference = _reference()
    sidecars = sorted((CORPUS / "exiftool").glob("*.xmp"))
    assert sidecars
    for path in sidecars:
        info = parse_xmp(path.read_bytes())
        assert info is not None, path.name
        expected = reference[f"exiftool/{path.name}"].get("Subject", [])
        assert info.keywords == (expected if isinstance(expected, list) else [expected])


# -- a refused packet is named in the file's record ------------------------------------------


def _imported_record(cli, path) -> dict:
    code, out, err = cli("import", path.parent, "--json")
    assert code == 0, err
    assert json.loads(out)["failed"] == 0
    code, out, err = cli("show", path, "--json")
    return json.loads(out)["files"][0]


@pytest.mark.parametrize(
    ("sidecar", "content", "why"),
    [
        ("IMG_1.xmp", DEEP.encode(), "XMP ignored: nested more than 200 deep"),
        ("IMG_1.jpg.xmp", SIMPLE.encode() + b" " * MAX_PACKET, "XMP ignored: larger than 4 MB"),
    ],
    ids=["too deep", "too large"],
)
def test_a_photo_whose_sidecar_is_refused_is_imported_and_says_so(
    photos, cli, sidecar, content, why
):
    photo = make_photo(photos / "IMG_1.jpg")
    (photos / sidecar).write_bytes(content)
    record = _imported_record(cli, photo)
    assert f"sidecar {sidecar}: {why}" in record["processor_metadata"]["errors"]
    assert record["start"].startswith("2019-06-01")  # the photo itself is read as ever
    code, out, _ = cli("show", photo)
    assert f"sidecar {sidecar}: {why}" in out  # for people too
    sidecar_record = _imported_record(cli, photos / sidecar)
    assert why in sidecar_record["processor_metadata"]["errors"]


def test_a_photo_whose_embedded_xmp_is_refused_is_imported_and_says_so(photos, cli):
    photo = make_photo(photos / "IMG_1.jpg")
    data = photo.read_bytes()
    body = b"http://ns.adobe.com/xap/1.0/\0" + DEEP.encode()
    app1 = b"\xff\xe1" + (len(body) + 2).to_bytes(2, "big") + body
    photo.write_bytes(data[:2] + app1 + data[2:])
    record = _imported_record(cli, photo)
    assert "XMP ignored: nested more than 200 deep" in record["processor_metadata"]["errors"]
