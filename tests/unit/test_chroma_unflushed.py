"""A reader whose collection another process has not yet written to disk (Chroma's "Nothing
found on disk"): the dense search retries, then answers without vectors instead of failing
the question with an internal error (found by tests/e2e/test_background_embedding.py)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import chromadb.errors
import pytest

from vectorstore import chroma
from vectorstore.chroma import ChunkIndex

UNFLUSHED = chromadb.errors.InternalError(
    "Error executing plan: Internal error: Error creating hnsw segment reader: "
    "Nothing found on disk"
)
FOUND = {
    "ids": [["c1"]],
    "documents": [["Glaciers were surveyed in 1916."]],
    "metadatas": [[{"source": "glaciers.pdf", "page": 1, "doc_id": "d"}]],
    "distances": [[0.25]],
}


class Collection:
    """Fails the first ``failures`` reads as Chroma does, then answers."""

    def __init__(self, failures: int, error: Exception = UNFLUSHED) -> None:
        self.failures, self.error, self.reads = failures, error, 0

    def _read(self, answer: dict[str, Any]) -> dict[str, Any]:
        self.reads += 1
        if self.reads <= self.failures:
            raise self.error
        return answer

    def query(self, **_: Any) -> dict[str, Any]:
        return self._read(FOUND)

    def get(self, **_: Any) -> dict[str, Any]:
        return self._read({"ids": ["c1"], "embeddings": [[0.6, 0.8]]})


def index(collection: Collection) -> ChunkIndex:
    built = ChunkIndex.__new__(ChunkIndex)  # no client: only the collection is read
    built.store = SimpleNamespace(_collection=collection)  # what langchain_chroma holds
    return built


@pytest.fixture(autouse=True)
def _no_waiting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(chroma, "UNFLUSHED_WAITS_S", (0.0, 0.0, 0.0))


def test_a_read_retries_until_the_index_is_on_disk() -> None:
    collection = Collection(failures=2)
    found = index(collection).search([1.0, 0.0], 3)
    assert [(d.page_content, round(score, 2)) for d, score, _ in found] == [
        ("Glaciers were surveyed in 1916.", 0.75)
    ]
    assert collection.reads == 3
    assert index(Collection(failures=3)).vectors(["c1"]) == {"c1": [0.6, 0.8]}


def test_an_index_still_unwritten_gives_no_vectors_instead_of_an_error() -> None:
    collection = Collection(failures=99)
    assert index(collection).search([1.0, 0.0], 3) == []
    assert collection.reads == 4  # the first read and three retries
    assert index(Collection(failures=99)).vectors(["c1"]) == {}


def test_any_other_chroma_error_is_not_hidden() -> None:
    broken = Collection(failures=1, error=chromadb.errors.InternalError("Error finding id"))
    with pytest.raises(chromadb.errors.InternalError, match="Error finding id"):
        index(broken).search([1.0, 0.0], 3)
