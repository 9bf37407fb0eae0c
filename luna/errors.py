"""Exit codes and the exceptions the core raises; the CLI turns them into one line on stderr."""

from __future__ import annotations

import enum


class ExitStatus(enum.IntEnum):
    """Every exit code luna uses (documented in the README)."""

    OK = 0
    ERROR = 1  # bad input: no such file, unknown id, invalid option value
    USAGE = 2  # the command line itself is wrong (unknown option, missing argument)
    PARTIAL = 3  # the command finished, but some files failed (see the report)
    LIBRARY = 4  # the library cannot be opened or written, is locked too long, or is too new
    DENIED = 5  # the acting user may not do this to a shared album
    INTERRUPTED = 130  # Ctrl-C; what was committed stays, running again finishes the job
    TERMINATED = 143  # SIGTERM (systemd, docker stop, kill), handled as Ctrl-C is


class LunaError(Exception):
    """Base class of every error luna reports to the user."""

    exit_status = ExitStatus.ERROR


class NotFound(LunaError):
    """A path, id or name given by the user does not exist."""


class EmptyPath(LunaError):
    """An empty string where a path was expected: almost always an unset shell variable
    ("$DIR"). As a path it would mean the current folder, so it is refused instead."""

    exit_status = ExitStatus.USAGE

    def __init__(self, option: str | None = None):
        text = "an empty path was given (an unset variable?)"
        super().__init__(f"{option}: {text}" if option else text)


class BadTemplate(LunaError):
    """A --format template that cannot be filled: an unknown field, a bad format spec."""

    exit_status = ExitStatus.USAGE


class Ambiguous(LunaError):
    """An id prefix matches more than one file."""


class Interrupted(LunaError):
    """Ctrl-C stopped the command; what it committed stays. `report` says how far it got."""

    exit_status = ExitStatus.INTERRUPTED

    def __init__(self, message: str, report=None):
        super().__init__(message)
        self.report = report


class LibraryError(LunaError):
    """The library file cannot be used as it is."""

    exit_status = ExitStatus.LIBRARY


class NewerSchema(LibraryError):
    """The library was written by a newer luna than this one."""


class NeedsUpgrade(LibraryError):
    """The library was written by an older luna and is to be read without writing to it."""


class CannotWrite(LibraryError):
    """The library cannot be written: a read-only file, folder or disk, or a full disk."""


class PermissionDenied(LunaError):
    """The acting user's role on an album does not allow this; the message says who may."""

    exit_status = ExitStatus.DENIED
