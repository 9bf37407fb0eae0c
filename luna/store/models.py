"""The library's tables, as peewee models.

`File` is the seed's StoredFile: one row per photo, video or sidecar, which everything
else (tags, albums, events, related files) latches onto. Through tables are explicit models
with a unique (a, b) index rather than ManyToManyField, so each link can carry data.

Dates in `start`/`end` are the local wall-clock time at which the file was taken, as the
camera recorded it; `utc_offset` (minutes) is set when the file says which zone that was.
Row timestamps (`created`, `modified`, `missing_since`, ...) are UTC.
"""

from __future__ import annotations

import datetime as dt
import uuid

from luna import fsnames
from luna.store.orm import peewee

try:  # peewee >= 3.18 has a portable JSONField in core; older ones keep it in playhouse.
    JSONField = peewee.JSONField
except AttributeError:  # pragma: no cover
    from playhouse.sqlite_ext import JSONField  # type: ignore[no-redef]


class PathField(peewee.TextField):
    """A file name or path: TEXT when it is UTF-8, else a BLOB of its bytes (luna.fsnames)."""

    def db_value(self, value):
        return None if value is None else fsnames.to_db(value)

    def python_value(self, value):
        return None if value is None else fsnames.from_db(value)


def utcnow() -> dt.datetime:
    """Naive UTC now, the form row timestamps are stored in."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class BaseModel(peewee.Model):
    # No database: the models describe the tables, which luna.store.db creates with them;
    # every read and write is SQL in luna.store, on the connection a Store is bound to.
    class Meta:
        legacy_table_names = False


class User(BaseModel):
    id = peewee.AutoField()
    name = peewee.CharField(unique=True)
    created = peewee.DateTimeField(default=utcnow)


class Tag(BaseModel):
    """A short word or phrase. `name` keeps the first spelling used; `key` (the name
    trimmed and case-folded) is what makes two spellings the same tag. "Places/France/Paris"
    is one tag whose parents ("Places/France", "Places") are implied."""

    id = peewee.AutoField()
    name = peewee.CharField()
    key = peewee.CharField(unique=True)
    created = peewee.DateTimeField(default=utcnow)


class File(BaseModel):
    id = peewee.UUIDField(primary_key=True, default=uuid.uuid4)
    path = PathField(unique=True)  # absolute, as found on disk
    filename = PathField(index=True)
    kind = peewee.CharField(index=True)  # photo, video, sidecar
    mime_type = peewee.CharField(default="")  # sniffed from content, not the extension
    size_bytes = peewee.BigIntegerField(index=True)
    mtime_ns = peewee.BigIntegerField()  # st_mtime_ns: an import trusts an unchanged one
    content_sha = peewee.CharField(max_length=64, index=True)  # SHA-256, hex
    start = peewee.DateTimeField(null=True, index=True)
    end = peewee.DateTimeField(null=True)
    utc_offset = peewee.IntegerField(null=True)  # minutes east of UTC, when the file says
    latitude = peewee.FloatField(null=True)
    longitude = peewee.FloatField(null=True)
    altitude = peewee.FloatField(null=True)
    width = peewee.IntegerField(null=True)  # as displayed, Orientation applied
    height = peewee.IntegerField(null=True)
    metadata = JSONField(null=True)  # camera, lens, exposure, orientation, keywords, ...
    processor_metadata = JSONField(null=True)  # extractor, version, errors, date source
    owner = peewee.ForeignKeyField(User, null=True, on_delete="SET NULL", backref="files")
    missing_since = peewee.DateTimeField(null=True)  # set when its path vanished
    verified_at = peewee.DateTimeField(null=True, index=True)  # last `luna verify` that read it
    created = peewee.DateTimeField(default=utcnow)
    modified = peewee.DateTimeField(default=utcnow)
    # What people said of the file in luna (luna rate, label, pick/reject, describe), over
    # what the file itself says (metadata's rating, label, title, description). NULL: not
    # said in luna; 0 or '' said "none" (`luna rate 0`, `label none`, `unflag`).
    rating = peewee.IntegerField(null=True)  # 0-5 stars
    label = peewee.CharField(null=True)  # red, yellow, green, blue, purple
    flag = peewee.IntegerField(null=True)  # 1 picked, -1 rejected
    title = peewee.TextField(null=True)
    description = peewee.TextField(null=True)
    # A position luna gave a file that has none of its own (luna geotag), and where it came
    # from ("gpx:walk.gpx"): kept through re-imports, dropped when the file gets its own.
    set_latitude = peewee.FloatField(null=True)
    set_longitude = peewee.FloatField(null=True)
    set_altitude = peewee.FloatField(null=True)
    location_source = peewee.CharField(null=True)
    # A date luna gave a file without a capture date of its own (a Google Takeout JSON's):
    # local time, UTC offset, and where each came from. Like the position above, it is put
    # back when the file is read again without a capture date, and dropped when it has one.
    set_start = peewee.DateTimeField(null=True)
    set_utc_offset = peewee.IntegerField(null=True)
    set_date_source = peewee.CharField(null=True)
    set_offset_source = peewee.CharField(null=True)
    # Where it was taken, in words (luna.ops.places): the file's own names (IPTC/XMP City,
    # State, Country) over the place luna looks up from its position. place_source says
    # which ("file", "lookup", "file+lookup"; "" for no place); NULL: not worked out yet.
    city = peewee.CharField(null=True)
    region = peewee.CharField(null=True)  # the first-level division: a state, a region
    country = peewee.CharField(null=True)
    country_code = peewee.CharField(null=True)  # ISO 3166-1 alpha-2 (alpha-3 if a file says so)
    place_source = peewee.CharField(null=True)

    class Meta:
        indexes = (
            (("latitude", "longitude"), False),
            # `luna places` and `find --place` read the names from this index alone.
            (("country_code", "country", "region", "city"), False),
            # Covers the query a re-import starts with, so it never touches the table:
            # an unchanged tree is checked from this index and `stat` alone.
            (("path", "size_bytes", "mtime_ns", "missing_since"), False),
        )

    def __str__(self) -> str:
        return self.path


# Only the missing rows are in this index: listing them is all it is for, and every
# present row in it would cost each insert, and tempt the planner into reading the whole
# library for "missing_since IS NULL" (see luna.store.db's schema 4).
File.add_index(
    File.index(File.missing_since, name="file_missing_since").where(
        File.missing_since.is_null(False)
    )
)

# The files whose place is still to be worked out (new or changed since): few, between an
# import and the places pass that follows it.
File.add_index(
    File.index(File.id, name="file_place_pending").where(File.place_source.is_null(True))
)

# `luna find --tag` looks files up by id, thousands at a time; this index answers those
# lookups with what find needs (dates, presence, path) without reading the rows' JSON.
File.add_index(
    File.index(File.id, File.start, File.end, File.missing_since, File.path, name="file_find")
)


class ContentHistory(BaseModel):
    """A content hash a file had before: kept when `luna verify --accept` (or an import of an
    edited file) records a new one, so a change can be traced back."""

    id = peewee.AutoField()
    file = peewee.ForeignKeyField(File, on_delete="CASCADE", backref="content_history")
    content_sha = peewee.CharField(max_length=64)
    size_bytes = peewee.BigIntegerField(null=True)
    replaced_at = peewee.DateTimeField(default=utcnow)
    reason = peewee.CharField()  # "verify --accept", "import"


class PerceptualHash(BaseModel):
    """What a photo looks like, as a 64-bit hash (luna.ops.similar), for `dupes --similar`.

    Keyed by content, not by file: copies share one entry, and an edited file (new
    content) gets a new one. `value` is NULL, with `error` saying why, for content that
    cannot be decoded, so it is not tried again on every run."""

    content_sha = peewee.CharField(max_length=64)
    method = peewee.CharField()  # luna.ops.similar.HASH_METHOD: a new algorithm means new values
    value = peewee.BigIntegerField(null=True)  # the unsigned hash stored as a signed 64-bit int
    error = peewee.TextField(null=True)

    class Meta:
        primary_key = peewee.CompositeKey("content_sha", "method")


class SimilarPair(BaseModel):
    """Two perceptual hashes at most `distance` bits apart, found once and kept: a later
    `dupes --similar` compares only the photos it has not searched around yet. `a` < `b`,
    both stored as perceptual_hash.value is (signed)."""

    method = peewee.CharField()
    a = peewee.BigIntegerField()
    b = peewee.BigIntegerField()
    distance = peewee.IntegerField()

    class Meta:
        primary_key = peewee.CompositeKey("method", "a", "b")


class SimilarSearched(BaseModel):
    """A perceptual hash whose every close pair, up to `radius` bits, with any hash that
    was in the library then or came after, is in similar_pair."""

    method = peewee.CharField()
    value = peewee.BigIntegerField()
    radius = peewee.IntegerField()

    class Meta:
        primary_key = peewee.CompositeKey("method", "value")


class Transfer(BaseModel):
    """The journal of copies and moves in flight (luna.ops.transfer). A row is written and
    committed before a file is touched, advanced as each step completes, and removed once
    the file is in place, recorded and (for a move) its source deleted. Whatever a crash
    leaves here is finished or rolled back by the next luna command that opens the library
    for writing; `luna doctor` reports it."""

    id = peewee.AutoField()
    operation = peewee.CharField()  # "copy", "move" (luna import) or "organize"
    source = PathField()
    destination = PathField()
    temporary = PathField()  # where the copy is written before it is renamed into place
    content_sha = peewee.CharField(max_length=64)
    size_bytes = peewee.BigIntegerField()
    file = peewee.ForeignKeyField(File, null=True, on_delete="SET NULL")  # organize: the row moved
    state = peewee.CharField()  # "copying" -> "recorded" (a move, until its source is removed)
    started = peewee.DateTimeField(default=utcnow)


class FileRelation(BaseModel):
    """A directed link between two files: raw+jpeg, live photo, edited copy, sidecar."""

    id = peewee.AutoField()
    from_file = peewee.ForeignKeyField(File, on_delete="CASCADE", backref="relations_from")
    to_file = peewee.ForeignKeyField(File, on_delete="CASCADE", backref="relations_to")
    kind = peewee.CharField()

    class Meta:
        indexes = ((("from_file", "to_file", "kind"), True),)


class FileTag(BaseModel):
    id = peewee.AutoField()
    file = peewee.ForeignKeyField(File, on_delete="CASCADE", backref="file_tags")
    # Indexed with the file (below): a tag's files are read from the index alone.
    tag = peewee.ForeignKeyField(Tag, on_delete="CASCADE", backref="file_tags", index=False)
    # "metadata" tags come from the file (IPTC/XMP keywords) and are refreshed when the file
    # changes; "user" tags were added by hand and are never touched by an import.
    source = peewee.CharField(default="user")

    class Meta:
        indexes = ((("file", "tag"), True), (("tag", "file"), False))


class Album(BaseModel):
    id = peewee.AutoField()
    name = peewee.CharField()
    slug = peewee.CharField(unique=True)
    description = peewee.TextField(default="")
    owner = peewee.ForeignKeyField(User, null=True, on_delete="SET NULL", backref="albums")
    created = peewee.DateTimeField(default=utcnow)
    modified = peewee.DateTimeField(default=utcnow)


class AlbumFile(BaseModel):
    id = peewee.AutoField()
    album = peewee.ForeignKeyField(Album, on_delete="CASCADE", backref="album_files")
    file = peewee.ForeignKeyField(File, on_delete="CASCADE", backref="album_files")
    added = peewee.DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("album", "file"), True),)


class AlbumEditor(BaseModel):
    id = peewee.AutoField()
    album = peewee.ForeignKeyField(Album, on_delete="CASCADE", backref="editors")
    user = peewee.ForeignKeyField(User, on_delete="CASCADE")

    class Meta:
        indexes = ((("album", "user"), True),)


class AlbumViewer(BaseModel):
    id = peewee.AutoField()
    album = peewee.ForeignKeyField(Album, on_delete="CASCADE", backref="viewers")
    user = peewee.ForeignKeyField(User, on_delete="CASCADE")

    class Meta:
        indexes = ((("album", "user"), True),)


class Event(BaseModel):
    """A point in time (no end) or a span of time, used to group files. Times are local
    wall-clock times, as files' dates are; `utc_offset` (minutes) when the user gave one."""

    id = peewee.AutoField()
    name = peewee.CharField()
    slug = peewee.CharField(unique=True)  # how commands find it: the name, case- and space-free
    start = peewee.DateTimeField(index=True)
    end = peewee.DateTimeField(null=True, index=True)
    utc_offset = peewee.IntegerField(null=True)
    description = peewee.TextField(default="")
    created = peewee.DateTimeField(default=utcnow)


class EventFile(BaseModel):
    id = peewee.AutoField()
    event = peewee.ForeignKeyField(Event, on_delete="CASCADE", backref="event_files")
    file = peewee.ForeignKeyField(File, on_delete="CASCADE", backref="event_files")

    class Meta:
        indexes = ((("event", "file"), True),)


class ImportFailure(BaseModel):
    """A file an import could not record, kept so `stats` can count it and a re-import
    can skip it cheaply while it stays unchanged."""

    id = peewee.AutoField()
    path = PathField(unique=True)
    size_bytes = peewee.BigIntegerField(null=True)
    mtime_ns = peewee.BigIntegerField(null=True)
    reason = peewee.TextField()
    failed_at = peewee.DateTimeField(default=utcnow)


class ApproximateMtime(BaseModel):
    """A row whose mtime_ns was converted from the float of seconds a library before schema 5
    kept (luna.mtimes): until an import finds its file unchanged at that precision and
    records the exact mtime, it is compared at that precision."""

    file = peewee.ForeignKeyField(File, primary_key=True, on_delete="CASCADE")


ALL_MODELS = [
    User,
    Tag,
    File,
    FileRelation,
    FileTag,
    Album,
    AlbumFile,
    AlbumEditor,
    AlbumViewer,
    Event,
    EventFile,
    ImportFailure,
    ContentHistory,
    PerceptualHash,
    SimilarPair,
    SimilarSearched,
    Transfer,
    ApproximateMtime,
]
