"""The library's data: the SQLite file, its schema and migrations, and every SQL statement.

The layers, from the bottom: `luna` (errors, names, settings), `luna.files` (the file
system), `luna.store` (this), `luna.ingest` (reading files into the library),
`luna.search` (finding them), `luna.ops` (keeping the library true and organized),
`luna.library` (the Python API), `luna.cli`. A module imports only from its own layer and
the layers below it; tests/test_layers.py checks it.
"""
