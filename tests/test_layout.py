"""luna.files.layout: templates are checked once, and no file name or metadata value, however
hostile, can make a destination outside the library folder or a name the file system
refuses."""

from __future__ import annotations

import datetime as dt
import os
import random

import pytest

from luna.errors import BadTemplate, ExitStatus
from luna.files import layout
from luna.files.layout import (
    DEFAULT_TEMPLATE,
    FIELDS,
    UNDATED_FOLDER,
    LayoutFacts,
    camera_name,
    facts_from_row,
    is_safe_relative,
    numbered,
    parse_template,
    sidecar_name,
    split_name,
    tag_text,
)

WHEN = dt.datetime(2019, 6, 1, 14, 5, 33)
SHA = "3F2A9C1B" + "0" * 56
ROOT = "/library"


def facts(
    filename="IMG_1.jpg",
    start=WHEN,
    kind="photo",
    make="Canon",
    model="Canon EOS 5D",
    content_sha=SHA,
    tags=(),
) -> LayoutFacts:
    return LayoutFacts(filename, start, kind, make, model, content_sha, list(tags))


def render(template: str, **kwargs) -> str:
    return parse_template(template).render(facts(**kwargs))


def size(text: str) -> int:
    return len(os.fsencode(text))


def assert_safe(rel: str) -> None:
    assert is_safe_relative(rel), rel
    assert os.fsdecode(os.fsencode(rel)) == rel  # the name the file system gives back
    for name in rel.split("/"):
        assert size(name) <= layout.NAME_MAX_BYTES
        assert name == name.strip(" ") and not name.endswith(".") and not name.startswith(".")
        assert not any(ch in name for ch in "\\\x00\n\r\t")
        assert name.split(".")[0].upper() not in {"CON", "PRN", "AUX", "NUL", "COM1", "LPT1"}
    inside = os.path.normpath(os.path.join(ROOT, rel))
    assert inside.startswith(ROOT + "/") and inside != ROOT


# --- fields ----------------------------------------------------------------------------


def test_default_template():
    assert DEFAULT_TEMPLATE == "{year}/{month}/{day}/{filename}"
    assert render(DEFAULT_TEMPLATE) == "2019/06/01/IMG_1.jpg"


def test_date_fields_are_zero_padded():
    early = dt.datetime(987, 2, 3, 4, 5)
    assert render("{year}/{month}/{day}/{hour}{minute}_{filename}", start=early) == (
        "0987/02/03/0405_IMG_1.jpg"
    )
    assert render("{hour}h{minute}/{filename}") == "14h05/IMG_1.jpg"


def test_dates_are_the_wall_clock_time_even_with_a_zone():
    when = dt.datetime(2019, 12, 31, 23, 30, tzinfo=dt.timezone(dt.timedelta(hours=-5)))
    assert render("{year}/{month}/{day}/{hour}/{filename}", start=when) == (
        "2019/12/31/23/IMG_1.jpg"
    )


def test_name_fields():
    assert render("{stem}/{filename}") == "IMG_1/IMG_1.jpg"
    assert render("{ext}/{stem}.{ext}", filename="Photo.JPG") == "JPG/Photo.JPG"
    assert render("{kind}/{filename}", kind="video") == "video/IMG_1.jpg"
    assert render("{sha8}.{ext}") == "3f2a9c1b.jpg"


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{sha8}", "3f2a9c1b.JPG"),
        ("{year}/{stem}", "2019/IMG_1.JPG"),
        ("{sha8:upper}-{stem:lower}", "3F2A9C1B-img_1.JPG"),
        ("{year}/{month}/{sha8}", "2019/06/3f2a9c1b.JPG"),
        ("{ext}/{sha8}", "JPG/3f2a9c1b.JPG"),  # {ext} in a folder does not name the file
        # Already there: nothing added.
        ("{filename}", "IMG_1.JPG"),
        ("{year}-{filename}", "2019-IMG_1.JPG"),
        ("{sha8}.{ext:lower}", "3f2a9c1b.jpg"),
        ("{stem}_{ext}", "IMG_1_JPG"),
    ],
)
def test_the_file_name_always_keeps_its_extension(template, expected):
    assert render(template, filename="IMG_1.JPG") == expected


def test_an_added_extension_is_nothing_for_a_file_without_one():
    assert render("{sha8}", filename="README") == "3f2a9c1b"
    assert render("{year}/{stem}", filename=".hidden") == "2019/_hidden"


def test_an_undated_file_keeps_its_extension_too():
    assert render("{year}/{sha8}", start=None) == f"{UNDATED_FOLDER}/3f2a9c1b.jpg"
    assert render("{stem}_{year}", start=None) == f"{UNDATED_FOLDER}/IMG_1.jpg"


def test_a_long_name_keeps_its_added_extension():
    rel = render("{stem}", filename="x" * 300 + ".jpeg")
    assert rel.endswith("x.jpeg") and size(rel) == layout.NAME_MAX_BYTES


def test_stem_dot_ext_leaves_no_trailing_dot_without_an_extension():
    assert render("{stem}.{ext}", filename="README") == "README"
    assert render("{ext|none}/{stem}.{ext}", filename="README") == "none/README"


def test_split_name():
    assert split_name("IMG_1.jpg") == ("IMG_1", "jpg")
    assert split_name("archive.tar.gz") == ("archive.tar", "gz")
    assert split_name(".hidden") == (".hidden", "")
    assert split_name("README") == ("README", "")
    assert split_name("Report v1.2 final") == ("Report v1.2 final", "")
    assert split_name("name.") == ("name.", "")


def test_make_model_and_camera():
    assert render("{make}/{model}/{filename}") == "Canon/Canon EOS 5D/IMG_1.jpg"
    assert render("{camera}/{filename}") == "Canon EOS 5D/IMG_1.jpg"
    assert render("{camera}/{filename}", make="Apple", model="iPhone 8") == (
        "Apple iPhone 8/IMG_1.jpg"
    )


@pytest.mark.parametrize(
    ("make", "model", "camera"),
    [
        ("Canon", "Canon EOS 5D", "Canon EOS 5D"),
        ("NIKON CORPORATION", "NIKON D750", "NIKON D750"),
        ("EASTMAN KODAK COMPANY", "KODAK EASYSHARE C743", "KODAK EASYSHARE C743"),
        ("canon", "Canon PowerShot G7", "Canon PowerShot G7"),
        ("SONY", "ILCE-7M3", "SONY ILCE-7M3"),
        ("Canon", "Canonet QL17", "Canon Canonet QL17"),
        ("OLYMPUS IMAGING CORP.", "E-P3", "OLYMPUS E-P3"),
        ("CASIO COMPUTER CO.,LTD", "QV-R51", "CASIO QV-R51"),
        ("CASIO COMPUTER CO.,LTD.", "EX-100", "CASIO EX-100"),
        ("PENTAX Corporation", "K10D", "PENTAX K10D"),
        ("FUJI PHOTO FILM CO., LTD.", "SP-2000", "FUJI SP-2000"),
        ("RICOH IMAGING COMPANY, LTD.", "GR", "RICOH GR"),
        ("Company", "X1", "Company X1"),
        ("Canon", None, "Canon"),
        (None, "EOS 5D", "EOS 5D"),
        ("  ", "", None),
        (None, None, None),
    ],
)
def test_camera_name_does_not_repeat_the_maker(make, model, camera):
    assert camera_name(make, model) == camera


def test_tag_is_the_first_in_alphabetical_order():
    assert render("{tag}/{filename}", tags=["zoo", "Beach", "apple"]) == "apple/IMG_1.jpg"
    assert tag_text(["b", "A"]) == "A"


def test_hierarchical_tag_never_makes_a_folder():
    rel = render("{tag}/{filename}", tags=["Places/France/Paris"])
    assert rel == "Places - France - Paris/IMG_1.jpg"
    assert tag_text(["/Places//France/"]) == "Places - France"


def test_case_transforms():
    assert render("{make:upper}/{stem}.{ext:lower}", filename="IMG_1.JPG") == "CANON/IMG_1.jpg"
    assert render("{ kind : upper }/{filename}") == "PHOTO/IMG_1.jpg"


def test_literal_braces():
    assert render("{{x}}/{filename}") == "{x}/IMG_1.jpg"
    assert render("a}}b{{/{filename}") == "a}b{/IMG_1.jpg"


def test_every_field_is_documented_and_usable():
    for name, description in FIELDS.items():
        assert description and "\n" not in description
        assert_safe(render(f"{{{name}}}/{{filename}}"))
        assert_safe(render(f"{{{name}}}/{{filename}}", start=None, make=None, model=None))


# --- missing values and fallbacks ------------------------------------------------------


def test_missing_values_without_fallback():
    bare = {"make": None, "model": None, "tags": []}
    assert render("{make}/{model}/{camera}/{tag}/{filename}", **bare) == (
        "unknown/unknown/unknown/untagged/IMG_1.jpg"
    )
    assert render("{make}/{filename}", make="") == "unknown/IMG_1.jpg"
    assert render("{make}/{filename}", make="   ") == "unknown/IMG_1.jpg"
    assert render("{kind}/{filename}", kind="") == "unknown/IMG_1.jpg"


@pytest.mark.parametrize("name", ["make", "model", "camera", "tag", "ext"])
def test_each_fallback(name):
    bare = {"make": None, "model": None, "tags": [], "filename": "README"}
    assert render(f"{{{name}|none}}/{{filename}}", **bare) == "none/README"


def test_fallback_is_not_used_when_there_is_a_value():
    assert render("{camera|none}/{filename}") == "Canon EOS 5D/IMG_1.jpg"
    assert render("{year|nodate}/{filename}") == "2019/IMG_1.jpg"


def test_date_fallback_keeps_undated_files_in_the_template():
    assert render("{year|0000}/{month|00}/{filename}", start=None) == "0000/00/IMG_1.jpg"
    assert render("{year|nodate}/{filename}", start=None) == "nodate/IMG_1.jpg"


def test_empty_fallback_renders_nothing():
    assert render("{make|}{model|}x/{filename}", make=None, model=None) == "x/IMG_1.jpg"
    # A folder that comes out empty is still a valid name.
    assert render("{camera|}/{filename}", make=None, model=None) == "_/IMG_1.jpg"


# --- files without a date --------------------------------------------------------------


def test_undated_default_template():
    assert UNDATED_FOLDER == "undated"
    assert render(DEFAULT_TEMPLATE, start=None) == "undated/IMG_1.jpg"


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{year}/{camera}/{filename}", "undated/Canon EOS 5D/IMG_1.jpg"),
        ("{camera}/{year}/{month}/{filename}", "Canon EOS 5D/undated/IMG_1.jpg"),
        ("{year}-{month}/{kind}/{day}/{filename}", "undated/photo/IMG_1.jpg"),
        ("{camera} {year}/{filename}", "undated/IMG_1.jpg"),  # a folder needing a date goes
        ("{year}/{month|xx}/{filename}", "undated/xx/IMG_1.jpg"),
        ("{filename}", "IMG_1.jpg"),  # no date used: nothing changes
        ("{camera}/{filename}", "Canon EOS 5D/IMG_1.jpg"),
    ],
)
def test_undated_folders(template, expected):
    assert render(template, start=None) == expected


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{year}-{filename}", "undated/IMG_1.jpg"),
        ("{year}{month}{day}_{hour}{minute}_{filename}", "undated/IMG_1.jpg"),
        ("{year}.{month}.{day} {filename}", "undated/IMG_1.jpg"),
        ("{stem}_{year}.{ext}", "undated/IMG_1.jpg"),
        ("{stem} {year}-{month}-{day}.{ext}", "undated/IMG_1.jpg"),
        ("{sha8}_{year}{month}{day}_{stem}.{ext}", "undated/3f2a9c1b_IMG_1.jpg"),
        ("{filename}-{year}", "undated/IMG_1.jpg"),
        ("{camera}/{year}-{filename}", "Canon EOS 5D/undated/IMG_1.jpg"),
        ("{year}/{month}/{year}{month}{day}-{filename}", "undated/IMG_1.jpg"),
        ("{year|0000}-{filename}", "0000-IMG_1.jpg"),
    ],
)
def test_undated_date_fields_in_the_file_name(template, expected):
    assert render(template, start=None) == expected


def test_dated_rendering_of_the_same_templates_keeps_the_date():
    assert render("{stem}_{year}.{ext}") == "IMG_1_2019.jpg"
    assert render("{year}{month}{day}_{hour}{minute}_{filename}") == "20190601_1405_IMG_1.jpg"


def test_template_knows_the_fields_it_uses():
    template = parse_template("{camera}/{year}/{filename}")
    assert template.fields == {"camera", "year", "filename"}
    assert template.uses_date
    assert not parse_template("{filename}").uses_date
    assert template.text == "{camera}/{year}/{filename}"


# --- hostile values --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        ("../../etc", "_._.._etc"),
        ("/abs/path", "_abs_path"),
        ("a\x00b", "a_b"),
        ("..", "_"),
        (".", "_"),
        ("...", "_"),
        ("CON", "_CON"),
        ("nul.txt", "_nul.txt"),
        ("Com1", "_Com1"),
        ("lpt9.tar.gz", "_lpt9.tar.gz"),
        ("CONSOLE", "CONSOLE"),
        ("Canon\nEOS\t5D", "Canon_EOS_5D"),
        ("back\\slash", "back_slash"),
        ("  spaced  ", "spaced"),
        ("dots...", "dots"),
        ("-dash", "-dash"),
        ("line\u2028sep", "line_sep"),
        ("c1\x85control", "c1_control"),
        ("bad\ud800surrogate", "bad_surrogate"),  # JSON can hold one; no byte stands for it
        ("\udcc3\udca9t\udce9", "ét\udce9"),  # bytes that are UTF-8 are read as such
    ],
)
def test_hostile_make(make, expected):
    rel = render("{make}/{filename}", make=make)
    assert rel == f"{expected}/IMG_1.jpg"
    assert_safe(rel)


def test_hostile_values_in_the_file_name_segment():
    assert render("{make}-{filename}", make="../../etc") == "_._.._etc-IMG_1.jpg"
    assert render("{model}_{sha8}", model="/abs/path") == "_abs_path_3f2a9c1b.jpg"
    assert render("{tag}-{filename}", tags=["a/../../b"]) == "a - .. - .. - b-IMG_1.jpg"


def test_a_long_model_is_cut_to_255_bytes():
    rel = render("{model}/{filename}", model="M" * 1000)
    folder, name = rel.split("/")
    assert folder == "M" * 255 and name == "IMG_1.jpg"
    assert_safe(rel)


def test_a_long_model_in_the_file_name_keeps_the_extension():
    rel = render("{model}-{filename}", model="é" * 500)
    assert size(rel) <= 255 and rel.endswith("é.jpg")
    assert_safe(rel)


def test_a_300_byte_utf8_filename_is_cut_on_a_character_boundary():
    name = "日本" * 50 + ".jpg"  # 300 bytes + 4
    assert size(name) > 255
    rel = render(DEFAULT_TEMPLATE, filename=name)
    last = rel.rsplit("/", 1)[1]
    assert size(last) <= 255
    assert os.fsencode(last).decode("utf-8").endswith(".jpg")
    assert name.startswith(last[: -len(".jpg")])
    assert_safe(rel)


def test_a_cut_does_not_strand_an_accent():
    name = "e\u0301" * 200 + ".jpg"  # e + combining acute: 3 bytes a pair
    last = render("{filename}", filename=name)
    stem = last[: -len(".jpg")]
    assert size(last) <= 255 and stem.endswith("e\u0301")


def test_hidden_and_odd_file_names():
    assert render("{filename}", filename=".hidden") == "_hidden"
    assert render("{stem}.{ext}", filename=".hidden") == "_hidden"
    assert render("{filename}", filename="") == "_"
    assert render("{filename}", filename="..") == "_"
    assert render("{filename}", filename="CON.jpg") == "_CON.jpg"
    assert render("{filename}", filename="two\nlines.jpg") == "two_lines.jpg"
    assert render("{filename}", filename="-rf.jpg") == "-rf.jpg"


def test_an_empty_make_renders_unknown():
    assert render("{make}/{filename}", make="") == "unknown/IMG_1.jpg"


def test_a_non_utf8_file_name_keeps_its_bytes():
    name = os.fsdecode(b"caf\xe9.jpg")
    rel = render(DEFAULT_TEMPLATE, filename=name)
    assert os.fsencode(rel) == b"2019/06/01/caf\xe9.jpg"
    assert os.fsencode(render("{stem}-{sha8}.{ext}", filename=name)) == b"caf\xe9-3f2a9c1b.jpg"


def test_a_long_non_utf8_file_name_is_cut_in_bytes():
    name = os.fsdecode(b"\xff" * 300 + b".jpg")
    last = render("{filename}", filename=name)
    assert os.fsencode(last) == b"\xff" * 251 + b".jpg"


def test_the_whole_path_stays_within_its_limit():
    template = "/".join(["{model}"] * 20) + "/{filename}"
    rel = parse_template(template).render(facts(model="m" * 400, filename="f" * 400 + ".jpg"))
    assert size(rel) <= layout.PATH_MAX_BYTES
    assert rel.endswith(".jpg")
    assert_safe(rel)
    # render() leaves room for a number and a sidecar's ending within the same limit.
    other = numbered(rel, 99_999)
    assert_safe(other)
    assert_safe(
        sidecar_name(other, "f" * 400 + ".jpg.supplemental-metadata.json", "f" * 400 + ".jpg")
    )


HOSTILE = [
    "/", "\\", ".", "..", "\x00", "\n", "\t", "\r", " ", "  ", "-", "_", "~", ":", "|",
    "{", "}", "*", "?", "\x7f", "\x85", "\u2028", "\u200d", "\ufe0f", "\u0301",
    "\udce9", "\udc80", "\udcff", "\udcc3", "\udca9", "\ud800", "\udfff",
    "😀", "👨‍👩‍👧", "é", "日本", "ß", "İ", "CON", "nul", "com1", "LPT9",
    ".jpg", ".tar.gz", "a", "Z", "0", "../", "/..", "//",
]  # fmt: skip

TEMPLATES = [
    DEFAULT_TEMPLATE,
    "{make}/{model}/{filename}",
    "{camera}/{year}/{stem}.{ext}",
    "{tag}/{kind}/{sha8}.{ext:lower}",
    "{year}-{month}-{day} {camera|x}/{make}-{model}-{filename}",
    "{model:upper}/{tag|}/{stem} ({make}).{ext}",
    "/".join(["{make}"] * 31) + "/{model}{filename}",
]


def hostile(rng: random.Random, longest: int) -> str:
    return "".join(rng.choice(HOSTILE) for _ in range(rng.randint(0, longest)))


def test_random_hostile_values_always_give_a_safe_path():
    rng = random.Random(20190601)
    templates = [parse_template(text) for text in TEMPLATES]
    for _ in range(1500):
        f = facts(
            filename=hostile(rng, 120),
            start=rng.choice([WHEN, None]),
            kind=hostile(rng, 5),
            make=rng.choice([None, hostile(rng, 10), hostile(rng, 300)]),
            model=rng.choice([None, hostile(rng, 10), hostile(rng, 300)]),
            content_sha=hostile(rng, 12),
            tags=[hostile(rng, 20) for _ in range(rng.randint(0, 3))],
        )
        template = rng.choice(templates)
        rel = template.render(f)
        assert_safe(rel)
        other = numbered(rel, rng.randint(1, 10_000))
        assert_safe(other)
        sidecar = sidecar_name(other, hostile(rng, 40) + ".xmp", f.filename)
        assert_safe(sidecar)


def test_random_hostile_file_names_keep_their_bytes_when_short():
    rng = random.Random(7)
    safe_bytes = [bytes([b]) for b in range(0x21, 0x7F) if b not in b"/\\."] + [
        bytes([b]) for b in range(0x80, 0x100)
    ]
    for _ in range(500):
        raw = b"x" + b"".join(rng.choice(safe_bytes) for _ in range(rng.randint(0, 60)))
        name = os.fsdecode(raw + b".jpg")
        rel = render("{filename}", filename=name)
        # Nothing in these names needs cleaning, except that bytes forming a C1 control
        # character in UTF-8 (\xc2\x80..\xc2\x9f) become "_".
        if b"\xc2" not in raw:
            assert os.fsencode(rel) == raw + b".jpg"
        assert_safe(rel)


# --- bad templates ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("{yeer}/{filename}", r"unknown field \{yeer\} \(did you mean \{year\}\?\)"),
        ("{nope}/{filename}", "Known fields: year, month, day"),
        ("{}/{filename}", "unknown field"),
        ("{year/{filename}", "not closed"),
        ("{year{month}}/{filename}", "not closed"),
        ("{year}}/{filename}", "closes nothing"),
        ("year}/{filename}", "closes nothing"),
        ("/photos/{filename}", "absolute"),
        ("\\photos\\{filename}", "absolute"),
        ("../{filename}", "inside the library folder"),
        ("{year}/../{filename}", "inside the library folder"),
        ("./{filename}", "inside the library folder"),
        ("..{year}/{filename}", "hidden"),
        ("{year}/.{filename}", "hidden"),
        ("{year}//{filename}", "empty folder name"),
        ("{year}/{filename}/", "empty folder name"),
        ("{year}/{month}", r"must contain \{filename\}, \{stem\} or \{sha8\}"),
        ("{filename}/{camera}", "same name"),
        ("{filename}/photo.jpg", "same name"),
        ("{month:02d}/{filename}", "format '02d' .* not supported; use one of: lower, upper"),
        ("{year:%Y}/{filename}", "not supported"),
        ("{camera|a/b}/{filename}", "fallback .* may not contain '/'"),
        ("{camera|a\\b}/{filename}", "fallback"),
        ("a\\b/{filename}", "control character"),
        ("a\tb/{filename}", "control character"),
        ("CON/{filename}", "'CON' cannot be used .* '_CON'"),
        ("aux.txt/{filename}", "reserved on Windows"),
        ("photos./{filename}", "would become 'photos'"),
        (" photos/{filename}", "would become 'photos'"),
        ("x" * 300 + "/{filename}", "too long"),
        ("/".join(["a"] * 40) + "/{filename}", "more than 32 levels"),
    ],
)
def test_bad_templates(template, message):
    with pytest.raises(BadTemplate, match=message):
        parse_template(template)


def test_bad_template_is_a_usage_error():
    assert BadTemplate.exit_status == ExitStatus.USAGE


@pytest.mark.parametrize(
    "template",
    [
        "{sha8}",
        "{stem}.{ext}",
        "{camera|unknown camera}/{year|0000}/{filename}",
        "Photos/{year}/{filename}",
        "{year}/{make}-{model}/{stem} {sha8}.{ext}",
        "{{raw}}/{filename}",
        "{camera|a:b}/{filename}",
        "-x/{filename}",
    ],
)
def test_good_templates(template):
    assert_safe(parse_template(template).render(facts()))


# --- collisions and sidecars -----------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "n", "expected"),
    [
        ("2019/06/01/IMG_1.jpg", 1, "2019/06/01/IMG_1 (1).jpg"),
        ("2019/06/01/IMG_1.jpg", 12, "2019/06/01/IMG_1 (12).jpg"),
        ("archive.tar.gz", 2, "archive.tar (2).gz"),
        ("undated/README", 1, "undated/README (1)"),
        ("a/IMG_1 (1).jpg", 1, "a/IMG_1 (1) (1).jpg"),
    ],
)
def test_numbered(path, n, expected):
    assert numbered(path, n) == expected


def test_numbered_stays_within_255_bytes():
    name = render("{filename}", filename="é" * 200 + ".jpg")
    other = numbered(f"2019/{name}", 123)
    last = other.rsplit("/", 1)[1]
    assert size(last) <= 255 and last.endswith(" (123).jpg")
    assert_safe(other)


def test_numbered_counts_from_one():
    with pytest.raises(ValueError):
        numbered("IMG_1.jpg", 0)


@pytest.mark.parametrize(
    ("dest", "sidecar", "media", "expected"),
    [
        ("IMG_1 (1).jpg", "IMG_1.jpg.xmp", "IMG_1.jpg", "IMG_1 (1).jpg.xmp"),
        ("IMG_1 (1).jpg", "IMG_1.xmp", "IMG_1.jpg", "IMG_1 (1).xmp"),
        ("IMG_1 (1).jpg", "IMG_1.AAE", "IMG_1.jpg", "IMG_1 (1).AAE"),
        ("IMG_1 (1).JPG", "img_1.xmp", "IMG_1.JPG", "IMG_1 (1).xmp"),
        ("IMG_1 (1).jpg", "IMG_1_01.jpg.xmp", "IMG_1.jpg", "IMG_1 (1)_01.jpg.xmp"),
        (
            "IMG_1 (1).jpg",
            "IMG_1.jpg.supplemental-metadata.json",
            "IMG_1.jpg",
            "IMG_1 (1).jpg.supplemental-metadata.json",
        ),
        ("3f2a9c1b.jpg", "IMG_1.jpg.xmp", "IMG_1.jpg", "3f2a9c1b.jpg.xmp"),
        ("3f2a9c1b.jpg", "IMG_1.xmp", "IMG_1.jpg", "3f2a9c1b.xmp"),
        ("IMG_1.jpg", "IMG_1.xmp", "IMG_1.jpg", "IMG_1.xmp"),  # no rename: unchanged
        ("IMG_1 (1).jpg", "IMG_10.xmp", "IMG_1.jpg", "IMG_1 (1).xmp"),  # not a prefix
        ("IMG_1 (1).jpg", "notes", "IMG_1.jpg", "IMG_1 (1).notes"),
        (
            "2019/06/01/IMG_1 (1).jpg",
            "/photos/card/IMG_1.xmp",
            "/photos/card/IMG_1.jpg",
            "2019/06/01/IMG_1 (1).xmp",
        ),
    ],
)
def test_sidecar_name(dest, sidecar, media, expected):
    assert sidecar_name(dest, sidecar, media) == expected


def test_sidecar_name_cleans_the_sidecars_own_name():
    assert sidecar_name("IMG_1 (1).jpg", "IMG_1.jpg\n.xmp", "IMG_1.jpg") == "IMG_1 (1).jpg_.xmp"
    non_utf8 = os.fsdecode(b"caf\xe9")
    got = sidecar_name(non_utf8 + " (1).jpg", non_utf8 + ".xmp", non_utf8 + ".jpg")
    assert os.fsencode(got) == b"caf\xe9 (1).xmp"


def test_sidecar_name_of_a_long_photo_name_stays_within_255_bytes():
    # At the limit something must give: the sidecar keeps its own extension.
    dest = numbered(render("{filename}", filename="é" * 200 + ".jpg"), 1)
    got = sidecar_name(dest, "é" * 200 + ".jpg.xmp", "é" * 200 + ".jpg")
    assert size(got) <= 255 and got.endswith(".xmp") and got.startswith("é" * 100)
    assert_safe(got)


# --- the final check and the facts -----------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "",
        "/etc/passwd",
        "a/../b",
        "..",
        "./a",
        "a//b",
        "a/",
        "a\\b",
        "a\x00b",
        "a\nb",
        "bad\ud800",
        "x" * 256,
        "/".join(["y" * 200] * 20),
        None,
    ],
)
def test_is_safe_relative_refuses(path):
    assert not is_safe_relative(path)


def test_is_safe_relative_accepts():
    assert is_safe_relative("2019/06/01/IMG_1.jpg")
    assert is_safe_relative(os.fsdecode(b"caf\xe9/x.jpg"))
    assert is_safe_relative("x" * 255)


def test_facts_from_row():
    got = facts_from_row(
        "IMG_1.jpg",
        WHEN,
        "photo",
        {"make": " Canon ", "model": "Canon EOS 5D", "iso": 100},
        SHA,
        ["b", "a"],
    )
    assert got == LayoutFacts("IMG_1.jpg", WHEN, "photo", "Canon", "Canon EOS 5D", SHA, ["b", "a"])


def test_facts_from_row_tolerates_missing_and_odd_metadata():
    got = facts_from_row("x.jpg", None, "video", None, "", None)
    assert (got.make, got.model, got.tags, got.content_sha) == (None, None, [], "")
    odd = facts_from_row("x.jpg", None, "photo", {"make": ["x"], "model": 5}, SHA, [])
    assert (odd.make, odd.model) == (None, "5")
    assert facts_from_row("x.jpg", None, "photo", {"make": b"Canon"}, SHA, []).make == "Canon"


def test_a_template_renders_many_files():
    # Not timed: checks that one parsed template serves many different files.
    template = parse_template("{camera}/{year}/{month}/{stem}-{sha8}.{ext}")
    paths = {
        template.render(facts(filename=f"IMG_{i}.jpg", content_sha=f"{i:064x}"))
        for i in range(2000)
    }
    assert len(paths) == 2000
