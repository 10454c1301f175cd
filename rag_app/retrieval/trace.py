"""The retrieval trace of one question: what was searched, what each retriever found, and what
reached the model. ``rag ask --json``, the API and saved chats carry it as ``to_dict()``; the
UI draws it back with ``from_dict``."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any


@dataclass(frozen=True)
class RetrieverScore:
    """One retriever's view of a candidate: its 1-based rank and score there."""

    rank: int
    score: float


@dataclass
class Candidate:
    """A retrieved passage, in the strategy's final order."""

    rank: int
    source: str
    page: int
    score: float  # cosine similarity to the question
    # dense, bm25, dense#1...; "rerank": its rank and score by the reranker, when one ran
    retrievers: dict[str, RetrieverScore] = field(default_factory=dict)
    used: bool | None = None  # whether it reached the answer; None before the answer is built

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "rank": self.rank,
            "source": self.source,
            "page": self.page,
            "score": self.score,
            "retrievers": {
                name: {"rank": found.rank, "score": found.score}
                for name, found in self.retrievers.items()
            },
        }
        if self.used is not None:
            data["used"] = self.used
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Candidate:
        return cls(
            rank=int(data.get("rank", 0)),
            source=str(data.get("source", "")),
            page=int(data.get("page", 0)),
            score=float(data.get("score", 0.0)),
            retrievers={
                name: RetrieverScore(int(found["rank"]), float(found["score"]))
                for name, found in (data.get("retrievers") or {}).items()
            },
            used=data.get("used"),
        )


@dataclass
class Trace:
    """Filled in two steps: the retrieval strategy (what it searched and found), then the
    answering (the question as asked, the thresholds and the evidence's confidence). Fields
    still None are left out of the JSON."""

    strategy: str
    queries: list[str]  # the question, then any rephrasings actually searched
    hypothetical: str | None = None  # HyDE's generated passage
    retrievers: list[str] = field(default_factory=list)  # the ranked lists that were fused
    candidates: list[Candidate] = field(default_factory=list)
    question: str | None = None
    standalone_question: str | None = None  # a follow-up rewritten to stand alone
    k: int | None = None
    relevance_threshold: float | None = None
    relevance_margin: float | None = None
    evidence_threshold: float | None = None
    evidence_floor: float | None = None  # below the threshold, above this: shown as uncertain
    evidence_confidence: float | None = None
    # While the meaning index is built: the part of the chunks with their vector (the others
    # were searchable by keywords only). Left out once all have one.
    meaning_indexed: float | None = None
    # How the question was answered (``answering.routes.Route.to_dict``): its route, what it is
    # about, and, for a route other than look-up, how its scope was found.
    route: dict[str, Any] | None = None
    # With retrieval.rerank: {"model": name, "seconds": time, "candidates": how many were
    # scored, "fused_ranks": each kept candidate's rank before re-ranking}. None: no reranker.
    rerank: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        for item in fields(self):
            value = getattr(self, item.name)
            if item.name == "candidates":
                value = [c.to_dict() for c in self.candidates]
            if value is not None:
                data[item.name] = value
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Trace:
        """A trace read back from JSON (a saved chat); keys it lacks keep their defaults."""
        known = {item.name for item in fields(cls)} - {"candidates"}
        values = {name: data[name] for name in known if name in data}
        values.setdefault("strategy", "")
        values.setdefault("queries", [])
        candidates = [Candidate.from_dict(c) for c in data.get("candidates") or []]
        return cls(**values, candidates=candidates)
