"""The Chroma side of the store: a client, the chunk collection, and the registry collection.

Vectors always come from the injected LangChain ``Embeddings`` (``embedding_function=None`` on
the Chroma side), so Chroma never downloads its own default model.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import chromadb
import chromadb.errors
from chromadb.api import ClientAPI
from chromadb.config import Settings as ChromaSettings
from langchain_chroma import Chroma
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings

from rag_app.errors import RagError, first_line

EMBEDDER_KEY = "embedder"
_NO_VECTOR: list[Sequence[float]] = [[0.0]]  # records that hold no vector


def persistent_client(path: Path) -> ClientAPI:
    """An embedded, on-disk Chroma client; telemetry off."""
    logging.getLogger("chromadb.telemetry").setLevel(logging.CRITICAL)
    try:
        path.mkdir(parents=True, exist_ok=True)
        if not os.access(path, os.W_OK | os.X_OK):
            raise RagError(
                f"data dir {path}: not writable; fix its permissions or set RAG_DATA_DIR"
            )
        return chromadb.PersistentClient(
            path=str(path), settings=ChromaSettings(anonymized_telemetry=False)
        )
    except OSError as exc:
        raise RagError(f"data dir {path}: cannot be used ({exc}); set RAG_DATA_DIR") from None


@dataclass(frozen=True)
class ChromaServer:
    """Where a Chroma server (``chroma run``) listens, and the token to send it, if any."""

    host: str
    port: int = 8000
    ssl: bool = False
    token: str = field(default="", repr=False)

    @property
    def url(self) -> str:
        return f"{'https' if self.ssl else 'http'}://{self.host}:{self.port}"


def server_client(server: ChromaServer) -> ClientAPI:
    """A client of a Chroma server; fails in one line (which URL, what to do) if unreachable."""
    logging.getLogger("chromadb.telemetry").setLevel(logging.CRITICAL)
    headers = {"Authorization": f"Bearer {server.token}"} if server.token else None
    try:
        client = chromadb.HttpClient(
            host=server.host,
            port=server.port,
            ssl=server.ssl,
            headers=headers,
            settings=ChromaSettings(anonymized_telemetry=False),
        )
        client.heartbeat()
    except Exception as exc:  # chromadb raises ValueError, httpx errors, or its own per case
        detail = first_line(exc) or type(exc).__name__
        raise RagError(
            f"Chroma server {server.url}: unreachable ({detail}); start it with `chroma run "
            f"--path DIR --host {server.host} --port {server.port}` or fix "
            "RAG_VECTORSTORE__HOST/PORT, or unset RAG_VECTORSTORE__HOST for the embedded store"
        ) from None
    return client


def recorded_embedder(client: ClientAPI, name: str) -> str | None:
    """The embedder a collection records it was built with; None if there is no collection."""
    try:
        collection = client.get_collection(name)
    except Exception:  # chromadb raises NotFoundError or ValueError, by version
        return None
    found = (collection.metadata or {}).get(EMBEDDER_KEY)
    return str(found) if found else None


class _Chunks:
    """What the chunk index and the queue of chunks waiting for vectors share: a Chroma
    collection of chunks (text, metadata), read by id or by document."""

    collection: Any

    def delete_document(self, doc_id: str) -> None:
        self.collection.delete(where={"doc_id": doc_id})

    def count(self, doc_id: str | None = None) -> int:
        if doc_id is None:
            return int(self.collection.count())
        return len(self.collection.get(where={"doc_id": doc_id}, include=[])["ids"])

    def owners(self, batch: int = 5000) -> dict[str, str]:
        """Every chunk id with the id of its document."""
        found: dict[str, str] = {}
        offset = 0
        while True:
            got = self.collection.get(include=["metadatas"], limit=batch, offset=offset)
            if not got["ids"]:
                return found
            for i, meta in zip(got["ids"], got["metadatas"], strict=True):
                found[i] = str((meta or {}).get("doc_id", ""))
            offset += len(got["ids"])

    def present(self, ids: Sequence[str]) -> set[str]:
        """Which of ``ids`` are here."""
        if not ids:
            return set()
        return set(self.collection.get(ids=list(ids), include=[])["ids"])

    def get(self, ids: Sequence[str]) -> list[Document]:
        """Chunks by id, in the order asked (missing ones left out)."""
        if not ids:
            return []
        got = self.collection.get(ids=list(ids), include=["documents", "metadatas"])
        found = {d.id: d for d in _documents(got["ids"], got["documents"], got["metadatas"])}
        return [found[i] for i in ids if i in found]

    def document_chunks(self, doc_ids: Sequence[str]) -> list[Document]:
        """Every chunk of these documents."""
        if not doc_ids:
            return []
        got = self.collection.get(
            where={"doc_id": {"$in": list(doc_ids)}}, include=["documents", "metadatas"]
        )
        return _documents(got["ids"], got["documents"], got["metadatas"])

    def all_chunks(self, batch: int = 2000) -> Iterator[Document]:
        offset = 0
        while True:
            got = self.collection.get(
                include=["documents", "metadatas"], limit=batch, offset=offset
            )
            if not got["ids"]:
                return
            yield from _documents(got["ids"], got["documents"], got["metadatas"])
            offset += len(got["ids"])


# Another process (a background `rag docs embed`, a replica) may have added a collection's first
# vectors without yet writing its HNSW index to disk. Until it does, Chroma fails a reader in
# this process with "Error creating hnsw segment reader: Nothing found on disk"
# (chroma-core/chroma#4212). A read retries for a moment, then goes on without the vectors:
# dense search finds nothing and keywords answer, as while the meaning index is being built.
T = TypeVar("T")
UNFLUSHED = "Nothing found on disk"
UNFLUSHED_WAITS_S = (0.2, 0.5, 1.0)


def _while_unflushed(read: Callable[[], T]) -> T | None:
    """``read()``; None if the index stays unwritten through the retries (see above)."""
    for wait in (*UNFLUSHED_WAITS_S, None):
        try:
            return read()
        except chromadb.errors.InternalError as exc:
            if UNFLUSHED not in str(exc):
                raise
            if wait is None:
                logging.getLogger(__name__).warning("vectors not on disk yet: %s", exc)
                return None
            time.sleep(wait)
    return None


class ChunkIndex(_Chunks):
    """Chunks with their vectors; searched by cosine similarity (score = 1 - cosine distance)."""

    def __init__(
        self, client: ClientAPI, name: str, embeddings: Embeddings, embedder_name: str
    ) -> None:
        self.client = client
        self.embeddings = embeddings
        self.store = Chroma(
            client=client,
            collection_name=name,
            embedding_function=embeddings,
            collection_metadata={"hnsw:space": "cosine", EMBEDDER_KEY: embedder_name},
        )
        stored = (self.collection.metadata or {}).get(EMBEDDER_KEY)
        if stored and stored != embedder_name:
            raise RagError(
                f"collection '{name}' was built with embedder {stored!r}, but the settings name "
                f"{embedder_name!r}; set RAG_EMBEDDING__MODEL back, or use another RAG_DATA_DIR "
                "or RAG_COLLECTION and ingest again"
            )

    @property
    def collection(self) -> Any:
        return self.store._collection

    def add(self, chunks: Sequence[Document], vectors: Sequence[Sequence[float]]) -> None:
        """Upsert, so re-adding a chunk after an interrupted run never duplicates it."""
        self.collection.upsert(
            ids=[c.id for c in chunks],
            embeddings=[list(v) for v in vectors],
            documents=[c.page_content for c in chunks],
            metadatas=[c.metadata for c in chunks],
        )

    def search(
        self,
        vector: Sequence[float],
        k: int,
        excluded: Sequence[str] = (),
        with_vectors: bool = False,
        only: Sequence[str] | None = None,
    ) -> list[tuple[Document, float, list[float] | None]]:
        """Top-k chunks outside the documents ``excluded`` and, when ``only`` is given, inside
        those documents (both filtered inside Chroma, before the top k), with cosine
        similarity and, when asked (for MMR), their stored vectors."""
        if k <= 0 or (only is not None and not only):
            return []
        where = doc_filter(excluded, only)
        include = ["documents", "metadatas", "distances"] + (["embeddings"] if with_vectors else [])
        got = _while_unflushed(
            lambda: self.collection.query(
                query_embeddings=[list(vector)], n_results=k, where=where, include=include
            )
        )
        if got is None:  # the vectors are not on disk yet: keywords answer meanwhile
            return []
        docs = _documents(got["ids"][0], got["documents"][0], got["metadatas"][0])
        vectors = got["embeddings"][0] if with_vectors else [None] * len(docs)
        return [
            (doc, 1.0 - float(distance), None if v is None else [float(x) for x in v])
            for doc, distance, v in zip(docs, got["distances"][0], vectors, strict=True)
        ]

    def vectors(self, ids: Sequence[str]) -> dict[str, list[float]]:
        if not ids:
            return {}
        got = _while_unflushed(lambda: self.collection.get(ids=list(ids), include=["embeddings"]))
        if got is None:  # not on disk yet: the caller embeds the texts it needs instead
            return {}
        return {
            i: [float(x) for x in v] for i, v in zip(got["ids"], got["embeddings"], strict=True)
        }

    def vectors_by_text(self, doc_id: str) -> dict[str, list[float]]:
        """One document's vectors keyed by chunk text (same collection, so same embedder)."""
        got = self.collection.get(where={"doc_id": doc_id}, include=["documents", "embeddings"])
        return {
            text: [float(x) for x in vector]
            for text, vector in zip(got["documents"], got["embeddings"], strict=True)
        }


class ChunkQueue(_Chunks):
    """Chunks searchable by keywords that wait for their vectors (progressive indexing): text
    and metadata kept in Chroma beside the chunk index, so every instance sharing the store
    (replicas on one Chroma server too) finds them by keywords and sees how many wait. A chunk
    leaves the queue once its vector is in the chunk index."""

    def __init__(self, client: ClientAPI, name: str) -> None:
        self.collection = client.get_or_create_collection(name=name, embedding_function=None)

    def add(self, chunks: Sequence[Document]) -> None:
        if chunks:
            self.collection.upsert(
                ids=[str(c.id) for c in chunks],
                embeddings=_NO_VECTOR * len(chunks),
                documents=[c.page_content for c in chunks],
                metadatas=[c.metadata for c in chunks],
            )

    def remove(self, ids: Sequence[str]) -> None:
        if ids:
            self.collection.delete(ids=list(ids))

    def first(self, limit: int) -> list[Document]:
        """Up to ``limit`` waiting chunks, oldest first."""
        got = self.collection.get(include=["documents", "metadatas"], limit=limit)
        return _documents(got["ids"], got["documents"], got["metadatas"])


class ChromaMarker:
    """The registry's change marker kept in Chroma, for instances that share a Chroma server
    but not a data dir: a random token rewritten on every change (no read-modify-write to
    race on; any change gives a new value)."""

    ID = "registry"

    def __init__(self, client: ClientAPI, name: str) -> None:
        self.collection = client.get_or_create_collection(name=name, embedding_function=None)

    def version(self) -> str:
        got = self.collection.get(ids=[self.ID], include=["metadatas"])
        metas = got["metadatas"] or []
        return str(metas[0].get("token", "")) if metas and metas[0] else ""

    def bump(self) -> None:
        self.collection.upsert(
            ids=[self.ID], embeddings=_NO_VECTOR, metadatas=[{"token": uuid.uuid4().hex}]
        )


def doc_filter(excluded: Sequence[str], only: Sequence[str] | None) -> dict[str, Any] | None:
    """Chroma's ``where`` for chunks of documents in ``only`` (all, when None) and not in
    ``excluded``."""
    clauses: list[dict[str, Any]] = []
    if only is not None:
        clauses.append({"doc_id": {"$in": list(only)}})
    if excluded:
        clauses.append({"doc_id": {"$nin": list(excluded)}})
    if len(clauses) > 1:
        return {"$and": clauses}
    return clauses[0] if clauses else None


def _documents(ids: Sequence[str], texts: Sequence[Any], metas: Sequence[Any]) -> list[Document]:
    """Chroma's parallel result lists as LangChain documents."""
    return [
        Document(id=i, page_content=text, metadata=dict(meta or {}))
        for i, text, meta in zip(ids, texts, metas, strict=True)
    ]


class ChromaLease:
    """A lock shared by every instance of a Chroma server, for one writer at a time: a record
    naming its holder and when the hold expires. The holder renews it while it works; a holder
    that was killed stops renewing, and after ``ttl_s`` the others may take it.

    Chroma has no compare-and-set, so taking it is: see it free, write it, wait a moment, and
    read it back; of two instances that wrote at once only the last writer reads itself.
    """

    ID = "ingest"

    def __init__(self, client: ClientAPI, name: str, ttl_s: float = 60.0) -> None:
        self.collection = client.get_or_create_collection(name=name, embedding_function=None)
        self.owner, self.ttl_s = uuid.uuid4().hex, ttl_s
        self._stop = threading.Event()
        self._renewer: threading.Thread | None = None

    def _holder(self) -> tuple[str, float]:
        got = self.collection.get(ids=[self.ID], include=["metadatas"])
        metas = got["metadatas"] or []
        if not metas or not metas[0]:
            return "", 0.0
        return str(metas[0].get("owner", "")), float(metas[0].get("expires", 0.0))  # type: ignore[arg-type]

    def _write(self) -> None:
        self.collection.upsert(
            ids=[self.ID],
            embeddings=_NO_VECTOR,
            metadatas=[{"owner": self.owner, "expires": time.time() + self.ttl_s}],
        )

    def acquire(self, timeout_s: float, settle_s: float = 0.3) -> bool:
        deadline = time.monotonic() + timeout_s
        while True:
            owner, expires = self._holder()
            if not owner or owner == self.owner or expires < time.time():
                self._write()
                time.sleep(settle_s)
                if self._holder()[0] == self.owner:
                    self._stop.clear()
                    self._renewer = threading.Thread(target=self._renew, daemon=True)
                    self._renewer.start()
                    return True
            if time.monotonic() > deadline:
                return False
            time.sleep(min(1.0, max(0.1, expires - time.time())) if owner else settle_s)

    def _renew(self) -> None:
        while not self._stop.wait(self.ttl_s / 3):
            if self._holder()[0] == self.owner:
                self._write()

    def release(self) -> None:
        self._stop.set()
        if self._renewer is not None:
            self._renewer.join(timeout=5)
        if self._holder()[0] == self.owner:
            self.collection.delete(ids=[self.ID])
