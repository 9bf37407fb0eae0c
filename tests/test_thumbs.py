"""Thumbnails (issue 18): lib.thumbs and `luna thumbs`, the cache keyed by content, what a
thumbnail must be (turned, sRGB, no metadata) and what must never happen (an original
touched, a half-written thumbnail used, a second run opening an original)."""

from __future__ import annotations

import io
import os
import shutil
import struct
from pathlib import Path

import pytest
from conftest import make_photo, run_cli

from luna.ops import thumbnail, thumbs


def _noisy(path: Path, size=(900, 600), **kwargs) -> Path:
    """A photo with EXIF (make_photo), then given pixels that compress like a photo."""
    from PIL import Image

    make_photo(path, size=size, **kwargs)
    with Image.open(path) as im:
        exif = im.info["exif"]
    noise = Image.effect_noise(size, 60).convert("RGB")
    noise.save(path, "JPEG", exif=exif, quality=85)
    return path


def _s15(value: float) -> bytes:
    return struct.pack(">i", round(value * 65536))


def swapped_profile() -> bytes:
    """An RGB ICC profile whose red and green primaries are sRGB's green and red: a pure
    red pixel in it is sRGB green, so the conversion cannot pass unnoticed."""
    red, green, blue = (0.4361, 0.2225, 0.0139), (0.3851, 0.7169, 0.0971), (0.1431, 0.0606, 0.7141)

    def xyz(c):
        return b"XYZ \0\0\0\0" + b"".join(_s15(v) for v in c)

    curve = b"curv\0\0\0\0" + struct.pack(">IH", 1, 0x0233) + b"\0\0"
    desc = b"desc\0\0\0\0" + struct.pack(">I", 8) + b"swapped\0" + b"\0" * 79
    tags = [(b"desc", desc), (b"wtpt", xyz((0.9642, 1.0, 0.8249))), (b"rXYZ", xyz(green)),
            (b"gXYZ", xyz(red)), (b"bXYZ", xyz(blue)), (b"rTRC", curve), (b"gTRC", curve),
            (b"bTRC", curve)]  # fmt: skip
    offset = 128 + 4 + 12 * len(tags)
    table, body = b"", b""
    for sig, data in tags:
        data += b"\0" * (-len(data) % 4)
        table += sig + struct.pack(">II", offset + len(body), len(data))
        body += data
    header = struct.pack(">I4sI4s4s4s", offset + len(body), b"lcms", 0x02100000, b"mntr",
                         b"RGB ", b"XYZ ") + b"\0" * 12  # fmt: skip
    header += b"acsp" + b"\0" * 28 + _s15(0.9642) + _s15(1.0) + _s15(0.8249) + b"\0" * 48
    return header + struct.pack(">I", len(tags)) + table + body


def tiff_raw(path: Path, preview: bytes, orientation: int = 1) -> Path:
    """A minimal TIFF-based RAW (as a NEF is): IFD0 with an orientation and a JPEG preview
    (JPEGInterchangeFormat), and no raw data luna could decode anyway."""
    entries = [(0x0112, 3, 1, orientation), (0x0201, 4, 1, 0), (0x0202, 4, 1, len(preview))]
    start = 8 + 2 + 12 * len(entries) + 4
    entries[1] = (0x0201, 4, 1, start)
    ifd = struct.pack("<H", len(entries))
    for tag, kind, count, value in entries:
        packed = struct.pack("<HH", value, 0) if kind == 3 else struct.pack("<I", value)
        ifd += struct.pack("<HHI", tag, kind, count) + packed
    path.write_bytes(b"II*\0" + struct.pack("<I", 8) + ifd + b"\0\0\0\0" + preview)
    return path


def read_back(path: Path):
    from PIL import Image

    im = Image.open(path)
    im.load()
    return im


def snapshot(folder: Path) -> dict:
    return {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(folder.rglob("*"))}


@pytest.fixture
def two(lib, photos):
    """A landscape photo with a position and a portrait one (EXIF orientation 6), imported."""
    _noisy(photos / "land.jpg", gps=(48.85, 2.35))
    _noisy(photos / "port.jpg", orientation=6)
    lib.import_paths([photos])
    return photos


def sha_of(lib, path: Path) -> str:
    return lib.get_file(str(path)).content_sha


# -- making one ------------------------------------------------------------------------------


def test_build_makes_256_px_thumbnails_portrait_stays_portrait_originals_untouched(lib, two):
    before = snapshot(two)
    report = lib.thumbs.build()
    assert (report.built, report.cached, report.failed) == (2, 0, [])
    assert report.exit_status == 0
    land = read_back(lib.thumbs.path(sha_of(lib, two / "land.jpg")))
    port = read_back(lib.thumbs.path(sha_of(lib, two / "port.jpg")))
    assert (land.format, land.size) == ("WEBP", (256, 171))
    assert port.size == (171, 256)  # stored 900x600, shown turned
    assert snapshot(two) == before


def metadata_blocks(data: bytes) -> list[str]:
    """The blocks of a WebP (RIFF chunks) or a JPEG (segments before the picture) that hold
    metadata: EXIF, XMP, an ICC profile, a comment."""
    found = []
    if data[:4] == b"RIFF":
        assert data[8:12] == b"WEBP"
        i = 12
        while i + 8 <= len(data):
            name, size = data[i : i + 4], int.from_bytes(data[i + 4 : i + 8], "little")
            if name in (b"EXIF", b"XMP ", b"ICCP"):
                found.append(name.decode())
            i += 8 + size + (size & 1)
        return found
    assert data[:2] == b"\xff\xd8"
    i = 2
    while i + 4 <= len(data) and data[i] == 0xFF:
        marker, size = data[i + 1], int.from_bytes(data[i + 2 : i + 4], "big")
        if marker == 0xDA:  # the picture itself follows
            break
        if marker in (0xE1, 0xE2, 0xFE) or 0xE3 <= marker <= 0xEF:  # APP1-15, COM
            found.append(f"{marker:02X}:{data[i + 4 : i + 10]!r}")
        i += 2 + size
    return found


def test_no_metadata_in_thumbnails_or_previews(lib, two):
    lib.thumbs.build(preview=True)
    lib.thumbs.build(fmt="jpeg", preview=True)
    sha = sha_of(lib, two / "land.jpg")
    for fmt in ("webp", "jpeg"):
        for preview in (False, True):
            path = lib.thumbs.path(sha, preview=preview, fmt=fmt)
            data = path.read_bytes()
            im = read_back(path)
            assert not {"exif", "xmp", "icc_profile", "comment"} & set(im.info), path
            assert not im.getexif()
            # Where metadata would be (not a search of the compressed picture, where any
            # three letters turn up now and then): the container's chunks or segments.
            assert metadata_blocks(data) == [], path
    assert read_back(lib.thumbs.path(sha, preview=True)).size == (900, 600)  # never enlarged


def test_colour_profile_converted_to_srgb(lib, photos):
    from PIL import Image

    Image.new("RGB", (400, 300), (255, 0, 0)).save(
        photos / "wide.jpg", quality=95, icc_profile=swapped_profile()
    )
    lib.import_paths([photos])
    lib.thumbs.build()
    r, g, b = read_back(lib.thumbs.path(sha_of(lib, photos / "wide.jpg"))).getpixel((100, 80))
    assert g > 200 and r < 60 and b < 60  # red in that profile is sRGB green


def test_heic_from_its_embedded_thumbnail(lib, photos, monkeypatch):
    from PIL import Image
    from pillow_heif import as_plugin

    from luna.ingest.extract.heif import register

    register()
    Image.new("RGB", (1600, 1200), (10, 200, 30)).save(
        photos / "phone.heic", quality=60, thumbnails=[320]
    )
    lib.import_paths([photos])
    chosen = []
    real = as_plugin.HeifImageFile.draft

    def spy(self, mode, size):
        chosen.append(real(self, mode, size))
        return chosen[-1]

    monkeypatch.setattr(as_plugin.HeifImageFile, "draft", spy)
    assert lib.thumbs.build().built == 1  # one file: built in this process, where the spy is
    assert chosen[0] == ("RGB", (0, 0, 320, 240))  # the 320x240 thumbnail, not 1600x1200
    assert read_back(lib.thumbs.path(sha_of(lib, photos / "phone.heic"))).size == (256, 192)


def test_raw_from_its_embedded_preview_turned_as_the_raw_says(lib, photos):
    from PIL import Image

    preview = io.BytesIO()
    Image.new("RGB", (640, 480), (30, 60, 200)).save(preview, "JPEG")
    tiff_raw(photos / "camera.nef", preview.getvalue(), orientation=8)
    lib.import_paths([photos])
    assert lib.thumbs.build().built == 1
    assert read_back(lib.thumbs.path(sha_of(lib, photos / "camera.nef"))).size == (192, 256)


def test_raw_without_a_preview_fails_saying_why(tmp_path):
    raw = tiff_raw(tmp_path / "bare.nef", b"")
    with pytest.raises(thumbnail.CannotThumbnail, match="embedded preview"):
        thumbnail.make(str(raw), kind="photo", mime="image/x-nikon-nef", sizes=(256,))


def test_video_without_a_backend_gets_a_placeholder_then_a_frame(lib, photos, monkeypatch):
    av = pytest.importorskip("av")
    video = photos / "clip.mp4"
    with av.open(str(video), "w") as out:
        stream = out.add_stream("mpeg4", rate=10)
        stream.width, stream.height, stream.pix_fmt = 320, 240, "yuv420p"
        from PIL import Image

        for n in range(30):  # 3 s; the frame 1 s in is red, the first ones blue
            colour = (220, 20, 20) if n >= 8 else (20, 20, 220)
            frame = av.VideoFrame.from_image(Image.new("RGB", (320, 240), colour))
            out.mux(stream.encode(frame))
        out.mux(stream.encode())
    lib.import_paths([photos])
    sha = sha_of(lib, video)
    real_backend = thumbnail.video_backend
    monkeypatch.setattr(thumbnail, "video_backend", lambda: None)
    first = lib.thumbs.build()
    assert (first.placeholders, first.built, first.failed, first.exit_status) == (1, 0, [], 0)
    assert read_back(lib.thumbs.path(sha)).size == (256, 192)
    # A backend now: the placeholder makes way for a frame. (Not monkeypatch.undo(): that
    # would undo isolated_home too, and build in the real cache.)
    monkeypatch.setattr(thumbnail, "video_backend", real_backend)
    second = lib.thumbs.build()
    assert (second.built, second.placeholders, second.video_backend) == (1, 0, "pyav")
    r, g, b = read_back(lib.thumbs.path(sha)).getpixel((128, 96))
    assert r > 150 and b < 100
    assert lib.thumbs.build().cached == 1


# -- the cache -------------------------------------------------------------------------------


def test_cache_keyed_by_content_copies_share_moves_keep(lib, photos, isolated_home):
    _noisy(photos / "a.jpg")
    shutil.copy(photos / "a.jpg", photos / "copy.jpg")
    lib.import_paths([photos])
    report = lib.thumbs.build()
    assert (report.files, report.built) == (2, 1)
    stats = lib.thumbs.stats()
    assert (stats["count"], stats["contents"]) == (1, 1)
    assert stats["folder"] == str(isolated_home / ".cache" / "luna" / "thumbs")
    sha = sha_of(lib, photos / "a.jpg")
    assert lib.thumbs.path(sha).parent.name == sha[:2]
    os.rename(photos / "a.jpg", photos / "renamed.jpg")
    lib.import_paths([photos])
    again = lib.thumbs.build([photos / "renamed.jpg"])
    assert (again.built, again.cached) == (0, 1)


def test_second_build_opens_no_original(lib, two):
    lib.thumbs.build()
    for photo in two.iterdir():
        photo.unlink()  # still in the library, as present: any read would fail
    report = lib.thumbs.build()
    assert (report.cached, report.built, report.failed) == (2, 0, [])


def test_damaged_file_is_reported_and_the_rest_built(lib, photos):
    _noisy(photos / "good.jpg")
    bad = _noisy(photos / "bad.jpg", size=(640, 480))
    _noisy(photos / "good2.jpg", size=(700, 500))
    lib.import_paths([photos])
    bad.write_bytes(bad.read_bytes()[:2000] + b"\0garbage" * 100)
    report = lib.thumbs.build()
    assert report.built == 2
    assert [f["path"] for f in report.failed] == [str(bad)]
    assert report.failed[0]["reason"]
    assert report.exit_status == 3


def test_leftover_temporary_files_are_never_used_and_are_cleaned(lib, two):
    sha = sha_of(lib, two / "land.jpg")
    cache = thumbs.Cache()
    final = cache.name(sha, 256, "webp")
    final.parent.mkdir(parents=True)
    leftover = final.with_name(f".{final.name}.999999999.tmp")  # a process long gone
    leftover.write_bytes(b"RIFF half a thumbnail")
    assert lib.thumbs.path(sha) is None
    final.write_bytes(b"")  # a power cut after the rename: empty, not a thumbnail
    assert lib.thumbs.path(sha) is None
    assert lib.thumbs.build().built == 2
    assert not leftover.exists()
    assert read_back(lib.thumbs.path(sha)).size == (256, 171)


def test_interrupted_write_leaves_no_file(tmp_path, monkeypatch):
    cache = thumbs.Cache(tmp_path / "thumbs")

    def stop(self, data):  # Ctrl-C in the middle of writing the temporary file
        Path.write_text(self, "half")
        raise KeyboardInterrupt

    real_write = Path.write_bytes
    monkeypatch.setattr(Path, "write_bytes", stop)
    with pytest.raises(KeyboardInterrupt):
        cache.write("a" * 64, 256, "webp", b"data")
    monkeypatch.setattr(Path, "write_bytes", real_write)
    assert [p for p in (tmp_path / "thumbs").rglob("*") if p.is_file()] == []


def test_prune_removes_only_thumbnails_of_contents_gone(lib, two, isolated_home, tmp_path):
    lib.thumbs.build()
    cache = thumbs.Cache()
    stranger = cache.name("ab" + "0" * 62, 256, "webp")
    stranger.parent.mkdir(exist_ok=True)
    stranger.write_bytes(b"a thumbnail of content no file has")
    other = cache.root / "notes.txt"
    other.write_text("not luna's")
    outside = tmp_path / "outside.webp"
    outside.write_bytes(b"x")
    dry = lib.thumbs.prune(dry_run=True)
    assert (dry.removed, dry.kept, dry.dry_run) == (1, 2, True)
    assert stranger.exists()
    done = lib.thumbs.prune()
    assert (done.removed, done.kept) == (1, 2)
    assert not stranger.exists() and other.exists() and outside.exists()
    assert lib.thumbs.path(sha_of(lib, two / "port.jpg")) is not None


def test_stats_counts_by_size(lib, two):
    lib.thumbs.build(preview=True)
    stats = lib.thumbs.stats().to_json()
    assert set(stats) == {"version", "folder", "count", "bytes", "contents", "placeholders",
                          "by_size"}  # fmt: skip
    assert (stats["count"], stats["contents"]) == (4, 2)
    assert set(stats["by_size"]) == {"256", "1440"}
    assert stats["bytes"] == sum(v["bytes"] for v in stats["by_size"].values())


def test_path_refuses_what_is_not_a_sha(lib):
    from luna.errors import BadValue

    with pytest.raises(BadValue):
        lib.thumbs.path("../../etc/passwd")
    assert lib.thumbs.path("f" * 64) is None


# -- the command line ------------------------------------------------------------------------

BUILD_KEYS = {"version", "built", "cached", "placeholders", "failed", "files", "sizes", "format",
              "folder", "video_backend", "seconds", "interrupted"}  # fmt: skip


def test_cli_build_json_then_cached_and_a_damaged_file_exits_3(lib, two):
    import json

    code, out, err = run_cli("thumbs", "--json")
    assert code == 0, err
    report = json.loads(out)
    assert set(report) == BUILD_KEYS
    assert (report["built"], report["sizes"], report["format"]) == (2, [256], "webp")
    (two / "land.jpg").write_bytes(b"\xff\xd8\xff\xe0 not a JPEG any more")
    code, out, err = run_cli("thumbs", "build", str(two), "--format", "jpeg", "--json")
    report = json.loads(out)
    assert code == 3
    assert report["built"] == 1 and report["failed"][0]["path"] == str(two / "land.jpg")
    assert "land.jpg" in err and "Traceback" not in err
    code, out, err = run_cli("thumbs", "--json")
    assert (code, json.loads(out)["cached"], json.loads(out)["built"]) == (0, 2, 0)


def test_cli_filters_choose_the_files(lib, two):
    import json

    lib.tags.add("keep", [str(two / "port.jpg")])
    code, out, err = run_cli("thumbs", "--tag", "keep", "--json")
    assert (code, json.loads(out)["built"], json.loads(out)["files"]) == (0, 1, 1)
    assert lib.thumbs.path(sha_of(lib, two / "land.jpg")) is None


def test_cli_stats_and_prune_json(lib, two):
    import json

    run_cli("thumbs")
    code, out, _ = run_cli("thumbs", "stats", "--json")
    assert code == 0 and json.loads(out)["count"] == 2
    code, out, _ = run_cli("thumbs", "prune", "--dry-run", "--json")
    assert code == 0
    assert set(json.loads(out)) == {"version", "removed", "bytes", "kept", "leftovers",
                                    "dry_run", "folder"}  # fmt: skip
    code, out, _ = run_cli("thumbs", "stats")
    assert code == 0 and "thumbnails\t2" in out


@pytest.mark.parametrize(
    "args",
    [("thumbs", "--format", "png"), ("thumbs", "stats", "--preview"),
     ("thumbs", "build", "--dry-run"), ("thumbs", "prune", "some.jpg")],
)  # fmt: skip
def test_cli_bad_input_is_one_line(lib, args):
    code, out, err = run_cli(*args)
    assert code == 2 and out == ""
    assert err.startswith("Error: ") and len(err.strip().splitlines()) == 1


def test_contact_sheet_from_find_is_a_jpeg_of_the_expected_grid(lib, photos, tmp_path):
    from luna.ops.contact_sheet import grid_size

    for n in range(8):
        make_photo(photos / f"p{n}.jpg", size=(320, 240), color=(n * 30, 80, 160))
    lib.import_paths([photos])
    sheet = tmp_path / "sheet.jpg"
    code, out, err = run_cli("find", "--contact-sheet", str(sheet))
    assert code == 0 and out == "", err
    im = read_back(sheet)
    assert im.format == "JPEG" and im.size == grid_size(8)[2:]
    assert grid_size(8)[:2] == (6, 2)
    assert not im.getexif()


def test_show_thumb_writes_the_sheet_on_stdout(lib, two):
    from typer.testing import CliRunner

    from luna.cli.app import app, load_commands
    from luna.ops.contact_sheet import grid_size

    load_commands()
    result = CliRunner().invoke(app, ["show", "--thumb", str(two / "land.jpg"), str(two)])
    assert result.exit_code == 0, result.stderr
    im = read_back(io.BytesIO(result.stdout_bytes))
    assert im.format == "JPEG" and im.size == grid_size(2)[2:]  # land.jpg named twice: once


def test_interrupted_build_keeps_what_was_made_and_says_so(lib, photos, monkeypatch):
    for n in range(3):
        make_photo(photos / f"p{n}.jpg", size=(320, 240), color=(n * 60, 80, 160))
    lib.import_paths([photos])
    real, calls = thumbnail.make, []

    def stopped_at_the_second(*args, **kwargs):
        calls.append(args)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(thumbnail, "make", stopped_at_the_second)
    report = thumbs.build(lib, None, workers=1)
    assert (report.built, report.interrupted, int(report.exit_status)) == (1, True, 130)
    assert lib.thumbs.stats()["count"] == 1
    assert not list(thumbs.Cache().root.rglob("*.tmp"))


def test_a_decompression_bomb_is_refused_without_decoding_it(tmp_path):
    from PIL import Image

    bomb = tmp_path / "bomb.png"
    Image.new("1", (15_000, 15_000)).save(bomb)  # 225 megapixels in a small file
    with pytest.raises(thumbnail.CannotThumbnail, match="decompression bomb"):
        thumbnail.make(str(bomb), kind="photo", mime="image/png", sizes=(256,))


def test_prune_never_follows_a_link_out_of_the_cache(lib, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    victim = elsewhere / ("cd" * 32 + ".256.webp")
    victim.write_bytes(b"not luna's to delete")
    root = thumbs.Cache().root
    root.mkdir(parents=True)
    (root / "cd").symlink_to(elsewhere)
    assert lib.thumbs.prune().removed == 0
    assert victim.exists()


def _luna_thumbs(crash_at: str | None = None):
    import subprocess
    import sys

    env = {**os.environ, **({"LUNA_CRASH_AT": crash_at} if crash_at else {})}
    return subprocess.run([sys.executable, "-m", "luna", "thumbs", "--json"], env=env,
                          capture_output=True, text=True, timeout=120)  # fmt: skip


STOPS = [("thumbnail:INT", 130), ("thumbnail:TERM", 143), ("thumbnail", -9)]  # -9: kill -9


@pytest.mark.parametrize(("crash_at", "status"), STOPS)
def test_stopped_build_leaves_whole_thumbnails_and_the_next_finishes(lib, photos, crash_at, status):
    import json

    for n in range(12):
        make_photo(photos / f"p{n}.jpg", size=(640, 480), color=(n * 20, 80, 160))
    lib.import_paths([photos])
    stopped = _luna_thumbs(crash_at)
    assert stopped.returncode == status, stopped.stderr
    assert "Traceback" not in stopped.stderr
    if status != -9:
        assert json.loads(stopped.stdout)["interrupted"] is True
    # The files in hand when it stopped are finished (how many: a matter of timing).
    made = lib.thumbs.stats()["count"]
    assert 1 <= made <= 12
    for thumb in thumbs.Cache().root.rglob("*.webp"):
        assert read_back(thumb).size == (256, 192)  # whole, every one
    again = _luna_thumbs()
    report = json.loads(again.stdout)
    assert again.returncode == 0 and (report["cached"], report["built"]) == (made, 12 - made)
    assert not list(thumbs.Cache().root.rglob("*.tmp"))


def _other_formats(folder: Path) -> list[Path]:
    from PIL import Image

    made = []
    for name, mode, colour, fmt in [
        ("alpha.png", "RGBA", (200, 10, 10, 128), "PNG"),
        ("palette.gif", "P", 3, "GIF"),
        ("deep.tif", "I;16", 40000, "TIFF"),
        ("print.jpg", "CMYK", (0, 255, 255, 0), "JPEG"),
        ("web.webp", "RGB", (10, 10, 200), "WEBP"),
        ("grey.png", "L", 128, "PNG"),
    ]:
        path = folder / name
        Image.new(mode, (600, 400), colour).save(path, fmt)
        made.append(path)
    return made


def test_other_formats_make_rgb_thumbnails(lib, photos):
    made = _other_formats(photos)
    lib.import_paths([photos])
    report = lib.thumbs.build()
    assert (report.built, report.failed) == (len(made), [])
    for path in made:
        im = read_back(lib.thumbs.path(sha_of(lib, path)))
        assert (im.mode, im.size) == ("RGB", (256, 171)), path.name
    r, g, b = read_back(lib.thumbs.path(sha_of(lib, photos / "alpha.png"))).getpixel((9, 9))
    assert r > 200 and 100 < g < 160  # half-transparent red over white
