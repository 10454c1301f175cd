"""Answer modes ``generate`` and ``both`` with a queued-reply fake model: what the model is sent,
and what the user reads of its reply once the checker (rag_app/verify.py) has read it. Fast: no
model is loaded. The same modes on the real bundled model: tests/integration/test_answer_modes.py.
"""

from __future__ import annotations

from typing import Any

import pytest

from rag_app.answering import prompts
from rag_app.answering.verify import evidence_answer
from rag_app.service import RagService
from rag_app.settings import Settings
from tests.support.fakes import QueuedChatModel, service_with
from tests.support.pdfs import LLM_NOTES_PAGES

QUESTION = "¿Cuántas capas de transformador tiene GPT-3?"
EVIDENCE = (
    "GPT-3 es un modelo muy grande, con 96 capas de transformador y 175 mil millones de parámetros."
)
SUPPORTED = "GPT-3 tiene 96 capas de transformador [1]."
INVENTED = "Fue creado en Marte por extraterrestres [1]."


@pytest.fixture
def chat() -> QueuedChatModel:
    return QueuedChatModel()


def notes_service(settings: Settings, chat: QueuedChatModel, **answer: Any) -> RagService:
    changed = settings.model_copy(update={"answer": settings.answer.model_copy(update=answer)})
    return service_with(changed, chat, [("notas", LLM_NOTES_PAGES)])


@pytest.fixture
def service(settings: Settings, chat: QueuedChatModel) -> RagService:
    return notes_service(settings, chat)


def test_both_streams_the_reply_and_keeps_it_when_the_passages_support_it(
    service: RagService, chat: QueuedChatModel
) -> None:
    reply = f"{SUPPORTED} Tiene 175 mil millones de parámetros [1]."
    chat.queue(reply)
    stream = service.stream(QUESTION, mode="both")
    assert [e.text for e in stream.evidence] == [EVIDENCE]  # known before the first token
    pieces = list(stream)
    answer = stream.result
    assert answer is not None and len(pieces) == 14  # the fake's words, streamed one by one
    assert "".join(pieces) == reply == answer.answer == answer.generated
    assert (answer.fallback, answer.unsupported, answer.mode) == (None, [], "both")
    assert [(s.number, s.source, s.page) for s in answer.sources] == [(1, "notas", 3)]
    assert answer.cited == [1]
    assert answer.timings["tokens"] == 14
    [call] = chat.calls
    assert (call.method, call.stop, call.kwargs) == ("stream", prompts.STOP, {})
    # answer.context "evidence" (the default): the model reads the quoted sentence only
    assert f'<passage id="1" source="notas" page="3">\n{EVIDENCE}\n</passage>' in call.prompt
    assert "Key sentences:" in call.prompt and "Passages:" not in call.prompt
    assert "Answer in Spanish" in call.prompt and f"Question: {QUESTION}" in call.prompt


@pytest.mark.parametrize(
    ("context", "evidence", "passages"),
    [("evidence+passages", True, True), ("passages", False, True)],
)
def test_both_sends_what_answer_context_names(
    settings: Settings, chat: QueuedChatModel, context: str, evidence: bool, passages: bool
) -> None:
    service = notes_service(settings, chat, context=context)
    chat.queue(SUPPORTED)
    assert service.ask(QUESTION, mode="both").answer == SUPPORTED
    prompt = chat.calls[0].prompt
    assert ("Key sentences:" in prompt, "Passages:" in prompt) == (evidence, passages)
    assert "Fue presentado por OpenAI en 2020" in prompt  # the rest of the passage


def test_generate_reads_the_passages_and_takes_the_per_question_overrides(
    service: RagService, chat: QueuedChatModel
) -> None:
    chat.queue(SUPPORTED)
    answer = service.ask(QUESTION, mode="generate", temperature=0.3, max_tokens=50)
    assert (answer.answer, answer.mode, answer.fallback) == (SUPPORTED, "generate", None)
    [call] = chat.calls
    assert call.kwargs == {"temperature": 0.3, "max_tokens": 50}
    assert "Passages:" in call.prompt and "Key sentences:" not in call.prompt
    assert f"{EVIDENCE} Fue presentado por OpenAI en 2020" in call.prompt


def test_max_tokens_cuts_the_streamed_answer(service: RagService, chat: QueuedChatModel) -> None:
    chat.queue(f"{SUPPORTED} {SUPPORTED}")
    answer = service.ask(QUESTION, mode="generate", max_tokens=3)
    assert answer.generated == "GPT-3 tiene 96" and answer.timings["tokens"] == 3


@pytest.mark.parametrize("mode", ["both", "generate"])
def test_an_unsupported_sentence_is_marked_and_the_rest_kept(
    settings: Settings, chat: QueuedChatModel, mode: str
) -> None:
    service = notes_service(settings, chat, unsupported="mark")
    chat.queue(f"{SUPPORTED} {INVENTED}")
    answer = service.ask(QUESTION, mode=mode)
    assert answer.answer == f"{SUPPORTED} {INVENTED}"  # shown, marked by the UI and the CLI
    assert answer.unsupported == [INVENTED] and answer.fallback is None


def test_unsupported_sentences_are_left_out_by_default(
    settings: Settings, chat: QueuedChatModel
) -> None:
    service = notes_service(settings, chat)
    chat.queue(f"{SUPPORTED} {INVENTED}")
    answer = service.ask(QUESTION, mode="both")
    assert (answer.answer, answer.unsupported) == (SUPPORTED, [INVENTED])
    assert answer.generated == f"{SUPPORTED} {INVENTED}"  # what the model wrote, kept apart


@pytest.mark.parametrize(
    ("reply", "fallback", "unsupported"),
    [
        (  # the question is Spanish: an English answer is not shown, however right
            "The GPT-3 model has 96 transformer layers and it was presented by OpenAI [1].",
            "language",
            [],
        ),
        (INVENTED, "unsupported", [INVENTED]),  # nothing it said holds
        # true to the passage, but not the number asked for (the evidence gives 96)
        ("GPT-3 fue presentado por OpenAI en 2020 [1].", "unanswered", []),
    ],
)
@pytest.mark.parametrize("mode", ["both", "generate"])
def test_a_reply_that_does_not_hold_falls_back_to_the_evidence(
    service: RagService,
    chat: QueuedChatModel,
    mode: str,
    reply: str,
    fallback: str,
    unsupported: list[str],
) -> None:
    chat.queue(reply)
    answer = service.ask(QUESTION, mode=mode)
    assert answer.fallback == fallback and answer.unsupported == unsupported
    assert answer.answer == evidence_answer(answer.evidence) == f"{EVIDENCE} [1]"
    assert answer.generated == reply  # kept for the JSON and the evaluation
