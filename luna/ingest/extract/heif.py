"""HEIC, HEIF and AVIF through pillow-heif (libheif), registered with Pillow on first use."""

from __future__ import annotations

import contextlib

_registered = False


def register() -> None:
    global _registered
    if _registered:
        return
    import pillow_heif

    pillow_heif.register_heif_opener()
    # Recent Pillow reads AVIF itself; pillow-heif's opener covers older ones.
    if hasattr(pillow_heif, "register_avif_opener"):
        # Builds without AV1 support raise here; Pillow's own AVIF reader then serves.
        with contextlib.suppress(Exception):
            pillow_heif.register_avif_opener()
    _registered = True
