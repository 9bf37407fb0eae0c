"""Traps one word of a command line can spring: an unset variable, a symlink loop, a typo in
--into, a template that drops the extension, a file skipped without a word. Each must end
in a clear message, or in what the user meant, and never in work done somewhere else."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import make_photo


def _json(cli, *args):
    code, out, err = cli(*args, "--json")
    assert out.strip(), f"exit {code}: {err}"
    return code, json.loads(out), err


# -- organize --template '{sha8}': the file keeps its extension, its sidecars follow ---------


def test_a_template_without_the_extension_still_gives_photos_theirs(tmp_path, cli):
    into = tmp_path / "Library"
    make_photo(into / "IMG_1.jpg")
    (into / "IMG_1.jpg.xmp").write_text("<x:xmpmeta xmlns:x='adobe:ns:meta/'/>")
    (into / "IMG_1.xmp").write_text("<x:xmpmeta xmlns:x='adobe:ns:meta/'/>")
    cli("import", into)
    code, plan, err = _json(cli, "organize", "--into", into, "--template", "{sha8}", "--dry-run")
    assert code == 0, err
    names = {Path(s["source"]).name: Path(s["destination"]).name for s in plan["steps"]}
    photo = names["IMG_1.jpg"]
    assert photo.endswith(".jpg") and len(photo) == len("3f2a9c1b.jpg")
    stem = photo.removesuffix(".jpg")
    assert names["IMG_1.jpg.xmp"] == f"{stem}.jpg.xmp"  # the sidecars still name the photo
    assert names["IMG_1.xmp"] == f"{stem}.xmp"
    assert (into / "IMG_1.jpg").is_file()  # a dry run
