"""Fitting the intent model with scikit-learn, in a process of its own.

scikit-learn (with scipy) adds some 100 MB to a process that imports it, for good: so `serve`,
the worker and the console never import it. bot/nlu/model.py runs this module as a child
process to fit the model (the masked utterances and their intents as JSON on stdin), and the
child writes what the fitted model is made of, as plain arrays, to an .npz file:

- for each of the two TF-IDF vectorizers (character n-grams within words, words and word
  pairs): its vocabulary and idf weights;
- the linear SVM's coefficients, intercepts and classes.

bot/nlu/model.py `Weights` computes the same decision function from these with numpy alone (a
test checks it against scikit-learn's own, message by message).

    python -m bot.nlu.fit OUT.npz < rows.json     # rows.json: {"texts": [...], "labels": [...]}
"""

from __future__ import annotations

import json
import sys
from typing import Any

# The model's settings. C: the SVM's margin (bench/nlu_eval.py --cross-validate shows its effect).
C = 0.5
CHAR_NGRAMS = (2, 4)
WORD_NGRAMS = (1, 2)
TOKEN_PATTERN = r"[\w']+"


def pipeline() -> Any:
    """The scikit-learn pipeline, unfitted (bench/nlu_eval.py cross-validates it too)."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import FeatureUnion, Pipeline
    from sklearn.svm import LinearSVC

    features = FeatureUnion(
        [
            ("chars", TfidfVectorizer(analyzer="char_wb", ngram_range=CHAR_NGRAMS, sublinear_tf=True)),
            ("words", TfidfVectorizer(ngram_range=WORD_NGRAMS, token_pattern=TOKEN_PATTERN, sublinear_tf=True)),
        ]
    )
    return Pipeline([("features", features), ("classify", LinearSVC(C=C, random_state=0))])


def arrays(fitted: Any) -> dict[str, Any]:
    """What the fitted pipeline is made of, as numpy arrays."""
    import numpy

    out: dict[str, Any] = {}
    for name, vectorizer in fitted.named_steps["features"].transformer_list:
        vocabulary = sorted(vectorizer.vocabulary_.items(), key=lambda item: item[1])
        out[f"{name}_terms"] = numpy.array([term for term, _ in vocabulary], dtype=str)
        out[f"{name}_idf"] = vectorizer.idf_.astype(numpy.float64)
    classify = fitted.named_steps["classify"]
    out["coef"] = classify.coef_.astype(numpy.float64)
    out["intercept"] = classify.intercept_.astype(numpy.float64)
    out["classes"] = numpy.array([str(c) for c in classify.classes_], dtype=str)
    return out


def main(argv: list[str]) -> int:
    import numpy

    rows = json.load(sys.stdin)
    fitted = pipeline().fit(rows["texts"], rows["labels"])
    numpy.savez(argv[1], **arrays(fitted))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
