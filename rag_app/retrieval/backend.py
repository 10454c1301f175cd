"""The store and the embedder as retrieval strategies see them, limited to what a question may
search (``Askable``: never half-written documents; only the named ones, when named)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings

from vectorstore.store import DocumentStore


@dataclass(frozen=True)
class Askable:
    """What the cheap checks of a question found (``RagService.check_askable``)."""

    strategy: str
    pending: list[str]  # ids of half-written documents: never searched
    only: list[str] | None  # ids of the documents the question is limited to (None: all)
    # The part of the chunks that have their vector while the meaning index is still being
    # built (None once it is): the rest are found by keywords only.
    meaning_indexed: float | None = None


class StoreBackend:
    """The store and the embedder, as retrieval strategies see them."""

    def __init__(
        self,
        store: DocumentStore,
        embeddings: Embeddings,
        pending: Sequence[str] | None = None,
        only: Sequence[str] | None = None,
    ) -> None:
        self.store, self.embeddings, self.pending, self.only = store, embeddings, pending, only

    def embed(self, text: str) -> list[float]:
        return self.embeddings.embed_query(text)

    def embed_passage(self, text: str) -> list[float]:
        return self.embeddings.embed_documents([text])[0]

    def dense(
        self, vector: Sequence[float], k: int, with_vectors: bool = False
    ) -> list[tuple[Document, float, list[float] | None]]:
        return self.store.search(vector, k, with_vectors, self.pending, self.only)

    def keyword(self, query: str, k: int) -> list[tuple[str, float]]:
        return self.store.keyword_hits(query, k, self.pending, self.only)

    def pages(self, query: str, k: int) -> list[tuple[str, float]]:
        return self.store.page_hits(query, k, self.pending, self.only)

    def documents(self, ids: Sequence[str]) -> dict[str, Document]:
        return self.store.chunk_documents(ids)

    def cosine(self, vector: Sequence[float], docs: Sequence[Document]) -> list[float]:
        """Each chunk's cosine to ``vector``, from its stored vector, or, for a chunk still
        waiting for one (found by keywords while the meaning index is built), embedded now."""
        stored = self.store.chunks.vectors([str(d.id) for d in docs])
        waiting = [d for d in docs if str(d.id) not in stored]
        if waiting:
            fresh = self.embeddings.embed_documents([d.page_content for d in waiting])
            stored.update(zip((str(d.id) for d in waiting), fresh, strict=True))
        return [
            sum(a * b for a, b in zip(vector, stored.get(str(d.id), []), strict=False))
            for d in docs
        ]
