"""The intent model: which command a message most likely means, with a probability.

Trained when first needed (bench/nlu_bench.py times it), from every declaration's examples plus
the corpus (bot/nlu/corpus/intents.yaml), each with its things masked first, so that "when is the
next GIS meeting" and "when is the next Smart Kent meeting" are one sentence to the model: "when
is the next xgroupx meeting". TF-IDF on character n-grams within words (typos and word endings)
and on words and word pairs, into a linear SVM (liblinear, one against the rest), whose scores
become confidences. Deterministic: liblinear's random_state is fixed. Retrained when the declarations change (a test declaring
a command), keyed by what the model learns from.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy
import yaml
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.svm import LinearSVC

from bot.nlu import catalogue
from bot.nlu.entities import Catalogue, extract
from bot.nlu.text import tokens
from core.commands import COMMANDS, Command

CORPUS_FILE = Path(__file__).parent / "corpus" / "intents.yaml"
# The linear SVM's margin, C, and how its scores become confidences: a softmax of the scores times
# SHARPNESS. Not a calibrated probability: the thresholds (bot/nlu/decide.py) are chosen on what
# it gives the evaluation set (bench/nlu_eval.py).
C = 0.5
SHARPNESS = 3.0
# Masking in training reads no date relative to today that matters; a fixed day keeps it fixed.
TRAINING_DAY = date(2026, 1, 5)


@lru_cache(maxsize=1)
def corpus(path: Path = CORPUS_FILE) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return {"samples": data.get("samples") or {}, "intents": data.get("intents") or {}}


def learnable(commands: Iterable[Command] = COMMANDS) -> list[Command]:
    """The commands the model can name: all but the catch-alls that only explain a command's use."""
    return [c for c in commands if not all(p.explains for p in c.patterns) and c.extra.get("learned", True)]


@dataclass(frozen=True)
class Model:
    pipeline: Pipeline
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
        scores = self.pipeline.decision_function([masked])[0] * SHARPNESS
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
    names = catalogue.from_file(data["samples"], common)
    said = vocabulary(texts)
    rows = [(extract(u, names, TRAINING_DAY).masked, intent) for intent, us in texts.items() for u in us]
    features = FeatureUnion(
        [
            ("chars", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True)),
            ("words", TfidfVectorizer(ngram_range=(1, 2), token_pattern=r"[\w']+", sublinear_tf=True)),
        ]
    )
    pipeline = Pipeline([("features", features), ("classify", LinearSVC(C=C, random_state=0))])
    pipeline.fit([text for text, _ in rows], [intent for _, intent in rows])
    labels = tuple(str(label) for label in pipeline.classes_)
    return Model(pipeline, labels, common, said, tuple(t for t, _ in rows), tuple(i for _, i in rows))


def _fingerprint(commands: Iterable[Command]) -> tuple:
    return tuple((c.intent, c.examples) for c in learnable(commands))


_lock = threading.Lock()
_trained: dict[tuple, Model] = {}


def model() -> Model:
    """The model for the commands declared now, trained once (again only if they change)."""
    key = _fingerprint(COMMANDS)
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
