"""The thumbnail cache: building many thumbnails in worker processes, finding one, pruning
those of contents the library no longer has, counting them.

The cache lives in `$XDG_CACHE_HOME/luna/thumbs/` (luna.config.cache_folder), one file
per content and size, named by the content's SHA-256: `ab/abcdef....256.webp`. A file
moved or renamed keeps its thumbnail, and copies share one. Nothing else refers to the
folder: deleting it loses nothing that `luna thumbs` cannot make again.

Each thumbnail is written to a temporary name beside it and renamed into place, so that a
Ctrl-C, a kill -9 or a full disk never leaves a half thumbnail under a name that is used.
The temporary names carry their process's id: a later build deletes those whose process
is gone. A video thumbnailed without a frame (no PyAV nor ffmpeg) gets a placeholder and a
`.placeholder` marker beside it, so that a build run once a video backend is there makes
its real thumbnail.

A build looks in the cache first, by SHA-256 from the library: a second build opens no
original. The rest is made in worker processes (one per core, at most two: decoding is
CPU-bound, and two leave the machine usable), each file bounded in time (a hostile file
cannot hang a build) and in pixels (luna.ops.thumbnail.MAX_PIXELS).
"""

from __future__ import annotations

import contextlib
import os
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from luna.config import cache_folder
from luna.errors import BadValue, ExitStatus
from luna.ops.thumbnail import FORMATS, PREVIEW_SIZE, THUMB_SIZE
from luna.results import Record, Result

WORKERS = 2
SECONDS_PER_FILE = 120  # a worker gives up on a file after this long
LEFTOVER_SECONDS = 3600  # a temporary file this old is a leftover, whatever its process id
_SHA = re.compile(r"[0-9a-f]{64}")
_THUMB_NAME = re.compile(r"([0-9a-f]{64})\.(\d+)\.(webp|jpg)")
_TEMP_NAME = re.compile(r"\.[0-9a-f]{64}\.\w+\.\w+\.(\d+)\.tmp")


# -- the cache folder ----------------------------------------------------------------------


class Cache:
    """The thumbnails folder: names, atomic writes, and what is in it."""

    def __init__(self, root: Path | None = None):
        self.root = Path(root) if root is not None else cache_folder() / "thumbs"

    def name(self, sha: str, size: int, fmt: str) -> Path:
        if not _SHA.fullmatch(sha or ""):
            raise BadValue(f"{sha!r} is not a content SHA-256 (64 lower-case hex digits)")
        if fmt not in FORMATS:
            raise BadValue(f"--format: {fmt!r} is not webp or jpeg")
        return self.root / sha[:2] / f"{sha}.{size}.{FORMATS[fmt][1]}"

    def find(self, sha: str, size: int, fmt: str) -> Path | None:
        """The finished thumbnail, or None. (An empty file is what a power cut can leave
        after a rename: not a thumbnail.)"""
        path = self.name(sha, size, fmt)
        try:
            return path if path.stat().st_size > 0 else None
        except OSError:
            return None

    def _marker(self, sha: str) -> Path:
        return self.root / sha[:2] / f"{sha}.placeholder"

    def is_placeholder(self, sha: str) -> bool:
        return self._marker(sha).exists()

    def write(self, sha: str, size: int, fmt: str, data: bytes) -> Path:
        """Put a thumbnail in place: written under a temporary name, then renamed."""
        path = self.name(sha, size, fmt)
        path.parent.mkdir(parents=True, exist_ok=True)
        temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            temp.write_bytes(data)
            os.replace(temp, path)
        except BaseException:
            temp.unlink(missing_ok=True)
            raise
        return path

    def mark_placeholder(self, sha: str, placeholder: bool) -> None:
        marker = self._marker(sha)
        if placeholder:
            marker.touch()
        else:
            marker.unlink(missing_ok=True)

    def entries(self) -> Iterator[tuple[Path, str, int]]:
        """(path, content SHA-256, size) of every finished thumbnail."""
        if not self.root.is_dir():
            return
        for folder in sorted(self.root.iterdir()):
            # luna's folders only: two hex digits, and no link leading out of the cache.
            if len(folder.name) != 2 or folder.is_symlink() or not folder.is_dir():
                continue
            for path in sorted(folder.iterdir()):
                named = _THUMB_NAME.fullmatch(path.name)
                if named and not path.is_symlink():
                    yield path, named[1], int(named[2])

    def markers(self) -> Iterator[tuple[Path, str]]:
        if self.root.is_dir():
            for path in self.root.glob("??/*.placeholder"):
                yield path, path.name.split(".")[0]

    def clean_leftovers(self) -> int:
        """Delete the temporary files of interrupted writes (their process is gone, or
        they are old); how many."""
        removed = 0
        if not self.root.is_dir():
            return 0
        for path in self.root.glob("??/.*.tmp"):
            named = _TEMP_NAME.fullmatch(path.name)
            if named and _is_leftover(path, int(named[1])):
                path.unlink(missing_ok=True)
                removed += 1
        return removed


def _is_leftover(path: Path, pid: int) -> bool:
    try:
        if time.time() - path.stat().st_mtime > LEFTOVER_SECONDS:
            return True
    except OSError:
        return False
    if pid == os.getpid():
        return False  # this process writes it now (another thread)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # alive, someone else's
    return False


# -- building ------------------------------------------------------------------------------


@dataclass
class ThumbsReport(Result):
    """What a build did: thumbnails made, found already made, and the files that failed
    ({path, reason}); counted by content (copies of a file share one thumbnail)."""

    built: int = 0
    cached: int = 0
    failed: list[dict] = field(default_factory=list)
    placeholders: int = 0  # videos without a frame: no PyAV nor ffmpeg here
    files: int = 0  # photos and videos looked at
    sizes: list[int] = field(default_factory=list)
    format: str = "webp"
    folder: str = ""
    video_backend: str | None = None
    seconds: float = 0.0
    interrupted: bool = False

    @property
    def problems(self) -> list[dict]:  # type: ignore[override]
        return self.failed

    @property
    def exit_status(self) -> ExitStatus:
        if self.interrupted:
            from luna.interrupts import terminated

            return ExitStatus.TERMINATED if terminated() else ExitStatus.INTERRUPTED
        return ExitStatus.PARTIAL if self.failed else ExitStatus.OK

    def data(self) -> dict:
        return {
            "built": self.built,
            "cached": self.cached,
            "placeholders": self.placeholders,
            "failed": list(self.failed),
            "files": self.files,
            "sizes": list(self.sizes),
            "format": self.format,
            "folder": self.folder,
            "video_backend": self.video_backend,
            "seconds": round(self.seconds, 3),
            "interrupted": self.interrupted,
        }


@dataclass(frozen=True)
class Job:
    sha: str
    path: str
    kind: str
    mime: str


Progress = Callable[[int, int], None]


def build(
    lib, file_ids: list[str] | None, *, preview: bool = False, fmt: str = "webp",
    progress: Progress | None = None, cache: Cache | None = None, workers: int | None = None,
) -> ThumbsReport:  # fmt: skip
    """Make the missing thumbnails (and previews) of the photos and videos present, all or
    those of `file_ids`; returns the report, also when interrupted (Ctrl-C, SIGTERM)."""
    from luna.ops.thumbnail import video_backend

    started = time.monotonic()
    cache = cache or Cache()
    cache.name("0" * 64, THUMB_SIZE, fmt)  # refuses an unknown format before any work
    sizes = (THUMB_SIZE, PREVIEW_SIZE) if preview else (THUMB_SIZE,)
    backend = video_backend()
    report = ThumbsReport(sizes=list(sizes), format=fmt, folder=str(cache.root))
    report.video_backend = backend
    cache.clean_leftovers()
    jobs = _jobs_left(lib.store.thumbs.sources(file_ids), cache, sizes, fmt, backend, report)
    try:
        _run(jobs, sizes, fmt, cache, report, progress, workers)
    except KeyboardInterrupt:
        report.interrupted = True
    report.seconds = time.monotonic() - started
    return report


def _jobs_left(sources, cache: Cache, sizes, fmt: str, backend, report) -> list[Job]:
    """The contents without their thumbnails yet, one file each; counts the rest."""
    jobs: dict[str, Job] = {}
    seen: set[str] = set()
    for _file_id, path, sha, kind, mime in sources:
        report.files += 1
        if sha in seen:
            continue
        seen.add(sha)
        done = all(cache.find(sha, size, fmt) for size in sizes)
        # A placeholder waits for a video backend, then makes way for a real frame.
        if done and not (backend and kind == "video" and cache.is_placeholder(sha)):
            report.cached += 1
            continue
        jobs[sha] = Job(sha, path, kind, mime)
    return list(jobs.values())


def _run(jobs: list[Job], sizes, fmt, cache: Cache, report, progress, workers) -> None:
    total = len(jobs)
    done = 0

    def record(job: Job, outcome: str, reason: str | None) -> None:
        nonlocal done
        done += 1
        if outcome == "failed":
            report.failed.append({"path": job.path, "reason": reason})
        elif outcome == "placeholder":
            report.placeholders += 1
        else:
            report.built += 1
        if progress is not None:
            progress(done, total)

    workers = min(WORKERS, os.cpu_count() or 1) if workers is None else workers
    if workers <= 1 or total <= 1:
        for job in jobs:
            record(job, *make_one(job, sizes, fmt, str(cache.root)))
        return
    _run_in_workers(jobs, sizes, fmt, cache, record, workers)


def _run_in_workers(jobs, sizes, fmt, cache: Cache, record, workers: int) -> None:
    """Jobs in worker processes. A worker that dies (a decoder crashing on a hostile file,
    the system killing it) breaks the pool: the jobs it took down are tried again in a new
    one, alone, so that only the file that kills a worker fails."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed
    from concurrent.futures.process import BrokenProcessPool

    # forkserver: workers start from a clean process, not a copy of this one with its
    # database connection and progress bar thread.
    context = multiprocessing.get_context("forkserver")
    # Imported once in the server rather than in each worker (0.3 s apiece).
    context.set_forkserver_preload(["luna.ops.thumbs", "PIL.Image", "PIL.JpegImagePlugin"])
    pending, alone = list(jobs), False
    while pending:
        broken: list[Job] = []
        count = 1 if alone else workers
        with ProcessPoolExecutor(count, mp_context=context, initializer=_worker_start) as pool:
            try:
                futures = {
                    pool.submit(make_one, job, sizes, fmt, str(cache.root), True): job
                    for job in pending
                }
                for future in as_completed(futures):
                    job = futures[future]
                    try:
                        record(job, *future.result())
                    except BrokenProcessPool:
                        if alone:
                            record(job, "failed", "the decoder crashed on this file")
                        else:
                            broken.append(job)
            except KeyboardInterrupt:
                pool.shutdown(wait=True, cancel_futures=True)  # the files in hand finish
                raise
        pending, alone = broken, True


def _worker_start() -> None:
    """Ctrl-C reaches every process of the terminal's group: the workers leave it to the
    main process, which stops handing out files and lets the ones in hand finish."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


class _TookTooLong(Exception):
    pass


def make_one(job: Job, sizes, fmt: str, root: str, bounded: bool = False):
    """Make one file's thumbnails into the cache at `root`: ("built" | "placeholder" |
    "failed", reason or None). `bounded`: in a worker process, give up after
    SECONDS_PER_FILE (a SIGALRM: only a worker's main thread may take it)."""
    from luna.ops.thumbnail import CannotThumbnail, make

    cache = Cache(Path(root))
    with _time_limit(SECONDS_PER_FILE if bounded else 0):
        try:
            made = make(job.path, kind=job.kind, mime=job.mime, sizes=sizes, fmt=fmt)
        except CannotThumbnail as exc:
            return "failed", str(exc)
        except _TookTooLong:
            return "failed", f"took longer than {SECONDS_PER_FILE} s"
        except OSError as exc:
            return "failed", f"cannot read the file: {exc.strerror or exc}"
        except MemoryError:
            return "failed", "not enough memory to decode it"
    for size, data in made.images.items():
        cache.write(job.sha, size, fmt, data)
    cache.mark_placeholder(job.sha, made.placeholder)
    return ("placeholder" if made.placeholder else "built"), None


@contextlib.contextmanager
def _time_limit(seconds: int):
    if not seconds:
        yield
        return
    import signal

    def expired(signum, frame):
        raise _TookTooLong

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


# -- finding, pruning, counting --------------------------------------------------------------


def path(content_sha: str, *, preview: bool = False, fmt: str = "webp", cache=None):
    """The cached thumbnail (or preview) of this content, or None."""
    size = PREVIEW_SIZE if preview else THUMB_SIZE
    return (cache or Cache()).find(content_sha.lower(), size, fmt)


@dataclass
class PruneReport(Result):
    """Thumbnails removed (or that would be, dry run) because the library has no file
    with their content any more; and those kept."""

    removed: int = 0
    bytes: int = 0
    kept: int = 0
    leftovers: int = 0  # temporary files of interrupted writes, removed
    dry_run: bool = False
    folder: str = ""


def prune(lib, *, dry_run: bool = False, cache: Cache | None = None) -> PruneReport:
    cache = cache or Cache()
    known = lib.store.thumbs.known_contents()
    report = PruneReport(dry_run=dry_run, folder=str(cache.root))
    if not dry_run:
        report.leftovers = cache.clean_leftovers()
    for thumb, sha, _size in list(cache.entries()):
        if sha in known:
            report.kept += 1
            continue
        report.removed += 1
        report.bytes += thumb.stat().st_size
        if not dry_run:
            thumb.unlink(missing_ok=True)
    if not dry_run:
        for marker, sha in list(cache.markers()):
            if sha not in known:
                marker.unlink(missing_ok=True)
    return report


def stats(cache: Cache | None = None) -> Record:
    """How many thumbnails, how many bytes, by size (long side in pixels)."""
    cache = cache or Cache()
    by_size: dict[str, dict[str, int]] = {}
    contents: set[str] = set()
    count = total = 0
    for thumb, sha, size in cache.entries():
        nbytes = thumb.stat().st_size
        count, total = count + 1, total + nbytes
        contents.add(sha)
        entry = by_size.setdefault(str(size), {"count": 0, "bytes": 0})
        entry["count"] += 1
        entry["bytes"] += nbytes
    return Record({
        "folder": str(cache.root),
        "count": count,
        "bytes": total,
        "contents": len(contents),
        "placeholders": sum(1 for _ in cache.markers()),
        "by_size": dict(sorted(by_size.items(), key=lambda item: int(item[0]))),
    })  # fmt: skip
