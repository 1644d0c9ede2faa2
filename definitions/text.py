"""Text normalisation shared by the importer: Unicode form, dashes, white space, accents."""

from __future__ import annotations

import re
import unicodedata

_DASHES = str.maketrans({"\u2013": "-", "\u2014": "-", "\u2012": "-", "\u2212": "-"})
_SPACE = re.compile(r"\s+")


def collapse(text: str) -> str:
    """NFC, non-breaking spaces and runs of white space made one space, trimmed."""
    return _SPACE.sub(" ", unicodedata.normalize("NFC", text).replace("\u00a0", " ")).strip()


def fold(text: str) -> str:
    """A matching key: collapsed, case-folded, dashes unified."""
    return collapse(text).translate(_DASHES).casefold()


def unaccent(text: str) -> str:
    """`fold` without Vietnamese diacritics (đ becomes d): for matching loosely written headers."""
    decomposed = unicodedata.normalize("NFD", fold(text).replace("đ", "d"))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))
