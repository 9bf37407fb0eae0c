"""What every `Library` call answers: one base for the reports of imports, checks and
changes, and for listings.

A result has its data (`data()`, the keys of its JSON document), the problems it met
(`problems`: files that failed, changed, could not be relinked...), the exit status the
command that made it ends with (`exit_status`), and one JSON envelope (`to_json()`): an
object whose first key is "version", the version of that document's format. `luna ...
--json` prints exactly that document, so a script reading the CLI's JSON and one calling
the API read the same thing.

    from luna import Library
    with Library.open() as lib:
        report = lib.verify()
        for problem in report.problems:
            print(problem.path, problem.problem)
        raise SystemExit(report.exit_status)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from luna.errors import ExitStatus

# The version of every JSON document. Raise it when a key changes meaning or goes away; a
# new key does not need it (CHANGELOG.md records both).
JSON_VERSION = 1


class Result:
    """The base of every result. Subclasses are dataclasses, or define `data()`; those
    that can meet problems have a `problems` list, and those with more outcomes than "all
    went well" or "some problems" (an interrupted run) define `exit_status`."""

    version: int = JSON_VERSION
    problems: Sequence[Any] = ()

    def data(self) -> dict:
        """The document's keys; by default a dataclass's fields, as they are."""
        import dataclasses

        return dataclasses.asdict(self)  # type: ignore[call-overload]

    @property
    def exit_status(self) -> ExitStatus:
        return ExitStatus.PARTIAL if self.problems else ExitStatus.OK

    def to_json(self) -> dict:
        return {"version": self.version, **self.data()}


class Plain:
    """Equality and a repr made of the fields named in `_fields`, as @dataclass writes them,
    for the classes `luna find` loads: importing dataclasses (and with it inspect, ast,
    dis...) costs a fifth of a search. Each writes its own __init__."""

    _fields: tuple[str, ...] = ()
    __hash__ = None  # type: ignore[assignment]  # mutable, compared by value: as @dataclass

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return all(getattr(self, name) == getattr(other, name) for name in self._fields)

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._fields)
        return f"{type(self).__name__}({fields})"


class Rows(Plain, Result):
    """A listing: rows of one kind under one key ("tags", "albums", "events", "files"),
    with the document's other keys in `about` (an album's name, say)."""

    _fields = ("key", "rows", "about")

    def __init__(self, key: str, rows: list[dict], about: dict | None = None):
        self.key = key
        self.rows = rows
        self.about = {} if about is None else about

    def data(self) -> dict:
        return {**self.about, "count": len(self.rows), self.key: self.rows}

    def __iter__(self):
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)


class Record(Plain, Result):
    """One thing, or one change, described by its fields: a tag renamed, an album created
    or shared, an event made."""

    _fields = ("fields",)

    def __init__(self, fields: dict):
        self.fields = fields

    def data(self) -> dict:
        return dict(self.fields)

    def __getitem__(self, key: str):
        return self.fields[key]
