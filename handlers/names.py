"""Finding the thing a person means by a loose name: "infosec", "Digital access", "smart kent"."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Generic, Optional, TypeVar

from rapidfuzz import fuzz
from rapidfuzz.distance import DamerauLevenshtein

T = TypeVar("T")

# A fuzzy match this good, and clearly better than the next thing, is taken as meant.
SURE_SCORE = 90
# Below this, a name is not even offered as a suggestion.
SUGGEST_SCORE = 70

_FILLER_START = re.compile(r"^(?:the|our|my)\s+")
_FILLER_END = re.compile(r"\s+(?:group|groups|meeting|meetings|team|board)$")


def normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).lower().replace("&", " and ")
    text = re.sub(r"[^\w\s]", " ", text)
    text = " ".join(text.replace("_", " ").split())
    text = _FILLER_START.sub("", text)
    text = _FILLER_END.sub("", text)
    return text


# A name within this many typing slips (a swap counts as one) is worth suggesting.
TYPO_SCORE = 75


def _score(query: str, key: str) -> float:
    # WRatio is good at partial and reordered names but scores short typos ("gsi" for "gis")
    # low; an edit distance of one slip per four letters catches those.
    score = fuzz.WRatio(query, key)
    if DamerauLevenshtein.distance(query, key) <= max(1, len(key) // 4):
        score = max(score, TYPO_SCORE)
    return score


@dataclass
class Lookup(Generic[T]):
    """What a name matched: one thing, or nothing and perhaps some suggestions."""

    found: Optional[T] = None
    suggestions: list[T] = field(default_factory=list)


def resolve(query: str, candidates: Sequence[tuple[T, Sequence[str]]]) -> Lookup[T]:
    """Match `query` against each candidate's names (name, slug, aliases)."""
    q = normalise(query)
    if not q:
        return Lookup()
    keyed: list[tuple[str, int]] = []  # (normalised name, index of candidate)
    for index, (_, names) in enumerate(candidates):
        for name in names:
            key = normalise(name)
            if key:
                keyed.append((key, index))

    exact = {i for key, i in keyed if key == q}
    if len(exact) == 1:
        return Lookup(candidates[exact.pop()][0])

    if len(q) >= 3:
        prefixed = {i for key, i in keyed if key.startswith(q)}
        if len(prefixed) == 1:
            return Lookup(candidates[prefixed.pop()][0])

    best_by_candidate: dict[int, float] = {}
    for key, index in keyed:
        best_by_candidate[index] = max(_score(q, key), best_by_candidate.get(index, 0))
    ranked = sorted(best_by_candidate.items(), key=lambda pair: -pair[1])
    if ranked and ranked[0][1] >= SURE_SCORE and (len(ranked) == 1 or ranked[1][1] < ranked[0][1] - 5):
        return Lookup(candidates[ranked[0][0]][0])
    top = ranked[0][1] if ranked else 0
    return Lookup(suggestions=[candidates[i][0] for i, score in ranked[:3] if score >= max(SUGGEST_SCORE, top - 10)])
