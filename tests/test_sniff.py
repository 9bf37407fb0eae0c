"""luna.ingest.sniff: the MIME type is libmagic's, including where luna answers first."""

from __future__ import annotations

import random

import magic
import pytest

from luna.ingest.sniff import sniff_mime


@pytest.mark.parametrize("length", [1, 2, 5, 40, 600, 4093])
def test_the_jpeg_shortcut_answers_as_libmagic_does(length):
    rng = random.Random(length)
    for _ in range(50):
        head = b"\xff\xd8\xff" + rng.randbytes(length)
        assert sniff_mime(head) == magic.from_buffer(head, mime=True) == "image/jpeg"


@pytest.mark.parametrize(
    "head",
    [b"\xff\xd8\xff", b"\xff\xd8", b"\xff\xd8\x00\xff" + b"\x00" * 64, b"%PDF-1.4\n" + b"x" * 64],
)
def test_anything_else_is_libmagics_to_name(head):
    assert sniff_mime(head) == magic.from_buffer(head, mime=True) != "image/jpeg"
