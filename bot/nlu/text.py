"""The words the language model reads: the same whatever the case, the keyboard or the emoji."""

from __future__ import annotations

import functools
import re
import unicodedata

# Numbers with what may be glued to them (times, dates, sums, ordinals), e-mail addresses, words
# (with their apostrophes: what's, o'clock). Everything else is a separator.
_TOKEN = re.compile(
    r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+|£?\d[\d,]*(?:\.\d+)?(?:[:/.-]\d+)*[a-z]*|[^\W\d_]+(?:'[^\W\d_]+)*|\d"
)


def _plain(ch: str) -> str:
    category = unicodedata.category(ch)
    if category in ("So", "Sk", "Cf", "Co", "Cs", "Cc") or 0xFE00 <= ord(ch) <= 0xFE0F:
        return " "
    return ch


@functools.lru_cache(maxsize=16384)  # the same names are folded at every request (entities' tables)
def fold(text: str) -> str:
    """Lower case, compatibility forms (full-width letters), no accents, emoji or invisible marks."""
    text = unicodedata.normalize("NFKC", text)
    text = "".join(_plain(ch) for ch in text)
    text = text.replace("’", "'").replace("‘", "'").replace("`", "'").replace("&", " and ")
    text = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in text if not unicodedata.combining(ch))


def tokens(text: str) -> list[str]:
    """The words of the text, folded; a trailing full stop of a number ("at 9.") goes."""
    return [t.rstrip(".,") if t[0].isdigit() or t[0] == "£" else t for t in _TOKEN.findall(fold(text))]
