"""Abstention: how often the app refuses answerable questions, and how often it answers
questions its documents cannot answer, for the evidence confidence with and without the best
page's keyword match (``evidence.confidence``, ``KeywordIndex.page_match``).

On every question of the XQuAD dev sets es and en (632 each), asked as the app does in evidence
mode (hybrid, k=4, no bar), and three kinds of questions the documents cannot answer:

- calibration: off-topic questions written for this (``bench/data/unanswerable.jsonl``), where
  the bar is read: just above the highest of them, es and en pooled (the app has one bar within
  a language);
- check: off-topic questions written afterwards on other topics (not used for the bar);
- left out: every dev question asked with its own article left out of the search (``documents``
  names the others): questions near the collection's topics whose answer is not there. A few
  may be answered by another article, so this is an upper bound on wrong answers.

``--mix-scifact N`` adds the first N SciFact abstracts (English, biomedical) to each set's
collection: a larger collection on other topics, where keyword weights (BM25's IDF) have
another scale, to see whether the bar holds where it was not set. Reported at the shipped bar
too (``calibration.py``).

What else could tell the two apart: a logistic model over candidate numbers of each question
(the evidence's score and meaning match, the page match, the best chunk BM25 and dense scores
among the passages), trained on the answerable and left-out questions of half the articles and
tested on the other half, both ways, its bar read off the calibration questions as above.

On the cross-language sets (``--sets es-q.en-ctx,en-q.es-ctx``: the off-topic questions in
the questions' language) the app's confidence is the meaning match alone; the study adds the
page match there, on the whole question and on its names and numbers only (the words that
read the same in both languages), mixed in as within a language and in logistic models.

    .venv/bin/python -m bench.studies.abstention_study [--sets es,en] [--mix-scifact 1000]
"""

from __future__ import annotations

import argparse
import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy.optimize import minimize

from bench.lib import SHARED_DATA, write_results
from bench.studies.evidence_lib import corpus_service, unanswerable
from rag_app.answering.evidence import KEYWORD_FULL, KEYWORD_SHARE, confidence, name_words
from rag_app.evaluation.corpora import Corpus, load_beir, load_squad
from rag_app.models import loading as models
from rag_app.settings import load_settings

KINDS = ("answerable", "calibration", "check", "left out")
FEATURE_SETS = {
    "score, meaning (the confidence before)": ("score", "meaning"),
    "+ page match (the confidence now)": ("score", "meaning", "page_match"),
    "+ chunk BM25, dense": ("score", "meaning", "page_match", "bm25", "dense"),
    "score, meaning, dense": ("score", "meaning", "dense"),
}
# Across languages the app's confidence is the meaning match alone (keywords cannot match
# between languages, except names and numbers): what the page match adds there.
FEATURE_SETS_ACROSS = {
    "meaning (the confidence now)": ("meaning",),
    "meaning, page match": ("meaning", "page_match"),
    "meaning, names/numbers page match": ("meaning", "neutral_match"),
    "meaning, both page matches, dense": ("meaning", "page_match", "neutral_match", "dense"),
}


@dataclass
class Asked:
    set: str
    kind: str
    article: str  # the question's own article ("" for an off-topic question)
    before: float  # the confidence without the keyword match
    after: float  # the confidence as the app computes it
    features: dict[str, float]


def ask_all(name: str, corpus: Corpus, k: int) -> list[Asked]:
    """Every question of a set, its off-topic questions and its left-out questions, asked."""
    service = corpus_service(corpus)
    documents = [name for name, _ in corpus.documents]
    asked = [(q.text, "answerable", next(iter(q.relevant))[0]) for q in corpus.queries]
    language = name[:2]  # the questions' language ("es-q.en-ctx": Spanish questions)
    asked += [(q.text, "calibration", "") for q in unanswerable(language)]
    asked += [(q.text, "check", "") for q in unanswerable(language, "check")]
    asked += [(text, "left out", article) for text, kind, article in asked if article]
    found = []
    for i, (text, kind, article) in enumerate(asked, start=1):
        others = [d for d in documents if d != article] if kind == "left out" else []
        answer = service.ask(text, k, strategy="hybrid", mode="evidence", documents=others)
        checked = service.check_askable(text, "hybrid", others)  # the documents' ids
        quoted, trace = answer.evidence, answer.trace
        scores = {
            name: max(
                (c.retrievers[name].score for c in trace.candidates if name in c.retrievers),
                default=0.0,
            )
            for name in ("dense", "bm25")
        }
        features = {
            "score": quoted[0].score if quoted else 0.0,
            "meaning": max((e.meaning for e in quoted), default=0.0),
            "page_match": service.store.page_match(text, checked.pending, checked.only),
            "neutral_match": service.store.page_match(
                " ".join(name_words(text)), checked.pending, checked.only
            ),
            "bm25": float(np.log1p(scores["bm25"])),
            "dense": scores["dense"],
        }
        found.append(
            Asked(
                name,
                kind,
                article,
                confidence(quoted, with_meaning=service.tuned().bar_reads_meaning),
                float(trace.evidence_confidence or 0.0),
                features,
            )
        )
        if i % 200 == 0:
            print(f"  {name}: {i}/{len(asked)}", flush=True)
    return found


def at_bar(asked: list[Asked], values: list[float], bar: float | None = None) -> dict[str, Any]:
    """At ``bar`` (default: just above every calibration question, sets pooled), per set, the
    share of answerable questions refused and how many of the others are answered."""
    off_topic = [v for a, v in zip(asked, values, strict=True) if a.kind == "calibration"]
    bar = bar or round(max(off_topic) + 0.005, 3)
    result: dict[str, Any] = {"bar": bar}
    for name in dict.fromkeys(a.set for a in asked):
        by_kind = {
            kind: [
                v for a, v in zip(asked, values, strict=True) if a.set == name and a.kind == kind
            ]
            for kind in KINDS
        }
        result[name] = {
            "false_abstentions": round(statistics.fmean(v < bar for v in by_kind["answerable"]), 3),
            "calibration_answered": sum(v >= bar for v in by_kind["calibration"]),
            "check_answered": f"{sum(v >= bar for v in by_kind['check'])} / {len(by_kind['check'])}",
            "left_out_answered": round(statistics.fmean(v >= bar for v in by_kind["left out"]), 3),
        }
    return result


def logistic(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Weights (the last one the intercept) of an L2-regularised logistic regression."""
    z = np.c_[x, np.ones(len(x))]

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        p = 1 / (1 + np.exp(-(z @ w)))
        penalty = 0.01 * w[:-1] @ w[:-1]
        value = -np.mean(y * np.log(p + 1e-12) + (1 - y) * np.log(1 - p + 1e-12)) + penalty
        grad = z.T @ (p - y) / len(y)
        grad[:-1] += 0.02 * w[:-1]
        return float(value), grad

    return np.asarray(minimize(loss, np.zeros(z.shape[1]), jac=True).x)


def fitted(asked: list[Asked], names: tuple[str, ...]) -> list[float]:
    """Each question's score by a model trained on the other half of the articles (off-topic
    questions: by the model of the first half)."""
    articles = sorted({a.article for a in asked if a.article})
    half = {article: i % 2 for i, article in enumerate(articles)}
    x = np.array([[a.features[n] for n in names] for a in asked])
    mean, spread = x.mean(0), x.std(0) + 1e-9
    x = (x - mean) / spread
    fold = np.array([half.get(a.article, 0) for a in asked])
    trained = np.array([a.kind in ("answerable", "left out") and bool(a.article) for a in asked])
    label = np.array([a.kind == "answerable" for a in asked], dtype=float)
    values = np.zeros(len(asked))
    for f in (0, 1):
        train = trained & (fold != f)
        w = logistic(x[train], label[train])
        values[fold == f] = np.c_[x[fold == f], np.ones(int((fold == f).sum()))] @ w
    return values.tolist()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sets", default="es,en")
    parser.add_argument("--k", type=int, default=4)
    parser.add_argument("--data", type=Path, default=SHARED_DATA / "xquad")
    parser.add_argument("--mix-scifact", type=int, default=0, metavar="N")
    args = parser.parse_args()
    extra = []
    if args.mix_scifact:
        extra = load_beir(SHARED_DATA / "scifact", "train").documents[: args.mix_scifact]
    asked: list[Asked] = []
    for name in args.sets.split(","):
        corpus = load_squad(args.data / f"xquad.{name}.dev.json")
        corpus.documents += extra
        corpus.name += f"+scifact{len(extra)}" if extra else ""
        asked += ask_all(name, corpus, args.k)
    shipped = models.measured(load_settings().embedding).evidence_bar
    results = {
        "without keyword match": at_bar(asked, [a.before for a in asked]),
        "with keyword match (the app)": at_bar(asked, [a.after for a in asked]),
        f"with keyword match, at the shipped bar {shipped}": at_bar(
            asked, [a.after for a in asked], shipped
        ),
        "logistic models, two-fold by article": {
            label: at_bar(asked, fitted(asked, names)) for label, names in FEATURE_SETS.items()
        },
    }
    across = [a for a in asked if "-q." in a.set]
    if across:

        def mixed(match: str) -> list[float]:
            """The meaning match with a page match mixed in as within a language."""
            return [
                (1 - KEYWORD_SHARE) * a.features["meaning"]
                + KEYWORD_SHARE * min(1.0, a.features[match] / KEYWORD_FULL)
                for a in across
            ]

        results["across languages"] = {
            "meaning (the app)": at_bar(across, [a.features["meaning"] for a in across]),
            "meaning + page match, as within a language": at_bar(across, mixed("page_match")),
            "meaning + names/numbers page match": at_bar(across, mixed("neutral_match")),
            "logistic models, two-fold by article": {
                label: at_bar(across, fitted(across, names))
                for label, names in FEATURE_SETS_ACROSS.items()
            },
        }
    for label, row in results.items():
        print(f"{label}: {row}")
    write_results(
        "abstention_study",
        {
            "args": {**vars(args), "data": str(args.data)},
            "results": results,
            "asked": [vars(a) for a in asked],
        },
    )


if __name__ == "__main__":
    main()
