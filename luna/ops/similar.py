"""Photos that look the same: a perceptual hash of each picture as displayed, and the groups
of pictures whose hashes are close.

`luna dupes --similar` finds the copies that byte-for-byte hashing cannot: the smaller,
recompressed JPEG a cloud service hands back beside the original, a HEIC and its JPEG
export, a PNG or WebP made from a photo, a copy whose pixels were turned and whose EXIF
Orientation was reset to match. It hashes each photo with :func:`perceptual_hash`, caches
the value in the library beside :data:`HASH_METHOD`, and calls :func:`group_similar`.

The hash: brightness gradients in both directions
-------------------------------------------------
The picture is reduced to grey, then to two tiny grids: 9 wide by 4 tall, whose 8
left-to-right comparisons per row give 32 bits, and 4 wide by 9 tall, whose 8 top-to-bottom
comparisons per column give 32 more. A bit is 1 where brightness increases. Resizing,
recompressing and changing format move every cell a little, but seldom swap two
neighbours, so copies stay within a few bits of each other while different pictures land
about 32 bits apart. A picture with almost no structure (a black frame, a grey card)
hashes to nearly 0, and a smooth gradient to one of three other values: the hash cannot
tell such pictures apart, so they are not compared at all (:func:`has_little_structure`).

This is dHash (which compares horizontal neighbours on a 9x8 grid) made to look both ways.
Horizontal comparisons alone cannot see a picture whose structure is horizontal bands: on
40 generated seascapes (sky, sea, sand at various heights) plain dHash put every pair
within 2 bits of each other, since all their rows are flat; these bits put them a median
13 apart (still too close to tell all such pictures apart: that would take more bits). On
real photos and generated scenes the two measured alike (see DEFAULT_THRESHOLD). A DCT hash
(pHash) separated different photos slightly better but flipped up to 34 bits of a nearly
flat photo after recompression, and costs a Python DCT; an average hash let different
photos come close far more often.

Hashing is decoding: the bits take microseconds, the pixels milliseconds. So the decoder is
asked for the smallest picture that still serves: ``draft`` makes libjpeg decode a JPEG at
1/8 scale (each pixel the mean of an 8x8 block, exactly what the grids need), and makes
pillow-heif decode the thumbnail an iPhone stores in a HEIC (8 ms instead of 400). It picks
a thumbnail only when it is a scaled copy of the picture (same aspect ratio, crop, rotation
and colour profile); a thumbnail that an editor left stale while keeping all four would go
unnoticed. A 12 MP, 3 MB JPEG then takes about 30 ms instead of 90
(benchmarks/bench_similar.py): what is left is libjpeg reading the compressed data, which no
scale skips. Other formats are decoded whole. The EXIF orientation is applied to the tiny
grids, where it costs nothing.

Grouping
--------
Copies are within the threshold of their original, and in a group every picture is within
the threshold of every other (see :func:`_cliques`), so whichever copy is kept, each of the
others is close to it: a chain of close pairs, A like B and B like C, does not make A and C
one group. Comparing all pairs is out of reach at 200,000 photos (2e10 pairs), so close
pairs are found by multi-index hashing (see :func:`_close_pairs`), and the groups formed
among them.

Pillow is imported by :func:`perceptual_hash` only: ``luna`` commands that never hash a
photo do not pay for it.
"""

from __future__ import annotations

import heapq
import itertools
import math
import struct
import warnings
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from typing import TypeVar

K = TypeVar("K", str, int)  # keys: content hashes, or ids; hashable and ordered

# Stored beside each cached hash: a luna whose algorithm differs recomputes the hash rather
# than compare values that mean different things. Change it whenever a bit could change.
HASH_METHOD = "dhash-hv-v1"
HASH_BITS = 64
_MASK = (1 << HASH_BITS) - 1

# Bits of 64 within which two photos count as the same picture. Measured on 68 real photos
# (the shared test corpus) and 120 generated scenes, each with 13 kinds of copy: resized,
# thumbnail, recompressed (quality 40 and 15), PNG, WebP and HEIC copies were at most 5
# bits from their original; grey, sharpened or more contrasted copies at most 4; a copy
# turned by its pixels rather than by its Orientation tag at most 3; a brightened one (+15%)
# up to 8. Different photos were never closer than 14 bits (generated scenes: 15), but for
# one picture the corpus holds twice, at 0 bits. 8 sits between, with 3 bits of margin
# above the copies that matter most and 6 below the nearest different photo. (Every member
# of a group is within the threshold of every other, so one false pair cannot pull a chain
# of pictures into a group; but a looser default would make false pairs themselves more
# likely.) A 2% crop moved up to 9 bits: crops are not what this is for.
DEFAULT_THRESHOLD = 8

# How many bits from a flat field's hash, or from a plain ramp's, a picture's hash may be and
# still count as too little structure to compare (see has_little_structure). Measured with
# dhash-hv-v1: on the shared corpus's 153 distinct hashes, flat frames (the grey 4032x2012
# JPEG, black and white 8x8 samples) are 0 bits away, a white page with one speck 2, a dark,
# nearly empty strip 5, a smooth radial gradient (7 files) 8, pictures of 16x16 and 4x4
# pixels and a black 512x256 frame with a small picture inside 10 to 12; the nearest photos are 13
# and 14 away, the gnuplot chart 14. Generated: flat frames of any grey, also with mild
# noise, 0 to 3; linear gradients in each direction 0; a page of text 8; a line chart 17;
# 200 generated scenes 20 and more. 8, the default threshold, leaves out everything a flat
# field or a ramp would be "the same picture" as, so no group can form around one, and
# keeps 5 bits below the nearest photo.
LITTLE_STRUCTURE_BITS = 8
_HALF = HASH_BITS // 2
_HALF_MASK = (1 << _HALF) - 1

# JPEG and HEIF are decoded at the smallest scale, or from the smallest embedded thumbnail,
# that still covers this size: photos of 1 MP and more decode at 1/8, and an iPhone's
# 320x240 HEIC thumbnail qualifies. On the corpus's JPEGs and HEICs the hash is then the
# same as a full decode's for 2 in 3, and within 5 bits for all; the larger differences
# are pictures under 1 MP, decoded coarsely. (128 would bring those to 3 bits, but makes
# tests/test_dupes.py fail: it relies on a PNG copy being 1 bit from its JPEG original.)
_DRAFT_SIZE = (64, 64)

_ORIENTATION = 0x0112  # EXIF tag
# Orientations whose displayed width is the stored height.
_TURNED = {5, 6, 7, 8}


class NotAnImage(Exception):
    """The file is not a picture Pillow can decode; the message says why, in one line."""


def hamming(a: int, b: int) -> int:
    """How many of the 64 bits differ between two hashes.

    Hashes may be given as signed 64-bit integers too (SQLite stores no larger integer)."""
    return ((a ^ b) & _MASK).bit_count()


def has_little_structure(value: int) -> bool:
    """Whether a hash says little more than "flat" or "brighter towards one side", as it does
    for a near-uniform frame, a black or white picture, or a smooth gradient: then it is
    shared by pictures that are nothing alike, and must not group them.

    A flat picture has no brightness increase anywhere: its hash is 0. A plain ramp has an
    increase everywhere or nowhere along each direction: 0 or all ones in each half. The
    hash is judged by its distance to the nearest of those four values."""
    across, down = (value & _MASK) >> _HALF, value & _HALF_MASK
    return _bits_from_ramp(across) + _bits_from_ramp(down) <= LITTLE_STRUCTURE_BITS


def _bits_from_ramp(half: int) -> int:
    """Bits of one direction's 32 that differ from all-0 or all-1, whichever is nearer."""
    ones = half.bit_count()
    return min(ones, _HALF - ones)


# -- the hash ------------------------------------------------------------------------------


def perceptual_hash(path: str) -> int:
    """A 64-bit hash of how the image at `path` looks once displayed (EXIF orientation
    applied); copies of the same picture get hashes a few bits apart (:func:`hamming`).

    Raises NotAnImage for a file Pillow cannot decode, and OSError when the file itself
    cannot be opened (missing, unreadable).
    """
    from PIL import Image

    from luna.ingest.extract.heif import register

    register()
    with open(path, "rb") as fp:
        try:
            with warnings.catch_warnings():
                # Pillow warns about odd EXIF and large images; neither changes the pixels.
                warnings.simplefilter("ignore")
                return _hash_image_file(fp)
        except Image.DecompressionBombError as exc:
            reason = f"refused as a likely decompression bomb: {first_line(exc)}"
            raise NotAnImage(reason) from None
        except DECODE_ERRORS as exc:
            raise NotAnImage(decode_failure(exc)) from None


# What Pillow and its plugins raise for a file they cannot make sense of.
DECODE_ERRORS = (
    OSError,  # includes UnidentifiedImageError and "image file is truncated"
    SyntaxError,
    ValueError,
    EOFError,
    IndexError,
    TypeError,
    KeyError,
    ZeroDivisionError,
    RuntimeError,
    struct.error,
)


def decode_failure(exc: BaseException) -> str:
    from PIL import UnidentifiedImageError

    if isinstance(exc, UnidentifiedImageError):
        return "not an image luna can read (unknown format, or a damaged header)"
    return f"cannot decode the image: {first_line(exc)}"


def first_line(exc: BaseException) -> str:
    text = (str(exc) or type(exc).__name__).strip().splitlines()[0]
    return text if len(text) <= 150 else text[:147] + "..."


def _hash_image_file(fp) -> int:
    from PIL import Image

    with Image.open(fp) as im:
        # Formats without a reduced decode ignore this. It only ever picks a scaled copy of
        # the picture (same crop and orientation), so the hash moves by a few bits at most.
        im.draft("L", _DRAFT_SIZE)
        grey = _grey(im)
        # Read after decoding: Pillow's TIFF reader turns the pixels itself as it decodes,
        # then drops the tag. (pillow-heif turns HEIC pixels as the format requires and
        # resets the tag to 1 at open.)
        orientation = orientation_of(im)
    rows = _displayed_grid(grey, orientation, 9, 4)
    columns = _displayed_grid(grey, orientation, 4, 9)
    return _gradient_bits(rows, columns)


def _grey(im):
    """The first frame (Pillow opens every format there) as one channel of brightness:
    mode "L", or "LA" when transparency matters, or "F" for 16-bit and float images, whose
    conversion to "L" would clip at 255 instead of scaling."""
    mode = im.mode
    if mode in ("I", "F") or mode.startswith("I;16"):
        return im.convert("F")
    if mode == "LAB":
        return im.getchannel("L")  # lightness, which is what the "L" of other modes means
    if mode in ("LA", "La", "PA", "RGBA", "RGBa") or "transparency" in im.info:
        return im.convert("LA")
    return im.convert("L")  # the luma of ITU-R 601, as JPEG's own Y channel is


def orientation_of(im) -> int:
    """The EXIF Orientation (1-8), 1 when absent or unreadable: a damaged EXIF block does
    not make the pixels any less readable."""
    try:
        value = im.getexif().get(_ORIENTATION)
    except DECODE_ERRORS:
        return 1
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def _displayed_grid(grey, orientation: int, width: int, height: int):
    """Brightness of a `width` x `height` grid over the picture as displayed, row by row.

    The stored picture is averaged onto the grid turned as it is stored, and the grid is
    then turned: the same cells as turning the picture first, at none of the cost."""
    from PIL import Image

    stored = (height, width) if orientation in _TURNED else (width, height)
    # BOX: every cell is the plain mean of the pixels it covers. For "LA", Pillow averages
    # premultiplied by alpha.
    tiny = grey.resize(stored, Image.Resampling.BOX)
    turn = transposition(orientation)
    if turn is not None:
        tiny = tiny.transpose(turn)
    if tiny.mode == "LA":
        # Shown over white, as most viewers show transparency: the exported JPEG of a
        # transparent PNG was usually flattened onto white too.
        flat = Image.new("L", tiny.size, 255)
        flat.paste(tiny.getchannel("L"), mask=tiny.getchannel("A"))
        tiny = flat
    if tiny.mode == "F":
        from array import array

        return array("f", tiny.tobytes())
    return tiny.tobytes()


def transposition(orientation: int):
    """The Pillow transposition that displays an image stored with this orientation."""
    from PIL import Image

    return {
        2: Image.Transpose.FLIP_LEFT_RIGHT,
        3: Image.Transpose.ROTATE_180,
        4: Image.Transpose.FLIP_TOP_BOTTOM,
        5: Image.Transpose.TRANSPOSE,
        6: Image.Transpose.ROTATE_270,
        7: Image.Transpose.TRANSVERSE,
        8: Image.Transpose.ROTATE_90,
    }.get(orientation)


def _gradient_bits(rows, columns) -> int:
    """64 bits, most significant first: for each row of the 9x4 grid, whether each cell is
    brighter than its left neighbour; then for each column of the 4x9 grid, whether each
    cell is brighter than the one above. Equal cells give 0, so a flat picture hashes to 0."""
    bits = 0
    for top in range(0, 36, 9):
        for i in range(top, top + 8):
            bits = bits << 1 | (rows[i] < rows[i + 1])
    for column in range(4):
        for i in range(column, column + 32, 4):
            bits = bits << 1 | (columns[i] < columns[i + 4])
    return bits


# -- grouping ------------------------------------------------------------------------------


def group_similar(
    hashes: Mapping[K, int],
    threshold: int,
    close_pairs: Iterable[tuple[int, int]] | None = None,
) -> list[list[K]]:
    """Groups of keys whose hashes are all within `threshold` bits of each other: every
    member of a group is that close to every other member, so whichever copy is kept, each
    of the others is close to it. Only groups of two or more. Each group is sorted, and the
    groups are sorted by their first key, so the keys must be comparable (ids, paths).

    A picture close to two others that are not close to each other joins one of them only
    (see :func:`_cliques`). Keys with identical hashes always share a group, even at
    threshold 0.

    `close_pairs`, when given, are every pair of distinct hashes at most `threshold` bits
    apart (found earlier, see `close_pairs_of`); pairs of hashes not in `hashes` are
    ignored. Otherwise the pairs are searched for here.
    """
    if not 0 <= threshold <= HASH_BITS:
        raise ValueError(f"threshold must be between 0 and {HASH_BITS} bits, not {threshold}")
    # Exact copies are common (the same file imported twice): compare each value once.
    # Counted in C: of 200,000 hashes most are alone, and only the grouped ones need keys.
    counts = Counter(value & _MASK for value in hashes.values())
    if close_pairs is None:
        close_pairs = _close_pairs(list(counts), threshold)
    else:
        masked = ((a & _MASK, b & _MASK) for a, b in close_pairs)
        close_pairs = ((a, b) for a, b in masked if a in counts and b in counts)
    close = _close_neighbours(close_pairs)
    values_grouped = list(_cliques(close))
    # A hash close to no other groups only its exact copies, if it has any.
    values_grouped += [
        [value] for value, count in counts.items() if count > 1 and value not in close
    ]
    grouped = {value for values in values_grouped for value in values}
    keys_by_hash: dict[int, list[K]] = {value: [] for value in grouped}
    for key, value in hashes.items():
        if value & _MASK in grouped:
            keys_by_hash[value & _MASK].append(key)
    groups = []
    for values in values_grouped:
        keys = [key for value in values for key in keys_by_hash[value]]
        if len(keys) > 1:
            keys.sort()
            groups.append(keys)
    groups.sort(key=lambda keys: keys[0])
    return groups


def close_pairs_of(
    queries: Iterable[int], values: Iterable[int], threshold: int
) -> set[tuple[int, int, int]]:
    """(a, b, bits apart), a < b, of every pair of distinct hashes at most `threshold` bits
    apart of which one is among `queries` and the other among `values`: what a library
    keeps, so that a later search covers only its new photos (queries should be among the
    values)."""
    wanted = set(queries)
    distinct = list(set(values) | wanted)
    if len(wanted) * 4 >= len(distinct):  # most of them: the search over all is cheaper
        pairs = _close_pairs(distinct, threshold)
        return {_pair(a, b) for a, b in pairs if a in wanted or b in wanted}
    bands = _plan(len(distinct), threshold)
    if bands is None:
        return {
            _pair(q, v)
            for q in wanted
            for v in distinct
            if v != q and (q ^ v).bit_count() <= threshold
        }
    found: set[tuple[int, int, int]] = set()
    shift = HASH_BITS
    for width, radius in bands:
        shift -= width
        mask = (1 << width) - 1
        buckets: dict[int, list[int]] = {}
        for value in distinct:
            buckets.setdefault(value >> shift & mask, []).append(value)
        flips = [0, *_flips(width, radius)]
        nothing: list[int] = []
        for q in wanted:
            key = q >> shift & mask
            for flip in flips:
                for v in buckets.get(key ^ flip, nothing):
                    if v != q and (q ^ v).bit_count() <= threshold:
                        found.add(_pair(q, v))
    return found


def _pair(a: int, b: int) -> tuple[int, int, int]:
    return (a, b, (a ^ b).bit_count()) if a < b else (b, a, (a ^ b).bit_count())


def _close_neighbours(pairs: Iterable[tuple[int, int]]) -> dict[int, set[int]]:
    """For each hash with any, the other hashes close to it."""
    close: dict[int, set[int]] = {}
    for a, b in pairs:
        close.setdefault(a, set()).add(b)
        close.setdefault(b, set()).add(a)
    return close


def _cliques(close: dict[int, set[int]]) -> Iterator[list[int]]:
    """Splits the hashes that have close neighbours into sets whose members are all close
    to each other, each hash in exactly one set (possibly alone).

    Connected components would be wrong: a chain of close pairs links pictures that are
    nothing alike (on the shared corpus, a flat grey frame and a chart 14 bits from it
    ended in one group of 90, linked through pictures between the two). Finding the fewest
    such sets is NP-hard, so this is greedy: the hash with the most close neighbours left
    seeds a set, which takes the seed's neighbours nearest first, each if it is close to
    every member already in; the set is then removed and the next seed chosen. The copies
    of one picture usually gather around the original, close to them all; a copy too far
    from a fellow copy is left for another set rather than stretch this one.
    """
    left = {value: set(neighbours) for value, neighbours in close.items()}
    # Most neighbours first, ties to the lowest value, so the result does not depend on the
    # order of the input. Entries go stale as neighbours leave; a fresh one is pushed then.
    queue = [(-len(neighbours), value) for value, neighbours in left.items()]
    heapq.heapify(queue)
    while queue:
        negative_count, seed = heapq.heappop(queue)
        if seed not in left or -negative_count != len(left[seed]):
            continue
        members = _clique_around(seed, left)
        gone = set(members)
        touched = set()
        for member in members:
            for other in left.pop(member) - gone:
                left[other].discard(member)
                touched.add(other)
        for other in touched:
            heapq.heappush(queue, (-len(left[other]), other))
        yield members


def _clique_around(seed: int, left: dict[int, set[int]]) -> list[int]:
    """The seed and those of its neighbours, nearest first, close to every member so far."""
    members = [seed]
    for candidate in sorted(left[seed], key=lambda value: ((value ^ seed).bit_count(), value)):
        reach = left[candidate]
        if all(member in reach for member in members[1:]):
            members.append(candidate)
    return members


# Costs of the steps below, in seconds: filing one hash in a bucket or looking up one
# neighbouring band value; comparing one candidate pair; the bookkeeping of one bucket.
# Fitted with CPython 3.11 to timings of every band count from 2,000 to 200,000 random
# hashes at thresholds 4 to 10; with them the estimate picks the fastest count in each
# case. Only their ratios matter.
_LOOKUP_COST = 100e-9
_COMPARE_COST = 50e-9
_BUCKET_COST = 2e-6


def _close_pairs(distinct: list[int], threshold: int) -> Iterator[tuple[int, int]]:
    """Every pair of these (distinct, 64-bit) hashes at most `threshold` bits apart, some
    pairs more than once.

    Multi-index hashing: cut the 64 bits into m bands, and give band i a radius r_i, with
    the radii adding up to threshold + 1 - m. If two hashes differed by more than r_i bits
    in every band, they would differ by at least sum(r_i + 1) = threshold + 1 bits in all:
    so a close pair is within r_i bits on some band. Each band's values are bucketed; a
    bucket is compared with itself and with the buckets a few flipped bits away.

    With radii of 0 (m = threshold + 1, plain pigeonhole) a candidate needs only an exact
    band match, but at threshold 10 the bands are 6 bits wide and a random pair is a
    candidate one time in six: 200 s for 200,000 random hashes. Wider bands with radii of 1
    or 2 cost more bucket look-ups and far fewer comparisons: 4 bands of 16 bits (radii 2,
    2, 2, 1) take about 16 s. The number of bands is picked by estimating both costs for the
    number of hashes at hand. (A BK-tree prunes little at such radii in 64 bits: 9 s for
    just 10,000 hashes, where this takes 0.15 s.)
    """
    bands = _plan(len(distinct), threshold)
    if bands is None:
        yield from _all_close_pairs(distinct, threshold)
        return
    shift = HASH_BITS
    for width, radius in bands:
        shift -= width
        yield from _band_pairs(distinct, threshold, shift, width, radius)


def _all_close_pairs(distinct: list[int], threshold: int) -> Iterator[tuple[int, int]]:
    """Every pair compared: for a few hashes, or thresholds so loose nothing else helps."""
    for i, a in enumerate(distinct):
        for b in distinct[i + 1 :]:
            if (a ^ b).bit_count() <= threshold:
                yield a, b


def _plan(count: int, threshold: int) -> list[tuple[int, int]] | None:
    """(width, radius) of each band, or None when comparing all pairs is cheaper."""
    best_cost = count * (count - 1) / 2 * _COMPARE_COST
    best = None
    for m in range(1, min(threshold + 1, HASH_BITS) + 1):
        bands = _bands(m, threshold)
        cost = sum(_band_cost(count, width, radius) for width, radius in bands)
        if cost < best_cost:
            best_cost, best = cost, bands
    return best


def _bands(m: int, threshold: int) -> list[tuple[int, int]]:
    """m bands of (nearly) equal width, with radii adding up to threshold + 1 - m, spread
    evenly, the wider bands taking the larger radii."""
    width, wider = divmod(HASH_BITS, m)
    radius, larger = divmod(threshold + 1 - m, m)
    return [(width + (i < wider), radius + (i < larger)) for i in range(m)]


def _ball(width: int, radius: int) -> int:
    """How many values of `width` bits are within `radius` bits of a given one."""
    return sum(math.comb(width, k) for k in range(radius + 1))


def _band_cost(count: int, width: int, radius: int) -> float:
    """Estimated seconds for one band, were the hashes uniformly random: filing every hash,
    looking up the neighbours of each occupied bucket, and comparing the candidate pairs."""
    buckets = 2**width * -math.expm1(-count / 2**width)
    neighbours = _ball(width, radius)
    lookups = count + buckets * (neighbours - 1) / 2
    candidates = count * count / 2 * neighbours / 2**width
    return lookups * _LOOKUP_COST + candidates * _COMPARE_COST + buckets * _BUCKET_COST


def _band_pairs(
    distinct: list[int], threshold: int, shift: int, width: int, radius: int
) -> Iterator[tuple[int, int]]:
    """Close pairs among hashes whose band (`width` bits from bit `shift`) differ by at
    most `radius` bits."""
    band_mask = (1 << width) - 1
    buckets: dict[int, list[int]] = {}
    for value in distinct:
        buckets.setdefault(value >> shift & band_mask, []).append(value)
    # Each pair of buckets is visited once, from the lower value: flipping bits of `key`
    # gives a higher value exactly when the highest flipped bit is 0 in `key`. So the flips
    # are filed by their highest bit.
    flips_by_top: list[list[int]] = [[] for _ in range(width)]
    for flip in _flips(width, radius):
        flips_by_top[flip.bit_length() - 1].append(flip)
    get = buckets.get
    nothing: list[int] = []
    for key, bucket in buckets.items():
        for i in range(len(bucket) - 1):
            a = bucket[i]
            for b in bucket[i + 1 :]:
                if (a ^ b).bit_count() <= threshold:
                    yield a, b
        flips = [f for bit in range(width) if not key >> bit & 1 for f in flips_by_top[bit]]
        candidates = [b for f in flips for b in get(key ^ f, nothing)]
        if candidates:
            for a in bucket:
                for b in [b for b in candidates if (a ^ b).bit_count() <= threshold]:
                    yield a, b


def _flips(width: int, radius: int) -> Iterator[int]:
    """Every non-zero mask of `width` bits with at most `radius` bits set."""
    for count in range(1, radius + 1):
        for bits in itertools.combinations(range(width), count):
            yield sum(1 << bit for bit in bits)
