"""Files that belong together are linked: RAW+JPEG, Live Photos, edited copies, sidecars."""

from __future__ import annotations

import datetime as dt
import struct

from conftest import make_photo

from luna.ingest.importer import ImportOptions

XMP = """<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF
 xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description
 xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:subject><rdf:Bag><rdf:li>beach</rdf:li>
</rdf:Bag></dc:subject></rdf:Description></rdf:RDF></x:xmpmeta>"""

AAE = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0"><dict><key>adjustmentFormatIdentifier</key>
<string>com.apple.photo</string></dict></plist>
"""


def minimal_mov(path, payload: bytes = b"", taken: dt.datetime | None = None) -> None:
    """Enough of a QuickTime file for libmagic to call it video/quicktime; with `taken`
    (UTC), a movie header (mvhd) that says when it was recorded."""
    ftyp = b"ftypqt  \x00\x00\x02\x00qt  "
    moov = b""
    if taken is not None:
        seconds = int((taken - dt.datetime(1904, 1, 1)).total_seconds())
        mvhd = struct.pack(">5L", 0, seconds, seconds, 600, 1200)
        mvhd += struct.pack(">LH10x9L", 0x10000, 0x100, 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 1 << 30)
        mvhd += bytes(24) + struct.pack(">L", 2)
        mvhd_box = struct.pack(">L", 8 + len(mvhd)) + b"mvhd" + mvhd
        moov = struct.pack(">L", 8 + len(mvhd_box)) + b"moov" + mvhd_box
    path.write_bytes(
        len(ftyp + b"1234").to_bytes(4, "big") + ftyp + moov + b"\x00\x00\x00\x08free" + payload
    )


def make_raw(path, **kwargs) -> None:
    """A TIFF-structured file named like a camera RAW (NEF, ARW and DNG are TIFF inside)."""
    make_photo(path, fmt="TIFF", **kwargs)


def related(lib, path) -> set[tuple[str, str]]:
    rec = lib.serialize(lib.get_file(str(path)))
    return {(r["relation"], r["path"].rsplit("/", 1)[1]) for r in rec["related_files"]}


def imp(lib, folder):
    return lib.import_paths([str(folder)], ImportOptions())


def test_raw_and_jpeg_of_one_shot_are_paired(lib, photos):
    make_raw(photos / "DSC_0001.NEF")
    make_photo(photos / "DSC_0001.JPG", color=(9, 9, 9))
    make_photo(photos / "DSC_0002.JPG", color=(8, 8, 8))
    imp(lib, photos)
    assert lib.serialize(lib.get_file(str(photos / "DSC_0001.NEF")))["mime_type"] == (
        "image/x-nikon-nef"
    )
    assert related(lib, photos / "DSC_0001.JPG") == {("raw+jpeg", "DSC_0001.NEF")}
    assert related(lib, photos / "DSC_0001.NEF") == {("raw+jpeg", "DSC_0001.JPG")}
    assert related(lib, photos / "DSC_0002.JPG") == set()


def test_live_photo_still_and_video_are_paired(lib, photos):
    make_photo(photos / "IMG_0042.JPG", taken="2019:06:01 12:34:56", offset="+02:00")
    minimal_mov(photos / "IMG_0042.MOV", taken=dt.datetime(2019, 6, 1, 10, 34, 55))
    imp(lib, photos)
    assert related(lib, photos / "IMG_0042.JPG") == {("live-photo", "IMG_0042.MOV")}


def test_a_name_alone_does_not_make_a_live_photo(lib, photos):
    # Two shoots that happen to share a name: a year apart, or one with no date at all.
    # (Unlinked, they no longer travel together on `import --move`.)
    make_photo(photos / "QuickTime.jpg", taken="2019:06:01 12:34:56")
    minimal_mov(photos / "QuickTime.mov", taken=dt.datetime(2020, 6, 1, 12, 34, 56))
    make_photo(photos / "IMG_0001.JPG", taken="2019:06:01 12:34:56", color=(1, 2, 3))
    minimal_mov(photos / "IMG_0001.MOV")  # dated only by its mtime: a guess
    imp(lib, photos)
    assert related(lib, photos / "QuickTime.jpg") == set()
    assert related(lib, photos / "IMG_0001.JPG") == set()


def test_edited_copies_point_to_their_original(lib, photos):
    make_photo(photos / "IMG_0001.jpg")
    make_photo(photos / "IMG_0001-edited.jpg", color=(1, 1, 1))
    make_photo(photos / "IMG_0002.jpg", color=(2, 2, 2))
    make_photo(photos / "IMG_0002_edit.jpg", color=(3, 3, 3))
    make_photo(photos / "IMG_1234.JPG", color=(4, 4, 4))
    make_photo(photos / "IMG_E1234.JPG", color=(5, 5, 5))
    imp(lib, photos)
    assert related(lib, photos / "IMG_0001-edited.jpg") == {("edited", "IMG_0001.jpg")}
    assert related(lib, photos / "IMG_0002_edit.jpg") == {("edited", "IMG_0002.jpg")}
    assert related(lib, photos / "IMG_E1234.JPG") == {("edited", "IMG_1234.JPG")}
    assert related(lib, photos / "IMG_0001.jpg") == {("edited", "IMG_0001-edited.jpg")}


def test_sidecars_are_files_of_their_own_kind_linked_to_their_media(lib, photos):
    make_photo(photos / "IMG_3.jpg")
    (photos / "IMG_3.jpg.xmp").write_text(XMP)
    make_raw(photos / "IMG_4.NEF", color=(4, 4, 4))
    make_photo(photos / "IMG_4.jpg", color=(5, 5, 5))
    (photos / "IMG_4.xmp").write_text(XMP.replace("beach", "forest"))
    make_photo(photos / "IMG_6.jpg", color=(7, 7, 7))
    (photos / "IMG_6.AAE").write_text(AAE)
    report = imp(lib, photos)
    assert report.added == 7 and report.skipped == 0
    sidecar = lib.serialize(lib.get_file(str(photos / "IMG_3.jpg.xmp")))
    assert sidecar["kind"] == "sidecar"
    assert sidecar["mime_type"] in ("application/rdf+xml", "text/xml", "application/xml")
    assert related(lib, photos / "IMG_3.jpg") == {("sidecar", "IMG_3.jpg.xmp")}
    assert related(lib, photos / "IMG_4.xmp") == {
        ("sidecar", "IMG_4.NEF"),
        ("sidecar", "IMG_4.jpg"),
    }
    assert related(lib, photos / "IMG_6.AAE") == {("sidecar", "IMG_6.jpg")}
    assert lib.stats()["by_kind"] == {"photo": 4, "sidecar": 3}


def test_links_follow_files_that_vanish(lib, photos):
    make_raw(photos / "DSC_0001.NEF")
    make_photo(photos / "DSC_0001.JPG", color=(9, 9, 9))
    imp(lib, photos)
    (photos / "DSC_0001.NEF").unlink()
    imp(lib, photos)
    assert related(lib, photos / "DSC_0001.JPG") == set()


def test_show_lists_related_files(lib, photos, cli, cli_json):
    make_raw(photos / "DSC_0001.NEF")
    make_photo(photos / "DSC_0001.JPG", color=(9, 9, 9))
    imp(lib, photos)
    records = cli_json("show", photos / "DSC_0001.JPG")[1]["files"]
    assert [(r["relation"], r["path"]) for r in records[0]["related_files"]] == [
        ("raw+jpeg", str(photos / "DSC_0001.NEF"))
    ]
    code, out, _ = cli("show", photos / "DSC_0001.JPG")
    assert "related (raw+jpeg)" in out and "DSC_0001.NEF" in out


def apple_maker_note(identifier: str) -> bytes:
    """An iPhone-style maker note holding only a ContentIdentifier (tag 0x11)."""
    value = identifier.encode() + b"\0"
    header = b"Apple iOS\0" + b"\x00\x01" + b"MM"
    entry_offset = len(header) + 2 + 12 + 4  # header, count, one entry, next-IFD
    entry = (0x11).to_bytes(2, "big") + (2).to_bytes(2, "big") + len(value).to_bytes(4, "big")
    entry += entry_offset.to_bytes(4, "big")
    return header + (1).to_bytes(2, "big") + entry + b"\0\0\0\0" + value


def test_apple_content_identifier_is_read_from_the_maker_note(lib, photos):
    import piexif

    path = make_photo(photos / "IMG_0001.JPG", make="Apple", model="iPhone 12")
    exif = piexif.load(str(path))
    exif["Exif"][piexif.ExifIFD.MakerNote] = apple_maker_note("570F1469-09C7-4E50")
    piexif.insert(piexif.dump(exif), str(path))
    imp(lib, photos)
    rec = lib.serialize(lib.get_file(str(path)))
    assert rec["metadata"]["content_identifier"] == "570F1469-09C7-4E50"


def test_content_identifiers_decide_over_times(lib, photos):
    import piexif

    still = make_photo(photos / "IMG_0100.JPG", taken="2019:06:01 12:34:56", make="Apple")
    exif = piexif.load(str(still))
    exif["Exif"][piexif.ExifIFD.MakerNote] = apple_maker_note("AAAA-1111")
    piexif.insert(piexif.dump(exif), str(still))
    # A video taken the same second that carries another Live Photo's identifier.
    xmp = (
        b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/'
        b'02/22-rdf-syntax-ns#"><rdf:Description xmlns:apple-fi="http://ns.apple.com/faceinfo'
        b'/1.0/" apple-fi:ContentIdentifier="BBBB-2222"/></rdf:RDF></x:xmpmeta>'
    )
    minimal_mov(photos / "IMG_0100.MOV", taken=dt.datetime(2019, 6, 1, 12, 34, 56))
    (photos / "IMG_0100.MOV.xmp").write_bytes(xmp)
    imp(lib, photos)
    video = lib.serialize(lib.get_file(str(photos / "IMG_0100.MOV")))
    assert video["metadata"]["content_identifier"] == "BBBB-2222"
    assert ("live-photo", "IMG_0100.MOV") not in related(lib, photos / "IMG_0100.JPG")
