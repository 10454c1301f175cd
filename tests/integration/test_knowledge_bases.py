"""Knowledge bases: separate sets of documents in one data dir, with the real embedder, model
and Chroma."""

from __future__ import annotations

import pytest

from rag_app.errors import RagError
from rag_app.knowledge import delete_knowledge_base, knowledge_bases, with_knowledge_base
from rag_app.retrieval.strategies import STRATEGIES
from rag_app.service import RagService
from rag_app.settings import Settings
from tests.support.guides import CITY, OTHER_CITY


@pytest.fixture
def two_bases(settings: Settings, real_models: tuple) -> tuple[RagService, RagService]:
    """The default knowledge base holds one city's guide, "Papers" the other's."""
    embeddings, chat = real_models
    knowledge_bases(settings).create("Papers")
    default = RagService(settings, embeddings=embeddings, chat_model=chat)
    papers = RagService(
        with_knowledge_base(settings, "papers"), embeddings=embeddings, chat_model=chat
    )
    default.ingest_texts([("ciudad", CITY)])
    papers.ingest_texts([("otra", OTHER_CITY)])
    return default, papers


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_a_question_in_one_knowledge_base_never_sees_another(
    two_bases: tuple[RagService, RagService], strategy: str
) -> None:
    default, papers = two_bases
    question = "¿Quién fundó la universidad?"
    assert {s.source for s in papers.retrieve(question, k=8, strategy=strategy)} == {"otra"}
    assert {s.source for s in default.retrieve(question, k=8, strategy=strategy)} == {"ciudad"}


def test_deleting_a_knowledge_base_leaves_the_others_intact(
    settings: Settings, two_bases: tuple[RagService, RagService]
) -> None:
    default, _ = two_bases
    base, chunks = delete_knowledge_base(settings, "PAPERS")
    assert (base.name, chunks) == ("Papers", len(OTHER_CITY))
    assert [kb.name for kb in knowledge_bases(settings).all()] == ["default"]
    assert [d.source for d in default.documents()] == ["ciudad"]
    assert "Gelmírez" in default.ask("¿Quién fundó la universidad?", mode="evidence").answer
    with pytest.raises(RagError, match="knowledge base 'Papers': not found"):
        with_knowledge_base(settings, "Papers")
    # The name is free again, and the new knowledge base starts empty.
    knowledge_bases(settings).create("Papers")
    assert RagService(with_knowledge_base(settings, "Papers")).documents() == []
