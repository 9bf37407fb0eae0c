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

import os
from collections.abc import Callable
from dataclasses import dataclass, field

from luna.errors import BadKeepRule, EmptyPath, LunaError, NotFound
from luna.fsnames import for_humans
from luna.names import uuid_text
from luna.results import Result

KEEP_RULES = ("most-organized", "oldest", "newest", "shortest-path", "largest", "in:PATH")
DEFAULT_KEEP = "most-organized"


@dataclass
class Copy:
    """One file of a group, with what deciding and merging need."""

    id: str
    path: str
    content_sha: str
    size_bytes: int
    mtime_ns: int
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
class HashingReport(Result):
    """What `--similar` had to compute before it could group, and what it left out."""

    computed: int = 0
    cached: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)
    # Photos (in the FOLDER given, if any) whose picture has too little structure to be
    # compared by appearance (luna.ops.similar.has_little_structure): grouped only with their
    # exact copies.
    little_structure: int = 0


@dataclass
class Duplicates(Result):
    """What `luna dupes` finds: groups of copies, the kept one first in each. Its problems
    are the photos --similar could not read (`hashing`, None for exact copies)."""

    groups: list[Group]
    keep: str  # the rule that chose the kept copies
    similar: bool = False
    threshold: int | None = None  # --similar: most bits apart within a group
    hashing: HashingReport | None = None

    @property
    def problems(self) -> list[tuple[str, str]]:  # type: ignore[override]
        return self.hashing.failed if self.hashing else []

    @property
    def extras(self) -> list[Copy]:
        return [c for g in self.groups for c in g.extras]

    def data(self) -> dict:
        doc: dict[str, object] = {
            "mode": "similar" if self.similar else "exact",
            "threshold": self.threshold if self.similar else None,
            "keep": self.keep,
            "group_count": len(self.groups),
            "extra_files": len(self.extras),
            "wasted_bytes": sum(g.wasted_bytes for g in self.groups),
            "groups": [group_record(g) for g in self.groups],
        }
        if self.hashing is not None:
            doc["hashing"] = {
                "computed": self.hashing.computed,
                "cached": self.hashing.cached,
                "failed": [{"path": p, "reason": r} for p, r in self.hashing.failed],
            }
            # Counted by reason, so that a new reason is a new key, not a new shape.
            doc["left_out"] = {"little_structure": self.hashing.little_structure}
        return doc


def group_record(group: Group) -> dict:
    return {
        "content_sha": group.content_sha,
        "wasted_bytes": group.wasted_bytes,
        "files": [copy_record(c) for c in group.files],
    }


def copy_record(c: Copy) -> dict:
    return {
        "id": uuid_text(c.id),
        "path": c.path,
        "keep": c.keep,
        "size_bytes": c.size_bytes,
        "width": c.width,
        "height": c.height,
        "content_sha": c.content_sha,
        "distance": c.distance,
        "tags": c.tags,
        "albums": c.albums,
        "events": c.events,
    }


def find_duplicates(
    lib,
    *,
    similar: bool = False,
    threshold: int | None = None,
    keep: str | None = None,
    under: str | None = None,
    progress=None,
) -> Duplicates:
    """Exact copies, or with `similar` photos that look the same (see similar_groups)."""
    rule = keep or ("largest" if similar else DEFAULT_KEEP)
    if not similar:
        return Duplicates(exact_groups(lib, keep=rule, under=under), rule)
    from luna.ops.similar import DEFAULT_THRESHOLD

    threshold = DEFAULT_THRESHOLD if threshold is None else threshold
    groups, hashing = similar_groups(
        lib, threshold=threshold, keep=rule, under=under, progress=progress
    )
    return Duplicates(groups, rule, True, threshold, hashing)


# -- choosing the copy to keep ---------------------------------------------------------------


def keeper_rule(rule: str) -> Callable[[list[Copy]], Copy]:
    """The function that picks the copy to keep, for a --keep value."""
    oldest = _oldest_key
    if rule == "most-organized":
        return lambda copies: min(copies, key=lambda c: (-c.organized, *oldest(c)))
    if rule == "oldest":
        return lambda copies: min(copies, key=oldest)
    if rule == "newest":
        return lambda copies: min(copies, key=lambda c: (-c.mtime_ns, c.path))
    if rule == "shortest-path":
        return lambda copies: min(copies, key=lambda c: (len(c.path), c.path))
    if rule == "largest":
        return lambda copies: min(copies, key=lambda c: (-c.pixels, -c.size_bytes, *oldest(c)))
    if rule.startswith("in:") and len(rule) > 3:
        prefix = folder_prefix(rule[3:])
        default = keeper_rule(DEFAULT_KEEP)

        def inside_first(copies: list[Copy]) -> Copy:
            inside = [c for c in copies if c.path.startswith(prefix)]
            return default(inside or copies)

        return inside_first
    raise BadKeepRule(
        f"--keep: {rule!r} is not one of {', '.join(KEEP_RULES)} (in:PATH keeps the copy "
        "under PATH)"
    )


def folder_prefix(folder: str) -> str:
    """The absolute form of `folder` with a trailing "/", which the paths below it start with.

    A folder that does not exist is refused: it is a typo or a disk not mounted, and taken
    as given it would quietly match nothing (or, for in:PATH, keep another copy)."""
    if folder == "":
        raise EmptyPath()
    expanded = os.path.expanduser(folder)
    if not os.path.isdir(expanded):
        if os.path.lexists(expanded):
            raise LunaError(f"not a folder: {for_humans(folder)}")
        raise NotFound(f"no such folder: {for_humans(folder)}")
    return os.path.abspath(expanded).rstrip("/") + "/"


def _oldest_key(c: Copy) -> tuple:
    # A copy made later usually has a later mtime (cp, downloads); the path breaks ties.
    return (c.mtime_ns, c.path)


def _ordered(copies: list[Copy], choose: Callable[[list[Copy]], Copy]) -> Group:
    kept = choose(copies)
    kept.keep = True
    extras = sorted((c for c in copies if c is not kept), key=lambda c: c.path)
    return Group([kept, *extras])


# -- exact duplicates ------------------------------------------------------------------------


def exact_groups(lib, *, keep: str = DEFAULT_KEEP, under: str | None = None) -> list[Group]:
    """Files whose content hash appears more than once, grouped, biggest waste first."""
    prefix = None if under is None else folder_prefix(under)
    choose = keeper_rule(keep)
    db = lib.db
    by_sha: dict[str, list[Copy]] = {}
    for row in lib.store.duplicates.exact_copies():
        copy = Copy(*row)
        by_sha.setdefault(copy.content_sha, []).append(copy)
    groups = _groups_touching(by_sha.values(), prefix)
    _attach_organization(db, groups)
    return _sorted_groups([_ordered(copies, choose) for copies in groups])


def _groups_touching(groups, prefix: str | None) -> list[list[Copy]]:
    """All groups, or those with a copy below `prefix` (`luna dupes ~/Downloads`)."""
    return [g for g in groups if len(g) > 1 and any(_below(c, prefix) for c in g)]


def _below(copy: Copy, prefix: str | None) -> bool:
    return prefix is None or copy.path.startswith(prefix)


def _sorted_groups(groups: list[Group]) -> list[Group]:
    return sorted(groups, key=lambda g: (-g.wasted_bytes, g.kept.path))


# -- near duplicates -------------------------------------------------------------------------


def similar_groups(
    lib,
    *,
    threshold: int | None = None,
    keep: str = "largest",
    under: str | None = None,
    jobs: int = 0,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[list[Group], HashingReport]:
    """Photos that look the same, whatever their bytes: exact copies included.

    Every copy in a group is within `threshold` bits of every other, so of the kept one.
    Photos with too little structure to compare (near-uniform frames, plain gradients) are
    grouped with their exact copies only, and counted in the report."""
    from luna.ops import similar

    prefix = None if under is None else folder_prefix(under)
    choose = keeper_rule(keep)
    threshold = similar.DEFAULT_THRESHOLD if threshold is None else threshold
    report = update_hashes(lib, jobs=jobs, progress=progress)
    db = lib.db
    copies_by_sha, hashes = _hashed_photos(lib)
    comparable = {sha: h for sha, h in hashes.items() if not similar.has_little_structure(h)}
    report.little_structure = sum(
        _below(c, prefix) for sha in hashes.keys() - comparable.keys() for c in copies_by_sha[sha]
    )
    grouped: list[list[Copy]] = []
    in_a_group: set[str] = set()
    close = close_pairs_kept(lib, set(comparable.values()), threshold)
    for shas in similar.group_similar(comparable, threshold, close_pairs=close):
        in_a_group.update(shas)
        grouped.append([c for sha in shas for c in copies_by_sha[sha]])
    # Exact copies whose picture resembles no other, or cannot be compared: a group of their
    # own.
    grouped += [c for sha, c in copies_by_sha.items() if len(c) > 1 and sha not in in_a_group]
    groups = _groups_touching(grouped, prefix)
    _attach_organization(db, groups)
    ordered = [_ordered(copies, choose) for copies in groups]
    for group in ordered:
        kept_hash = hashes[group.kept.content_sha]
        for c in group.files:
            c.distance = similar.hamming(kept_hash, hashes[c.content_sha])
    return _sorted_groups(ordered), report


def close_pairs_kept(lib, values: set[int], threshold: int) -> list[tuple[int, int]]:
    """Every pair of these hashes at most `threshold` bits apart.

    Comparing 200,000 hashes takes seconds, so what a search finds is kept in the library:
    a later run searches only around the hashes not searched around yet at this threshold
    (new photos, or a threshold larger than before), against all of them, and forgets the
    hashes of photos no longer in the library."""
    from luna.ops import similar

    store, method = lib.store.duplicates, similar.HASH_METHOD
    # Set operations on the stored (signed) values: 200,000 of them in a few milliseconds.
    top, wrap = 1 << 63, 1 << 64
    stored = {(value - wrap if value >= top else value): value for value in values}
    searched = store.searched(method)
    complete = {value for value, radius in searched.items() if radius >= threshold}
    gone = list(searched.keys() - stored.keys())
    fresh = [stored[value] for value in stored.keys() - complete]
    if fresh or gone:
        found = similar.close_pairs_of(fresh, values, threshold) if fresh else set()
        with lib.db.atomic("IMMEDIATE"):
            store.forget_searched(method, gone)
            store.record_searched(
                method,
                [_stored(value) for value in fresh],
                threshold,
                [(_stored(a), _stored(b), bits) for a, b, bits in found],
            )
    return [(a % wrap, b % wrap) for a, b in store.close_pairs(method, threshold)]


def _hashed_photos(lib) -> tuple[dict[str, list[Copy]], dict[str, int]]:
    """The photos with a perceptual hash, by content; and each content's hash."""
    from luna.ops import similar

    copies_by_sha: dict[str, list[Copy]] = {}
    hashes: dict[str, int] = {}
    for row, value in lib.store.duplicates.hashed_photos(similar.HASH_METHOD):
        copy = Copy(*row)
        copies_by_sha.setdefault(copy.content_sha, []).append(copy)
        hashes[copy.content_sha] = _unsigned(value)
    return copies_by_sha, hashes


def update_hashes(lib, *, jobs: int = 0, progress=None) -> HashingReport:
    """Compute the perceptual hash of every photo content not yet in the cache.

    In worker processes, each photo under a deadline: decoding is CPU work, and a
    malformed file must cost one failure, not a hang."""
    from luna.ingest.workers import Failed, Pool, default_jobs
    from luna.ops import similar

    db = lib.db
    report = HashingReport()
    todo: dict[str, str] = {}  # content_sha -> a path to read it from
    for sha, path, cached in lib.store.duplicates.photos_to_hash(similar.HASH_METHOD):
        if cached:
            report.cached += 1
        else:
            todo.setdefault(sha, path)
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
    from luna.store.duplicates import Duplicates

    if not rows:
        return
    with db.atomic("IMMEDIATE"):
        Duplicates(db).store_hashes(rows)


def _signed(value: int | None) -> int | None:
    """SQLite integers are signed 64-bit; a 64-bit hash is stored in two's complement."""
    return None if value is None else _stored(value)


def _stored(value: int) -> int:
    return value - (1 << 64) if value >= 1 << 63 else value


def _unsigned(value: int) -> int:
    return value + (1 << 64) if value < 0 else value


# -- what the copies carry -------------------------------------------------------------------


def _attach_organization(db, groups: list[list[Copy]]) -> None:
    """Each copy's tags, albums and events: what deleting it would lose."""
    from luna.store.organization import names_by_file

    by_id = {c.id: c for group in groups for c in group}
    con = db.connection()
    for what in ("tags", "albums", "events"):
        for file_id, names in names_by_file(con, list(by_id), what).items():
            getattr(by_id[file_id], what).extend(names)


# -- merging metadata onto the kept copy -----------------------------------------------------


@dataclass
class MergeReport(Result):
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
    from luna.names import slugify
    from luna.ops import albums as album_rules

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
                        row = lib.store.albums.by_slug(slugify(album))
                        role = album_rules.role_of(lib, row, user) if row is not None else None
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
                lib.sidecars.note_changed([kept.id])
    return report


def _link_to(db, kept: Copy, extras: list[Copy], gained: dict[str, list[str]]) -> None:
    from luna.store.duplicates import Duplicates

    Duplicates(db).give_kept(
        kept.id,
        [c.id for c in extras],
        tags=bool(gained["tags"]),
        albums=gained["albums"],
        events=bool(gained["events"]),
    )
    kept.tags += gained["tags"]
    kept.albums += gained["albums"]
    kept.events += gained["events"]
