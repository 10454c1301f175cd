"""Documents (PDF and the formats of ingest/formats.py) to embedded chunks in the store:
parse all, then embed and store in batches."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
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

# Called as progress(stage, done, total, current file name); stage is "parse" or "embed".
ProgressFn = Callable[[str, int, int, str], None]
# What reading one file gives: the document, its stored record when its bytes are unchanged,
# or the one-line reason it cannot be used.
Readout = LoadedDocument | DocumentRecord | str
# Chunks are embedded in windows of this many batches, shortest first: a batch is padded to
# its longest chunk, so batches of like lengths waste less (sentence-transformers sorts only
# within one call), and the store is written once per window (measured: docs/BENCHMARKS.md).
BATCHES_PER_WINDOW = 8


@dataclass
class IngestReport:
    ingested: list[DocumentRecord] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)  # one line each: file, problem, remedy
    notes: list[str] = field(default_factory=list)
    # Chunks of changed files whose text the previous version already had: vectors reused.
    reused: int = 0

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
        ready = {record.source: record for record in self.store.documents()}
        todo: list[tuple[DocumentRecord, list[Document]]] = []
        for pdf in read(ready):
            if isinstance(pdf, str):
                report.failed.append(pdf)
                continue
            if isinstance(pdf, LoadedDocument):
                report.notes.extend(pdf.notes)
            name = pdf.name if isinstance(pdf, LoadedDocument) else pdf.source
            if any(name == queued.source for queued, _ in todo):
                report.failed.append(
                    f"{pdf.path or name}: another file named {name} is in this batch; "
                    "documents are known by file name, so rename one of them"
                )
                continue
            if isinstance(pdf, DocumentRecord):  # its bytes are stored already
                report.unchanged.append(name)
                continue
            known = ready.get(name)
            if known is not None and known.doc_id == document_id(name, pdf.sha256):
                report.unchanged.append(name)
                continue
            chunks = split_document(pdf, self.chunk_size, self.chunk_overlap)
            if not chunks:
                report.failed.append(f"{pdf.name}: no text to index; check the document")
                continue
            todo.append((_record(pdf, len(chunks)), chunks))
        self._embed_and_store(todo, ready, report, progress)
        return report

    def _embed_and_store(
        self,
        todo: list[tuple[DocumentRecord, list[Document]]],
        ready: dict[str, DocumentRecord],
        report: IngestReport,
        progress: ProgressFn,
    ) -> None:
        """Windows of chunks span documents (short ones share one); each window is embedded
        shortest chunk first, a batch at a time, then written to the store at once, and every
        document whose last chunk it held turns ready. A chunk whose text the file's previous
        version holds keeps that vector, and a text repeated within a window is embedded once:
        a file edited on one page costs that page's embedding, not the whole file's."""
        if not todo:
            return
        self.store.begin(*(record for record, _ in todo))
        earlier: dict[str, list[float]] = {}
        for record, _ in todo:
            if (old := ready.get(record.source)) is not None:
                earlier.update(self.store.chunks.vectors_by_text(old.doc_id))
        flat = [(i, chunk) for i, (_, chunks) in enumerate(todo) for chunk in chunks]
        left = [len(chunks) for _, chunks in todo]
        size = self.batch_size * BATCHES_PER_WINDOW
        for start in range(0, len(flat), size):
            window = sorted(flat[start : start + size], key=lambda item: len(item[1].page_content))
            report.reused += sum(c.page_content in earlier for _, c in window)
            new = {c.page_content: i for i, c in window if c.page_content not in earlier}
            texts = list(new)
            fresh: dict[str, list[float]] = {}
            for at in range(0, len(texts), self.batch_size):
                batch = texts[at : at + self.batch_size]
                progress("embed", start + at, len(flat), todo[new[batch[0]]][0].source)
                fresh.update(zip(batch, self.embeddings.embed_documents(batch), strict=True))
            vectors = [fresh.get(c.page_content) or earlier[c.page_content] for _, c in window]
            self.store.add([c for _, c in window], vectors)
            finished = []
            for i, _ in window:
                left[i] -= 1
                if left[i] == 0:
                    finished.append(todo[i][0])
            if finished:
                self.store.commit(*finished, previous=ready)
                report.ingested.extend(finished)
        progress("embed", len(flat), len(flat), "")


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
