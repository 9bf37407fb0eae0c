"""XMP sidecars (IMG_1.jpg.xmp, IMG_1.xmp) fill what their media lacks."""

from __future__ import annotations

import os
import time

from conftest import make_photo

from luna.ingest.importer import ImportOptions


def xmp(*, subjects=(), hierarchical=(), date=None, gps=None, title=None) -> str:
    """A Lightroom-style sidecar."""
    parts = []
    if subjects:
        items = "".join(f"<rdf:li>{s}</rdf:li>" for s in subjects)
        parts.append(f"<dc:subject><rdf:Bag>{items}</rdf:Bag></dc:subject>")
    if hierarchical:
        items = "".join(f"<rdf:li>{h}</rdf:li>" for h in hierarchical)
        parts.append(f"<lr:hierarchicalSubject><rdf:Bag>{items}</rdf:Bag></lr:hierarchicalSubject>")
    if title:
        parts.append(
            f'<dc:title><rdf:Alt><rdf:li xml:lang="x-default">{title}</rdf:li></rdf:Alt></dc:title>'
        )
    attributes = ""
    if date:
        attributes += f' exif:DateTimeOriginal="{date}"'
    if gps:
        attributes += f' exif:GPSLatitude="{gps[0]}" exif:GPSLongitude="{gps[1]}"'
    return (
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
        'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/" '
        'xmlns:lr="http://ns.adobe.com/lightroom/1.0/" '
        f'xmlns:exif="http://ns.adobe.com/exif/1.0/"{attributes}>'
        + "".join(parts)
        + "</rdf:Description></rdf:RDF></x:xmpmeta>"
    )


def record(lib, path):
    return lib.serialize(lib.get_file(str(path)))


def imp(lib, folder):
    return lib.import_paths([str(folder)], ImportOptions())


def test_sidecar_keywords_and_hierarchy_become_tags_of_the_media(lib, photos):
    photo = make_photo(photos / "IMG_1.jpg")
    (photos / "IMG_1.jpg.xmp").write_text(
        xmp(subjects=["beach", "Alice"], hierarchical=["People|Family|Alice"])
    )
    imp(lib, photos)
    rec = record(lib, photo)
    # dc:subject's "Alice" is the last level of People|Family|Alice: that tag, not another.
    assert rec["tags"] == ["People/Family/Alice", "beach"]
    assert rec["processor_metadata"]["sidecars"] == [str(photos / "IMG_1.jpg.xmp")]
    # The sidecar's own record keeps its keywords as metadata, not as tags.
    side = record(lib, photos / "IMG_1.jpg.xmp")
    assert side["tags"] == [] and side["metadata"]["keywords"] == ["beach", "People/Family/Alice"]


def test_sidecar_fills_a_missing_date_and_place(lib, photos):
    photo = make_photo(photos / "DSC_0001.jpg", taken=None)
    (photos / "DSC_0001.xmp").write_text(
        xmp(date="2019-06-01T12:34:56+02:00", gps=("48,51.5N", "2,21.0E"), title="Paris")
    )
    imp(lib, photos)
    rec = record(lib, photo)
    assert rec["start"] == "2019-06-01T12:34:56+02:00"
    assert rec["processor_metadata"]["date_source"] == "sidecar:DateTimeOriginal"
    assert round(rec["location"]["latitude"], 4) == 48.8583
    assert rec["metadata"]["title"] == "Paris"


def test_the_files_own_metadata_wins_over_the_sidecar(lib, photos):
    photo = make_photo(photos / "a.jpg", taken="2020:01:02 03:04:05", gps=(10.0, 20.0))
    (photos / "a.xmp").write_text(xmp(date="2019-06-01T12:34:56", gps=("48,51.5N", "2,21.0E")))
    imp(lib, photos)
    rec = record(lib, photo)
    assert rec["start"] == "2020-01-02T03:04:05"
    assert round(rec["location"]["latitude"], 4) == 10.0


def test_editing_a_sidecar_updates_its_unchanged_media(lib, photos):
    photo = make_photo(photos / "IMG_2.jpg")
    sidecar = photos / "IMG_2.xmp"
    sidecar.write_text(xmp(subjects=["old"]))
    imp(lib, photos)
    assert record(lib, photo)["tags"] == ["old"]
    sidecar.write_text(xmp(subjects=["new", "newer"]))
    later = time.time() + 5
    os.utime(sidecar, (later, later))
    report = imp(lib, photos)
    assert report.updated == 2  # the sidecar and the photo it describes
    assert record(lib, photo)["tags"] == ["new", "newer"]


def test_xmp_embedded_in_the_photo(lib, photos):
    """XMP inside the JPEG (APP1) counts as the file's own metadata."""
    photo = make_photo(photos / "a.jpg", taken=None)
    packet = (
        b"http://ns.adobe.com/xap/1.0/\x00"
        + xmp(subjects=["embedded"], date="2018-02-03T04:05:06").encode()
    )
    data = photo.read_bytes()
    segment = b"\xff\xe1" + (len(packet) + 2).to_bytes(2, "big") + packet
    photo.write_bytes(data[:2] + segment + data[2:])
    imp(lib, photos)
    rec = record(lib, photo)
    assert rec["tags"] == ["embedded"]
    assert (rec["start"], rec["processor_metadata"]["date_source"]) == (
        "2018-02-03T04:05:06",
        "xmp:DateTimeOriginal",
    )


def test_a_sidecar_record_takes_its_xmp_date_camera_and_size(lib, photos):
    (photos / "orphan.xmp").write_text(
        xmp(date="2005-06-09T20:09:27+02:00").replace(
            "</rdf:Description>",
            '<tiff:Make xmlns:tiff="http://ns.adobe.com/tiff/1.0/">Canon</tiff:Make>'
            '<tiff:ImageWidth xmlns:tiff="http://ns.adobe.com/tiff/1.0/">1136</tiff:ImageWidth>'
            '<tiff:ImageLength xmlns:tiff="http://ns.adobe.com/tiff/1.0/">852</tiff:ImageLength>'
            "</rdf:Description>",
        )
    )
    imp(lib, photos)
    rec = record(lib, photos / "orphan.xmp")
    assert rec["kind"] == "sidecar"
    assert rec["start"] == "2005-06-09T20:09:27+02:00"
    assert (rec["metadata"]["make"], rec["width"], rec["height"]) == ("Canon", 1136, 852)


def test_a_sidecar_written_after_a_read_is_found_by_the_next_read(photos):
    # Reads of one folder share one listing of its names; a sidecar added meanwhile (the
    # folder's mtime changes) must not be hidden by it, nor one spelled in upper case.
    from luna.ingest.extract import read_file

    photo = make_photo(photos / "IMG_7.jpg")
    make_photo(photos / "IMG_8.jpg")
    assert read_file(str(photo)).found.sidecars == []
    (photos / "IMG_7.jpg.XMP").write_text(xmp(subjects=["later"]))
    assert read_file(str(photo)).found.sidecars == [str(photos / "IMG_7.jpg.XMP")]
    assert read_file(str(photos / "IMG_8.jpg")).found.sidecars == []
