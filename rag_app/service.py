"""The core API: ingest, list and delete documents, retrieve, answer (streamed).

The CLI, the UI and the evaluation are thin clients of ``RagService``. Models and the store are
built on first use and then kept, so a process loads each model once.
"""

from __future__ import annotations

import re
import shutil
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from filelock import FileLock, Timeout
from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage
from langchain_core.retrievers import BaseRetriever

from ingest.formats import FORMATS
from ingest.loaders import LoadOptions, text_document
from ingest.ocr import ocr_engine
from ingest.pipeline import Ingestor, IngestReport, ProgressFn, no_progress
from ingest.splitter import continued, next_chunk_id
from rag_app import components, models, prompts
from rag_app.answers import ANSWER_MODES, Answer, AnswerStream, Source
from rag_app.calibration import Calibration, calibration
from rag_app.errors import RagError
from rag_app.evidence import Evidence, confidence, select_evidence
from rag_app.retrieval import REGISTRY, STRATEGIES, Retriever, select_relevant
from rag_app.settings import EmbeddingSettings, Settings
from rag_app.text import detect_language, ends_in_list, language_of
from rag_app.trace import Candidate, RetrieverScore, Trace
from rag_app.verify import Checked, check_answer, evidence_answer
from vectorstore.check import CheckReport, check_store
from vectorstore.knowledge import is_created_base
from vectorstore.registry import DocumentRecord
from vectorstore.store import DocumentStore

if TYPE_CHECKING:
    from vectorstore import KnowledgeBase, KnowledgeBases

INGEST_LOCK_WAIT_S = 3600
LIST_TAIL_CHUNKS = 3  # chunks read on past a passage that stops inside a list, at most
GENERATION_CACHE_SIZE = 512


class EmptyStoreError(RagError):
    """Asked a question before any document was ingested."""


class RagService:
    def __init__(
        self,
        settings: Settings,
        *,
        embeddings: Embeddings | None = None,
        chat_model: BaseChatModel | None = None,
    ) -> None:
        self.settings = settings
        self._generated: OrderedDict[tuple[str, str, str], str] = OrderedDict()
        self._cache_lock = threading.Lock()
        if embeddings is not None:
            self.__dict__["embeddings"] = embeddings
        if chat_model is not None:
            self.__dict__["chat_model"] = chat_model

    # -- components, built on first use ---------------------------------------------------
    @cached_property
    def embedding(self) -> EmbeddingSettings:
        """The embedder's settings, with the one this store was built with filled in when none
        is named (see ``components.recorded_embedding``)."""
        return components.recorded_embedding(self.settings)

    @cached_property
    def embeddings(self) -> Embeddings:
        return components.build_embeddings(self.embedding)

    @cached_property
    def sentence_embeddings(self) -> Embeddings:
        """The embedder, remembering the evidence sentences it has embedded."""
        return models.SentenceCache(self.embeddings)

    @cached_property
    def chat_model(self) -> BaseChatModel:
        return components.build_chat_model(self.settings.llm)

    @property
    def chat_model_name(self) -> str:
        """What reports call the chat model: the GGUF file, or the endpoint's model (loads it)."""
        return components.chat_model_name(self.settings.llm, self.chat_model)

    @cached_property
    def store(self) -> DocumentStore:
        return components.open_document_store(
            self.settings, self.embedding, lambda: self.embeddings
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
            batch_size=self.embedding.batch_size,
            load_options=self._load_options(),
        )
        with self._ingest_lock():
            return run(ingestor)

    @contextmanager
    def _ingest_lock(self, wait_s: float | None = None) -> Iterator[None]:
        """One writer at a time per store (CLI and UI alike): recovery at the start of a run
        must never mistake another process's document in progress for an abandoned one."""
        wait = INGEST_LOCK_WAIT_S if wait_s is None else wait_s
        self.settings.data_dir.mkdir(parents=True, exist_ok=True)
        lock = FileLock(self.settings.data_dir / "ingest.lock")
        try:
            lock.acquire(timeout=wait)
        except Timeout:
            raise RagError(
                f"another ingest into {self.settings.data_dir} is still running after "
                f"{wait:g} s of waiting; try again when it ends"
            ) from None
        try:
            with self._server_lease(wait):
                yield
        finally:
            lock.release()

    @contextmanager
    def _server_lease(self, wait: float) -> Iterator[None]:
        """With a Chroma server, the data-dir lock is not enough: instances on other machines
        write there too. A lease on the server makes them take turns; a killed holder's lease
        expires (``vectorstore.ingest_lease_s``) and the others go on."""
        _, server = components.store_location(self.settings)
        if server is None:
            yield
            return
        from vectorstore import ingest_lease

        lease = ingest_lease(
            server, self.settings.collection, self.settings.vectorstore.ingest_lease_s
        )
        if not lease.acquire(wait):
            raise RagError(
                f"another instance is writing into collection {self.settings.collection!r} on "
                f"{server.url} after {wait:g} s of waiting; try again when it ends"
            )
        try:
            yield
        finally:
            lease.release()

    def check(self, repair: bool = False) -> CheckReport:
        """Whether registry, chunks and keyword index agree; with ``repair``, make them agree.
        Waits for no ingest: a running one is refused, as its pending work would look broken."""
        with self._ingest_lock(wait_s=5):
            report = check_store(self.store, repair)
            if not report.repaired:
                return report
            after = check_store(self.store)  # what is left, if anything
            after.repaired = report.repaired
            return after

    def _load_options(self) -> LoadOptions:
        wanted = self.settings.ingest
        ocr, reason = (
            ocr_engine(wanted.ocr_languages)
            if wanted.ocr
            else (None, "OCR is off: set RAG_INGEST__OCR=true to OCR them")
        )
        return LoadOptions(
            wanted.max_file_mb,
            wanted.max_pages,
            ocr,
            reason,
            json_text_fields=tuple(wanted.json_text_fields),
        )

    def ingest_uploads(
        self, files: Iterable[tuple[str, bytes]], progress: ProgressFn | None = None
    ) -> IngestReport:
        """Store uploaded files under the data dir (names sanitized), then ingest them."""
        folder = uploads_folder(self.settings)
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

    def page_image(
        self, source: str, page: int, width: int = 900, highlight: Sequence[str] = ()
    ) -> Any:
        """The cited page as a PIL image, ``highlight`` texts (evidence) marked on it; None if
        its file is no longer where it was read."""
        from ingest.render import render_page

        record = self.store.find(source)
        if record is None or not record.path or not record.path.lower().endswith(".pdf"):
            return None  # gone, or a format without pages (Markdown, HTML...)
        return render_page(Path(record.path), page, width, highlight=highlight)

    def describe(self) -> dict[str, Any]:
        """Models in use, devices, GPU offload: what `rag doctor` and the UI sidebar show."""
        settings = self.settings.model_copy(update={"embedding": self.embedding})
        return models.describe(settings, self.embeddings, self.chat_model)

    def documents(self) -> list[DocumentRecord]:
        return self.store.documents()

    def delete(self, source: str) -> int:
        if self.store.find(source) is None:
            known = ", ".join(r.source for r in self.documents()) or "none"
            raise RagError(f"document {source!r}: not in the store (documents: {known})")
        return self.store.delete(source)

    # -- questions ------------------------------------------------------------------------
    def _check_askable(
        self, question: str, strategy: str | None = None, documents: Sequence[str] = ()
    ) -> Askable:
        """Cheap checks first, so bad input or an empty store fails before models load.
        Returns the strategy to use, the pending documents' ids, read once per question
        (searches leave them out), and the ids of the ``documents`` (names) the question is
        limited to."""
        name = strategy or self.settings.retrieval.strategy
        if name not in STRATEGIES:
            raise RagError(f"strategy {name!r}: unknown; use one of {', '.join(STRATEGIES)}")
        if not question.strip():
            raise RagError("the question is empty; ask something about your documents")
        pending = self.store.pending()
        if not self.store.has_documents(pending):
            raise EmptyStoreError(prompts.EMPTY_STORE["en"])
        if not documents:
            return Askable(name, pending, None)
        ready = {r.source: r.doc_id for r in self.documents() if r.doc_id not in pending}
        unknown = [d for d in documents if d not in ready]
        if unknown:
            raise RagError(
                f"document {unknown[0]!r}: not in the store (documents: "
                f"{', '.join(ready) or 'none'}); give a name as `rag docs` lists it"
            )
        return Askable(name, pending, [ready[d] for d in dict.fromkeys(documents)])

    def retrieve(
        self,
        question: str,
        k: int | None = None,
        strategy: str | None = None,
        documents: Sequence[str] = (),
    ) -> list[Source]:
        """Top-k passages in the strategy's order, each scored by cosine similarity to the
        question; threshold not applied. ``documents``: only these (names), when given."""
        return self._retrieve(question, k, strategy, documents)[0]

    def _retrieve(
        self,
        question: str,
        k: int | None,
        strategy: str | None = None,
        documents: Sequence[str] = (),
        checked: Askable | None = None,
    ) -> tuple[list[Source], Trace]:
        checked = checked or self._check_askable(question, strategy, documents)
        retriever = Retriever(
            StoreBackend(self.store, self.sentence_embeddings, checked.pending, checked.only),
            self._generate,
            self.tuned().fusion(),
        )
        found = retriever.run(checked.strategy, question, k or self.settings.retrieval.k)
        sources = [
            Source.from_hit(i, hit.doc, hit.score) for i, hit in enumerate(found.hits, start=1)
        ]
        found.trace.candidates = [
            Candidate(
                rank=source.number,
                source=source.source,
                page=source.page,
                score=source.score,
                retrievers={r: RetrieverScore(hit.ranks[r], hit.scores[r]) for r in hit.ranks},
            )
            for source, hit in zip(sources, found.hits, strict=True)
        ]
        return sources, found.trace

    def _generate(self, kind: str, question: str, history: str = "") -> str:
        """Short LLM text for retrieval (rephrasings, hypothetical passage, condensed question),
        cached per question so repeating a question costs no second call."""
        key = (kind, question.strip(), history)
        with self._cache_lock:  # UI sessions ask from several threads
            if key in self._generated:
                self._generated.move_to_end(key)
                return self._generated[key]
        reply = self.chat_model.invoke(
            prompts.strategy_messages(kind, question, history),
            temperature=0.0,
            max_tokens=prompts.STRATEGY_MAX_TOKENS[kind],
            stop=prompts.STOP,
        )
        text = str(reply.content).strip()
        with self._cache_lock:
            self._generated[key] = text
            if len(self._generated) > GENERATION_CACHE_SIZE:
                self._generated.popitem(last=False)
        return text

    def as_retriever(self, strategy: str | None = None, k: int | None = None) -> BaseRetriever:
        """Any strategy as a LangChain retriever, to compose with other chains."""
        return ServiceRetriever(service=self, strategy=strategy, k=k)

    def forget_generations(self) -> None:
        """Drop cached LLM text for retrieval (benchmarks time each strategy from cold)."""
        with self._cache_lock:
            self._generated.clear()

    def standalone_question(self, question: str, history: Sequence[tuple[str, str]]) -> str:
        """A chat follow-up ("and how heavy is it?") rewritten to stand alone, for retrieval."""
        if not history or not self.settings.retrieval.condense_followups:
            return question
        rewritten = self._generate("condense", question, prompts.format_history(history))
        return prompts.usable_rewrite(question, rewritten)

    def stream(
        self,
        question: str,
        k: int | None = None,
        *,
        strategy: str | None = None,
        history: Sequence[tuple[str, str]] = (),
        temperature: float | None = None,
        max_tokens: int | None = None,
        mode: str | None = None,
        documents: Sequence[str] = (),
    ) -> AnswerStream:
        """Retrieve, quote the evidence, then (unless ``mode`` is "evidence") generate and
        check. ``history`` is the chat so far as (role, text) pairs; the other arguments
        override the settings for this question only (the UI's controls); ``documents``
        limits the search to those documents (names), inside every strategy."""
        checked = self._check_askable(question, strategy, documents)
        wanted, answering, tuned = self.settings.retrieval, self.settings.answer, self.tuned()
        mode = mode or answering.mode
        if mode not in ANSWER_MODES:
            raise RagError(f"answer mode {mode!r}: unknown; use one of {', '.join(ANSWER_MODES)}")
        # Models load (once) before the clock starts: timings measure answering, not loading.
        # The chat model first, so a bad path fails fast; evidence alone never loads it.
        if mode != "evidence":
            _ = self.chat_model
        _ = self.embeddings
        started = time.perf_counter()
        language = detect_language(question)
        standalone = question if mode == "evidence" else self.standalone_question(question, history)
        found, trace = self._retrieve(standalone, k, checked=checked)
        kept = select_relevant(found, tuned.relevance_threshold, tuned.relevance_margin)
        sources, quoted = self._evidence(standalone, kept, found)
        quoted_in = language_of(" ".join(e.text for e in quoted))
        across = quoted_in not in (None, language)
        bar = self.evidence_bar(across_languages=across)
        floor = self.evidence_floor(across_languages=across)
        match = (
            self.store.page_match(standalone, checked.pending, checked.only)
            if quoted and tuned.bar_reads_keywords and not across
            else None
        )
        sure = confidence(quoted, across, tuned.bar_reads_meaning, match)
        if not quoted or sure < floor:
            sources, quoted = [], []
        uncertain = bool(quoted) and sure < bar  # shown, labelled: it may not answer
        retrieval_s = time.perf_counter() - started
        used = {s.chunk_id for s in sources}
        for candidate, source in zip(trace.candidates, found, strict=True):
            candidate.used = source.chunk_id in used
        trace.question, trace.standalone_question = question, standalone
        trace.k = k or wanted.k
        trace.relevance_threshold = tuned.relevance_threshold
        trace.relevance_margin = tuned.relevance_margin
        trace.evidence_threshold, trace.evidence_confidence = bar, round(sure, 4)
        trace.evidence_floor = floor

        def answer(tokens: Iterator[str], **how: Any) -> AnswerStream:
            return AnswerStream(
                question, language, sources, tokens, started, retrieval_s, trace,
                mode=mode, evidence=quoted, **how,
            )  # fmt: skip

        if not sources:
            reply = prompts.NO_ANSWER.get(language, prompts.NO_ANSWER["en"])
            return answer(iter([reply]), fallback="abstained")
        if uncertain:  # the best evidence, labelled; the model is not asked to word it
            label = prompts.UNCERTAIN.get(language, prompts.UNCERTAIN["en"])
            return answer(iter([f"{label} {evidence_answer(quoted)}"]), fallback="uncertain")
        if mode == "evidence":
            return answer(iter([evidence_answer(quoted)]))
        overrides: dict[str, Any] = {
            name: value
            for name, value in (("temperature", temperature), ("max_tokens", max_tokens))
            if value is not None
        }
        messages = self._answer_messages(standalone, sources, quoted, language, mode)
        tokens = (
            str(chunk.content)
            for chunk in self.chat_model.stream(messages, stop=prompts.STOP, **overrides)
        )
        passages = [s.text for s in sources]

        def check(generated: str) -> Checked:
            return check_answer(
                generated,
                question=standalone,
                language=language,
                passages=passages,
                evidence=quoted,
                drop_unsupported=answering.unsupported == "drop",
                embed=self.sentence_embeddings.embed_documents,
                cosine_floor=tuned.cosine_floor,
            )

        return answer(tokens, check=check)

    def _evidence(
        self, question: str, kept: Sequence[Source], found: Sequence[Source]
    ) -> tuple[list[Source], list[Evidence]]:
        """Evidence from every retrieved passage, and the sources to show: the relevant ones,
        plus any other that the evidence quotes (the relevance margin works on an embedder's
        cosine, which can drop the very passage whose sentence answers), numbered [1]..[n]."""
        if not kept:
            return [], []
        ordered = [*kept, *(s for s in found if s not in kept)]
        numbered = [replace(s, number=i) for i, s in enumerate(ordered, start=1)]
        quoted = select_evidence(
            question,
            self._with_list_tails(numbered),
            self.sentence_embeddings,
            self.settings.answer.max_evidence,
            self.tuned().cosine_floor,
        )
        used = {e.number for e in quoted}
        shown = [s for s in numbered if s.number <= len(kept) or s.number in used]
        renumber = {s.number: i for i, s in enumerate(shown, start=1)}
        sources = [replace(s, number=renumber[s.number]) for s in shown]
        return sources, [replace(e, number=renumber[e.number]) for e in quoted]

    def _with_list_tails(self, passages: list[Source]) -> list[Source]:
        """The passages, each that stops inside a list continued by the chunks after it on
        the same page (without the text they share, ``LIST_TAIL_CHUNKS`` at most), so the
        evidence can quote the whole list."""
        extended = list(passages)
        last = {i: s.chunk_id for i, s in enumerate(passages)}  # the chunk each now ends with
        for _ in range(LIST_TAIL_CHUNKS):
            wanted = {
                i: following
                for i, s in enumerate(extended)
                if i in last
                and ends_in_list(s.text, s.section)
                and (following := next_chunk_id(last[i]))
            }
            found = self.store.chunk_documents(list(wanted.values())) if wanted else {}
            last = {}
            for i, following in wanted.items():
                after, source = found.get(following), extended[i]
                where = (
                    None
                    if after is None
                    else (after.metadata.get("source"), after.metadata.get("page"))
                )
                if after is None or where != (source.source, source.page):
                    continue
                section = str(after.metadata.get("section", ""))
                text = continued(source.text, after.page_content, section)
                extended[i], last[i] = replace(source, text=text), following
            if not last:
                break
        return extended

    def _answer_messages(
        self,
        question: str,
        sources: Sequence[Source],
        evidence: Sequence[Evidence],
        language: str,
        mode: str,
    ) -> list[BaseMessage]:
        """``generate`` reads the passages as before; ``both`` reads what ``answer.context``
        says: the evidence only, evidence then passages, or the passages."""
        context = self.settings.answer.context if mode == "both" else "passages"
        quoted = [
            Document(
                e.text,
                metadata={
                    "source": e.source,
                    "page": e.page,
                    "section": e.section,
                    "number": e.number,
                },
            )
            for e in evidence
        ]
        passages = [s.as_document() for s in sources]
        if context == "evidence":
            return prompts.answer_messages(question, [], language, quoted)
        if context == "evidence+passages":
            return prompts.answer_messages(question, passages, language, quoted)
        return prompts.answer_messages(question, passages, language)

    def tuned(self) -> Calibration:
        """The values measured for this embedder's score scale (``rag_app/calibration.py``),
        with those the settings name instead."""
        retrieval, answer = self.settings.retrieval, self.settings.answer
        chosen = {
            "dense_weight": retrieval.dense_weight,
            "dense_weight_across": retrieval.dense_weight,
            "relevance_threshold": retrieval.relevance_threshold,
            "relevance_margin": retrieval.relevance_margin,
            "evidence_bar": answer.evidence_threshold,
            "evidence_bar_across": answer.evidence_threshold,
        }
        measured = calibration(models.embedder_name(self.embedding))
        overrides: dict[str, Any] = {k: v for k, v in chosen.items() if v is not None}
        return replace(measured, **overrides)

    def evidence_bar(self, across_languages: bool = False) -> float:
        """The lowest evidence confidence (``evidence.confidence``) that counts as an answer
        (lower when question and evidence are in different languages)."""
        tuned = self.tuned()
        return tuned.evidence_bar_across if across_languages else tuned.evidence_bar

    def evidence_floor(self, across_languages: bool = False) -> float:
        """The lowest evidence confidence at which the best evidence is shown at all, labelled
        uncertain below ``evidence_bar``; never above the bar."""
        tuned = self.tuned()
        floor = tuned.evidence_floor_across if across_languages else tuned.evidence_floor
        if self.settings.answer.evidence_floor is not None:
            floor = self.settings.answer.evidence_floor
        return min(floor, self.evidence_bar(across_languages))

    def needs_model(self, mode: str | None = None, strategy: str | None = None) -> bool:
        """Whether answering in ``mode`` with ``strategy`` (the settings' when None) calls the
        chat model: evidence with a strategy that writes nothing needs none."""
        found = REGISTRY.get(strategy or self.settings.retrieval.strategy)
        return (mode or self.settings.answer.mode) != "evidence" or found is None or found.uses_llm

    def ask(self, question: str, k: int | None = None, **overrides: Any) -> Answer:
        return self.stream(question, k, **overrides).consume()


def uploads_folder(settings: Settings) -> Path:
    """Where the UI keeps uploaded files: one folder per knowledge base (the default one's is
    ``uploads`` itself), so two knowledge bases may each hold a file of the same name."""
    base = settings.data_dir / "uploads"
    return base / settings.collection if is_created_base(settings.collection) else base


def knowledge_bases(settings: Settings) -> KnowledgeBases:
    """The knowledge bases of this data dir (or Chroma server)."""
    from vectorstore import knowledge_bases as listed

    folder, server = components.store_location(settings)
    return listed(folder, settings.collection, server)


def with_knowledge_base(settings: Settings, name: str | None) -> Settings:
    """The settings for the knowledge base ``name`` (the settings' own when None or empty)."""
    if not name:
        return settings
    kb = knowledge_bases(settings).find(name)
    return settings.model_copy(update={"collection": kb.collection})


def delete_knowledge_base(settings: Settings, name: str) -> tuple[KnowledgeBase, int]:
    """Delete a knowledge base with its documents' chunks, registry, keyword index and
    uploaded files; the others are not touched. Returns it and how many chunks it held."""
    from vectorstore import drop_store

    kbs = knowledge_bases(settings)
    kb = kbs.find(name)
    target = settings.model_copy(update={"collection": kb.collection})
    with RagService(target)._ingest_lock(wait_s=5):  # not while it is being ingested into
        kbs.forget(kb.name)
        folder, server = components.store_location(settings)
        chunks = drop_store(folder, kb.collection, server)
        shutil.rmtree(uploads_folder(target), ignore_errors=True)
    return kb, chunks


def safe_upload_name(name: str) -> str:
    """A file name that stays inside the uploads folder: no folders, no odd characters."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    base = re.sub(r"[^\w.\- ()]+", "_", base).strip(" ._") or "upload"
    stem, dot, ext = base.rpartition(".")
    if not dot or f".{ext.lower()}" not in FORMATS:
        stem, ext = base, "pdf"  # unknown: read as a PDF, which says what it really is
    return f"{stem[:150]}.{ext}"


@dataclass(frozen=True)
class Askable:
    """What the cheap checks of a question found (``RagService._check_askable``)."""

    strategy: str
    pending: list[str]  # ids of half-written documents: never searched
    only: list[str] | None  # ids of the documents the question is limited to (None: all)


class StoreBackend:
    """The store and the embedder, as retrieval strategies see them."""

    def __init__(
        self,
        store: DocumentStore,
        embeddings: Embeddings,
        pending: Sequence[str] | None = None,
        only: Sequence[str] | None = None,
    ) -> None:
        self.store, self.embeddings, self.pending, self.only = store, embeddings, pending, only

    def embed(self, text: str) -> list[float]:
        return self.embeddings.embed_query(text)

    def embed_passage(self, text: str) -> list[float]:
        return self.embeddings.embed_documents([text])[0]

    def dense(
        self, vector: Sequence[float], k: int, with_vectors: bool = False
    ) -> list[tuple[Document, float, list[float] | None]]:
        return self.store.search(vector, k, with_vectors, self.pending, self.only)

    def keyword(self, query: str, k: int) -> list[tuple[str, float]]:
        return self.store.keyword_hits(query, k, self.pending, self.only)

    def pages(self, query: str, k: int) -> list[tuple[str, float]]:
        return self.store.page_hits(query, k, self.pending, self.only)

    def documents(self, ids: Sequence[str]) -> dict[str, Document]:
        return self.store.chunk_documents(ids)

    def cosine(self, vector: Sequence[float], docs: Sequence[Document]) -> list[float]:
        stored = self.store.chunks.vectors([str(d.id) for d in docs])
        return [
            sum(a * b for a, b in zip(vector, stored.get(str(d.id), []), strict=False))
            for d in docs
        ]


class ServiceRetriever(BaseRetriever):
    """A LangChain ``BaseRetriever`` over ``RagService.retrieve``.

    The strategies themselves are plain Python over the store because they need what the
    retriever interface cannot carry back (each retriever's ranks and scores, the trace); this
    adapter gives LangChain users the usual seam. Metadata: source, page, score (cosine).
    """

    service: RagService
    strategy: str | None = None
    k: int | None = None

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[Document]:
        return [
            Document(
                id=s.chunk_id,
                page_content=s.text,
                metadata={
                    "source": s.source,
                    "page": s.page,
                    "section": s.section,
                    "score": s.score,
                },
            )
            for s in self.service.retrieve(query, self.k, self.strategy)
        ]
