"""The main path on real parts: generated PDFs, real Chroma, the bundled embedder and GGUF model."""

from pathlib import Path

import pytest

from rag_app.answering import prompts
from rag_app.service import RagService
from rag_app.settings import Settings


@pytest.fixture
def service(
    settings: Settings, real_models: tuple, course_pdf: Path, spanish_pdf: Path
) -> RagService:
    embeddings, chat = real_models
    service = RagService(settings, embeddings=embeddings, chat_model=chat)
    report = service.ingest([course_pdf, spanish_pdf])
    assert not report.failed and len(report.ingested) == 2
    return service


def test_english_answer_streams_and_cites_the_right_page(service: RagService) -> None:
    stream = service.stream("Who founded the Lumora Observatory?")
    assert (stream.sources[0].source, stream.sources[0].page) == ("astronomy.pdf", 2)
    parts = list(stream)
    answer = stream.result
    assert answer is not None and len(parts) > 3
    assert "Vasquez" in answer.answer
    assert answer.language == "en"
    assert 1 in answer.cited
    assert answer.timings["tokens"] == len(parts) and answer.timings["first_token_s"] > 0
    candidates = answer.trace.candidates
    assert answer.trace.queries == ["Who founded the Lumora Observatory?"]
    assert [c.rank for c in candidates] == list(range(1, len(candidates) + 1))
    assert sum(bool(c.used) for c in candidates) == len(answer.sources)


def test_spanish_question_gets_a_spanish_answer(service: RagService) -> None:
    answer = service.ask("¿Dónde ocurre la fotosíntesis?")
    assert answer.language == "es"
    assert ("biologia.pdf", 2) in [(s.source, s.page) for s in answer.sources]
    assert "cloroplastos" in answer.answer.lower()


def test_unrelated_question_is_not_guessed(service: RagService) -> None:
    answer = service.ask("What is the capital of Australia?")
    assert answer.answer == prompts.NO_ANSWER["en"]
    assert answer.sources == [] and answer.cited == []


def test_k_limits_the_passages(service: RagService) -> None:
    assert len(service.stream("telescope mirror", k=1).sources) == 1


@pytest.mark.slow  # a `rag` process, the real model or the UI
def test_model_loads_and_generates_without_extra_buffer_types() -> None:
    """The AMX workaround path: parameters really reach llama.cpp, and generation works."""
    from rag_app.models.llm import without_extra_buffer_types
    from rag_app.models.loading import bundled_gguf_path

    with without_extra_buffer_types():
        from llama_cpp import Llama

        llama = Llama(model_path=str(bundled_gguf_path()), n_ctx=512, verbose=False)
    assert llama.model_params.use_extra_bufts is False
    out = llama.create_completion("The sky is", max_tokens=4, temperature=0.0)
    assert out["choices"][0]["text"].strip()
    llama.close()


def test_simultaneous_questions_are_serialized_safely(service: RagService) -> None:
    """Several sessions asking at once (the UI's case): one llama.cpp context, no mix-ups."""
    from concurrent.futures import ThreadPoolExecutor

    questions = {
        "Who founded the Lumora Observatory?": ("astronomy.pdf", 2),
        "How wide is the mirror of the main telescope?": ("astronomy.pdf", 3),
        "¿Dónde ocurre la fotosíntesis?": ("biologia.pdf", 2),
    }
    with ThreadPoolExecutor(max_workers=3) as pool:
        answers = dict(zip(questions, pool.map(service.ask, questions), strict=True))
    for question, expected in questions.items():
        answer = answers[question]
        assert answer.question == question and answer.answer
        assert expected in [(s.source, s.page) for s in answer.sources]
