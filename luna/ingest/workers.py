"""Worker processes that read files in parallel, each file under a deadline.

Processes rather than threads, for two reasons: the metadata parsers are Python and hold
the GIL, and a file that makes a parser loop forever can only be stopped by killing the
process that is parsing it. A killed or crashed worker is replaced, its file is reported
as failed, and the files queued behind it go to another worker.
"""

from __future__ import annotations

import contextlib
import faulthandler
import itertools
import multiprocessing
import os
import signal
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait

# Paths go to a worker, and results come back, in chunks: one message (and one wake-up
# of each process) per chunk instead of per file. On a 2-core machine the three processes
# of an import share the cores, and a wake-up per 50 KB file cost more CPU than parsing it.
CHUNK_FILES = 16
CHUNK_BYTES = 32 * 1024 * 1024  # ...or fewer files, when they are large (one video alone)
CHUNKS_AHEAD = 3
# A worker sends what it has read at least this often, so progress stays live on large files.
FLUSH_SECONDS = 0.25
# A worker that allocates more than this is stopped by the kernel (MemoryError in Python):
# a file that claims absurd dimensions or sizes costs one failure, not the machine.
MEMORY_LIMIT = 4 * 1024**3
_END = object()  # what an exhausted task source gives
# What a worker's progress slot holds while it is between files.
BETWEEN_FILES = -1.0


@dataclass(slots=True)
class Failed:
    path: str
    reason: str


def default_jobs() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def _die_with_parent(parent_pid: int) -> None:
    """If the import is killed (kill -9), its workers must not linger holding files open."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        PR_SET_PDEATHSIG = 1
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):  # pragma: no cover - not Linux
        pass
    if os.getppid() != parent_pid:  # the parent died before prctl took effect
        os._exit(1)


def _worker_main(conn: Connection, work: Callable[[str], object], parent_pid: int, slot, start):
    _die_with_parent(parent_pid)
    # Ctrl-C and SIGTERM (which systemd sends to every process of the service) are the
    # parent's to handle: it stops the workers itself. A worker they killed would make its
    # file look damaged, recorded as failed and not read again while unchanged.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    # C libraries (libtiff, libheif) print to fd 2 about damaged files; the import reports
    # problems itself, so their chatter must not land between the progress bar's lines.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    os.close(devnull)
    faulthandler.disable()  # a parser crash is reported as a failed file, not a dump
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    except (ImportError, ValueError, OSError):  # pragma: no cover - limit not settable
        pass
    if start is not None:
        start()
    with contextlib.suppress(EOFError, OSError):  # the parent is gone: nothing to answer
        _serve(conn, work, slot)


def _serve(conn: Connection, work: Callable[[str], object], slot) -> None:
    """Read the chunks of (number, path) the parent sends, one file after another, and send
    the results back in chunks. The slot tells the parent, without a message, which file is
    being read and since when: a file that hangs or crashes the worker is that one."""
    queue: deque = deque()
    outbox: list = []
    oldest = 0.0
    while True:
        if not queue:
            if outbox:
                conn.send(outbox)
                outbox = []
            chunk = conn.recv()
            if chunk is None:
                return
            queue.extend(chunk)
            continue
        number, path = queue.popleft()
        slot[1] = time.monotonic()  # the start first: the parent reads the number first
        slot[0] = number
        result = _run_one(work, path)
        slot[0] = BETWEEN_FILES
        if not outbox:
            oldest = time.monotonic()
        outbox.append(result)
        if len(outbox) >= CHUNK_FILES or time.monotonic() - oldest > FLUSH_SECONDS:
            conn.send(outbox)
            outbox = []


def _run_one(work, path):
    try:
        return work(path)
    except MemoryError:
        return Failed(path, "needs more memory than luna allows for one file (malformed?)")
    except RecursionError:
        return Failed(path, "malformed: nesting too deep to parse")
    except Exception as exc:  # noqa: BLE001 - one bad file must never stop the import
        from luna.ingest.extract import FileFailed

        # A failure always says why, even when the reader raised without a message: a bare
        # "failed:" tells the user nothing to act on.
        if isinstance(exc, FileFailed):
            return Failed(path, str(exc) or "damaged (the reader gave no details)")
        detail = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        return Failed(path, f"unexpected error: {detail}"[:300])


class _Worker:
    def __init__(self, ctx, work, start=None):
        self.conn, child = ctx.Pipe()
        # [number of the file being read, or BETWEEN_FILES; time.monotonic() it started]
        self.slot = ctx.RawArray("d", [BETWEEN_FILES, 0.0])
        self.process = ctx.Process(
            target=_worker_main, args=(child, work, os.getpid(), self.slot, start), daemon=True
        )
        self.process.start()
        child.close()
        # (number, task, seconds allowed) in the order sent, until its result comes back
        self.inflight: deque = deque()

    def send(self, chunk: list[tuple]) -> None:
        """chunk: (number, task, path, seconds allowed) of each file."""
        self.inflight.extend((number, task, limit) for number, task, _, limit in chunk)
        self.conn.send([(number, path) for number, _, path, _ in chunk])

    def take_results(self, results: list) -> list[tuple]:
        return [(self.inflight.popleft()[1], result) for result in results]

    def current(self) -> tuple[int, float] | None:
        """(index in inflight, seconds left) of the file the worker is reading, if any."""
        number, started = self.slot[0], self.slot[1]
        if number == BETWEEN_FILES:
            return None
        for index, (sent, _, limit) in enumerate(self.inflight):
            if sent == number:
                return index, started + limit - time.monotonic()
        return None  # its result is on the way

    def kill(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join(5)
        self.conn.close()

    def stop(self) -> None:
        with contextlib.suppress(OSError):  # already gone
            self.conn.send(None)
        self.process.join(2)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(5)
        self.conn.close()


class Pool:
    """Runs `work(path)` for each task in worker processes, yielding (task, result).

    Results come in completion order. `work` must return a picklable value; if it raises,
    loops past `time_limit(task)` seconds, or kills its process, the result is `Failed`.
    """

    def __init__(self, work: Callable[[str], object], jobs: int, time_limit: Callable, start=None):
        """`start()`, if given, runs in each worker before its first task."""
        self.work = work
        self.start = start
        self.jobs = max(1, jobs)
        self.time_limit = time_limit
        # fork: workers start in milliseconds and inherit the already imported modules.
        method = "fork" if "fork" in multiprocessing.get_all_start_methods() else None
        self.ctx = multiprocessing.get_context(method)
        self.workers: list[_Worker] = []
        self._numbers = itertools.count()

    def run(
        self, tasks: Iterable, path_of: Callable = lambda t: t, size_of: Callable | None = None
    ) -> Iterator[tuple]:
        """`tasks` is taken from as the workers need more, so it may be a generator that
        finds them meanwhile (the import's walk). `size_of(task)` (bytes) keeps a chunk of
        large files small, so that the workers share them evenly."""
        source = iter(tasks)
        pending = deque(itertools.islice(source, 2 * CHUNK_FILES * self.jobs))
        self.workers = [
            _Worker(self.ctx, self.work, self.start) for _ in range(min(self.jobs, len(pending)))
        ]
        try:
            while True:
                self._feed(pending, source, path_of, size_of)
                if not any(w.inflight for w in self.workers):
                    return
                yield from self._collect(pending)
        finally:
            self.close()

    def close(self) -> None:
        for w in self.workers:
            w.kill() if w.inflight else w.stop()
        self.workers = []

    def _feed(self, pending: deque, source: Iterator, path_of, size_of) -> None:
        """Keep each worker CHUNKS_AHEAD chunks ahead: it reads on while its results travel
        and while the main process records a batch. Tasks given back by a replaced worker
        (`pending`) go first."""
        for w in self.workers:
            while len(w.inflight) <= (CHUNKS_AHEAD - 1) * CHUNK_FILES:
                chunk: list[tuple] = []
                nbytes = 0
                while len(chunk) < CHUNK_FILES and nbytes < CHUNK_BYTES:
                    task = pending.popleft() if pending else next(source, _END)
                    if task is _END:
                        break
                    nbytes += size_of(task) if size_of else 0
                    chunk.append((next(self._numbers), task, path_of(task), self.time_limit(task)))
                if not chunk:
                    return
                try:
                    w.send(chunk)
                except OSError:
                    # The worker died since the last look (a crash on its current file).
                    # The chunk is already in its queue: _collect fails the file that
                    # crashed it and hands the others to the replacement worker.
                    break

    def _collect(self, pending: deque) -> Iterator[tuple]:
        busy = [w for w in self.workers if w.inflight]
        left = [c[1] for c in map(_Worker.current, busy) if c is not None]
        # Without a file under way, look again soon: one may have started meanwhile.
        wait_for = max(0.0, min(left, default=FLUSH_SECONDS))
        handles = [w.conn for w in busy] + [w.process.sentinel for w in busy]
        ready = set(wait(handles, timeout=wait_for))
        for i, w in enumerate(self.workers):
            if w.conn in ready:
                try:
                    results = w.conn.recv()
                except (EOFError, OSError):
                    yield from self._replace(i, pending, self._crash_reason(w))
                    continue
                yield from w.take_results(results)
            elif w.process.sentinel in ready:
                yield from self._replace(i, pending, self._crash_reason(w))
            elif w.inflight:
                current = w.current()
                if current is not None and current[1] < 0:
                    limit = w.inflight[current[0]][2]
                    yield from self._replace(
                        i, pending, f"timed out after {limit:.0f} s (a parser looped on this file)"
                    )

    def _replace(self, index: int, pending: deque, reason: str) -> Iterator[tuple]:
        """Kill worker `index`, fail the file it was reading, requeue the rest (also those
        read but not yet sent back), and start a new worker."""
        w = self.workers[index]
        w.kill()
        current = w.current()
        # The slot names the file; if it is between files (killed while sending), the
        # first file not answered is blamed, so a file cannot crash workers forever.
        culprit = current[0] if current is not None else 0
        _, task, _ = w.inflight[culprit]
        for position, (_, queued, _) in reversed(list(enumerate(w.inflight))):
            if position != culprit:
                pending.appendleft(queued)
        self.workers[index] = _Worker(self.ctx, self.work, self.start)
        yield task, Failed(getattr(task, "path", str(task)), reason)

    @staticmethod
    def _crash_reason(w: _Worker) -> str:
        w.process.join(1)
        code = w.process.exitcode
        if code is not None and code < 0:
            try:
                name = signal.Signals(-code).name
            except ValueError:
                name = str(-code)
            return f"the parser crashed on this file ({name})"
        return f"the parser crashed on this file (exit code {code})"
