"""XMP: keywords, dates, position, title, rating and camera from an XMP packet, whether
embedded in a file (JPEG APP1, TIFF tag 700, PNG iTXt, HEIC/JXL boxes) or in a sidecar
(IMG_1.jpg.xmp, IMG_1.xmp).

XMP is RDF/XML, and writers spell the same property in different ways: as an attribute of
rdf:Description or as an element, in Bag/Seq/Alt containers, under any namespace prefix,
even through rdf:nodeID references. So the packet is parsed as XML and properties are
matched by namespace URI, never by prefix or with regular expressions over the text.

The packets come from untrusted files: a DTD is refused outright (so no entity can expand:
billion laughs, external entities), the packet size and the element depth are capped,
only the properties read here are kept in memory, and garbage gives None, never an error.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from xml.parsers import expat

from luna.ingest.extract.dates import EARLIEST_YEAR, parse_exif_datetime, parse_offset
from luna.ingest.extract.facts import Extracted

# Real packets are a few KB, Lightroom sidecars with long edit histories a few hundred.
# A larger packet is refused unread: it is hostile, or Photoshop's runaway
# photoshop:DocumentAncestors list, and parsing it would slow every import of the file.
MAX_PACKET = 4 * 1024 * 1024
# Real XMP nests about 20 deep (MWG regions, keyword hierarchies); deeper is hostile.
MAX_DEPTH = 200
# Elements kept (those of the properties read here); a packet needing more is hostile.
MAX_ELEMENTS = 100_000
# Keywords and keyword paths kept from one packet: real photos have tens, and each one
# costs a tag lookup at import (Extracted.add_keyword is linear in the keywords so far).
MAX_KEYWORDS = 1000

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
XML = "http://www.w3.org/XML/1998/namespace"
DC = "http://purl.org/dc/elements/1.1/"
XMP = "http://ns.adobe.com/xap/1.0/"
EXIF = "http://ns.adobe.com/exif/1.0/"
TIFF = "http://ns.adobe.com/tiff/1.0/"
PHOTOSHOP = "http://ns.adobe.com/photoshop/1.0/"
LIGHTROOM = "http://ns.adobe.com/lightroom/1.0/"
DIGIKAM = "http://www.digikam.org/ns/1.0/"
DARKTABLE = "http://darktable.sf.net/"
MICROSOFT_PHOTO = "http://ns.microsoft.com/photo/1.0/"
MWG_KW = "http://www.metadataworkinggroup.com/schemas/keywords/"
PHOTO_MECHANIC = "http://ns.camerabits.com/photomechanic/1.0/"
IPTC_CORE = "http://iptc.org/std/Iptc4xmpCore/1.0/xmlns/"
APPLE_NAMESPACES = "http://ns.apple.com/"  # apple-fi is http://ns.apple.com/faceinfo/1.0/
# luna's own namespace, for what no standard property holds (albums, events, the stars of a
# rejected photo). The .invalid top-level domain is reserved (RFC 2606): nobody else can
# ever own this URI, and it is never fetched.
LUNA = "http://luna.invalid/ns/1.0/"


def _name(namespace: str, local: str) -> str:
    """ElementTree's "{namespace}local" spelling of a qualified name."""
    return f"{{{namespace}}}{local}"


RDF_RDF, RDF_DESCRIPTION, RDF_LI = _name(RDF, "RDF"), _name(RDF, "Description"), _name(RDF, "li")
RDF_CONTAINERS = {_name(RDF, "Bag"), _name(RDF, "Seq"), _name(RDF, "Alt")}
RDF_NODE_ID, RDF_RESOURCE, RDF_VALUE = (_name(RDF, n) for n in ("nodeID", "resource", "value"))
XML_LANG = _name(XML, "lang")

SUBJECT, TITLE, DESCRIPTION = _name(DC, "subject"), _name(DC, "title"), _name(DC, "description")
DATE_TIME_ORIGINAL = _name(EXIF, "DateTimeOriginal")
DATE_TIME_DIGITIZED = _name(EXIF, "DateTimeDigitized")
DATE_CREATED = _name(PHOTOSHOP, "DateCreated")
# Where the photo was taken, in words (IPTC Core's location fields, also IPTC-IIM 2:90-2:101).
CITY, STATE = _name(PHOTOSHOP, "City"), _name(PHOTOSHOP, "State")
COUNTRY = _name(PHOTOSHOP, "Country")
COUNTRY_CODE = _name(IPTC_CORE, "CountryCode")
SUBLOCATION = _name(IPTC_CORE, "Location")  # a place inside the city: "Montmartre"
CREATE_DATE = _name(XMP, "CreateDate")
PHOTO_MECHANIC_TIME = _name(PHOTO_MECHANIC, "TimeCreated")
GPS_LATITUDE, GPS_LONGITUDE = _name(EXIF, "GPSLatitude"), _name(EXIF, "GPSLongitude")
GPS_ALTITUDE, GPS_ALTITUDE_REF = _name(EXIF, "GPSAltitude"), _name(EXIF, "GPSAltitudeRef")
GPS_DATE_TIME = _name(EXIF, "GPSTimeStamp")  # exif:GPSTimeStamp holds GPSDateTime: date and time
RATING, LABEL = _name(XMP, "Rating"), _name(XMP, "Label")
ORIENTATION, MAKE, MODEL = _name(TIFF, "Orientation"), _name(TIFF, "Make"), _name(TIFF, "Model")
IMAGE_WIDTH, IMAGE_HEIGHT = _name(TIFF, "ImageWidth"), _name(TIFF, "ImageLength")
PIXEL_X, PIXEL_Y = _name(EXIF, "PixelXDimension"), _name(EXIF, "PixelYDimension")
MWG_KEYWORDS = _name(MWG_KW, "Keywords")
MWG_HIERARCHY, MWG_KEYWORD = _name(MWG_KW, "Hierarchy"), _name(MWG_KW, "Keyword")
MWG_CHILDREN, MWG_APPLIED = _name(MWG_KW, "Children"), _name(MWG_KW, "Applied")
PICK_LABEL = _name(DIGIKAM, "PickLabel")  # 0 none, 1 rejected, 2 pending, 3 accepted
# Colour labels as digiKam numbers them (0 none, 1 red, 2 orange, 3 yellow, 4 green, 5 blue,
# 6 magenta, 7 gray, 8 black, 9 white) and as darktable does (a list: 0 red, 1 yellow,
# 2 green, 3 blue, 4 purple); Lightroom and Bridge write xmp:Label's words.
COLOR_LABEL = _name(DIGIKAM, "ColorLabel")
DARKTABLE_LABELS = _name(DARKTABLE, "colorlabels")
LUNA_LABEL = _name(LUNA, "Label")  # the label luna last wrote: which of the others changed
LUNA_FLAG, LUNA_RATING = _name(LUNA, "Flag"), _name(LUNA, "Rating")
LUNA_ALBUMS, LUNA_EVENTS = _name(LUNA, "Albums"), _name(LUNA, "Events")
LUNA_TAGS = _name(LUNA, "Tags")
LUNA_NAME, LUNA_OWNER = _name(LUNA, "Name"), _name(LUNA, "Owner")
LUNA_START, LUNA_END = _name(LUNA, "Start"), _name(LUNA, "End")
LUNA_DESCRIPTION = _name(LUNA, "Description")
CONTENT_IDENTIFIER = "ContentIdentifier"  # matched by local name: see _content_identifier

# Hierarchical keyword lists: each item is a path whose levels this character separates.
HIERARCHY_LISTS = (
    (_name(LIGHTROOM, "hierarchicalSubject"), "|"),  # Lightroom, darktable, digiKam
    (_name(DIGIKAM, "TagsList"), "/"),  # digiKam
    (_name(MICROSOFT_PHOTO, "LastKeywordXMP"), "/"),  # Windows Photo Gallery
)

# The properties read below; any other property's subtree is skipped while parsing.
READ_PROPERTIES = frozenset(
    (SUBJECT, TITLE, DESCRIPTION, RATING, LABEL, ORIENTATION, MAKE, MODEL, MWG_KEYWORDS)
    + (DATE_TIME_ORIGINAL, DATE_TIME_DIGITIZED, DATE_CREATED, CREATE_DATE, PHOTO_MECHANIC_TIME)
    + (GPS_LATITUDE, GPS_LONGITUDE, GPS_ALTITUDE, GPS_ALTITUDE_REF, GPS_DATE_TIME)
    + (IMAGE_WIDTH, IMAGE_HEIGHT, PIXEL_X, PIXEL_Y)
    + (CITY, STATE, COUNTRY, COUNTRY_CODE, SUBLOCATION)
    + (PICK_LABEL, LUNA_FLAG, LUNA_RATING, LUNA_ALBUMS, LUNA_EVENTS, LUNA_TAGS)
    + (COLOR_LABEL, DARKTABLE_LABELS, LUNA_LABEL)
    + tuple(name for name, _ in HIERARCHY_LISTS)
)

# The keyword written for a hierarchical path joins its levels with "/": digiKam, Windows
# and most photo managers show hierarchies that way, while Lightroom's "|" is a storage
# format. A level containing "/" itself then reads as two levels; such names are rare.
HIERARCHY_SEPARATOR = "/"

DateValue = tuple[dt.datetime, int | None]

# The metadata keys of the place a file names itself (luna.ops.places: they win over the
# place luna looks up from its position).
PLACE_KEYS = ("city", "state", "country", "country_code", "sublocation")


@dataclass(frozen=True, slots=True)
class LunaEvent:
    """An event as luna writes it in its own namespace (luna:Events)."""

    name: str
    start: DateValue
    end: DateValue | None = None
    description: str = ""


@dataclass(slots=True)
class XmpInfo:
    """What luna reads from one XMP packet; None or empty where the packet says nothing."""

    keywords: list[str] = field(default_factory=list)  # dc:subject, in order, de-duplicated
    # lr:hierarchicalSubject ("A|B|C"), digiKam:TagsList and MicrosoftPhoto:LastKeywordXMP
    # ("A/B/C") and mwg-kw:Keywords trees, each path as its list of levels.
    hierarchical: list[list[str]] = field(default_factory=list)
    # (naive local wall-clock time, minutes east of UTC or None) as in luna.ingest.extract.dates
    date_original: DateValue | None = None  # exif:DateTimeOriginal, else photoshop:DateCreated
    create_date: DateValue | None = None  # xmp:CreateDate, else exif:DateTimeDigitized
    # "day", "month" or "year" for a date written without a time ("2019-09-02", "2019-09",
    # "2019"), which then stands at 00:00 of its first day; None when the time is given.
    date_original_precision: str | None = None
    create_date_precision: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    altitude: float | None = None  # metres, negative below sea level
    gps_utc: dt.datetime | None = None  # the GPS clock's date and time, in UTC
    title: str | None = None
    description: str | None = None
    rating: int | None = None  # -1 (rejected) to 5
    orientation: int | None = None  # 1-8, as EXIF
    make: str | None = None
    model: str | None = None
    label: str | None = None  # a colour label ("Red") or any text
    city: str | None = None  # photoshop:City (IPTC Core's City, also in IPTC-IIM 2:90)
    state: str | None = None  # photoshop:State (2:95), the region
    country: str | None = None  # photoshop:Country (2:101)
    country_code: str | None = None  # Iptc4xmpCore:CountryCode (2:100), ISO 3166 2 or 3 letters
    sublocation: str | None = None  # Iptc4xmpCore:Location (2:92)
    content_identifier: str | None = None  # pairs a Live Photo's still and video
    width: int | None = None  # tiff:ImageWidth, else exif:PixelXDimension (as stored)
    height: int | None = None
    pick_label: int | None = None  # digiKam:PickLabel: 0 none, 1 rejected, 2 pending, 3 accepted
    # The colour label in each program's words, lower case ("" for a label taken off; None
    # where the program's property is absent): xmp:Label's, digiKam's, darktable's first.
    color_labels: dict[str, str] = field(default_factory=dict)
    luna_label: str | None = None  # luna:Label, what luna last wrote ("none" for none)
    # What luna writes in its own namespace (see luna.ingest.xmp_sidecar).
    luna_flag: str | None = None  # luna:Flag, "pick" or "reject" (any other text is None)
    luna_rating: int | None = None  # luna:Rating: the stars of a photo xmp:Rating says is rejected
    # luna:Tags: the tags luna last wrote (None: luna wrote none here); against the
    # keywords now, it tells what another program added or removed since.
    luna_tags: list[str] | None = None
    albums: list[tuple[str, str | None]] = field(default_factory=list)  # (name, owner)
    events: list[LunaEvent] = field(default_factory=list)


def parse_xmp(packet: bytes, problems: list[str] | None = None) -> XmpInfo | None:
    """None if the packet is not parseable XMP (or is refused as hostile). XMP that says
    nothing luna reads, such as an empty <x:xmpmeta/>, gives an empty XmpInfo.

    A packet refused for one of the limits above (size, depth, elements, a DTD) adds why
    to `problems`: the file then lacks what its XMP says, and its record must tell so."""
    try:
        root = _parse_packet(bytes(packet))
    except Refused as exc:
        if problems is not None:
            problems.append(f"XMP ignored: {exc}")
        return None
    except (ValueError, expat.ExpatError):  # UnicodeError is a ValueError too
        return None
    if root is None:
        return None
    try:
        return _read_info(_Properties(root))
    except Exception:  # noqa: BLE001 - a structure no writer produces; the file still counts
        return None


def apply_xmp(info: XmpInfo, out: Extracted, prefix: str) -> None:
    """Fill what `out` lacks from XMP. `prefix` is "xmp" (embedded) or "sidecar".

    Dates are offered as f"{prefix}:DateTimeOriginal" and f"{prefix}:CreateDate", and the
    ranking in facts.DATE_SOURCES decides whether they beat what the file itself said.
    """
    if info.date_original is not None:
        when, offset = info.date_original
        source = f"{prefix}:DateTimeOriginal"
        out.offer_date(when, offset, source, info.date_original_precision)
    if info.create_date is not None:
        when, offset = info.create_date
        out.offer_date(when, offset, f"{prefix}:CreateDate", info.create_date_precision)
    if out.location_source is None and info.latitude is not None and info.longitude is not None:
        out.offer_location(info.latitude, info.longitude, info.altitude, f"{prefix}:GPS")
    if out.gps_utc is None:
        out.gps_utc = info.gps_utc
    # Only where the file itself said nothing. Orientation does not swap out.width and
    # out.height: the extractor that measured the image owns that (the JPEG path already
    # honours embedded XMP orientation), and a sidecar's rotation is an editor's
    # instruction that most viewers of the file itself ignore.
    for key in ("title", "description", "rating", "orientation", "make", "model", "label"):
        _put_absent(out.metadata, key, getattr(info, key))
    for key in PLACE_KEYS:
        _put_absent(out.metadata, key, getattr(info, key))
    _put_absent(out.metadata, "content_identifier", info.content_identifier)
    # Only a file nobody measured (a sidecar's own record) takes the XMP's dimensions.
    if out.width is None and info.width and info.height:
        rotated = info.orientation in (5, 6, 7, 8)
        out.width, out.height = (info.height, info.width) if rotated else (info.width, info.height)
    for keyword in keyword_tags(info):
        out.add_keyword(keyword)


def keyword_tags(info: XmpInfo) -> list[str]:
    """The tags a packet's keywords stand for: each flat dc:subject keyword that is not a
    level of one of its hierarchical keywords, then each hierarchical keyword, its levels
    joined with "/".

    Lightroom, digiKam and darktable write a hierarchical keyword twice: "Places|France|Paris"
    in lr:hierarchicalSubject (or digiKam:TagsList) and "Paris", often "Places" and "France"
    too, in dc:subject for the programs that know no hierarchy. That flat "Paris" is then the
    hierarchical keyword again, not a tag of its own, as digiKam and Lightroom read it. Levels
    are compared regardless of case, as luna compares tags (luna.names.tag_key).
    """
    levels = {_fold(level) for path in info.hierarchical for level in path}
    tags = [keyword for keyword in info.keywords if _fold(keyword) not in levels]
    tags.extend(HIERARCHY_SEPARATOR.join(path) for path in info.hierarchical)
    return tags


def _fold(text: str) -> str:
    return unicodedata.normalize("NFC", text).casefold()


def _put_absent(metadata: dict, key: str, value) -> None:
    if value is not None and key not in metadata:
        metadata[key] = value


# -- from bytes to an element tree ---------------------------------------------------------

# Byte order marks; UTF-32 first, as its little-endian mark begins with UTF-16's.
_BOMS = (
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xef\xbb\xbf", "utf-8"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\xfe\xff", "utf-16-be"),
)
# Wide text without a mark, recognised by the layout of its first two characters, "<" and
# another (XML 1.0, appendix F). Two are needed: a UTF-8 packet after a stray NUL byte
# (an identifier's terminator, sliced one byte too early) also starts "\x00<".
_WIDE_STARTS = (
    (re.compile(b"\x00\x00\x00<\x00\x00\x00[^\x00]"), "utf-32-be"),
    (re.compile(b"<\x00\x00\x00[^\x00]\x00\x00\x00"), "utf-32-le"),
    (re.compile(b"\x00<\x00[^\x00]"), "utf-16-be"),
    (re.compile(b"<\x00[^\x00]\x00"), "utf-16-le"),
)
_BOM_SEARCH = 64 * 1024  # how far into leading garbage a marked packet is looked for

# Where the XMP starts: x:xmpmeta (x:xapmeta in the oldest packets), or a bare rdf:RDF. The xpacket
# processing instructions, an <?xml?> declaration and leading garbage are all before it.
_ROOT_START = re.compile(r"<((?:[\w.-]+:)?(?:xmpmeta|xapmeta|RDF))[\s/>]")
# Characters XML 1.0 forbids; writers leave control characters in xpacket headers
# (begin="\x1a") and in text. Removed rather than letting expat refuse the packet.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_LATIN1_ESCAPES = re.compile("[\udc80-\udcff]")


def _parse_packet(packet: bytes) -> ET.Element | None:
    if not packet:
        return None
    text = packet_text(packet)
    span = root_span(text)
    if span is None:
        return None
    start, end = span
    root = _parse_xml(clean_markup(text[start:end] if end is not None else text[start:]))
    local = root.tag.rpartition("}")[2]
    return root if root.tag == RDF_RDF or local in ("xmpmeta", "xapmeta") else None


def packet_text(packet: bytes) -> str:
    """A packet's text, if luna may parse it at all: Refused when it is larger than
    MAX_PACKET or declares a DTD."""
    if len(packet) > MAX_PACKET:
        raise Refused(f"larger than {MAX_PACKET // 2**20} MB")
    text = _decode(packet)
    # A DTD is what entity expansion needs, and XMP has no use for one: a packet that
    # declares one is refused before any parsing.
    if "<!DOCTYPE" in text or "<!ENTITY" in text:
        raise Refused("it declares a DTD")
    return text


def _decode(packet: bytes) -> str:
    """The packet's text: UTF-8, or UTF-16/32 when a byte order mark or the first "<" says
    so. Bytes that are not UTF-8 are read as Latin-1, one by one, as old writers meant."""
    for bom, codec in _BOMS:
        if packet.startswith(bom):
            return packet[len(bom) :].decode(codec, "replace")
    for bom, codec in _BOMS:  # a marked packet after leading garbage
        at = packet.find(bom + "<".encode(codec), 0, _BOM_SEARCH)
        if at >= 0:
            return packet[at + len(bom) :].decode(codec, "replace")
    for start, codec in _WIDE_STARTS:
        if start.match(packet):
            return packet.decode(codec, "replace")
    text = packet.decode("utf-8", "surrogateescape")
    return _LATIN1_ESCAPES.sub(lambda m: chr(ord(m.group()) - 0xDC00), text)


def root_span(text: str) -> tuple[int, int | None] | None:
    """Where the XMP root element is in a packet's text: its start, and the end of its
    closing tag (None when there is none: a truncated packet). What surrounds it (xpacket
    wrappers, garbage, padding) is not XMP."""
    start = _ROOT_START.search(text)
    if start is None:
        return None
    closing = "</" + start.group(1)
    end = text.rfind(closing)
    end = text.find(">", end) if end >= start.start() else -1
    return start.start(), (end + 1 if end >= 0 else None)


def clean_markup(markup: str) -> str:
    """The markup without the characters XML forbids, which expat would refuse."""
    return _NOT_XML.sub("", markup)


class Refused(ValueError):
    """The packet asks for something XMP never needs (a DTD, an entity, extreme depth)."""


def _refuse(*_args) -> None:
    raise Refused("it declares a DTD or an entity")


def safe_parser():
    """An expat parser ("namespace}local" names) on which every DTD hook refuses: the text
    was checked for <!DOCTYPE already, and this makes entity expansion impossible even if
    that check were bypassed."""
    parser = expat.ParserCreate(namespace_separator="}")
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.StartDoctypeDeclHandler = _refuse
    parser.EntityDeclHandler = _refuse
    parser.UnparsedEntityDeclHandler = _refuse
    parser.ExternalEntityRefHandler = _refuse  # type: ignore[assignment]  # it raises
    return parser


def _parse_xml(text: str) -> ET.Element:
    """Parse with a safe_parser. Only the properties luna reads are kept (see
    _FilteringBuilder)."""
    builder = _FilteringBuilder()
    parser = safe_parser()
    parser.buffer_text = True  # one text node per element, CDATA sections included
    parser.StartElementHandler = builder.start
    parser.EndElementHandler = builder.end
    parser.CharacterDataHandler = builder.data
    parser.Parse(text, True)
    return builder.close()


def _clark(expat_name: str) -> str:
    """expat's "namespace}local" to ElementTree's "{namespace}local"."""
    return "{" + expat_name if "}" in expat_name else expat_name


class _FilteringBuilder:
    """An ElementTree builder that skips the subtrees of properties luna does not read.

    Lightroom's develop settings and Photoshop's DocumentAncestors can hold many thousand
    elements; keeping only what is read bounds memory by what matters, not by the packet.
    """

    def __init__(self) -> None:
        self.tree = ET.TreeBuilder()
        self.open: list[str] = []  # the kept elements from the root down to the current one
        self.depth = 0  # including skipped elements
        self.skip_from: int | None = None  # depth of the skipped property being read
        self.kept = 0

    def start(self, name: str, attrs: dict) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise Refused(f"nested more than {MAX_DEPTH} deep")
        if self.skip_from is not None:
            return
        tag = _clark(name)
        if self._is_unread_property(tag):
            self.skip_from = self.depth
            return
        self.kept += 1
        if self.kept > MAX_ELEMENTS:
            raise Refused(f"more than {MAX_ELEMENTS} elements")
        self.open.append(tag)
        self.tree.start(tag, {_clark(k): v for k, v in attrs.items()})

    def end(self, name: str) -> None:
        self.depth -= 1
        if self.skip_from is not None:
            if self.depth < self.skip_from:
                self.skip_from = None
            return
        self.open.pop()
        self.tree.end(_clark(name))

    def data(self, text: str) -> None:
        if self.skip_from is None:
            self.tree.data(text)

    def close(self) -> ET.Element:
        return self.tree.close()

    def _is_unread_property(self, tag: str) -> bool:
        """A property of a top-level rdf:Description that nothing here reads."""
        if len(self.open) < 2 or self.open[-1] != RDF_DESCRIPTION or self.open[-2] != RDF_RDF:
            return False
        return tag not in READ_PROPERTIES and not tag.endswith("}" + CONTENT_IDENTIFIER)


# -- from the tree to property values ------------------------------------------------------


class _Properties:
    """The properties of the described resource, first occurrence of each name winning.

    Every top-level rdf:Description counts (writers split namespaces across several, with
    rdf:about="" or a URI or, in f-spot's case, an rdf:nodeID), attribute and element forms
    alike. A property that is only an rdf:nodeID reference is replaced by the node it names.
    """

    def __init__(self, root: ET.Element) -> None:
        self.values: dict[str, ET.Element | str] = {}
        nodes: dict[str, ET.Element] = {}
        for rdf in root.iter(RDF_RDF):
            for node in rdf:
                node_id = node.get(RDF_NODE_ID)
                if node_id:
                    nodes.setdefault(node_id, node)
                if node.tag == RDF_DESCRIPTION:
                    self._collect(node)
        for name, value in self.values.items():
            if isinstance(value, ET.Element) and _is_reference(value):
                self.values[name] = nodes.get(value.get(RDF_NODE_ID) or "", value)

    def _collect(self, description: ET.Element) -> None:
        for name, value in description.attrib.items():
            if _is_property_name(name):
                self.values.setdefault(name, value)
        for child in description:
            self.values.setdefault(child.tag, child)

    def get(self, name: str) -> ET.Element | str | None:
        return self.values.get(name)

    def texts(self, name: str) -> list[str]:
        return _texts(self.get(name))

    def text(self, name: str) -> str | None:
        texts = _texts(self.get(name))
        return texts[0] if texts else None

    def language_alternative(self, name: str) -> str | None:
        return _language_alternative(self.get(name))


def _is_property_name(attribute: str) -> bool:
    """Attributes in a namespace other than rdf: and xml: are properties."""
    namespace = attribute[1:].partition("}")[0] if attribute.startswith("{") else None
    return namespace is not None and namespace not in (RDF, XML)


def _is_reference(element: ET.Element) -> bool:
    return len(element) == 0 and not (element.text or "").strip() and RDF_NODE_ID in element.attrib


def _container(value: ET.Element) -> ET.Element | None:
    """The rdf:Bag, rdf:Seq or rdf:Alt holding an array's items (the value itself when a
    nodeID led straight to one, or when a writer put rdf:li items with no container)."""
    if value.tag in RDF_CONTAINERS:
        return value
    for child in value:
        if child.tag in RDF_CONTAINERS:
            return child
    return value if value.find(RDF_LI) is not None else None


def _items(value) -> list[ET.Element]:
    """The rdf:li elements of an array value; none for a missing or simple value."""
    if not isinstance(value, ET.Element):
        return []
    container = _container(value)
    return [] if container is None else container.findall(RDF_LI)


def _texts(value) -> list[str]:
    """An array's item texts in order, or a simple value as a list of one."""
    if value is None:
        return []
    if isinstance(value, str):
        text = _clean(value)
        return [text] if text else []
    if _container(value) is None:
        text = _simple(value)
        return [text] if text else []
    return [text for li in _items(value) if (text := _simple(li))]


def _simple(element: ET.Element) -> str | None:
    """The text of a simple value: element text, rdf:resource, or a qualified rdf:value;
    a language alternative nested in a list item gives its default text."""
    if len(element) == 0:
        text = element.text
        if not (text or "").strip():
            text = element.get(RDF_RESOURCE) or element.get(RDF_VALUE)
        return _clean(text)
    if _container(element) is not None:
        return _language_alternative(element)
    value = element.find(f".//{RDF_VALUE}")
    return _clean(value.text) if value is not None else None


def _language_alternative(value) -> str | None:
    """An rdf:Alt's "x-default" text, else its first non-empty one; or a simple text."""
    if value is None or isinstance(value, str) or _container(value) is None:
        texts = _texts(value)
        return texts[0] if texts else None
    items = [(li.get(XML_LANG, ""), _simple(li)) for li in _items(value)]
    for language, text in items:
        if language.lower() == "x-default" and text:
            return text
    return next((text for _, text in items if text), None)


def _field(struct: ET.Element, name: str) -> ET.Element | str | None:
    """A field of an XMP struct in any of RDF's spellings: rdf:parseType="Resource" (fields
    are child elements), a nested rdf:Description (its children or attributes), or fields as
    attributes of the element itself."""
    if name in struct.attrib:
        return struct.attrib[name]
    child = struct.find(name)
    if child is not None:
        return child
    description = struct.find(RDF_DESCRIPTION)
    return _field(description, name) if description is not None else None


def _clean(text: str | None) -> str | None:
    if text is None:
        return None
    return text.strip() or None


def _unique(values) -> list:
    seen, unique = set(), []
    for value in values:
        key = tuple(value) if isinstance(value, list) else value
        if key not in seen:
            seen.add(key)
            unique.append(value)
    return unique


# -- the values luna wants -----------------------------------------------------------------


def _read_info(props: _Properties) -> XmpInfo:
    latitude, longitude, altitude = _position(props)
    original, created = _date_original_text(props), _create_date_text(props)
    return XmpInfo(
        keywords=_unique(props.texts(SUBJECT))[:MAX_KEYWORDS],
        hierarchical=_hierarchies(props),
        date_original=parse_xmp_date(original),
        create_date=parse_xmp_date(created),
        date_original_precision=xmp_date_precision(original),
        create_date_precision=xmp_date_precision(created),
        latitude=latitude,
        longitude=longitude,
        altitude=altitude,
        gps_utc=_gps_utc(props.text(GPS_DATE_TIME)),
        title=props.language_alternative(TITLE),
        description=props.language_alternative(DESCRIPTION),
        rating=_rating(props.text(RATING)),
        orientation=_orientation(props.text(ORIENTATION)),
        make=props.text(MAKE),
        model=props.text(MODEL),
        label=props.text(LABEL),
        city=props.text(CITY),
        state=props.text(STATE),
        country=props.text(COUNTRY),
        country_code=props.text(COUNTRY_CODE),
        sublocation=props.text(SUBLOCATION),
        content_identifier=_content_identifier(props),
        width=_dimension(props, IMAGE_WIDTH, PIXEL_X),
        height=_dimension(props, IMAGE_HEIGHT, PIXEL_Y),
        pick_label=_pick_label(props.text(PICK_LABEL)),
        color_labels=_color_labels(props),
        luna_label=props.text(LUNA_LABEL) if props.get(LUNA_LABEL) is not None else None,
        luna_flag=_flag(props.text(LUNA_FLAG)),
        luna_rating=_stars(props.text(LUNA_RATING)),
        albums=_albums(props.get(LUNA_ALBUMS)),
        events=_events(props.get(LUNA_EVENTS)),
        luna_tags=props.texts(LUNA_TAGS) if props.get(LUNA_TAGS) is not None else None,
    )


DIGIKAM_COLORS = {0: "", 1: "red", 2: "orange", 3: "yellow", 4: "green", 5: "blue",
    6: "purple", 7: "gray", 8: "black", 9: "white"}  # fmt: skip
DARKTABLE_COLORS = {0: "red", 1: "yellow", 2: "green", 3: "blue", 4: "purple"}


def _color_labels(props: _Properties) -> dict[str, str]:
    """{"xmp": ..., "digikam": ..., "darktable": ...} for each program whose label property
    the packet has: the colour in lower case, "" for none."""
    labels = {}
    if props.get(LABEL) is not None:
        labels["xmp"] = (props.text(LABEL) or "").strip().lower()
    number = _number(props.text(COLOR_LABEL))
    if number is not None and number in DIGIKAM_COLORS:
        labels["digikam"] = DIGIKAM_COLORS[int(number)]
    if props.get(DARKTABLE_LABELS) is not None:
        numbers = [n for n in map(_number, props.texts(DARKTABLE_LABELS)) if n is not None]
        labels["darktable"] = DARKTABLE_COLORS.get(int(numbers[0]), "") if numbers else ""
    return labels


def _pick_label(text: str | None) -> int | None:
    number = _number(text)
    return int(number) if number is not None and number in (0, 1, 2, 3) else None


def _flag(text: str | None) -> str | None:
    flag = (text or "").strip().lower()
    return flag if flag in ("pick", "reject") else None


def _stars(text: str | None) -> int | None:
    rating = _rating(text)
    return rating if rating is not None and rating >= 0 else None


def _albums(value) -> list[tuple[str, str | None]]:
    """luna:Albums: a Bag of structs with luna:Name and luna:Owner (none: nobody's own)."""
    albums = []
    for item in _items(value):
        name = _first(_texts(_field(item, LUNA_NAME)))
        if name is not None:
            albums.append((name, _first(_texts(_field(item, LUNA_OWNER)))))
    return _unique(albums)


def _events(value) -> list[LunaEvent]:
    """luna:Events: a Bag of structs with luna:Name, luna:Start, luna:End, luna:Description.
    An event without a name or a readable start is skipped."""
    events = []
    for item in _items(value):
        name = _first(_texts(_field(item, LUNA_NAME)))
        start = parse_xmp_date(_first(_texts(_field(item, LUNA_START))))
        if name is None or start is None:
            continue
        end = parse_xmp_date(_first(_texts(_field(item, LUNA_END))))
        description = _first(_texts(_field(item, LUNA_DESCRIPTION))) or ""
        events.append(LunaEvent(name, start, end, description))
    return _unique(events)


def _gps_utc(text: str | None) -> dt.datetime | None:
    """exif:GPSTimeStamp ("2019-06-01T10:34:56Z"): a UTC instant; a date alone is no time."""
    parsed = parse_xmp_date(text) if text and "T" in text else None
    if parsed is None:
        return None
    when, offset = parsed
    return when - dt.timedelta(minutes=offset or 0)


def _dimension(props: _Properties, *names: str) -> int | None:
    for name in names:
        value = _number(props.text(name))
        if value is not None and 0 < value < 1_000_000:
            return int(value)
    return None


def _hierarchies(props: _Properties) -> list[list[str]]:
    paths = []
    for name, separator in HIERARCHY_LISTS:
        for text in props.texts(name):
            paths.append([level.strip() for level in text.split(separator) if level.strip()])
    paths.extend(_mwg_paths(props.get(MWG_KEYWORDS)))
    return _unique(path for path in paths if path)[:MAX_KEYWORDS]


def _mwg_paths(keywords) -> list[list[str]]:
    """The applied paths of an MWG keyword tree (mwg-kw:Keywords/Hierarchy).

    MWG: a node is applied when its mwg-kw:Applied says True; when that is missing, leaves
    are applied and inner nodes are only structure.
    """
    if not isinstance(keywords, ET.Element):
        return []
    hierarchy = _field(keywords, MWG_HIERARCHY)
    paths: list[list[str]] = []
    pending: list[tuple] = [(node, []) for node in reversed(_items(hierarchy))]
    while pending:  # depth first, in document order, without recursion
        node, parents = pending.pop()
        name = _first(_texts(_field(node, MWG_KEYWORD)))
        if name is None:
            continue
        path = [*parents, name]
        children = _items(_field(node, MWG_CHILDREN))
        applied = _first(_texts(_field(node, MWG_APPLIED)))
        if (applied is None and not children) or (applied or "").lower() == "true":
            paths.append(path)
        pending.extend((child, path) for child in reversed(children))
    return paths


def _first(values: list[str]) -> str | None:
    return values[0] if values else None


def _content_identifier(props: _Properties) -> str | None:
    """Apple's Live Photo identifier. Apple's own files carry it in the maker notes, but
    converters and exporters write it to XMP as apple-fi:ContentIdentifier (and, without a
    registered namespace, under others): Apple namespaces first, then any."""
    suffix = "}" + CONTENT_IDENTIFIER
    names = [name for name in props.values if name.endswith(suffix)]
    names.sort(key=lambda name: not name.startswith("{" + APPLE_NAMESPACES))
    for name in names:
        text = props.text(name)
        if text:
            return text
    return None


def _rating(text: str | None) -> int | None:
    """xmp:Rating: -1 (rejected) to 5 stars; XMP types it as a real, writers use integers."""
    number = _number(text)
    if number is None or not -1 <= number <= 5:
        return None
    return round(number)


def _orientation(text: str | None) -> int | None:
    number = _number(text)
    if number is None or not number.is_integer() or not 1 <= number <= 8:
        return None
    return int(number)


def _number(text: str | None) -> float | None:
    """A decimal or a rational ("123/10"), as XMP writes EXIF's rationals."""
    if text is None:
        return None
    numerator, slash, denominator = text.strip().partition("/")
    try:
        value = float(numerator) / float(denominator) if slash else float(numerator)
    except (ValueError, ZeroDivisionError):
        return None
    return None if math.isnan(value) or math.isinf(value) else value


# -- dates ---------------------------------------------------------------------------------

# ISO 8601 as XMP uses it: "2019", "2019-06", "2019-06-01", "2019-06-01T12:34",
# "2019-06-01T12:34:56", with any fraction of a second, and an optional zone. Canon's
# "+1:00" (a one-digit hour) is read as the "+01:00" it means.
_XMP_DATE = re.compile(
    r"^\s*(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?"
    r"\s*(Z|[+-]\d{2}(?::?\d{2})?|[+-]\d:\d{2})?)?)?)?\s*$"
)
_DEFAULTS = ("0", "1", "1", "0", "0", "0")  # year (never missing), month, day, h, m, s
_DATE_ONLY = re.compile(r"^\s*\d{4}-\d{2}-\d{2}\s*$")
# IPTC's time of day, as Photo Mechanic copies it to XMP: "062751-0500" or "06:27:51-05:00".
_IPTC_TIME = re.compile(r"^\s*(\d{2}):?(\d{2}):?(\d{2})\s*([+-]\d{2}:?\d{2})?\s*$")


def parse_xmp_date(text: str | None) -> DateValue | None:
    """(naive wall-clock time, minutes east of UTC or None) from an XMP date.

    A date without a time still counts, as midnight with no zone: a scanned print dated
    "1987-06" is better placed in June 1987 than at the scan's date. The missing month and
    day of "1987" and "1987-06" are the first. A zone is kept only with a time, as ISO 8601
    allows. EXIF's own "2019:06:01 12:34:56", which darktable and exiv2 write into XMP,
    is accepted too.
    """
    if not text:
        return None
    m = _XMP_DATE.match(text)
    if m is None:
        return parse_exif_datetime(text)
    parts = zip(m.groups()[:6], _DEFAULTS, strict=True)
    year, month, day, hour, minute, second = (int(part or default) for part, default in parts)
    if year < EARLIEST_YEAR:
        return None
    micro = int((m.group(7) or "0")[:6].ljust(6, "0"))
    try:
        when = dt.datetime(year, month, day, hour, minute, min(second, 59), micro)
    except ValueError:
        return None
    zone = m.group(8)
    offset = _zone_minutes(zone) if zone else None
    if zone and offset is None:
        return None  # "+25:00" is not a zone: the whole value is suspect
    return when, offset


def _zone_minutes(zone: str) -> int | None:
    """Minutes east of UTC from "Z", "+02:00", "+0200", "+02" or "+1:00"."""
    if zone == "Z":
        return 0
    hours, _, minutes = zone[1:].partition(":")
    if not minutes and len(hours) == 4:
        hours, minutes = hours[:2], hours[2:]
    return parse_offset(f"{zone[0]}{hours.zfill(2)}:{minutes or '00'}")


def xmp_date_precision(text: str | None) -> str | None:
    """ "day", "month" or "year" for an XMP date without a time of day, else None."""
    m = _XMP_DATE.match(text or "")
    if m is None or m.group(4) is not None:
        return None
    return "day" if m.group(3) else "month" if m.group(2) else "year"


def _date_original_text(props: _Properties) -> str | None:
    """exif:DateTimeOriginal, else photoshop:DateCreated. Photo Mechanic writes only the day
    to DateCreated and the time to its own TimeCreated; the two are joined, as ExifTool does."""
    original = props.text(DATE_TIME_ORIGINAL)
    if parse_xmp_date(original) is not None:
        return original
    created = props.text(DATE_CREATED)
    time = _IPTC_TIME.match(props.text(PHOTO_MECHANIC_TIME) or "")
    if created and time and _DATE_ONLY.match(created):
        hour, minute, second, zone = time.groups()
        created = f"{created.strip()}T{hour}:{minute}:{second}{zone or ''}"
    return created


def _create_date_text(props: _Properties) -> str | None:
    """xmp:CreateDate, else exif:DateTimeDigitized."""
    created = props.text(CREATE_DATE)
    return created if parse_xmp_date(created) is not None else props.text(DATE_TIME_DIGITIZED)


# -- position ------------------------------------------------------------------------------

# XMP's GPSCoordinate: "DDD,MM,SSk" or "DDD,MM.mmk" (k one of N, S, E, W); writers also use
# decimal degrees, with a reference letter or a sign.
_COORDINATE = re.compile(
    r"^\s*([+-]?)\s*(\d+(?:\.\d+)?)\s*(?:,\s*(\d+(?:\.\d+)?)\s*)?(?:,\s*(\d+(?:\.\d+)?)\s*)?"
    r"([NSEWnsew]?)\s*$"
)


def parse_coordinate(text: str | None, axis: str) -> float | None:
    """Signed decimal degrees from an XMP GPS coordinate; `axis` is "NS" or "EW"."""
    m = _COORDINATE.match(text or "")
    if m is None:
        return None
    sign, degrees, minutes, seconds, ref = m.groups()
    parts = [p for p in (degrees, minutes, seconds) if p is not None]
    if any("." in p for p in parts[:-1]):
        return None  # only the last part may have a fraction: "48.5,30N" means nothing
    if ref and ref.upper() not in axis:
        return None  # a latitude marked E: the value is not what it claims
    value = float(degrees)
    for part, scale in ((minutes, 60), (seconds, 3600)):
        if part is not None:
            if float(part) >= 60:
                return None
            value += float(part) / scale
    if sign == "-" or (ref and ref.upper() == axis[1]):
        value = -value
    limit = 90 if axis == "NS" else 180
    return round(value, 8) if abs(value) <= limit else None


def _position(props: _Properties) -> tuple[float | None, float | None, float | None]:
    latitude = parse_coordinate(props.text(GPS_LATITUDE), "NS")
    longitude = parse_coordinate(props.text(GPS_LONGITUDE), "EW")
    if latitude is None or longitude is None:
        return None, None, None
    altitude = _number(props.text(GPS_ALTITUDE))
    if altitude is not None:
        if (props.text(GPS_ALTITUDE_REF) or "").strip() == "1":  # 1: below sea level
            altitude = -abs(altitude)
        altitude = round(altitude, 3)
    return latitude, longitude, altitude
