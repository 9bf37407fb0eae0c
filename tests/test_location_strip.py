"""luna.ops.location_strip: a JPEG without the position it holds, for the originals
`luna gallery` exports without --keep-location."""

from __future__ import annotations

import io
import struct
import tempfile
from pathlib import Path

import piexif
import pytest
from conftest import make_photo
from PIL import Image

from luna.ops.location_strip import CannotStrip, jpeg_without_location

PARIS = (48.8566, 2.3522)


def test_jpeg_position_stripping():
    """Every place a JPEG holds a position goes; a JPEG without one is the same bytes."""
    plain = make_photo_bytes(gps=None)
    assert jpeg_without_location(plain) is plain
    located = make_photo_bytes(gps=PARIS)
    xmp = b"http://ns.adobe.com/xap/1.0/\x00<x:xmpmeta><exif:GPSLatitude>48,51N</exif:GPSLatitude>"
    segment = b"\xff\xe1" + struct.pack(">H", len(xmp) + 2) + xmp
    trailer = b"\xff\xd8 a second picture with its own GPS \xff\xd9"
    hostile = located[:2] + segment + located[2:] + trailer
    stripped = jpeg_without_location(hostile)
    assert not piexif.load(stripped)["GPS"] and b"GPSLatitude" not in stripped
    assert not stripped.endswith(trailer) and stripped.endswith(b"\xff\xd9")
    assert piexif.load(stripped)["0th"][piexif.ImageIFD.Make] == b"Canon"
    Image.open(io.BytesIO(stripped)).load()  # still a picture
    with pytest.raises(CannotStrip):
        jpeg_without_location(b"\xff\xd8\xff\xe1\xff\xff")  # a segment past the end
    with pytest.raises(CannotStrip):
        jpeg_without_location(b"GIF89a")


def make_photo_bytes(gps) -> bytes:
    with tempfile.TemporaryDirectory() as folder:
        return make_photo(Path(folder) / "p.jpg", gps=gps).read_bytes()
