"""Metadata that image containers carry where Pillow does not look, and the files Pillow
cannot open at all although their metadata is plainly there.

- Photoshop image resources ("8BIM" blocks): IPTC (0x0404), EXIF (0x0422) and XMP (0x0424).
  They are the whole metadata of a PSD file, and JPEG's APP13 and TIFF's tag 34377 hold
  them too.
- GIF's "XMP DataXMP" application extension, which Pillow skips.
- PNG's "Raw profile type ..." text chunks, ImageMagick's hex dumps of IPTC, Photoshop
  resources and XMP.
- The AFCP trailer (AXS File Concatenation Protocol) some tools append to a JPEG, with
  IPTC in it.
- TIFF and BigTIFF directories read without Pillow: Pillow refuses big-endian BigTIFF
  ("MM\\0+", 8-byte offsets) and TIFFs whose pixel layout it does not know. WebP and PNG
  chunks and GIF headers too, for a WebP, PNG or GIF whose image libwebp or Pillow refuses
  (read_without_pillow: such a file is recorded with what these find).

Every reader here takes untrusted bytes: each walk has a count cap, each length is checked
against what is left of the file before anything is read, and a value larger than the
caps is skipped rather than copied.
"""

from __future__ import annotations

import re
import struct
from typing import Any

from luna.ingest.extract import image
from luna.ingest.extract.blocks import MAX_IPTC, PHOTOSHOP_TAG, gif_xmp
from luna.ingest.extract.facts import Extracted
from luna.ingest.extract.jpeg import (
    EXIF_RESOURCE,
    IPTC_RESOURCE,
    PHOTOSHOP_PREFIX,
    RESOURCE_SIGNATURES,
    XMP_RESOURCE,
    parse_iptc_records,
    photoshop_resources,
)
from luna.ingest.extract.raw import set_displayed_size
from luna.ingest.extract.xmp import MAX_PACKET

MAX_VALUE = MAX_PACKET + 1  # the largest TIFF value copied out (XMP in tag 700 is the largest)
MAX_ENTRIES = 1024  # entries read from one TIFF directory (real ones have under 200)
MAX_PROFILE_TEXT = 16 * 1024 * 1024  # hex text of one PNG raw profile (Pillow caps zTXt too)


# -- Photoshop image resources (luna.ingest.extract.jpeg.photoshop_resources lists them) ------


def read_photoshop_resources(resources: dict[int, bytes], out: Extracted) -> None:
    """EXIF first, then IPTC, then XMP, as for a JPEG: each fills what the others lacked
    (facts.DATE_SOURCES ranks the dates)."""
    tiff = resources.get(EXIF_RESOURCE)
    if tiff:
        image.safely(out, "exif", lambda: _read_tiff_exif(tiff, out))
    iptc = resources.get(IPTC_RESOURCE)
    if iptc:
        image.safely(out, "iptc", lambda: image.read_iptc_records(_iptc_records(iptc), out))
    xmp = resources.get(XMP_RESOURCE)
    if xmp:
        image.safely(out, "xmp", lambda: image.read_embedded_xmp(xmp, out))


def _iptc_records(block: bytes) -> dict:
    return parse_iptc_records(block[:MAX_IPTC])


def _read_tiff_exif(block: bytes, out: Extracted) -> None:
    tiff = TiffDirectories.at(block, 0, len(block), out.errors)
    if tiff is not None:
        image.read_exif(tiff, out)


# -- PSD --------------------------------------------------------------------------------------


def extract_psd(data, out: Extracted) -> None:
    """A Photoshop file: its size from the header ("8BPS", version, 6 reserved bytes,
    channels, height, width), then the colour-mode section (4-byte length and data) and
    the image resources section (4-byte length and resources). Layers and pixels, the
    bulk of the file, are never read (Pillow parses the layers when it opens a PSD)."""
    out.metadata["format"] = "PSD"
    if len(data) < 30 or bytes(data[:4]) != b"8BPS":
        out.errors.append("psd: no Photoshop header")
        return
    height, width = struct.unpack_from(">II", data, 14)
    colour_mode_length = int.from_bytes(data[26:30], "big")
    section = 30 + colour_mode_length
    if section + 4 > len(data):
        out.errors.append("psd: the colour mode section runs past the end of the file")
    else:
        length = int.from_bytes(data[section : section + 4], "big")
        start = section + 4
        if length > len(data) - start:
            out.errors.append("psd: the image resources run past the end of the file")
        resources = photoshop_resources(data, start, start + length, out.errors)
        read_photoshop_resources(resources, out)
    set_displayed_size(out, width, height)


# -- GIF ---------------------------------------------------------------------------------------

# An application extension (0x21 0xFF), an 11-byte block naming it, then the packet. XMP's
# packet is written raw, not in sub-blocks, and is followed by a 258-byte "magic trailer"
# (0x01, 0xFF, 0xFE, ... 0x00, then the block terminator) that makes any reader that walks
# sub-blocks land on the end of the extension.
# -- PNG raw profiles --------------------------------------------------------------------------

# ImageMagick's "Raw profile type NAME" text: "\nNAME\n   LENGTH\nHEX..." with the hex
# digits in lines of 72.
_RAW_PROFILE = re.compile(r"\A\s*\n?([^\n]*)\n\s*(\d{1,10})\s*\n(.*)\Z", re.S)
_NOT_HEX = re.compile(r"[^0-9a-fA-F]")


def raw_profile(text, problems: list[str]) -> bytes | None:
    """The bytes of a raw profile, or None if the text is not one. A declared length longer
    than the hex digits give is noted, and what the digits give is used."""
    if not isinstance(text, str) or len(text) > MAX_PROFILE_TEXT:
        return None
    m = _RAW_PROFILE.match(text)
    if m is None:
        return None
    length = int(m.group(2))
    digits = _NOT_HEX.sub("", m.group(3))
    digits = digits[: 2 * length] if len(digits) >= 2 * length else digits[: len(digits) // 2 * 2]
    data = bytes.fromhex(digits)
    if len(data) < length:
        name = m.group(1).strip()
        problems.append(f"raw profile {name!r}: {length} bytes declared, {len(data)} found")
    return data


def read_png_profiles(info: dict, out: Extracted) -> None:
    """IPTC, Photoshop resources and XMP that ImageMagick (and tools built on it) keep in
    PNG text chunks. EXIF ("Raw profile type exif") Pillow reads itself."""
    for key in ("Raw profile type 8bim", "Raw profile type iptc"):
        data = raw_profile(info.get(key), out.errors)
        if data:
            _read_iptc_or_resources(data, out)
    for key in ("Raw profile type xmp", "Raw profile type APP1"):
        data = raw_profile(info.get(key), out.errors)
        if data and (b"xmpmeta" in data or b"rdf:RDF" in data):
            image.read_embedded_xmp(data, out)
        elif data and data.startswith(b"Exif\0\0") and not _png_has_exif(info):
            # Older ImageMagick kept EXIF as an "APP1" profile, which Pillow does not read.
            tiff = TiffDirectories.at(data, 6, len(data), out.errors)
            if tiff is not None:
                image.read_exif(tiff, out)


def _png_has_exif(info: dict) -> bool:
    """Whether Pillow found EXIF of its own (an eXIf chunk, or the "exif" raw profile)."""
    return bool(info.get("exif") or info.get("Raw profile type exif"))


def _read_iptc_or_resources(data: bytes, out: Extracted) -> None:
    """An "iptc" profile is Photoshop resources ("Photoshop 3.0\\0" then 8BIM blocks, as
    ImageMagick copies APP13) or bare IPTC records (starting 0x1C)."""
    if data.startswith(PHOTOSHOP_PREFIX):
        data = data[len(PHOTOSHOP_PREFIX) :]
    if data[:4] in RESOURCE_SIGNATURES:
        read_photoshop_resources(photoshop_resources(data, 0, len(data), out.errors), out)
    elif data[:1] == b"\x1c":
        image.read_iptc_records(_iptc_records(data), out)


# -- TIFF and BigTIFF without Pillow -----------------------------------------------------------

UNIT_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8}
UNIT_SIZES.update({13: 4, 16: 8, 17: 8, 18: 8})  # IFD; BigTIFF's LONG8, SLONG8, IFD8
NUMBER_FORMATS = {3: "H", 4: "I", 6: "b", 8: "h", 9: "i", 11: "f", 12: "d", 13: "I"}
NUMBER_FORMATS.update({16: "Q", 17: "q", 18: "Q"})
BYTE, ASCII, UNDEFINED, RATIONAL, SRATIONAL = 1, 2, 7, 5, 10
IMAGE_WIDTH, IMAGE_HEIGHT = 256, 257
XMP_TAG, IPTC_TAG = 700, 33723


class TiffDirectories:
    """IFD0 of a classic TIFF or a BigTIFF at data[base:end], with `.get(tag)` and
    `.get_ifd(IFD_EXIF or IFD_GPS)` answering values as Pillow's `Image.Exif` does (text as
    str, rationals as floats, one value unwrapped from its tuple), so that
    image.read_exif reads it. Only IFD0 and those two are read: no chain is followed."""

    def __init__(self, data, base: int, end: int, order: str, big: bool, ifd0: int, problems):
        self.data, self.base, self.end = data, base, end
        self.order, self.big = order, big
        self.problems: list[str] = problems  # the file's errors: what was skipped, and why
        self.ifd0 = self._directory(ifd0)

    @classmethod
    def at(cls, data, base: int, end: int, problems: list[str]) -> TiffDirectories | None:
        """The TIFF structure at `base`, or None if there is no TIFF header there."""
        end = min(end, len(data))
        head = bytes(data[base : base + 16])
        order = {b"II": "<", b"MM": ">"}.get(head[:2])
        if order is None or len(head) < 8:
            return None
        (magic,) = struct.unpack_from(order + "H", head, 2)
        if magic == 42:
            (ifd0,) = struct.unpack_from(order + "I", head, 4)
            big = False
        elif magic == 43 and len(head) == 16 and struct.unpack_from(order + "H", head, 4)[0] == 8:
            (ifd0,) = struct.unpack_from(order + "Q", head, 8)
            big = True
        else:
            return None
        return cls(data, base, end, order, big, ifd0, problems)

    def get(self, tag: int, default: Any = None) -> Any:
        value = self.ifd0.get(tag)
        return default if value is None else value

    def get_ifd(self, tag: int) -> dict[int, Any]:
        offset = self.get(tag)
        if isinstance(offset, int) and offset > 0:
            return self._directory(offset)
        return {}

    def _directory(self, offset: int) -> dict[int, Any]:
        """The values of the directory at `offset` ({} if it lies outside the structure)."""
        count_format, entry_size, inline = ("Q", 20, 8) if self.big else ("H", 12, 4)
        pos = self.base + offset
        count_size = struct.calcsize(count_format)
        if offset < 8 or pos + count_size > self.end:
            self.problems.append("tiff: a directory lies outside the file")
            return {}
        (count,) = struct.unpack_from(self.order + count_format, self.data, pos)
        table = pos + count_size
        if count > MAX_ENTRIES or table + count * entry_size > self.end:
            # Cut off or hostile: as ExifTool does, nothing of such a directory is trusted.
            self.problems.append(f"tiff: a directory claims {count} entries that are not there")
            return {}
        entry_format = self.order + ("HHQ" if self.big else "HHI")
        pointer_format = "Q" if self.big else "I"
        values: dict[int, Any] = {}
        for i in range(count):
            at = table + entry_size * i
            tag, kind, n = struct.unpack_from(entry_format, self.data, at)
            unit = UNIT_SIZES.get(kind)
            if tag in values or unit is None or n == 0:
                continue
            length = n * unit
            where = at + entry_size - inline  # the value, if it fits in the entry
            if length > inline:
                (pointer,) = struct.unpack_from(self.order + pointer_format, self.data, where)
                where = self.base + pointer
            if length > MAX_VALUE or where + length > self.end:
                continue  # cut off or oversized: skipped, as Pillow skips it
            values[tag] = self._decode(kind, n, bytes(self.data[where : where + length]))
        return values

    def _decode(self, kind: int, n: int, raw: bytes) -> Any:
        if kind == ASCII:
            return raw.split(b"\0", 1)[0].decode("latin-1")
        if kind in (BYTE, UNDEFINED):
            return raw
        values: tuple
        if kind in (RATIONAL, SRATIONAL):
            parts = struct.unpack(f"{self.order}{2 * n}{'I' if kind == RATIONAL else 'i'}", raw)
            pairs = zip(parts[::2], parts[1::2], strict=True)
            values = tuple(a / b if b else float("nan") for a, b in pairs)
        else:
            values = struct.unpack(f"{self.order}{n}{NUMBER_FORMATS[kind]}", raw)
        return values[0] if n == 1 else values


def extract_tiff(data, out: Extracted) -> None:
    """A TIFF or BigTIFF that Pillow could not open: size, EXIF (dates, camera, exposure,
    GPS), and the XMP, IPTC and Photoshop resources IFD0 carries."""
    tiff = TiffDirectories.at(data, 0, len(data), out.errors)
    if tiff is None:
        return
    out.metadata["format"] = "BigTIFF" if tiff.big else "TIFF"
    image.safely(out, "exif", lambda: image.read_exif(tiff, out))
    iptc = tiff.get(IPTC_TAG)
    if isinstance(iptc, bytes):
        image.safely(out, "iptc", lambda: image.read_iptc_records(_iptc_records(iptc), out))
    xmp = tiff.get(XMP_TAG)
    if isinstance(xmp, bytes):
        image.safely(out, "xmp", lambda: image.read_embedded_xmp(xmp, out))
    resources = tiff.get(PHOTOSHOP_TAG)
    if isinstance(resources, bytes):
        read_photoshop_resources(photoshop_resources(resources, 0, len(resources), out.errors), out)
    set_displayed_size(out, _first(tiff.get(IMAGE_WIDTH)), _first(tiff.get(IMAGE_HEIGHT)))


def _first(value):
    return value[0] if isinstance(value, tuple) and value else value


# -- WebP and GIF without Pillow ---------------------------------------------------------------

MAX_CHUNKS = 65536  # RIFF chunks walked in one WebP (an animation has one per frame)


def extract_webp(data, out: Extracted) -> None:
    """A WebP whose image Pillow (libwebp) refuses: the canvas size (VP8X) or the frame's
    own (VP8, VP8L), and the EXIF and XMP chunks. Chunks are a fourcc, a little-endian
    size and the data, padded to even."""
    out.metadata["format"] = "WEBP"
    end = min(len(data), 8 + int.from_bytes(data[4:8], "little"))
    pos, size, exif, xmp = 12, None, None, None
    for _ in range(MAX_CHUNKS):
        if pos + 8 > end:
            break
        kind, length = bytes(data[pos : pos + 4]), int.from_bytes(data[pos + 4 : pos + 8], "little")
        body = pos + 8
        if length > end - body:
            out.errors.append(f"webp: the {kind.decode('latin-1')!r} chunk runs past the file")
            break
        if kind == b"VP8X" and length >= 10:
            size = _webp_canvas(bytes(data[body : body + 10]))
        elif kind in (b"VP8 ", b"VP8L") and size is None:
            size = _webp_frame_size(kind, bytes(data[body : body + 10]))
        elif kind == b"EXIF" and exif is None and length <= MAX_VALUE:
            exif = bytes(data[body : body + length])
        elif kind == b"XMP " and xmp is None and length <= MAX_VALUE:
            xmp = bytes(data[body : body + length])
        pos = body + length + (length % 2)
    if exif:
        tiff = exif[6:] if exif.startswith(b"Exif\0\0") else exif
        directories = TiffDirectories.at(tiff, 0, len(tiff), out.errors)
        if directories is not None:
            image.safely(out, "exif", lambda: image.read_exif(directories, out))
    if size:  # turned by EXIF's orientation only, as image.extract_image does
        set_displayed_size(out, *size)
    if xmp:
        image.safely(out, "xmp", lambda: image.read_embedded_xmp(xmp, out))


def _webp_canvas(header: bytes) -> tuple[int, int]:
    """VP8X: flags (4 bytes), then the canvas width - 1 and height - 1 in 24 bits each."""
    return int.from_bytes(header[4:7], "little") + 1, int.from_bytes(header[7:10], "little") + 1


def _webp_frame_size(kind: bytes, header: bytes) -> tuple[int, int] | None:
    """VP8: a 3-byte frame tag, the start code 9D 01 2A, then 14-bit width and height.
    VP8L: the signature 0x2F, then width - 1 and height - 1 in 14 bits each."""
    if kind == b"VP8 " and header[3:6] == b"\x9d\x01\x2a":
        width = int.from_bytes(header[6:8], "little") & 0x3FFF
        height = int.from_bytes(header[8:10], "little") & 0x3FFF
        return (width, height) if width and height else None
    if kind == b"VP8L" and header[:1] == b"\x2f":
        bits = int.from_bytes(header[1:5], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    return None


def extract_gif(data, out: Extracted) -> None:
    """A GIF whose frames Pillow refuses: the logical screen's size and the XMP."""
    out.metadata["format"] = "GIF"
    packet = gif_xmp(data)
    if packet:
        image.safely(out, "xmp", lambda: image.read_embedded_xmp(packet, out))
    width, height = struct.unpack_from("<HH", data, 6) if len(data) >= 10 else (0, 0)
    set_displayed_size(out, width, height)


# -- PNG without Pillow ------------------------------------------------------------------------

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def extract_png(data, out: Extracted) -> None:
    """A PNG Pillow refuses (a damaged CRC, an unknown colour type, a bad IHDR): the size
    from IHDR, EXIF from eXIf, and the text chunks read into a dict shaped as Pillow's
    `info`, for the readers Pillow's reading feeds (XMP in iTXt, "Creation Time", title,
    raw profiles). CRCs are not checked: a damaged one is often why Pillow refused."""
    out.metadata["format"] = "PNG"
    info: dict[str, Any] = {}
    size = None
    for kind, body in _png_chunks(data, out.errors):
        if kind == b"IHDR" and len(body) >= 8:
            size = struct.unpack(">II", body[:8])
        elif kind == b"eXIf" and "exif" not in info:
            info["exif"] = body
        elif kind in (b"tEXt", b"zTXt", b"iTXt"):
            text = _png_text(kind, body)
            if text is not None:
                info.setdefault(*text)
    exif = info.get("exif")
    if exif:
        image.safely(out, "exif", lambda: _read_tiff_exif(exif, out))
    xmp = info.get("XML:com.adobe.xmp")
    if isinstance(xmp, str) and xmp:
        image.safely(out, "xmp", lambda: image.read_embedded_xmp(xmp.encode("utf-8"), out))
    image.safely(out, "png text", lambda: image.read_png_text(info, out))
    image.safely(out, "png profiles", lambda: read_png_profiles(info, out))
    if size:
        set_displayed_size(out, *size)


def _png_chunks(data, problems: list[str]):
    """(type, data) of each chunk up to IEND: a 4-byte length, the type, the data, a CRC.
    Image data (IDAT) is stepped over, never copied."""
    if bytes(data[:8]) != PNG_SIGNATURE:
        return
    pos = 8
    for _ in range(MAX_CHUNKS):
        if pos + 8 > len(data):
            return
        length, kind = int.from_bytes(data[pos : pos + 4], "big"), bytes(data[pos + 4 : pos + 8])
        body = pos + 8
        if length > len(data) - body:
            problems.append(f"png: the {kind.decode('latin-1')!r} chunk runs past the file")
            return
        if kind == b"IEND":
            return
        if kind != b"IDAT" and length <= MAX_PROFILE_TEXT:
            yield kind, bytes(data[body : body + length])
        pos = body + length + 4


def _png_text(kind: bytes, body: bytes) -> tuple[str, str] | None:
    """A text chunk's (keyword, text): tEXt is Latin-1 "keyword\0text"; zTXt adds a
    compression method byte and deflates the text; iTXt is UTF-8 with a compression flag
    and method, a language tag and a translated keyword before the text."""
    keyword, sep, rest = body.partition(b"\0")
    if not sep or not keyword:
        return None
    encoding = "latin-1"
    if kind == b"zTXt":
        text = _inflate(rest[1:])
    elif kind == b"iTXt":
        compressed, rest = rest[:1] == b"\1", rest[2:]
        _language, _, rest = rest.partition(b"\0")
        _translated, _, rest = rest.partition(b"\0")
        text = _inflate(rest) if compressed else rest
        encoding = "utf-8"
    else:
        text = rest
    if text is None:
        return None
    return keyword.decode("latin-1"), text.decode(encoding, "replace")


def _inflate(data: bytes) -> bytes | None:
    """zlib data, at most MAX_PROFILE_TEXT once inflated (a small chunk can inflate to
    gigabytes); None if damaged or larger."""
    import zlib

    inflater = zlib.decompressobj()
    try:
        text = inflater.decompress(data, MAX_PROFILE_TEXT)
    except zlib.error:
        return None
    return None if inflater.unconsumed_tail else text


def read_without_pillow(data, out: Extracted) -> bool:
    """Read a file Pillow could not open with luna's own readers, told by its first bytes:
    TIFF and BigTIFF, WebP, GIF, PNG. True if that found anything about the file (knows_something),
    and then `out` holds it; False leaves `out` as it was."""
    head = bytes(data[:12])
    if head[:2] in (b"II", b"MM"):
        reader = extract_tiff
    elif head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        reader = extract_webp
    elif head[:3] == b"GIF":
        reader = extract_gif
    elif head[:8] == PNG_SIGNATURE:
        reader = extract_png
    else:
        return False
    found = Extracted()
    reader(data, found)
    if not knows_something(found):
        return False
    for name in Extracted.__slots__:
        if name not in ("extractors", "errors"):
            setattr(out, name, getattr(found, name))
    out.errors.extend(found.errors)
    out.extractors.append("luna-" + reader.__name__.removeprefix("extract_"))
    return True


def knows_something(found: Extracted) -> bool:
    """Whether a reading found anything about the file beyond its type: its size, a date,
    a place, keywords or a camera."""
    return bool(
        (found.width and found.height)
        or found.date_source
        or found.location_source
        or found.keywords
        or found.metadata.get("make")
        or found.metadata.get("model")
    )
