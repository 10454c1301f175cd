"""Relevance threshold and margin for any embedder, on the cached XQuAD dev indexes.

Each question is retrieved once as the app does (default strategy, k=4); the cosine of every
passage to the question is kept with whether it is the paragraph that answers. Then, for each
(threshold, margin): the share of questions whose answering paragraph survives the filter, the
mean number of passages kept, and, for questions on topics the corpus lacks
(bench/data/unanswerable.jsonl), the share with any passage kept. ``--floor`` measures instead
the embedder's cosine for unrelated text (``calibration.cosine_floor``): sentence pairs and
question-sentence pairs from different XQuAD articles, median and 95th percentile.

    .venv/bin/python -m bench.studies.relevance_study [--config e5.toml] [--sets es,en,es-q.en-ctx]

The older, MiniLM-only study behind docs/RELEVANCE_THRESHOLD.md (bench/threshold_study.py,
since deleted) is docs/studies/2026-11-relevance-threshold-minilm.md.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
from pathlib import Path
from typing import Any

from bench.lib import SHARED_DATA, write_results
from bench.studies.evidence_lib import UNANSWERABLE, unanswerable
from rag_app.evaluation.benchmark import run_benchmark
from rag_app.evaluation.corpora import load_squad
from rag_app.models import loading as models
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


def unrelated_cosines(service: RagService, path: Path, n: int = 150) -> dict[str, float]:
    """Cosines of pairs from different articles: sentence-sentence (both as passages, as the
    evaluation and the answer check compare them) and question-sentence (query vs passage)."""
    import random

    import numpy as np

    from rag_app.text.units import split_sentences

    rng = random.Random(0)
    articles = json.loads(path.read_text(encoding="utf-8"))["data"]
    sentences = [
        (i, s) for i, a in enumerate(articles) for p in a["paragraphs"]
        for s in split_sentences(p["context"])[:3]
    ]  # fmt: skip
    questions = [(i, q["question"]) for i, a in enumerate(articles) for p in a["paragraphs"]
                 for q in p["qas"][:1]]  # fmt: skip

    def pairs(left: list[Any]) -> list[tuple[str, str]]:
        drawn = [(rng.choice(left), rng.choice(sentences)) for _ in range(4 * n)]
        return [(a[1], b[1]) for a, b in drawn if a[0] != b[0]][:n]

    embed = service.embeddings
    found: dict[str, float] = {}
    for kind, chosen in (("sentence", pairs(sentences)), ("question", pairs(questions))):
        left = (
            embed.embed_documents([a for a, _ in chosen])
            if kind == "sentence"
            else [embed.embed_query(a) for a, _ in chosen]
        )
        right = embed.embed_documents([b for _, b in chosen])
        cos = (np.array(left) * np.array(right)).sum(axis=1)
        found[f"{kind}_p50"] = round(float(np.median(cos)), 3)
        found[f"{kind}_p95"] = round(float(np.percentile(cos, 95)), 3)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path)
    parser.add_argument("--sets", default="es,en,es-q.en-ctx,en-q.es-ctx")
    parser.add_argument("--data", type=Path, default=SHARED_DATA / "xquad")
    parser.add_argument("--floor", action="store_true", help="only the unrelated-pair cosines")
    args = parser.parse_args()
    if args.floor:
        service = RagService(load_settings(args.config, data_dir=Path(tempfile.mkdtemp())))
        floors = {
            lang: unrelated_cosines(service, args.data / f"xquad.{lang}.dev.json")
            for lang in ("es", "en")
        }
        print(models.embedder_name(service.embedding), floors)
        write_results("cosine-floor", {"sets": floors})
        return
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
