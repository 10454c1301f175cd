"""Documents (PDF and the formats of ingest/formats.py) to chunks in the store: parse all,
stage each (searchable by keywords at once), then give the chunks their vectors in the
background or before returning (``Embedder``)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings

from ingest.formats import FORMATS, load_document
from ingest.loaders import LoadedDocument, LoadOptions, file_sha256, find_documents
from ingest.splitter import document_id, split_document
from rag_app.errors import RagError
from vectorstore.registry import DocumentRecord
from vectorstore.store import DocumentStore

# Called as progress(stage, done, total, current file name); stage is "parse", "index"
# (searchable by keywords) or "embed" (the meaning index).
ProgressFn = Callable[[str, int, int, str], None]
# What reading one file gives: the document, its stored record when its bytes are unchanged,
# or the one-line reason it cannot be used.
Readout = LoadedDocument | DocumentRecord | str
# Chunks are embedded in windows of this many batches, shortest first: a batch is padded to
# its longest chunk, so batches of like lengths waste less (sentence-transformers sorts only
# within one call; measured: docs/BENCHMARKS.md).
BATCHES_PER_WINDOW = 8
# Documents read are staged (made searchable by keywords) together, in groups of at most this
# many chunks, or of what was read within STAGE_EVERY_S: a store write costs about 10 ms
# whatever its size, so staging documents one by one cost 18 ms each (1,000 notes: 18 s).
STAGE_BATCH = 1000
STAGE_EVERY_S = 1.0


@dataclass
class IngestReport:
    ingested: list[DocumentRecord] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)  # one line each: file, problem, remedy
    notes: list[str] = field(default_factory=list)
    # Chunks of changed files whose text the previous version already had: vectors reused.
    reused: int = 0
    # Chunks of the store still waiting for their vectors when the run returned (searchable
    # by keywords meanwhile): those of an ingest left to the background.
    waiting: int = 0
    # Chunks this run gave their vectors (also ones other runs staged: one embedder at a time
    # embeds whatever waits).
    embedded: int = 0

    @property
    def pages(self) -> int:
        return sum(r.pages for r in self.ingested)

    @property
    def chunks(self) -> int:
        return sum(r.chunks for r in self.ingested)

    def to_dict(self) -> dict[str, Any]:
        """What `rag ingest --json` prints and the API's upload returns."""
        return {
            "ingested": [
                {"source": r.source, "pages": r.pages, "chunks": r.chunks} for r in self.ingested
            ],
            "unchanged": self.unchanged,
            "reused_vectors": self.reused,
            "embedded_vectors": self.embedded,
            "waiting_vectors": self.waiting,
            "failed": self.failed,
            "notes": self.notes,
        }


def no_progress(stage: str, done: int, total: int, name: str) -> None:
    pass


@dataclass
class Ingestor:
    store: DocumentStore
    embeddings: Embeddings
    chunk_size: int
    chunk_overlap: int
    batch_size: int = 32
    load_options: LoadOptions = field(default_factory=LoadOptions)

    def ingest(self, paths: Iterable[Path], progress: ProgressFn = no_progress) -> IngestReport:
        """Files and folders of them (every supported format). A file whose bytes are already
        stored is not parsed (nor OCR'd) again: its hash alone says it is unchanged."""
        files, failed = find_documents(list(paths), FORMATS)

        def read(ready: dict[str, DocumentRecord]) -> Iterator[Readout]:
            for i, path in enumerate(files):
                progress("parse", i, len(files), path.name)
                known = ready.get(path.name)
                if known is not None and _same_bytes(path, known):
                    yield known
                    continue
                try:
                    yield load_document(path, self.load_options)
                except RagError as exc:
                    yield str(exc)
            progress("parse", len(files), len(files), "")

        return self._run(read, progress, failed)

    def ingest_documents(
        self,
        documents: Iterable[LoadedDocument | str],
        progress: ProgressFn = no_progress,
        failed: list[str] | None = None,
    ) -> IngestReport:
        """Documents already read (a string stands for one that failed to read)."""
        return self._run(lambda ready: documents, progress, failed)

    def _run(
        self,
        read: Callable[[dict[str, DocumentRecord]], Iterable[Readout]],
        progress: ProgressFn,
        failed: list[str] | None,
    ) -> IngestReport:
        """``read`` is called once the stored documents are known (after recovery)."""
        report = IngestReport(notes=self.store.recover(), failed=list(failed or []))
        # Ready or missing (its file gone from a linked folder), one version per file name.
        stored = self.store.registry.all()
        ready = {record.source: record for record in stored}
        copies = {record.sha256: record for record in stored}  # a renamed file's vectors
        group: list[tuple[DocumentRecord, list[Document]]] = []
        flushed = time.monotonic()
        seen: set[str] = set()
        for pdf in read(ready):
            if isinstance(pdf, str):
                report.failed.append(pdf)
                continue
            if isinstance(pdf, LoadedDocument):
                report.notes.extend(pdf.notes)
            name = pdf.name if isinstance(pdf, LoadedDocument) else pdf.source
            if name in seen:  # queued or unchanged: either way, the other file would replace it
                report.failed.append(
                    f"{pdf.path or name}: another file named {name} is in this batch; "
                    "documents are known by file name, so rename one of them"
                )
                continue
            seen.add(name)
            known = pdf if isinstance(pdf, DocumentRecord) else ready.get(name)
            if isinstance(pdf, DocumentRecord) or (
                known is not None and known.doc_id == document_id(name, pdf.sha256)
            ):  # its bytes are stored already
                if known is not None and known.status == "missing":
                    self.store.restore(known)
                    report.notes.append(f"{name}: back, searchable again (nothing embedded)")
                report.unchanged.append(name)
                continue
            chunks = split_document(pdf, self.chunk_size, self.chunk_overlap)
            if not chunks:
                report.failed.append(f"{pdf.name}: no text to index; check the document")
                continue
            group.append((_record(pdf, len(chunks)), chunks))
            staged = sum(len(c) for _, c in group)
            if staged >= STAGE_BATCH or time.monotonic() - flushed >= STAGE_EVERY_S:
                self._stage(group, ready, copies, report, progress)
                group, flushed = [], time.monotonic()
        self._stage(group, ready, copies, report, progress)
        return report

    def _stage(
        self,
        group: list[tuple[DocumentRecord, list[Document]]],
        ready: dict[str, DocumentRecord],
        copies: dict[str, DocumentRecord],
        report: IngestReport,
        progress: ProgressFn,
    ) -> None:
        """Documents searchable by keywords as soon as they are read, a group at a time (those
        read within a second, or a thousand chunks: a store write costs milliseconds whatever
        its size): registered pending, their chunks into the keyword index and the queue, then
        ready, and their older versions dropped. A chunk whose text the file's previous version
        holds (or, for a file new by name, a stored file with the same bytes: a rename or a
        copy) keeps that vector at once: a file edited on one page waits for that page's
        embedding, not the whole file's. ``Embedder`` gives the others their vectors."""
        if not group:
            return
        records = [record for record, _ in group]
        self.store.begin(*records)
        kept: list[tuple[Document, list[float]]] = []
        fresh: list[Document] = []
        for record, chunks in group:
            old = ready.get(record.source) or copies.get(record.sha256)
            earlier = self.store.chunks.vectors_by_text(old.doc_id) if old else {}
            kept += [(c, earlier[c.page_content]) for c in chunks if c.page_content in earlier]
            fresh += [c for c in chunks if c.page_content not in earlier]
        for at in range(0, len(kept), STAGE_BATCH):
            part = kept[at : at + STAGE_BATCH]
            self.store.add([c for c, _ in part], [v for _, v in part])
        for at in range(0, len(fresh), STAGE_BATCH):
            self.store.stage(fresh[at : at + STAGE_BATCH])
        self.store.commit(*records, previous=ready)
        report.reused += len(kept)
        report.ingested += records
        progress("index", len(report.ingested), len(report.ingested), records[-1].source)


@dataclass
class Embedder:
    """Gives the chunks waiting in the store's queue their vectors, a window at a time, until
    none waits (also those staged meanwhile, or left by a run that was killed).

    A window is embedded shortest chunk first, a batch at a time (a batch is padded to its
    longest chunk, so batches of like lengths waste less; sentence-transformers sorts only
    within one call), a text repeated within it once. Each batch is written to the store as
    soon as it is embedded, under ``write_lock`` (the ingest lock: a document deleted or
    replaced meanwhile is not written back), so progress shows and a killed run loses one
    batch at most. Only one embedder may run per store (the caller's embed lock): two would
    embed the same chunks twice."""

    store: DocumentStore
    embeddings: Embeddings
    batch_size: int = 32
    write_lock: Callable[[], AbstractContextManager[object]] = nullcontext
    # Called before each batch: an app that answers questions in this process waits there
    # while one is being answered, so the question does not share the CPU with a batch.
    before_batch: Callable[[], None] = lambda: None

    def run(self, progress: ProgressFn = no_progress) -> int:
        """Returns how many chunks got their vectors."""
        size = self.batch_size * BATCHES_PER_WINDOW
        done, total = 0, self.store.queue.count()
        while window := self.store.waiting(size):
            window.sort(key=lambda chunk: len(chunk.page_content))
            vectors: dict[str, list[float]] = {}  # by text: a repeated one is embedded once
            for at in range(0, len(window), self.batch_size):
                batch = window[at : at + self.batch_size]
                self.before_batch()
                progress("embed", done, max(total, done + len(window) - at), _source(batch[0]))
                texts = [
                    t for t in dict.fromkeys(c.page_content for c in batch) if t not in vectors
                ]
                if texts:
                    vectors.update(zip(texts, self.embeddings.embed_documents(texts), strict=True))
                with self.write_lock():
                    self.store.embedded(batch, [vectors[c.page_content] for c in batch])
                done += len(batch)
            total = max(total, done + self.store.queue.count())
        if done:
            progress("embed", done, done, "")
        return done


def _source(chunk: Document) -> str:
    return str(chunk.metadata.get("source", ""))


def _same_bytes(path: Path, known: DocumentRecord) -> bool:
    """Whether the file holds exactly the stored document's bytes (size first: cheap)."""
    try:
        return path.stat().st_size == known.size and file_sha256(path.read_bytes()) == known.sha256
    except OSError:
        return False  # load_document then says what is wrong with the file


def _record(pdf: LoadedDocument, chunks: int) -> DocumentRecord:
    return DocumentRecord(
        doc_id=document_id(pdf.name, pdf.sha256),
        source=pdf.name,
        sha256=pdf.sha256,
        size=pdf.size,
        pages=pdf.page_count,
        chunks=chunks,
        ingested_at=datetime.now(UTC).isoformat(timespec="seconds"),
        path=str(pdf.path.resolve()) if pdf.path else "",
    )
