"""luna.store.bulk: many records at once, stored exactly as the importer stores files."""

from __future__ import annotations

import datetime as dt

import pytest
from conftest import library_rows

from luna.errors import BadName, BadRecord
from luna.fsnames import to_db
from luna.library import Library
from luna.store.bulk import FILE_COLUMNS, bulk_insert_files
from luna.store.models import File
from luna.store.rows import ROW_COLUMNS
from luna.store.writes import FileStore

TAKEN = dt.datetime(2019, 6, 1, 12, 30, 5)
METADATA = {"make": "Canon", "model": "EOS R", "exposure": "1/200", "note": "été"}
PROCESSOR = {"extractor": "exif", "version": 1, "date_source": "exif"}


def record(path: str, **changes) -> dict:
    base = {
        "path": path,
        "size_bytes": 1_234_567,
        "mtime_ns": 1_559_392_205_250_000_001,
        "content_sha": "ab" * 32,
        "kind": "photo",
        "mime_type": "image/jpeg",
        "start": TAKEN,
        "end": None,
        "utc_offset": 120,
        "latitude": 43.7,
        "longitude": 7.26,
        "altitude": 12.5,
        "width": 4000,
        "height": 3000,
        "metadata": METADATA,
        "processor_metadata": PROCESSOR,
    }
    return {**base, **changes}


def raw_row(lib, path: str) -> dict:
    """The file's row as stored (every column of the model, named: the server's file table
    has a `rowid` of its own besides)."""
    names = [field.column_name for field in File._meta.sorted_fields]
    columns = ", ".join(f'"{name}"' for name in names)
    (row,) = library_rows(lib.path, f"SELECT {columns} FROM file WHERE path = ?", (to_db(path),))
    return dict(zip(names, row, strict=True))


def import_like_the_importer(lib, rec: dict) -> None:
    """What Importer._record writes for a new file, through the same FileStore."""
    row = {name: rec.get(name) for name in ROW_COLUMNS}
    row.update(filename=rec["path"].rsplit("/", 1)[1], owner=None, missing_since=None)
    row["modified"] = dt.datetime(2024, 1, 1)
    with lib.db.atomic():
        FileStore(lib.db).insert(row)


def test_rows_are_stored_exactly_as_the_importer_stores_them(lib):
    import_like_the_importer(lib, record("/photos/imported.jpg"))
    assert bulk_insert_files(lib, [record("/photos/bulk.jpg")]) == 1

    imported, bulk = raw_row(lib, "/photos/imported.jpg"), raw_row(lib, "/photos/bulk.jpg")
    for column in ("id", "path", "filename", "created", "modified"):
        imported.pop(column), bulk.pop(column)
    assert bulk == imported
    assert bulk["start"] == "2019-06-01 12:30:05"  # peewee's text form, compared as text
    assert bulk["mtime_ns"] == 1_559_392_205_250_000_001  # to the nanosecond


def test_an_mtime_given_in_seconds_is_kept_in_nanoseconds(lib):
    given = record("/photos/seconds.jpg", mtime=1_559_392_205.25)
    del given["mtime_ns"]
    bulk_insert_files(lib, [given])
    assert raw_row(lib, "/photos/seconds.jpg")["mtime_ns"] == 1_559_392_205_250_000_000


def test_bulk_writes_every_column_the_importer_writes():
    importer_columns = {File._meta.fields[name].column_name for name in ROW_COLUMNS}
    assert importer_columns | {"id", "created"} == set(FILE_COLUMNS)


def test_a_bulk_file_reads_back_through_the_library(lib):
    rec = record("/photos/2019/06/IMG_0001.jpg", owner="alice", tags=["Beach", "Places/Nice"])
    rec["albums"] = ["Summer 2019"]
    bulk_insert_files(lib, [rec])

    shown = lib.serialize(lib.get_file("/photos/2019/06/IMG_0001.jpg"))
    assert shown["filename"] == "IMG_0001.jpg"
    assert shown["start"] == "2019-06-01T12:30:05+02:00"
    assert shown["end"] is None
    assert shown["mtime"] == "2019-06-01T12:30:05Z"
    assert shown["location"] == {
        "latitude": 43.7,
        "longitude": 7.26,
        "altitude": 12.5,
        "source": None,
    }
    assert shown["owner"] == "alice"
    assert shown["tags"] == ["Beach", "Places/Nice"]
    assert shown["albums"] == [{"name": "Summer 2019", "slug": "summer-2019"}]
    assert shown["metadata"] == METADATA
    assert shown["processor_metadata"] == PROCESSOR
    assert len(shown["id"]) == 36  # a uuid, like every file's


def test_stats_count_bulk_files(lib):
    records = [
        record(f"/photos/{year}/IMG_{i}.jpg", start=dt.datetime(year, 5, 1), tags=["beach"])
        for i, year in enumerate((2012, 2012, 2021))
    ]
    records.append(record("/photos/undated.mov", kind="video", start=None, latitude=None))
    bulk_insert_files(lib, records)

    stats = lib.stats()
    assert stats["files"] == 4
    assert stats["by_kind"] == {"photo": 3, "video": 1}
    assert stats["by_year"] == {"unknown": 1, "2012": 2, "2021": 1}
    assert stats["by_camera"] == {"Canon EOS R": 4}
    assert stats["by_date_source"] == {"exif": 4}
    assert stats["with_location"] == 3
    assert stats["total_bytes"] == 4 * 1_234_567
    assert stats["tags"] == 1


def test_existing_paths_and_repeats_are_skipped(lib):
    assert bulk_insert_files(lib, [record("/p/a.jpg"), record("/p/b.jpg")]) == 2
    again = [record("/p/a.jpg", size_bytes=1), record("/p/c.jpg"), record("/p/c.jpg")]
    assert bulk_insert_files(lib, again, batch=1) == 1
    assert raw_row(lib, "/p/a.jpg")["size_bytes"] == 1_234_567
    assert lib.stats()["files"] == 3


def test_every_batch_is_written(lib):
    records = [record(f"/p/{i:03d}.jpg", tags=[f"t{i % 3}"]) for i in range(25)]
    assert bulk_insert_files(lib, records, batch=4) == 25
    links = lib.db.execute_sql("SELECT COUNT(*) FROM file_tag").fetchone()[0]
    assert links == 25
    assert lib.stats()["tags"] == 3


def test_one_tag_however_it_is_spelled(lib):
    bulk_insert_files(lib, [record("/p/a.jpg", tags=["Beach", "beach ", "BEACH"])])
    bulk_insert_files(lib, [record("/p/b.jpg", tags=["beach"])])
    assert lib.stats()["tags"] == 1
    assert lib.serialize(lib.get_file("/p/a.jpg"))["tags"] == ["Beach"]
    assert lib.serialize(lib.get_file("/p/b.jpg"))["tags"] == ["Beach"]


def test_tags_are_user_tags_unless_said_otherwise(lib):
    bulk_insert_files(lib, [record("/p/a.jpg", tags=["kept"])])
    bulk_insert_files(lib, [record("/p/b.jpg", tags=["kept"])], tag_source="metadata")
    sources = library_rows(
        lib.path,
        "SELECT f.filename, ft.source FROM file_tag ft JOIN file f ON f.id = ft.file_id "
        "ORDER BY f.filename",
    )
    assert sources == [("a.jpg", "user"), ("b.jpg", "metadata")]


def test_albums_are_created_for_the_owner_or_reused(lib):
    from luna.ops import albums

    albums.create_album(lib, "Old", user="bob")
    records = [record(f"/p/{name}.jpg", owner="alice", albums=["New", "old"]) for name in "cab"]
    bulk_insert_files(lib, records)

    listed = {a["name"]: a for a in albums.list_albums(lib, user="alice")}
    assert listed["New"]["role"] == "owner"
    assert "Old" not in listed  # bob's album, which alice cannot see
    shown = albums.show_album(lib, "new", user="alice", order="added")
    assert [f["filename"] for f in shown["files"]] == ["c.jpg", "a.jpg", "b.jpg"]
    assert albums.show_album(lib, "Old", user="bob")["files"] != []


def test_a_new_event_spans_its_files(lib):
    from luna.ops import events

    events.create_event(lib, "Existing", "2018-01-01")
    records = [
        record("/p/a.jpg", start=dt.datetime(2019, 6, 2, 9), events=["Trip to Nice", "existing"]),
        record("/p/b.jpg", start=dt.datetime(2019, 6, 1, 18), events=["Trip to Nice"]),
        record("/p/c.jpg", start=dt.datetime(2019, 6, 5, 20), events=["Trip to Nice"]),
        record("/p/d.jpg", start=dt.datetime(2019, 6, 3, 8), events=["Party"]),
    ]
    bulk_insert_files(lib, records, batch=2)

    trip = events.show_event(lib, "trip to nice")
    assert (trip["start"], trip["end"]) == ("2019-06-01T18:00:00", "2019-06-05T20:00:00")
    assert [f["filename"] for f in trip["files"]] == ["b.jpg", "a.jpg", "c.jpg"]
    party = events.show_event(lib, "Party")
    assert (party["start"], party["end"]) == ("2019-06-03T08:00:00", None)
    assert len(events.show_event(lib, "Existing")["files"]) == 1


def test_a_new_event_needs_a_dated_record(lib):
    with pytest.raises(BadRecord, match="Undated"):
        bulk_insert_files(lib, [record("/p/a.jpg", start=None, events=["Undated"])])
    assert lib.stats()["files"] == 0


def test_an_aware_time_gives_the_offset(lib):
    paris = dt.timezone(dt.timedelta(hours=2))
    rec = record("/p/a.jpg", start=dt.datetime(2019, 6, 1, 14, tzinfo=paris), utc_offset=None)
    rec["end"] = "2019-06-01T14:05:00+02:00"
    bulk_insert_files(lib, [rec])
    row = raw_row(lib, "/p/a.jpg")
    assert (row["start"], row["end"], row["utc_offset"]) == (
        "2019-06-01 14:00:00",
        "2019-06-01 14:05:00",
        120,
    )


def test_only_a_path_is_needed(lib):
    bulk_insert_files(lib, [{"path": "/p/bare.jpg"}])
    shown = lib.serialize(lib.get_file("/p/bare.jpg"))
    assert (shown["kind"], shown["size_bytes"], shown["start"]) == ("photo", 0, None)
    assert (shown["metadata"], shown["location"], shown["tags"]) == ({}, None, [])


@pytest.mark.parametrize(
    "bad, message",
    [
        ({"path": "relative/a.jpg"}, "absolute"),
        ({"size_bytes": 1}, "absolute"),
        ({"path": "/p/x.jpg", "start": "June 2019"}, "not an ISO date"),
        ({"path": "/p/x.jpg", "start": 2019}, "datetime or ISO text"),
        ({"path": "/p/x.jpg", "tags": "beach"}, "list of names"),
    ],
)
def test_a_bad_record_stops_its_batch_and_keeps_earlier_ones(lib, bad, message):
    records = [record("/p/first.jpg"), record("/p/second.jpg"), bad]
    with pytest.raises(BadRecord, match=message):
        bulk_insert_files(lib, records, batch=2)
    assert [r[0] for r in library_rows(lib.path, "SELECT path FROM file ORDER BY path")] == [
        "/p/first.jpg",
        "/p/second.jpg",
    ]


def test_a_bad_tag_name_is_refused(lib):
    with pytest.raises(BadName):
        bulk_insert_files(lib, [record("/p/a.jpg", tags=["a//b"])])
    assert lib.stats()["files"] == 0


@pytest.mark.sqlite_only
def test_the_page_cache_is_put_back(lib):
    before = lib.db.execute_sql("PRAGMA cache_size").fetchone()[0]
    bulk_insert_files(lib, [record("/p/a.jpg")])
    assert lib.db.execute_sql("PRAGMA cache_size").fetchone()[0] == before


def test_bulk_files_are_found(lib):
    from luna.search import query

    bulk_insert_files(lib, [record("/p/a.jpg", tags=["beach"]), record("/p/b.jpg")])
    lib.close()
    with Library.for_search(lib.path) as searching:  # what `luna find` opens
        hits = searching.find(query.Query(tags=["beach"], after="2019")).hits
    assert [h.path for h in hits] == ["/p/a.jpg"]
