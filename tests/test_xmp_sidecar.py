"""luna.ingest.xmp_sidecar: the XMP sidecars luna writes, read back by luna and by ExifTool,
and the sidecars of other programs (darktable, Lightroom Classic, ExifTool) edited without
disturbing anything of theirs.

The foreign sidecars are written here in the style of each program: darktable's (Exiv2's
layout, attributes one a line, its edit history as a Seq of structs), Lightroom Classic's
(Adobe's XMP Toolkit: crs: develop settings as attributes, curves as Seqs).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
import io
import json
import random
import shutil
import subprocess
import time
import xml.etree.ElementTree as ET

import pytest

from luna.errors import SidecarRefused
from luna.ingest.extract.xmp import (
    DC,
    DIGIKAM,
    EXIF,
    LIGHTROOM,
    LUNA,
    MAX_DEPTH,
    MAX_ELEMENTS,
    MAX_PACKET,
    MICROSOFT_PHOTO,
    MWG_KW,
    RDF,
    XMP,
    parse_xmp,
)
from luna.ingest.xmp_sidecar import (
    LABELS,
    AlbumRef,
    EventRef,
    SidecarFields,
    read_sidecar_fields,
    updated_sidecar,
)
from luna.version import __version__

D = dt.datetime
EXIFTOOL = shutil.which("exiftool")
requires_exiftool = pytest.mark.skipif(EXIFTOOL is None, reason="exiftool is not installed")

CREATOR = "http://darktable.sf.net/"
CRS = "http://ns.adobe.com/camera-raw-settings/1.0/"
XMP_MM = "http://ns.adobe.com/xap/1.0/mm/"
PHOTOSHOP = "http://ns.adobe.com/photoshop/1.0/"

# The properties luna owns (managed fields); the supplementary ones (exif:) are not here:
# luna leaves them alone unless it is given a value.
MANAGED = {
    (DC, "subject"),
    (DC, "title"),
    (DC, "description"),
    (LIGHTROOM, "hierarchicalSubject"),
    (DIGIKAM, "TagsList"),
    (DIGIKAM, "PickLabel"),
    (DIGIKAM, "ColorLabel"),
    (XMP, "Rating"),
    (XMP, "Label"),
    (MICROSOFT_PHOTO, "LastKeywordXMP"),
    (MWG_KW, "Keywords"),
}

EVERYTHING = SidecarFields(
    tags=("Café/日本", "People/Family/Alice", "Places/France/Paris", "river"),
    rating=4,
    label="purple",
    flag="pick",
    title="Tour Eiffel & <co>",
    description='He said "bonjour"',
    albums=(AlbumRef("Best of 2019"), AlbumRef("Family", "anna")),
    events=(EventRef("Paris trip", D(2019, 6, 1, 8), D(2019, 6, 3, 20), 120, "By train"),),
    taken=D(2019, 6, 1, 14, 5, 9),
    utc_offset=120,
    latitude=48.8566,
    longitude=2.3522,
    altitude=-12.5,
)

ROUND_TRIPS = {
    "nothing": SidecarFields(),
    "flat tags": SidecarFields(tags=("river", "sea")),
    "nested tags": SidecarFields(tags=("Paris", "People/Family/Alice", "Places/France/Paris")),
    "non-ASCII": SidecarFields(tags=("Café", "Orte/Zürich", "Ελλάδα", "日本/東京")),
    "XML specials": SidecarFields(
        tags=("&amp;", "a&b", "<tag>", "it's", 'Quotes/say "hi"', "x > y", "]]>"),
        title="<b>&amp; 'single' \"double\"</b>",
        description="]]> & <",
    ),
    "a level holding |": SidecarFields(tags=("a|b", "Left|Right/c")),
    "unrated": SidecarFields(rating=0),
    "pick": SidecarFields(rating=5, flag="pick"),
    "reject without stars": SidecarFields(flag="reject"),
    "reject, no stars given": SidecarFields(rating=0, flag="reject"),
    "reject with stars": SidecarFields(rating=4, flag="reject"),
    "title and description": SidecarFields(title="Sunset", description="Line 1\nLine 2\r\nLine 3"),
    "albums": SidecarFields(albums=(AlbumRef("Family", "anna"), AlbumRef("Paris"))),
    "events": SidecarFields(
        events=(
            EventRef("Birthday", D(2018, 3, 4, 15, 30), None, None, ""),
            EventRef("Trip", D(2019, 6, 1, 8), D(2019, 6, 3, 20, 15, 30), -330, "Far & away"),
        )
    ),
    "date with offset": SidecarFields(taken=D(2019, 6, 1, 14, 5, 9), utc_offset=120),
    "date without offset": SidecarFields(taken=D(2019, 6, 1, 14, 5, 9)),
    "date at UTC, with a fraction": SidecarFields(
        taken=D(2019, 6, 1, 14, 5, 9, 120000), utc_offset=0
    ),
    "date west of UTC": SidecarFields(taken=D(2001, 12, 31, 23, 59, 59), utc_offset=-570),
    "north east": SidecarFields(latitude=48.8566, longitude=2.3522, altitude=35.0),
    "north west": SidecarFields(latitude=40.7128, longitude=-74.006, altitude=10.123),
    "south east": SidecarFields(latitude=-33.8688, longitude=151.2093),
    "south west": SidecarFields(latitude=-22.9068, longitude=-43.1729, altitude=0.0),
    "below sea level": SidecarFields(latitude=31.5590, longitude=35.4732, altitude=-430.5),
    "the corners": SidecarFields(latitude=-90.0, longitude=180.0),
    "null island": SidecarFields(latitude=0.0, longitude=0.0),
    "fine position": SidecarFields(latitude=12.34567891, longitude=-98.76543219),
    "everything": EVERYTHING,
}
ROUND_TRIPS.update({f"{n} stars": SidecarFields(rating=n) for n in range(6)})
ROUND_TRIPS.update({label: SidecarFields(label=label) for label in LABELS})
# Tags, albums and events are sets, which a sidecar holds in one order (normalized).
ROUND_TRIPS = {name: fields.normalized() for name, fields in ROUND_TRIPS.items()}


# -- helpers -------------------------------------------------------------------------------


def tree(data: bytes) -> ET.Element:
    return ET.fromstring(data)


def descriptions(root: ET.Element) -> list[ET.Element]:
    rdfs = [root] if root.tag == f"{{{RDF}}}RDF" else root.findall(f"{{{RDF}}}RDF")
    return [d for rdf in rdfs for d in rdf.findall(f"{{{RDF}}}Description")]


def forms(data: bytes, ns: str, name: str) -> int:
    """How many times the property is written: attributes and elements, all Descriptions."""
    key = f"{{{ns}}}{name}"
    return sum((key in d.attrib) + len(d.findall(key)) for d in descriptions(tree(data)))


def declared_prefixes(data: bytes) -> set[tuple[str, str]]:
    return {ns for _, ns in ET.iterparse(io.BytesIO(data), events=("start-ns",))}


def foreign(data: bytes) -> tuple[dict, list]:
    """Every property luna does not manage, canonicalised: attributes of the Descriptions,
    and the element properties' whole subtrees, with the Description each is in."""
    attributes, elements = {}, []
    for index, description in enumerate(descriptions(tree(data))):
        for key, value in description.attrib.items():
            if _split(key) not in MANAGED and not key.startswith(f"{{{LUNA}}}"):
                attributes[(index, key)] = value
        for child in description:
            if _split(child.tag) not in MANAGED and not child.tag.startswith(f"{{{LUNA}}}"):
                elements.append((index, child.tag, ET.canonicalize(ET.tostring(child))))
    return attributes, elements


def _split(key: str) -> tuple[str, str]:
    ns, _, name = key[1:].partition("}")
    return ns, name


def xmp_packet(body: str, namespaces: str = "") -> bytes:
    return (
        '<x:xmpmeta xmlns:x="adobe:ns:meta/">'
        f'<rdf:RDF xmlns:rdf="{RDF}">{body}</rdf:RDF></x:xmpmeta>'.replace("NS", namespaces)
    ).encode()


# -- round trips ---------------------------------------------------------------------------


@pytest.mark.parametrize("fields", ROUND_TRIPS.values(), ids=ROUND_TRIPS.keys())
def test_what_luna_writes_it_reads_back(fields):
    assert fields.normalized() == fields
    data = updated_sidecar(None, fields)
    assert read_sidecar_fields(data) == fields
    # Written twice, the same bytes: the caller can skip an unchanged sidecar.
    assert updated_sidecar(data, fields) == data
    assert updated_sidecar(None, fields) == data


@pytest.mark.parametrize("fields", ROUND_TRIPS.values(), ids=ROUND_TRIPS.keys())
def test_each_property_is_written_once(fields):
    data = updated_sidecar(updated_sidecar(None, EVERYTHING), fields)
    assert read_sidecar_fields(data) == dataclasses.replace(
        fields,
        **{name: getattr(EVERYTHING, name) for name in _supplementary(fields)},
    )
    for ns, name in [*MANAGED, (LUNA, "Albums"), (LUNA, "Events"), (EXIF, "GPSLatitude")]:
        assert forms(data, ns, name) <= 1, name


def _supplementary(fields: SidecarFields) -> list[str]:
    """The supplementary fields `fields` leaves alone: the earlier ones stay."""
    names = []
    if fields.taken is None:
        names += ["taken", "utc_offset"]
    if fields.latitude is None:
        names += ["latitude", "longitude", "altitude"]
    return names


def test_sets_are_written_in_one_order_whatever_order_they_come_in():
    shuffled = dataclasses.replace(
        EVERYTHING,
        tags=tuple(reversed(EVERYTHING.tags)) + ("river", " river "),
        albums=tuple(reversed(EVERYTHING.albums)),
    )
    assert updated_sidecar(None, shuffled) == updated_sidecar(None, EVERYTHING)


def test_values_are_tidied_as_a_sidecar_holds_them():
    fields = SidecarFields(
        tags=(" Places / France /Paris ", "a//b", "/", "x\x01y"),
        title="  ",
        description=" Evening ",
        albums=(AlbumRef(" Family ", ""), AlbumRef(" ")),
        latitude=48.123456789123,
        longitude=2.0,
        altitude=35.12345,
    )
    tidy = fields.normalized()
    assert tidy.tags == ("a/b", "Places/France/Paris", "xy")
    assert (tidy.title, tidy.description) == (None, "Evening")
    assert tidy.albums == (AlbumRef("Family"),)
    assert (tidy.latitude, tidy.altitude) == (48.12345679, 35.123)
    assert read_sidecar_fields(updated_sidecar(None, fields)) == tidy


def test_a_new_sidecar():
    data = updated_sidecar(None, SidecarFields(tags=("river",), rating=3))
    text = data.decode("utf-8")
    assert text.startswith('<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n')
    assert f'<x:xmpmeta xmlns:x="adobe:ns:meta/" x:xmptk="luna {__version__}">' in text
    assert text.endswith('<?xpacket end="w"?>\n')
    [description] = descriptions(tree(data))
    assert description.get(f"{{{RDF}}}about") == ""
    # Indented one space a level, as Adobe's XMP Toolkit and Exiv2 write.
    assert "\n   <xmp:Rating>3</xmp:Rating>\n" in text
    assert "\n     <rdf:li>river</rdf:li>\n" in text
    # Only the namespaces used are declared: no exif, no digiKam PickLabel without a flag...
    assert "xmlns:exif" not in text and "PickLabel" not in text
    assert "<luna:Tags>" in text  # ...but luna's record of the tags it wrote (tag_changes)
    rated = updated_sidecar(None, SidecarFields(rating=3)).decode()
    assert "<luna:Tags>" not in rated  # no tags: none recorded
    assert "<luna:Label>none</luna:Label>" in rated  # the label luna wrote: none


def test_an_empty_file_is_a_new_sidecar():
    fields = SidecarFields(rating=2)
    assert updated_sidecar(b"", fields) == updated_sidecar(None, fields)
    assert updated_sidecar(b"  \n", fields) == updated_sidecar(None, fields)


# -- what luna writes where ----------------------------------------------------------------


def test_keywords_are_written_for_every_kind_of_reader():
    data = updated_sidecar(None, SidecarFields(tags=("Places/France/Paris", "Paris", "river")))
    [description] = descriptions(tree(data))

    def items(ns, name, kind):
        return [li.text for li in description.find(f"{{{ns}}}{name}/{{{RDF}}}{kind}")]

    # Programs that know no hierarchy see each tag's last level, once.
    assert items(DC, "subject", "Bag") == ["Paris", "river"]
    assert items(LIGHTROOM, "hierarchicalSubject", "Bag") == [
        "Paris",
        "Places|France|Paris",
        "river",
    ]
    assert items(DIGIKAM, "TagsList", "Seq") == ["Paris", "Places/France/Paris", "river"]


def test_a_rejected_photo_keeps_its_stars_in_luna_rating():
    data = updated_sidecar(None, SidecarFields(rating=3, flag="reject"))
    [description] = descriptions(tree(data))
    assert description.find(f"{{{XMP}}}Rating").text == "-1"  # Lightroom, Bridge, darktable
    assert description.find(f"{{{LUNA}}}Rating").text == "3"
    assert description.find(f"{{{DIGIKAM}}}PickLabel").text == "1"
    assert description.find(f"{{{LUNA}}}Flag").text == "reject"
    # Picked again: the stars go back to xmp:Rating, luna:Rating is no more.
    data = updated_sidecar(data, SidecarFields(rating=3, flag="pick"))
    [description] = descriptions(tree(data))
    assert description.find(f"{{{XMP}}}Rating").text == "3"
    assert description.find(f"{{{LUNA}}}Rating") is None
    assert description.find(f"{{{DIGIKAM}}}PickLabel").text == "3"


def test_managed_fields_are_removed_when_emptied_supplementary_ones_never():
    full = updated_sidecar(None, dataclasses.replace(EVERYTHING, flag="reject"))
    emptied = updated_sidecar(full, SidecarFields())
    for ns, name in [
        *MANAGED,
        (LUNA, "Albums"),
        (LUNA, "Events"),
        (LUNA, "Rating"),
        (LUNA, "Flag"),
    ]:
        assert forms(emptied, ns, name) == 0, name
    got = read_sidecar_fields(emptied)
    assert got == SidecarFields(
        taken=EVERYTHING.taken,
        utc_offset=EVERYTHING.utc_offset,
        latitude=EVERYTHING.latitude,
        longitude=EVERYTHING.longitude,
        altitude=EVERYTHING.altitude,
    )
    assert updated_sidecar(emptied, SidecarFields()) == emptied


def test_a_supplementary_field_is_replaced_only_when_given():
    first = updated_sidecar(None, SidecarFields(taken=D(2019, 6, 1, 12), utc_offset=60))
    again = updated_sidecar(first, SidecarFields(tags=("x",)))
    assert read_sidecar_fields(again).taken == D(2019, 6, 1, 12)
    changed = updated_sidecar(again, SidecarFields(taken=D(2020, 1, 2, 3, 4, 5)))
    got = read_sidecar_fields(changed)
    assert (got.taken, got.utc_offset) == (D(2020, 1, 2, 3, 4, 5), None)
    assert forms(changed, EXIF, "DateTimeOriginal") == 1


def test_a_new_position_replaces_the_altitude_of_the_old_one():
    first = updated_sidecar(None, SidecarFields(latitude=1.0, longitude=2.0, altitude=300.0))
    moved = updated_sidecar(first, SidecarFields(latitude=3.0, longitude=4.0))
    got = read_sidecar_fields(moved)
    assert (got.latitude, got.longitude, got.altitude) == (3.0, 4.0, None)
    assert forms(moved, EXIF, "GPSAltitude") == forms(moved, EXIF, "GPSAltitudeRef") == 0


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (SidecarFields(rating=6), "rating"),
        (SidecarFields(rating=-1), "rating"),
        (SidecarFields(rating=3.0), "rating"),
        (SidecarFields(rating=True), "rating"),
        (SidecarFields(label="orange"), "label"),
        (SidecarFields(label="Red"), "label"),
        (SidecarFields(flag="maybe"), "flag"),
        (SidecarFields(taken=D(2019, 1, 1, tzinfo=dt.UTC)), "naive"),
        (SidecarFields(utc_offset=60), "utc_offset without taken"),
        (SidecarFields(taken=D(2019, 1, 1), utc_offset=16 * 60), "offset"),
        (SidecarFields(taken=D(1800, 1, 1)), "before photography"),
        (SidecarFields(events=(EventRef("E", D(2019, 1, 1), utc_offset=-20 * 60),)), "offset"),
        (SidecarFields(latitude=1.0), "both latitude and longitude"),
        (SidecarFields(altitude=1.0), "altitude without a position"),
        (SidecarFields(latitude=91.0, longitude=0.0), "latitude"),
        (SidecarFields(latitude=0.0, longitude=float("nan")), "longitude"),
    ],
)
def test_fields_luna_cannot_hold_are_a_value_error(fields, message):
    with pytest.raises(ValueError, match=message):
        updated_sidecar(None, fields)


# -- other programs' forms of luna's properties --------------------------------------------


def test_a_property_written_as_an_attribute_is_replaced_in_place():
    existing = xmp_packet(
        '<rdf:Description rdf:about="" xmlns:xmp="http://ns.adobe.com/xap/1.0/"'
        ' xmp:Rating="3" xmp:Label="Red" xmp:CreatorTool="Camera"/>'
    )
    data = updated_sidecar(existing, SidecarFields(rating=5))
    [description] = descriptions(tree(data))
    assert description.get(f"{{{XMP}}}Rating") == "5"
    assert description.find(f"{{{XMP}}}Rating") is None
    assert f"{{{XMP}}}Label" not in description.attrib
    assert description.get(f"{{{XMP}}}CreatorTool") == "Camera"
    assert b'xmp:Rating="5" xmp:CreatorTool="Camera"' in data  # where it was
    assert updated_sidecar(data, SidecarFields(rating=5)) == data


def test_properties_spread_over_several_descriptions_end_up_once_each():
    existing = xmp_packet(
        '<rdf:Description rdf:about="" xmlns:xmp="http://ns.adobe.com/xap/1.0/"'
        ' xmlns:dc="http://purl.org/dc/elements/1.1/" xmp:Rating="1" dc:subject="old"/>'
        '<rdf:Description rdf:about="" xmlns:xmp="http://ns.adobe.com/xap/1.0/"'
        ' xmlns:dc="http://purl.org/dc/elements/1.1/">'
        "<xmp:Rating>2</xmp:Rating><dc:subject><rdf:Bag><rdf:li>older</rdf:li></rdf:Bag>"
        "</dc:subject><dc:title>A simple title</dc:title></rdf:Description>"
        '<rdf:Description rdf:about="" xmlns:xap="http://ns.adobe.com/xap/1.0/">'
        "<xap:Rating>4</xap:Rating><xap:Label>Blue</xap:Label></rdf:Description>"
    )
    fields = SidecarFields(tags=("new",), rating=5, label="green", title="Title")
    data = updated_sidecar(existing, fields)
    for ns, name in [(XMP, "Rating"), (XMP, "Label"), (DC, "subject"), (DC, "title")]:
        assert forms(data, ns, name) == 1, name
    first, second, third = descriptions(tree(data))
    assert first.get(f"{{{XMP}}}Rating") == "5"  # the first form stays where it was
    assert third.find(f"{{{XMP}}}Label").text == "Green"  # written with the file's prefix
    assert b"<xap:Label>Green</xap:Label>" in data
    assert second.find(f"{{{DC}}}title/{{{RDF}}}Alt/{{{RDF}}}li").text == "Title"
    assert read_sidecar_fields(data) == fields
    assert updated_sidecar(data, fields) == data


def test_other_languages_of_a_title_stay():
    existing = xmp_packet(
        '<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/">'
        "<dc:title><rdf:Alt>"
        '<rdf:li xml:lang="x-default">Old</rdf:li>'
        '<rdf:li xml:lang="fr-FR">Vieux</rdf:li>'
        '<rdf:li xml:lang="de">Alt</rdf:li>'
        "</rdf:Alt></dc:title>"
        "<dc:description><rdf:Alt>"
        '<rdf:li xml:lang="fr">Soir</rdf:li>'
        "</rdf:Alt></dc:description>"
        "</rdf:Description>"
    )

    def languages(data, name):
        [description] = descriptions(tree(data))
        alt = description.find(f"{{{DC}}}{name}/{{{RDF}}}Alt")
        if alt is None:
            return None
        return [(li.get("{http://www.w3.org/XML/1998/namespace}lang"), li.text) for li in alt]

    data = updated_sidecar(existing, SidecarFields(title="New", description="Evening"))
    assert languages(data, "title") == [("x-default", "New"), ("fr-FR", "Vieux"), ("de", "Alt")]
    # Without an x-default item, luna's goes first (the XMP specification asks so).
    assert languages(data, "description") == [("x-default", "Evening"), ("fr", "Soir")]
    assert read_sidecar_fields(data).title == "New"
    # None removes the x-default item only; the reader then takes the first language left.
    cleared = updated_sidecar(data, SidecarFields())
    assert languages(cleared, "title") == [("fr-FR", "Vieux"), ("de", "Alt")]
    assert languages(cleared, "description") == [("fr", "Soir")]
    # A property with nothing left is removed.
    only_default = updated_sidecar(None, SidecarFields(title="T"))
    assert forms(updated_sidecar(only_default, SidecarFields()), DC, "title") == 0


def test_the_other_keyword_lists_the_reader_takes_tags_from_are_luna_s_too():
    """A tag removed in luna must not come back from a list luna did not write."""
    existing = xmp_packet(
        '<rdf:Description rdf:about="" xmlns:MicrosoftPhoto="http://ns.microsoft.com/photo/1.0/"'
        ' xmlns:mwg-kw="http://www.metadataworkinggroup.com/schemas/keywords/">'
        "<MicrosoftPhoto:LastKeywordXMP><rdf:Bag><rdf:li>Old/Tag</rdf:li></rdf:Bag>"
        "</MicrosoftPhoto:LastKeywordXMP>"
        '<mwg-kw:Keywords rdf:parseType="Resource"><mwg-kw:Hierarchy><rdf:Bag>'
        '<rdf:li rdf:parseType="Resource"><mwg-kw:Keyword>Older</mwg-kw:Keyword></rdf:li>'
        "</rdf:Bag></mwg-kw:Hierarchy></mwg-kw:Keywords>"
        "</rdf:Description>"
    )
    data = updated_sidecar(existing, SidecarFields(tags=("New/Tag",)))
    assert read_sidecar_fields(data).tags == ("New/Tag",)
    [description] = descriptions(tree(data))
    listed = description.find(f"{{{MICROSOFT_PHOTO}}}LastKeywordXMP/{{{RDF}}}Bag")
    assert [li.text for li in listed] == ["New/Tag"]  # kept up to date, as Windows writes it
    assert forms(data, MWG_KW, "Keywords") == 0
    # A sidecar without LastKeywordXMP does not get one.
    fresh = updated_sidecar(None, SidecarFields(tags=("a",)))
    assert forms(fresh, MICROSOFT_PHOTO, "LastKeywordXMP") == 0


@pytest.mark.parametrize(
    "existing",
    [
        # No rdf:Description, an empty rdf:RDF, no rdf:RDF, a bare rdf:RDF in RDF's default
        # namespace, Windows line ends, a Description in the old unprefixed style.
        f'<x:xmpmeta xmlns:x="adobe:ns:meta/">\n <rdf:RDF xmlns:rdf="{RDF}">\n </rdf:RDF>\n'
        "</x:xmpmeta>\n",
        f'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="{RDF}"/></x:xmpmeta>',
        '<x:xmpmeta xmlns:x="adobe:ns:meta/">\n</x:xmpmeta>',
        f'<RDF xmlns="{RDF}"><Description about=""/></RDF>',
        f'<x:xmpmeta xmlns:x="adobe:ns:meta/">\r\n <rdf:RDF xmlns:rdf="{RDF}">\r\n'
        '  <rdf:Description rdf:about="">\r\n  </rdf:Description>\r\n </rdf:RDF>\r\n'
        "</x:xmpmeta>\r\n",
        '<?xml version="1.0" encoding="UTF-8"?>\n<!-- a comment -->\n'
        f'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="{RDF}">'
        '<rdf:Description rdf:about="" xmlns:xmp="http://ns.adobe.com/xap/1.0/"><xmp:Rating>1'
        "</xmp:Rating></rdf:Description></rdf:RDF></x:xmpmeta><!-- after -->\n",
    ],
    ids=["no-description", "empty-rdf", "no-rdf", "bare-rdf", "crlf", "one-line"],
)  # fmt: skip
def test_unusual_layouts(existing):
    data = updated_sidecar(existing.encode(), EVERYTHING)
    assert read_sidecar_fields(data) == EVERYTHING
    assert updated_sidecar(data, EVERYTHING) == data
    emptied = updated_sidecar(data, SidecarFields())
    assert read_sidecar_fields(updated_sidecar(emptied, EVERYTHING)) == EVERYTHING
    if "\r\n" in existing:
        assert data.count(b"\n") == data.count(b"\r\n")  # new lines as the file has them
    for outside in ("<?xml", "<!-- a comment -->", "<!-- after -->"):
        assert (outside in existing) == (outside.encode() in data)


def test_a_utf16_sidecar_becomes_utf8_and_a_utf8_mark_stays():
    text = (
        '<?xml version="1.0" encoding="UTF-16"?>'
        + xmp_packet('<rdf:Description rdf:about=""/>').decode()
    )
    data = updated_sidecar(text.encode("utf-16"), SidecarFields(tags=("Zürich",)))
    assert data.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    assert read_sidecar_fields(data).tags == ("Zürich",)
    marked = b"\xef\xbb\xbf" + xmp_packet('<rdf:Description rdf:about=""/>')
    assert updated_sidecar(marked, SidecarFields(rating=1)).startswith(b"\xef\xbb\xbf<x:xmpmeta")


def test_many_edits_in_a_row_stay_exact():
    """Random fields written one after the other over a darktable sidecar: each time the
    sidecar says exactly that, once, and darktable's part is untouched."""
    rng = random.Random(16)
    pool = [fields for fields in ROUND_TRIPS.values()]
    data = DARKTABLE_SIDECAR
    before = foreign(DARKTABLE_SIDECAR)
    for _ in range(60):
        fields = dataclasses.replace(
            rng.choice(pool),
            tags=tuple(sorted(rng.sample(EVERYTHING.tags, rng.randrange(5)), key=str.casefold)),
        )
        data = updated_sidecar(data, fields)
        got = read_sidecar_fields(data)
        assert dataclasses.replace(got, taken=None, utc_offset=None, latitude=None,
                                   longitude=None, altitude=None) == dataclasses.replace(
            fields, taken=None, utc_offset=None, latitude=None, longitude=None, altitude=None
        )  # fmt: skip
        assert updated_sidecar(data, fields) == data
        attributes, elements = foreign(data)
        assert {k: v for k, v in attributes.items() if _split(k[1])[0] != EXIF} == {
            k: v for k, v in before[0].items() if _split(k[1])[0] != EXIF
        }
        assert [e for e in elements if _split(e[1])[0] != EXIF] == before[1]


# -- other programs' sidecars --------------------------------------------------------------

DARKTABLE_HISTORY = """\
   <darktable:history>
    <rdf:Seq>
     <rdf:li
      darktable:num="0"
      darktable:operation="rawprepare"
      darktable:enabled="1"
      darktable:modversion="1"
      darktable:params="000000000000000000000000000000000000000000000000ff3f0000"
      darktable:multi_name=""
      darktable:multi_name_hand_edited="0"
      darktable:multi_priority="0"
      darktable:blendop_version="14"
      darktable:blendop_params="gz11eJxjYIAACQYYOOHEgAYY0QVwggZ7CB6pfNoAAMneAtA="/>
     <rdf:li
      darktable:num="1"
      darktable:operation="exposure"
      darktable:enabled="1"
      darktable:modversion="6"
      darktable:params="00000000000080b90000003f00004842000080c001000000"
      darktable:multi_name="mask &amp; blend"
      darktable:multi_name_hand_edited="1"
      darktable:multi_priority="0"
      darktable:blendop_version="14"
      darktable:blendop_params="gz11eJxjYIAACQYYOOHEgAYY0QVwggZ7CB6pfNoAAMneAtA="/>
     <rdf:li
      darktable:num="2"
      darktable:operation="colorbalancergb"
      darktable:enabled="0"
      darktable:modversion="5"
      darktable:params="9a99193e000000000000000000000000"
      darktable:multi_name=""
      darktable:multi_name_hand_edited="0"
      darktable:multi_priority="0"
      darktable:blendop_version="14"
      darktable:blendop_params="gz11eJxjYIAACQYYOOHEgAYY0QVwggZ7CB6pfNoAAMneAtA="/>
    </rdf:Seq>
   </darktable:history>
"""

DARKTABLE_SIDECAR = (
    """\
<?xml version="1.0" encoding="UTF-8"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/" x:xmptk="XMP Core 4.4.0-Exiv2">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about=""
    xmlns:exif="http://ns.adobe.com/exif/1.0/"
    xmlns:xmp="http://ns.adobe.com/xap/1.0/"
    xmlns:xmpMM="http://ns.adobe.com/xap/1.0/mm/"
    xmlns:darktable="http://darktable.sf.net/"
    xmlns:dc="http://purl.org/dc/elements/1.1/"
    xmlns:lr="http://ns.adobe.com/lightroom/1.0/"
   exif:DateTimeOriginal="2019:06:01 14:05:09.000"
   xmp:Rating="1"
   xmpMM:DerivedFrom="IMG_1234.CR2"
   darktable:import_timestamp="63790001234567890"
   darktable:change_timestamp="63790001299999999"
   darktable:export_timestamp="-1"
   darktable:print_timestamp="-1"
   darktable:xmp_version="5"
   darktable:raw_params="0"
   darktable:auto_presets_applied="1"
   darktable:history_end="3"
   darktable:iop_order_version="4"
   darktable:history_basic_hash="c6a4b5bd13da2d3d8e5b1a5b7e2c4f00"
   darktable:history_auto_hash="e9f0b4c2a1d3e5f7a9b1c3d5e7f9a1b3"
   darktable:history_current_hash="0f1e2d3c4b5a69788796a5b4c3d2e1f0">
   <darktable:colorlabels>
    <rdf:Seq>
     <rdf:li>0</rdf:li>
     <rdf:li>2</rdf:li>
    </rdf:Seq>
   </darktable:colorlabels>
   <dc:subject>
    <rdf:Bag>
     <rdf:li>Paris</rdf:li>
     <rdf:li>river</rdf:li>
    </rdf:Bag>
   </dc:subject>
   <lr:hierarchicalSubject>
    <rdf:Bag>
     <rdf:li>Places|France|Paris</rdf:li>
     <rdf:li>river</rdf:li>
    </rdf:Bag>
   </lr:hierarchicalSubject>
   <darktable:masks_history>
    <rdf:Seq/>
   </darktable:masks_history>
"""
    + DARKTABLE_HISTORY
    + """\
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
"""
).encode()

LIGHTROOM_SETTINGS = """\
   crs:Version="15.1"
   crs:ProcessVersion="11.0"
   crs:WhiteBalance="As Shot"
   crs:Temperature="5200"
   crs:Tint="+4"
   crs:Exposure2012="+0.35"
   crs:Contrast2012="+12"
   crs:Highlights2012="-48"
   crs:Shadows2012="+31"
   crs:Whites2012="0"
   crs:Blacks2012="-6"
   crs:Texture="0"
   crs:Clarity2012="+8"
   crs:Dehaze="0"
   crs:Vibrance="+10"
   crs:Saturation="0"
   crs:ParametricShadows="0"
   crs:ParametricDarks="0"
   crs:ParametricLights="0"
   crs:ParametricHighlights="0"
   crs:Sharpness="40"
   crs:LuminanceSmoothing="0"
   crs:ColorNoiseReduction="25"
   crs:LensProfileEnable="1"
   crs:ToneCurveName2012="Linear"
   crs:CameraProfile="Adobe Standard"
   crs:HasSettings="True"
   crs:CropTop="0.041667"
   crs:CropLeft="0"
   crs:CropBottom="1"
   crs:CropRight="0.958333"
   crs:CropAngle="0"
   crs:HasCrop="True"
   crs:AlreadyApplied="False\""""

LIGHTROOM_SIDECAR = (
    '<x:xmpmeta xmlns:x="adobe:ns:meta/"'
    ' x:xmptk="Adobe XMP Core 7.0-c000 1.000000, 0000/00/00-00:00:00        ">\n'
    """\
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about=""
    xmlns:xmp="http://ns.adobe.com/xap/1.0/"
    xmlns:tiff="http://ns.adobe.com/tiff/1.0/"
    xmlns:exif="http://ns.adobe.com/exif/1.0/"
    xmlns:aux="http://ns.adobe.com/exif/1.0/aux/"
    xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/"
    xmlns:xmpMM="http://ns.adobe.com/xap/1.0/mm/"
    xmlns:stEvt="http://ns.adobe.com/xap/1.0/sType/ResourceEvent#"
    xmlns:dc="http://purl.org/dc/elements/1.1/"
    xmlns:crs="http://ns.adobe.com/camera-raw-settings/1.0/"
    xmlns:lr="http://ns.adobe.com/lightroom/1.0/"
   xmp:CreatorTool="Adobe Photoshop Lightroom Classic 12.1 (Macintosh)"
   xmp:ModifyDate="2023-01-14T10:12:44+01:00"
   xmp:CreateDate="2019-06-01T14:05:09.12"
   xmp:MetadataDate="2023-01-14T10:12:44+01:00"
   xmp:Rating="3"
   xmp:Label="Red"
   tiff:Make="Canon"
   tiff:Model="Canon EOS 5D Mark IV"
   exif:ExposureTime="1/250"
   exif:FNumber="8/1"
   exif:ISOSpeedRatings="100"
   aux:Lens="EF24-70mm f/2.8L II USM"
   photoshop:DateCreated="2019-06-01T14:05:09.12"
   xmpMM:DocumentID="xmp.did:4f2b1c7e-9a3d-4e5f-8b6a-1c2d3e4f5a6b"
   xmpMM:OriginalDocumentID="C1F0A1B2C3D4E5F60718293A4B5C6D7E"
   xmpMM:InstanceID="xmp.iid:4f2b1c7e-9a3d-4e5f-8b6a-1c2d3e4f5a6b"
"""
    + LIGHTROOM_SETTINGS
    + """>
   <crs:ToneCurvePV2012>
    <rdf:Seq>
     <rdf:li>0, 0</rdf:li>
     <rdf:li>64, 60</rdf:li>
     <rdf:li>192, 196</rdf:li>
     <rdf:li>255, 255</rdf:li>
    </rdf:Seq>
   </crs:ToneCurvePV2012>
   <crs:ToneCurvePV2012Red>
    <rdf:Seq>
     <rdf:li>0, 0</rdf:li>
     <rdf:li>255, 255</rdf:li>
    </rdf:Seq>
   </crs:ToneCurvePV2012Red>
   <xmpMM:History>
    <rdf:Seq>
     <rdf:li
      stEvt:action="derived"
      stEvt:parameters="converted from image/x-canon-cr2 to image/dng"/>
     <rdf:li
      stEvt:action="saved"
      stEvt:instanceID="xmp.iid:4f2b1c7e-9a3d-4e5f-8b6a-1c2d3e4f5a6b"
      stEvt:when="2023-01-14T10:12:44+01:00"
      stEvt:softwareAgent="Adobe Photoshop Lightroom Classic 12.1 (Macintosh)"
      stEvt:changed="/metadata"/>
    </rdf:Seq>
   </xmpMM:History>
   <dc:subject>
    <rdf:Bag>
     <rdf:li>France</rdf:li>
     <rdf:li>Paris</rdf:li>
     <rdf:li>Places</rdf:li>
    </rdf:Bag>
   </dc:subject>
   <lr:hierarchicalSubject>
    <rdf:Bag>
     <rdf:li>Places|France|Paris</rdf:li>
    </rdf:Bag>
   </lr:hierarchicalSubject>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
"""
).encode()

FOREIGN_PREFIXES = {"darktable", "xmpMM", "crs", "aux", "stEvt", "tiff", "photoshop", "x"}


@pytest.mark.parametrize(
    "sidecar", [DARKTABLE_SIDECAR, LIGHTROOM_SIDECAR], ids=["darktable", "lightroom"]
)
def test_other_programs_sidecars_keep_everything_of_theirs(sidecar):
    # Read as luna imports it: one tag for Places|France|Paris and the levels beside it.
    assert "Places/France/Paris" in read_sidecar_fields(sidecar).tags
    assert "Paris" not in read_sidecar_fields(sidecar).tags
    fields = SidecarFields(tags=("Places/France/Paris", "Holidays/2019"), rating=5)
    data = updated_sidecar(sidecar, fields)
    assert foreign(data) == foreign(sidecar)
    before, after = declared_prefixes(sidecar), declared_prefixes(data)
    assert before <= after
    assert {p for p, _ in after if p in FOREIGN_PREFIXES} == {
        p for p, _ in before if p in FOREIGN_PREFIXES
    }
    got = read_sidecar_fields(data)
    assert (got.tags, got.rating) == (("Holidays/2019", "Places/France/Paris"), 5)
    assert updated_sidecar(data, fields) == data
    # The text of everything else is as it was, down to its layout.
    if sidecar is DARKTABLE_SIDECAR:
        assert DARKTABLE_HISTORY.encode() in data
        assert b'\n   xmp:Rating="5"\n   xmpMM:DerivedFrom="IMG_1234.CR2"\n' in data
    else:
        assert LIGHTROOM_SETTINGS.encode() in data
        # The rating replaced where Lightroom wrote it; the label, which luna does not
        # have, removed.
        assert b'\n   xmp:MetadataDate="2023-01-14T10:12:44+01:00"\n   xmp:Rating="5"\n' in data
        assert forms(data, XMP, "Rating") == 1 and forms(data, XMP, "Label") == 0
    head = sidecar[: sidecar.index(b"    xmlns:")]  # up to the namespaces luna adds to
    assert data.startswith(head)


def test_a_darktable_sidecar_diff_touches_only_luna_s_lines():
    fields = SidecarFields(tags=("Places/France/Paris", "river"), rating=1)
    data = updated_sidecar(DARKTABLE_SIDECAR, fields)
    # The tags and rating darktable wrote, in luna's order: only digiKam's list and luna's
    # record of the tags it wrote are new.
    before, after = DARKTABLE_SIDECAR.decode().splitlines(), data.decode().splitlines()
    diff = list(difflib.unified_diff(before, after, lineterm="", n=0))[2:]
    assert [line for line in diff if line.startswith("-")] == []
    assert [line[1:].strip() for line in diff if line.startswith("+")] == [
        'xmlns:digiKam="http://www.digikam.org/ns/1.0/"',
        'xmlns:luna="http://luna.invalid/ns/1.0/"',
        "<digiKam:TagsList>",
        "<rdf:Seq>",
        "<rdf:li>Places/France/Paris</rdf:li>",
        "<rdf:li>river</rdf:li>",
        "</rdf:Seq>",
        "</digiKam:TagsList>",
        "<luna:Tags>",
        "<rdf:Bag>",
        "<rdf:li>Places/France/Paris</rdf:li>",
        "<rdf:li>river</rdf:li>",
        "</rdf:Bag>",
        "</luna:Tags>",
        "<luna:Label>none</luna:Label>",
    ]


# -- ExifTool reads what luna writes -------------------------------------------------------


def exiftool_json(path, *options) -> dict:
    done = subprocess.run(
        [EXIFTOOL, "-j", "-G1", "-a", *options, str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    [found] = json.loads(done.stdout)
    return found


@requires_exiftool
def test_exiftool_reads_every_field(tmp_path):
    path = tmp_path / "IMG_1.jpg.xmp"
    path.write_bytes(updated_sidecar(None, EVERYTHING))
    found = exiftool_json(path, "-struct")
    assert found["XMP-dc:Subject"] == ["日本", "Alice", "Paris", "river"]
    assert found["XMP-lr:HierarchicalSubject"] == [
        "Café|日本",
        "People|Family|Alice",
        "Places|France|Paris",
        "river",
    ]
    assert found["XMP-digiKam:TagsList"] == list(EVERYTHING.tags)
    assert found["XMP-xmp:Rating"] == 4
    assert found["XMP-xmp:Label"] == "Purple"
    assert found["XMP-digiKam:PickLabel"] == 3
    assert found["XMP-dc:Title"] == "Tour Eiffel & <co>"
    assert found["XMP-dc:Description"] == 'He said "bonjour"'
    assert found["XMP-exif:DateTimeOriginal"] == "2019:06:01 14:05:09+02:00"
    # luna's own namespace, read as ExifTool reads any namespace it does not know.
    assert found["XMP-luna:Flag"] == "pick"
    assert found["XMP-luna:Albums"] == [
        {"Name": "Best of 2019"},
        {"Name": "Family", "Owner": "anna"},
    ]
    assert found["XMP-luna:Events"] == [
        {
            "Name": "Paris trip",
            "Start": "2019:06:01 08:00:00+02:00",
            "End": "2019:06:03 20:00:00+02:00",
            "Description": "By train",
        }
    ]
    numbers = exiftool_json(path, "-n")
    assert numbers["XMP-exif:GPSLatitude"] == pytest.approx(48.8566, abs=1e-9)
    assert numbers["XMP-exif:GPSLongitude"] == pytest.approx(2.3522, abs=1e-9)
    assert numbers["XMP-exif:GPSAltitude"] == 12.5
    assert numbers["XMP-exif:GPSAltitudeRef"] == 1  # below sea level
    assert numbers["Composite:GPSAltitude"] == -12.5
    assert numbers["XMP-exif:GPSVersionID"] == "2.2.0.0"
    assert numbers["XMP-luna:EventsName"] == "Paris trip"
    for found_here in (found, numbers):
        assert not [key for key in found_here if "Warning" in key or "Error" in key]
    validated = exiftool_json(path, "-validate", "-warning", "-error")
    assert validated["ExifTool:Validate"] == "OK", validated


@requires_exiftool
def test_exiftool_reads_a_rejected_photo(tmp_path):
    path = tmp_path / "IMG_1.xmp"
    path.write_bytes(updated_sidecar(None, SidecarFields(rating=2, flag="reject")))
    found = exiftool_json(path)
    assert (found["XMP-xmp:Rating"], found["XMP-luna:Rating"]) == (-1, 2)
    assert found["XMP-digiKam:PickLabel"] == 1


@requires_exiftool
@pytest.mark.parametrize(
    "sidecar", [DARKTABLE_SIDECAR, LIGHTROOM_SIDECAR], ids=["darktable", "lightroom"]
)
def test_exiftool_finds_nothing_wrong_in_edited_sidecars(tmp_path, sidecar):
    before, after = tmp_path / "before.xmp", tmp_path / "after.xmp"
    before.write_bytes(sidecar)
    after.write_bytes(updated_sidecar(sidecar, EVERYTHING))
    # darktable's own empty masks_history is a minor warning already: nothing is added.
    checks = ("-validate", "-warning", "-error")
    assert exiftool_json(after, *checks) == exiftool_json(before, *checks) | {
        "SourceFile": str(after)
    }
    old, new = exiftool_json(before, "-struct"), exiftool_json(after, "-struct")
    # Every tag of the program's own is read the same; luna's are luna's.
    mine = ("XMP-dc:", "XMP-lr:", "XMP-digiKam:", "XMP-luna:", "XMP-xmp:Rating", "XMP-xmp:Label")
    supplementary = ("XMP-exif:DateTimeOriginal", "XMP-exif:GPS", "Composite:GPS")
    skip = ("System:", "SourceFile", *mine, *supplementary)
    assert {k: v for k, v in old.items() if not k.startswith(skip)} == {
        k: v for k, v in new.items() if not k.startswith(skip)
    }
    assert new["XMP-digiKam:TagsList"] == list(EVERYTHING.tags)


@requires_exiftool
def test_a_sidecar_exiftool_wrote_is_edited(tmp_path):
    path = tmp_path / "et.xmp"
    subprocess.run(
        [EXIFTOOL, "-q", "-o", str(path), "-XMP-dc:Subject=old", "-XMP-xmp:Rating=2",
         "-XMP-dc:Title=Old", "-XMP-dc:Title-fr=Vieux", "-XMP-photoshop:City=Paris"],
        check=True, timeout=60,
    )  # fmt: skip
    existing = path.read_bytes()
    assert len(descriptions(tree(existing))) > 1  # ExifTool writes one per namespace
    path.write_bytes(updated_sidecar(existing, EVERYTHING))
    assert exiftool_json(path, "-validate", "-warning", "-error")["ExifTool:Validate"] == "OK"
    found = exiftool_json(path, "-struct")
    assert found["XMP-xmp:Rating"] == 4 and found["XMP-photoshop:City"] == "Paris"
    assert found["XMP-dc:Title-fr"] == "Vieux"
    assert read_sidecar_fields(path.read_bytes()) == EVERYTHING


# -- what other programs write, as luna reads it -------------------------------------------


@pytest.mark.parametrize(
    ("properties", "expected"),
    [
        ('xmp:Rating="-1"', {"rating": None, "flag": "reject"}),  # Lightroom's reject
        ('xmp:Rating="3" digiKam:PickLabel="3"', {"rating": 3, "flag": "pick"}),
        ('digiKam:PickLabel="2"', {}),  # pending: no flag
        ('xmp:Rating="2.0" xmp:Label="Rot"', {"rating": 2}),  # German Lightroom
        ('xmp:Label="To Delete"', {}),  # not a colour: label None
        ('xmp:Label=" purple "', {"label": "purple"}),
        # Picked in luna, rejected in Lightroom since: Lightroom's word is the newer one.
        ('luna:Flag="pick" xmp:Rating="-1" luna:Rating="4"', {"rating": 4, "flag": "reject"}),
        # Rejected in luna, then given stars in Lightroom: no longer rejected...
        ('luna:Flag="reject" xmp:Rating="3" luna:Rating="4"', {"rating": 3}),
        # ... unless digiKam's pick label still says so.
        ('luna:Flag="reject" xmp:Rating="3" digiKam:PickLabel="1"',
         {"rating": 3, "flag": "reject"}),
    ],
)  # fmt: skip
def test_flags_and_ratings_of_other_programs(properties, expected):
    data = xmp_packet(
        '<rdf:Description rdf:about="" xmlns:xmp="http://ns.adobe.com/xap/1.0/"'
        f' xmlns:digiKam="{DIGIKAM}" xmlns:luna="{LUNA}" {properties}/>'
    )
    assert read_sidecar_fields(data) == SidecarFields(**expected)
    assert parse_xmp(data) is not None


# -- hostile sidecars ----------------------------------------------------------------------


def _deep() -> bytes:
    opened = "".join(f"<a{i}:x xmlns:a{i}='urn:{i}'>" for i in range(MAX_DEPTH + 10))
    closed = "".join(f"</a{i}:x>" for i in reversed(range(MAX_DEPTH + 10)))
    title = f'<dc:title xmlns:dc="{DC}">{opened}{closed}</dc:title>'
    return xmp_packet(f'<rdf:Description rdf:about="">{title}</rdf:Description>')


def _laughs() -> bytes:
    entities = '<!ENTITY lol "lol">' + "".join(
        f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10 if i else "&lol;" * 10}">' for i in range(10)
    )
    return (
        f'<?xml version="1.0"?><!DOCTYPE x:xmpmeta [{entities}]>'
        + xmp_packet('<rdf:Description rdf:about="" xmlns:dc="NS"><dc:title>&lol9;</dc:title>'
                     "</rdf:Description>", DC).decode()
    ).encode()  # fmt: skip


HOSTILE = {
    "billion laughs": _laughs(),
    "external entity": (
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
        b'<x:xmpmeta xmlns:x="adobe:ns:meta/">&e;</x:xmpmeta>'
    ),
    "too deep": _deep(),
    "too large": xmp_packet('<rdf:Description rdf:about=""/>') + b" " * MAX_PACKET,
    "too many elements": xmp_packet(
        f'<rdf:Description rdf:about="" xmlns:dc="{DC}"><dc:subject><rdf:Bag>'
        + "<rdf:li>a</rdf:li>" * (MAX_ELEMENTS + 1)
        + "</rdf:Bag></dc:subject></rdf:Description>"
    ),
    "binary garbage": random.Random(7).randbytes(20_000),
    "not XMP": b"<html><body>IMG_1.jpg</body></html>",
    "not closed": xmp_packet('<rdf:Description rdf:about=""/>')[:-20],
}


@pytest.mark.parametrize("data", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_sidecars_are_refused_quickly(data):
    began = time.monotonic()
    with pytest.raises(SidecarRefused, match="not XMP luna can safely edit"):
        updated_sidecar(data, EVERYTHING)
    assert read_sidecar_fields(data) is None
    assert time.monotonic() - began < 2


def test_text_around_the_xmp_that_is_not_xml_is_refused_though_readable():
    """The reader skips garbage around a packet (as in a file); an editor cannot know what
    it is for, and would have to keep it."""
    data = b"GARBAGE" + xmp_packet('<rdf:Description rdf:about=""/>') + b"\n"
    assert read_sidecar_fields(data) == SidecarFields()
    with pytest.raises(SidecarRefused, match="text around the XMP"):
        updated_sidecar(data, SidecarFields(rating=1))


def test_a_refusal_is_one_line_saying_why():
    with pytest.raises(SidecarRefused) as caught:
        updated_sidecar(HOSTILE["billion laughs"], SidecarFields())
    assert str(caught.value) == (
        "not XMP luna can safely edit (it declares a DTD); it was left as it is"
    )
