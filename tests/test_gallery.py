"""`luna gallery` (luna.ops.gallery): which photos, what the folder holds, privacy (no
position anywhere without --keep-location), the originals never changed, incremental runs,
a foreign folder refused, escaping. The page itself is tested in a real browser by
tests/test_gallery_browser.py."""

from __future__ import annotations

import json
import os
from pathlib import Path

import piexif
import pytest
from conftest import make_photo

PARIS, NICE = (48.8566, 2.3522), (43.7031, 7.2661)


def gallery_data(out: Path) -> dict:
    text = (out / "data.js").read_text(encoding="ascii")
    prefix = "window.LUNA_GALLERY = "
    assert text.startswith(prefix) and text.endswith(";\n")
    return json.loads(text[len(prefix) : -2])


def names_in(out: Path) -> list[str]:
    return [item["name"] for item in gallery_data(out)["items"]]


def manifest_files(out: Path) -> dict:
    return json.loads((out / ".luna-gallery.json").read_text())["files"]


@pytest.fixture
def shots(photos):
    """Four photos: two in Paris and Nice (with GPS), a portrait without, one with XMP."""
    made = {
        "paris.jpg": make_photo(photos / "paris.jpg", taken="2019:06:01 10:00:00", gps=PARIS),
        "nice.jpg": make_photo(
            photos / "nice.jpg", taken="2019:07:14 18:30:00", gps=NICE, color=(10, 90, 200)
        ),
        "portrait.jpg": make_photo(
            photos / "portrait.jpg", taken="2018:12:24 20:00:00", size=(48, 64), color=(0, 150, 0)
        ),
        "old.jpg": make_photo(
            photos / "old.jpg", taken="2005:01:01 09:00:00", keywords=["beach"], color=(90, 9, 9)
        ),
    }
    return made


@pytest.fixture
def imported(lib, shots, photos):
    lib.import_paths([str(photos)])
    return lib


def test_a_gallery_of_everything_in_date_order(imported, tmp_path):
    out = tmp_path / "out"
    report = imported.gallery(out)
    assert report.photos == 4 and report.videos == 0 and report.exit_status == 0
    assert names_in(out) == ["old.jpg", "portrait.jpg", "paris.jpg", "nice.jpg"]
    for name in ("index.html", "data.js", "assets/gallery.js", "assets/gallery.css"):
        assert (out / name).is_file(), name
    data = gallery_data(out)
    for item in data["items"]:
        assert (out / item["thumb"]).is_file() and (out / item["preview"]).is_file()
        assert "original" not in item  # only with --originals
    assert not (out / "originals").exists()
    paris = next(i for i in data["items"] if i["name"] == "paris.jpg")
    assert paris["date"] == "2019-06-01T10:00:00" and paris["camera"] == "Canon EOS 5D"
    assert (paris["w"], paris["h"]) == (64, 48)
    portrait = next(i for i in data["items"] if i["name"] == "portrait.jpg")
    assert (portrait["w"], portrait["h"]) == (48, 64)


def test_chosen_by_album_event_tag_filters_and_files(imported, shots, tmp_path, cli):
    imported.albums.create("Summer 2019")
    imported.albums.add("Summer 2019", [shots["paris.jpg"], shots["nice.jpg"]])
    imported.events.create("Christmas", "2018-12-24", "2018-12-25")
    imported.events.attach("Christmas")

    def chosen(*args: str) -> list[str]:
        out = tmp_path / f"out{len(list(tmp_path.glob('out*')))}"
        code, _, err = cli("gallery", *args, "--out", out)
        assert code == 0, err
        return names_in(out)

    assert chosen("--album", "Summer 2019") == ["paris.jpg", "nice.jpg"]
    assert chosen("--event", "Christmas") == ["portrait.jpg"]
    assert chosen("--tag", "beach") == ["old.jpg"]
    assert chosen("--after", "2019-07") == ["nice.jpg"]
    assert chosen("--has-location", "--before", "2019-07") == ["paris.jpg"]
    assert chosen(str(shots["old.jpg"]), str(shots["nice.jpg"])) == ["old.jpg", "nice.jpg"]
    # FILEs and filters: those of the files the filters find.
    assert chosen(str(shots["old.jpg"]), str(shots["nice.jpg"]), "--after", "2010") == ["nice.jpg"]
    # FILEs from stdin, NUL-separated (as `luna find -0` prints them).
    names = f"{shots['portrait.jpg']}\0{shots['paris.jpg']}\0".encode()
    out = tmp_path / "from-stdin"
    code, _, err = cli("gallery", "-z", "-", "--out", out, input=names)
    assert code == 0, err
    assert names_in(out) == ["portrait.jpg", "paris.jpg"]
    code, _, err = cli("gallery", "-0", "-", "--out", tmp_path / "zero", input=names)  # -0 too
    assert code == 0, err
    assert names_in(tmp_path / "zero") == ["portrait.jpg", "paris.jpg"]
    # The album's name is the page's title.
    assert "<title>Summer 2019</title>" in (tmp_path / "out0" / "index.html").read_text()


def test_no_position_anywhere_without_keep_location(imported, shots, tmp_path, cli):
    out = tmp_path / "out"
    code, report, err = run_json(cli, "gallery", "--originals", "--out", out)
    assert code == 0, err
    assert report["originals"] == 4 and report["originals_stripped"] == 2
    data_js = (out / "data.js").read_text()
    assert '"lat"' not in data_js and '"lon"' not in data_js and "48.85" not in data_js
    assert gallery_data(out)["map"] is False
    assert not (out / "assets" / "leaflet").exists() and not (out / "assets/countries.js").exists()
    assert "leaflet" not in (out / "index.html").read_text()
    exported = sorted((out / "originals").iterdir())
    assert len(exported) == 4
    for path in exported:
        exif = piexif.load(str(path))
        assert not exif["GPS"], path
        assert piexif.ImageIFD.GPSTag not in exif["0th"]
        assert exif["0th"][piexif.ImageIFD.Model] == b"Canon EOS 5D"  # the rest is kept
    for path in [*(out / "thumbs").iterdir(), *(out / "previews").iterdir()]:
        assert not {"EXIF", "XMP ", "ICCP"} & set(webp_chunks(path.read_bytes())), path
    # Anything written: no coordinates in any form.
    for path in out.rglob("*"):
        if path.is_file() and path.suffix in (".js", ".html", ".json"):
            text = path.read_text(errors="replace")
            assert "48.856" not in text and "2.352" not in text and "7.266" not in text, path


def test_keep_location_keeps_the_map_and_the_originals_as_they_are(imported, shots, tmp_path):
    out = tmp_path / "out"
    report = imported.gallery(out, originals=True, keep_location=True)
    assert report.on_map == 2 and report.originals == 4 and report.originals_stripped == 0
    data = gallery_data(out)
    assert data["map"] is True
    located = {i["name"]: (i["lat"], i["lon"]) for i in data["items"] if "lat" in i}
    assert located == {"paris.jpg": PARIS, "nice.jpg": NICE}
    for name in ("assets/leaflet/leaflet.js", "assets/leaflet/LICENSE", "assets/countries.js"):
        assert (out / name).is_file()
    assert "assets/leaflet/leaflet.js" in (out / "index.html").read_text()
    paris = next(i for i in data["items"] if i["name"] == "paris.jpg")
    exported = out / paris["original"]
    assert exported.read_bytes() == shots["paris.jpg"].read_bytes()
    assert piexif.load(str(exported))["GPS"]
    # Unchanged, so a hard link where the disk allows (here it does): no space used.
    assert os.stat(exported).st_ino == os.stat(shots["paris.jpg"]).st_ino
    assert report.originals_linked == 4


def test_originals_are_never_changed_or_moved(imported, shots, tmp_path):
    before = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in shots.values()}
    out = tmp_path / "out"
    imported.gallery(out, originals=True)
    imported.gallery(out, originals=True, keep_location=True)  # links replace copies...
    imported.gallery(out, originals=True)  # ... and copies replace links: never written through
    imported.gallery(out, originals=False)  # their names removed
    assert not (out / "originals").exists()
    for path, (data, mtime) in before.items():
        assert path.read_bytes() == data and path.stat().st_mtime_ns == mtime, path
    assert piexif.load(str(shots["paris.jpg"]))["GPS"]


def tiny_mp4(path: Path, colour=(220, 20, 20)) -> Path:
    """Two seconds of H.264 in MP4, as phones write and browsers play (PyAV, the `video`
    extra the thumbnails use, bundles an encoder)."""
    av = pytest.importorskip("av")
    from PIL import Image

    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=10)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        for _ in range(20):
            out.mux(stream.encode(av.VideoFrame.from_image(Image.new("RGB", (64, 48), colour))))
        out.mux(stream.encode())
    return path


def test_a_heic_a_video_and_other_formats_are_left_out_without_keep_location(
    lib, photos, tmp_path, cli
):
    from PIL import Image

    from luna.ingest.extract.heif import register

    register()
    Image.new("RGB", (64, 48), (10, 20, 30)).save(photos / "phone.heic", format="HEIF")
    tiny_mp4(photos / "clip.mp4")
    make_photo(photos / "a.jpg")
    lib.import_paths([str(photos)])
    out = tmp_path / "out"
    code, report, err = run_json(cli, "gallery", "--originals", "--out", out)
    assert code == 0, err
    assert report["photos"] == 2 and report["videos"] == 1
    assert report["originals"] == 1
    left_out = sorted(Path(i["path"]).name for i in report["left_out"])
    assert left_out == ["clip.mp4", "phone.heic"]
    assert "2 originals left out" in err
    assert [p.suffix for p in (out / "originals").iterdir()] == [".jpg"]
    video = next(i for i in gallery_data(out)["items"] if i["kind"] == "video")
    assert "original" not in video and video["thumb"] and video["playable"]
    # With --keep-location they go as they are.
    report = lib.gallery(out, originals=True, keep_location=True)
    assert report.originals == 3 and not report.left_out


def test_a_second_run_writes_nothing_and_removes_only_its_own_files(imported, shots, tmp_path):
    imported.albums.create("Trip")
    imported.albums.add("Trip", list(shots.values()))
    out = tmp_path / "out"
    first = imported.gallery(out, originals=True)
    assert first.written > 0 and first.unchanged == 0
    stamps = {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()}
    (out / "notes.txt").write_text("mine")  # the user's own file, beside the gallery's
    again = imported.gallery(out, originals=True)
    assert again.written == 0 and again.removed == 0 and again.unchanged == first.written
    for path, mtime in stamps.items():
        if path.name != ".luna-gallery.json":
            assert path.stat().st_mtime_ns == mtime, path
    # One photo fewer: its thumbnail, preview and original go, nothing else.
    gone = gallery_data(out)["items"][0]
    imported.albums.remove("Trip", [shots[gone["name"]]])
    from luna.search.query import Query

    third = imported.gallery(out, query=Query(album="Trip"), originals=True)
    assert third.removed == 3 and third.photos == 3
    for rel in (gone["thumb"], gone["preview"], gone["original"]):
        assert not (out / rel).exists() and rel not in manifest_files(out)
    assert (out / "notes.txt").read_text() == "mine"
    assert third.written == 2  # data.js, and index.html with its new title
    # A file the gallery wrote, changed by hand, is written again.
    one = out / gallery_data(out)["items"][0]["thumb"]
    one.write_bytes(b"scribbled")
    fourth = imported.gallery(out, query=Query(album="Trip"), originals=True)
    assert fourth.written == 1 and one.read_bytes() != b"scribbled"


def test_a_folder_with_files_and_no_manifest_is_refused(imported, tmp_path, cli):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "thesis.tex").write_text("important")
    code, stdout, err = cli("gallery", "--out", out)
    assert code == 1 and stdout == ""
    assert "is not empty and is not a gallery luna wrote" in err and "Traceback" not in err
    assert [p.name for p in out.iterdir()] == ["thesis.tex"]
    (tmp_path / "file").write_text("x")
    code, _, err = cli("gallery", "--out", tmp_path / "file")
    assert code == 1 and "is not a folder" in err
    # A folder that cannot be made (its parent is a file; a place no one may write, even
    # root) is one line, and nothing else is done.
    for place in (tmp_path / "file" / "site", Path("/proc/luna-gallery")):
        code, stdout, err = cli("gallery", "--out", place)
        assert code == 1 and stdout == "", err
        assert len(err.strip().splitlines()) == 1 and "internal error" not in err, err
        assert "gallery folder" in err or "cannot read" in err
    # An empty folder is fine.
    (tmp_path / "empty").mkdir()
    assert cli("gallery", "--out", tmp_path / "empty")[0] == 0


def test_a_manifest_cannot_make_the_gallery_remove_files_elsewhere(imported, tmp_path):
    out = tmp_path / "out"
    imported.gallery(out)
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    manifest = json.loads((out / ".luna-gallery.json").read_text())
    manifest["files"]["../victim.txt"] = {"key": "x", "size": 7, "mtime_ns": 0}
    manifest["files"][str(victim)] = {"key": "x", "size": 7, "mtime_ns": 0}
    (out / ".luna-gallery.json").write_text(json.dumps(manifest))
    imported.gallery(out)
    assert victim.read_text() == "keep me"


def test_usage_errors(imported, tmp_path, cli):
    code, out, err = cli("gallery")
    assert code == 2 and out == "" and "--out" in err
    code, _, err = cli("gallery", "--out", "")
    assert code == 2 and "--out: an empty path" in err
    code, _, err = cli("gallery", "--out", tmp_path / "g", "--after", "2019-13")
    assert code == 2 and "--after" in err and not (tmp_path / "g").exists()
    code, _, err = cli("gallery", "--out", tmp_path / "g", "nothing-such.jpg")
    assert code == 1 and "Traceback" not in err and not (tmp_path / "g").exists()


def test_dry_run_writes_nothing(imported, tmp_path, cli):
    out = tmp_path / "out"
    code, report, err = run_json(cli, "gallery", "--originals", "--dry-run", "--out", out)
    assert code == 0, err
    assert report["dry_run"] is True and report["photos"] == 4 and report["originals"] == 4
    assert not out.exists()
    assert "Would write a gallery of 4 photos" in err


def test_every_text_is_escaped_in_data_js(imported, shots, tmp_path):
    from luna.ops.gallery import data_script

    hostile = "</script><script>alert(1)</script> <!-- \u2028\u2029 & é"
    imported.marks.describe([shots["paris.jpg"]], title="<b>bold</b>", description=hostile)
    out = tmp_path / "out"
    imported.gallery(out)
    text = (out / "data.js").read_text(encoding="ascii")  # ASCII only: no U+2028 raw
    assert "<" not in text and ">" not in text and "&" not in text
    paris = next(i for i in gallery_data(out)["items"] if i["name"] == "paris.jpg")
    assert paris["description"] == hostile and paris["title"] == "<b>bold</b>"
    # A name that is not UTF-8 (a lone surrogate in Python) is valid JSON text too.
    script = data_script({"name": os.fsdecode(b"caf\xe9.jpg")})
    assert script.isascii() and "\\udce9" in script
    # The title in the HTML is escaped as HTML.
    imported.gallery(tmp_path / "t", title="<script>x</script>")
    assert (
        "<title>&lt;script&gt;x&lt;/script&gt;</title>" in (tmp_path / "t/index.html").read_text()
    )


def test_the_page_references_nothing_outside_its_folder(imported, tmp_path):
    import re

    out = tmp_path / "out"
    imported.gallery(out, originals=True, keep_location=True)
    html = (out / "index.html").read_text()
    assert "Content-Security-Policy" in html and "default-src 'none'" in html
    for ref in re.findall(r'(?:src|href)="([^"]+)"', html):
        assert "://" not in ref and not ref.startswith(("/", "..")), ref
        assert (out / ref).is_file(), ref
    for item in gallery_data(out)["items"]:
        for key in ("thumb", "preview", "original"):
            assert (out / item[key]).resolve().is_relative_to(out.resolve())
    for name in ("gallery.js", "gallery.css"):
        text = (out / "assets" / name).read_text()
        assert "http://" not in text and "https://" not in text and "@import" not in text


def webp_chunks(data: bytes) -> list[str]:
    """The chunks of a WebP file (RIFF): where metadata would be, rather than a search of
    the compressed picture's bytes, where any 3 letters turn up now and then."""
    assert data[:4] == b"RIFF" and data[8:12] == b"WEBP"
    chunks, i = [], 12
    while i + 8 <= len(data):
        size = int.from_bytes(data[i + 4 : i + 8], "little")
        chunks.append(data[i : i + 4].decode("ascii"))
        i += 8 + size + (size & 1)
    return chunks


def run_json(cli, *args):
    code, out, err = cli(*args, "--json")
    assert out.strip(), f"no JSON on stdout (exit {code}): {err}"
    return code, json.loads(out), err


def test_an_original_that_cannot_be_stripped_is_left_out_and_its_old_copy_removed(
    imported, shots, tmp_path, monkeypatch
):
    from luna.ops import location_strip

    out = tmp_path / "out"
    imported.gallery(out, originals=True, keep_location=True)  # with their positions
    assert len(list((out / "originals").iterdir())) == 4

    def unsure(data):
        raise location_strip.CannotStrip("its EXIF cannot be read")

    monkeypatch.setattr(location_strip, "jpeg_without_location", unsure)
    report = imported.gallery(out, originals=True)
    assert report.originals == 0 and len(report.left_out) == 4
    assert {i["reason"] for i in report.left_out} == {"its EXIF cannot be read"}
    assert not (out / "originals").exists()  # no copy with a position stays behind
    assert all("original" not in item for item in gallery_data(out)["items"])
    assert not any(rel.startswith("originals/") for rel in manifest_files(out))


def test_a_photo_without_a_thumbnail_is_named_and_shown_by_its_name(imported, shots, tmp_path, cli):
    shots["old.jpg"].write_bytes(shots["old.jpg"].read_bytes()[:300])  # damaged since
    out = tmp_path / "out"
    code, report, err = run_json(cli, "gallery", "--out", out)
    assert code == 3, err
    assert [Path(i["path"]).name for i in report["no_thumbnail"]] == ["old.jpg"]
    assert "no thumbnail: " in err and "old.jpg" in err
    old = next(i for i in gallery_data(out)["items"] if i["name"] == "old.jpg")
    assert old["thumb"] is None and old["preview"] is None  # the page shows its name
    assert report["photos"] == 4


def test_an_original_gone_since_it_was_imported_is_left_out(imported, shots, tmp_path, cli):
    shots["nice.jpg"].unlink()
    out = tmp_path / "out"
    code, report, err = run_json(cli, "gallery", "--originals", "--out", out)
    assert code == 3 and "Traceback" not in err  # its thumbnail could not be made either
    assert report["originals"] == 3
    assert [(Path(i["path"]).name, i["reason"][:18]) for i in report["left_out"]] == [
        ("nice.jpg", "it cannot be read:")
    ]
