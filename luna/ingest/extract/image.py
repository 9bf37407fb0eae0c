"""Photos that Pillow can open: dimensions, EXIF (date, GPS, camera, exposure) and IPTC.

Only headers are read: no pixel is decoded, which keeps an import fast and keeps
decompression bombs harmless (Pillow still refuses the worst of them at open time).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable
from typing import Literal

from luna.ingest.extract.dates import parse_exif_datetime, parse_offset, with_subseconds
from luna.ingest.extract.exif import exif_from_jpeg
from luna.ingest.extract.facts import Extracted, FileFailed
from luna.ingest.extract.jpeg import (
    IPTC_DIGEST_RESOURCE,
    IPTC_RESOURCE,
    PHOTOSHOP_PREFIX,
    XMP_RESOURCE,
    photoshop_resources,
)
from luna.ingest.extract.makers import read_flir, read_maker_note, read_qvci

# EXIF tag numbers (see the EXIF 2.32 specification, or PIL.ExifTags.TAGS).
IFD_EXIF, IFD_GPS = 0x8769, 0x8825
MAKE, MODEL, ORIENTATION, SOFTWARE, DATETIME = 0x010F, 0x0110, 0x0112, 0x0131, 0x0132
ARTIST, COPYRIGHT, DESCRIPTION = 0x013B, 0x8298, 0x010E
EXPOSURE_TIME, F_NUMBER, ISO, DATETIME_ORIGINAL, DATETIME_DIGITIZED = (
    0x829A,
    0x829D,
    0x8827,
    0x9003,
    0x9004,
)
OFFSET_TIME, OFFSET_TIME_ORIGINAL, OFFSET_TIME_DIGITIZED = 0x9010, 0x9011, 0x9012
SUBSEC_ORIGINAL, SUBSEC_DIGITIZED = 0x9291, 0x9292
FOCAL_LENGTH, FOCAL_35MM, FLASH = 0x920A, 0xA405, 0x9209
LENS_MAKE, LENS_MODEL, BODY_SERIAL = 0xA433, 0xA434, 0xA431
MAKER_NOTE = 0x927C
APPLE_CONTENT_IDENTIFIER = 0x0011  # in Apple's maker note: pairs a Live Photo's parts
GPS_LAT_REF, GPS_LAT, GPS_LON_REF, GPS_LON, GPS_ALT_REF, GPS_ALT = 1, 2, 3, 4, 5, 6
GPS_TIME, GPS_STATUS, GPS_DATE = 7, 9, 29

# Orientations 5-8 rotate the picture by 90 degrees: displayed width is stored height.
ROTATED_ORIENTATIONS = {5, 6, 7, 8}

# (tag in the Exif IFD, tag of its zone offset, tag of its sub-seconds, where it came from)
DATE_TAGS = (
    (DATETIME_ORIGINAL, OFFSET_TIME_ORIGINAL, SUBSEC_ORIGINAL, "exif:DateTimeOriginal"),
    (DATETIME_DIGITIZED, OFFSET_TIME_DIGITIZED, SUBSEC_DIGITIZED, "exif:CreateDate"),
)


def open_image(fp):
    """Open with Pillow, turning its refusals into clear per-file failures."""
    from PIL import Image, UnidentifiedImageError

    try:
        return Image.open(fp)
    except Image.DecompressionBombError as exc:
        pixels = re.search(r"\((\d+) pixels\)", str(exc))
        size = f"{int(pixels.group(1)):,} pixels" if pixels else "too many pixels"
        raise FileFailed(f"refused as a likely decompression bomb ({size})") from None
    except UnidentifiedImageError:
        raise FileFailed(
            "not a readable image: its header is damaged or of an unknown format"
        ) from None
    except (OSError, SyntaxError, ValueError, EOFError, IndexError, TypeError, KeyError) as exc:
        # Pillow's plugins signal a broken header with any of these.
        raise FileFailed(f"not a readable image: {short_reason(exc)}") from None


def extract_jpeg(data, out: Extracted, read_ciff: Callable[[bytes, Extracted], None]) -> bool:
    """Fill `out` from a plain JPEG's header without opening it as an image. `read_ciff`
    reads the CIFF heap early Canon PowerShots wrote instead of EXIF: it is the RAW reader's
    (luna.ingest.extract.raw), which builds on this module, so the caller hands it in.

    Returns False when the file needs Pillow's full reading (see luna.ingest.extract.jpeg)."""
    from luna.ingest.extract.jpeg import scan_jpeg

    header = scan_jpeg(data)
    if header is None:
        return False
    out.metadata["format"] = "MPO" if header.is_mpo else "JPEG"
    orientation = None
    if header.exif:
        exif = safely(out, "exif", lambda: exif_from_jpeg(header.exif))
        if exif is not None:
            orientation = read_exif(exif, out)
    if orientation is None and header.xmp:
        orientation = xmp_orientation(header.xmp)
        if orientation is not None:
            out.metadata["orientation"] = orientation
    if header.xmp:
        safely(out, "xmp", lambda: read_embedded_xmp(header.xmp, out))
    width, height = header.width, header.height
    if orientation in ROTATED_ORIENTATIONS:
        width, height = height, width
    out.width, out.height = width, height
    iptc = header.iptc
    if iptc is None and data[len(data) - 12 : len(data) - 9] == b"AXS":
        iptc = safely(out, "afcp", lambda: _afcp_iptc(data, out))
    if iptc:
        newer = iptc_is_newer(_resources_of(header.photoshop or b""), iptc)
        safely(out, "iptc", lambda: read_iptc_records(iptc, out, newer))
    if header.flir:
        safely(out, "flir", lambda: read_flir(header.flir, out))
    if header.qvci:
        safely(out, "qvci", lambda: read_qvci(header.qvci, out))
    if header.picture_info:
        _read_picture_info(header.picture_info, out)
    if header.ciff:
        safely(out, "ciff", lambda: _read_jpeg_ciff(header.ciff, out, read_ciff))
    return True


def _afcp_iptc(data, out: Extracted) -> dict | None:
    """IPTC that a news tool appended after the image, in an AFCP trailer."""
    from luna.ingest.extract.blocks import afcp_iptc

    return afcp_iptc(data, out.errors)


def _read_jpeg_ciff(block: bytes, out: Extracted, read_ciff) -> None:
    """Early Canon PowerShots wrote their metadata as a CIFF heap in APP0 instead of EXIF:
    it fills what EXIF did not say (the JPEG's own frame gives the dimensions)."""
    found = Extracted()
    read_ciff(block, found)
    if found.start is not None:
        out.offer_date(found.start, found.utc_offset, found.date_source or "ciff")
    for key, value in found.metadata.items():
        out.metadata.setdefault(key, value)


_TIME_DATE = re.compile(rb"TimeDate=(\d{6,12})")


def _read_picture_info(text: bytes, out: Extracted) -> None:
    """Old Olympus and Agfa cameras wrote "TimeDate=<seconds since 1970>" in an APP12
    text block instead of EXIF. The seconds count the camera's own clock: local time."""
    m = _TIME_DATE.search(text)
    if m:
        seconds = int(m.group(1))
        if 0 < seconds < 4_102_444_800:  # before 2100
            when = dt.datetime(1970, 1, 1) + dt.timedelta(seconds=seconds)
            out.offer_date(when, None, "jpeg:PictureInfo")


# PNG's registered text keywords (PNG specification, 11.3.4.2) and where they go.
PNG_TEXT_FIELDS = {
    "Title": "title",
    "Description": "description",
    "Comment": "description",
    "Author": "artist",
    "Copyright": "copyright",
    "Software": "software",
}


def read_png_text(info: dict, out: Extracted) -> None:
    """tEXt/zTXt/iTXt chunks: title, description and the like, and "Creation Time"."""
    for keyword, key in PNG_TEXT_FIELDS.items():
        value = info.get(keyword)
        if isinstance(value, str) and value.strip() and key not in out.metadata:
            out.metadata[key] = value.strip()[:2000]
    created = _png_creation_time(info.get("Creation Time"))
    if created is not None:
        out.offer_date(created[0], created[1], "png:CreationTime")


def _png_creation_time(value) -> tuple[dt.datetime, int | None] | None:
    """The spec suggests RFC 1123 ("Sat, 01 Jun 2019 12:34:56 +0200"); many tools write
    ISO 8601 or EXIF-style dates instead."""
    if not isinstance(value, str) or not value.strip():
        return None
    from email.utils import parsedate_to_datetime

    try:
        when = parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError):
        return parse_exif_datetime(value)
    offset = when.utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset is not None else None
    return when.replace(tzinfo=None), minutes


def _turned_by_container(im, out: Extracted) -> bool:
    """HEIF and AVIF turn the picture with the container's irot/imir boxes, which the
    decoder applies (its size is the size as displayed), and which iOS, Android and
    libheif obey while ignoring EXIF Orientation. pillow-heif resets the EXIF value to 1
    and keeps the camera's in info["original_orientation"]: that goes to the metadata, for
    information; it never turns the size again."""
    if "original_orientation" not in im.info:
        return False
    original = to_int(im.info.get("original_orientation"))
    if original is not None and 1 <= original <= 8:
        out.metadata["orientation"] = original
    return True


def _already_turned(im) -> bool:
    """Pillow's TIFF reader reports the size as displayed (Orientation applied) while its
    other readers report it as stored: tell by the TIFF's own width and length tags."""
    tags = getattr(im, "tag_v2", None)
    if im.format != "TIFF" or tags is None:
        return False
    stored = (tags.get(256), tags.get(257))
    return im.size == (stored[1], stored[0]) and stored[0] != stored[1]


def read_embedded_xmp(packet, out: Extracted) -> None:
    """XMP inside the file fills what its EXIF and IPTC did not say."""
    from luna.ingest.extract.xmp import apply_xmp, parse_xmp

    info = parse_xmp(packet, out.errors)
    if info is not None:
        apply_xmp(info, out, "xmp")


def _xmp_packet(im) -> bytes | None:
    """The XMP packet as Pillow (and pillow-heif) expose it for each format: "xmp" in
    info (JPEG, WebP, HEIC, AVIF), the PNG iTXt chunk, or TIFF tag 700."""
    for key in ("xmp", "XML:com.adobe.xmp"):
        value = im.info.get(key)
        if value:
            return value.encode("utf-8") if isinstance(value, str) else bytes(value)
    tags = getattr(im, "tag_v2", None)
    if tags is not None:
        value = tags.get(700)
        if isinstance(value, (bytes, str)) and value:
            return value.encode("utf-8") if isinstance(value, str) else value
    return None


def _container_xmp(im, fp) -> bytes | None:
    """XMP where Pillow does not look: a GIF's "XMP DataXMP" extension, or Photoshop's
    image resource 0x0424 (in a JPEG's APP13, or a TIFF's tag 34377)."""
    from luna.ingest.extract.blocks import PHOTOSHOP_TAG, gif_xmp

    if im.format == "GIF":
        mapped = getattr(fp, "mm", None)  # the whole file, mapped; see luna.ingest.extract
        return gif_xmp(mapped) if mapped is not None else None
    resources = im.info.get("photoshop")  # JPEG: Pillow parsed APP13 into {id: data}
    if isinstance(resources, dict):
        value = resources.get(XMP_RESOURCE)
        return bytes(value) if value else None
    tags = getattr(im, "tag_v2", None)
    block = tags.get(PHOTOSHOP_TAG) if tags is not None else None
    if isinstance(block, tuple) and len(block) == 1:  # Pillow's reading of an UNDEFINED tag
        block = block[0]
    if isinstance(block, bytes):
        found = photoshop_resources(block, 0, len(block), [])
        return found.get(XMP_RESOURCE)
    return None


_XMP_ORIENTATION = re.compile(rb'tiff:Orientation(?:="|>)([1-8])')


def xmp_orientation(xmp: bytes) -> int | None:
    """tiff:Orientation from an XMP packet (as Pillow also honours it when EXIF has none)."""
    m = _XMP_ORIENTATION.search(xmp)
    return int(m.group(1)) if m else None


def extract_image(fp, out: Extracted, read_png_profiles=None) -> None:
    """Fill `out` from the image in the binary file object `fp`."""
    import warnings

    from PIL import Image

    with warnings.catch_warnings():
        # The >89 Mpx "possible bomb" warning is about decoding, which luna never does.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        im = open_image(fp)
    with im:
        out.metadata["format"] = im.format
        width, height = im.size
        exif = safely(out, "exif", im.getexif)
        orientation = None
        if exif is not None:
            orientation = read_exif(exif, out)
        if _turned_by_container(im, out):
            orientation = None
        if orientation in ROTATED_ORIENTATIONS and not _already_turned(im):
            width, height = height, width
        out.width, out.height = width, height
        packet = _xmp_packet(im) or safely(out, "xmp", lambda: _container_xmp(im, fp))
        if packet:
            safely(out, "xmp", lambda: read_embedded_xmp(packet, out))
        # After the XMP: whether IPTC may add to it depends on what the XMP said.
        safely(out, "iptc", lambda: _read_iptc(im, out))
        if im.format == "PNG":
            safely(out, "png text", lambda: read_png_text(im.info, out))
            if read_png_profiles is not None:  # luna.ingest.extract.containers, above this
                safely(out, "png profiles", lambda: read_png_profiles(im.info, out))


def read_exif(exif, out: Extracted) -> int | None:
    md = out.metadata
    put_text(md, "make", exif.get(MAKE))
    put_text(md, "model", exif.get(MODEL))
    put_text(md, "software", exif.get(SOFTWARE))
    put_text(md, "artist", exif.get(ARTIST))
    put_text(md, "copyright", exif.get(COPYRIGHT))
    put_text(md, "description", exif.get(DESCRIPTION))
    orientation = to_int(exif.get(ORIENTATION))
    if orientation is not None and 1 <= orientation <= 8:
        md["orientation"] = orientation
    else:
        orientation = None
    sub = safely(out, "exif-ifd", lambda: exif.get_ifd(IFD_EXIF)) or {}
    _read_exposure(sub, md)
    _read_dates(exif, sub, out)
    gps = safely(out, "gps-ifd", lambda: exif.get_ifd(IFD_GPS)) or {}
    if gps:
        _read_gps(gps, out)
    safely(out, "maker note", lambda: read_maker_note(sub.get(MAKER_NOTE), md.get("make"), out))
    return orientation


def _read_exposure(sub, md) -> None:
    exposure = _float(sub.get(EXPOSURE_TIME))
    if exposure:
        md["exposure_time"] = exposure
    for key, tag in (("f_number", F_NUMBER), ("focal_length", FOCAL_LENGTH)):
        value = _float(sub.get(tag))
        if value:
            md[key] = round(value, 2)
    iso = to_int(sub.get(ISO))
    if iso:
        md["iso"] = iso
    focal35 = to_int(sub.get(FOCAL_35MM))
    if focal35:
        md["focal_length_35mm"] = focal35
    flash = to_int(sub.get(FLASH))
    if flash is not None:
        md["flash_fired"] = bool(flash & 1)
    identifier = apple_content_identifier(sub.get(MAKER_NOTE))
    if identifier:
        md["content_identifier"] = identifier
    put_text(md, "lens_make", sub.get(LENS_MAKE))
    put_text(md, "lens", sub.get(LENS_MODEL))
    put_text(md, "serial_number", sub.get(BODY_SERIAL))


def apple_content_identifier(note) -> str | None:
    """The ContentIdentifier an iPhone writes into its maker note ("Apple iOS\\0", version,
    byte order at 12, an IFD at 14 whose offsets count from the note's start). The Live
    Photo's video carries the same identifier."""
    if not isinstance(note, bytes) or not note.startswith(b"Apple iOS\0") or len(note) < 16:
        return None
    order: Literal["big", "little"] = "big" if note[12:14] == b"MM" else "little"
    count = int.from_bytes(note[14:16], order)
    for i in range(min(count, 256)):
        entry = note[16 + 12 * i : 28 + 12 * i]
        if len(entry) < 12:
            return None
        tag, kind = int.from_bytes(entry[0:2], order), int.from_bytes(entry[2:4], order)
        if tag != APPLE_CONTENT_IDENTIFIER or kind != 2:  # 2: ASCII
            continue
        size = int.from_bytes(entry[4:8], order)
        offset = int.from_bytes(entry[8:12], order)
        raw = entry[8 : 8 + size] if size <= 4 else note[offset : offset + min(size, 256)]
        text = raw.split(b"\0", 1)[0].decode("ascii", "replace").strip()
        return text or None
    return None


def _read_dates(ifd0, sub, out: Extracted) -> None:
    for tag, offset_tag, subsec_tag, source in DATE_TAGS:
        parsed = parse_exif_datetime(sub.get(tag))
        if parsed:
            when, offset = parsed
            out.offer_date(
                with_subseconds(when, sub.get(subsec_tag)),
                offset if offset is not None else parse_offset(sub.get(offset_tag)),
                source,
            )
    # IFD0 DateTime is when the file was last changed by software; a weak last resort.
    parsed = parse_exif_datetime(ifd0.get(DATETIME))
    if parsed:
        out.offer_date(parsed[0], parse_offset(sub.get(OFFSET_TIME)), "exif:ModifyDate")


def _read_gps(gps, out: Extracted) -> None:
    out.gps_utc = _gps_timestamp(gps.get(GPS_DATE), gps.get(GPS_TIME))
    lat = _dms(gps.get(GPS_LAT), gps.get(GPS_LAT_REF), "S")
    lon = _dms(gps.get(GPS_LON), gps.get(GPS_LON_REF), "W")
    if lat is None or lon is None or abs(lat) > 90 or abs(lon) > 180:
        return
    if _text_of(gps.get(GPS_STATUS)) == "V":  # "measurement void": the receiver had no fix
        out.note_no_fix("exif:GPS: GPSStatus V (measurement void)")
        return
    out.offer_location(lat, lon, _altitude(gps.get(GPS_ALT), gps.get(GPS_ALT_REF)), "exif:GPS")


def _gps_timestamp(date_value, time_value) -> dt.datetime | None:
    """GPSDateStamp ("2019:06:01") + GPSTimeStamp (h, m, s rationals): a UTC instant."""
    parsed = parse_exif_datetime(f"{date_value} 00:00:00") if date_value else None
    if parsed is None or not isinstance(time_value, (tuple, list)) or len(time_value) != 3:
        return None
    try:
        h, m, sec = (float(v) for v in time_value)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    if not (0 <= h < 24 and 0 <= m < 60 and 0 <= sec < 61):
        return None
    return parsed[0] + dt.timedelta(hours=h, minutes=m, seconds=int(sec))


def _dms(value, ref, negative_ref: str) -> float | None:
    """Degrees/minutes/seconds rationals and an N/S/E/W reference to signed degrees."""
    if value is None:
        return None
    try:
        parts = [float(v) for v in (value if isinstance(value, (tuple, list)) else (value,))]
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    if not parts or any(math.isnan(p) or math.isinf(p) for p in parts):
        return None
    degrees = (
        parts[0]
        + (parts[1] / 60 if len(parts) > 1 else 0)
        + (parts[2] / 3600 if len(parts) > 2 else 0)
    )
    ref_text = ref.decode("ascii", "replace") if isinstance(ref, bytes) else str(ref or "")
    if ref_text.strip("\x00 ").upper().startswith(negative_ref):
        degrees = -degrees
    return round(degrees, 8)


def _text_of(value) -> str:
    text = value.decode("ascii", "replace") if isinstance(value, bytes) else str(value or "")
    return text.strip("\x00 ").upper()


def _altitude(value, ref) -> float | None:
    alt = _float(value)
    if alt is None:
        return None
    if isinstance(ref, bytes):
        ref = ref[:1] == b"\x01"
    if ref in (1, True):  # 1 means below sea level
        alt = -alt
    return round(alt, 3)


def _read_iptc(im, out: Extracted) -> None:
    from PIL import IptcImagePlugin

    info = IptcImagePlugin.getiptcinfo(im)
    if info:
        resources = im.info.get("photoshop")  # JPEG: {resource id: bytes}
        if not isinstance(resources, dict):
            tags = getattr(im, "tag_v2", None)  # TIFF: the resource block in tag 34377
            block = tags.get(34377) if tags is not None else None
            resources = _resources_of(block) if isinstance(block, bytes) else {}
        read_iptc_records(info, out, iptc_is_newer(resources, info))


def _resources_of(block: bytes) -> dict[int, bytes]:
    """The image resources of a Photoshop block, with or without JPEG's "Photoshop 3.0\0"
    prefix (luna.ingest.extract.jpeg reads them)."""
    start = len(PHOTOSHOP_PREFIX) if block.startswith(PHOTOSHOP_PREFIX) else 0
    return photoshop_resources(block, start, len(block), [])


def iptc_is_newer(resources: dict[int, bytes], records: dict) -> bool:
    """True when the IPTC was changed after the XMP, by a program that knows only IPTC.

    The Metadata Working Group's guidelines (2.0, and ExifTool's MWG module, which follows
    them): a program that writes XMP and IPTC together stores the MD5 of the IPTC block it
    wrote. If the block no longer has that digest, someone changed the IPTC since, and its
    values are the newer ones. A matching digest (both in sync), or none at all, means the
    XMP is the one to prefer: the IPTC is then at best a copy (cut to 64 bytes, often in a
    legacy character set), at worst stale."""
    digest = resources.get(IPTC_DIGEST_RESOURCE)
    block = resources.get(IPTC_RESOURCE)
    if not digest or len(digest) != 16 or block is None or not records:
        return False
    import hashlib

    return hashlib.md5(block, usedforsecurity=False).digest() != digest


def read_iptc_records(info: dict, out: Extracted, newer_than_xmp: bool = False) -> None:
    """IPTC records ({(record, dataset): bytes or [bytes]}) to keywords, title, ...

    Read after the XMP. Where both say something, the XMP wins unless the IPTC is the newer
    (see iptc_is_newer): IPTC keywords are then the keywords, and its title and place names
    replace the XMP's; otherwise they only fill what the XMP did not say."""
    # IPTC 1:90 says whether the text is UTF-8 (ESC % G); older files are usually Latin-1.
    charset = info.get((1, 90))
    if isinstance(charset, list):
        charset = charset[0] if charset else None
    utf8 = charset == b"\x1b%G"
    keywords = info.get((2, 25))
    if isinstance(keywords, bytes):
        keywords = [keywords]
    if newer_than_xmp:
        out.keywords = []
    if keywords and not out.keywords:
        for kw in keywords:
            out.add_keyword(_decode(kw, utf8))
    clock = _first(info.get((2, 60)))
    created = _iptc_date(_first(info.get((2, 55))), clock)
    if created is not None:
        # Date Created alone is a day: it stands at 00:00, marked as a day (facts.Extracted).
        precision = None if _iptc_time_given(clock) else "day"
        out.offer_date(created[0], created[1], "iptc:DateCreated", precision)
    for key, tag in _IPTC_TEXTS:
        value = info.get(tag)
        if isinstance(value, list):
            value = value[0] if value else None
        # EXIF's ImageDescription outranks both (MWG), so a newer IPTC caption only fills.
        replaces = newer_than_xmp and key != "description"
        text = _decode(value, utf8) if value else ""
        if text and (replaces or key not in out.metadata):
            out.metadata[key] = text


# IPTC-IIM datasets read as metadata text: title, caption, and the place in words.
_IPTC_TEXTS = (
    ("title", (2, 5)),
    ("description", (2, 120)),
    ("city", (2, 90)),
    ("sublocation", (2, 92)),
    ("state", (2, 95)),
    ("country_code", (2, 100)),
    ("country", (2, 101)),
)


def _first(value):
    if isinstance(value, list):
        return value[0] if value else None
    return value


def _iptc_date(day, clock) -> tuple[dt.datetime, int | None] | None:
    """IPTC Date Created "20061029" and Time Created "062751-0500" (the time is optional)."""
    if not isinstance(day, bytes) or len(day) < 8 or not day[:8].isdigit():
        return None
    text = f"{day[:4].decode()}:{day[4:6].decode()}:{day[6:8].decode()} "
    offset = None
    if _iptc_time_given(clock):
        c = clock.decode("ascii", "replace")
        text += f"{c[0:2]}:{c[2:4]}:{c[4:6]}"
        offset = parse_offset(c[6:11]) if len(c) >= 11 else None
    else:
        text += "00:00:00"
    parsed = parse_exif_datetime(text)
    return (parsed[0], offset) if parsed else None


def _iptc_time_given(clock) -> bool:
    return isinstance(clock, bytes) and len(clock) >= 6 and clock[:6].isdigit()


def _decode(raw: bytes, utf8: bool) -> str:
    if utf8:
        return raw.decode("utf-8", "replace").strip()
    try:
        return raw.decode("utf-8").strip()
    except UnicodeDecodeError:
        return raw.decode("latin-1").strip()


def put_text(md: dict, key: str, value) -> None:
    if value is None:
        return
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    # An EXIF string ends at its first NUL; what follows is padding or leftover bytes
    # (the Polaroid ION230 writes "ION230\0F").
    text = str(value).split("\x00", 1)[0].strip()
    if text and text.isprintable():
        md[key] = text


def _float(value) -> float | None:
    if isinstance(value, (tuple, list)):
        value = value[0] if value else None
    if value is None:
        return None
    try:
        f = float(value)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    return None if math.isnan(f) or math.isinf(f) else f


def to_int(value) -> int | None:
    f = _float(value)
    return int(f) if f is not None else None


def safely(out: Extracted, what: str, fn):
    """Run one part of the extraction; a broken part is noted, the rest still counts."""
    try:
        return fn()
    except Exception as exc:  # noqa: BLE001 - hostile files raise anything; keep the rest
        out.errors.append(f"{what}: {short_reason(exc)}")
        return None


def short_reason(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text if len(text) < 200 else text[:197] + "..."
