"""The language layer measured on its held-out evaluation set (tests/data/nlu_eval.yaml): for each
message, the intent, the things found and what the bot would do, against what is expected.
bench/nlu_eval.py prints the figures; tests/bot/test_nlu_eval.py keeps them from falling."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Optional

import yaml
from sqlalchemy.orm import Session

from bot.language import understand
from bot.nlu import catalogue, decide, model, plan
from bot.nlu.entities import Found
from bot.nlu.text import tokens
from core.commands import COMMANDS, Audience

EVAL_FILE = Path(__file__).resolve().parents[2] / "tests" / "data" / "nlu_eval.yaml"
EVERYONE = tuple(Audience)
# The evaluation file's sections: the issue's own examples; messages written beside the corpus;
# and four sets written blind, each by someone who had seen neither the corpus nor the rest.
SECTIONS = ("issue", "intents", "blind", "blind2", "blind3", "blind4")
# What happened, for each expectation: exact words count as acting (they are the person's own).
ACCEPTED = {
    "act": {"exact", "act"},
    "confirm": {"exact", "confirm"},
    "ask": {"ask"},
    "suggest": {"suggest"},
    "note": {"note"},
}


@dataclass(frozen=True)
class Case:
    text: str
    intent: str
    entities: dict[str, str]
    outcome: str  # act, confirm, ask, suggest, note
    section: str = "intents"  # one of SECTIONS

    @property
    def issue(self) -> bool:  # one of the issue's own examples (some of them are declared examples too)
        return self.section == "issue"


@dataclass
class Result:
    case: Case
    intent: str  # what the bot took it for ("" for nothing)
    outcome: str  # exact, act, confirm, ask, suggest, note, help
    confidence: float
    offered: list[str] = field(default_factory=list)  # intents offered by "did you mean"
    wrong_entities: list[str] = field(default_factory=list)
    model_intent: str = ""  # what the model alone says, exact words or not

    @property
    def intent_right(self) -> bool:
        if self.case.outcome == "suggest":
            return self.case.intent in self.offered
        return self.intent == self.case.intent

    @property
    def right(self) -> bool:
        return self.intent_right and not self.wrong_entities and self.outcome in ACCEPTED[self.case.outcome]


def load(path: Path = EVAL_FILE) -> list[Case]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    cases = []
    for section in SECTIONS:
        for intent, lines in (data.get(section) or {}).items():
            for line in lines or []:
                text, _, rest = (part.strip() for part in line.partition("|"))
                wanted, _, outcome = (part.strip() for part in rest.partition("|"))
                entities = dict(
                    (k.strip(), v.strip()) for k, _, v in (p.partition("=") for p in wanted.split(";") if p.strip())
                )
                command = COMMANDS.get(intent)
                default = "confirm" if command is not None and command.side_effects else "act"
                cases.append(Case(text, intent, entities, outcome.lstrip("!") or default, section))
    return cases


def _matches(found: Found, kind: str, expected: str) -> bool:
    if kind in ("state", "mode", "status", "platform"):
        return found.flags.get(kind) == expected
    wanted = " ".join(tokens(expected))
    for entity in found.entities:
        for reading in entity.readings():
            if reading.kind != kind and not (kind == "period" and reading.kind == "moment"):
                continue
            names = {reading.value.lower(), reading.label.lower(), reading.words, *(o.value for o in reading.options)}
            names |= {" ".join(tokens(n)) for n in list(names)}
            if wanted in names or any(wanted in n for n in names if n) or (reading.note and wanted in reading.words):
                return True
    return False


def run(cases: Iterable[Case], session: Session, now: datetime, audiences=EVERYONE) -> list[Result]:
    trained = model.model()
    names = catalogue.from_database(session, now, trained.common, trained.said)
    today = now.date()
    results = []
    for case in cases:
        understood = understand(case.text)
        reading = decide.read(understood.words, trained, names, audiences, today, now)
        wrong = [f"{k}={v}" for k, v in case.entities.items() if not _matches(reading.found, k, v)]
        model_intent = reading.best[0]
        outcome, _ = plan(understood, trained, names, audiences, today, now)
        if outcome is None:
            intent = understood.command.intent if understood.command else ""
            results.append(Result(case, intent, "exact", 1.0, [], wrong, model_intent))
            continue
        offered: list[str] = []
        if outcome.kind == "suggest":
            offered = [c.intent for c, _ in decide.suggestions(reading)]
        results.append(Result(case, outcome.intent, outcome.kind, outcome.confidence, offered, wrong, model_intent))
    return results


@dataclass
class Summary:
    results: list[Result]

    @property
    def accuracy(self) -> float:
        return sum(r.right for r in self.results) / len(self.results)

    def by_intent(self) -> dict[str, tuple[int, int]]:
        table: dict[str, list[int]] = {}
        for r in self.results:
            row = table.setdefault(r.case.intent, [0, 0])
            row[0] += r.right
            row[1] += 1
        return {k: (v[0], v[1]) for k, v in sorted(table.items())}

    def worst(self) -> tuple[str, float]:
        return min(((k, right / total) for k, (right, total) in self.by_intent().items()), key=lambda p: p[1])

    def confused(self, limit: int = 10) -> list[tuple[tuple[str, str], int]]:
        pairs = Counter((r.case.intent, r.intent or "-") for r in self.results if not r.intent_right)
        return pairs.most_common(limit)

    def model_accuracy(self, without_exact: bool = True) -> tuple[int, int]:
        """How often the model alone names the intent (on the messages no exact words match)."""
        chosen = [r for r in self.results if not without_exact or r.outcome != "exact"]
        return sum(r.model_intent == r.case.intent for r in chosen), len(chosen)

    def bands(self, act: float, suggest: float) -> dict[str, tuple[int, int]]:
        """Of the messages no exact words match: how often the model is right in each band."""
        table = {"act": [0, 0], "suggest": [0, 0], "help": [0, 0]}
        for r in self.results:
            if r.outcome == "exact":
                continue
            band = "act" if r.confidence >= act else "suggest" if r.confidence >= suggest else "help"
            table[band][0] += r.model_intent == r.case.intent
            table[band][1] += 1
        return {k: (v[0], v[1]) for k, v in table.items()}

    def failures(self) -> list[Result]:
        return [r for r in self.results if not r.right]


def overlaps(cases: Iterable[Case]) -> list[str]:
    """Evaluation messages that are also training messages (but for the issue's own examples)."""
    data = model.corpus()

    def same(text: str) -> str:  # the same words, whatever the case and punctuation
        return " ".join(tokens(text))

    seen = {same(u) for us in data["intents"].values() for u in us}
    seen |= {same(e) for c in COMMANDS for e in c.examples}
    return [c.text for c in cases if not c.issue and same(c.text) in seen]


def describe(result: Result) -> str:
    extra: Optional[str] = ", ".join(result.wrong_entities) or None
    return (
        f"{result.case.text!r}: expected {result.case.intent} ({result.case.outcome}), got "
        f"{result.intent or '-'} ({result.outcome}, {result.confidence:.2f})"
        + (f", offered {result.offered}" if result.offered else "")
        + (f", things not found: {extra}" if extra else "")
    )
