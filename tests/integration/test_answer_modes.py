"""Answer modes on real parts: generated PDFs, real Chroma, the bundled embedder and GGUF model.

Evidence comes first and never calls the model; the model's wording is checked; a question
the documents do not answer is refused without the model.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from langchain_core.language_models import BaseChatModel

from rag_app.answering import prompts
from rag_app.answering.evidence import confidence
from rag_app.service import RagService
from rag_app.settings import Settings
from rag_app.text.language import language_of
from tests.support.fakes import NoChatModel
from tests.support.pdfs import LLM_NOTES_PAGES, make_pdf

pytestmark = pytest.mark.slow
QUESTION = "¿Cuántas capas de transformador tiene GPT-3?"


@pytest.fixture
def notes(tmp_path: Path) -> Path:
    return make_pdf(tmp_path / "pdfs" / "intro_llm.pdf", LLM_NOTES_PAGES)


def service_with(settings: Settings, embeddings: Any, chat: BaseChatModel, pdf: Path) -> RagService:
    service = RagService(settings, embeddings=embeddings, chat_model=chat)
    assert not service.ingest([pdf]).failed
    return service


def test_evidence_mode_quotes_the_sentence_without_the_model(
    settings: Settings, real_models: tuple, notes: Path
) -> None:
    service = service_with(settings, real_models[0], NoChatModel(), notes)
    answer = service.ask(QUESTION, mode="evidence")
    first = answer.evidence[0]
    assert "96 capas de transformador" in first.text
    assert (first.source, first.page, first.number) == ("intro_llm.pdf", 3, 1)
    assert first.text in answer.answer and "[1]" in answer.answer
    assert answer.generated is None and answer.mode == "evidence"
    assert answer.to_dict()["evidence"][0] == {
        "text": first.text, "number": 1, "source": "intro_llm.pdf", "page": 3, "section": "",
        "score": first.score,
    }  # fmt: skip


def test_the_confidence_reads_the_best_pages_keyword_match(
    settings: Settings, real_models: tuple, notes: Path
) -> None:
    """With e5 the bar reads the evidence and how strongly a page matches the question's words:
    the Spanish question's words are all on page 3 of the notes."""
    service = service_with(settings, real_models[0], NoChatModel(), notes)
    answer = service.ask(QUESTION, mode="evidence")
    match = service.store.page_match(QUESTION)
    assert match > 0
    expected = confidence(answer.evidence, keyword_match=match)
    assert service.tuned().bar_reads_keywords
    assert answer.trace.evidence_confidence == round(expected, 4)
    assert expected > confidence(answer.evidence, keyword_match=0.0)


def test_both_mode_answer_states_what_the_passage_says(
    settings: Settings, real_models: tuple, notes: Path
) -> None:
    """The bug this mode exists for: the passage says 96 layers, the answer must too."""
    service = service_with(settings, *real_models, notes)
    answer = service.ask(QUESTION, mode="both")
    assert "96 capas" in answer.evidence[0].text
    assert "96" in answer.answer
    assert answer.generated is not None  # the model was asked
    if answer.fallback is None:  # the model's own wording was kept: it must be Spanish
        assert language_of(answer.answer) in (None, "es")


def test_english_question_on_spanish_notes_is_answered_in_english_or_by_the_evidence(
    settings: Settings, real_models: tuple, notes: Path
) -> None:
    service = service_with(settings, *real_models, notes)
    answer = service.ask("How many transformer layers does GPT-3 have?", mode="both")
    assert answer.language == "en"
    assert "96 capas" in answer.evidence[0].text  # the evidence stays in the notes' Spanish
    if answer.fallback is None:
        assert language_of(answer.answer) in (None, "en")
    else:
        assert answer.answer.startswith(answer.evidence[0].text)


@pytest.mark.parametrize(
    ("question", "language"),
    [
        ("¿Cuál es la capital de Australia según los documentos?", "es"),
        ("What is the capital of Australia according to the documents?", "en"),
    ],
)
def test_a_question_the_notes_do_not_answer_is_refused_without_the_model(
    settings: Settings, real_models: tuple, notes: Path, question: str, language: str
) -> None:
    service = service_with(settings, real_models[0], NoChatModel(), notes)
    answer = service.ask(question, mode="both")
    assert answer.answer == prompts.NO_ANSWER[language]
    assert answer.fallback == "abstained" and answer.sources == [] and answer.evidence == []


@pytest.mark.parametrize("mode", ["evidence", "both"])
def test_evidence_between_the_floor_and_the_bar_is_shown_labelled_without_the_model(
    settings: Settings, real_models: tuple, notes: Path, mode: str
) -> None:
    """Graded confidence: above the bar an answer, between the floor and the bar the best
    evidence under a line saying it may not answer, below the floor the refusal."""
    service = service_with(settings, real_models[0], NoChatModel(), notes)
    sure = service.ask(QUESTION, mode="evidence").trace.evidence_confidence
    assert sure is not None
    settings.answer.evidence_threshold = min(1.0, sure + 0.01)
    settings.answer.evidence_floor = max(0.0, sure - 0.01)
    answer = service.ask(QUESTION, mode=mode)
    assert answer.fallback == "uncertain" and "96 capas" in answer.evidence[0].text
    assert answer.answer.startswith(prompts.UNCERTAIN["es"])
    assert answer.evidence[0].text in answer.answer and answer.generated is None
    assert answer.trace.evidence_floor == settings.answer.evidence_floor
    settings.answer.evidence_floor = min(1.0, sure + 0.005)  # now below the floor: refused
    refused = service.ask(QUESTION, mode=mode)
    assert refused.fallback == "abstained" and refused.evidence == []
