"""Running one parser call in a child process that is killed if it takes too long.

Some parsers are C libraries (MediaInfo) that can loop for minutes on a damaged file, and
C code cannot be interrupted from Python. The importer's own per-file time limit would
then fail the whole file; running just that call under a shorter deadline lets luna
record the file with what else it knows (hash, type, dates from sidecars or its name).
"""

from __future__ import annotations

import contextlib
import os
import pickle
import select
import signal
import time
from collections.abc import Callable

MAX_RESULT = 16 * 1024 * 1024


class DeadlineExceeded(Exception):
    pass


def call_with_deadline(fn: Callable[[], object], seconds: float):
    """fn() in a forked child; its (picklable) return value, or DeadlineExceeded."""
    if not hasattr(os, "fork"):  # pragma: no cover - not POSIX: no protection, but it runs
        return fn()
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: compute, send, leave without running any cleanup
        os.close(read_end)
        try:
            payload = pickle.dumps(("ok", fn()))
        except BaseException as exc:  # noqa: BLE001 - report it to the parent, whatever it is
            payload = pickle.dumps(("error", f"{type(exc).__name__}: {exc}"))
        _write_all(write_end, payload)
        os._exit(0)
    os.close(write_end)
    try:
        received = _read_until(read_end, time.monotonic() + seconds)
    finally:
        os.close(read_end)
        _reap(pid)
    if received is None:
        raise DeadlineExceeded(f"gave up after {seconds:.0f} s")
    status, value = pickle.loads(received)
    if status == "error":
        raise RuntimeError(value)
    return value


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _read_until(fd: int, deadline: float) -> bytes | None:
    chunks: list[bytes] = []
    size = 0
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return None
        ready, _, _ = select.select([fd], [], [], remaining)
        if not ready:
            return None
        chunk = os.read(fd, 1 << 20)
        if not chunk:
            return b"".join(chunks) or None
        chunks.append(chunk)
        size += len(chunk)
        if size > MAX_RESULT:
            return None


def _reap(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):  # it may have exited already
        os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, 0)
