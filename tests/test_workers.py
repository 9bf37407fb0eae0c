"""luna.ingest.workers: what a worker process answers for a file whatever its reader does."""

from __future__ import annotations

import os
import signal

import pytest

from luna.ingest.extract import FileFailed
from luna.ingest.workers import Failed, Pool


def _fails_silently(path: str):
    raise FileFailed()


def _breaks_silently(path: str):
    raise ValueError()


def _results(work, tasks: list[str]) -> dict:
    pool = Pool(work, 1, lambda task: 30.0)
    try:
        return dict(pool.run(tasks))
    finally:
        pool.close()


@pytest.mark.parametrize(
    ("work", "reason"),
    [
        (_fails_silently, "damaged (the reader gave no details)"),
        (_breaks_silently, "unexpected error: ValueError"),
    ],
)
def test_a_failure_always_carries_a_reason(work, reason):
    assert _results(work, ["/photos/a.jpg"]) == {"/photos/a.jpg": Failed("/photos/a.jpg", reason)}


def _asks_to_be_terminated(path: str) -> str:
    os.kill(os.getpid(), signal.SIGTERM)  # as systemd stopping the service does to each
    return "read"


def test_sigterm_is_the_parents_to_handle_not_a_workers():
    # A worker SIGTERM killed would report its file as damaged (and not retried).
    assert _results(_asks_to_be_terminated, ["/photos/a.jpg"]) == {"/photos/a.jpg": "read"}
