"""The language layer on its held-out evaluation set (tests/data/nlu_eval.yaml): accuracy per
intent (the intent, the things found, and what the bot does: act, confirm, ask, suggest), the
most confused pairs, the model alone on the messages no exact words match, and how right the
model is in each confidence band (how bot/nlu/decide.py's thresholds were chosen).

    python bench/nlu_eval.py [--failures] [--cross-validate] [--act 0.3 --suggest 0.1]

On the demo data in a fresh SQLite file, loaded and read as of 25 November 2026 (the tests' day),
by someone who may use every command.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy.orm import Session

import bot.commands  # noqa: F401  (declares every command)
from bot.nlu import decide, evaluation, fit, model
from storage import db
from storage.demo import load_demo

DAY = datetime(2026, 11, 25, 12, 0, tzinfo=timezone.utc)


def cross_validated(trained: model.Model) -> list[tuple[float, float, float]]:
    """(threshold, precision, coverage) of acting on the model's intent, out of fold."""
    import numpy
    from sklearn.base import clone
    from sklearn.model_selection import StratifiedKFold

    texts, labels = numpy.array(trained.texts), numpy.array(trained.targets)
    confidence, right = numpy.zeros(len(labels)), numpy.zeros(len(labels), bool)
    for train, test in StratifiedKFold(5, shuffle=True, random_state=0).split(texts, labels):
        fold = clone(fit.pipeline()).fit(texts[train], labels[train])
        scores = fold.decision_function(texts[test]) * model.SHARPNESS
        weights = numpy.exp(scores - scores.max(axis=1, keepdims=True))
        shares = weights / weights.sum(axis=1, keepdims=True)
        confidence[test] = shares.max(axis=1)
        right[test] = fold.classes_[shares.argmax(axis=1)] == labels[test]
    rows = []
    for threshold in (0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5):
        acted = confidence >= threshold
        rows.append((threshold, float(right[acted].mean()), float(acted.mean())))
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--failures", action="store_true", help="list every message not right")
    parser.add_argument("--cross-validate", action="store_true", help="also the thresholds on the training data")
    parser.add_argument("--act", type=float, default=decide.ACT)
    parser.add_argument("--suggest", type=float, default=decide.SUGGEST)
    args = parser.parse_args()
    decide.ACT, decide.SUGGEST = args.act, args.suggest

    cases = evaluation.load()
    overlapping = evaluation.overlaps(cases)
    started = time.perf_counter()
    trained = model.model()
    trained_in = time.perf_counter() - started
    with tempfile.TemporaryDirectory() as folder:
        engine = db.make_engine(f"sqlite:///{folder}/eval.db")
        db.upgrade(engine)
        with engine.begin() as connection, Session(bind=connection) as session:
            load_demo(session, DAY.date(), "Europe/London")
            session.flush()
            started = time.perf_counter()
            results = evaluation.run(cases, session, DAY)
            elapsed = time.perf_counter() - started
        engine.dispose()

    summary = evaluation.Summary(results)
    issue = [r for r in results if r.case.issue]
    print(f"{len(cases)} messages ({len(issue)} of them the issue's own examples), {len(summary.by_intent())} intents")
    print(f"trained on {trained.training_size} utterances in {trained_in:.2f} s; evaluated in {elapsed:.2f} s")
    if overlapping:
        print(f"WARNING: {len(overlapping)} evaluation messages are training messages: {overlapping}")
    print()
    print(f"{'intent':24} right / all")
    for intent, (right, total) in summary.by_intent().items():
        mark = "" if right / total >= 0.85 else "   <- below 85 %"
        print(f"{intent:24} {right:>5} / {total:<3} {100 * right / total:5.1f} %{mark}")
    print()
    worst, worst_rate = summary.worst()
    print(f"overall: {100 * summary.accuracy:.1f} % right ({sum(r.right for r in results)} of {len(results)})")
    print(f"lowest intent: {worst} at {100 * worst_rate:.1f} %")
    print(f"issue's examples: {sum(r.right for r in issue)} of {len(issue)} right")
    for section in evaluation.SECTIONS[1:]:
        part = [r for r in results if r.case.section == section]
        if part:
            right = sum(r.right for r in part)
            print(f"section {section}: {right} of {len(part)} right ({100 * right / len(part):.1f} %)")
    exact = sum(r.outcome == "exact" for r in results)
    right, total = summary.model_accuracy()
    print(
        f"exact words matched {exact} of {len(results)}; on the other {total}, the model's intent is right on {right}"
    )
    right_all, total_all = summary.model_accuracy(without_exact=False)
    print(f"the model alone, on all {total_all}: {right_all} right ({100 * right_all / total_all:.1f} %)")
    print()
    print(f"bands of confidence (act >= {decide.ACT}, suggest >= {decide.SUGGEST}), the model's intent right:")
    for band, (right, total) in summary.bands(decide.ACT, decide.SUGGEST).items():
        print(f"  {band:8} {right:>4} / {total:<4}" + (f" {100 * right / total:5.1f} %" if total else ""))
    print()
    print("choosing ACT: of the messages no exact words match, the model's intent right when acting at")
    non = [r for r in results if r.outcome != "exact"]
    for threshold in (0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5):
        acted = [r for r in non if r.confidence >= threshold]
        right = sum(r.model_intent == r.case.intent for r in acted)
        print(
            f'  >= {threshold:.2f}: {right:>4} / {len(acted):<4} ({len(non) - len(acted)} asked "did you mean" instead)'
        )
    if args.cross_validate:
        print()
        print("the same on the training utterances, 5-fold cross-validated (a harder set: typos, odd phrasing):")
        for threshold, precision, coverage in cross_validated(trained):
            print(f"  >= {threshold:.2f}: right {100 * precision:5.1f} % of {100 * coverage:5.1f} % acted on")
    print()
    print("most confused (expected -> got):")
    for (expected, got), count in summary.confused():
        print(f"  {count:>3}  {expected} -> {got}")
    if args.failures:
        print()
        for result in summary.failures():
            print("  " + evaluation.describe(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
