"""The core API: ingest, list and delete documents, retrieve, answer (streamed).

The CLI, the UI and the evaluation are thin clients of ``RagService``. Models and the store are
built on first use and then kept, so a process loads each model once.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_core.language_models import BaseChatModel

from ingest.loaders import text_document
from ingest.pipeline import Ingestor, IngestReport, ProgressFn, no_progress
from rag_app import models, prompts
from rag_app.errors import RagError
from rag_app.retrieval import select_relevant
from rag_app.settings import Settings
from vectorstore.registry import DocumentRecord
from vectorstore.store import DocumentStore

INGEST_LOCK_WAIT_S = 3600


class EmptyStoreError(RagError):
    """Asked a question before any document was ingested."""


@dataclass(frozen=True)
class Source:
    number: int  # the [n] the answer cites
    source: str
    page: int
    text: str
    score: float
    chunk_id: str

    @classmethod
    def from_hit(cls, number: int, doc: Document, score: float) -> Source:
        return cls(
            number=number,
            source=str(doc.metadata.get("source", "")),
            page=int(doc.metadata.get("page", 0)),
            text=doc.page_content,
            score=round(score, 4),
            chunk_id=str(doc.id or ""),
        )

    def as_document(self) -> Document:
        return Document(
            id=self.chunk_id,
            page_content=self.text,
            metadata={"source": self.source, "page": self.page},
        )


@dataclass
class Answer:
    question: str
    answer: str
    sources: list[Source]
    language: str
    timings: dict[str, float] = field(default_factory=dict)
    trace: dict[str, Any] = field(default_factory=dict)  # what was searched and what was found

    @property
    def model_citations(self) -> list[int]:
        return [n for n in prompts.cited_numbers(self.answer) if 1 <= n <= len(self.sources)]

    @property
    def citation_method(self) -> str:
        """'model' when the answer cites [n] itself, else 'overlap' (matched by shared words)."""
        return "model" if self.model_citations else "overlap"

    @property
    def cited(self) -> list[int]:
        """The sources the answer rests on, best evidence first."""
        if self.model_citations:
            return self.model_citations
        return prompts.supporting_passages(self.answer, [s.text for s in self.sources])

    def to_dict(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "answer": self.answer,
            "language": self.language,
            "sources": [asdict(s) for s in self.sources],
            "cited": self.cited,
            "citation_method": self.citation_method,
            "timings": self.timings,
            "trace": self.trace,
        }


class AnswerStream:
    """Iterate for the answer's text as it is generated; then ``result`` holds the ``Answer``.

    ``sources`` is known before the first token, so a client can show them early.
    """

    def __init__(
        self,
        question: str,
        language: str,
        sources: list[Source],
        tokens: Iterator[str],
        started: float,
        retrieval_s: float,
        trace: dict[str, Any],
    ) -> None:
        self.question, self.language, self.sources, self.trace = question, language, sources, trace
        self._tokens, self._started, self._retrieval_s = tokens, started, retrieval_s
        self.result: Answer | None = None

    def __iter__(self) -> Iterator[str]:
        parts: list[str] = []
        first: float | None = None
        begin = time.perf_counter()
        for text in self._tokens:
            if not text:
                continue
            if first is None:
                first = time.perf_counter()
            parts.append(text)
            yield text
        end = time.perf_counter()
        generated = end - (first or end)
        n = len(parts)
        timings = {
            "retrieval_s": round(self._retrieval_s, 4),
            "first_token_s": round((first or end) - self._started, 4),
            "generation_s": round(end - begin, 4),  # prompt processing + decoding
            "total_s": round(end - self._started, 4),
            "tokens": n,
            "tokens_per_s": round((n - 1) / generated, 2) if n > 1 and generated > 0 else 0.0,
        }
        self.result = Answer(
            self.question, "".join(parts).strip(), self.sources, self.language, timings, self.trace
        )

    def consume(self) -> Answer:
        for _ in self:
            pass
        assert self.result is not None
        return self.result


class RagService:
    def __init__(
        self,
        settings: Settings,
        *,
        embeddings: Embeddings | None = None,
        chat_model: BaseChatModel | None = None,
    ) -> None:
        self.settings = settings
        if embeddings is not None:
            self.__dict__["embeddings"] = embeddings
        if chat_model is not None:
            self.__dict__["chat_model"] = chat_model

    # -- components, built on first use ---------------------------------------------------
    @cached_property
    def embeddings(self) -> Embeddings:
        return models.build_embeddings(self.settings.embedding)

    @cached_property
    def chat_model(self) -> BaseChatModel:
        return models.build_chat_model(self.settings.llm)

    @cached_property
    def store(self) -> DocumentStore:
        from vectorstore import open_store

        return open_store(
            self.settings.data_dir / "chroma",
            self.settings.collection,
            models.LazyEmbeddings(lambda: self.embeddings),
            models.embedder_name(self.settings.embedding),
        )

    # -- documents ------------------------------------------------------------------------
    def ingest(self, paths: Iterable[Path], progress: ProgressFn | None = None) -> IngestReport:
        """PDF files or folders of them."""
        return self._locked_ingest(lambda ingestor: ingestor.ingest(paths, progress or no_progress))

    def ingest_texts(
        self, documents: Iterable[tuple[str, list[str]]], progress: ProgressFn | None = None
    ) -> IngestReport:
        """Documents given as text, ``(name, pages)``: same splitting, embedding and store."""
        docs = (text_document(name, pages) for name, pages in documents)
        return self._locked_ingest(lambda i: i.ingest_documents(docs, progress or no_progress))

    def _locked_ingest(self, run: Callable[[Ingestor], IngestReport]) -> IngestReport:
        chunking = self.settings.chunking
        ingestor = Ingestor(
            store=self.store,
            embeddings=self.embeddings,
            chunk_size=chunking.chunk_size,
            chunk_overlap=chunking.chunk_overlap,
            batch_size=self.settings.embedding.batch_size,
        )
        # One ingest at a time per store (CLI and UI alike): recovery at the start of a run must
        # never mistake another process's document in progress for an abandoned one.
        self.settings.data_dir.mkdir(parents=True, exist_ok=True)
        lock = FileLock(self.settings.data_dir / "ingest.lock")
        try:
            with lock.acquire(timeout=INGEST_LOCK_WAIT_S):
                return run(ingestor)
        except Timeout:
            raise RagError(
                f"another ingest into {self.settings.data_dir} has run for over "
                f"{INGEST_LOCK_WAIT_S // 60} minutes; try again when it ends"
            ) from None

    def ingest_uploads(
        self, files: Iterable[tuple[str, bytes]], progress: ProgressFn | None = None
    ) -> IngestReport:
        """Store uploaded files under the data dir (names sanitized), then ingest them."""
        folder = self.settings.data_dir / "uploads"
        folder.mkdir(parents=True, exist_ok=True)
        limit = self.settings.ui.max_upload_mb * 1_000_000
        paths: list[Path] = []
        refused: list[str] = []
        for name, data in files:
            safe = safe_upload_name(name)
            if len(data) > limit:
                refused.append(
                    f"{safe}: larger than {self.settings.ui.max_upload_mb} MB; "
                    "split it, or raise RAG_UI__MAX_UPLOAD_MB"
                )
                continue
            target = folder / safe
            partial = target.with_name(f".{safe}.part")
            partial.write_bytes(data)
            partial.replace(target)
            paths.append(target)
        report = self.ingest(paths, progress)
        report.failed[:0] = refused
        return report

    def page_image(self, source: str, page: int, width: int = 900) -> Any:
        """The cited page as a PIL image, or None if its file is no longer where it was read."""
        from ingest.render import render_page

        record = self.store.find(source)
        if record is None or not record.path:
            return None
        return render_page(Path(record.path), page, width)

    def describe(self) -> dict[str, Any]:
        """Models in use, devices, GPU offload: what `rag doctor` and the UI sidebar show."""
        return models.describe(self.settings, self.embeddings, self.chat_model)

    def documents(self) -> list[DocumentRecord]:
        return self.store.documents()

    def delete(self, source: str) -> int:
        if self.store.find(source) is None:
            known = ", ".join(r.source for r in self.documents()) or "none"
            raise RagError(f"document {source!r}: not in the store (documents: {known})")
        return self.store.delete(source)

    # -- questions ------------------------------------------------------------------------
    def _check_askable(self, question: str) -> None:
        """Cheap checks first, so a bad question or an empty store fails before models load."""
        if not question.strip():
            raise RagError("the question is empty; ask something about your documents")
        if not self.store.documents():
            raise EmptyStoreError(prompts.EMPTY_STORE["en"])

    def retrieve(
        self, question: str, k: int | None = None, strategy: str | None = None
    ) -> list[Source]:
        """Top-k passages, best first, with cosine scores; threshold not applied."""
        self._check_askable(question)
        if (strategy or "similarity") != "similarity":
            raise RagError(f"strategy {strategy!r}: unknown; use similarity")
        vector = self.embeddings.embed_query(question)
        hits = self.store.search(vector, k or self.settings.retrieval.k)
        return [Source.from_hit(i, doc, score) for i, (doc, score) in enumerate(hits, start=1)]

    def stream(
        self,
        question: str,
        k: int | None = None,
        *,
        temperature: float | None = None,
        max_tokens: int | None = None,
    ) -> AnswerStream:
        """Retrieve, then generate. ``k``, ``temperature`` and ``max_tokens`` override the
        settings for this question only (the UI's sliders), without reloading anything."""
        self._check_askable(question)
        # Models load (once) before the clock starts: timings measure answering, not loading.
        _ = self.chat_model, self.embeddings  # the chat model first: a bad path fails fast
        started = time.perf_counter()
        language = prompts.detect_language(question)
        wanted = self.settings.retrieval
        found = self.retrieve(question, k)
        kept = select_relevant(found, wanted.relevance_threshold, wanted.relevance_margin)
        sources = [replace(s, number=i) for i, s in enumerate(kept, start=1)]
        retrieval_s = time.perf_counter() - started
        overrides: dict[str, Any] = {
            name: value
            for name, value in (("temperature", temperature), ("max_tokens", max_tokens))
            if value is not None
        }
        if not sources:
            tokens: Iterator[str] = iter([prompts.NO_ANSWER.get(language, prompts.NO_ANSWER["en"])])
        else:
            messages = prompts.answer_messages(
                question, [s.as_document() for s in sources], language
            )
            tokens = (
                str(chunk.content)
                for chunk in self.chat_model.stream(messages, stop=prompts.STOP, **overrides)
            )
        trace = {
            "strategy": "similarity",
            "queries": [question],
            "k": k or wanted.k,
            "relevance_threshold": wanted.relevance_threshold,
            "relevance_margin": wanted.relevance_margin,
            "candidates": [
                {
                    "rank": s.number,
                    "source": s.source,
                    "page": s.page,
                    "score": s.score,
                    "used": s.chunk_id in {kept_one.chunk_id for kept_one in kept},
                }
                for s in found
            ],
        }
        return AnswerStream(question, language, sources, tokens, started, retrieval_s, trace)

    def ask(self, question: str, k: int | None = None, **overrides: Any) -> Answer:
        return self.stream(question, k, **overrides).consume()


def safe_upload_name(name: str) -> str:
    """A file name that stays inside the uploads folder: no folders, no odd characters."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    base = re.sub(r"[^\w.\- ()]+", "_", base).strip(" ._") or "upload"
    stem, dot, ext = base.rpartition(".")
    if not dot or ext.lower() != "pdf":
        stem, ext = base, "pdf"
    return f"{stem[:150]}.{ext}"
