"""luna: a command-line photo library manager.

Use it from Python without the CLI::

    from luna import Library
    with Library.open("library.db") as lib:
        report = lib.import_paths(["~/Pictures"])
"""

from luna.version import __version__

__all__ = ["Library", "Query", "__version__"]


def __getattr__(name):
    # Imported lazily so `luna --version` and `luna find` do not pay for peewee.
    if name == "Library":
        from luna.library import Library

        return Library
    if name == "Query":
        from luna.search.query import Query

        return Query
    raise AttributeError(name)
