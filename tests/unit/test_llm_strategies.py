"""The strategies that ask the chat model before searching (multi-query, HyDE), follow-up
condensing and the generation cache, with a queued-reply fake: what is asked of the model,
how its reply is read, and that the search uses it. Fast: no model is loaded.

The same paths on the real bundled model are in tests/integration/test_strategies.py.
"""

from __future__ import annotations

from typing import Any

import pytest

from rag_app.answering import prompts
from rag_app.service import RagService
from rag_app.settings import Settings
from tests.support.fakes import QueuedChatModel, service_with
from tests.support.guides import CITY

QUESTION = "¿Quién fundó la universidad?"
REPHRASINGS = (  # numbered, quoted, too short, and the question itself: two usable lines
    '1. "el ginkgo centenario y el invernadero de plantas tropicales"\n'
    "2) merluza, sardina y anchoa en la lonja\n"
    "ok\n"
    "- ¿Quién fundó la universidad?\n"
)
PARK = "El parque botánico conserva un ginkgo centenario y un invernadero de hierro."
HISTORY = [
    ("user", "¿Quién fundó la universidad?"),
    ("assistant", "La fundó el obispo Gelmírez [1]."),
]
FOLLOW_UP = "¿Y qué facultades tiene?"
REWRITE = "¿Qué facultades tiene la universidad fundada por Gelmírez?"


@pytest.fixture
def chat() -> QueuedChatModel:
    return QueuedChatModel()


@pytest.fixture
def service(settings: Settings, chat: QueuedChatModel) -> RagService:
    return service_with(settings, chat, [("ciudad", CITY)])


@pytest.fixture
def bare(settings: Settings, chat: QueuedChatModel) -> RagService:
    """No store and no embedder: rewriting a follow-up needs neither."""
    return RagService(settings, chat_model=chat)


def trace_of(service: RagService, question: str, strategy: str, **how: Any) -> dict[str, Any]:
    """The trace `rag ask --json` prints, for an evidence answer (no answer generation)."""
    answer = service.ask(question, k=3, strategy=strategy, mode="evidence", **how)
    return dict(answer.to_dict()["trace"])


def asked_for(kind: str) -> dict[str, Any]:
    """How the service asks for retrieval text: deterministic and capped per kind."""
    return {"temperature": 0.0, "max_tokens": prompts.STRATEGY_MAX_TOKENS[kind]}


def by_page(trace: dict[str, Any]) -> dict[int, dict[str, dict[str, float]]]:
    return {c["page"]: c["retrievers"] for c in trace["candidates"]}


# -- multi-query ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("strategy", "retrievers"),
    [
        ("multi-query", ["dense", "dense#1", "dense#2"]),
        ("hybrid-multi-query", ["dense", "bm25", "dense#1", "bm25#1", "dense#2", "bm25#2"]),
    ],
)
def test_multi_query_searches_each_rephrasing_the_model_wrote(
    service: RagService, chat: QueuedChatModel, strategy: str, retrievers: list[str]
) -> None:
    chat.queue(REPHRASINGS)
    trace = trace_of(service, QUESTION, strategy)
    assert trace["queries"] == [
        QUESTION,
        "el ginkgo centenario y el invernadero de plantas tropicales",
        "merluza, sardina y anchoa en la lonja",
    ]
    assert trace["retrievers"] == retrievers
    found = by_page(trace)
    # each rephrasing was embedded and searched: it ranks its own page first
    assert found[6]["dense#1"]["rank"] == 1  # the park
    assert found[4]["dense#2"]["rank"] == 1  # the fish market
    [call] = chat.calls
    assert call.method == "invoke" and call.stop == prompts.STOP
    assert call.kwargs == asked_for("multi-query")
    assert call.prompt == prompts.strategy_messages("multi-query", QUESTION)[0].text


def test_a_reply_without_usable_rephrasings_searches_the_question_alone(
    service: RagService, chat: QueuedChatModel
) -> None:
    chat.queue("Sí.\n\n¿Quién fundó la universidad?")
    trace = trace_of(service, QUESTION, "multi-query")
    assert trace["queries"] == [QUESTION]
    assert trace["retrievers"] == ["dense"]


# -- HyDE -------------------------------------------------------------------------------------
def test_hyde_searches_with_the_hypothetical_passage(
    service: RagService, chat: QueuedChatModel
) -> None:
    question = "Which place should I visit on a weekend?"  # no word of the guide's park page
    assert service.retrieve(question, k=3, strategy="similarity")[0].page == 5
    chat.queue(PARK)
    trace = trace_of(service, question, "hyde")
    assert trace["hypothetical"] == PARK
    assert trace["retrievers"] == ["hyde"]
    first = trace["candidates"][0]
    assert (first["page"], first["retrievers"]["hyde"]["rank"]) == (6, 1)  # the park page
    [call] = chat.calls
    assert call.kwargs == asked_for("hyde")
    assert "Write a short passage" in call.prompt and question in call.prompt


def test_hyde_with_an_empty_passage_searches_the_question(
    service: RagService, chat: QueuedChatModel
) -> None:
    question = "Which place should I visit on a weekend?"
    chat.queue("   ")
    trace = trace_of(service, question, "hyde")
    assert trace.get("hypothetical", "") == ""
    assert [c["page"] for c in trace["candidates"]] == [
        s.page for s in service.retrieve(question, k=3, strategy="similarity")
    ]


# -- follow-ups -------------------------------------------------------------------------------
def test_a_follow_up_is_rewritten_with_the_history(bare: RagService, chat: QueuedChatModel) -> None:
    chat.queue(f"Pregunta: {REWRITE}\nEsto es lo que se pregunta.")
    assert bare.standalone_question(FOLLOW_UP, HISTORY) == REWRITE
    [call] = chat.calls
    assert call.kwargs == asked_for("condense")
    assert (
        "User: ¿Quién fundó la universidad?\nAssistant: La fundó el obispo Gelmírez [1].\n\n"
        f"Last question: {FOLLOW_UP}"
    ) in call.prompt


@pytest.mark.parametrize(
    "reply",
    [
        "La universidad tiene facultades de medicina, derecho y filología.",  # an answer
        "",  # nothing
        "What faculties does the university founded by Gelmírez have?",  # another language
        "¿Cuánto cuesta la entrada del parque botánico?",  # lost what was asked
        "¿" + "Qué facultades tiene la universidad " * 10 + "?",  # rambling
    ],
)
def test_an_unusable_rewrite_falls_back_to_the_question(
    bare: RagService, chat: QueuedChatModel, reply: str
) -> None:
    chat.queue(reply)
    assert bare.standalone_question(FOLLOW_UP, HISTORY) == FOLLOW_UP
    assert len(chat.calls) == 1


def test_no_rewrite_without_history_or_when_turned_off(
    settings: Settings, bare: RagService, chat: QueuedChatModel
) -> None:
    assert bare.standalone_question(FOLLOW_UP, []) == FOLLOW_UP
    off = settings.model_copy(
        update={"retrieval": settings.retrieval.model_copy(update={"condense_followups": False})}
    )
    assert RagService(off, chat_model=chat).standalone_question(FOLLOW_UP, HISTORY) == FOLLOW_UP
    assert chat.calls == []  # the model was not asked (an empty queue would have failed)


def test_the_answer_searches_the_rewritten_question(
    service: RagService, chat: QueuedChatModel
) -> None:
    chat.queue(REWRITE, "Tiene facultades de medicina, derecho y filología [1].")
    answer = service.ask(FOLLOW_UP, k=3, history=HISTORY, mode="generate")
    trace = answer.to_dict()["trace"]
    assert (trace["question"], trace["standalone_question"]) == (FOLLOW_UP, REWRITE)
    assert trace["queries"] == [REWRITE]  # what was searched
    assert answer.sources[0].page == 5  # the university
    assert [c.method for c in chat.calls] == ["invoke", "stream"]
    assert f"Question: {REWRITE}" in chat.calls[1].prompt  # the answer is asked of it too


# -- the generation cache ---------------------------------------------------------------------
def test_asking_again_reuses_the_generated_text(service: RagService, chat: QueuedChatModel) -> None:
    chat.queue(REPHRASINGS)  # one reply: a second call would fail the test
    first = trace_of(service, QUESTION, "multi-query")
    again = trace_of(service, f"  {QUESTION} ", "multi-query")  # same question, other spacing
    assert len(chat.calls) == 1
    assert again["queries"][1:] == first["queries"][1:] and len(first["queries"]) == 3
    # another kind of text for the same question is another call; so is a forgotten cache
    chat.queue(PARK, REPHRASINGS)
    assert trace_of(service, QUESTION, "hyde")["hypothetical"] == PARK
    service.forget_generations()
    assert trace_of(service, QUESTION, "multi-query")["queries"] == first["queries"]
    assert [c.method for c in chat.calls] == ["invoke"] * 3


def test_the_cache_forgets_the_least_recently_used(
    service: RagService, chat: QueuedChatModel
) -> None:
    service.generations.most = 2
    questions = ["¿Quién fundó la universidad?", "¿Qué se vende en el mercado?", "¿Qué hay?"]
    chat.queue(*(f"búsqueda número {i}" for i in range(4)))
    for question in questions:  # the third evicts the first
        trace_of(service, question, "multi-query")
    trace_of(service, questions[2], "multi-query")  # still cached
    assert len(chat.calls) == 3
    assert trace_of(service, questions[0], "multi-query")["queries"][1] == "búsqueda número 3"
    assert len(chat.calls) == 4
