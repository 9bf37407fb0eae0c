"""Copies of the same photo: exact duplicates (same content hash) and near duplicates (the
same picture after resizing, recompression or a format change, found by perceptual hash).

luna never deletes a copy itself. It groups them, picks the one to keep by a rule the user
chooses, lists the others (so `xargs -0 rm` or `mv` can follow after a review), and can
first copy the extras' tags, albums and events onto the kept file, so that deleting them
loses nothing.

Sidecars are left out: an XMP beside each of two photos may well be byte-identical, and
deleting one would strip its photo of its edits. Missing files are left out too: there is
nothing on disk to delete.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from dataclasses import dataclass, field

from luna.errors import BadKeepRule
from luna.fsnames import from_db

KEEP_RULES = ("most-organized", "oldest", "newest", "shortest-path", "largest", "in:PATH")
DEFAULT_KEEP = "most-organized"


@dataclass
class Copy:
    """One file of a group, with what deciding and merging need."""

    id: str
    path: str
    content_sha: str
    size_bytes: int
    mtime: float
    width: int | None
    height: int | None
    tags: list[str] = field(default_factory=list)
    albums: list[str] = field(default_factory=list)
    events: list[str] = field(default_factory=list)
    keep: bool = False
    distance: int | None = None  # --similar: bits from the kept copy's hash

    @property
    def pixels(self) -> int:
        return (self.width or 0) * (self.height or 0)

    @property
    def organized(self) -> int:
        return len(self.tags) + len(self.albums) + len(self.events)


@dataclass
class Group:
    files: list[Copy]  # the kept copy first, then the extras by path

    @property
    def kept(self) -> Copy:
        return self.files[0]

    @property
    def extras(self) -> list[Copy]:
        return self.files[1:]

    @property
    def wasted_bytes(self) -> int:
        return sum(c.size_bytes for c in self.extras)

    @property
    def content_sha(self) -> str | None:
        """The shared hash of an exact group; None when the copies differ (--similar)."""
        shas = {c.content_sha for c in self.files}
        return shas.pop() if len(shas) == 1 else None


@dataclass
class HashingReport:
    """What `--similar` had to compute before it could group."""

    computed: int = 0
    cached: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)


# -- choosing the copy to keep ---------------------------------------------------------------


def keeper_rule(rule: str) -> Callable[[list[Copy]], Copy]:
    """The function that picks the copy to keep, for a --keep value."""
    oldest = _oldest_key
    if rule == "most-organized":
        return lambda copies: min(copies, key=lambda c: (-c.organized, *oldest(c)))
    if rule == "oldest":
        return lambda copies: min(copies, key=oldest)
    if rule == "newest":
        return lambda copies: min(copies, key=lambda c: (-c.mtime, c.path))
    if rule == "shortest-path":
        return lambda copies: min(copies, key=lambda c: (len(c.path), c.path))
    if rule == "largest":
        return lambda copies: min(copies, key=lambda c: (-c.pixels, -c.size_bytes, *oldest(c)))
    if rule.startswith("in:") and len(rule) > 3:
        prefix = os.path.abspath(os.path.expanduser(rule[3:])).rstrip("/") + "/"
        default = keeper_rule(DEFAULT_KEEP)

        def inside_first(copies: list[Copy]) -> Copy:
            inside = [c for c in copies if c.path.startswith(prefix)]
            return default(inside or copies)

        return inside_first
    raise BadKeepRule(
        f"--keep: {rule!r} is not one of {', '.join(KEEP_RULES)} (in:PATH keeps the copy "
        "under PATH)"
    )


def _oldest_key(c: Copy) -> tuple:
    # A copy made later usually has a later mtime (cp, downloads); the path breaks ties.
    return (c.mtime, c.path)


def _ordered(copies: list[Copy], choose: Callable[[list[Copy]], Copy]) -> Group:
    kept = choose(copies)
    kept.keep = True
    extras = sorted((c for c in copies if c is not kept), key=lambda c: c.path)
    return Group([kept, *extras])


# -- exact duplicates ------------------------------------------------------------------------

_COPY_COLUMNS = "id, path, content_sha, size_bytes, mtime, width, height"


def _candidates(t: str = "") -> str:
    """Files that can be duplicates: present, not sidecars, hashed. `t`: a table alias."""
    return f"{t}missing_since IS NULL AND {t}kind != 'sidecar' AND {t}content_sha != ''"


_CANDIDATES = _candidates()


def exact_groups(lib, *, keep: str = DEFAULT_KEEP, under: str | None = None) -> list[Group]:
    """Files whose content hash appears more than once, grouped, biggest waste first."""
    choose = keeper_rule(keep)
    db = lib.db
    shas = [
        r[0]
        for r in db.execute_sql(
            f"SELECT content_sha FROM file WHERE {_CANDIDATES} "
            "GROUP BY content_sha HAVING COUNT(*) > 1"
        )
    ]
    by_sha: dict[str, list[Copy]] = {}
    for chunk in _chunks(shas):
        for row in db.execute_sql(
            f"SELECT {_COPY_COLUMNS} FROM file WHERE {_CANDIDATES} "
            f"AND content_sha IN ({_marks(chunk)})",
            chunk,
        ):
            copy = _copy(row)
            by_sha.setdefault(copy.content_sha, []).append(copy)
    groups = _groups_touching(by_sha.values(), under)
    _attach_organization(db, groups)
    return _sorted_groups([_ordered(copies, choose) for copies in groups])


def _groups_touching(groups, under: str | None) -> list[list[Copy]]:
    """All groups, or those with a copy below `under` (`luna dupes ~/Downloads`)."""
    if under is None:
        return [g for g in groups if len(g) > 1]
    prefix = os.path.abspath(os.path.expanduser(under)).rstrip("/") + "/"
    return [g for g in groups if len(g) > 1 and any(c.path.startswith(prefix) for c in g)]


def _copy(row) -> Copy:
    file_id, path, sha, size, mtime, width, height = row
    return Copy(file_id, from_db(path), sha, size, mtime, width, height)


def _sorted_groups(groups: list[Group]) -> list[Group]:
    return sorted(groups, key=lambda g: (-g.wasted_bytes, g.kept.path))


# -- near duplicates -------------------------------------------------------------------------

# Formats Pillow (with pillow-heif) decodes. RAW files are left out: their pictures are
# the camera's, and a RAW beside its JPEG is a pair (luna show lists it), not a copy.
_DECODABLE = (
    "'image/jpeg', 'image/png', 'image/webp', 'image/heic', 'image/heif', 'image/avif', "
    "'image/tiff', 'image/gif', 'image/bmp', 'image/jxl'"
)
# Photos in the file table aliased "f".
_SIMILAR_CANDIDATES = f"{_candidates('f.')} AND f.kind = 'photo' AND f.mime_type IN ({_DECODABLE})"


def similar_groups(
    lib,
    *,
    threshold: int | None = None,
    keep: str = "largest",
    under: str | None = None,
    jobs: int = 0,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[list[Group], HashingReport]:
    """Photos that look the same, whatever their bytes: exact copies included."""
    from luna.ops import similar

    choose = keeper_rule(keep)
    threshold = similar.DEFAULT_THRESHOLD if threshold is None else threshold
    report = update_hashes(lib, jobs=jobs, progress=progress)
    db = lib.db
    copies_by_sha: dict[str, list[Copy]] = {}
    hashes: dict[str, int] = {}
    for row in db.execute_sql(
        f"SELECT {', '.join('f.' + c for c in _COPY_COLUMNS.split(', '))}, p.value "
        "FROM file f JOIN perceptual_hash p ON p.content_sha = f.content_sha AND p.method = ? "
        f"WHERE {_SIMILAR_CANDIDATES} AND p.value IS NOT NULL",
        (similar.HASH_METHOD,),
    ):
        copy = _copy(row[:-1])
        copies_by_sha.setdefault(copy.content_sha, []).append(copy)
        hashes[copy.content_sha] = _unsigned(row[-1])
    grouped: list[list[Copy]] = []
    in_a_group: set[str] = set()
    for shas in similar.group_similar(hashes, threshold):
        in_a_group.update(shas)
        grouped.append([c for sha in shas for c in copies_by_sha[sha]])
    # Exact copies whose picture resembles no other: a group of their own.
    grouped += [c for sha, c in copies_by_sha.items() if len(c) > 1 and sha not in in_a_group]
    groups = _groups_touching(grouped, under)
    _attach_organization(db, groups)
    ordered = [_ordered(copies, choose) for copies in groups]
    for group in ordered:
        kept_hash = hashes[group.kept.content_sha]
        for c in group.files:
            c.distance = similar.hamming(kept_hash, hashes[c.content_sha])
    return _sorted_groups(ordered), report


def update_hashes(lib, *, jobs: int = 0, progress=None) -> HashingReport:
    """Compute the perceptual hash of every photo content not yet in the cache.

    In worker processes, each photo under a deadline: decoding is CPU work, and a
    malformed file must cost one failure, not a hang."""
    from luna.ingest.workers import Failed, Pool, default_jobs
    from luna.ops import similar

    db = lib.db
    report = HashingReport()
    todo: dict[str, str] = {}  # content_sha -> a path to read it from
    for sha, path, cached in db.execute_sql(
        "SELECT f.content_sha, f.path, p.content_sha IS NOT NULL FROM file f "
        "LEFT JOIN perceptual_hash p ON p.content_sha = f.content_sha AND p.method = ? "
        f"WHERE {_SIMILAR_CANDIDATES}",
        (similar.HASH_METHOD,),
    ):
        if cached:
            report.cached += 1
        else:
            todo.setdefault(sha, from_db(path))
    if not todo:
        return report
    tasks = [(path, sha) for sha, path in todo.items()]
    pool = Pool(_hash_one, jobs or default_jobs(), lambda task: HASH_SECONDS)
    batch: list[tuple] = []
    done = 0
    try:
        for (path, sha), result in pool.run(tasks, path_of=lambda t: t[0]):
            done += 1
            if isinstance(result, Failed):  # a crash or a timeout: worth another try later
                report.failed.append((path, result.reason))
                continue
            value, error = result
            if error is not None:
                report.failed.append((path, error))
            else:
                report.computed += 1
            # A picture that cannot be decoded stays so: remembered, not tried every run.
            batch.append((sha, similar.HASH_METHOD, _signed(value), error))
            if len(batch) >= 500:
                _store_hashes(db, batch)
                batch = []
            if progress is not None:
                progress(done, len(tasks))
    finally:
        _store_hashes(db, batch)  # what was computed stays, even after Ctrl-C
        pool.close()
    return report


HASH_SECONDS = 30.0  # one photo's decode; far more than a 100 MP JPEG needs at 1/8 scale


def _hash_one(path: str) -> tuple[int | None, str | None]:
    """In a worker: (hash, None), or (None, why it cannot be hashed)."""
    from luna.ingest.extract import FileFailed
    from luna.ops import similar

    try:
        return similar.perceptual_hash(path), None
    except similar.NotAnImage as exc:
        return None, str(exc)
    except OSError as exc:  # unreadable now (permissions, a disk away): not remembered
        raise FileFailed(f"cannot read: {exc.strerror or exc}") from None


def _store_hashes(db, rows: list[tuple]) -> None:
    if not rows:
        return
    with db.atomic("IMMEDIATE"):
        db.cursor().executemany(
            "INSERT OR REPLACE INTO perceptual_hash (content_sha, method, value, error) "
            "VALUES (?, ?, ?, ?)",
            rows,
        )


def _signed(value: int | None) -> int | None:
    """SQLite integers are signed 64-bit; a 64-bit hash is stored in two's complement."""
    if value is None:
        return None
    return value - (1 << 64) if value >= 1 << 63 else value


def _unsigned(value: int) -> int:
    return value + (1 << 64) if value < 0 else value


# -- what the copies carry -------------------------------------------------------------------


def _attach_organization(db, groups: list[list[Copy]]) -> None:
    """Each copy's tags, albums and events: what deleting it would lose."""
    by_id = {c.id: c for group in groups for c in group}
    ids = list(by_id)
    for chunk in _chunks(ids):
        marks = _marks(chunk)
        for file_id, name in db.execute_sql(
            f"SELECT ft.file_id, t.name FROM file_tag ft JOIN tag t ON t.id = ft.tag_id "
            f"WHERE ft.file_id IN ({marks}) ORDER BY t.key",
            chunk,
        ):
            by_id[file_id].tags.append(name)
        for file_id, name in db.execute_sql(
            f"SELECT af.file_id, a.name FROM album_file af JOIN album a ON a.id = af.album_id "
            f"WHERE af.file_id IN ({marks}) ORDER BY a.name",
            chunk,
        ):
            by_id[file_id].albums.append(name)
        for file_id, name in db.execute_sql(
            f"SELECT ef.file_id, e.name FROM event_file ef JOIN event e ON e.id = ef.event_id "
            f"WHERE ef.file_id IN ({marks}) ORDER BY e.start",
            chunk,
        ):
            by_id[file_id].events.append(name)


# -- merging metadata onto the kept copy -----------------------------------------------------


@dataclass
class MergeReport:
    dry_run: bool = False
    tags: int = 0  # links added to kept files
    albums: int = 0
    events: int = 0
    files: int = 0  # kept files that gained something
    refused: list[str] = field(default_factory=list)  # album additions the user may not make
    changes: list[dict] = field(default_factory=list)  # per kept file: what it gained


def merge_metadata(lib, groups: list[Group], *, user: str, dry_run: bool = False) -> MergeReport:
    """Give each kept file the tags, albums and events of its extra copies.

    Tags arrive as tags added by hand: they did not come from the kept file's own metadata,
    so a re-import of that file must not take them away. Albums follow the album's sharing
    rules: a viewer cannot add files to it, so such an album is reported, not changed."""
    from luna.ops import albums as album_rules
    from luna.store.models import Album

    report = MergeReport(dry_run=dry_run)
    db = lib.db
    role_cache: dict[str, bool] = {}
    with db.atomic("IMMEDIATE"):
        for group in groups:
            kept = group.kept
            gained: dict[str, list[str]] = {"tags": [], "albums": [], "events": []}
            for extra in group.extras:
                for tag in extra.tags:
                    if tag not in kept.tags and tag not in gained["tags"]:
                        gained["tags"].append(tag)
                for album in extra.albums:
                    if album in kept.albums or album in gained["albums"]:
                        continue
                    if album not in role_cache:
                        row = Album.get_or_none(Album.name == album)
                        role = album_rules.role_of(row, user) if row is not None else None
                        role_cache[album] = role in ("owner", "editor")
                    if role_cache[album]:
                        gained["albums"].append(album)
                    elif album not in report.refused:
                        report.refused.append(album)
                for event in extra.events:
                    if event not in kept.events and event not in gained["events"]:
                        gained["events"].append(event)
            if not any(gained.values()):
                continue
            report.files += 1
            report.tags += len(gained["tags"])
            report.albums += len(gained["albums"])
            report.events += len(gained["events"])
            report.changes.append({"id": kept.id, "path": kept.path, **gained})
            if not dry_run:
                _link_to(db, kept, group.extras, gained)
    return report


def _link_to(db, kept: Copy, extras: list[Copy], gained: dict[str, list[str]]) -> None:
    from luna.store.models import utcnow

    extra_ids = [c.id for c in extras]
    marks = _marks(extra_ids)
    if gained["tags"]:
        db.execute_sql(
            "INSERT OR IGNORE INTO file_tag (file_id, tag_id, source) "
            f"SELECT DISTINCT ?, tag_id, 'user' FROM file_tag WHERE file_id IN ({marks})",
            (kept.id, *extra_ids),
        )
    if gained["albums"]:
        names = gained["albums"]
        db.execute_sql(
            "INSERT OR IGNORE INTO album_file (album_id, file_id, added) "
            "SELECT DISTINCT af.album_id, ?, ? FROM album_file af "
            "JOIN album a ON a.id = af.album_id "
            f"WHERE af.file_id IN ({marks}) AND a.name IN ({_marks(names)})",
            (kept.id, _db_time(utcnow()), *extra_ids, *names),
        )
    if gained["events"]:
        db.execute_sql(
            "INSERT OR IGNORE INTO event_file (event_id, file_id) "
            f"SELECT DISTINCT event_id, ? FROM event_file WHERE file_id IN ({marks})",
            (kept.id, *extra_ids),
        )
    kept.tags += gained["tags"]
    kept.albums += gained["albums"]
    kept.events += gained["events"]


def _db_time(value: dt.datetime) -> str:
    from luna.store.models import File

    return File.created.db_value(value)


# -- small helpers ---------------------------------------------------------------------------


def _chunks(values: list, size: int = 500):
    for i in range(0, len(values), size):
        yield values[i : i + size]


def _marks(values) -> str:
    return ", ".join("?" for _ in values)
