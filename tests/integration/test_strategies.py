"""Retrieval strategies on the real bundled embedder and model."""

import pytest

from rag_app.answering import prompts
from rag_app.errors import RagError
from rag_app.retrieval.strategies import STRATEGIES
from rag_app.service import RagService
from rag_app.settings import Settings
from tests.support.guides import CITY, OTHER_CITY

QUESTIONS = {  # question -> page that answers it
    "¿Qué árbol centenario hay en el parque?": 6,
    "¿Quién donó el manuscrito?": 3,
    "¿Para quién es gratuita la entrada?": 6,
    "¿Cuándo se expone el manuscrito?": 3,
    "¿Quién fundó la universidad?": 5,
    "¿Qué pescado se subasta en la lonja?": 4,
}


@pytest.fixture
def service(settings: Settings, real_models: tuple) -> RagService:
    embeddings, chat = real_models
    service = RagService(settings, embeddings=embeddings, chat_model=chat)
    assert service.ingest_texts([("ciudad", CITY)]).chunks == len(CITY)
    return service


def top_page(service: RagService, question: str, strategy: str) -> int:
    return service.retrieve(question, k=3, strategy=strategy)[0].page


def test_spanish_questions_find_their_page_first(service: RagService) -> None:
    for strategy in ("similarity", "hybrid"):
        assert {q: top_page(service, q, strategy) for q in QUESTIONS} == QUESTIONS, strategy


def test_hybrid_trace_shows_each_retriever(service: RagService) -> None:
    answer = service.ask("¿Quién donó el manuscrito?", strategy="hybrid")
    trace = answer.trace
    assert trace.strategy == "hybrid" and trace.retrievers == ["dense", "bm25", "pages"]
    first = trace.candidates[0]
    assert (first.source, first.page, first.rank) == ("ciudad", 3, 1)
    assert set(first.retrievers) == {"dense", "bm25", "pages"}
    # each found it first (a bound like rank >= 1 held for any rank)
    assert [first.retrievers[name].rank for name in ("dense", "bm25", "pages")] == [1, 1, 1]
    assert sum(bool(c.used) for c in trace.candidates) == len(answer.sources)


def test_mmr_returns_distinct_chunks(service: RagService) -> None:
    found = service.retrieve("¿Qué hay en la ciudad?", k=4, strategy="mmr")
    assert len({s.chunk_id for s in found}) == len(found) == 4


@pytest.mark.parametrize("strategy", ["multi-query", "hyde", "hybrid-multi-query"])
def test_llm_strategies_search_what_the_model_wrote(service: RagService, strategy: str) -> None:
    """Whatever the real model writes is searched; how its reply is parsed, and that asking
    again costs no second call, is tested on exact replies in tests/unit/test_llm_strategies.py."""
    question = "¿Quién fundó la universidad?"
    sources, trace = service.retrieve_traced(question, 3, strategy)
    assert sources and trace.queries[0] == question
    if strategy == "hyde":
        assert trace.hypothetical and trace.retrievers == ["hyde"]
        return
    lists = ["dense"] if strategy == "multi-query" else ["dense", "bm25", "pages"]
    tags = [""] + [f"#{i}" for i in range(1, len(trace.queries))]
    assert trace.retrievers == [f"{name}{tag}" for tag in tags for name in lists]


def test_every_strategy_answers_and_unknown_is_one_line(service: RagService) -> None:
    for strategy in STRATEGIES:
        assert service.retrieve("¿Quién fundó la universidad?", k=2, strategy=strategy)
    with pytest.raises(RagError, match="strategy 'bogus': unknown"):
        service.retrieve("x?", strategy="bogus")


def test_follow_up_keeps_working_with_history(service: RagService) -> None:
    history = [
        ("user", "¿Quién fundó la universidad?"),
        ("assistant", "La fundó el obispo Gelmírez [1]."),
    ]
    question = "¿Y qué facultades tiene la universidad?"
    answer = service.ask(question, history=history)
    assert answer.trace.question == question
    standalone = answer.trace.standalone_question
    assert standalone == service.standalone_question(question, history)  # cached: no new call
    assert standalone is not None and answer.trace.queries == [standalone]  # what was searched
    assert prompts.usable_rewrite(question, standalone) == standalone  # the question, or usable
    assert answer.sources and answer.sources[0].page == 5


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_a_question_limited_to_documents_searches_only_them(
    service: RagService, strategy: str
) -> None:
    """The filter works inside every strategy's search (dense, BM25, MMR, the rephrasings,
    HyDE's passage), before the top k: all k passages come from the chosen document even
    when the other one answers the question as well."""
    assert service.ingest_texts([("otra", OTHER_CITY)]).chunks == len(OTHER_CITY)
    question = "¿Quién fundó la universidad?"
    for chosen, page in (("otra", 1), ("ciudad", 5)):
        found = service.retrieve(question, k=4, strategy=strategy, documents=[chosen])
        assert {s.source for s in found} == {chosen}
        assert found[0].page == page
    both = service.retrieve(question, k=8, strategy=strategy)
    assert {s.source for s in both} == {"ciudad", "otra"}


def test_an_answer_limited_to_a_document_and_an_unknown_one(service: RagService) -> None:
    service.ingest_texts([("otra", OTHER_CITY)])
    answer = service.ask("¿Quién fundó la universidad?", mode="evidence", documents=["otra"])
    assert "Urraca" in answer.evidence[0].text
    assert {s.source for s in answer.sources} == {"otra"}
    with pytest.raises(RagError, match=r"document 'nada': not in the store \(documents: "):
        service.ask("¿Quién fundó la universidad?", documents=["nada"])
