"""Chroma-backed storage of chunks and the document registry. Only this package imports chromadb."""

from __future__ import annotations

from pathlib import Path

from langchain_core.embeddings import Embeddings

from vectorstore.chroma import ChromaServer, ChunkIndex, persistent_client, server_client
from vectorstore.keyword import KeywordIndex
from vectorstore.registry import DocumentRecord, Registry
from vectorstore.store import DocumentStore

__all__ = ["ChromaServer", "DocumentRecord", "DocumentStore", "open_store"]


def open_store(
    path: Path,
    collection: str,
    embeddings: Embeddings,
    embedder: str,
    server: ChromaServer | None = None,
) -> DocumentStore:
    """Chunks and registry in the embedded Chroma at ``path``, or on ``server``; the keyword
    index is a local SQLite file under ``path`` either way."""
    if server is None:
        client = persistent_client(path)
    else:
        client = server_client(server)
        path.mkdir(parents=True, exist_ok=True)
    return DocumentStore(
        ChunkIndex(client, collection, embeddings, embedder),
        Registry(client, f"{collection}_registry"),
        KeywordIndex(path / f"{collection}_keywords.sqlite3"),
    )
