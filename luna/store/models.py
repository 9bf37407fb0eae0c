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

from peewee import (
    AutoField,
    BigIntegerField,
    CharField,
    CompositeKey,
    DateTimeField,
    FloatField,
    ForeignKeyField,
    IntegerField,
    Model,
    TextField,
    UUIDField,
)

from luna import fsnames

try:  # peewee >= 3.18 has a portable JSONField in core; older ones keep it in playhouse.
    from peewee import JSONField
except ImportError:  # pragma: no cover
    from playhouse.sqlite_ext import JSONField  # type: ignore[no-redef]


class PathField(TextField):
    """A file name or path: TEXT when it is UTF-8, else a BLOB of its bytes (luna.fsnames)."""

    def db_value(self, value):
        return None if value is None else fsnames.to_db(value)

    def python_value(self, value):
        return None if value is None else fsnames.from_db(value)


def utcnow() -> dt.datetime:
    """Naive UTC now, the form row timestamps are stored in."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class BaseModel(Model):
    # No database: the models describe the tables, which luna.store.db creates with them;
    # every read and write is SQL in luna.store, on the connection a Store is bound to.
    class Meta:
        legacy_table_names = False


class User(BaseModel):
    id = AutoField()
    name = CharField(unique=True)
    created = DateTimeField(default=utcnow)


class Tag(BaseModel):
    """A short word or phrase. `name` keeps the first spelling used; `key` (the name
    trimmed and case-folded) is what makes two spellings the same tag. "Places/France/Paris"
    is one tag whose parents ("Places/France", "Places") are implied."""

    id = AutoField()
    name = CharField()
    key = CharField(unique=True)
    created = DateTimeField(default=utcnow)


class File(BaseModel):
    id = UUIDField(primary_key=True, default=uuid.uuid4)
    path = PathField(unique=True)  # absolute, as found on disk
    filename = PathField(index=True)
    kind = CharField(index=True)  # photo, video, sidecar
    mime_type = CharField(default="")  # sniffed from content, not the extension
    size_bytes = BigIntegerField(index=True)
    mtime = FloatField()  # st_mtime, compared exactly to decide whether to re-read
    content_sha = CharField(max_length=64, index=True)  # SHA-256, hex
    start = DateTimeField(null=True, index=True)
    end = DateTimeField(null=True)
    utc_offset = IntegerField(null=True)  # minutes east of UTC, when the file says
    latitude = FloatField(null=True)
    longitude = FloatField(null=True)
    altitude = FloatField(null=True)
    width = IntegerField(null=True)  # as displayed, Orientation applied
    height = IntegerField(null=True)
    metadata = JSONField(null=True)  # camera, lens, exposure, orientation, keywords, ...
    processor_metadata = JSONField(null=True)  # extractor, version, errors, date source
    owner = ForeignKeyField(User, null=True, on_delete="SET NULL", backref="files")
    missing_since = DateTimeField(null=True)  # set when its path vanished
    verified_at = DateTimeField(null=True, index=True)  # last `luna verify` that read it
    created = DateTimeField(default=utcnow)
    modified = DateTimeField(default=utcnow)

    class Meta:
        indexes = (
            (("latitude", "longitude"), False),
            # Covers the query a re-import starts with, so it never touches the table:
            # an unchanged tree is checked from this index and `stat` alone.
            (("path", "size_bytes", "mtime", "missing_since"), False),
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

# `luna find --tag` looks files up by id, thousands at a time; this index answers those
# lookups with what find needs (dates, presence, path) without reading the rows' JSON.
File.add_index(
    File.index(File.id, File.start, File.end, File.missing_since, File.path, name="file_find")
)


class ContentHistory(BaseModel):
    """A content hash a file had before: kept when `luna verify --accept` (or an import of an
    edited file) records a new one, so a change can be traced back."""

    id = AutoField()
    file = ForeignKeyField(File, on_delete="CASCADE", backref="content_history")
    content_sha = CharField(max_length=64)
    size_bytes = BigIntegerField(null=True)
    replaced_at = DateTimeField(default=utcnow)
    reason = CharField()  # "verify --accept", "import"


class PerceptualHash(BaseModel):
    """What a photo looks like, as a 64-bit hash (luna.ops.similar), for `dupes --similar`.

    Keyed by content, not by file: copies share one entry, and an edited file (new
    content) gets a new one. `value` is NULL, with `error` saying why, for content that
    cannot be decoded, so it is not tried again on every run."""

    content_sha = CharField(max_length=64)
    method = CharField()  # luna.ops.similar.HASH_METHOD: a new algorithm means new values
    value = BigIntegerField(null=True)  # the unsigned hash stored as a signed 64-bit int
    error = TextField(null=True)

    class Meta:
        primary_key = CompositeKey("content_sha", "method")


class SimilarPair(BaseModel):
    """Two perceptual hashes at most `distance` bits apart, found once and kept: a later
    `dupes --similar` compares only the photos it has not searched around yet. `a` < `b`,
    both stored as perceptual_hash.value is (signed)."""

    method = CharField()
    a = BigIntegerField()
    b = BigIntegerField()
    distance = IntegerField()

    class Meta:
        primary_key = CompositeKey("method", "a", "b")


class SimilarSearched(BaseModel):
    """A perceptual hash whose every close pair, up to `radius` bits, with any hash that
    was in the library then or came after, is in similar_pair."""

    method = CharField()
    value = BigIntegerField()
    radius = IntegerField()

    class Meta:
        primary_key = CompositeKey("method", "value")


class Transfer(BaseModel):
    """The journal of copies and moves in flight (luna.ops.transfer). A row is written and
    committed before a file is touched, advanced as each step completes, and removed once
    the file is in place, recorded and (for a move) its source deleted. Whatever a crash
    leaves here is finished or rolled back by the next luna command that opens the library
    for writing; `luna doctor` reports it."""

    id = AutoField()
    operation = CharField()  # "copy", "move" (luna import) or "organize"
    source = PathField()
    destination = PathField()
    temporary = PathField()  # where the copy is written before it is renamed into place
    content_sha = CharField(max_length=64)
    size_bytes = BigIntegerField()
    file = ForeignKeyField(File, null=True, on_delete="SET NULL")  # organize: the row moved
    state = CharField()  # "copying" -> "recorded" (a move, until its source is removed)
    started = DateTimeField(default=utcnow)


class FileRelation(BaseModel):
    """A directed link between two files: raw+jpeg, live photo, edited copy, sidecar."""

    id = AutoField()
    from_file = ForeignKeyField(File, on_delete="CASCADE", backref="relations_from")
    to_file = ForeignKeyField(File, on_delete="CASCADE", backref="relations_to")
    kind = CharField()

    class Meta:
        indexes = ((("from_file", "to_file", "kind"), True),)


class FileTag(BaseModel):
    id = AutoField()
    file = ForeignKeyField(File, on_delete="CASCADE", backref="file_tags")
    tag = ForeignKeyField(Tag, on_delete="CASCADE", backref="file_tags")
    # "metadata" tags come from the file (IPTC/XMP keywords) and are refreshed when the file
    # changes; "user" tags were added by hand and are never touched by an import.
    source = CharField(default="user")

    class Meta:
        indexes = ((("file", "tag"), True),)


class Album(BaseModel):
    id = AutoField()
    name = CharField()
    slug = CharField(unique=True)
    description = TextField(default="")
    owner = ForeignKeyField(User, null=True, on_delete="SET NULL", backref="albums")
    created = DateTimeField(default=utcnow)
    modified = DateTimeField(default=utcnow)


class AlbumFile(BaseModel):
    id = AutoField()
    album = ForeignKeyField(Album, on_delete="CASCADE", backref="album_files")
    file = ForeignKeyField(File, on_delete="CASCADE", backref="album_files")
    added = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("album", "file"), True),)


class AlbumEditor(BaseModel):
    id = AutoField()
    album = ForeignKeyField(Album, on_delete="CASCADE", backref="editors")
    user = ForeignKeyField(User, on_delete="CASCADE")

    class Meta:
        indexes = ((("album", "user"), True),)


class AlbumViewer(BaseModel):
    id = AutoField()
    album = ForeignKeyField(Album, on_delete="CASCADE", backref="viewers")
    user = ForeignKeyField(User, on_delete="CASCADE")

    class Meta:
        indexes = ((("album", "user"), True),)


class Event(BaseModel):
    """A point in time (no end) or a span of time, used to group files. Times are local
    wall-clock times, as files' dates are; `utc_offset` (minutes) when the user gave one."""

    id = AutoField()
    name = CharField()
    slug = CharField(unique=True)  # how commands find it: the name, case- and space-free
    start = DateTimeField(index=True)
    end = DateTimeField(null=True, index=True)
    utc_offset = IntegerField(null=True)
    description = TextField(default="")
    created = DateTimeField(default=utcnow)


class EventFile(BaseModel):
    id = AutoField()
    event = ForeignKeyField(Event, on_delete="CASCADE", backref="event_files")
    file = ForeignKeyField(File, on_delete="CASCADE", backref="event_files")

    class Meta:
        indexes = ((("event", "file"), True),)


class ImportFailure(BaseModel):
    """A file an import could not record, kept so `stats` can count it and a re-import
    can skip it cheaply while it stays unchanged."""

    id = AutoField()
    path = PathField(unique=True)
    size_bytes = BigIntegerField(null=True)
    mtime = FloatField(null=True)
    reason = TextField()
    failed_at = DateTimeField(default=utcnow)


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
]
