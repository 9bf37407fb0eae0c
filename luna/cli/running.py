"""What every luna command line runs inside, whether Typer reads it (luna.cli.app) or
luna.cli.quick_find does (`luna find`, without loading Typer): the set-up before any
command, and the one place where what escapes a command becomes an exit status."""

import sys

from luna.errors import ExitStatus, LunaError


def start() -> None:
    """Before any command: report what opening a library recovered, and print file names
    exactly as they are."""
    from luna import notices

    if _report_recovery not in notices.recovery_listeners:
        notices.recovery_listeners.append(_report_recovery)
    # File names are bytes; one that is not UTF-8 is printed exactly as it is (paths, -0,
    # CSV, templates), as ls and find do, rather than failing. JSON carries it in base64.
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(errors="surrogateescape")


def _report_recovery(recovered) -> None:
    from luna.cli.output import note, warn

    for r in recovered:
        line = f"an interrupted {r.entry.operation} was {r.outcome}: {r.detail}"
        (warn if r.outcome == "needs attention" else note)(line.replace(" was needs", " needs"))


def guarded(run) -> None:
    """Run a command line (`run`): SIGTERM stops it as Ctrl-C does, and an error that
    escapes it is one line on stderr and an exit status, never a traceback."""
    from luna.interrupts import stop_on_sigterm, terminated

    stop_on_sigterm()
    try:
        _reported(run)
    except KeyboardInterrupt:  # before or after a command could handle it
        sys.exit(int(ExitStatus.TERMINATED if terminated() else ExitStatus.INTERRUPTED))
    except SystemExit:
        # A command stopped by SIGTERM ends as one stopped by Ctrl-C would (130, or Click's
        # "Aborted!"); the status says which it was.
        if terminated():
            sys.exit(int(ExitStatus.TERMINATED))
        raise


def _reported(run) -> None:
    try:
        run()
    except LunaError as exc:  # normally handled in the command; this is the safety net
        from luna.cli.output import error

        error(str(exc))
        sys.exit(int(exc.exit_status))
    except BrokenPipeError:
        quiet_broken_pipe()
    except Exception as exc:  # noqa: BLE001 - a traceback is never the user's interface
        from luna.cli.output import debug_enabled, error

        if debug_enabled():
            raise
        error(f"internal error: {type(exc).__name__}: {exc} (set LUNA_DEBUG=1 for details)")
        sys.exit(int(ExitStatus.ERROR))


def quiet_broken_pipe() -> None:
    """`luna ... | head`: the reader left; exit without a traceback or a message."""
    import os

    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    sys.exit(int(ExitStatus.ERROR))
