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
from dataclasses import dataclass, field
from pathlib import Path

SERVER_SETTINGS = (
    "-c listen_addresses='' -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
)
# For benchmarks: as safe as SQLite's WAL mode with synchronous=normal, which luna uses (a
# crash keeps the database consistent and may lose the last commits, never more).
DURABLE_SETTINGS = "-c listen_addresses='' -c synchronous_commit=off"


class Unavailable(Exception):
    """No server can be started here; the message says why."""


@dataclass
class Server:
    folder: Path  # holds the data directory, the log and the socket
    bin: Path
    user: str | None  # whom the server runs as, when not the current user
    _made: set = field(default_factory=set)  # databases known to exist

    @property
    def url(self) -> str:
        """The URL of the `postgres` database, as the superuser, through the socket."""
        return f"postgresql://postgres@/postgres?host={self.folder}"

    def new_library(self) -> str:
        """The URL of a new, empty library: a schema of its own in the `libraries` database
        (much quicker to make than a database), which the URL puts first on the search path."""
        import uuid

        name = f"lib_{uuid.uuid4().hex[:12]}"
        self.run_sql(self.database_url("libraries"), f"CREATE SCHEMA {name}")
        return self.database_url("libraries") + f"&options=-csearch_path%3D{name}"

    def database_url(self, database: str) -> str:
        """The URL of `database` (created if new), as the superuser."""
        if database not in self._made:
            found = self.run_sql(self.url, "SELECT 1 FROM pg_database WHERE datname = %s",
                                 (database,))  # fmt: skip
            if not found:
                self.run_sql(self.url, f'CREATE DATABASE "{database}"')
            self._made.add(database)
        return f"postgresql://postgres@/{database}?host={self.folder}"

    @staticmethod
    def run_sql(url: str, sql: str, params=()) -> list:
        """Run one statement (autocommit) with psycopg2, luna's driver; its rows, if any."""
        import psycopg2

        conn = psycopg2.connect(url)
        try:
            conn.autocommit = True
            cursor = conn.cursor()
            cursor.execute(sql, params)
            return cursor.fetchall() if cursor.description else []
        finally:
            conn.close()

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


def start(*, durable: bool = False) -> Server:
    """Start a server in a new temporary folder; raises Unavailable with the reason.
    durable: fsync on, for benchmarks (tests run with it off)."""
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
        # Others may reach the socket (not list the folder; the data directory inside is
        # the server's alone): a test's luna run without root's powers (conftest's
        # run_luna_as_owner) must still connect to its library.
        os.chmod(folder, 0o711)
    server = Server(folder, binaries, user)
    try:
        _run(server, "initdb", "-D", str(folder / "data"), "-U", "postgres",
             "--auth=trust", "-E", "UTF8", "--locale=C")  # fmt: skip
        _run(server, "pg_ctl", "-D", str(folder / "data"), "-l", str(folder / "log"), "-w",
             "-o", f"-k {folder} {DURABLE_SETTINGS if durable else SERVER_SETTINGS}",
             "start")  # fmt: skip
    except (Unavailable, OSError, subprocess.TimeoutExpired) as exc:
        shutil.rmtree(folder, ignore_errors=True)
        raise Unavailable(str(exc)) from None
    return server
