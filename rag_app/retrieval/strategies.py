"""Retrieval strategies, rank fusion, and choosing which passages reach the model.

Every strategy returns hits in its own rank order, each with the cosine similarity of the chunk
to the user's question (the common "relevance" the threshold and margin work on) and, in
``scores``/``ranks``, what every underlying retriever said about it: the retrieval trace.

The strategies are small classes in ``REGISTRY`` (names in ``STRATEGIES``, the order the UI
and the docs list them in); the settings, the CLI, the UI and the evaluation validate names
against it. A new strategy is one class and one line there; they share the hit type and the
fusion, which is why they are one module of about 400 lines.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar, Protocol, TypeVar

from rag_app.retrieval.trace import Trace

if TYPE_CHECKING:
    from langchain_core.documents import Document

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


@dataclass(frozen=True)
class Weights:
    """Shares of hybrid's ranked lists in the fusion: dense, chunk BM25, page BM25."""

    dense: float
    chunks: float
    pages: float = 0.0

    @classmethod
    def split(cls, dense: float, page_share: float) -> Weights:
        """``dense`` for the dense list; the rest to BM25, ``page_share`` of it over pages."""
        return cls(dense, (1.0 - dense) * (1.0 - page_share), (1.0 - dense) * page_share)

    def of(self, name: str) -> float:
        """The share of a list by its name ("dense#1", "bm25", "pages#2"...)."""
        kind = name.split("#")[0]
        return {"dense": self.dense, "bm25": self.chunks, "pages": self.pages}.get(kind, 0.0)


@dataclass(frozen=True)
class Fusion:
    """Hybrid's weights for a question in the documents' language and across languages.

    Keyword search cannot cross languages: a Spanish question on English passages gets BM25
    hits on names and numbers only, so there dense leads (docs/RETRIEVAL.md measures both)."""

    within: Weights
    across: Weights

    def weights(self, across: bool) -> Weights:
        return self.across if across else self.within


LANGUAGE_SAMPLE = 5  # top dense chunks whose language is compared with the question's


def asked_across_languages(question: str, passages: Sequence[Document]) -> bool:
    """Whether most of the top passages that show a language are in another language than
    the question (``passages``: the question's dense top hits)."""
    from rag_app.text.language import detect_language, language_of

    asked = detect_language(question)
    known = [lang for p in passages[:LANGUAGE_SAMPLE] if (lang := language_of(p.page_content))]
    return sum(lang != asked for lang in known) * 2 > len(known) > 0


DEFAULT_FUSION = Fusion(Weights(0.3, 0.7), Weights(0.3, 0.7))


@dataclass
class Hit:
    doc: Document
    score: float  # cosine similarity to the question
    scores: dict[str, float] = field(default_factory=dict)  # per retriever (and "fused")
    ranks: dict[str, int] = field(default_factory=dict)  # per retriever, 1-based


@dataclass
class Retrieved:
    hits: list[Hit]
    trace: Trace


class Backend(Protocol):
    """What strategies need from the store and the embedder."""

    def embed(self, text: str) -> list[float]:
        """A question (or a rephrasing of one)."""

    def embed_passage(self, text: str) -> list[float]:
        """Text written like the documents (HyDE's hypothetical passage)."""

    def dense(
        self, vector: Sequence[float], k: int, with_vectors: bool = False
    ) -> list[tuple[Document, float, list[float] | None]]: ...

    def keyword(self, query: str, k: int) -> list[tuple[str, float]]:
        """(chunk id, BM25 score) of the top-k chunks."""

    def pages(self, query: str, k: int) -> list[tuple[str, float]]:
        """(chunk id, its page's score) of every chunk of the BM25 top-k pages."""

    def documents(self, ids: Sequence[str]) -> dict[str, Document]:
        """Chunks by id (the keyword lists carry ids: only the fused top k are fetched)."""

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


# Ranked (chunk, score) per retriever: dense lists carry the chunks, keyword lists their ids.
Lists = dict[str, Sequence[tuple["Document | str", float]]]


class Retriever:
    """Runs a named strategy over a backend; LLM text comes from ``generate``."""

    def __init__(
        self, backend: Backend, generate: Generate, fusion: Fusion = DEFAULT_FUSION
    ) -> None:
        self.backend = backend
        self.generate = generate
        self.fusion = fusion

    def run(self, strategy: str, question: str, k: int) -> Retrieved:
        vector = self.backend.embed(question)
        trace = Trace(strategy=strategy, queries=[question])
        return REGISTRY[strategy].run(self, question, vector, k, trace)

    def dense(self, vector: Sequence[float], k: int) -> list[tuple[Document, float]]:
        return [(d, s) for d, s, _ in self.backend.dense(vector, k)]

    def fuse(
        self,
        vector: Sequence[float],
        lists: Lists,
        k: int,
        trace: Trace,
        weights: Weights | None = None,
    ) -> Retrieved:
        """The top ``k`` of the lists: score fusion by ``weights`` when given (hybrid), rank
        fusion of dense lists otherwise (one per query)."""
        docs: dict[str, Document] = {}
        scores: dict[str, dict[str, float]] = {}
        ranks: dict[str, dict[str, int]] = {}
        ids: dict[str, list[tuple[str, float]]] = {}
        for name, found in lists.items():
            ids[name] = []
            for rank, (item, score) in enumerate(found, start=1):
                key = item if isinstance(item, str) else str(item.id)
                if not isinstance(item, str):
                    docs.setdefault(key, item)
                scores.setdefault(key, {})[name] = round(score, 4)
                ranks.setdefault(key, {})[name] = rank
                ids[name].append((key, score))
        if weights is not None:
            order = convex_fusion(ids, {n: weights.of(n) for n in lists})
        else:
            order = rrf({n: [i for i, _ in found] for n, found in ids.items()})
        chosen = self._documents(order, k, docs)
        cosines = self._cosines(vector, chosen, scores)
        hits = [
            Hit(doc, cos, scores[str(doc.id)], ranks[str(doc.id)])
            for doc, cos in zip(chosen, cosines, strict=True)
        ]
        trace.retrievers = list(lists)
        return Retrieved(hits, trace)

    def _documents(self, order: list[str], k: int, known: dict[str, Document]) -> list[Document]:
        """The first ``k`` chunks of ``order`` that still exist, fetching those no dense list
        brought (one store read, usually of a few ids)."""
        chosen: list[Document] = []
        position = 0
        while len(chosen) < k and position < len(order):
            batch = order[position : position + k - len(chosen)]
            position += len(batch)
            missing = [key for key in batch if key not in known]
            if missing:
                known.update(self.backend.documents(missing))
            chosen += [known[key] for key in batch if key in known]
        return chosen

    def _cosines(
        self, vector: Sequence[float], docs: list[Document], scores: dict[str, dict[str, float]]
    ) -> list[float]:
        """Cosine to the question: known from the question's dense search, else computed."""
        missing = [d for d in docs if "dense" not in scores[str(d.id)]]
        computed = dict(
            zip((str(d.id) for d in missing), self.backend.cosine(vector, missing), strict=True)
        )
        return [scores[str(d.id)].get("dense", computed.get(str(d.id), 0.0)) for d in docs]


class Strategy:
    """One way to find passages. Most name the ranked lists to fuse (``lists``); one that
    ranks on its own (MMR) overrides ``run``."""

    name: ClassVar[str]
    summary: ClassVar[str]  # one line, for help texts
    uses_llm: ClassVar[bool] = False  # whether it asks the chat model before searching

    def run(
        self, retriever: Retriever, question: str, vector: Sequence[float], k: int, trace: Trace
    ) -> Retrieved:
        return retriever.fuse(vector, self.lists(retriever, question, vector, k, trace), k, trace)

    def lists(
        self, retriever: Retriever, question: str, vector: Sequence[float], k: int, trace: Trace
    ) -> Lists:
        raise NotImplementedError(f"{self.name}: define lists() or run()")


class Similarity(Strategy):
    name, summary = "similarity", "dense search with the question"

    def lists(
        self, retriever: Retriever, question: str, vector: Sequence[float], k: int, trace: Trace
    ) -> Lists:
        return {"dense": retriever.dense(vector, k)}


class Keywords(Strategy):
    name, summary = "bm25", "keyword search alone (BM25), mostly a baseline"

    def lists(
        self, retriever: Retriever, question: str, vector: Sequence[float], k: int, trace: Trace
    ) -> Lists:
        return {"bm25": retriever.backend.keyword(question, k)}


class MaximalMarginalRelevance(Strategy):
    name, summary = "mmr", "dense candidates re-ranked for diversity"

    def run(
        self, retriever: Retriever, question: str, vector: Sequence[float], k: int, trace: Trace
    ) -> Retrieved:
        import numpy as np
        from langchain_core.vectorstores.utils import maximal_marginal_relevance

        trace.retrievers = ["dense"]
        found = retriever.backend.dense(vector, fetch_size(k), with_vectors=True)
        if not found:
            return Retrieved([], trace)
        picked = maximal_marginal_relevance(
            np.array(vector), [v or [] for _, _, v in found], lambda_mult=0.5, k=k
        )
        hits = [
            Hit(found[i][0], found[i][1], {"dense": round(found[i][1], 4)}, {"dense": i + 1})
            for i in picked
        ]
        return Retrieved(hits, trace)


class Hybrid(Strategy):
    """Dense and BM25 (over chunks, and over pages) for the question, and in the multi-query
    strategies for each of the LLM's rephrasings; fused by normalised score with the weights
    for a question in the documents' language or across languages."""

    name, summary = "hybrid", "dense and BM25 (chunks and pages), fused by normalised scores"
    rephrase: ClassVar[bool] = False  # search the LLM's rephrasings too
    keywords: ClassVar[bool] = True  # BM25 beside dense

    def run(
        self, retriever: Retriever, question: str, vector: Sequence[float], k: int, trace: Trace
    ) -> Retrieved:
        queries = [question]
        if self.rephrase:
            queries += parse_queries(retriever.generate("multi-query", question), question)
            trace.queries = queries
        fetch = fetch_size(k)
        dense = retriever.dense(vector, fetch)
        lists: Lists = {"dense": dense}
        weights = None
        if self.keywords:
            across = asked_across_languages(question, [d for d, _ in dense])
            weights = retriever.fusion.weights(across)
        for i, query in enumerate(queries):
            tag = "" if i == 0 else f"#{i}"
            if i:
                lists[f"dense{tag}"] = retriever.dense(retriever.backend.embed(query), fetch)
            if weights is not None:
                lists[f"bm25{tag}"] = retriever.backend.keyword(query, fetch)
                if weights.pages > 0:
                    lists[f"pages{tag}"] = retriever.backend.pages(query, fetch)
        return retriever.fuse(vector, lists, k, trace, weights)


class MultiQuery(Hybrid):
    name, summary = "multi-query", "the LLM rephrases; dense search with each; rank fusion"
    rephrase, keywords, uses_llm = True, False, True


class HybridMultiQuery(Hybrid):
    name, summary = "hybrid-multi-query", "BM25 and dense for the question and each rephrasing"
    rephrase, keywords, uses_llm = True, True, True


class HypotheticalDocument(Strategy):
    name, summary = "hyde", "the LLM writes a hypothetical answer passage, which is searched"
    uses_llm = True

    def lists(
        self, retriever: Retriever, question: str, vector: Sequence[float], k: int, trace: Trace
    ) -> Lists:
        passage = retriever.generate("hyde", question).strip()
        trace.hypothetical = passage
        searched = vector
        if passage:  # its embedding, averaged with the question's
            written = retriever.backend.embed_passage(passage)
            searched = _normalize([a + b for a, b in zip(vector, written, strict=True)])
        return {"hyde": retriever.dense(searched, k)}


def fetch_size(k: int) -> int:
    """Candidates each list fetches before fusion or re-ranking cut them to ``k``."""
    return max(20, 3 * k)


REGISTRY: dict[str, Strategy] = {
    s.name: s()
    for s in (
        Similarity,
        Keywords,
        MaximalMarginalRelevance,
        Hybrid,
        MultiQuery,
        HypotheticalDocument,
        HybridMultiQuery,
    )
}
STRATEGIES: tuple[str, ...] = tuple(REGISTRY)


def strategy_help() -> str:
    """The strategies, one clause each, for help texts and the settings' description."""
    return "; ".join(f"{s.name} ({s.summary})" for s in REGISTRY.values())
