"""Chroma-backed storage of chunks and the document registry. Only this package imports chromadb."""

from __future__ import annotations

from pathlib import Path

from chromadb.api import ClientAPI
from langchain_core.embeddings import Embeddings

from vectorstore.chroma import (
    ChromaLease,
    ChromaMarker,
    ChromaServer,
    ChunkIndex,
    ChunkQueue,
    persistent_client,
    recorded_embedder,
    server_client,
)
from vectorstore.keyword import KeywordIndex, Tokenizer
from vectorstore.knowledge import KnowledgeBase, KnowledgeBases
from vectorstore.registry import DocumentRecord, Registry
from vectorstore.store import DocumentStore

__all__ = [
    "ChromaServer",
    "DocumentRecord",
    "DocumentStore",
    "KnowledgeBase",
    "KnowledgeBases",
    "drop_store",
    "ingest_lease",
    "knowledge_bases",
    "open_store",
    "stored_embedder",
]


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
    tokenizer: Tokenizer,
    server: ChromaServer | None = None,
) -> DocumentStore:
    """Chunks and registry in the embedded Chroma at ``path``, or on ``server``; the keyword
    index is a local SQLite file under ``path`` either way, its words cut by ``tokenizer``."""
    client = _client(path, server)
    return DocumentStore(
        ChunkIndex(client, collection, embeddings, embedder),
        Registry(client, f"{collection}_registry"),
        KeywordIndex(_keyword_file(path, collection), tokenizer),
        ChunkQueue(client, f"{collection}_queue"),
        # Instances sharing a server share no data dir: the marker lives on the server.
        None if server is None else ChromaMarker(client, f"{collection}_marker"),
    )


def _keyword_file(path: Path, collection: str) -> Path:
    return path / f"{collection}_keywords.sqlite3"


def ingest_lease(
    server: ChromaServer, collection: str, ttl_s: float = 60.0, name: str = "lease"
) -> ChromaLease:
    """The lock every instance on this Chroma server takes to write into ``collection``
    (``name`` "lease"), or to embed its waiting chunks ("embed")."""
    return ChromaLease(server_client(server), f"{collection}_{name}", ttl_s)


def knowledge_bases(
    path: Path, default_collection: str, server: ChromaServer | None = None
) -> KnowledgeBases:
    return KnowledgeBases(_client(path, server), default_collection)


def drop_store(path: Path, collection: str, server: ChromaServer | None = None) -> int:
    """Delete a store whole: its chunks, its registry and its keyword index. Returns how many
    chunks it held (0 when there was nothing)."""
    client = _client(path, server)
    names = {c.name for c in client.list_collections()}
    chunks = client.get_collection(collection).count() if collection in names else 0
    for name in (
        collection,
        *(f"{collection}_{part}" for part in ("registry", "marker", "lease", "queue", "embed")),
    ):
        if name in names:
            client.delete_collection(name)
    keywords = _keyword_file(path, collection)
    for suffix in ("", "-wal", "-shm"):
        keywords.with_name(keywords.name + suffix).unlink(missing_ok=True)
    return int(chunks)
