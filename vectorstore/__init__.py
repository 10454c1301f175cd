"""Chroma-backed storage of chunks and the document registry. Only this package imports chromadb."""

from __future__ import annotations

from pathlib import Path

from chromadb.api import ClientAPI
from langchain_core.embeddings import Embeddings

from vectorstore.chroma import (
    ChromaServer,
    ChunkIndex,
    persistent_client,
    recorded_embedder,
    server_client,
)
from vectorstore.keyword import KeywordIndex
from vectorstore.registry import DocumentRecord, Registry
from vectorstore.store import DocumentStore

__all__ = ["ChromaServer", "DocumentRecord", "DocumentStore", "open_store", "stored_embedder"]


def _client(path: Path, server: ChromaServer | None) -> ClientAPI:
    if server is None:
        return persistent_client(path)
    path.mkdir(parents=True, exist_ok=True)
    return server_client(server)


def stored_embedder(path: Path, collection: str, server: ChromaServer | None = None) -> str | None:
    """Which embedder built ``collection`` (its recorded name), or None when it does not exist."""
    if server is None and not path.exists():
        return None
    return recorded_embedder(_client(path, server), collection)


def open_store(
    path: Path,
    collection: str,
    embeddings: Embeddings,
    embedder: str,
    server: ChromaServer | None = None,
) -> DocumentStore:
    """Chunks and registry in the embedded Chroma at ``path``, or on ``server``; the keyword
    index is a local SQLite file under ``path`` either way."""
    client = _client(path, server)
    return DocumentStore(
        ChunkIndex(client, collection, embeddings, embedder),
        Registry(client, f"{collection}_registry"),
        KeywordIndex(path / f"{collection}_keywords.sqlite3"),
    )
