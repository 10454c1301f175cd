"""Several chat sessions asking at once on one RagService (the UI's threads), with their own
histories: no crash, no mixed-up histories, right sources. Real models, short answers."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from rag_app.answering.answers import Answer
from rag_app.service import RagService
from rag_app.settings import Settings

pytestmark = pytest.mark.slow

SESSIONS = {  # each session: its own history, then the same vague follow-up
    "astronomy": [
        ("user", "Tell me about the main telescope of the Lumora Observatory."),
        ("assistant", "It is a reflector whose mirror is 2.4 metres wide [1]."),
    ],
    "biology": [
        ("user", "¿Qué es la fotosíntesis?"),
        ("assistant", "Las plantas transforman la luz solar en glucosa y oxígeno [1]."),
    ],
}
FOLLOW_UP = "And where does it happen?"


@pytest.fixture
def models(real_models: tuple) -> tuple:
    return real_models


def make_service(settings: Settings, models: tuple) -> RagService:
    embeddings, chat = models
    return RagService(settings, embeddings=embeddings, chat_model=chat)


def test_sessions_at_once_keep_their_own_history(
    settings: Settings, models: tuple, course_pdf: Path, spanish_pdf: Path
) -> None:
    service = make_service(settings, models)
    assert not service.ingest([course_pdf, spanish_pdf]).failed

    def session(name: str) -> Answer:
        history = SESSIONS[name]
        return service.ask(FOLLOW_UP, history=history, max_tokens=24)

    plain = "Who founded the Lumora Observatory?"
    with ThreadPoolExecutor(max_workers=3) as pool:
        futures = {name: pool.submit(session, name) for name in SESSIONS}
        direct = pool.submit(service.ask, plain, max_tokens=24)
        answers = {name: future.result(timeout=600) for name, future in futures.items()}
    assert direct.result().question == plain and direct.result().answer
    assert ("astronomy.pdf", 2) in [(s.source, s.page) for s in direct.result().sources]

    # Each session's follow-up was rewritten from its own history: the same rewrite a fresh
    # service (empty cache, one question at a time) makes for that history.
    fresh = make_service(settings, models)
    for name, answer in answers.items():
        history = SESSIONS[name]
        assert answer.question == FOLLOW_UP and answer.answer
        expected = fresh.standalone_question(FOLLOW_UP, history)
        assert answer.trace.standalone_question == expected, name
