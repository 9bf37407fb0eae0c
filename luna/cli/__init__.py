"""The command line: parses arguments, calls the core, renders results. No SQL here.

The command modules do not use `from __future__ import annotations`: Typer reads every
parameter's annotation on each run, and string annotations would be compiled and
evaluated every time (about 10 ms of `luna find`, which runs in shell loops).
"""
