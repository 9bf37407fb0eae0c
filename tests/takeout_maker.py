"""A synthetic Google Photos Takeout with every naming case the issue lists (issue 19), split
over two zip parts or laid out as the extracted folders, and what a right import of it is.

    expected = make_takeout(tmp_path / "parts", zipped=True)

Each photo is a real small JPEG (make_photo), HEIC (pillow-heif) or QuickTime file, with
content of its own unless the case is a copy of another (album copies of a year-folder
photo are the very same bytes, as Google writes them).
"""

from __future__ import annotations

import datetime as dt
import io
import json
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from conftest import make_photo

ROOT = "Takeout/Google Photos"
LONG = "00100lrPORTRAIT_00100_BURST20190601123456789_COVER"  # 50 characters


@dataclass
class Expected:
    """What the library must hold after importing the Takeout: one entry per distinct media
    content, by a name that identifies it (the year folder's file name)."""

    # name -> (local start "2019-06-01T12:00:00", date source family, (lat, lon) or None)
    photos: dict[str, tuple] = field(default_factory=dict)
    albums: dict[str, set[str]] = field(default_factory=dict)  # title -> names
    tags: dict[str, set[str]] = field(default_factory=dict)  # name -> tags
    picked: set[str] = field(default_factory=set)
    descriptions: dict[str, str] = field(default_factory=dict)
    without_json: set[str] = field(default_factory=set)  # Takeout paths of media, no JSON
    json_without_media: set[str] = field(default_factory=set)


def photo_json(title: str, taken: dt.datetime | None, *, geo=None, geo_exif=None, **extra):
    """A photo's JSON as Google writes it (photoTakenTime in UTC)."""
    value: dict = {"title": title, "description": "", "imageViews": "3"}
    if taken is not None:
        stamp = int(taken.replace(tzinfo=dt.UTC).timestamp())
        value["photoTakenTime"] = {"timestamp": str(stamp), "formatted": taken.isoformat()}
    value["geoData"] = _geo(geo)
    value["geoDataExif"] = _geo(geo_exif)
    value.update(extra)
    return json.dumps(value).encode()


def _geo(point):
    lat, lon = point or (0.0, 0.0)
    return {"latitude": lat, "longitude": lon, "altitude": 0.0, "latitudeSpan": 0.0,
            "longitudeSpan": 0.0}  # fmt: skip


def _jpeg(color, **exif) -> bytes:
    with tempfile.TemporaryDirectory() as folder:
        return make_photo(Path(folder) / "p.jpg", color=color, **exif).read_bytes()


def _heic(color) -> bytes:
    import pillow_heif
    from PIL import Image

    pillow_heif.register_heif_opener()
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), color).save(buffer, "HEIF")
    return buffer.getvalue()


def _mov(seed: int) -> bytes:
    from test_related import minimal_mov

    with tempfile.TemporaryDirectory() as folder:
        target = Path(folder) / "v.mov"
        minimal_mov(target, payload=bytes([seed]) * 64)
        return target.read_bytes()


def takeout_members() -> tuple[list[tuple[str, bytes, int]], Expected]:
    """(path inside the Takeout, bytes, zip part 1 or 2) of every member, and the expected
    result."""
    members: list[tuple[str, bytes, int]] = []
    e = Expected()

    def add(folder: str, name: str, data: bytes, part: int = 1) -> None:
        members.append((f"{ROOT}/{folder}/{name}", data, part))

    y19, y20 = "Photos from 2019", "Photos from 2020"
    june = dt.datetime(2019, 6, 1, 10, 0, 0)  # UTC

    # 1. the first generation: IMG.jpg.json; the EXIF date (with its offset) wins
    one = _jpeg((10, 20, 30), taken="2019:06:01 12:00:00", offset="+02:00")
    add(y19, "IMG_0001.jpg", one)
    add(y19, "IMG_0001.jpg.json", photo_json("IMG_0001.jpg", june, geo=(48.8566, 2.3522)))
    e.photos["IMG_0001.jpg"] = ("2019-06-01T12:00:00+02:00", "exif", (48.8566, 2.3522))

    # 2. the 2024 generation; an EXIF/JSON date conflict (EXIF wins), geoDataExif first
    two = _jpeg((40, 50, 60), taken="2020:03:04 08:09:10")
    add(y20, "IMG_0002.jpg", two)
    add(y20, "IMG_0002.jpg.supplemental-metadata.json",
        photo_json("IMG_0002.jpg", dt.datetime(2021, 1, 1), geo=(1.0, 1.0),
                   geo_exif=(64.1466, -21.9426)))  # fmt: skip
    e.photos["IMG_0002.jpg"] = ("2020-03-04T08:09:10", "exif", (64.1466, -21.9426))

    # 3. only the JSON knows the date (no EXIF date): at the place's zone (Paris, summer)
    three = _jpeg((70, 80, 90), taken=None)
    add(y19, "IMG_0003.jpg", three)
    add(y19, "IMG_0003.jpg.json",
        photo_json("IMG_0003.jpg", june, geo_exif=(48.8566, 2.3522),
                   description="Sunset <b>over</b> the bay", favorited=True))  # fmt: skip
    e.photos["IMG_0003.jpg"] = ("2019-06-01T12:00:00+02:00", "takeout", (48.8566, 2.3522))
    e.descriptions["IMG_0003.jpg"] = "Sunset <b>over</b> the bay"
    e.picked.add("IMG_0003.jpg")

    # 4. (1) pairs: two photos of one name, their JSONs numbered after the extension
    four, four_b = _jpeg((100, 0, 0), taken=None), _jpeg((0, 100, 0), taken=None)
    add(y19, "IMG_0004.jpg", four)
    add(y19, "IMG_0004(1).jpg", four_b)
    add(y19, "IMG_0004.jpg.json", photo_json("IMG_0004.jpg", dt.datetime(2019, 6, 2, 10)))
    add(y19, "IMG_0004.jpg(1).json", photo_json("IMG_0004.jpg", dt.datetime(2019, 6, 3, 10)))
    e.photos["IMG_0004.jpg"] = ("2019-06-02", "takeout", None)
    e.photos["IMG_0004(1).jpg"] = ("2019-06-03", "takeout", None)

    # 5. names cut short: inside the suffix, and inside the photo's own name
    insta = "Screenshot_20190601-123456_Instagram.jpg"
    add(y19, insta, _jpeg((1, 2, 3), taken="2019:06:01 18:00:00"))
    add(y19, "Screenshot_20190601-123456_Instagram.jpg.supple.json",
        photo_json(insta, june, people=[{"name": "Alice"}, {"name": "Bob"}]))  # fmt: skip
    e.photos[insta] = ("2019-06-01T18:00:00", "exif", None)
    e.tags[insta] = {"People/Alice", "People/Bob"}
    portrait = f"{LONG}.PORTRAIT.ORIGINAL_long.jpg"
    add(y19, portrait, _jpeg((4, 5, 6), taken="2019:06:01 19:00:00"))
    add(y19, f"{LONG[:46]}.json", photo_json(portrait, june, archived=True))
    e.photos[portrait] = ("2019-06-01T19:00:00", "exif", None)
    e.tags[portrait] = {"takeout/archived"}

    # 6. edited copies in two languages share the original's JSON
    six = _jpeg((7, 8, 9), taken=None)
    add(y19, "IMG_0006.jpg", six)
    add(y19, "IMG_0006-edited.jpg", _jpeg((120, 8, 10), taken=None))
    add(y19, "IMG_0006-bearbeitet.jpg", _jpeg((7, 200, 11), taken=None))
    add(y19, "IMG_0006.jpg.json", photo_json("IMG_0006.jpg", dt.datetime(2019, 6, 4, 10)))
    for name in ("IMG_0006.jpg", "IMG_0006-edited.jpg", "IMG_0006-bearbeitet.jpg"):
        e.photos[name] = ("2019-06-04", "takeout", None)

    # 7. a photo in its year folder and in two albums (the same bytes three times)
    seven = _jpeg((11, 12, 13), taken="2019:07:14 15:00:00")
    add(y19, "IMG_0007.jpg", seven)
    add(y19, "IMG_0007.jpg.json", photo_json("IMG_0007.jpg", june))
    for album, part in (("Paris trip", 1), ("Best of", 2)):
        add(album, "IMG_0007.jpg", seven, part)
        add(album, "IMG_0007.jpg.json", photo_json("IMG_0007.jpg", june), part)
        add(album, "metadata.json", json.dumps({"title": album, "description": ""}).encode(),
            part)  # fmt: skip
        e.albums[album] = {"IMG_0007.jpg"}
    e.albums["Paris trip"].add("IMG_0001.jpg")
    add("Paris trip", "IMG_0001.jpg", one)
    add("Paris trip", "IMG_0001.jpg.json", photo_json("IMG_0001.jpg", june))
    e.photos["IMG_0007.jpg"] = ("2019-07-14T15:00:00", "exif", None)

    # 8. a Live Photo: a HEIC still and its video, which shares the still's JSON
    add(y19, "IMG_0008.HEIC", _heic((20, 30, 40)))
    add(y19, "IMG_0008.MOV", _mov(8))
    add(y19, "IMG_0008.HEIC.supplemental-metadata.json",
        photo_json("IMG_0008.HEIC", dt.datetime(2019, 6, 5, 10)))  # fmt: skip
    e.photos["IMG_0008.HEIC"] = ("2019-06-05", "takeout", None)
    e.photos["IMG_0008.MOV"] = ("2019-06-05", "takeout", None)

    # 9. a trashed photo, in a localised year folder, in the second part; its JSON in the
    #    first (a folder spans parts)
    nine = _jpeg((50, 60, 70), taken="2018:12:24 20:00:00")
    add("Fotos von 2018", "IMG_0009.jpg", nine, 2)
    add("Fotos von 2018", "IMG_0009.jpg.json",
        photo_json("IMG_0009.jpg", june, trashed=True), 1)  # fmt: skip
    e.photos["IMG_0009.jpg"] = ("2018-12-24T20:00:00", "exif", None)
    e.tags["IMG_0009.jpg"] = {"takeout/trashed"}

    # 10. the same file in both parts; a photo without JSON; a JSON without its photo
    ten = _jpeg((90, 91, 92), taken="2019:08:01 09:00:00")
    add(y19, "IMG_0010.jpg", ten, 1)
    add(y19, "IMG_0010.jpg", ten, 2)
    add(y19, "IMG_0010.jpg.json", photo_json("IMG_0010.jpg", june), 2)
    e.photos["IMG_0010.jpg"] = ("2019-08-01T09:00:00", "exif", None)
    add(y19, "IMG_0011.jpg", _jpeg((93, 94, 95), taken="2019:08:02 09:00:00"))
    e.photos["IMG_0011.jpg"] = ("2019-08-02T09:00:00", "exif", None)
    e.without_json.add(f"{ROOT}/{y19}/IMG_0011.jpg")
    add(y19, "IMG_0012.jpg.json", photo_json("IMG_0012.jpg", june))
    e.json_without_media.add(f"{ROOT}/{y19}/IMG_0012.jpg.json")
    add("", "print-subscriptions.json", b"{}")  # neither a photo's nor an album's
    return members, e


def make_takeout(folder: Path, *, zipped: bool) -> Expected:
    """Write the Takeout into `folder`: takeout-001.zip and takeout-002.zip, or the folders
    they extract to (the two parts merged, as unzipping both into one place does)."""
    members, expected = takeout_members()
    folder.mkdir(parents=True, exist_ok=True)
    if zipped:
        for part in (1, 2):
            with zipfile.ZipFile(folder / f"takeout-00{part}.zip", "w") as z:
                for name, data, in_part in members:
                    if in_part == part:
                        z.writestr(name.replace("//", "/"), data)
    else:
        for name, data, _ in members:
            path = folder / name.replace("//", "/")
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
    return expected
