"""Google Takeout (issue 19): which JSON file is whose, by name, under every naming
generation, and what a photo's JSON says."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from luna.ingest.takeout import (
    NotTakeoutJson,
    album_title,
    is_photo_json,
    is_year_folder,
    json_name,
    media_name,
    pair_with_json,
    photo_facts,
    read_json,
)


def test_json_names_taken_apart():
    assert json_name("IMG_1.jpg.json")[1:3] == ("IMG_1.jpg", None)
    assert json_name("IMG_1.jpg.supplemental-metadata.json")[1:3] == ("IMG_1.jpg", None)
    assert json_name("IMG_1.jpg.supplemental-metadata(2).json")[1:3] == ("IMG_1.jpg", 2)
    assert json_name("IMG_1.jpg(1).json")[1:3] == ("IMG_1.jpg", 1)
    assert json_name("IMG_1.json")[1:3] == ("IMG_1", None)
    # Cut inside the suffix, down to its dot.
    assert json_name("IMG_20190601_123456789_Instagram.jpg.supple.json").base == (
        "IMG_20190601_123456789_Instagram.jpg"
    )
    assert json_name("IMG_20190601_123456789_Instagram_long.jpg..json").base == (
        "IMG_20190601_123456789_Instagram_long.jpg"
    )
    short = json_name("IMG_1.jpg.json")
    assert not short.may_be_cut
    assert json_name("0" * 41 + ".json").may_be_cut


def test_media_names_as_their_json_names_them():
    assert media_name("IMG_1(1).jpg")[1:] == ("IMG_1.jpg", 1, False)
    assert media_name("IMG_1-edited.jpg")[1:] == ("IMG_1.jpg", None, True)
    assert media_name("IMG_1-bearbeitet.jpg")[1:] == ("IMG_1.jpg", None, True)
    assert media_name("IMG_1-modifié.jpg")[1:] == ("IMG_1.jpg", None, True)
    assert media_name("IMG_1-EDITED.JPG")[1:] == ("IMG_1.JPG", None, True)
    assert media_name("IMG_1.jpg")[1:] == ("IMG_1.jpg", None, False)


LONG = "00100lrPORTRAIT_00100_BURST20190601123456789_COVER"  # 50 characters


@pytest.mark.parametrize(
    ("media", "jsons", "expected"),
    [
        # the first generation, and the suffix of 2024
        (["IMG_1.jpg"], ["IMG_1.jpg.json"], {"IMG_1.jpg": "IMG_1.jpg.json"}),
        (["IMG_1.jpg"], ["IMG_1.jpg.supplemental-metadata.json"],
         {"IMG_1.jpg": "IMG_1.jpg.supplemental-metadata.json"}),
        # a second photo of the same name
        (["IMG_1.jpg", "IMG_1(1).jpg"], ["IMG_1.jpg.json", "IMG_1.jpg(1).json"],
         {"IMG_1.jpg": "IMG_1.jpg.json", "IMG_1(1).jpg": "IMG_1.jpg(1).json"}),
        (["IMG_1(1).jpg"], ["IMG_1.jpg.supplemental-metadata(1).json"],
         {"IMG_1(1).jpg": "IMG_1.jpg.supplemental-metadata(1).json"}),
        # without the photo's extension
        (["IMG_2.jpg"], ["IMG_2.json"], {"IMG_2.jpg": "IMG_2.json"}),
        # cut inside the suffix
        (["Screenshot_20190601-123456_Instagram.jpg"],
         ["Screenshot_20190601-123456_Instagram.jpg.supple.json"],
         {"Screenshot_20190601-123456_Instagram.jpg":
          "Screenshot_20190601-123456_Instagram.jpg.supple.json"}),
        # cut inside the photo's own name, two photos sharing the start
        ([f"{LONG}.PORTRAIT.ORIGINAL_long.jpg", f"{LONG}.jpg"],
         [f"{LONG[:46]}.json", f"{LONG[:46]}(1).json"],
         {f"{LONG}.PORTRAIT.ORIGINAL_long.jpg": f"{LONG[:46]}.json"}),
        # edited copies share the original's JSON, in two languages
        (["IMG_3.jpg", "IMG_3-edited.jpg", "IMG_3-bearbeitet.jpg"], ["IMG_3.jpg.json"],
         {"IMG_3.jpg": "IMG_3.jpg.json", "IMG_3-edited.jpg": "IMG_3.jpg.json",
          "IMG_3-bearbeitet.jpg": "IMG_3.jpg.json"}),
        # a Live Photo's video shares its still's
        (["IMG_4.HEIC", "IMG_4.MP", "IMG_5.jpg", "IMG_5.MOV"],
         ["IMG_4.HEIC.supplemental-metadata.json", "IMG_5.jpg.json"],
         {"IMG_4.HEIC": "IMG_4.HEIC.supplemental-metadata.json",
          "IMG_4.MP": "IMG_4.HEIC.supplemental-metadata.json",
          "IMG_5.jpg": "IMG_5.jpg.json", "IMG_5.MOV": "IMG_5.jpg.json"}),
        # a video with a JSON of its own keeps it; a photo without one gets none
        (["VID_6.mp4", "IMG_7.jpg"], ["VID_6.mp4.json"], {"VID_6.mp4": "VID_6.mp4.json"}),
    ],
)  # fmt: skip
def test_pairing_photos_with_their_json(media, jsons, expected):
    assert pair_with_json(media, jsons) == expected


def test_a_cut_json_is_one_photos_only():
    media = [f"{LONG}_A.jpg", f"{LONG}_B.jpg"]
    paired = pair_with_json(media, [f"{LONG[:46]}.json"])
    assert list(paired.values()) == [f"{LONG[:46]}.json"]  # not both


def test_year_folders_are_not_albums():
    for name in ("Photos from 2019", "Fotos von 2019", "Photos de 2019", "Foto del 2019",
                 "Zdjęcia z 2019", "Fotos de 2019", "2019-06-01", "2019-06-01 #2"):  # fmt: skip
        assert is_year_folder(name), name
    for name in ("Summer 2019 in Brittany with the kids and the dog", "Wedding", "Paris",
                 "Best of", "2019 favourites"):  # fmt: skip
        assert not is_year_folder(name), name


PHOTO_JSON = {
    "title": "IMG_1.jpg",
    "description": "Sunset over the bay",
    "photoTakenTime": {"timestamp": "1559390400", "formatted": "1 Jun 2019, 12:00:00 UTC"},
    "geoData": {"latitude": 48.1, "longitude": -1.6, "altitude": 0.0},
    "geoDataExif": {"latitude": 48.8566, "longitude": 2.3522, "altitude": 35.0},
    "favorited": True,
    "trashed": True,
    "people": [{"name": "Alice"}, {"name": "Bob"}, {"name": "Alice"}, {"x": 1}],
}


def test_what_a_photos_json_says():
    value = read_json(json.dumps(PHOTO_JSON).encode())
    assert is_photo_json(value) and album_title(value) is None
    facts = photo_facts(value)
    assert facts.taken_utc == dt.datetime(2019, 6, 1, 12, 0, 0)
    assert (facts.latitude, facts.longitude, facts.altitude) == (48.8566, 2.3522, 35.0)
    assert facts.description == "Sunset over the bay"
    assert facts.favorited and facts.trashed and not facts.archived
    assert facts.people == ["Alice", "Bob"]


def test_no_place_and_no_date_are_none():
    facts = photo_facts({"photoTakenTime": {"timestamp": "0"},
                         "geoDataExif": {"latitude": 0.0, "longitude": 0.0},
                         "geoData": {"latitude": 0.0, "longitude": 0.0}})  # fmt: skip
    assert facts.taken_utc is None and facts.latitude is None
    only_geodata = photo_facts({"geoData": {"latitude": 64.1, "longitude": -21.9}})
    assert (only_geodata.latitude, only_geodata.altitude) == (64.1, None)
    assert photo_facts({"geoData": {"latitude": "x", "longitude": 2}}).latitude is None


def test_albums_metadata_and_bad_json():
    assert album_title({"title": "Summer 2019", "description": "", "access": "protected"}) == (
        "Summer 2019"
    )
    assert album_title({"title": ""}) is None
    for data in (b"", b"[1, 2]", b"{not json", b"\xff\xfe"):
        with pytest.raises(NotTakeoutJson):
            read_json(data)


def test_every_photo_of_the_generated_takeout_finds_its_json(tmp_path):
    """On the synthetic Takeout of the end-to-end tests: every photo but the one without a
    JSON pairs, and only the orphan JSON is left over."""
    import os

    from takeout_maker import make_takeout

    expected = make_takeout(tmp_path, zipped=False)
    unpaired, used, photo_jsons = set(), set(), set()
    for folder, _, names in os.walk(tmp_path):
        inside = os.path.relpath(folder, tmp_path)
        jsons = []
        for name in names:
            if name.endswith(".json"):
                value = read_json((tmp_path / inside / name).read_bytes())
                if is_photo_json(value):
                    jsons.append(name)
                    photo_jsons.add(f"{inside}/{name}")
        media = [n for n in names if not n.endswith(".json")]
        paired = pair_with_json(media, jsons)
        unpaired |= {f"{inside}/{n}" for n in media if n not in paired}
        used |= {f"{inside}/{j}" for j in paired.values()}
    assert unpaired == expected.without_json
    assert photo_jsons - used == expected.json_without_media


@pytest.mark.parametrize(
    ("point", "zone"),
    [
        ((48.8566, 2.3522), "Europe/Paris"),
        ((40.71, -74.0), "America/New_York"),
        ((41.88, -87.63), "America/Chicago"),
        ((34.05, -118.24), "America/Los_Angeles"),
        ((64.1466, -21.9426), "Atlantic/Reykjavik"),
        ((-31.95, 115.86), "Australia/Perth"),
        ((47.5596, 7.5886), "Europe/Zurich"),  # Basel, at the French and German borders
        ((-16.5, 179.9), "Pacific/Fiji"),  # across the 180th meridian
        ((40.0, -40.0), "Etc/GMT+3"),  # open sea: the nautical zone, UTC-3
    ],
)
def test_the_time_zone_at_a_position(point, zone):
    from luna.places.zones import time_zone_at

    assert time_zone_at(*point) == zone


def _tree(listing):
    return {
        path: (sorted(folder.media), sorted(folder.jsons))
        for path, folder in listing.folders.items()
    }


def test_the_parts_merge_into_one_tree_from_zips_and_folders(tmp_path):
    from takeout_maker import make_takeout

    from luna.ingest.takeout_files import Parts, list_takeout

    make_takeout(tmp_path / "zips", zipped=True)
    make_takeout(tmp_path / "folders", zipped=False)
    zipped = list_takeout(sorted(str(p) for p in (tmp_path / "zips").iterdir()))
    extracted = list_takeout([str(tmp_path / "folders")])
    assert _tree(zipped) == _tree(extracted)
    assert zipped.repeated == 1  # IMG_0010.jpg, in both parts
    year = zipped.folders["Takeout/Google Photos/Fotos von 2018"]
    # the photo in the second part, its JSON in the first
    assert year.media["IMG_0009.jpg"].part.endswith("takeout-002.zip")
    assert year.jsons["IMG_0009.jpg.json"].part.endswith("takeout-001.zip")
    with Parts() as parts:
        for listing in (zipped, extracted):
            member = listing.folders["Takeout/Google Photos/Best of"].media["IMG_0007.jpg"]
            with parts.open(member) as stream:
                assert stream.read(2) == b"\xff\xd8"  # a JPEG, read in place
            value = read_json(parts.read_json(year.jsons["IMG_0009.jpg.json"]))
            assert photo_facts(value).trashed


def test_a_part_that_is_no_zip_is_one_clear_error(tmp_path):
    from luna.ingest.takeout_files import BadTakeout, list_takeout

    bad = tmp_path / "takeout-003.zip"
    bad.write_bytes(b"PK\x03\x04 cut short")
    with pytest.raises(BadTakeout, match="not a readable zip"):
        list_takeout([str(bad)])
    with pytest.raises(BadTakeout, match="no such file"):
        list_takeout([str(tmp_path / "missing.zip")])
