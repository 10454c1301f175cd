"""Chunks and registry kept consistent: every change to documents goes through here."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from langchain_core.documents import Document

from vectorstore.chroma import ChunkIndex
from vectorstore.registry import DocumentRecord, Registry


class DocumentStore:
    def __init__(self, chunks: ChunkIndex, registry: Registry) -> None:
        self.chunks = chunks
        self.registry = registry

    # -- writing one document: begin, add batches, commit ---------------------------------
    def begin(self, record: DocumentRecord) -> None:
        self.registry.put(replace(record, status="pending"))

    def add(self, chunks: Sequence[Document], vectors: Sequence[Sequence[float]]) -> None:
        self.chunks.add(chunks, vectors)

    def commit(self, record: DocumentRecord) -> None:
        """Make the document visible, then drop any older version of the same file."""
        self.registry.put(replace(record, status="ready"))
        for old in self.registry.by_source(record.source):
            if old.doc_id != record.doc_id:
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

    def search(self, vector: Sequence[float], k: int) -> list[tuple[Document, float]]:
        """Top-k chunks of ready documents only (a half-written document is never seen)."""
        return self.chunks.search(vector, k, sorted(self.registry.ready_ids()))

    # -- repair ---------------------------------------------------------------------------
    def recover(self) -> list[str]:
        """Undo what an interrupted run left: pending documents, superseded versions."""
        notes: list[str] = []
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
        self.registry.remove(doc_id)
