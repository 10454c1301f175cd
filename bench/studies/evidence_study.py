"""How far evidence selection is from its ceiling, and what tells an off-topic question.

On every question of the XQuAD dev sets (632 each), answered as the app does in evidence mode
(hybrid, k=4, the relevance filter, no abstention bar), with the scorer the app ships, over the
passages the app shows:

- ceiling: some candidate sentence holds the answer span;
- top-1/2/3: the span is in the scorer's first 1, 2 or 3 sentences;
- keep-within: hit, sentences per answer and the share of one-sentence answers when further
  sentences are kept while they score at least this share of the best (``KEEP_WITHIN``);
- refit: the same signals (``evidence.SIGNALS``) weighted by a conditional logit, trained on half
  the articles of all sets and tested on the other half, both ways: how well these signals can
  rank at all, whatever their weights;
- abstention: for three candidate numbers (the best evidence score, the meaning match, their
  mean, which is ``evidence.confidence``), the share of answerable questions refused at the
  bar just above every off-topic calibration question (``bench/data/unanswerable.jsonl``), the
  languages of a pair pooled, as the app has one bar within and one across languages.

    .venv/bin/python -m bench.studies.evidence_study [--sets es,en,es-q.en-ctx,en-q.es-ctx]
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
from bench.studies.evidence_lib import SETS, squad_service, unanswerable
from rag_app.answering.evidence import KEEP_WITHIN, MOST, SIGNALS, Scored, score_sentences
from rag_app.evaluation.corpora import Query, load_squad
from rag_app.text.language import contains_span

KEEPS = (0.5, 0.6, 0.7, 0.8, 0.9, 1.0)


@dataclass
class Case:
    set: str
    article: str  # "" for an off-topic question
    scored: list[Scored]
    labels: list[bool]  # each candidate holds the answer span


def cases(name: str, path: Path, k: int) -> list[Case]:
    service = squad_service(path)
    floor = service.tuned().cosine_floor
    asked: list[tuple[Query, str]] = [
        (q, next(iter(q.relevant))[0]) for q in load_squad(path).queries
    ]
    asked += [(q, "") for q in unanswerable(name[:2])]
    found = []
    for i, (query, article) in enumerate(asked, start=1):
        answer = service.ask(query.text, k, strategy="hybrid", mode="evidence")
        scored = score_sentences(query.text, answer.sources, service.sentence_embeddings, floor)
        labels = [
            bool(query.answer) and contains_span(s.candidate.text, query.answer) for s in scored
        ]
        found.append(Case(name, article, scored, labels))
        if i % 100 == 0:
            print(f"  {name}: {i}/{len(asked)}", flush=True)
    return found


def kept(scores: list[float], keep: float) -> int:
    return max(1, min(MOST, sum(s >= scores[0] * keep for s in scores)))


def ranking(answerable: list[Case]) -> dict[str, Any]:
    n = len(answerable)
    result: dict[str, Any] = {
        "questions": n,
        "ceiling": round(sum(any(c.labels) for c in answerable) / n, 3),
    }
    for top in (1, 2, 3):
        result[f"top{top}"] = round(sum(any(c.labels[:top]) for c in answerable) / n, 3)
    curve = {}
    for keep in KEEPS:
        counts = [kept([s.score for s in c.scored], keep) for c in answerable]
        hits = [any(c.labels[:m]) for c, m in zip(answerable, counts, strict=True)]
        curve[str(keep)] = {
            "hit": round(sum(hits) / n, 3),
            "sentences": round(statistics.fmean(counts), 2),
            "one_sentence_share": round(sum(m == 1 for m in counts) / n, 3),
        }
    result["keep_within"] = curve
    return result


def features(case: Case) -> np.ndarray:
    return np.array([[s.signals[name] for name in SIGNALS] for s in case.scored])


def fit_logit(train: list[Case]) -> np.ndarray:
    """Weights maximising the probability of the answering sentences, softmax per question."""
    groups = [(features(c), np.array(c.labels, dtype=float)) for c in train if any(c.labels)]

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        total, grad = 0.0, np.zeros_like(w)
        for x, y in groups:
            s = x @ w
            p = np.exp(s - s.max())
            p /= p.sum()
            hit = (p * y).sum()
            total -= np.log(hit + 1e-12)
            grad -= (p * y / (hit + 1e-12)) @ x - p @ x
        return total / len(groups) + 0.01 * w @ w, grad / len(groups) + 0.02 * w

    return minimize(loss, np.zeros(len(SIGNALS)), jac=True, method="L-BFGS-B").x


def refit(answerable: list[Case]) -> dict[str, Any]:
    """Two-fold by article: rank each half with weights fitted on the other half."""
    articles = sorted({c.article for c in answerable})
    half = {a: i % 2 for i, a in enumerate(articles)}
    weights = {f: fit_logit([c for c in answerable if half[c.article] != f]) for f in (0, 1)}
    by_set: dict[str, dict[str, float]] = {}
    for name in dict.fromkeys(c.set for c in answerable):
        mine = [c for c in answerable if c.set == name]
        tops = {1: 0, 2: 0, 3: 0}
        for c in mine:
            order = np.argsort(-(features(c) @ weights[half[c.article]]))
            for top in tops:
                tops[top] += any(c.labels[i] for i in order[:top])
        by_set[name] = {f"top{t}": round(v / len(mine), 3) for t, v in tops.items()}
    return {"weights": dict(zip(SIGNALS, np.round(weights[0], 2).tolist(), strict=True)), **by_set}


def numbers(case: Case) -> dict[str, float]:
    """The candidate abstention numbers of a question, from its evidence as the app picks it."""
    scores = [s.score for s in case.scored]
    if not scores:
        return {"score": 0.0, "meaning": 0.0, "mean": 0.0}
    quoted = case.scored[: kept(scores, KEEP_WITHIN)]
    meaning = max(s.meaning for s in quoted)
    return {"score": scores[0], "meaning": meaning, "mean": (scores[0] + meaning) / 2}


def abstention(pair: list[Case]) -> dict[str, Any]:
    result = {}
    for number in ("score", "meaning", "mean"):
        off = [numbers(c)[number] for c in pair if not c.article]
        bar = max(off) + 1e-6
        result[number] = {"bar_for_zero_answered": round(bar, 3)} | {
            name: round(
                statistics.fmean(
                    numbers(c)[number] < bar for c in pair if c.set == name and c.article
                ),
                3,
            )
            for name in dict.fromkeys(c.set for c in pair)
        }
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sets", default=",".join(SETS))
    parser.add_argument("--k", type=int, default=4)
    parser.add_argument("--data", type=Path, default=SHARED_DATA / "xquad")
    args = parser.parse_args()
    everything: list[Case] = []
    for name in args.sets.split(","):
        everything += cases(name, args.data / f"xquad.{name}.dev.json", args.k)
    answerable = [c for c in everything if c.article]
    results: dict[str, Any] = {
        name: ranking([c for c in answerable if c.set == name]) for name in args.sets.split(",")
    }
    for name, r in results.items():
        curve = "  ".join(
            f"{keep}: {v['hit']:.3f}/{v['sentences']:.2f}/{v['one_sentence_share']:.2f}"
            for keep, v in r["keep_within"].items()
        )
        print(
            f"{name:12} ceiling {r['ceiling']:.3f} top1 {r['top1']:.3f} top2 {r['top2']:.3f} "
            f"top3 {r['top3']:.3f} | keep-within hit/sentences/one: {curve}"
        )
    results["refit"] = refit(answerable)
    print("refit (conditional logit, two-fold by article):", results["refit"])
    within = [c for c in everything if c.set in ("es", "en")]
    across = [c for c in everything if c.set not in ("es", "en")]
    results["abstention"] = {
        "within": abstention(within) if within else {},
        "across": abstention(across) if across else {},
    }
    print("abstention (false abstentions at the bar for zero off-topic answered):")
    for where, table in results["abstention"].items():
        for number, row in table.items():
            print(f"  {where:6} {number:7} {row}")
    write_results("evidence_study", {"args": {**vars(args), "data": str(args.data)}, **results})


if __name__ == "__main__":
    main()
