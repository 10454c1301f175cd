"""The retrieval trace is typed in Python and keeps its JSON shape (README: `rag ask --json`)."""

from __future__ import annotations

import json

from rag_app.retrieval.trace import Candidate, RetrieverScore, Trace
from rag_app.service import RagService
from rag_app.settings import Settings
from tests.support.embeddings import BagOfWordsEmbeddings

PAGES = [
    "El observatorio de Lumora fue fundado por Elena Vasquez en 1931.",
    "El telescopio principal tiene un espejo de 2.4 metros de ancho.",
]

ANSWER_KEYS = {
    "question", "mode", "evidence", "answer", "generated", "unsupported", "fallback", "note",
    "language", "sources", "cited", "citation_method", "timings", "trace",
}  # fmt: skip
TRACE_KEYS = {
    "strategy", "queries", "retrievers", "candidates", "question", "standalone_question", "k",
    "relevance_threshold", "relevance_margin", "evidence_threshold", "evidence_floor",
    "evidence_confidence", "route",
}  # fmt: skip


def test_an_answer_keeps_its_json_shape(settings: Settings) -> None:
    # The bars are calibrated for real embedders: this toy one needs them open.
    settings.answer.evidence_threshold, settings.retrieval.relevance_threshold = 0.0, -1.0
    service = RagService(settings, embeddings=BagOfWordsEmbeddings())
    service.ingest_texts([("lumora", PAGES)])
    answer = service.ask("¿Quién fundó el observatorio de Lumora?", mode="evidence", k=2)
    data = json.loads(json.dumps(answer.to_dict()))
    assert set(data) == ANSWER_KEYS
    trace = data["trace"]
    assert set(trace) == TRACE_KEYS  # no "hypothetical": this strategy wrote none
    assert trace["strategy"] == "hybrid" and trace["retrievers"] == ["dense", "bm25", "pages"]
    # the question names the document "lumora": read, though a look-up does not use it
    assert trace["route"] == {
        "kind": "lookup",
        "reason": "a question passages answer",
        "documents": ["lumora"],
    }
    first = trace["candidates"][0]
    assert set(first) == {"rank", "source", "page", "score", "retrievers", "used"}
    assert (first["rank"], first["source"], first["page"], first["used"]) == (1, "lumora", 1, True)
    assert set(first["retrievers"]["bm25"]) == {"rank", "score"}
    assert Trace.from_dict(trace).to_dict() == trace


def test_a_retrieval_only_trace_leaves_out_what_answering_adds(settings: Settings) -> None:
    service = RagService(settings, embeddings=BagOfWordsEmbeddings())
    service.ingest_texts([("lumora", PAGES)])
    _, trace = service.retrieve_traced("¿Qué ancho tiene el espejo?", 2, "similarity")
    data = trace.to_dict()
    assert set(data) == {"strategy", "queries", "retrievers", "candidates"}
    assert [set(c) for c in data["candidates"]] == [
        {"rank", "source", "page", "score", "retrievers"}
    ] * len(data["candidates"])


def test_a_saved_trace_missing_keys_reads_back_with_defaults() -> None:
    trace = Trace.from_dict({"candidates": [{"rank": 2, "source": "a.pdf", "page": 3}]})
    assert (trace.strategy, trace.queries, trace.k) == ("", [], None)
    assert trace.candidates == [Candidate(2, "a.pdf", 3, 0.0)]
    full = Candidate(1, "b.pdf", 1, 0.5, {"dense": RetrieverScore(1, 0.5)}, used=False)
    assert Candidate.from_dict(full.to_dict()) == full
