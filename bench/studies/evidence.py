"""Evidence selection on XQuAD dev: does the chosen sentence hold the answer span?

For each language pair (es, en, es questions on en paragraphs, en questions on es paragraphs)
the dev file is ingested once (the index ``rag bench retrieval --squad`` caches), questions are
spread over all articles, and each is retrieved as the app does (strategy, k, relevance
threshold and margin). Reported per set:

- ceiling: share of questions whose kept passages hold the answer span at all;
- evidence hit: share whose evidence sentences hold it (accent/case-insensitive);
- sentences per answer (mean, and the share with exactly one);
- time per question in evidence mode (ms, p50/p95): retrieval and selection, as the app
  reports it;
- abstention: the evidence confidence (``evidence.confidence``, what the app's bar is set on)
  of every answerable question and of questions on topics the corpus lacks
  (``bench/data/unanswerable.jsonl``, written for this, es and en), so the bar below which the
  app abstains can be set where no unanswerable question gets an answer, and the share of
  answerable questions it would refuse (false abstentions) is known. The bar is read off the
  "calibration" questions; the "check" questions (written afterwards, other topics) show how
  the calibrated bar does on questions it was not set on.

    .venv/bin/python -m bench.studies.evidence [--n 150] [--sets es,en,es-q.en-ctx,en-q.es-ctx]
"""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path
from typing import Any

from bench.lib import SHARED_DATA, latency_summary, write_results
from bench.studies.evidence_lib import SETS, squad_service, unanswerable
from rag_app.answering.answers import Answer
from rag_app.evaluation.corpora import Query, load_squad
from rag_app.evaluation.generate import spread
from rag_app.service import RagService
from rag_app.text.language import contains_span


def ask(service: RagService, questions: list[Query], strategy: str, k: int) -> list[Answer]:
    """Each question answered as the app does in evidence mode (retrieval, relevance filter,
    evidence), timed by the app itself."""
    return [service.ask(q.text, k, strategy=strategy, mode="evidence") for q in questions]


def best(answer: Answer) -> float:
    """The evidence confidence the app compared with its bar (the bar is 0 here)."""
    return float(answer.trace.evidence_confidence or 0.0)


def abstention(answerable: list[float], refused: list[float], check: list[float]) -> dict[str, Any]:
    """The bar just above every unanswerable calibration question's score, what it costs, and
    how many of the check questions it would still answer."""
    bar = round(max(refused, default=0.0) + 0.005, 3)
    return {
        "bar_for_zero_answered": bar,
        "false_abstention_at_bar": round(sum(s < bar for s in answerable) / len(answerable), 3),
        "check_answered_at_bar": sum(s >= bar for s in check),
        "unanswerable_top3": sorted(round(x, 3) for x in refused)[-3:],
        "answerable_p5_p10": [
            round(sorted(answerable)[len(answerable) * q // 100], 3) for q in (5, 10)
        ],
    }


def evaluate(questions: list[Query], answers: list[Answer]) -> dict[str, Any]:
    hits = ceiling = 0
    counts, times, scores = [], [], []
    for q, answer in zip(questions, answers, strict=True):
        times.append(answer.timings["total_s"])
        scores.append(best(answer))
        counts.append(len(answer.evidence))
        ceiling += any(contains_span(s.text, q.answer) for s in answer.sources)
        hits += any(contains_span(e.text, q.answer) for e in answer.evidence)
    n = len(questions)
    return {
        "questions": n,
        "ceiling": round(ceiling / n, 3),
        "evidence_hit": round(hits / n, 3),
        "sentences_mean": round(statistics.fmean(counts), 2),
        "one_sentence_share": round(sum(c == 1 for c in counts) / n, 3),
        "evidence_mode_s": latency_summary(times),
        "scores": scores,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=150, help="questions per set")
    parser.add_argument("--sets", default=",".join(SETS))
    parser.add_argument("--strategy", default="hybrid")
    parser.add_argument("--k", type=int, default=4)
    parser.add_argument("--data", type=Path, default=SHARED_DATA / "xquad")
    args = parser.parse_args()
    results: dict[str, Any] = {}
    for name in args.sets.split(","):
        path = args.data / f"xquad.{name}.dev.json"
        service = squad_service(path)
        questions = spread(load_squad(path).queries, args.n)[: args.n]
        results[name] = evaluate(questions, ask(service, questions, args.strategy, args.k))
        r = results[name]
        refused = [best(a) for a in ask(service, unanswerable(name[:2]), args.strategy, args.k)]
        check = [
            best(a) for a in ask(service, unanswerable(name[:2], "check"), args.strategy, args.k)
        ]
        r["unanswerable_scores"], r["check_scores"] = refused, check
        r["abstention"] = abstention(r["scores"], refused, check)
        print(
            f"{name:12} ceiling {r['ceiling']:.3f}  evidence hit {r['evidence_hit']:.3f}  "
            f"sentences {r['sentences_mean']:.2f} (one: {r['one_sentence_share']:.2f})  "
            f"evidence mode p50 {r['evidence_mode_s']['p50_ms']:.0f} ms "
            f"p95 {r['evidence_mode_s']['p95_ms']:.0f} ms",
            flush=True,
        )
        print(f"{'':12} abstention {r['abstention']}", flush=True)
    write_results("evidence", {"args": {**vars(args), "data": str(args.data)}, "sets": results})


if __name__ == "__main__":
    main()
