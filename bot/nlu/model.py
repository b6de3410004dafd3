"""The intent model: which command a message most likely means, with a confidence.

Trained when first needed (serve and the console start it in the background: `warm_up`), from
every declaration's examples plus the corpus (bot/nlu/corpus/intents.yaml), each with its things
masked first, so that "when is the next GIS meeting" and "when is the next Smart Kent meeting"
are one sentence to the model: "when is the next xgroupx meeting". TF-IDF on character n-grams
within words (typos and word endings) and on words and word pairs, into a linear SVM (liblinear,
one against the rest), whose scores become confidences. Deterministic: liblinear's random_state
is fixed. Retrained when the declarations change (a test declaring a command), keyed by what the
model learns from.

scikit-learn fits it in a child process (bot/nlu/fit.py), so that this process never carries
scikit-learn's memory; the fitted arrays are kept in a cache file named by a hash of what it
learnt from (KC_CACHE_DIR, by default ~/.cache/kent-connects), so that a restart loads them in
milliseconds; `Weights` computes the decision function with numpy alone.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
import re
import subprocess
import sys
import tempfile
import threading
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy
import yaml

from bot.nlu import catalogue, fit
from bot.nlu.entities import Catalogue, extract
from bot.nlu.text import tokens
from core.commands import COMMANDS, Command

CORPUS_FILE = Path(__file__).parent / "corpus" / "intents.yaml"
# How the linear SVM's scores become confidences: a softmax of the scores times SHARPNESS. Not a
# calibrated probability: the thresholds (bot/nlu/decide.py) are chosen on what it gives the
# evaluation set (bench/nlu_eval.py).
SHARPNESS = 3.0
# Masking in training reads no date relative to today that matters; a fixed day keeps it fixed.
TRAINING_DAY = date(2026, 1, 5)
# A fit that takes longer than this has gone wrong (it takes about two seconds).
FIT_TIMEOUT = 120


@lru_cache(maxsize=1)
def corpus(path: Path = CORPUS_FILE) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return {"samples": data.get("samples") or {}, "intents": data.get("intents") or {}}


def learnable(commands: Iterable[Command] = COMMANDS) -> list[Command]:
    """The commands the model can name: all but the catch-alls that only explain a command's use."""
    return [c for c in commands if not all(p.explains for p in c.patterns) and c.extra.get("learned", True)]


_WHITE_SPACES = re.compile(r"\s\s+")
_WORD = re.compile(fit.TOKEN_PATTERN)


def _char_ngrams(text: str) -> list[str]:
    """scikit-learn's `char_wb` analyzer: n-grams within words, each word padded with a space."""
    low, high = fit.CHAR_NGRAMS
    grams: list[str] = []
    for word in _WHITE_SPACES.sub(" ", text.lower()).split():
        word = f" {word} "
        for n in range(low, high + 1):
            offset = 0
            grams.append(word[offset : offset + n])
            while offset + n < len(word):
                offset += 1
                grams.append(word[offset : offset + n])
            if offset == 0:  # a short word counts once
                break
    return grams


def _word_ngrams(text: str) -> list[str]:
    """scikit-learn's word analyzer: the token pattern's words, then word pairs."""
    words = _WORD.findall(text.lower())
    low, high = fit.WORD_NGRAMS
    grams = list(words) if low == 1 else []
    for n in range(max(low, 2), min(high, len(words)) + 1):
        grams.extend(" ".join(words[i : i + n]) for i in range(len(words) - n + 1))
    return grams


@dataclass(frozen=True)
class Weights:
    """A fitted model (bot/nlu/fit.py `arrays`): two TF-IDF vocabularies and the SVM's weights."""

    chars: dict[str, int]
    char_idf: Any  # numpy arrays
    words: dict[str, int]
    word_idf: Any
    coef: Any
    intercept: Any
    classes: tuple[str, ...]

    @classmethod
    def load(cls, path: Path) -> Weights:
        with numpy.load(path, allow_pickle=False) as data:
            return cls(
                {str(t): i for i, t in enumerate(data["chars_terms"])},
                data["chars_idf"],
                {str(t): i for i, t in enumerate(data["words_terms"])},
                data["words_idf"],
                data["coef"],
                data["intercept"],
                tuple(str(c) for c in data["classes"]),
            )

    @staticmethod
    def _tfidf(grams: list[str], vocabulary: dict[str, int], idf: Any, offset: int) -> tuple[list[int], list[float]]:
        """Sublinear TF times idf, normalised to unit length, as (feature, value) lists."""
        counts = Counter(vocabulary[g] for g in grams if g in vocabulary)
        values = [(1.0 + math.log(n)) * float(idf[i]) for i, n in counts.items()]
        norm = math.sqrt(sum(v * v for v in values)) or 1.0
        return [offset + i for i in counts], [v / norm for v in values]

    def decision(self, text: str) -> Any:
        """The SVM's score for each class, as scikit-learn's `decision_function` gives it."""
        chars, char_values = self._tfidf(_char_ngrams(text), self.chars, self.char_idf, 0)
        words, word_values = self._tfidf(_word_ngrams(text), self.words, self.word_idf, len(self.chars))
        features, values = chars + words, char_values + word_values
        if not features:
            return self.intercept.copy()
        return self.coef[:, features] @ numpy.array(values) + self.intercept


@dataclass(frozen=True)
class Model:
    weights: Weights
    labels: tuple[str, ...]
    # The words of the commands (never read as a misspelt name), for the request's catalogue.
    common: frozenset[str]
    # Every word the commands are said with, names' words too (a sentence is made of these).
    said: frozenset[str]
    # What it learnt from, masked, and the intents (for cross-validation in bench/nlu_eval.py).
    texts: tuple[str, ...]
    targets: tuple[str, ...]

    @property
    def training_size(self) -> int:
        return len(self.texts)

    def rank(self, masked: str) -> list[tuple[str, float]]:
        """Every intent with its confidence (0 to 1, adding up to 1), likeliest first."""
        scores = self.weights.decision(masked) * SHARPNESS
        weights = numpy.exp(scores - scores.max())
        confidences = weights / weights.sum()
        order = numpy.argsort(-confidences, kind="stable")
        return [(self.labels[i], float(confidences[i])) for i in order]


def training_texts(commands: list[Command], data: dict[str, Any]) -> dict[str, list[str]]:
    """Each intent's utterances: the declaration's examples, then the corpus's."""
    return {c.intent: [*c.examples, *(data["intents"].get(c.intent) or [])] for c in commands}


# Words of any sentence, whether or not the corpus has them.
ENGLISH = frozenset(
    [
        "a",
        "about",
        "above",
        "after",
        "again",
        "all",
        "also",
        "am",
        "an",
        "and",
        "any",
        "anything",
        "are",
        "as",
        "at",
        "be",
        "been",
        "before",
        "being",
        "but",
        "by",
        "can",
        "could",
        "did",
        "do",
        "does",
        "doing",
        "done",
        "for",
        "from",
        "get",
        "got",
        "had",
        "has",
        "have",
        "having",
        "he",
        "her",
        "here",
        "him",
        "his",
        "how",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "just",
        "let",
        "me",
        "more",
        "most",
        "much",
        "my",
        "no",
        "not",
        "now",
        "of",
        "off",
        "on",
        "once",
        "only",
        "or",
        "other",
        "our",
        "out",
        "over",
        "please",
        "quite",
        "really",
        "she",
        "should",
        "so",
        "some",
        "still",
        "such",
        "than",
        "thanks",
        "that",
        "the",
        "their",
        "them",
        "then",
        "there",
        "these",
        "they",
        "this",
        "those",
        "though",
        "to",
        "too",
        "up",
        "us",
        "very",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "while",
        "who",
        "whom",
        "why",
        "will",
        "with",
        "would",
        "yet",
        # without their apostrophes, as typed in a hurry
        "im",
        "ive",
        "id",
        "youre",
        "dont",
        "cant",
        "isnt",
        "whats",
        "you",
        "your",
    ]
)


def common_words(texts: dict[str, list[str]], names: Catalogue) -> frozenset[str]:
    """Every word of the utterances that is no word of a name (the commands' own vocabulary), and
    the little words of English."""
    in_names = {w for n in names.named for name in n.names for w in tokens(name)}
    return vocabulary(texts) - in_names


def vocabulary(texts: dict[str, list[str]]) -> frozenset[str]:
    """Every word the utterances use, and the little words of English."""
    return frozenset(w for utterances in texts.values() for u in utterances for w in tokens(u)) | ENGLISH


def train(commands: Iterable[Command] = COMMANDS, data: dict[str, Any] | None = None) -> Model:
    data = data if data is not None else corpus()
    texts = training_texts(learnable(commands), data)
    names = catalogue.from_file(data["samples"])
    common = common_words(texts, names)
    names = dataclasses.replace(names, common=common)
    said = vocabulary(texts)
    rows = [(extract(u, names, TRAINING_DAY).masked, intent) for intent, us in texts.items() for u in us]
    weights = fitted([text for text, _ in rows], [intent for _, intent in rows])
    return Model(weights, weights.classes, common, said, tuple(t for t, _ in rows), tuple(i for _, i in rows))


def _cache_dir() -> Path:
    return Path(os.environ.get("KC_CACHE_DIR") or Path.home() / ".cache" / "kent-connects")


# Fits kept in the cache (the newest): one per version of the corpus and declarations in use.
CACHE_KEEP = 4


def _prune(folder: Path) -> None:
    """Remove all but the newest CACHE_KEEP fits (tests declaring commands make one each)."""
    fits = sorted(folder.glob("nlu-*.npz"), key=lambda f: f.stat().st_mtime, reverse=True)
    for old in fits[CACHE_KEEP:]:
        old.unlink(missing_ok=True)


def fitted(texts: list[str], labels: list[str]) -> Weights:
    """The model fitted to these rows: from the cache when it has them, else fitted by
    scikit-learn in a child process (and cached, where the cache can be written)."""
    settings = {"C": fit.C, "chars": fit.CHAR_NGRAMS, "words": fit.WORD_NGRAMS, "tokens": fit.TOKEN_PATTERN}
    rows = json.dumps({"texts": texts, "labels": labels, **settings}, sort_keys=True)
    key = hashlib.sha256(rows.encode()).hexdigest()[:24]
    cached = _cache_dir() / f"nlu-{key}.npz"
    try:
        return Weights.load(cached)
    except (OSError, ValueError, KeyError):
        pass
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "weights.npz"
        done = subprocess.run(
            [sys.executable, "-m", "bot.nlu.fit", str(out)],
            input=rows,
            capture_output=True,
            text=True,
            timeout=FIT_TIMEOUT,
            cwd=Path(__file__).resolve().parents[2],
        )
        if done.returncode != 0:
            raise RuntimeError(f"fitting the language model failed: {done.stderr[-2000:]}")
        weights = Weights.load(out)
        try:
            cached.parent.mkdir(parents=True, exist_ok=True)
            partial = cached.with_suffix(f".{os.getpid()}.tmp")
            partial.write_bytes(out.read_bytes())
            partial.replace(cached)  # atomic: a process reading the cache sees all of it or nothing
            _prune(cached.parent)
        except OSError:
            pass  # a read-only home: fit again at the next start
    return weights


def _fingerprint(commands: Iterable[Command]) -> tuple:
    return tuple((c.intent, c.examples) for c in learnable(commands))


_lock = threading.Lock()
_trained: dict[tuple, Model] = {}
_fingerprinted: tuple[int, tuple] = (-1, ())  # (COMMANDS.version, its fingerprint)


def model() -> Model:
    """The model for the commands declared now, trained once (again only if they change)."""
    global _fingerprinted
    version, key = _fingerprinted
    if version != COMMANDS.version:  # the fingerprint walks every example: once per change, not per request
        key = _fingerprint(COMMANDS)
        _fingerprinted = (COMMANDS.version, key)
    found = _trained.get(key)
    if found is not None:
        return found
    with _lock:
        if key not in _trained:
            _trained.clear()
            _trained[key] = train()
        return _trained[key]


def warm_up() -> threading.Thread:
    """Train the model in the background (serve and the console call this at start), so that the
    first message no command's words match doesn't wait for it; a message that does need it
    before it is ready waits for the training under `model`'s lock."""
    thread = threading.Thread(target=model, name="nlu-warm-up", daemon=True)
    thread.start()
    return thread
