"""Which fusion of BM25 and dense ranks best? An offline study on cached benchmark indexes.

Run from the project root after `rag bench retrieval` has built the indexes (it caches them):
    .venv/bin/python -m bench.studies.fusion_study --squad ../shared/data/xquad/xquad.es.dev.json
    .venv/bin/python -m bench.studies.fusion_study --beir ../shared/data/scifact --split train
    .venv/bin/python -m bench.studies.fusion_study --squad ... --config e5.toml   # another embedder
Each query's dense and BM25 lists (top 30) are fetched once; every fusion is then scored on
them with the benchmark's own metrics. Results and the choice: docs/RETRIEVAL.md.

`--whole` adds BM25 over whole documents (every page of a document as one text, the app's own
tokenizer), fused at document level with the dense list taken per document (its best chunk):
the "whole-abstract BM25" of the SciFact baseline, against the app's chunk-level BM25.

`--pages` adds BM25 over pages (every page one text; for SciFact a page is the whole abstract,
for XQuAD a paragraph), its score handed to every chunk of the page, fused at chunk level with
the dense and chunk-BM25 lists: what the app itself could do, since it ranks chunks.
"""

from __future__ import annotations

import argparse
import statistics
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rag_app.evaluation.benchmark import cache_key, default_cache_root, score_query
from rag_app.evaluation.corpora import load_beir, load_squad
from rag_app.models import loading as models
from rag_app.retrieval.backend import StoreBackend
from rag_app.retrieval.strategies import convex_fusion, rrf
from rag_app.service import RagService
from rag_app.settings import load_settings
from rag_app.text.language import detect_language, language_of

FETCH = 30
# dense, bm25 (chunk id, score), and bm25 with only the chunks in the question's language
Lists = tuple[list[tuple[str, float]], list[tuple[str, float]], list[tuple[str, float]]]


def convex(alpha: float) -> Callable[[Lists], list[str]]:
    return lambda lists: convex_fusion(
        {"dense": lists[0], "bm25": lists[1]}, {"dense": alpha, "bm25": 1 - alpha}
    )


def weighted_rrf(weight: float) -> Callable[[Lists], list[str]]:
    return lambda lists: rrf(
        {"dense": [i for i, _ in lists[0]], "bm25": [i for i, _ in lists[1]]}, {"bm25": weight}
    )


def same_language(alpha: float) -> Callable[[Lists], list[str]]:
    """Convex fusion with BM25 counting only chunks in the question's language."""
    return lambda lists: convex_fusion(
        {"dense": lists[0], "bm25": lists[2]}, {"dense": alpha, "bm25": 1 - alpha}
    )


AGREE_TOP = 10  # how deep the two lists are compared
FULL_AGREEMENT = 0.3  # share of common chunks at which BM25 gets its full weight


def agreement_weights(
    dense: list[tuple[str, float]], keyword: list[tuple[str, float]], dense_weight: float
) -> dict[str, float]:
    """BM25 gets ``1 - dense_weight`` when the two lists share enough of their top chunks,
    less as they share fewer (tried for the cross-language case; not chosen)."""
    ours = {i for i, _ in dense[:AGREE_TOP]}
    theirs = {i for i, _ in keyword[:AGREE_TOP]}
    common = len(ours & theirs) / max(1, min(AGREE_TOP, len(ours), len(theirs)))
    return {"dense": dense_weight, "bm25": (1.0 - dense_weight) * min(1.0, common / FULL_AGREEMENT)}


def agreeing(alpha: float) -> Callable[[Lists], list[str]]:
    """Convex fusion whose BM25 share shrinks when the two retrievers agree on nothing."""
    return lambda lists: convex_fusion(
        {"dense": lists[0], "bm25": lists[1]}, agreement_weights(lists[0], lists[1], alpha)
    )


def per_document(
    found: list[tuple[str, float]], owner: dict[str, tuple[str, int]]
) -> list[tuple[str, float]]:
    """A chunk list as a document list: each document at its best chunk's score."""
    best: dict[str, float] = {}
    for chunk, score in found:
        key = f"doc:{owner[chunk][0]}"
        best.setdefault(key, score)
    return list(best.items())


def page_bm25(
    documents: list[tuple[str, list[str]]], by_page: bool
) -> Callable[[str, int], list[tuple[tuple[str, int], float]]]:
    """BM25 over pages: search(query, k) -> ((source, page), score), pages numbered from 1."""
    import bm25s

    from rag_app.text.language import query_tokens, tokenize

    units = [(name, n) for name, pages in documents for n in range(1, len(pages) + 1)]
    model = bm25s.BM25()
    model.index([tokenize(page) for _, pages in documents for page in pages], show_progress=False)
    vocabulary = getattr(model, "vocab_dict", None) or {}

    def search(query: str, k: int) -> list[tuple[tuple[str, int], float]]:
        terms = [t for t in query_tokens(query) if t in vocabulary]
        if not terms:
            return []
        found, scores = model.retrieve([terms], k=min(k, len(units)), show_progress=False)
        return [
            ((units[int(i)][0], units[int(i)][1] if by_page else 0), float(s))
            for i, s in zip(found[0], scores[0], strict=True)
            if s > 0
        ]

    return search


PAGE_WEIGHTS = {  # (dense, chunk BM25, page BM25)
    "chunks: dense 0.7 + bm25 0.3 (e5 default)": (0.7, 0.3, 0.0),
    "chunks: dense 0.3 + bm25 0.7 (MiniLM default)": (0.3, 0.7, 0.0),
    "pages: dense 0.7 + page 0.3": (0.7, 0.0, 0.3),
    "pages: dense 0.5 + page 0.5": (0.5, 0.0, 0.5),
    "pages: dense 0.3 + page 0.7": (0.3, 0.0, 0.7),
    "both: dense 0.7 + bm25 0.15 + page 0.15": (0.7, 0.15, 0.15),
    "both: dense 0.6 + bm25 0.2 + page 0.2": (0.6, 0.2, 0.2),
    "both: dense 0.5 + bm25 0.25 + page 0.25": (0.5, 0.25, 0.25),
    "both: dense 0.5 + bm25 0.15 + page 0.35": (0.5, 0.15, 0.35),
    "both: dense 0.4 + bm25 0.3 + page 0.3": (0.4, 0.3, 0.3),
    "both: dense 0.3 + bm25 0.35 + page 0.35": (0.3, 0.35, 0.35),
}


def whole_document_bm25(
    documents: list[tuple[str, list[str]]],
) -> Callable[[str, int], list[tuple[str, float]]]:
    """BM25 (bm25s, the app's tokenizer) over whole documents: search(query, k)."""
    import bm25s

    from rag_app.text.language import query_tokens, tokenize

    names = [name for name, _ in documents]
    model = bm25s.BM25()
    model.index([tokenize(" ".join(pages)) for _, pages in documents], show_progress=False)
    vocabulary = getattr(model, "vocab_dict", None) or {}

    def search(query: str, k: int) -> list[tuple[str, float]]:
        terms = [t for t in query_tokens(query) if t in vocabulary]
        if not terms:
            return []
        found, scores = model.retrieve([terms], k=min(k, len(names)), show_progress=False)
        return [
            (f"doc:{names[int(i)]}", float(s))
            for i, s in zip(found[0], scores[0], strict=True)
            if s > 0
        ]

    return search


WHOLE: dict[str, Callable[[list[tuple[str, float]], list[tuple[str, float]]], list[str]]] = {
    "whole-doc bm25": lambda dense, bm25: [i for i, _ in bm25],
    "whole-doc rrf 1:1": lambda dense, bm25: rrf(
        {"d": [i for i, _ in dense], "b": [i for i, _ in bm25]}
    ),
    "whole-doc convex a=0.3": lambda dense, bm25: convex_fusion(
        {"d": dense, "b": bm25}, {"d": 0.3, "b": 0.7}
    ),
    "whole-doc convex a=0.5": lambda dense, bm25: convex_fusion(
        {"d": dense, "b": bm25}, {"d": 0.5, "b": 0.5}
    ),
    "whole-doc convex a=0.7": lambda dense, bm25: convex_fusion(
        {"d": dense, "b": bm25}, {"d": 0.7, "b": 0.3}
    ),
}


FUSIONS: dict[str, Callable[[Lists], list[str]]] = {
    "dense": lambda lists: [i for i, _ in lists[0]],
    "bm25": lambda lists: [i for i, _ in lists[1]],
    "rrf 1:1": weighted_rrf(1.0),
    "rrf bm25x1.5": weighted_rrf(1.5),
    "rrf bm25x2": weighted_rrf(2.0),
    "rrf bm25x3": weighted_rrf(3.0),
    "convex a=0.2": convex(0.2),
    "convex a=0.3": convex(0.3),
    "convex a=0.4": convex(0.4),
    "convex a=0.5": convex(0.5),
    "convex a=0.7": convex(0.7),
    "same language a=0.3": same_language(0.3),
    "same language a=0.5": same_language(0.5),
    "same language a=0.6": same_language(0.6),
    "same language a=0.7": same_language(0.7),
    "agreeing a=0.3": agreeing(0.3),
    "agreeing a=0.4": agreeing(0.4),
    "agreeing a=0.5": agreeing(0.5),
    "agreeing a=0.6": agreeing(0.6),
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--squad", type=Path)
    parser.add_argument("--beir", type=Path)
    parser.add_argument("--split", default="train")
    parser.add_argument("--limit", type=int)
    parser.add_argument("--config", type=Path, help="settings file naming the embedder")
    parser.add_argument("--whole", action="store_true", help="add whole-document BM25 fusions")
    parser.add_argument("--pages", action="store_true", help="add page-level BM25 fusions")
    parser.add_argument(
        "--depth",
        type=int,
        default=10,
        help="fused chunks read before the first 10 distinct documents/pages are scored",
    )
    args = parser.parse_args()
    corpus = load_squad(args.squad) if args.squad else load_beir(args.beir, args.split)
    base = load_settings(args.config, data_dir=default_cache_root())
    key = cache_key(models.embedder_name(base.embedding), base, corpus.documents)
    data_dir = default_cache_root() / "bench" / key
    if not (data_dir / "complete.json").exists():
        raise SystemExit(f"no cached index at {data_dir}: run `rag bench retrieval` first")
    service = RagService(load_settings(args.config, data_dir=data_dir))
    backend = StoreBackend(service.store, service.embeddings)
    owner: dict[str, tuple[str, int]] = {}
    queries = corpus.queries[: args.limit]
    fetched: list[Lists] = []
    depth = args.depth
    across: list[bool] = []  # the question's language is not most of the top dense chunks'
    for query in queries:
        dense = backend.dense(backend.embed(query.text), FETCH)
        bm25 = service.store.keyword_search(query.text, FETCH)
        for doc in [d for d, *_ in dense] + [d for d, _ in bm25]:
            page = int(doc.metadata["page"]) if corpus.by_page else 0
            owner[str(doc.id)] = (str(doc.metadata["source"]), page)
        asked = detect_language(query.text)
        found = [language_of(d.page_content) for d, _, _ in dense[:5]]
        known = [lang for lang in found if lang is not None]
        across.append(bool(known) and sum(lang != asked for lang in known) * 2 > len(known))
        fetched.append(
            (
                [(str(d.id), s) for d, s, _ in dense],
                [(str(d.id), s) for d, s in bm25],
                [(str(d.id), s) for d, s in bm25 if language_of(d.page_content) in (None, asked)],
            )
        )
    print(f"{corpus.name}: {len(queries)} queries, embedder {models.embedder_name(base.embedding)}")
    print("| fusion | nDCG@10 | R@5 | MRR@10 |\n|---|---|---|---|")
    for name, fuse in FUSIONS.items():
        rows = [
            score_query([owner[i] for i in fuse(lists)[:depth]], q.relevant)
            for q, lists in zip(queries, fetched, strict=True)
        ]
        report(name, rows)
    if args.pages:
        study_pages(corpus, service, queries, fetched, owner, args.depth, across)
    if not args.whole:
        return
    search = whole_document_bm25(corpus.documents)
    for name, fuse_whole in WHOLE.items():
        rows = []
        for q, lists in zip(queries, fetched, strict=True):
            ranked = fuse_whole(per_document(lists[0], owner), search(q.text, FETCH))
            rows.append(score_query([(i.removeprefix("doc:"), 0) for i in ranked[:10]], q.relevant))
        report(name, rows)


def study_pages(
    corpus: Any,
    service: RagService,
    queries: list[Any],
    fetched: list[Lists],
    owner: dict[str, tuple[str, int]],
    depth: int,
    across: list[bool],
) -> None:
    """Chunk-level fusion of dense, chunk BM25 and page BM25 (each chunk scored by its page)."""
    on_page: dict[tuple[str, int], list[str]] = {}
    for chunk in service.store.chunks.all_chunks():
        page = int(chunk.metadata["page"]) if corpus.by_page else 0
        unit = (str(chunk.metadata["source"]), page)
        owner[str(chunk.id)] = unit
        on_page.setdefault(unit, []).append(str(chunk.id))
    search = page_bm25(corpus.documents, corpus.by_page)
    pages = [
        [(c, score) for unit, score in search(q.text, FETCH) for c in on_page.get(unit, [])]
        for q in queries
    ]
    for name, (w_dense, w_chunk, w_page) in PAGE_WEIGHTS.items():
        rows = []
        for q, lists, paged in zip(queries, fetched, pages, strict=True):
            found = {"d": lists[0], "c": lists[1], "p": paged}
            ranked = convex_fusion(found, {"d": w_dense, "c": w_chunk, "p": w_page})
            rows.append(score_query([owner[i] for i in ranked[:depth]], q.relevant))
        report(name, rows)
    print(f"questions judged across languages: {sum(across)} of {len(across)}")
    for name, (same, other) in SWITCHED.items():
        rows = []
        for q, lists, paged, cross in zip(queries, fetched, pages, across, strict=True):
            found = {"d": lists[0], "c": lists[1], "p": paged}
            w_dense, w_chunk, w_page = other if cross else same
            ranked = convex_fusion(found, {"d": w_dense, "c": w_chunk, "p": w_page})
            rows.append(score_query([owner[i] for i in ranked[:depth]], q.relevant))
        report(name, rows)


SWITCHED = {  # (weights within a language, weights across languages)
    "switch: 0.5/0.15/0.35, across 0.7/0.3/0": ((0.5, 0.15, 0.35), (0.7, 0.3, 0.0)),
    "switch: 0.5/0/0.5, across 0.7/0.3/0": ((0.5, 0.0, 0.5), (0.7, 0.3, 0.0)),
    "switch: 0.4/0.2/0.4, across 0.7/0.3/0": ((0.4, 0.2, 0.4), (0.7, 0.3, 0.0)),
    "switch: 0.5/0.25/0.25, across 0.7/0.3/0": ((0.5, 0.25, 0.25), (0.7, 0.3, 0.0)),
    "switch: 0.6/0.1/0.3, across 0.7/0.3/0": ((0.6, 0.1, 0.3), (0.7, 0.3, 0.0)),
    "switch: 0.5/0.15/0.35, across 0.8/0.2/0": ((0.5, 0.15, 0.35), (0.8, 0.2, 0.0)),
    "switch: 0.5/0.15/0.35, across 0.7/0.15/0.15": ((0.5, 0.15, 0.35), (0.7, 0.15, 0.15)),
}


def report(name: str, rows: list[dict[str, float]]) -> None:
    mean = {m: statistics.fmean(r[m] for r in rows) for m in ("ndcg@10", "recall@5", "mrr@10")}
    print(
        f"| {name} | {mean['ndcg@10']:.3f} | {mean['recall@5']:.3f} | {mean['mrr@10']:.3f} |",
        flush=True,
    )


if __name__ == "__main__":
    main()
