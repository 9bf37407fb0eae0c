"""Near-duplicate photos (luna.ops.similar): the copies a user calls "the same picture" get close
hashes and share a group; different pictures, and a picture turned without saying so, do
not; files that are not pictures fail with one clear exception."""

from __future__ import annotations

import functools
import io
import random
import subprocess
import sys
import time
from pathlib import Path

import piexif
import pytest
from PIL import Image, ImageDraw, ImageFilter

from luna.ops import similar
from luna.ops.similar import (
    DEFAULT_THRESHOLD,
    HASH_METHOD,
    LITTLE_STRUCTURE_BITS,
    NotAnImage,
    group_similar,
    hamming,
    has_little_structure,
    perceptual_hash,
)

SIZE = (1200, 900)

# How a viewer turns the stored pixels for each EXIF orientation, and so how to store a
# picture for it to display upright.
DISPLAY = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
UNDO_DISPLAY = {**DISPLAY, 6: Image.Transpose.ROTATE_90, 8: Image.Transpose.ROTATE_270}


# --- pictures -----------------------------------------------------------------------------


@functools.cache
def scene(seed: int) -> Image.Image:
    """A natural-looking picture: overlapping shapes of random colours, softened. (Flat
    colours or plain gradients would not do: they hash to nearly nothing.)"""
    rng = random.Random(seed)
    width, height = SIZE
    im = Image.new("RGB", SIZE, tuple(rng.randrange(256) for _ in range(3)))
    draw = ImageDraw.Draw(im)
    for _ in range(rng.randint(20, 40)):
        colour = tuple(rng.randrange(256) for _ in range(3))
        if rng.random() < 0.5:
            x, y = rng.randrange(width), rng.randrange(height)
            w, h = rng.randint(40, width // 2), rng.randint(40, height // 2)
            draw.ellipse([x - w // 2, y - h // 2, x + w // 2, y + h // 2], fill=colour)
        else:
            corners = [(rng.randrange(width), rng.randrange(height)) for _ in range(5)]
            draw.polygon(corners, fill=colour)
    return im.filter(ImageFilter.GaussianBlur(6))


def save(im: Image.Image, path: Path, fmt: str = "JPEG", orientation: int | None = None, **kw):
    if orientation is not None:
        kw["exif"] = piexif.dump({"0th": {piexif.ImageIFD.Orientation: orientation}})
    if fmt == "JPEG":
        kw.setdefault("quality", 90)
    im.save(path, fmt, **kw)
    return path


@pytest.fixture(scope="module")
def heic_writable() -> bool:
    from luna.ingest.extract.heif import register

    register()
    try:
        Image.new("RGB", (64, 64), "red").save(io.BytesIO(), "HEIF")
    except Exception:  # no HEVC encoder in this libheif build
        return False
    return True


@pytest.fixture
def original(tmp_path) -> Path:
    return save(scene(1), tmp_path / "IMG_0001.jpg")


# --- copies of one picture group together -------------------------------------------------


def copy_resized(im, folder):
    half = im.resize((im.width // 2, im.height // 2), Image.Resampling.LANCZOS)
    return save(half, folder / "resized.jpg", quality=85)


def copy_recompressed(im, folder):
    return save(im, folder / "recompressed.jpg", quality=40)


def copy_png(im, folder):
    return save(im, folder / "copy.png", "PNG")


def copy_webp(im, folder):
    return save(im, folder / "copy.webp", "WEBP", quality=75)


def copy_heic(im, folder):
    return save(im, folder / "copy.heic", "HEIF", quality=60)


def copy_thumbnail(im, folder):  # what a cloud service's web view hands back
    small = im.copy()
    small.thumbnail((320, 320))
    return save(small, folder / "thumbnail.jpg", quality=70)


def copy_cmyk(im, folder):  # print workflows save CMYK JPEGs
    return save(im.convert("CMYK"), folder / "cmyk.jpg")


def copy_palette_gif(im, folder):
    return save(im.quantize(256), folder / "copy.gif", "GIF")


def copy_16bit_grey_png(im, folder):  # scans: 16 bits per sample, which Pillow reads as "I;16"
    grey = im.convert("L")
    wide = Image.frombytes("I;16", grey.size, bytes(b for v in grey.tobytes() for b in (v, v)))
    return save(wide, folder / "grey16.png", "PNG")


def copy_opaque_rgba_png(im, folder):
    return save(im.convert("RGBA"), folder / "rgba.png", "PNG")


COPIES = [
    copy_resized,
    copy_recompressed,
    copy_png,
    copy_webp,
    copy_heic,
    copy_thumbnail,
    copy_cmyk,
    copy_palette_gif,
    copy_16bit_grey_png,
    copy_opaque_rgba_png,
]


@pytest.mark.parametrize("make_copy", COPIES, ids=lambda f: f.__name__.removeprefix("copy_"))
def test_a_copy_groups_with_its_original(make_copy, original, tmp_path, heic_writable):
    if make_copy is copy_heic and not heic_writable:
        pytest.skip("pillow-heif cannot write HEIC here")
    copy = make_copy(scene(1), tmp_path)
    other = save(scene(2), tmp_path / "IMG_0002.jpg")
    hashes = {p.name: perceptual_hash(str(p)) for p in (original, copy, other)}

    assert hamming(hashes[original.name], hashes[copy.name]) <= DEFAULT_THRESHOLD
    assert group_similar(hashes, DEFAULT_THRESHOLD) == [sorted([original.name, copy.name])]


def test_different_pictures_are_far_apart(tmp_path):
    paths = [save(scene(seed), tmp_path / f"{seed}.jpg") for seed in range(1, 9)]
    hashes = {p.name: perceptual_hash(str(p)) for p in paths}
    closest = min(hamming(a, b) for a in hashes.values() for b in hashes.values() if a != b)
    assert closest > DEFAULT_THRESHOLD
    assert group_similar(hashes, DEFAULT_THRESHOLD) == []


# --- orientation: the picture as displayed counts -----------------------------------------


@pytest.mark.parametrize("orientation", [6, 3, 8, 2, 4, 5, 7])
def test_turned_pixels_match_the_orientation_tag(orientation, tmp_path):
    """A camera stores the pixels as the sensor saw them plus an Orientation tag; an editor
    that turns the pixels resets the tag to 1. Both display the same picture."""
    upright = scene(3)
    tagged = save(
        upright.transpose(UNDO_DISPLAY[orientation]),
        tmp_path / "camera.jpg",
        orientation=orientation,
    )
    turned = save(upright, tmp_path / "edited.jpg", orientation=1)
    untagged = save(upright, tmp_path / "export.png", "PNG")
    with Image.open(tagged) as im:  # the test's own premise: the tagged file displays upright
        assert im.transpose(DISPLAY[orientation]).size == upright.size

    hashes = {p.name: perceptual_hash(str(p)) for p in (tagged, turned, untagged)}
    assert hamming(hashes["camera.jpg"], hashes["edited.jpg"]) <= DEFAULT_THRESHOLD
    assert group_similar(hashes, DEFAULT_THRESHOLD) == [sorted(hashes)]


def test_a_turned_heic_matches_its_upright_jpeg_export(tmp_path, heic_writable):
    """A phone held upright stores a HEIC turned by its container (which pillow-heif applies
    on reading) and tagged; its JPEG export is upright, tagged 1."""
    if not heic_writable:
        pytest.skip("pillow-heif cannot write HEIC here")
    upright = scene(10)
    heic = save(upright.transpose(UNDO_DISPLAY[6]), tmp_path / "IMG_0010.heic", "HEIF",
                orientation=6, quality=60)  # fmt: skip
    export = save(upright, tmp_path / "IMG_0010.jpg", orientation=1)
    assert hamming(perceptual_hash(str(heic)), perceptual_hash(str(export))) <= DEFAULT_THRESHOLD


def test_a_picture_turned_without_saying_so_is_a_different_picture(original, tmp_path):
    turned = save(scene(1).transpose(Image.Transpose.ROTATE_90), tmp_path / "turned.jpg")
    assert hamming(perceptual_hash(str(original)), perceptual_hash(str(turned))) > 16


def test_orientation_of_a_png_counts_too(tmp_path):
    upright = scene(4)
    exif = Image.Exif()
    exif[0x0112] = 6
    tagged = tmp_path / "tagged.png"
    upright.transpose(UNDO_DISPLAY[6]).save(tagged, "PNG", exif=exif)
    plain = save(upright, tmp_path / "plain.jpg")
    assert hamming(perceptual_hash(str(tagged)), perceptual_hash(str(plain))) <= DEFAULT_THRESHOLD


# --- what is hashed: the first frame, as shown ---------------------------------------------


def test_an_animation_is_hashed_by_its_first_frame(tmp_path):
    frames = [scene(5).quantize(256), scene(6).quantize(256)]
    gif = tmp_path / "anim.gif"
    frames[0].save(gif, "GIF", save_all=True, append_images=frames[1:], duration=100)
    first = save(scene(5), tmp_path / "first.jpg")
    second = save(scene(6), tmp_path / "second.jpg")
    hashes = {p.name: perceptual_hash(str(p)) for p in (gif, first, second)}
    assert group_similar(hashes, DEFAULT_THRESHOLD) == [["anim.gif", "first.jpg"]]


def test_transparency_is_shown_over_white(tmp_path):
    """What lies under fully transparent pixels is never seen, so it must not count: a PNG
    with a transparent border matches its export flattened onto white."""
    width, height = SIZE
    mask = Image.new("L", SIZE, 0)
    ImageDraw.Draw(mask).ellipse([100, 80, width - 100, height - 80], fill=255)
    hidden = scene(8)  # garbage under the transparent part
    rgba = Image.composite(scene(7), hidden, mask).convert("RGBA")
    rgba.putalpha(mask)
    png = tmp_path / "cutout.png"
    rgba.save(png, "PNG")
    flattened = Image.new("RGB", SIZE, "white")
    flattened.paste(rgba, mask=rgba.getchannel("A"))
    export = save(flattened, tmp_path / "cutout.jpg")
    assert hamming(perceptual_hash(str(png)), perceptual_hash(str(export))) <= DEFAULT_THRESHOLD


def test_the_hash_is_a_64_bit_integer(original):
    value = perceptual_hash(str(original))
    assert isinstance(value, int)
    assert 0 <= value < 1 << 64
    assert perceptual_hash(str(original)) == value  # and a stable one
    assert isinstance(HASH_METHOD, str) and HASH_METHOD


# --- files that are not pictures ----------------------------------------------------------


@pytest.mark.parametrize(
    "content",
    [b"", b"just some notes\n" * 20, bytes(random.Random(0).randbytes(5000))],
    ids=["empty", "text", "garbage"],
)
def test_a_file_that_is_not_an_image_raises_not_an_image(content, tmp_path):
    path = tmp_path / "photo.jpg"
    path.write_bytes(content)
    with pytest.raises(NotAnImage) as caught:
        perceptual_hash(str(path))
    message = str(caught.value)
    assert message and "\n" not in message


@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
@pytest.mark.parametrize("kept", [0.02, 0.3, 0.7, 0.99])
def test_a_truncated_file_hashes_or_raises_not_an_image(fmt, kept, tmp_path):
    data = io.BytesIO()
    scene(9).save(data, fmt)
    path = tmp_path / f"cut.{fmt.lower()}"
    path.write_bytes(data.getvalue()[: int(len(data.getvalue()) * kept)])
    started = time.monotonic()
    try:
        value = perceptual_hash(str(path))
    except NotAnImage:
        pass
    else:
        assert 0 <= value < 1 << 64
    assert time.monotonic() - started < 10


def test_a_decompression_bomb_is_refused(original, monkeypatch):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)  # the 1200x900 photo is 1,080,000
    with pytest.raises(NotAnImage, match="decompression bomb"):
        perceptual_hash(str(original))


def test_a_missing_file_is_an_os_error_not_a_bad_image(tmp_path):
    with pytest.raises(FileNotFoundError):
        perceptual_hash(str(tmp_path / "gone.jpg"))


def test_importing_the_module_does_not_load_pillow():
    code = "import sys, luna.ops.similar; print('PIL' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# --- pictures with too little structure to compare ----------------------------------------


def flat(grey: int) -> Image.Image:
    return Image.new("L", SIZE, grey)


def ramp(transpose=None) -> Image.Image:
    """A smooth gradient, dark at the top, turned to brighten towards any side."""
    gradient = Image.linear_gradient("L").resize(SIZE)
    return gradient if transpose is None else gradient.transpose(transpose).resize(SIZE)


PLAIN = {
    "black": lambda: flat(0),
    "grey": lambda: flat(137),
    "white": lambda: flat(255),
    "noisy grey": lambda: Image.blend(flat(128), Image.effect_noise(SIZE, 10), 0.5),
    "brighter down": ramp,
    "brighter up": lambda: ramp(Image.Transpose.FLIP_TOP_BOTTOM),
    "brighter right": lambda: ramp(Image.Transpose.ROTATE_90),
    "brighter left": lambda: ramp(Image.Transpose.ROTATE_270),
}


@pytest.mark.parametrize("name", PLAIN)
def test_flat_frames_and_plain_gradients_have_little_structure(name, tmp_path):
    path = save(PLAIN[name]().convert("RGB"), tmp_path / "plain.jpg")
    assert has_little_structure(perceptual_hash(str(path)))


def test_photos_have_structure(tmp_path):
    for seed in range(1, 9):
        path = save(scene(seed), tmp_path / f"{seed}.jpg")
        assert not has_little_structure(perceptual_hash(str(path)))


def test_little_structure_is_a_few_bits_from_a_flat_or_ramp_hash():
    across, down = 0xFFFFFFFF << 32, 0xFFFFFFFF
    for ramp_hash in (0, across, down, across | down):
        assert has_little_structure(ramp_hash)
        assert has_little_structure(ramp_hash ^ (1 << LITTLE_STRUCTURE_BITS) - 1)
        assert not has_little_structure(ramp_hash ^ (1 << LITTLE_STRUCTURE_BITS + 1) - 1)
    assert has_little_structure(-1)  # all ones, as SQLite stores it


# --- distances and groups -----------------------------------------------------------------


def test_hamming_counts_differing_bits():
    assert hamming(0, 0) == 0
    assert hamming(0b1011, 0b0001) == 2
    assert hamming(0, (1 << 64) - 1) == 64
    # SQLite keeps 64-bit values signed: -1 is all 64 bits set.
    assert hamming(-1, (1 << 64) - 1) == 0
    assert hamming(-(1 << 63), 1 << 63) == 0


def close_pairs_by_brute_force(hashes: dict, threshold: int) -> set[frozenset]:
    keys = list(hashes)
    return {
        frozenset((a, b))
        for i, a in enumerate(keys)
        for b in keys[i + 1 :]
        if hamming(hashes[a], hashes[b]) <= threshold
    }


def random_hashes(count: int, seed: int) -> dict[str, int]:
    """Random hashes, with copies of some a few bits away (so groups form and chain at
    every threshold) and exact duplicates."""
    rng = random.Random(seed)
    values: list[int] = []
    while len(values) < count:
        roll = rng.random()
        if values and roll < 0.25:
            base = rng.choice(values)
            for bit in rng.sample(range(64), rng.randint(1, 14)):
                base ^= 1 << bit
            values.append(base)
        elif values and roll < 0.3:
            values.append(rng.choice(values))
        else:
            values.append(rng.getrandbits(64))
    return {f"photo{i:05d}": v for i, v in enumerate(values)}


@pytest.mark.parametrize("threshold", [0, 1, 3, 8, 10, 16])
@pytest.mark.parametrize("count", [6, 1500])
def test_groups_are_sets_of_pictures_all_close_to_each_other(count, threshold):
    hashes = random_hashes(count, seed=count * 100 + threshold)
    groups = group_similar(hashes, threshold)
    close = close_pairs_by_brute_force(hashes, threshold)
    grouped = [key for group in groups for key in group]
    assert len(grouped) == len(set(grouped))  # each key in one group at most
    assert groups == sorted(groups) and all(group == sorted(group) for group in groups)
    for group in groups:
        assert len(group) > 1
        assert all(frozenset((a, b)) in close for a in group for b in group if a != b)
    # Nothing is left out that could still have joined: no two ungrouped keys are close.
    alone = set(hashes) - set(grouped)
    assert not [pair for pair in close if pair <= alone]
    # Exact copies share a group.
    group_of = {key: n for n, group in enumerate(groups) for key in group}
    for a in hashes:
        for b in hashes:
            if a != b and hashes[a] == hashes[b]:
                assert group_of[a] == group_of[b]


@pytest.mark.parametrize("threshold", [3, 10])
def test_multi_index_and_all_pairs_give_the_same_groups(threshold, monkeypatch):
    hashes = random_hashes(1500, seed=threshold)
    indexed = group_similar(hashes, threshold)
    monkeypatch.setattr(similar, "_plan", lambda count, threshold: None)
    assert group_similar(hashes, threshold) == indexed


def test_groups_do_not_depend_on_the_order_of_the_input():
    hashes = random_hashes(1500, seed=7)
    backwards = dict(reversed(list(hashes.items())))
    assert group_similar(backwards, 8) == group_similar(hashes, 8)


def test_large_inputs_take_the_multi_index_path():
    # The brute-force comparison above checks that path; tiny inputs compare all pairs.
    assert similar._plan(1500, 10) is not None
    assert similar._plan(6, 10) is None


def test_identical_hashes_group_even_at_threshold_zero():
    hashes = {"b.jpg": 7, "a.heic": 7, "c.png": 6, "d.jpg": 1 << 40}
    assert group_similar(hashes, 0) == [["a.heic", "b.jpg"]]
    assert group_similar(hashes, 1) == [["a.heic", "b.jpg", "c.png"]]


def test_a_chain_of_close_pairs_is_not_one_group():
    # b is 4 bits from a and from c, which are 8 apart: at threshold 6, a and c must not
    # share a group, whichever of them would be kept.
    base = 0xF0F0 << 16
    hashes = {"a": base, "b": base ^ 0b1111, "c": base ^ 0b11111111}
    assert [hamming(hashes[x], hashes[y]) for x, y in ("ab", "bc", "ac")] == [4, 4, 8]
    groups = group_similar(hashes, 6)
    assert not any({"a", "c"} <= set(group) for group in groups)
    assert groups in ([["a", "b"]], [["b", "c"]])
    assert group_similar(hashes, 8) == [["a", "b", "c"]]


def test_the_picture_close_to_most_others_seeds_its_group():
    # m is within 2 bits of each of x, y, z; those are 4 apart, beyond threshold 3. A chain
    # joins all four; cliques keep m with the nearest (ties: the lowest hash).
    m = 0xAB << 40
    hashes = {"m": m, "x": m ^ 0b11, "y": m ^ 0b1100, "z": m ^ 0b110000}
    assert group_similar(hashes, 3) == [["m", "x"]]
    assert group_similar(hashes, 4) == [["m", "x", "y", "z"]]


def test_groups_come_out_sorted():
    hashes = {"z": 0b111, "m": 0b011, "a": 0b001, "far": (1 << 64) - 1, "far2": (1 << 64) - 2}
    assert group_similar(hashes, 2) == [["a", "m", "z"], ["far", "far2"]]
    assert group_similar({}, 8) == []


def test_signed_and_unsigned_forms_of_a_hash_are_the_same_hash():
    value = (1 << 63) | 12345
    assert group_similar({"stored": value - (1 << 64), "fresh": value}, 0) == [["fresh", "stored"]]


@pytest.mark.parametrize("threshold", [-1, 65])
def test_a_threshold_outside_0_to_64_is_refused(threshold):
    with pytest.raises(ValueError, match="threshold"):
        group_similar({"a": 1}, threshold)


@pytest.mark.parametrize("threshold", [0, 3, 10])
@pytest.mark.parametrize("share", [0.02, 0.5, 1.0])  # few queries, many, all of them
def test_close_pairs_of_some_hashes_are_exactly_theirs(threshold, share):
    values = list(set(random_hashes(1500, seed=threshold + 1).values()))
    queries = values[: max(1, int(len(values) * share))]
    expected = {
        (min(a, b), max(a, b), hamming(a, b))
        for a in queries
        for b in values
        if a != b and hamming(a, b) <= threshold
    }
    assert similar.close_pairs_of(queries, values, threshold) == expected


def test_groups_from_known_pairs_are_the_groups_searched_for():
    hashes = random_hashes(1500, seed=3)
    values = set(hashes.values())
    pairs = [(a, b) for a, b, _ in similar.close_pairs_of(values, values, 10)]
    # Pairs of hashes that are not in this set (photos gone since) change nothing.
    stale = [(1 << 63, (1 << 63) + 1), (next(iter(values)), 12345)]
    assert group_similar(hashes, 10, close_pairs=pairs + stale) == group_similar(hashes, 10)
