"""Worker processes that read files in parallel, each file under a deadline.

Processes rather than threads, for two reasons: the metadata parsers are Python and hold
the GIL, and a file that makes a parser loop forever can only be stopped by killing the
process that is parsing it. A killed or crashed worker is replaced, its file is reported
as failed, and the files queued behind it go to another worker.
"""

from __future__ import annotations

import contextlib
import faulthandler
import multiprocessing
import os
import signal
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait

# Each worker holds this many files at once, so it never waits for the main process
# between two files.
QUEUE_DEPTH = 2
# A worker that allocates more than this is stopped by the kernel (MemoryError in Python):
# a file that claims absurd dimensions or sizes costs one failure, not the machine.
MEMORY_LIMIT = 4 * 1024**3


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


def _worker_main(conn: Connection, work: Callable[[str], object], parent_pid: int) -> None:
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
    while True:
        try:
            path = conn.recv()
        except (EOFError, OSError):
            return
        if path is None:
            return
        conn.send(_run_one(work, path))


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
    def __init__(self, ctx, work):
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(
            target=_worker_main, args=(child, work, os.getpid()), daemon=True
        )
        self.process.start()
        child.close()
        self.inflight: deque = deque()  # (task, deadline seconds) in the order sent
        self.head_started = time.monotonic()

    def send(self, task, path: str, limit: float) -> None:
        if not self.inflight:
            self.head_started = time.monotonic()
        self.inflight.append((task, limit))
        self.conn.send(path)

    def overdue(self, now: float) -> bool:
        return bool(self.inflight) and now - self.head_started > self.inflight[0][1]

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

    def __init__(self, work: Callable[[str], object], jobs: int, time_limit: Callable):
        self.work = work
        self.jobs = max(1, jobs)
        self.time_limit = time_limit
        # fork: workers start in milliseconds and inherit the already imported modules.
        method = "fork" if "fork" in multiprocessing.get_all_start_methods() else None
        self.ctx = multiprocessing.get_context(method)
        self.workers: list[_Worker] = []

    def run(self, tasks: Iterable, path_of: Callable = lambda t: t) -> Iterator[tuple]:
        pending = deque(tasks)
        self.workers = [_Worker(self.ctx, self.work) for _ in range(min(self.jobs, len(pending)))]
        try:
            while pending or any(w.inflight for w in self.workers):
                self._feed(pending, path_of)
                yield from self._collect(pending)
        finally:
            self.close()

    def close(self) -> None:
        for w in self.workers:
            w.kill() if w.inflight else w.stop()
        self.workers = []

    def _feed(self, pending: deque, path_of) -> None:
        for w in self.workers:
            while pending and len(w.inflight) < QUEUE_DEPTH:
                task = pending.popleft()
                try:
                    w.send(task, path_of(task), self.time_limit(task))
                except OSError:
                    # The worker died since the last look (a crash on its current file).
                    # The task is already in its queue: _collect fails the file that
                    # crashed it and hands this one to the replacement worker.
                    break

    def _collect(self, pending: deque) -> Iterator[tuple]:
        now = time.monotonic()
        busy = [w for w in self.workers if w.inflight]
        wait_for = min((w.inflight[0][1] - (now - w.head_started) for w in busy), default=0.1)
        handles = [w.conn for w in busy] + [w.process.sentinel for w in busy]
        ready = set(wait(handles, timeout=max(0.0, wait_for)))
        for i, w in enumerate(self.workers):
            if w.conn in ready:
                try:
                    result = w.conn.recv()
                except (EOFError, OSError):
                    yield from self._replace(i, pending, self._crash_reason(w))
                    continue
                task, _ = w.inflight.popleft()
                w.head_started = time.monotonic()
                yield task, result
            elif w.process.sentinel in ready:
                yield from self._replace(i, pending, self._crash_reason(w))
            elif w.overdue(time.monotonic()):
                limit = w.inflight[0][1]
                yield from self._replace(
                    i, pending, f"timed out after {limit:.0f} s (a parser looped on this file)"
                )

    def _replace(self, index: int, pending: deque, reason: str) -> Iterator[tuple]:
        """Kill worker `index`, fail its current file, requeue the rest, start a new one."""
        w = self.workers[index]
        w.kill()
        task, _ = w.inflight.popleft()
        for queued, _ in reversed(w.inflight):
            pending.appendleft(queued)
        self.workers[index] = _Worker(self.ctx, self.work)
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
