"""Stopping on request: SIGTERM (systemd, `docker stop`, `kill`) as Ctrl-C.

Python turns Ctrl-C (SIGINT) into KeyboardInterrupt, and luna's long operations handle
that: the files in flight are finished or rolled back, what was recorded stays, and the
next command has nothing to recover (luna.transfer.interrupts_deferred, luna.gather,
luna.organize, luna.importer). SIGTERM would end the process where it stands, in the middle
of a copy, leaving a journal entry and a partial file behind. So the command line makes it
a KeyboardInterrupt too, and remembers it: the exit code is then 143 (128 + 15, what a
shell reports for a process SIGTERM ended), not Ctrl-C's 130.
"""

from __future__ import annotations

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
