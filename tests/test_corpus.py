"""Every file of the shared real-world corpus is imported or reported: no crash, no hang.

The corpus (../shared/corpus) holds fuzzed, truncated and hostile files from the test
suites of public imaging projects; the test is skipped when it is absent.
"""

from __future__ import annotations

import os
import time

from conftest import CORPUS, requires_corpus

from luna.ingest.importer import ImportOptions

pytestmark = requires_corpus()


# luna records real paths (symlinks in the roots resolved); ../shared may be a symlink.
REAL_CORPUS = CORPUS.resolve()


def corpus_files() -> set[str]:
    found = set()
    for root, dirs, names in os.walk(REAL_CORPUS):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        found.update(os.path.join(root, n) for n in names if not n.startswith("."))
    return found


def test_every_corpus_file_is_imported_or_reported(lib):
    started = time.monotonic()
    report = lib.import_paths([str(CORPUS)], ImportOptions(time_limit=30))
    elapsed = time.monotonic() - started
    assert elapsed < 300, "the corpus import took too long: something hangs"

    from luna.fsnames import from_db

    recorded = {from_db(path) for (path,) in lib.db.execute_sql("SELECT path FROM file")}
    failed = {f["path"] for f in report.failures}
    everything = corpus_files()
    assert recorded | failed <= everything
    assert not recorded & failed
    assert report.added == len(recorded)
    assert report.added + report.failed + report.skipped == len(everything)
    assert all(f["reason"] for f in report.failures)
    # Hostile files are reported rather than crashing anything.
    assert str(REAL_CORPUS / "pillow" / "decompression_bomb.gif") in failed
    # Photos and videos are recognised; only the non-media (README, sidecars, GPX) skipped.
    assert report.added > 300
    assert report.skipped < 25


def test_corpus_reimport_reads_nothing(lib):
    lib.import_paths([str(CORPUS)])
    again = lib.import_paths([str(CORPUS)])
    assert again.files_read == 0
    assert (again.added, again.updated, again.moved, again.missing) == (0, 0, 0, 0)
