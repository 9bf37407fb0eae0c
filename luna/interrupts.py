"""Stopping on request: SIGTERM (systemd, `docker stop`, `kill`) as Ctrl-C.

Python turns Ctrl-C (SIGINT) into KeyboardInterrupt, and luna's long operations handle
that: the files in flight are finished or rolled back, what was recorded stays, and the
next command has nothing to recover (interrupts_deferred below,
luna.ops.gather, luna.ops.organize, luna.ingest.importer). SIGTERM would end the process
where it stands, in the middle of a copy, leaving a journal entry and a partial file
behind. So the command line makes it a KeyboardInterrupt too, and remembers it: the exit
code is then 143 (128 + 15, what a shell reports for a process SIGTERM ended), not
Ctrl-C's 130.
"""

from __future__ import annotations

import _signal  # type: ignore[import-not-found]  # no stub: the C half of signal
import contextlib
import os
import signal


class Terminated(KeyboardInterrupt):
    """SIGTERM arrived: luna stops as it does for Ctrl-C."""


_received: list[int] = []


def stop_on_sigterm() -> None:
    """From now on SIGTERM raises Terminated in the main thread (the CLI calls this once;
    the Python API leaves SIGTERM to the program that uses it)."""
    signal.signal(signal.SIGTERM, _terminate)


def _terminate(signum, frame) -> None:
    if _received:
        return  # already stopping: a second request must not break the clean-up under way
    _received.append(signum)
    raise Terminated


def terminated() -> bool:
    """Whether SIGTERM asked this process to stop."""
    return bool(_received)


# For the crash tests: `LUNA_CRASH_AT=placed luna import ...` kills the process with
# SIGKILL right after that step, as a power cut would. Steps: copied, placed, recorded, and
# batch (an in-place import's batch of rows committed). `LUNA_CRASH_AT=placed:INT` sends
# SIGINT instead, as Ctrl-C would, once; `placed:TERM` sends SIGTERM, as systemd would.
# (Also `thumbnail`: a thumbnail built, luna.ops.thumbs.)
CRASH_ENV = "LUNA_CRASH_AT"
_STOP_SIGNALS = {"INT": signal.SIGINT, "TERM": signal.SIGTERM}
_STOP_SIGNAL_NUMBERS = tuple(int(signum) for signum in _STOP_SIGNALS.values())


@contextlib.contextmanager
def interrupts_deferred():
    """Ctrl-C and SIGTERM wait until the block is done: a file between "in place" and
    "recorded" is finished rather than left for the next command's recovery. (A kill -9
    cannot wait; that is what the journal is for.) Then the signal is delivered as it would
    have been (KeyboardInterrupt, luna.interrupts.Terminated), also when the block failed:
    the stop asked for is never lost. Only the main thread receives signals."""
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught = []

    def hold(signum, frame) -> None:
        caught.append(signum)

    # _signal.signal is what signal.signal calls after turning numbers and handlers into
    # enums and back: this runs around every file a copy or move places (4 calls each), and
    # the enum round trips were a tenth of the time of copying a small file.
    set_handler = _signal.signal
    previous = {signum: set_handler(signum, hold) for signum in _STOP_SIGNAL_NUMBERS}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            set_handler(signum, handler)
        if caught:
            signal.raise_signal(caught[0])


def crash_point(step: str) -> None:
    wanted = os.environ.get(CRASH_ENV)
    if wanted == step:
        os.kill(os.getpid(), signal.SIGKILL)
    elif wanted and wanted.startswith(f"{step}:"):
        os.environ.pop(CRASH_ENV, None)
        os.kill(os.getpid(), _STOP_SIGNALS[wanted.partition(":")[2]])
