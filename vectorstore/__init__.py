"""Chroma-backed storage of chunks and the document registry. Only this package imports chromadb."""

from __future__ import annotations

from pathlib import Path

from langchain_core.embeddings import Embeddings

from vectorstore.chroma import ChunkIndex, persistent_client
from vectorstore.keyword import KeywordIndex
from vectorstore.registry import DocumentRecord, Registry
from vectorstore.store import DocumentStore

__all__ = ["DocumentRecord", "DocumentStore", "open_store"]


def open_store(path: Path, collection: str, embeddings: Embeddings, embedder: str) -> DocumentStore:
    client = persistent_client(path)
    return DocumentStore(
        ChunkIndex(client, collection, embeddings, embedder),
        Registry(client, f"{collection}_registry"),
        KeywordIndex(path / f"{collection}_keywords.sqlite3"),
    )
