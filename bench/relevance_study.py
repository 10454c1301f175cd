"""Relevance threshold and margin for any embedder, on the cached XQuAD dev indexes.

Each question is retrieved once as the app does (default strategy, k=4); the cosine of every
passage to the question is kept with whether it is the paragraph that answers. Then, for each
(threshold, margin): the share of questions whose answering paragraph survives the filter, the
mean number of passages kept, and, for questions on topics the corpus lacks
(bench/data/unanswerable.jsonl), the share with any passage kept.

    .venv/bin/python -m bench.relevance_study [--config e5.toml] [--sets es,en,es-q.en-ctx]

bench/threshold_study.py is the older, MiniLM-only study behind docs/RELEVANCE_THRESHOLD.md.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path
from typing import Any

from bench.evidence import UNANSWERABLE, unanswerable
from bench.lib import SHARED_DATA, write_results
from rag_app import models
from rag_app.benchmark import load_squad, run_benchmark
from rag_app.service import RagService
from rag_app.settings import load_settings

THRESHOLDS = (0.0, 0.2, 0.7, 0.75, 0.78, 0.8, 0.82)
MARGINS = (0.02, 0.04, 0.06, 0.08, 0.1, 0.15, 0.2)
K = 4


def cosines(service: RagService, question: str) -> list[tuple[float, tuple[str, int]]]:
    return [(s.score, (s.source, s.page)) for s in service.retrieve(question, k=K)]


def kept(found: list[tuple[float, Any]], threshold: float, margin: float) -> list[Any]:
    if not found:
        return []
    floor = max(threshold, max(score for score, _ in found) - margin)
    return [unit for score, unit in found if score >= floor]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path)
    parser.add_argument("--sets", default="es,en,es-q.en-ctx,en-q.es-ctx")
    parser.add_argument("--data", type=Path, default=SHARED_DATA / "xquad")
    args = parser.parse_args()
    results: dict[str, Any] = {}
    for name in args.sets.split(","):
        path = args.data / f"xquad.{name}.dev.json"
        corpus = load_squad(path)
        with tempfile.TemporaryDirectory() as scratch:
            built = run_benchmark(
                corpus, (), limit=1, out_dir=Path(scratch), config_file=args.config
            )
        service = RagService(load_settings(args.config, data_dir=built.cache_dir))
        answerable = [(cosines(service, q.text), set(q.relevant)) for q in corpus.queries]
        refused = [cosines(service, q.text) for q in unanswerable(name[:2])]
        rows = []
        for threshold in THRESHOLDS:
            for margin in MARGINS:
                found = [kept(f, threshold, margin) for f, _ in answerable]
                rows.append(
                    {
                        "threshold": threshold,
                        "margin": margin,
                        "answer_kept": round(
                            statistics.fmean(
                                bool(set(k) & rel)
                                for k, (_, rel) in zip(found, answerable, strict=True)
                            ),
                            3,
                        ),
                        "passages_kept": round(statistics.fmean(len(k) for k in found), 2),
                        "unanswerable_kept": round(
                            statistics.fmean(bool(kept(f, threshold, margin)) for f in refused), 3
                        ),
                    }
                )
        best = [max(s for s, _ in f) for f, _ in answerable if f]
        results[name] = {
            "embedder": models.embedder_name(service.embedding),
            "best_cosine_answerable_p5_p50": [
                round(sorted(best)[len(best) * q // 100], 3) for q in (5, 50)
            ],
            "best_cosine_unanswerable_max": round(max(max(s for s, _ in f) for f in refused), 3),
            "rows": rows,
        }
        print(
            f"{name}: {results[name]['embedder']}  best cosine answerable p5/p50 "
            f"{results[name]['best_cosine_answerable_p5_p50']}, unanswerable max "
            f"{results[name]['best_cosine_unanswerable_max']}"
        )
        print("| threshold | margin | answer kept | passages kept | unanswerable kept |")
        print("|---|---|---|---|---|")
        for r in rows:
            print(
                f"| {r['threshold']} | {r['margin']} | {r['answer_kept']:.3f} | "
                f"{r['passages_kept']:.2f} | {r['unanswerable_kept']:.2f} |"
            )
    write_results(
        "relevance",
        {"args": {"sets": args.sets, "unanswerable": str(UNANSWERABLE)}, "sets": results},
    )


if __name__ == "__main__":
    main()
