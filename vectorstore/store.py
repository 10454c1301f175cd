"""Chunks and registry kept consistent: every change to documents goes through here.

A document is written in two steps (progressive indexing). First its chunks are *staged*:
into the keyword index and a queue in Chroma (``ChunkQueue``), and the document turns ready,
searchable by keywords within seconds of being added. Then its chunks get their vectors, a
window at a time (``embedded``): each moves from the queue into the chunk index, which dense
search reads. A chunk is always in the keyword index and in exactly one of the two; a crash
between the two writes of ``embedded`` leaves it in both, which ``recover`` settles.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from itertools import chain
from typing import Protocol

from langchain_core.documents import Document

from vectorstore.chroma import ChunkIndex, ChunkQueue
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


@dataclass(frozen=True)
class Indexing:
    """How much of the meaning (dense) index is built: chunks still waiting for their vector,
    of all the chunks of the searchable documents, overall and by document id."""

    waiting: int
    chunks: int
    by_document: dict[str, int]  # doc id -> its chunks still waiting (only those with some)

    @property
    def done(self) -> bool:
        return self.waiting == 0

    @property
    def share(self) -> float:
        """The part of the chunks that have their vector (1.0 when none waits)."""
        return 1.0 if not self.chunks else max(0.0, 1.0 - self.waiting / self.chunks)


class DocumentStore:
    def __init__(
        self,
        chunks: ChunkIndex,
        registry: Registry,
        keyword: KeywordIndex,
        queue: ChunkQueue,
        marker: Marker | None = None,
    ) -> None:
        self.chunks = chunks
        self.registry = registry
        self.keyword = keyword
        self.queue = queue
        self.marker: Marker = marker or LocalMarker(keyword)
        self._keyword_checked = False
        # (registry version, pending ids, ready chunks, registry size): re-read when the
        # version moves.
        self._registry_state: tuple[str, list[str], int, int] | None = None

    # -- writing one document: begin, add batches, commit ---------------------------------
    def begin(self, *records: DocumentRecord) -> None:
        self.registry.put(*(replace(r, status="pending") for r in records))
        self.marker.bump()

    def add(self, chunks: Sequence[Document], vectors: Sequence[Sequence[float]]) -> None:
        """Chunks with their vectors (kept from the file's earlier version)."""
        self.chunks.add(chunks, vectors)
        self.keyword.add(chunks)

    def stage(self, chunks: Sequence[Document]) -> None:
        """Chunks searchable by keywords now, their vectors to come (``embedded``)."""
        self.queue.add(chunks)
        self.keyword.add(chunks)

    def waiting(self, limit: int) -> list[Document]:
        """Up to ``limit`` chunks waiting for their vectors, oldest first."""
        return self.queue.first(limit)

    def embedded(self, chunks: Sequence[Document], vectors: Sequence[Sequence[float]]) -> int:
        """Waiting chunks with their vectors: into the chunk index, then off the queue. A
        chunk no longer waiting (its document deleted or replaced meanwhile) is left out, so
        call this under the ingest lock. Returns how many were written."""
        still = self.queue.present([str(c.id) for c in chunks])
        kept = [(c, v) for c, v in zip(chunks, vectors, strict=True) if str(c.id) in still]
        if kept:
            self.chunks.add([c for c, _ in kept], [v for _, v in kept])
            self.queue.remove([str(c.id) for c, _ in kept])
        return len(kept)

    def indexing(self, by_document: bool = False) -> Indexing:
        """How far the meaning index is (``Indexing``); counting per document reads the
        whole queue, so only when asked."""
        waiting = self.queue.count()
        _, chunks, _ = self._registry()
        per_doc = dict(Counter(self.queue.owners().values())) if by_document and waiting else {}
        return Indexing(waiting, max(chunks, waiting), per_doc)

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

    def missing(self) -> list[DocumentRecord]:
        """Documents whose file a sync found gone: kept, not searched (``mark_missing``)."""
        return self.registry.all(status="missing")

    def mark_missing(self, record: DocumentRecord, since: str) -> None:
        """Leave a document out of every search from now on, keeping its chunks and vectors
        (its file may come back: ``restore``)."""
        self.registry.put(replace(record, status="missing", missing_since=since))
        self.marker.bump()

    def restore(self, record: DocumentRecord) -> None:
        """A missing document is back, searchable as before (nothing embedded again)."""
        self.registry.put(replace(record, status="ready", missing_since=""))
        self.marker.bump()

    def find(self, source: str, missing: bool = False) -> DocumentRecord | None:
        """The newest ready version of a document, or also a missing one with ``missing``."""
        wanted = ("ready", "missing") if missing else ("ready",)
        ready = [r for r in self.registry.by_source(source) if r.status in wanted]
        return max(ready, key=lambda r: r.ingested_at) if ready else None

    def delete(self, source: str) -> int:
        """Remove every version of a document; returns how many chunks went with it."""
        removed = 0
        for record in self.registry.by_source(source):
            removed += self.chunks.count(record.doc_id) + self.queue.count(record.doc_id)
            self._drop(record.doc_id)
        return removed

    def _registry(self) -> tuple[list[str], int, int]:
        """Pending ids and registry size, re-read from Chroma only after a registry change
        (every writer bumps the version after writing, so a reader never keeps stale state).
        When it moved, another instance may have added or removed documents: the local keyword
        index catches up before the next keyword search."""
        version = self.marker.version()
        state = self._registry_state
        if state is None or state[0] != version:
            if state is not None:
                self._keyword_checked = False
            records = self.registry.all()
            pending = [r.doc_id for r in records if r.status != "ready"]
            chunks = sum(r.chunks for r in records if r.status != "pending")
            state = (version, pending, chunks, len(records))
            self._registry_state = state
        return state[1], state[2], state[3]

    def pending(self) -> list[str]:
        """Ids of documents searches leave out: being written, or whose file went missing
        (usually none)."""
        return self._registry()[0]

    def has_documents(self, pending: Sequence[str] | None = None) -> bool:
        """Any ready document?"""
        waiting, _, size = self._registry()
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
        found = self.chunk_documents(list(hits))
        return [(found[i], score) for i, score in hits.items() if i in found]

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

    def document_chunks(self, doc_ids: Sequence[str]) -> list[Document]:
        """Every chunk of these documents, embedded or still waiting for its vector, once each
        (a summary reads a document whole)."""
        found = {str(d.id): d for d in self.queue.document_chunks(doc_ids)}
        found.update((str(d.id), d) for d in self.chunks.document_chunks(doc_ids))
        return list(found.values())

    def chunk_documents(self, ids: Sequence[str]) -> dict[str, Document]:
        """The chunks Chroma has of ``ids``, by id (an id deleted since a search is absent),
        from the chunk index or, still waiting for their vectors, the queue."""
        found = {str(d.id): d for d in self.chunks.get(ids)}
        rest = [i for i in ids if i not in found]
        if rest and self.queue.count():
            found.update((str(d.id), d) for d in self.queue.get(rest))
        return found

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
        if self.keyword.count() == 0 and self.chunks.count() + self.queue.count():
            self.keyword.replace_all(self.all_chunks())
            return "keyword index was missing: rebuilt it from the vector store"
        lacking = self.keyword.outdated()
        if lacking:
            self.keyword.replace_all(self.all_chunks())
            return f"keyword index predates {lacking}: rebuilt it from the vector store"
        indexed = set(self.keyword.owners().values())
        ready = {r.doc_id for r in self.registry.all() if r.status != "pending"}
        pending = set(self.pending())
        gone, missing = indexed - ready - pending, ready - indexed
        for doc_id in gone:
            self.keyword.delete_document(doc_id)
        if missing:
            ids = sorted(missing)
            self.keyword.add(self.chunks.document_chunks(ids) + self.queue.document_chunks(ids))
        if self.keyword.count() != self.chunks.count() + self.queue.count() and (
            set(self.keyword.owners()) != set(self.chunks.owners()) | set(self.queue.owners())
        ):  # a document's chunks half indexed
            self.keyword.replace_all(self.all_chunks())
            return "keyword index was out of step with the vector store: rebuilt it"
        if gone or missing:
            return (
                f"keyword index caught up with the vector store: {len(missing)} document(s) "
                f"added, {len(gone)} removed"
            )
        return None

    def all_chunks(self) -> Iterator[Document]:
        """Every stored chunk: with its vector, or waiting for it."""
        return chain(self.chunks.all_chunks(), self.queue.all_chunks())

    def settle(self) -> int:
        """Take off the queue the chunks whose vectors are stored already (a run killed
        between the two writes of ``embedded``); returns how many."""
        queued = list(self.queue.owners())
        done = [i for at in range(0, len(queued), 5000)
                for i in self.chunks.present(queued[at : at + 5000])]  # fmt: skip
        self.queue.remove(done)
        return len(done)

    def recover(self) -> list[str]:
        """Undo what an interrupted run left: pending documents, superseded versions, chunks
        both embedded and queued."""
        notes: list[str] = [note for note in [self.sync_keyword()] if note]
        if settled := self.settle():
            notes.append(f"{settled} chunk(s) embedded by an interrupted run left the queue")
        for record in self.registry.all(status="pending"):
            self._drop(record.doc_id)
            notes.append(f"{record.source}: removed a partial ingest left by an interrupted run")
        newest: dict[str, DocumentRecord] = {}
        for record in (r for r in self.registry.all() if r.status != "pending"):
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
        self.queue.delete_document(doc_id)
        self.keyword.delete_document(doc_id)
        self.registry.remove(doc_id)
        self.marker.bump()
