"""Chunks and registry kept consistent: every change to documents goes through here."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Protocol

from langchain_core.documents import Document

from vectorstore.chroma import ChunkIndex
from vectorstore.keyword import KeywordIndex
from vectorstore.registry import DocumentRecord, Registry


class Marker(Protocol):
    """Moves after every change to the registry, by any writer that shares the store."""

    def version(self) -> str: ...
    def bump(self) -> None: ...


class LocalMarker:
    """The marker in the keyword index's SQLite file: every process using this data dir
    (the UI, the CLI) shares it, and reading it costs microseconds."""

    def __init__(self, keyword: KeywordIndex) -> None:
        self.keyword = keyword

    def version(self) -> str:
        return str(self.keyword.registry_version())

    def bump(self) -> None:
        self.keyword.bump_registry_version()


class DocumentStore:
    def __init__(
        self,
        chunks: ChunkIndex,
        registry: Registry,
        keyword: KeywordIndex,
        marker: Marker | None = None,
    ) -> None:
        self.chunks = chunks
        self.registry = registry
        self.keyword = keyword
        self.marker: Marker = marker or LocalMarker(keyword)
        self._keyword_checked = False
        # (registry version, pending ids, registry size): re-read when the version moves.
        self._registry_state: tuple[str, list[str], int] | None = None

    # -- writing one document: begin, add batches, commit ---------------------------------
    def begin(self, *records: DocumentRecord) -> None:
        self.registry.put(*(replace(r, status="pending") for r in records))
        self.marker.bump()

    def add(self, chunks: Sequence[Document], vectors: Sequence[Sequence[float]]) -> None:
        self.chunks.add(chunks, vectors)
        self.keyword.add(chunks)

    def commit(self, *records: DocumentRecord, previous: dict[str, DocumentRecord]) -> None:
        """Make documents visible, then drop the older version of each file.

        ``previous`` maps source -> the ready record read once at the start of the run; any
        other stale version (a crash between these two steps) is left to ``recover``.
        """
        self.registry.put(*(replace(r, status="ready") for r in records))
        self.marker.bump()
        for record in records:
            old = previous.get(record.source)
            if old is not None and old.doc_id != record.doc_id:
                self._drop(old.doc_id)

    # -- reading and deleting ---------------------------------------------------------------
    def documents(self) -> list[DocumentRecord]:
        return self.registry.all(status="ready")

    def find(self, source: str) -> DocumentRecord | None:
        ready = [r for r in self.registry.by_source(source) if r.status == "ready"]
        return max(ready, key=lambda r: r.ingested_at) if ready else None

    def delete(self, source: str) -> int:
        """Remove every version of a document; returns how many chunks went with it."""
        removed = 0
        for record in self.registry.by_source(source):
            removed += self.chunks.count(record.doc_id)
            self._drop(record.doc_id)
        return removed

    def _registry(self) -> tuple[list[str], int]:
        """Pending ids and registry size, re-read from Chroma only after a registry change
        (every writer bumps the version after writing, so a reader never keeps stale state).
        When it moved, another instance may have added or removed documents: the local keyword
        index catches up before the next keyword search."""
        version = self.marker.version()
        state = self._registry_state
        if state is None or state[0] != version:
            if state is not None:
                self._keyword_checked = False
            state = (version, self.registry.ids("pending"), self.registry.count())
            self._registry_state = state
        return state[1], state[2]

    def pending(self) -> list[str]:
        """Ids of documents being written (usually none): searches leave them out."""
        return self._registry()[0]

    def has_documents(self, pending: Sequence[str] | None = None) -> bool:
        """Any ready document?"""
        waiting, size = self._registry()
        return size > len(waiting if pending is None else pending)

    def search(
        self,
        vector: Sequence[float],
        k: int,
        with_vectors: bool = False,
        pending: Sequence[str] | None = None,
        only: Sequence[str] | None = None,
    ) -> list[tuple[Document, float, list[float] | None]]:
        """Dense top-k, never from a half-written (pending) document; only from the documents
        ``only`` names (doc ids) when given."""
        excluded = self.pending() if pending is None else pending
        return self.chunks.search(vector, k, excluded, with_vectors, only)

    def keyword_search(
        self,
        query: str,
        k: int,
        pending: Sequence[str] | None = None,
        only: Sequence[str] | None = None,
    ) -> list[tuple[Document, float]]:
        """BM25 top-k chunks (``keyword_hits``) with their text and metadata."""
        hits = dict(self.keyword_hits(query, k, pending, only))
        return [(doc, hits[str(doc.id)]) for doc in self.chunks.get(list(hits))]

    def keyword_hits(
        self,
        query: str,
        k: int,
        pending: Sequence[str] | None = None,
        only: Sequence[str] | None = None,
    ) -> list[tuple[str, float]]:
        """(chunk id, BM25 score) of the top-k chunks, never from a pending document (and only
        from ``only``'s documents when given)."""
        return self.keyword.search(query, k, self._keyword_excluded(pending), only)

    def page_hits(
        self,
        query: str,
        k: int,
        pending: Sequence[str] | None = None,
        only: Sequence[str] | None = None,
    ) -> list[tuple[str, float]]:
        """(chunk id, its page's BM25 score) of every chunk of the top-k pages (pending and
        ``only`` as in ``keyword_hits``). Ids only: a fusion fetches the few it keeps."""
        pages = self.keyword.search_pages(query, k, self._keyword_excluded(pending), only)
        return [(chunk_id, score) for chunks, score in pages for chunk_id in chunks]

    def chunk_documents(self, ids: Sequence[str]) -> dict[str, Document]:
        """The chunks Chroma has of ``ids``, by id (an id deleted since a search is absent)."""
        return {str(d.id): d for d in self.chunks.get(ids)}

    def page_match(
        self, query: str, pending: Sequence[str] | None = None, only: Sequence[str] | None = None
    ) -> float:
        """The best page's keyword match for the query (``KeywordIndex.page_match``)."""
        return self.keyword.page_match(query, self._keyword_excluded(pending), only)

    def _keyword_excluded(self, pending: Sequence[str] | None) -> Sequence[str]:
        """The keyword index brought in step with Chroma, and the documents its searches
        leave out: ``pending`` when the caller read it, else the store's pending ones."""
        self.sync_keyword()
        return self.pending() if pending is None else pending

    # -- repair ---------------------------------------------------------------------------
    def sync_keyword(self) -> str | None:
        """Bring the keyword index in step with Chroma: rebuilt whole when it is missing,
        else by document (what other instances added or removed since)."""
        if self._keyword_checked:
            return None
        self._keyword_checked = True
        if self.keyword.count() == 0 and self.chunks.count():
            self.keyword.replace_all(self.chunks.all_chunks())
            return "keyword index was missing: rebuilt it from the vector store"
        lacking = self.keyword.outdated()
        if lacking:
            self.keyword.replace_all(self.chunks.all_chunks())
            return f"keyword index predates {lacking}: rebuilt it from the vector store"
        indexed = set(self.keyword.owners().values())
        ready = {r.doc_id for r in self.registry.all(status="ready")}
        pending = set(self.pending())
        gone, missing = indexed - ready - pending, ready - indexed
        for doc_id in gone:
            self.keyword.delete_document(doc_id)
        if missing:
            self.keyword.add(self.chunks.document_chunks(sorted(missing)))
        if self.keyword.count() != self.chunks.count():  # a document's chunks half indexed
            self.keyword.replace_all(self.chunks.all_chunks())
            return "keyword index was out of step with the vector store: rebuilt it"
        if gone or missing:
            return (
                f"keyword index caught up with the vector store: {len(missing)} document(s) "
                f"added, {len(gone)} removed"
            )
        return None

    def recover(self) -> list[str]:
        """Undo what an interrupted run left: pending documents, superseded versions."""
        notes: list[str] = [note for note in [self.sync_keyword()] if note]
        for record in self.registry.all(status="pending"):
            self._drop(record.doc_id)
            notes.append(f"{record.source}: removed a partial ingest left by an interrupted run")
        newest: dict[str, DocumentRecord] = {}
        for record in self.registry.all(status="ready"):
            kept = newest.get(record.source)
            if kept is None or record.ingested_at >= kept.ingested_at:
                if kept is not None:
                    self._drop(kept.doc_id)
                newest[record.source] = record
            else:
                self._drop(record.doc_id)
        return notes

    def _drop(self, doc_id: str) -> None:
        self.chunks.delete_document(doc_id)
        self.keyword.delete_document(doc_id)
        self.registry.remove(doc_id)
        self.marker.bump()
