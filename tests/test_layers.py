"""The package layout is the architecture: each layer imports only from itself and the layers
below it, and no module reaches itself through its imports.

Every import counts, the ones inside functions too: luna imports heavy modules lazily so
that `luna find` starts fast, and a cycle or an upward import hidden in a function is still
one. Imports under `if TYPE_CHECKING:` are for annotations only and never run.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "luna"

# From the bottom. A module belongs to the layer of its longest matching prefix.
LAYERS = [
    ("base", ["luna.errors", "luna.fsnames", "luna.timefmt", "luna.names", "luna.notices",
              "luna.interrupts", "luna.settings", "luna.config", "luna.locations", "luna.version",
              "luna.values", "luna.mtimes", "luna.readable",
              "luna.results", "luna.places", "luna.gallery"]),
    ("files", ["luna.files"]),
    ("store", ["luna.store"]),
    ("ingest", ["luna.ingest"]),
    ("search", ["luna.search"]),
    ("ops", ["luna.ops"]),
    ("api", ["luna.library", "luna"]),
    ("cli", ["luna.cli", "luna.__main__"]),
]  # fmt: skip


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {_module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def layer_of(module: str) -> int:
    best, best_length = None, -1
    for rank, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            matches = module == prefix or module.startswith(prefix + ".")
            if matches and len(prefix) > best_length:
                best, best_length = rank, len(prefix)
    assert best is not None, f"{module} is in no layer: add it to LAYERS"
    return best


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST):
    """Every import statement, at any depth, except those under `if TYPE_CHECKING:`."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and _is_type_checking(node):
            continue
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        yield from _imports(node)


def imported_modules(module: str) -> set[str]:
    """The luna modules `module` imports: `from luna.x import y` is luna.x.y when that is a
    module, else luna.x."""
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    found = set()
    for node in _imports(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
            continue
        base = node.module or ""
        if node.level:
            package = module.split(".")[: -node.level or None]
            if MODULES[module].name == "__init__.py":
                package = module.split(".")[: len(module.split(".")) - node.level + 1]
            base = ".".join([*package, *([base] if base else [])])
        for alias in node.names:
            name = f"{base}.{alias.name}"
            found.add(name if name in MODULES else base)
    return {name for name in found if name in MODULES and name != module}


GRAPH = {module: imported_modules(module) for module in MODULES}


@pytest.mark.parametrize("module", sorted(MODULES))
def test_a_module_imports_only_its_own_layer_and_those_below(module):
    mine = layer_of(module)
    upward = sorted(
        f"{other} ({LAYERS[layer_of(other)][0]})"
        for other in GRAPH[module]
        if layer_of(other) > mine
    )
    assert not upward, f"{module} ({LAYERS[mine][0]}) imports from above: {', '.join(upward)}"


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in sorted(graph[node]):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return components


def test_no_module_imports_itself_through_others():
    assert _cycles(GRAPH) == []


def test_the_checker_sees_cycles_and_upward_imports():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert layer_of("luna.ops.dupes") > layer_of("luna.store.db") > layer_of("luna.errors")
    assert layer_of("luna.cli.find") > layer_of("luna") > layer_of("luna.ops.tags")
    # Function-level imports count (luna.cli.app imports the commands lazily).
    assert "luna.cli.find" in GRAPH["luna.cli.app"] or any(
        m.startswith("luna.cli.") for m in GRAPH["luna.cli.app"]
    )


# -- where the SQL is ----------------------------------------------------------------------

_SQL = re.compile(
    r"\b(SELECT\s.+\sFROM|INSERT\s+(OR\s+\w+\s+)?INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM|"
    r"CREATE\s+(TABLE|INDEX)|PRAGMA\s+\w+)\b",
    re.S,
)
# What SQLite alone understands; luna.store.dialect spells it for the rest of the store.
_SQLITE_ONLY = re.compile(
    r"json_extract\(|strftime\('|PRAGMA\s|INDEXED\s+BY|\bGLOB\b|\bOR\s+(IGNORE|REPLACE)\b|"
    r"\binstr\(|\bIS\s+(NOT\s+)?\?"
)


def _strings(path: Path):
    """The text of every string literal, f-strings' fixed parts joined."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            yield node.value
        elif isinstance(node, ast.JoinedStr):
            yield "".join(
                part.value if isinstance(part, ast.Constant) else "{}" for part in node.values
            )


def _in_store(module: str) -> bool:
    return module == "luna.store" or module.startswith("luna.store.")


@pytest.mark.parametrize("module", sorted(m for m in MODULES if not _in_store(m)))
def test_no_sql_and_no_database_driver_outside_the_store(module):
    sql = [s for s in _strings(MODULES[module]) if _SQL.search(s)]
    assert not sql, f"{module} holds SQL; it belongs in luna.store: {sql[0]!r}"
    drivers = {"sqlite3", "peewee", "playhouse", "psycopg", "psycopg2"} & {
        name.split(".")[0] for node in _imports(ast.parse(MODULES[module].read_text()))
        for name in ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""])
    }  # fmt: skip
    assert not drivers, f"{module} imports {drivers}; only luna.store talks to the database"


@pytest.mark.parametrize(
    # luna.store.postgres is the other dialect: it reads SQLite's spellings to replace them.
    "module",
    sorted(
        m
        for m in MODULES
        if _in_store(m) and m not in ("luna.store.dialect", "luna.store.postgres")
    ),
)
def test_sqlite_only_sql_is_spelled_by_the_dialect(module):
    found = [s for s in _strings(MODULES[module]) if _SQLITE_ONLY.search(s)]
    assert not found, f"{module} spells SQLite-only SQL itself: {found[0]!r}"


def test_the_sql_checks_see_sql():
    assert _SQL.search("SELECT id FROM file WHERE x")
    assert _SQL.search("INSERT OR IGNORE INTO tag")
    assert not _SQL.search("Select the files to keep from the list")
    assert _SQLITE_ONLY.search("SELECT json_extract(metadata, '$.make') FROM file")
    assert not _SQLITE_ONLY.search("INSERT INTO tag (name) VALUES (?) ON CONFLICT DO NOTHING")
