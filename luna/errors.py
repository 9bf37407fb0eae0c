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


class BadTrack(LunaError):
    """A GPS track file that cannot be used: unreadable, cut short, not GPX, without times.
    The message names the file and says why, in one line."""


class Ambiguous(LunaError):
    """An id prefix matches more than one file."""


class BadValue(LunaError):
    """An option's value that cannot be used: not of its kind (a date, a duration, a
    size...), out of its range, or empty. The message names the option and the value and
    says what is expected, the same line whichever command the option belongs to."""

    exit_status = ExitStatus.USAGE


class BadName(LunaError):
    """A tag, album or event name that cannot be used."""


class BadTime(LunaError):
    """An event's times that make no sense together (an end before its start)."""


class EventExists(LunaError):
    """Another event already has this name (or one with the same slug)."""


class BadKeepRule(LunaError):
    """--keep names no rule luna knows."""

    exit_status = ExitStatus.USAGE


class NotReviewed(LunaError):
    """--extras asked of similar groups without --reviewed. Pictures that only look alike
    may be different photos, so their extras are no list to delete from unread."""

    exit_status = ExitStatus.USAGE

    def __init__(self):
        super().__init__(
            "--extras with --similar lists pictures that only look alike: review the groups "
            "first (luna dupes --similar, or --json for distances), then add --reviewed"
        )


class BadTemplate(LunaError):
    """A path template that cannot be used; the message says why and what to write."""

    exit_status = ExitStatus.USAGE


class InsideLibraryFolder(LunaError):
    """A source folder is the library folder or inside it: organize handles those."""


class ConfigError(LunaError):
    """The config file cannot be read, is not TOML, or gives a setting a value of the wrong
    type; the message is one line naming the file."""


class BadRecord(LunaError):
    """A record that cannot be stored as given."""


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


class WriteFailed(LunaError):
    """A file luna writes beside the photos (an XMP sidecar) could not be written; the
    message says why in one line, and the file is as it was."""


class NoSpaceToWrite(WriteFailed):
    """The disk is full: the files after this one on the same disk need not be tried."""


class ChangedSinceRead(WriteFailed):
    """Another program changed, created or removed the file since luna read it: luna leaves
    it alone rather than overwrite that change. Reading it again settles it."""


class SidecarRefused(LunaError, ValueError):
    """An existing sidecar luna cannot safely edit: not XMP, or refused as hostile (a DTD,
    too large, too deep). It is left as it is; the message says why."""


class PermissionDenied(LunaError):
    """The acting user's role on an album does not allow this; the message says who may."""

    exit_status = ExitStatus.DENIED
