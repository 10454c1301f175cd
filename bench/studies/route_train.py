"""Fit the router's second opinion by meaning (``rag_app.answering.routes.MeaningModel``) and
score the whole router on questions it was not fitted on.

Fitted on ``bench/data/routes.jsonl`` (the labelled set the rules were revised on) and
``bench/data/route_examples.jsonl`` (a few plain examples per route): a logistic regression
(L2, scikit-learn, which sentence-transformers installs) over the bundled embedder's query
vectors, each coordinate standardised. Its threshold (how sure it must be to route a
question away from a look-up) is chosen by 5-fold cross-validation on those questions: the
lowest that keeps every look-up of the held-out folds a look-up, or else the one that misroutes
fewest. Then, once, on data it never saw: ``bench/data/routes_heldout.jsonl`` (written apart
from the rules and from this model) and every XQuAD and course-notes question (all look-ups).

    .venv/bin/python -m bench.studies.route_train            # fit, write, score
    .venv/bin/python -m bench.studies.route_train --no-write # score a fit without writing it
"""

from __future__ import annotations

import argparse
import json
import random
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from bench.lib import DATA, SHARED_DATA
from bench.studies.route_study import LABELLED_DOCUMENTS, course_questions, squad_questions
from rag_app.answering.routes import (
    LOOKUP,
    MODEL_FILE,
    ROUTES,
    Embed,
    MeaningModel,
    route_question,
)
from rag_app.models.e5 import NAME as E5_NAME
from rag_app.models.e5 import E5Embeddings

TRAIN = (DATA / "routes.jsonl", DATA / "route_examples.jsonl")
HELDOUT = DATA / "routes_heldout.jsonl"
THRESHOLDS = (0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95)
C = 0.1  # inverse L2 strength: a few hundred questions, 384 coordinates


def read(path: Path) -> list[dict[str, str]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def fit(vectors: np.ndarray, labels: Sequence[str]) -> MeaningModel:
    """Logistic regression (L2, ``C``) over standardised vectors; threshold 1.0 (set after)."""
    from sklearn.linear_model import LogisticRegression

    mean, scale = vectors.mean(axis=0), vectors.std(axis=0) + 1e-6
    found = LogisticRegression(C=C, max_iter=5000).fit((vectors - mean) / scale, list(labels))
    order = [list(found.classes_).index(route) for route in ROUTES]
    return MeaningModel(
        E5_NAME,
        tuple(ROUTES),
        tuple(tuple(float(w) for w in found.coef_[i]) for i in order),
        tuple(float(found.intercept_[i]) for i in order),
        1.0,
        tuple(float(m) for m in mean),
        tuple(float(x) for x in scale),
    )


def known(vector: np.ndarray) -> Embed:
    """The question's vector, embedded beforehand (in one batch)."""
    found = [float(x) for x in vector]
    return lambda _question: found


def routed(
    rows: Sequence[dict[str, str]], vectors: np.ndarray, model: MeaningModel | None
) -> list[str]:
    return [
        route_question(row["question"], LABELLED_DOCUMENTS, known(vector), model).kind
        for row, vector in zip(rows, vectors, strict=True)
    ]


def choose_threshold(
    rows: list[dict[str, str]], vectors: np.ndarray
) -> tuple[float, dict[str, Any]]:
    """The threshold by 5-fold cross-validation (see the module's doc)."""
    order = list(range(len(rows)))
    random.Random(7).shuffle(order)
    folds = [order[i::5] for i in range(5)]
    found: dict[float, list[tuple[str, str]]] = {t: [] for t in THRESHOLDS}
    for fold in folds:
        held = set(fold)
        train = [i for i in order if i not in held]
        fitted = fit(vectors[train], [rows[i]["route"] for i in train])
        test_rows = [rows[i] for i in fold]
        for threshold in THRESHOLDS:
            kinds = routed(test_rows, vectors[fold], replace(fitted, threshold=threshold))
            found[threshold] += [(r["route"], k) for r, k in zip(test_rows, kinds, strict=True)]
    table = {}
    for threshold, pairs in found.items():
        lookups = [k for label, k in pairs if label == LOOKUP]
        table[threshold] = {
            "accuracy": round(sum(a == b for a, b in pairs) / len(pairs), 3),
            "lookups_kept": round(sum(k == LOOKUP for k in lookups) / len(lookups), 3),
        }
    keeping = [t for t in THRESHOLDS if table[t]["lookups_kept"] >= 0.98]
    chosen = (
        max(keeping, key=lambda t: (table[t]["accuracy"], -t))
        if keeping
        else max(THRESHOLDS, key=lambda t: table[t]["lookups_kept"])
    )
    return chosen, {str(t): v for t, v in table.items()}


def accuracy(rows: Sequence[dict[str, str]], kinds: Sequence[str]) -> dict[str, Any]:
    per_route = {
        route: round(
            sum(k == route for r, k in zip(rows, kinds, strict=True) if r["route"] == route)
            / max(1, sum(r["route"] == route for r in rows)),
            3,
        )
        for route in ROUTES
    }
    misses = [
        f"{r['route']} → {k}: {r['question']}"
        for r, k in zip(rows, kinds, strict=True)
        if r["route"] != k
    ]
    return {
        "n": len(rows),
        "accuracy": round(
            sum(r["route"] == k for r, k in zip(rows, kinds, strict=True)) / len(rows), 3
        ),
        "per_route": per_route,
        "misses": misses,
    }


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--no-write", action="store_true", help="do not write route_model.json")
    parser.add_argument("--out", type=Path, help="write the scores as JSON here")
    args = parser.parse_args(argv)
    embed = E5Embeddings()

    def vectors_of(questions: Sequence[str]) -> np.ndarray:
        return np.array(embed.embed_queries(list(questions)))

    train = [row for path in TRAIN for row in read(path)]
    train_vectors = vectors_of([r["question"] for r in train])
    threshold, cv = choose_threshold(train, train_vectors)
    model = replace(fit(train_vectors, [r["route"] for r in train]), threshold=threshold)
    if not args.no_write:
        MODEL_FILE.write_text(
            json.dumps(
                {
                    "embedder": model.embedder,
                    "classes": list(model.classes),
                    "weights": [[round(w, 6) for w in row] for row in model.weights],
                    "bias": [round(b, 6) for b in model.bias],
                    "threshold": threshold,
                    "mean": [round(m, 6) for m in model.mean],
                    "scale": [round(x, 6) for x in model.scale],
                    "fitted_on": [f"bench/data/{p.name}" for p in TRAIN],
                }
            )
            + "\n",
            encoding="utf-8",
        )
    heldout = read(HELDOUT)
    held_vectors = vectors_of([r["question"] for r in heldout])
    result: dict[str, Any] = {"threshold": threshold, "cross_validation": cv}
    result["heldout_rules"] = accuracy(heldout, routed(heldout, held_vectors, None))
    result["heldout"] = accuracy(heldout, routed(heldout, held_vectors, model))
    lookups: dict[str, Any] = {}
    for name in ("es", "en"):
        questions = list(squad_questions(SHARED_DATA / "xquad" / f"xquad.{name}.dev.json"))
        vectors = vectors_of(questions)
        kinds = [
            route_question(q, (), known(v), model).kind
            for q, v in zip(questions, vectors, strict=True)
        ]
        lookups[f"xquad.{name}"] = {
            "n": len(kinds),
            "lookup": round(kinds.count(LOOKUP) / len(kinds), 4),
            "misses": [f"{k}: {q}" for q, k in zip(questions, kinds, strict=True) if k != LOOKUP],
        }
    course = list(course_questions(SHARED_DATA / "course-notes" / "qa.jsonl"))
    course_vectors = vectors_of([q for q, _ in course])
    kinds = [
        route_question(q, ("so.pdf", "fbd.pdf", "pdoo.pdf"), known(v), model).kind
        for (q, _), v in zip(course, course_vectors, strict=True)
    ]
    lookups["course-notes"] = {
        "n": len(kinds),
        "lookup": round(kinds.count(LOOKUP) / len(kinds), 4),
        "misses": [f"{k}: {q}" for (q, _), k in zip(course, kinds, strict=True) if k != LOOKUP],
    }
    result["lookups"] = lookups
    text = json.dumps(result, indent=1, ensure_ascii=False)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
