"""How names typed by users become tags, album and event identifiers."""

from __future__ import annotations

import re
import unicodedata

from luna.errors import BadName


def tidy_name(name: str, what: str) -> str:
    """Trim spaces (and around "/" in hierarchical tags); refuse an empty name."""
    text = " ".join(str(name).split())
    if not text:
        raise BadName(f"{what} name is empty")
    if what == "tag":
        text = "/".join(part.strip() for part in text.split("/"))
        if any(not part for part in text.split("/")):
            raise BadName(f"tag name {name!r} has an empty level")
    return text


def tag_key(name: str) -> str:
    """Case-insensitive identity of a tag: "Beach", "beach " and "BEACH" are one tag."""
    return unicodedata.normalize("NFC", tidy_name(name, "tag")).casefold()


def slugify(name: str) -> str:
    """The identifier of an album or event: "Summer in Paris, 2019" -> summer-in-paris-2019.
    Letters of any script are kept; only separators and punctuation become dashes."""
    text = unicodedata.normalize("NFC", name).casefold()
    slug = re.sub(r"[^\w]+", "-", text).strip("-")
    return slug or "-".join(f"{ord(c):x}" for c in text)  # a name made only of symbols


# Latin letters whose stroke or ligature Unicode does not decompose: "Tromsø" is Tromso.
_LETTERS_WITHOUT_ACCENT_MARKS = str.maketrans(
    {"ø": "o", "æ": "ae", "œ": "oe", "ł": "l", "đ": "d", "ð": "d", "þ": "th", "ı": "i"}
)


def place_key(name: str) -> str:
    """A place name as `find --place` compares it: any case, without accents, its words
    joined by one space ("Île-de-France", "ile de france" and "ILE-DE-FRANCE" are one)."""
    decomposed = unicodedata.normalize("NFKD", name)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    bare = bare.translate(_LETTERS_WITHOUT_ACCENT_MARKS)
    return " ".join(re.split(r"[\W_]+", bare)).strip()


def uuid_text(hex_id: str) -> str:
    """A file id as people and scripts see it (8-4-4-4-12), from the 32 hex digits stored."""
    return f"{hex_id[:8]}-{hex_id[8:12]}-{hex_id[12:16]}-{hex_id[16:20]}-{hex_id[20:]}"
