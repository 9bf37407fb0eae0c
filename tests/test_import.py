"""`luna import`: what lands in the library, and what an incremental re-import does."""

from __future__ import annotations

import os
import time

import pytest
from conftest import library_exists, library_snapshot, make_photo

from luna.ingest.importer import ImportOptions


def imp(lib, *paths, **options):
    return lib.import_paths([str(p) for p in paths], ImportOptions(**options))


def record(lib, path):
    return lib.serialize(lib.get_file(str(path)))


def test_photo_fields_come_from_exif(lib, photos):
    path = make_photo(
        photos / "IMG_0001.jpg",
        taken="2019:06:01 12:34:56",
        offset="+02:00",
        gps=(48.8584, -2.2945),
        altitude=-12.5,
        make="NIKON CORPORATION",
        model="NIKON D750",
        size=(80, 60),
    )
    report = imp(lib, photos)
    assert (report.added, report.failed, report.skipped) == (1, 0, 0)
    rec = record(lib, path)
    assert rec["kind"] == "photo"
    assert rec["mime_type"] == "image/jpeg"
    assert rec["start"] == "2019-06-01T12:34:56+02:00"
    assert rec["processor_metadata"]["date_source"] == "exif:DateTimeOriginal"
    assert rec["location"]["latitude"] == pytest.approx(48.8584, abs=1e-5)
    assert rec["location"]["longitude"] == pytest.approx(-2.2945, abs=1e-5)
    assert rec["location"]["altitude"] == pytest.approx(-12.5)
    assert (rec["metadata"]["make"], rec["metadata"]["model"]) == (
        "NIKON CORPORATION",
        "NIKON D750",
    )
    assert (rec["width"], rec["height"]) == (80, 60)
    assert rec["size_bytes"] == path.stat().st_size
    import hashlib

    assert rec["content_sha"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert rec["filename"] == "IMG_0001.jpg"
    assert rec["path"] == str(path)
    import pwd

    assert rec["owner"] == pwd.getpwuid(os.getuid()).pw_name


def test_southern_and_western_coordinates_are_negative(lib, photos):
    path = make_photo(photos / "rio.jpg", gps=(-22.9519, -43.2105))
    imp(lib, photos)
    loc = record(lib, path)["location"]
    assert loc["latitude"] == pytest.approx(-22.9519, abs=1e-5)
    assert loc["longitude"] == pytest.approx(-43.2105, abs=1e-5)


@pytest.mark.parametrize(
    "orientation,expected", [(1, (80, 60)), (3, (80, 60)), (6, (60, 80)), (8, (60, 80))]
)
def test_dimensions_are_as_displayed(lib, photos, orientation, expected):
    path = make_photo(photos / f"o{orientation}.jpg", size=(80, 60), orientation=orientation)
    imp(lib, photos)
    rec = record(lib, path)
    assert (rec["width"], rec["height"]) == expected
    assert rec["metadata"]["orientation"] == orientation


def test_iptc_keywords_become_tags(lib, photos):
    path = make_photo(photos / "tagged.jpg", keywords=["beach", "Zoë", "family"])
    imp(lib, photos)
    assert record(lib, path)["tags"] == ["Zoë", "beach", "family"]


def test_mime_type_is_sniffed_from_content_not_extension(lib, photos):
    path = make_photo(photos / "actually_a_png.jpg", fmt="PNG")
    imp(lib, photos)
    assert record(lib, path)["mime_type"] == "image/png"


def test_photo_without_date_falls_back_to_mtime_and_says_so(lib, photos):
    path = make_photo(photos / "nodate.jpg", taken=None)
    os.utime(path, (1_500_000_000, 1_500_000_000))
    imp(lib, photos)
    rec = record(lib, path)
    assert rec["processor_metadata"]["date_source"] == "file:mtime"
    assert rec["start"].startswith("2017-07-1")


def test_invalid_exif_date_is_treated_as_absent(lib, photos):
    path = make_photo(photos / "zero.jpg", taken="0000:00:00 00:00:00")
    imp(lib, photos)
    assert record(lib, path)["processor_metadata"]["date_source"] == "file:mtime"


def test_hidden_files_and_folders_are_skipped(lib, photos):
    make_photo(photos / "visible.jpg")
    make_photo(photos / ".hidden.jpg")
    make_photo(photos / ".thumbnails" / "t.jpg")
    report = imp(lib, photos)
    assert report.added == 1
    assert [f["filename"] for f in files(lib)] == ["visible.jpg"]


def test_exclude_globs_match_names_and_paths(lib, photos):
    make_photo(photos / "keep.jpg")
    make_photo(photos / "skip.tmp.jpg")
    make_photo(photos / "cache" / "c.jpg")
    make_photo(photos / "@eaDir" / "syno.jpg")
    report = imp(lib, photos, exclude=("*.tmp.jpg", "*/cache/*", "@eaDir"))
    assert report.added == 1


def test_non_media_files_are_skipped_and_counted(lib, photos):
    make_photo(photos / "a.jpg")
    (photos / "notes.txt").write_text("hello")
    (photos / "mystery").write_bytes(b"\x00\x01 just some bytes" * 100)
    report = imp(lib, photos)
    assert (report.added, report.skipped, report.failed) == (1, 2, 0)


def test_a_single_file_can_be_imported(lib, photos):
    path = make_photo(photos / "one.jpg")
    make_photo(photos / "two.jpg")
    report = imp(lib, path)
    assert report.added == 1


def test_symlinks_are_not_followed_unless_asked(lib, tmp_path, photos):
    elsewhere = tmp_path / "elsewhere"
    make_photo(elsewhere / "linked.jpg")
    make_photo(photos / "real.jpg")
    (photos / "link_dir").symlink_to(elsewhere)
    (photos / "link_file.jpg").symlink_to(elsewhere / "linked.jpg")
    assert imp(lib, photos).added == 1
    report = imp(lib, photos, follow_symlinks=True)
    # The folder link and the file link reach the same file: it is recorded once.
    assert report.added == 1
    assert len(files(lib)) == 2


def test_symlink_loop_does_not_hang(lib, photos):
    make_photo(photos / "a" / "p.jpg")
    (photos / "a" / "loop").symlink_to(photos)
    (photos / "a" / "self").symlink_to(photos / "a")
    started = time.monotonic()
    report = imp(lib, photos, follow_symlinks=True)
    assert report.added == 1
    assert time.monotonic() - started < 30


def test_nothing_is_written_to_the_users_files(lib, photos):
    make_photo(photos / "a.jpg")
    make_photo(photos / "sub" / "b.jpg")
    before = snapshot(photos)
    imp(lib, photos)
    imp(lib, photos)
    assert snapshot(photos) == before


# -- re-import ------------------------------------------------------------------------


def test_unchanged_files_are_not_read_again(lib, photos):
    for i in range(5):
        make_photo(photos / f"{i}.jpg", color=(i, 0, 0))
    first = imp(lib, photos)
    again = imp(lib, photos)
    assert first.added == 5
    assert (again.added, again.updated, again.unchanged, again.files_read) == (0, 0, 5, 0)


def test_an_mtime_one_nanosecond_later_is_a_change(lib, photos):
    """The mtime is kept to the nanosecond: a float of seconds would hold these two (240 ns
    apart at most near 2023) as one, and an edit that kept the size would go unseen."""
    path = make_photo(photos / "a.jpg")
    when = 1_700_000_000_123_456_789
    os.utime(path, ns=(when, when))
    imp(lib, photos)
    assert lib.get_file(str(path)).mtime_ns == when
    assert os.stat(path).st_mtime == (when + 1) / 1e9 == when / 1e9  # alike as floats
    os.utime(path, ns=(when + 1, when + 1))
    again = imp(lib, photos)
    assert (again.unchanged, again.updated, again.files_read) == (0, 1, 1)
    assert lib.get_file(str(path)).mtime_ns == when + 1


def test_changed_file_is_rehashed_and_keeps_id_and_tags(lib, photos):
    path = make_photo(photos / "a.jpg", taken="2019:06:01 12:00:00")
    imp(lib, photos)
    before = record(lib, path)
    add_user_tag(lib, before["id"], "favourite")
    make_photo(path, taken="2020:01:02 03:04:05", color=(1, 2, 3))
    os.utime(path, (time.time() + 5, time.time() + 5))
    report = imp(lib, photos)
    after = record(lib, path)
    assert report.updated == 1
    assert after["id"] == before["id"]
    assert after["content_sha"] != before["content_sha"]
    assert after["start"] == "2020-01-02T03:04:05"
    assert "favourite" in after["tags"]


def test_keyword_tags_follow_the_file_but_user_tags_stay(lib, photos):
    path = make_photo(photos / "a.jpg", keywords=["old"])
    imp(lib, photos)
    add_user_tag(lib, record(lib, path)["id"], "mine")
    make_photo(path, keywords=["new"], color=(9, 9, 9))
    os.utime(path, (time.time() + 5, time.time() + 5))
    imp(lib, photos)
    assert record(lib, path)["tags"] == ["mine", "new"]


def test_moved_file_keeps_id_tags_albums_and_events(lib, photos):
    path = make_photo(photos / "2019" / "a.jpg")
    imp(lib, photos)
    before = record(lib, path)
    add_user_tag(lib, before["id"], "favourite")
    put_in_album_and_event(lib, before["id"])
    target = photos / "sorted" / "renamed.jpg"
    target.parent.mkdir()
    path.rename(target)
    report = imp(lib, photos)
    assert (report.moved, report.added, report.missing) == (1, 0, 0)
    after = record(lib, target)
    assert after["id"] == before["id"]
    assert after["filename"] == "renamed.jpg"
    assert after["tags"] == ["favourite"]
    assert [a["name"] for a in after["albums"]] == ["Holidays"]
    assert [e["name"] for e in after["events"]] == ["Trip"]
    assert len(files(lib)) == 1


def test_a_copy_is_a_new_file_not_a_move(lib, photos):
    path = make_photo(photos / "a.jpg")
    imp(lib, photos)
    (photos / "copy.jpg").write_bytes(path.read_bytes())
    report = imp(lib, photos)
    assert (report.added, report.moved) == (1, 0)


def test_vanished_file_is_marked_missing_not_deleted(lib, photos):
    keep = make_photo(photos / "keep.jpg")
    gone = make_photo(photos / "gone.jpg", color=(1, 1, 1))
    imp(lib, photos)
    gone_id = record(lib, gone)["id"]
    gone.unlink()
    report = imp(lib, photos)
    assert report.missing == 1
    rec = lib.serialize(lib.get_file(gone_id))
    assert rec["missing_since"] is not None
    assert record(lib, keep)["missing_since"] is None
    assert lib.stats()["missing"] == 1
    # The file comes back: it is no longer missing.
    make_photo(gone, color=(1, 1, 1))
    imp(lib, photos)
    assert lib.serialize(lib.get_file(gone_id))["missing_since"] is None


def test_a_file_found_again_keeps_its_row_when_a_copy_appears_beside_it(lib, photos, tmp_path):
    # The copy is read in the same import that finds the file again: the row marked missing
    # is the file's own, not a row the copy may take as "moved from there".
    shot = make_photo(photos / "b" / "IMG_1.jpg", color=(9, 8, 7))
    make_photo(photos / "b" / "IMG_2.jpg", color=(1, 2, 3))
    imp(lib, photos)
    shot_id = record(lib, shot)["id"]
    os.rename(shot, tmp_path / "away.jpg")
    assert imp(lib, photos).missing == 1
    os.rename(tmp_path / "away.jpg", shot)
    copy = photos / "a" / "IMG_1 copy.jpg"
    copy.parent.mkdir()
    copy.write_bytes(shot.read_bytes())
    report = imp(lib, photos)
    assert (report.added, report.moved, report.unchanged) == (1, 0, 2)
    assert record(lib, shot)["id"] == shot_id and record(lib, shot)["missing_since"] is None
    assert record(lib, copy)["id"] != shot_id
    assert lib.stats()["missing"] == 0


def test_excluded_but_existing_files_are_not_marked_missing(lib, photos):
    make_photo(photos / "a.jpg")
    make_photo(photos / "b.jpg", color=(3, 3, 3))
    imp(lib, photos)
    report = imp(lib, photos, exclude=("b.jpg",))
    assert report.missing == 0


def test_move_out_of_a_vanished_folder_into_another_import_root(lib, tmp_path):
    old = make_photo(tmp_path / "card" / "DCIM" / "a.jpg")
    imp(lib, tmp_path / "card")
    file_id = record(lib, old)["id"]
    new = tmp_path / "archive" / "a.jpg"
    new.parent.mkdir()
    old.rename(new)
    report = imp(lib, tmp_path / "archive")
    assert report.moved == 1
    assert record(lib, new)["id"] == file_id


# -- dry run --------------------------------------------------------------------------


def test_dry_run_writes_nothing(library_path, photos):
    from luna.library import Library

    make_photo(photos / "a.jpg")
    with Library.open(library_path, readonly=True) as lib:
        report = imp(lib, photos, dry_run=True)
    assert report.added == 1 and report.dry_run
    assert not library_exists(library_path)
    make_photo(photos / "c.jpg", color=(9, 9, 9))
    with Library.open(library_path) as lib:
        imp(lib, photos)
    make_photo(photos / "b.jpg", color=(5, 5, 5))
    (photos / "a.jpg").unlink()
    stamp = library_snapshot(library_path)
    with Library.open(library_path, readonly=True) as lib:
        report = imp(lib, photos, dry_run=True)
        assert (report.added, report.missing) == (1, 1)
        assert lib.stats()["files"] == 2
        assert lib.stats()["missing"] == 0
    assert library_snapshot(library_path) == stamp


# -- helpers --------------------------------------------------------------------------


def files(lib):
    ids = [row[0] for row in lib.db.execute_sql("SELECT id FROM file ORDER BY path")]
    return [lib.serialize(lib.get_file(file_id)) for file_id in ids]


def add_user_tag(lib, file_id, name):
    lib.store.tags.link([(lib.tag_id(name), file_id.replace("-", ""))], source="user")


def put_in_album_and_event(lib, file_id):
    import datetime as dt

    from luna.ops import albums, events

    albums.create_album(lib, "Holidays", user="tester")
    albums.add_files(lib, "Holidays", [file_id], user="tester")
    events.create_event(lib, "Trip", start=dt.datetime(2019, 6, 1))
    events.add_files(lib, "Trip", [file_id.replace("-", "")])


def snapshot(folder):
    out = {}
    for root, _dirs, names in os.walk(folder):
        for name in names:
            p = os.path.join(root, name)
            st = os.lstat(p)
            with open(p, "rb") as f:
                out[p] = (st.st_mtime_ns, st.st_size, f.read())
    return out


@pytest.mark.parametrize("fmt", ["JPEG", "TIFF", "PNG", "WEBP"])
def test_rotated_dimensions_in_every_format(lib, photos, fmt):
    path = make_photo(photos / f"r.{fmt.lower()}", size=(80, 60), orientation=6, fmt=fmt)
    imp(lib, photos)
    rec = record(lib, path)
    assert (rec["width"], rec["height"]) == (60, 80)


def test_progress_learns_the_totals_as_the_walk_finds_files(lib, photos):
    # The walk runs while files are read: the totals to read grow folder by folder, never
    # shrink, and end at what was read. The terminal's bar takes them as they come.
    from luna.cli.progress import RichImportProgress

    for folder in ("a", "b", "c"):
        for i in range(3):
            make_photo(photos / folder / f"IMG_{i}.jpg", color=(i, ord(folder), 5))

    class Recorded(RichImportProgress):
        def __init__(self):
            super().__init__()
            self.totals: list[tuple[int, int]] = []

        def reading(self, files, total_bytes):
            self.totals.append((files, total_bytes))
            super().reading(files, total_bytes)

    progress = Recorded()
    report = lib.import_paths([str(photos)], ImportOptions(), progress)
    assert len(progress.totals) == 3  # one per folder
    assert progress.totals == sorted(progress.totals)
    assert progress.totals[-1] == (report.files_read, report.bytes_read) == (9, report.bytes_read)


@pytest.mark.sqlite_only
def test_a_library_kept_among_the_photos_is_not_imported(tmp_path, cli, cli_json):
    """The library file, its journal files and its backups are skipped, not "failed" (an
    empty -wal file would be), and stay as they are."""
    folder = tmp_path / "pictures"
    make_photo(folder / "a.jpg")
    library = folder / "lib.db"
    (folder / "lib.db.schema7-20260101-000000.bak").write_bytes(b"SQLite format 3\0")
    code, report, err = cli_json("-L", library, "import", folder)
    assert code == 0, err
    assert report["added"] == 1 and report["failed"] == 0
    skipped = {os.path.basename(s["path"]): s["reason"] for s in report["skipped_files"]}
    assert skipped["lib.db.schema7-20260101-000000.bak"] == "the library itself"
    assert all(reason == "the library itself" for name, reason in skipped.items())
    code, out, _ = cli("-L", library, "find", "--paths")
    assert out.split() == [str(folder / "a.jpg")]
