"""Retrieval strategies, rank fusion, and choosing which passages reach the model.

Every strategy returns hits in its own rank order, each with the cosine similarity of the chunk
to the user's question (the common "relevance" the threshold and margin work on) and, in
``scores``/``ranks``, what every underlying retriever said about it: the retrieval trace.

Strategies (``STRATEGIES``):
- ``similarity``: dense search with the question.
- ``bm25``: keyword search alone (BM25), mostly a baseline for the benchmark.
- ``mmr``: dense candidates re-ranked for diversity (maximal marginal relevance).
- ``hybrid``: BM25 and dense, fused by their min-max-normalised scores (the dense weight is
  measured per embedder: ``rag_app/calibration.py``).
- ``multi-query``: the LLM writes rephrasings (one call); dense search with each; rank fusion.
- ``hyde``: the LLM writes a hypothetical answer passage; its embedding, averaged with the
  question's, is searched.
- ``hybrid-multi-query``: BM25 and dense for the question and every rephrasing; fused.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from langchain_core.documents import Document

STRATEGIES = ("similarity", "bm25", "mmr", "hybrid", "multi-query", "hyde", "hybrid-multi-query")
RRF_K = 60


class Scored(Protocol):
    @property
    def score(self) -> float: ...


S = TypeVar("S", bound=Scored)


def select_relevant(found: Sequence[S], threshold: float, margin: float) -> list[S]:
    """Keep passages at or above ``threshold`` and within ``margin`` of the best one.

    Order is kept (it is the strategy's ranking). The margin drops weak passages that only
    lengthen the prompt (docs/RELEVANCE_THRESHOLD.md measures both numbers on XQuAD).
    """
    if not found:
        return []
    floor = max(threshold, max(p.score for p in found) - margin)
    return [passage for passage in found if passage.score >= floor]


def rrf(rankings: dict[str, list[str]], weights: dict[str, float] | None = None) -> list[str]:
    """Weighted reciprocal rank fusion: sum of weight / (60 + rank) over the lists, best first.

    Ties keep first-seen order, so fusing one list returns it unchanged.
    """
    totals: dict[str, float] = {}
    for name, ids in rankings.items():
        weight = (weights or {}).get(name, 1.0)
        for rank, item in enumerate(ids, start=1):
            totals[item] = totals.get(item, 0.0) + weight / (RRF_K + rank)
    return sorted(totals, key=lambda item: -totals[item])


def minmax(found: Sequence[tuple[str, float]]) -> dict[str, float]:
    """Scores of one list scaled to [0, 1] (all 1.0 when they are equal)."""
    if not found:
        return {}
    low, high = min(s for _, s in found), max(s for _, s in found)
    return {i: (s - low) / (high - low) if high > low else 1.0 for i, s in found}


def convex_fusion(
    lists: dict[str, list[tuple[str, float]]], weights: dict[str, float]
) -> list[str]:
    """Sum of weight x min-max-normalised score over the lists, best first.

    Unlike rank fusion it keeps how far ahead a list's top hits are, so a retriever that is
    sure (BM25 on a rare word) is not outvoted by one whose scores are bunched (an English
    embedder on Spanish): measured in docs/RETRIEVAL.md, it never fell below its best part.
    """
    totals: dict[str, float] = {}
    for name, found in lists.items():
        weight = weights.get(name, 1.0)
        for item, score in minmax(found).items():
            totals[item] = totals.get(item, 0.0) + weight * score
    return sorted(totals, key=lambda item: -totals[item])


@dataclass
class Hit:
    doc: Document
    score: float  # cosine similarity to the question
    scores: dict[str, float] = field(default_factory=dict)  # per retriever (and "fused")
    ranks: dict[str, int] = field(default_factory=dict)  # per retriever, 1-based


@dataclass
class Retrieved:
    hits: list[Hit]
    trace: dict[str, Any]


class Backend(Protocol):
    """What strategies need from the store and the embedder."""

    def embed(self, text: str) -> list[float]:
        """A question (or a rephrasing of one)."""

    def embed_passage(self, text: str) -> list[float]:
        """Text written like the documents (HyDE's hypothetical passage)."""

    def dense(
        self, vector: Sequence[float], k: int, with_vectors: bool = False
    ) -> list[tuple[Document, float, list[float] | None]]: ...

    def keyword(self, query: str, k: int) -> list[tuple[Document, float]]: ...

    def cosine(self, vector: Sequence[float], docs: Sequence[Document]) -> list[float]: ...


Generate = Callable[[str, str], str]  # (kind, question) -> generated text, cached by caller


def _normalize(vector: Sequence[float]) -> list[float]:
    norm = math.sqrt(sum(v * v for v in vector)) or 1.0
    return [v / norm for v in vector]


def parse_queries(text: str, question: str, most: int = 3) -> list[str]:
    """The rephrasings in an LLM reply: one per line, numbering and quotes removed."""
    seen = {question.strip().lower()}
    queries: list[str] = []
    for line in text.splitlines():
        query = line.strip().lstrip("-*•0123456789.) ").strip().strip('"').strip()
        if len(query) >= 8 and query.lower() not in seen:
            seen.add(query.lower())
            queries.append(query)
    return queries[:most]


class Retriever:
    """Runs a named strategy over a backend; LLM text comes from ``generate``."""

    def __init__(self, backend: Backend, generate: Generate, dense_weight: float = 0.3) -> None:
        self.backend = backend
        self.generate = generate
        self.dense_weight = dense_weight

    def run(self, strategy: str, question: str, k: int) -> Retrieved:
        vector = self.backend.embed(question)
        trace: dict[str, Any] = {"strategy": strategy, "queries": [question]}
        fetch = max(20, 3 * k)
        lists: dict[str, list[tuple[Document, float]]] = {}

        if strategy == "similarity":
            lists["dense"] = [(d, s) for d, s, _ in self.backend.dense(vector, k)]
        elif strategy == "bm25":
            lists["bm25"] = self.backend.keyword(question, k)
        elif strategy == "mmr":
            return self._mmr(vector, k, fetch, trace)
        elif strategy == "hyde":
            passage = self.generate("hyde", question).strip()
            trace["hypothetical"] = passage
            searched = vector
            if passage:
                written = self.backend.embed_passage(passage)
                searched = _normalize([a + b for a, b in zip(vector, written, strict=True)])
            lists["hyde"] = [(d, s) for d, s, _ in self.backend.dense(searched, k)]
        elif strategy in ("hybrid", "multi-query", "hybrid-multi-query"):
            queries = [question]
            if strategy != "hybrid":
                queries += parse_queries(self.generate("multi-query", question), question)
                trace["queries"] = queries
            for i, query in enumerate(queries):
                tag = "" if i == 0 else f"#{i}"
                searched = vector if i == 0 else self.backend.embed(query)
                lists[f"dense{tag}"] = [(d, s) for d, s, _ in self.backend.dense(searched, fetch)]
                if strategy != "multi-query":
                    lists[f"bm25{tag}"] = self.backend.keyword(query, fetch)
        else:
            raise ValueError(strategy)
        return self._fuse(vector, lists, k, trace)

    def _fuse(
        self,
        vector: Sequence[float],
        lists: dict[str, list[tuple[Document, float]]],
        k: int,
        trace: dict[str, Any],
    ) -> Retrieved:
        docs: dict[str, Document] = {}
        scores: dict[str, dict[str, float]] = {}
        ranks: dict[str, dict[str, int]] = {}
        for name, found in lists.items():
            for rank, (doc, score) in enumerate(found, start=1):
                key = str(doc.id)
                docs.setdefault(key, doc)
                scores.setdefault(key, {})[name] = round(score, 4)
                ranks.setdefault(key, {})[name] = rank
        ids = {n: [(str(d.id), s) for d, s in found] for n, found in lists.items()}
        if any(n.startswith("bm25") for n in lists):  # hybrid: keyword and dense scores
            weights = {
                n: self.dense_weight if n.startswith("dense") else 1.0 - self.dense_weight
                for n in lists
            }
            order = convex_fusion(ids, weights)[:k]
        else:  # dense lists only (one per query): rank fusion
            order = rrf({n: [i for i, _ in found] for n, found in ids.items()})[:k]
        chosen = [docs[key] for key in order]
        cosines = self._cosines(vector, chosen, scores)
        hits = [
            Hit(doc, cos, scores[str(doc.id)], ranks[str(doc.id)])
            for doc, cos in zip(chosen, cosines, strict=True)
        ]
        trace["retrievers"] = list(lists)
        return Retrieved(hits, trace)

    def _cosines(
        self, vector: Sequence[float], docs: list[Document], scores: dict[str, dict[str, float]]
    ) -> list[float]:
        """Cosine to the question: known from the question's dense search, else computed."""
        missing = [d for d in docs if "dense" not in scores[str(d.id)]]
        computed = dict(
            zip((str(d.id) for d in missing), self.backend.cosine(vector, missing), strict=True)
        )
        return [scores[str(d.id)].get("dense", computed.get(str(d.id), 0.0)) for d in docs]

    def _mmr(self, vector: Sequence[float], k: int, fetch: int, trace: dict[str, Any]) -> Retrieved:
        import numpy as np
        from langchain_core.vectorstores.utils import maximal_marginal_relevance

        found = self.backend.dense(vector, fetch, with_vectors=True)
        if not found:
            return Retrieved([], trace)
        picked = maximal_marginal_relevance(
            np.array(vector), [v or [] for _, _, v in found], lambda_mult=0.5, k=k
        )
        hits = [
            Hit(found[i][0], found[i][1], {"dense": round(found[i][1], 4)}, {"dense": i + 1})
            for i in picked
        ]
        trace["retrievers"] = ["dense"]
        return Retrieved(hits, trace)
