"""`luna sidecar write` (issue 16): what the library says of a photo goes into its XMP
sidecar, where digiKam, darktable, Lightroom and ExifTool read it; an existing sidecar is
edited, never clobbered, and one another program changed since luna read it is left alone
and reported. The photos themselves never change.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess

import pytest
from conftest import make_photo, run_cli

DARKTABLE = """<?xml version="1.0" encoding="UTF-8"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/" x:xmptk="XMP Core 4.4.0-Exiv2">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about=""
    xmlns:xmp="http://ns.adobe.com/xap/1.0/"
    xmlns:darktable="http://darktable.sf.net/"
   xmp:Rating="1"
   darktable:xmp_version="5"
   darktable:history_end="2">
   <darktable:history>
    <rdf:Seq>
     <rdf:li darktable:num="0" darktable:operation="exposure" darktable:enabled="1"
       darktable:modversion="6" darktable:params="0000000000000000"/>
     <rdf:li darktable:num="1" darktable:operation="crop" darktable:enabled="1"
       darktable:modversion="1" darktable:params="gz12eJxjYGBgkGAAgRNODGiAEQM"/>
    </rdf:Seq>
   </darktable:history>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
"""


@pytest.fixture
def shoot(tmp_path, library_path):
    folder = tmp_path / "shoot"
    for i, name in enumerate(("a.jpg", "b.jpg", "c.jpg")):
        make_photo(folder / name, color=(i, 40, 40))
    assert run_cli("import", str(folder))[0] == 0
    return folder


def fingerprint(*paths) -> list:
    return [(hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns) for p in paths]


def organize(folder) -> None:
    a = str(folder / "a.jpg")
    for args in (
        ["tag", "add", "-t", "Places/France/Paris", "-t", "river", a],
        ["rate", "4", a],
        ["label", "red", a],
        ["pick", a],
        ["describe", a, "--title", "Quai", "--description", "Low water"],
        ["album", "create", "Best"],
        ["album", "add", "Best", a],
        ["event", "create", "Trip", "--start", "2019-06-01", "--end", "2019-06-03"],
        ["event", "add", "Trip", a],
    ):
        code, _, err = run_cli(*args)
        assert code == 0, (args, err)


def write(*args):
    code, out, err = run_cli("sidecar", "write", *args, "--json")
    return code, json.loads(out) if out else None, err


def test_a_sidecar_says_what_the_library_says_and_the_photo_is_untouched(shoot):
    from luna.ingest.xmp_sidecar import read_sidecar_fields

    organize(shoot)
    before = fingerprint(shoot / "a.jpg", shoot / "b.jpg")
    code, report, err = write()
    assert code == 0, err
    assert (report["created"], report["updated"]) == (1, 0)  # b and c have nothing to say
    assert not (shoot / "b.jpg.xmp").exists()
    fields = read_sidecar_fields((shoot / "a.jpg.xmp").read_bytes())
    assert fields.tags == ("Places/France/Paris", "river")
    assert (fields.rating, fields.label, fields.flag) == (4, "red", "pick")
    assert (fields.title, fields.description) == ("Quai", "Low water")
    assert [a.name for a in fields.albums] == ["Best"]
    assert [(e.name, e.start.date().isoformat()) for e in fields.events] == [("Trip", "2019-06-01")]
    assert fingerprint(shoot / "a.jpg", shoot / "b.jpg") == before


def test_writing_again_changes_nothing_and_an_import_reads_nothing(shoot):
    organize(shoot)
    write()
    sidecar = shoot / "a.jpg.xmp"
    state = (sidecar.read_bytes(), sidecar.stat().st_mtime_ns)
    code, report, _ = write()
    assert code == 0 and (report["created"], report["updated"]) == (0, 0)
    assert (sidecar.read_bytes(), sidecar.stat().st_mtime_ns) == state
    code, out, _ = run_cli("import", str(shoot), "--json")
    imported = json.loads(out)
    assert (imported["files_read"], imported["updated"]) == (0, 0)
    code, out, _ = run_cli("show", str(shoot / "a.jpg"), "--json")
    related = json.loads(out)["files"][0]["related_files"]
    assert [(r["relation"], r["path"]) for r in related] == [("sidecar", str(sidecar))]


def test_a_change_in_luna_updates_the_sidecar(shoot):
    organize(shoot)
    write()
    run_cli("tag", "remove", "river", str(shoot / "a.jpg"))
    run_cli("rate", "2", str(shoot / "a.jpg"))
    code, report, _ = write(str(shoot / "a.jpg"))
    assert code == 0 and report["updated"] == 1
    from luna.ingest.xmp_sidecar import read_sidecar_fields

    fields = read_sidecar_fields((shoot / "a.jpg.xmp").read_bytes())
    assert (fields.tags, fields.rating) == (("Places/France/Paris",), 2)


def test_a_sidecar_changed_by_another_program_is_left_alone_and_reported(shoot):
    organize(shoot)
    write()
    sidecar = shoot / "a.jpg.xmp"
    edited = sidecar.read_text().replace("<rdf:li>river</rdf:li>", "<rdf:li>bridge</rdf:li>")
    sidecar.write_text(edited)
    run_cli("rate", "1", str(shoot / "a.jpg"))
    code, report, err = write()
    assert code == 3
    assert "changed by another program" in err and str(sidecar) in err
    assert sidecar.read_text() == edited  # not a byte of the other program's change lost
    assert len(report["problems"]) == 1


def test_a_sidecar_luna_has_not_read_is_left_alone(shoot):
    organize(shoot)
    sidecar = shoot / "a.jpg.xmp"
    sidecar.write_text(DARKTABLE)  # made after the import: luna has not read it
    code, _, err = write()
    assert code == 3 and "not read yet" in err
    assert sidecar.read_text() == DARKTABLE


def test_another_programs_sidecar_keeps_its_own_parts(shoot):
    """A darktable sidecar with an edit history, read by an import, gets luna's tags and
    stars; its history is the same XML afterwards."""
    import xml.etree.ElementTree as ET

    sidecar = shoot / "a.jpg.xmp"
    sidecar.write_text(DARKTABLE)
    run_cli("import", str(shoot))
    organize(shoot)
    code, report, err = write()
    assert code == 0 and report["updated"] == 1, err
    written = sidecar.read_text()
    ns = {
        "darktable": "http://darktable.sf.net/",
        "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    }

    def history(text):
        root = ET.fromstring(text.encode())
        return ET.canonicalize(ET.tostring(root.find(".//darktable:history", ns)))

    assert history(written) == history(DARKTABLE)
    assert 'darktable:history_end="2"' in written and "xmlns:darktable" in written
    assert "<rdf:li>river</rdf:li>" in written


def test_stem_naming_gives_a_raw_and_its_jpeg_one_sidecar(shoot):
    make_photo(shoot / "IMG_1.NEF", fmt="TIFF", color=(9, 9, 9))
    make_photo(shoot / "IMG_1.JPG", color=(9, 9, 9))
    run_cli("import", str(shoot))
    run_cli("tag", "add", "raw-only", str(shoot / "IMG_1.NEF"))
    run_cli("tag", "add", "jpeg-only", str(shoot / "IMG_1.JPG"))
    code, report, err = write(
        "--naming", "stem", str(shoot / "IMG_1.NEF"), str(shoot / "IMG_1.JPG")
    )
    assert code == 0, err
    assert report["sidecars"] == 1 and report["created"] == 1
    assert sorted(p.name for p in shoot.glob("IMG_1*.xmp")) == ["IMG_1.xmp"]
    from luna.ingest.xmp_sidecar import read_sidecar_fields

    assert read_sidecar_fields((shoot / "IMG_1.xmp").read_bytes()).tags == ("jpeg-only", "raw-only")


def test_the_naming_setting_comes_from_the_config(shoot, tmp_path, monkeypatch):
    config = tmp_path / "config.toml"
    config.write_text('sidecar_naming = "stem"\n')
    monkeypatch.setenv("LUNA_CONFIG", str(config))
    run_cli("rate", "3", str(shoot / "b.jpg"))
    assert write()[0] == 0
    assert (shoot / "b.xmp").exists() and not (shoot / "b.jpg.xmp").exists()
    config.write_text('sidecar_naming = "sideways"\n')
    code, _, err = run_cli("sidecar", "write")
    assert code != 0 and "sidecar_naming" in err and "Traceback" not in err


def test_dry_run_writes_nothing(shoot):
    organize(shoot)
    code, report, err = write("--dry-run")
    assert code == 0 and report["created"] == 1, err
    assert not (shoot / "a.jpg.xmp").exists()


@pytest.mark.skipif(
    shutil.which("exiftool") is None, reason="needs ExifTool (Debian: libimage-exiftool-perl)"
)
def test_exiftool_reads_what_luna_wrote(shoot):
    organize(shoot)
    write()
    done = subprocess.run(
        ["exiftool", "-j", "-G1", "-struct", str(shoot / "a.jpg.xmp")],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    (read,) = json.loads(done.stdout)
    assert read["XMP-dc:Subject"] == ["Paris", "river"]
    assert read["XMP-lr:HierarchicalSubject"] == ["Places|France|Paris", "river"]
    assert read["XMP-digiKam:TagsList"] == ["Places/France/Paris", "river"]
    assert (read["XMP-xmp:Rating"], read["XMP-xmp:Label"]) == (4, "Red")
    assert read["XMP-digiKam:ColorLabel"] in (1, "1", "Red")
    assert (read["XMP-dc:Title"], read["XMP-dc:Description"]) == ("Quai", "Low water")
    assert read["XMP-digiKam:PickLabel"] in (3, "3", "Accepted")
    assert read["XMP-luna:Albums"][0]["Name"] == "Best"
    assert "Warning" not in read and "Error" not in read


# -- reading what other programs changed ------------------------------------------------------


def edited_elsewhere(sidecar, *, drop: str, add: str, rating: int) -> None:
    """What digiKam does to a sidecar luna wrote: a keyword taken out of its lists, one
    added, new stars; luna's own record (luna:Tags) untouched, as digiKam does not know it."""
    text = sidecar.read_text()
    head, luna_tags, tail = text.partition("<luna:Tags>")
    head = head.replace(f"<rdf:li>{drop}</rdf:li>", f"<rdf:li>{add}</rdf:li>")
    tail = tail.replace("<xmp:Rating>4</xmp:Rating>", f"<xmp:Rating>{rating}</xmp:Rating>")
    sidecar.write_text(head + luna_tags + tail)


def tags_and_rating(path) -> tuple:
    code, out, _ = run_cli("show", str(path), "--json")
    shown = json.loads(out)["files"][0]
    return sorted(shown["tags"]), shown["rating"]


def test_an_import_takes_what_another_program_changed_in_a_sidecar(shoot):
    organize(shoot)
    write()
    run_cli("tag", "add", "kept", str(shoot / "a.jpg"))  # after the write: luna's own
    edited_elsewhere(shoot / "a.jpg.xmp", drop="river", add="bridge", rating=5)
    code, out, err = run_cli("import", str(shoot), "--json")
    assert code == 0, err
    assert tags_and_rating(shoot / "a.jpg") == (["Places/France/Paris", "bridge", "kept"], 5)
    # ...and the next write is no longer refused: luna has read the edited sidecar.
    code, report, err = write()
    assert code == 0 and report["updated"] == 1, err
    from luna.ingest.xmp_sidecar import read_sidecar_fields

    fields = read_sidecar_fields((shoot / "a.jpg.xmp").read_bytes())
    assert set(fields.tags) == {"Places/France/Paris", "bridge", "kept"} and fields.rating == 5


def test_sidecar_read_takes_the_sidecar_over_luna(shoot):
    organize(shoot)
    write()
    edited_elsewhere(shoot / "a.jpg.xmp", drop="river", add="bridge", rating=2)
    code, out, err = run_cli("sidecar", "read", str(shoot / "a.jpg"), "--json")
    assert code == 0, err
    report = json.loads(out)
    assert (report["sidecars"], report["tags_removed"]) == (1, 1)
    assert tags_and_rating(shoot / "a.jpg") == (["Places/France/Paris", "bridge"], 2)
    assert tags_and_rating(shoot / "b.jpg") == ([], None)  # another photo: untouched


def test_a_sidecar_luna_never_wrote_takes_nothing_away(shoot):
    """digiKam's own sidecar, edited after the import: its keywords are added, and luna's
    tags it never knew of stay."""
    run_cli("tag", "add", "mine", str(shoot / "c.jpg"))
    sidecar = shoot / "c.jpg.xmp"
    sidecar.write_text(DARKTABLE)
    run_cli("import", str(shoot))
    sidecar.write_text(DARKTABLE.replace('xmp:Rating="1"', 'xmp:Rating="3"'))
    run_cli("import", str(shoot))
    assert tags_and_rating(shoot / "c.jpg") == (["mine"], 3)


# -- a lost library, rebuilt from its sidecars ------------------------------------------------


def everything(folder) -> dict:
    """What a user sees of the library, without the ids a new library gives anew."""
    code, out, _ = run_cli("find", "--sort", "name", "--json")
    files = [{k: v for k, v in f.items() if k != "id"} for f in json.loads(out)["files"]]
    code, out, _ = run_cli("album", "show", "Best", "--json")
    album = [f["path"] for f in json.loads(out)["files"]]
    code, out, _ = run_cli("event", "show", "Trip", "--json")
    event = json.loads(out)
    return {
        "files": files,
        "album": album,
        "event": (event["start"], event["end"], [f["path"] for f in event["files"]]),
    }


@pytest.mark.sqlite_only  # deletes the library's file (a server library: the same code)
def test_a_library_deleted_is_rebuilt_from_the_sidecars(shoot, library_path):
    organize(shoot)
    run_cli("rate", "2", str(shoot / "b.jpg"))
    run_cli("reject", str(shoot / "b.jpg"))
    run_cli("album", "add", "Best", str(shoot / "c.jpg"))
    assert write()[0] == 0
    before = everything(shoot)
    for leftover in library_path.parent.glob(library_path.name + "*"):
        leftover.unlink()  # the library, and its -wal and -shm

    code, _, err = run_cli("import", str(shoot), "--from-sidecars")
    assert code == 0, err
    assert "1 albums and 1 events made" in err
    assert everything(shoot) == before


# -- keeping sidecars current as things change ------------------------------------------------


def sidecar_tags(path) -> tuple:
    from luna.ingest.xmp_sidecar import read_sidecar_fields

    return read_sidecar_fields(path.read_bytes()).tags


def test_with_sidecar_write_every_change_reaches_the_sidecars(shoot, tmp_path, monkeypatch):
    config = tmp_path / "config.toml"
    config.write_text("sidecar_write = true\n")
    monkeypatch.setenv("LUNA_CONFIG", str(config))
    a, b = shoot / "a.jpg", shoot / "b.jpg"
    code, _, err = run_cli("tag", "add", "-t", "Places/Paris", "-t", "river", str(a), str(b))
    assert code == 0 and "sidecars: 2 created" in err, err
    assert sidecar_tags(shoot / "a.jpg.xmp") == ("Places/Paris", "river")
    run_cli("tag", "rename", "Places/Paris", "Places/France/Paris")
    assert sidecar_tags(shoot / "b.jpg.xmp") == ("Places/France/Paris", "river")
    run_cli("rate", "5", str(a))
    run_cli("album", "create", "Best")
    run_cli("album", "add", "Best", str(a))
    from luna.ingest.xmp_sidecar import read_sidecar_fields

    fields = read_sidecar_fields((shoot / "a.jpg.xmp").read_bytes())
    assert fields.rating == 5 and [x.name for x in fields.albums] == ["Best"]
    run_cli("album", "delete", "Best", "--yes")
    assert read_sidecar_fields((shoot / "a.jpg.xmp").read_bytes()).albums == ()
    run_cli("tag", "delete", "river", "--yes")
    assert sidecar_tags(shoot / "b.jpg.xmp") == ("Places/France/Paris",)
    assert not (shoot / "c.jpg.xmp").exists()  # never changed: no sidecar

    code, _, _ = run_cli("--no-write-sidecars", "rate", "1", str(a))
    assert code == 0 and read_sidecar_fields((shoot / "a.jpg.xmp").read_bytes()).rating == 5


def test_write_sidecars_for_one_command(shoot):
    code, _, err = run_cli("--write-sidecars", "label", "green", str(shoot / "c.jpg"))
    assert code == 0, err
    assert (shoot / "c.jpg.xmp").exists()
    run_cli("label", "red", str(shoot / "c.jpg"))  # off by default
    from luna.ingest.xmp_sidecar import read_sidecar_fields

    assert read_sidecar_fields((shoot / "c.jpg.xmp").read_bytes()).label == "green"


def test_a_sidecar_that_cannot_be_written_is_reported_and_the_change_stays(shoot):
    run_cli("--write-sidecars", "rate", "3", str(shoot / "a.jpg"))
    sidecar = shoot / "a.jpg.xmp"
    sidecar.write_text(sidecar.read_text() + "\n")  # another program touched it
    code, _, err = run_cli("--write-sidecars", "rate", "4", str(shoot / "a.jpg"))
    assert code == 3
    assert "sidecar not written" in err and "changed by another program" in err
    assert tags_and_rating(shoot / "a.jpg")[1] == 4  # the library took the change


# -- colour labels, in each program's words ---------------------------------------------------


@pytest.mark.parametrize(
    ("edit", "label"),
    [
        (
            (
                "<digiKam:ColorLabel>1</digiKam:ColorLabel>",
                "<digiKam:ColorLabel>4</digiKam:ColorLabel>",
            ),
            "green",
        ),
        (("<xmp:Label>Red</xmp:Label>", "<xmp:Label>Blue</xmp:Label>"), "blue"),
        (
            (
                "<digiKam:ColorLabel>1</digiKam:ColorLabel>",
                "<digiKam:ColorLabel>0</digiKam:ColorLabel>",
            ),
            None,
        ),
    ],
    ids=["digiKam", "Lightroom", "digiKam took it off"],
)
def test_a_label_changed_in_another_program_comes_back(shoot, edit, label):
    """luna writes its label as Lightroom (xmp:Label) and digiKam (digiKam:ColorLabel) read
    it; whichever of them another program changes since is the label."""
    run_cli("--write-sidecars", "label", "red", str(shoot / "a.jpg"))
    sidecar = shoot / "a.jpg.xmp"
    text = sidecar.read_text()
    assert edit[0] in text
    sidecar.write_text(text.replace(*edit))
    assert run_cli("sidecar", "read", str(shoot / "a.jpg"))[0] == 0
    code, out, _ = run_cli("show", str(shoot / "a.jpg"), "--json")
    assert json.loads(out)["files"][0]["label"] == label


def test_darktables_colour_label_is_read_from_its_own_sidecar(shoot):
    sidecar = shoot / "b.jpg.xmp"
    sidecar.write_text(
        DARKTABLE.replace(
            "   <darktable:history>",
            "   <darktable:colorlabels><rdf:Seq><rdf:li>2</rdf:li></rdf:Seq>"
            "</darktable:colorlabels>\n   <darktable:history>",
        )
    )
    run_cli("import", str(shoot))
    run_cli("sidecar", "read", str(shoot / "b.jpg"))
    assert names_with_label(shoot, "green") == ["b.jpg"]


def names_with_label(shoot, colour: str) -> list[str]:
    code, out, _ = run_cli("find", "--label", colour, "--kind", "photo", "--format", "{filename}")
    return out.split()


# -- other programs' sidecars and other media --------------------------------------------------

LIGHTROOM = """<x:xmpmeta xmlns:x="adobe:ns:meta/" x:xmptk="Adobe XMP Core 7.0-c000 1.000000">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about=""
    xmlns:xmp="http://ns.adobe.com/xap/1.0/"
    xmlns:crs="http://ns.adobe.com/camera-raw-settings/1.0/"
    xmlns:lr="http://ns.adobe.com/lightroom/1.0/"
   xmp:Rating="2"
   crs:Version="15.0"
   crs:ProcessVersion="11.0"
   crs:Exposure2012="+0.35"
   crs:Contrast2012="+12"
   crs:HasCrop="True"
   crs:CropTop="0.05">
   <crs:ToneCurvePV2012>
    <rdf:Seq>
     <rdf:li>0, 0</rdf:li>
     <rdf:li>128, 140</rdf:li>
     <rdf:li>255, 255</rdf:li>
    </rdf:Seq>
   </crs:ToneCurvePV2012>
   <lr:hierarchicalSubject>
    <rdf:Bag>
     <rdf:li>Places|Brittany</rdf:li>
    </rdf:Bag>
   </lr:hierarchicalSubject>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
"""


def test_a_lightroom_sidecar_keeps_its_develop_settings(shoot):
    """Lightroom's IMG.xmp (named by the stem), read by the import: luna adds a tag and
    stars to it; every crs: setting is the same XML afterwards, the keyword it had stays."""
    import xml.etree.ElementTree as ET

    sidecar = shoot / "a.xmp"
    sidecar.write_text(LIGHTROOM)
    run_cli("import", str(shoot))
    run_cli("tag", "add", "harbour", str(shoot / "a.jpg"))
    run_cli("rate", "5", str(shoot / "a.jpg"))
    code, report, err = write(str(shoot / "a.jpg"))
    assert code == 0 and report["updated"] == 1, err
    assert not (shoot / "a.jpg.xmp").exists()  # the sidecar it has, not a second one
    crs = "{http://ns.adobe.com/camera-raw-settings/1.0/}"

    def develop(text):
        description = ET.fromstring(text.encode()).find(".//{*}Description")
        settings = {k: v for k, v in description.attrib.items() if k.startswith(crs)}
        curve = ET.canonicalize(ET.tostring(description.find(f"{crs}ToneCurvePV2012")))
        return settings, curve

    assert develop(sidecar.read_text()) == develop(LIGHTROOM)
    assert set(sidecar_tags(sidecar)) == {"Places/Brittany", "harbour"}
    assert 'xmlns:crs="http://ns.adobe.com/camera-raw-settings/1.0/"' in sidecar.read_text()


def media_of_every_kind(folder) -> list:
    """A HEIC, a RAW (TIFF inside, as NEF is) and a QuickTime video."""
    import pillow_heif
    from PIL import Image
    from test_related import minimal_mov

    pillow_heif.register_heif_opener()
    heic = folder / "IMG_1.HEIC"
    Image.new("RGB", (64, 48), (10, 20, 30)).save(heic, format="HEIF", quality=30)
    raw = make_photo(folder / "DSC_2.NEF", fmt="TIFF", color=(3, 3, 3))
    video = folder / "MVI_3.MOV"
    minimal_mov(video, b"\0" * 4096)
    return [heic, raw, video]


@pytest.mark.skipif(
    shutil.which("exiftool") is None, reason="needs ExifTool (Debian: libimage-exiftool-perl)"
)
def test_exiftool_reads_the_sidecars_of_a_heic_a_raw_and_a_video(tmp_path, library_path):
    folder = tmp_path / "mixed"
    folder.mkdir()
    media = media_of_every_kind(folder)
    assert run_cli("import", str(folder))[0] == 0
    files = [str(m) for m in media]
    for args in (["tag", "add", "-t", "Places/Iceland", "-t", "ice", *files], ["rate", "3", *files],
                 ["label", "blue", *files], ["describe", *files, "--title", "North"]):  # fmt: skip
        assert run_cli(*args)[0] == 0, args
    code, report, err = write()
    assert code == 0 and report["created"] == 3, err
    for medium in media:
        done = subprocess.run(
            ["exiftool", "-j", "-G1", str(medium) + ".xmp"],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        (read,) = json.loads(done.stdout)
        assert set(read["XMP-lr:HierarchicalSubject"]) == {"Places|Iceland", "ice"}, medium
        assert (read["XMP-xmp:Rating"], read["XMP-xmp:Label"], read["XMP-dc:Title"]) == (
            3, "Blue", "North",
        )  # fmt: skip
        assert "Warning" not in read


@pytest.mark.sqlite_only  # the library file must stay writable to the unprivileged process
def test_a_folder_luna_cannot_write_in_is_reported_per_file_and_nothing_else_changes(
    tmp_path, library_path
):
    """Two folders, one read-only: the other's sidecars are written, each file of the
    read-only one is named on stderr, exit 3, and no photo changes."""
    from conftest import run_luna_as_owner

    locked, free = tmp_path / "locked", tmp_path / "free"
    photos = [make_photo(locked / "a.jpg"), make_photo(free / "b.jpg", color=(1, 2, 3))]
    assert run_cli("import", str(locked), str(free))[0] == 0
    assert run_cli("tag", "add", "harbour", *map(str, photos))[0] == 0
    before = fingerprint(*photos)
    locked.chmod(0o555)
    try:
        done = run_luna_as_owner("-L", library_path, "sidecar", "write")
    finally:
        locked.chmod(0o755)
    assert done.returncode == 3, done.stderr
    assert f"not written: {locked / 'a.jpg.xmp'}" in done.stderr
    assert "Traceback" not in done.stderr
    assert (free / "b.jpg.xmp").exists() and not (locked / "a.jpg.xmp").exists()
    assert not [p for p in locked.iterdir() if p.name.startswith(".")]  # no temporary left
    assert fingerprint(*photos) == before


def test_write_sidecars_after_the_command_word_too(shoot):
    code, _, err = run_cli("rate", "2", str(shoot / "b.jpg"), "--write-sidecars")
    assert code == 0 and "sidecars: 1 created" in err, err
    code, _, err = run_cli("rate", "4", str(shoot / "b.jpg"), "--no-write-sidecars")
    assert code == 0 and "sidecars" not in err
    from luna.ingest.xmp_sidecar import read_sidecar_fields

    assert read_sidecar_fields((shoot / "b.jpg.xmp").read_bytes()).rating == 2
    # After "--", a word is a file's name, never an option.
    code, _, err = run_cli("rate", "3", "--", "--write-sidecars")
    assert code == 1 and "--write-sidecars" in err
