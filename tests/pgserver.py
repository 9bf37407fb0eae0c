"""A throwaway PostgreSQL server for the tests: initdb in a temporary folder, listening only
on a Unix socket there (no TCP port, nothing shared with the machine), fsync off, run as
the `postgres` user when the tests run as root (PostgreSQL refuses to run as root).

`.ci/run` installs Debian's PostgreSQL when it is absent; elsewhere the tests that need a
server are skipped with the reason `start` gives, never passed silently.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

SERVER_SETTINGS = (
    "-c listen_addresses='' -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
)


class Unavailable(Exception):
    """No server can be started here; the message says why."""


@dataclass
class Server:
    folder: Path  # holds the data directory, the log and the socket
    bin: Path
    user: str | None  # whom the server runs as, when not the current user

    @property
    def url(self) -> str:
        """The URL of the `postgres` database, as the superuser, through the socket."""
        return f"postgresql://postgres@/postgres?host={self.folder}"

    def stop(self) -> None:
        _run(self, "pg_ctl", "-D", str(self.folder / "data"), "-m", "immediate", "stop")
        shutil.rmtree(self.folder, ignore_errors=True)


def _binaries() -> Path:
    """The folder of initdb and pg_ctl: Debian keeps them off PATH, per major version."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=_major)
    if found:
        return Path(found[-1]).parent
    on_path = shutil.which("initdb")
    if on_path:
        return Path(on_path).resolve().parent
    raise Unavailable("PostgreSQL is not installed (initdb not found; .ci/run installs it)")


def _major(path: str) -> int:
    version = Path(path).parents[1].name
    return int(version) if version.isdigit() else 0


def _run(server: Server, program: str, *args: str) -> None:
    command = [str(server.bin / program), *args]
    if server.user is not None:
        command = ["runuser", "-u", server.user, "--", *command]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise Unavailable(f"{program} failed: {(done.stderr or done.stdout).strip()[-500:]}")


def start() -> Server:
    """Start a server in a new temporary folder; raises Unavailable with the reason."""
    binaries = _binaries()
    user = None
    folder = Path(tempfile.mkdtemp(prefix="luna-pg-"))
    if os.geteuid() == 0:
        try:
            owner = pwd.getpwnam("postgres")
        except KeyError:
            raise Unavailable("running as root and there is no `postgres` user") from None
        user = "postgres"
        os.chown(folder, owner.pw_uid, owner.pw_gid)
    server = Server(folder, binaries, user)
    try:
        _run(server, "initdb", "-D", str(folder / "data"), "-U", "postgres",
             "--auth=trust", "-E", "UTF8", "--locale=C")  # fmt: skip
        _run(server, "pg_ctl", "-D", str(folder / "data"), "-l", str(folder / "log"), "-w",
             "-o", f"-k {folder} {SERVER_SETTINGS}", "start")  # fmt: skip
    except (Unavailable, OSError, subprocess.TimeoutExpired) as exc:
        shutil.rmtree(folder, ignore_errors=True)
        raise Unavailable(str(exc)) from None
    return server
