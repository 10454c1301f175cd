"""The core API: ingest, list and delete documents, retrieve, answer (streamed).

The CLI, the UI and the evaluation are thin clients of ``RagService``. Models and the store are
built on first use and then kept, so a process loads each model once (or come from a
``components.ModelPool`` shared by several services). The work is elsewhere: answering in
``answering.pipeline``, knowledge bases and the ingest lock in ``knowledge``, retrieval in
``retrieval``; about 400 lines because it is the one surface every client calls.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from functools import cached_property
from pathlib import Path
from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_core.language_models import BaseChatModel
from langchain_core.retrievers import BaseRetriever

from ingest.loaders import LoadOptions, text_document
from ingest.ocr import ocr_engine
from ingest.pipeline import Embedder, Ingestor, IngestReport, ProgressFn, no_progress
from rag_app import components
from rag_app.answering import prompts
from rag_app.answering.answers import Answer, AnswerStream, Source
from rag_app.answering.pipeline import Pipeline
from rag_app.errors import RagError
from rag_app.indexing import BACKGROUND, QUESTIONS, Job
from rag_app.knowledge import embed_lock, ingest_lock, safe_upload_name, uploads_folder
from rag_app.lru import LruCache
from rag_app.models import loading as models
from rag_app.retrieval.backend import Askable, StoreBackend
from rag_app.retrieval.calibration import Calibration
from rag_app.retrieval.rerank import Reranker, rerank
from rag_app.retrieval.strategies import REGISTRY, STRATEGIES, Retriever
from rag_app.retrieval.trace import Candidate, RetrieverScore, Trace
from rag_app.settings import EmbeddingSettings, Settings
from vectorstore.check import CheckReport, check_store
from vectorstore.registry import DocumentRecord
from vectorstore.store import DocumentStore, Indexing

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
        pool: components.ModelPool | None = None,
    ) -> None:
        """``embeddings`` and ``chat_model``, when given, are used as they are; otherwise the
        models come from ``pool`` (shared with other services), or are built for this one."""
        self.settings, self.pool = settings, pool
        # Short LLM text for retrieval, by (kind, question, history): ``_generate``.
        self.generations: LruCache[tuple[str, str, str], str] = LruCache(GENERATION_CACHE_SIZE)
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
        if self.pool is not None:
            return self.pool.embeddings(self.embedding)
        return components.build_embeddings(self.embedding)

    @cached_property
    def sentence_embeddings(self) -> Embeddings:
        """The embedder, remembering the evidence sentences it has embedded."""
        return models.SentenceCache(self.embeddings)

    @cached_property
    def chat_model(self) -> BaseChatModel:
        if self.pool is not None:
            return self.pool.chat_model(self.settings.llm)
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
    def ingest(
        self,
        paths: Iterable[Path],
        progress: ProgressFn | None = None,
        background: bool = False,
    ) -> IngestReport:
        """Files (every format in ``ingest.formats``) or folders of them. They are searchable
        by keywords once staged; then their chunks get their vectors before this returns, or,
        with ``background``, in this process's embedding thread (``embed_in_background``)."""
        report = self.stage(paths, progress)
        return self._embedded(report, progress or no_progress, background)

    def stage(self, paths: Iterable[Path], progress: ProgressFn | None = None) -> IngestReport:
        """``ingest`` up to the point where the files are searchable by keywords; their
        chunks wait in the store's queue for whoever embeds (``embed_waiting``)."""
        run = progress or no_progress
        report = self._locked_ingest(lambda ingestor: ingestor.ingest(paths, run))
        report.waiting = self.store.queue.count()
        return report

    def ingest_texts(
        self,
        documents: Iterable[tuple[str, list[str]]],
        progress: ProgressFn | None = None,
        background: bool = False,
    ) -> IngestReport:
        """Documents given as text, ``(name, pages)``: same splitting, embedding and store."""
        docs = (text_document(name, pages) for name, pages in documents)
        run = progress or no_progress
        report = self._locked_ingest(lambda i: i.ingest_documents(docs, run))
        return self._embedded(report, run, background)

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
        with ingest_lock(self.settings):
            return run(ingestor)

    def _embedded(
        self, report: IngestReport, progress: ProgressFn, background: bool
    ) -> IngestReport:
        if background:
            self.embed_in_background()
        else:
            report.embedded = self.embed_waiting(progress) or 0
        report.waiting = self.store.queue.count()
        return report

    def embed_waiting(
        self, progress: ProgressFn | None = None, wait_s: float | None = None
    ) -> int | None:
        """Give every chunk waiting in the store's queue its vector (those of this run, of
        others, of a run that was killed), and return how many; None when another process
        still embeds after ``wait_s`` (0: at once; it then embeds them all)."""
        with embed_lock(self.settings, wait_s) as held:
            if not held:
                return None
            with ingest_lock(self.settings):  # a batch a killed run wrote but did not dequeue
                self.store.settle()
            embedder = Embedder(
                self.store,
                self.embeddings,
                self.embedding.batch_size,
                write_lock=lambda: ingest_lock(self.settings),
                before_batch=QUESTIONS.wait_idle,
            )
            return embedder.run(progress or no_progress)

    def embed_in_background(self) -> Job:
        """This knowledge base's embedding thread, started if idle (``indexing``)."""
        return BACKGROUND.start(self._store_key, lambda: self.embed_waiting(wait_s=0))

    def resume_embedding(self) -> None:
        """Embed in the background what waits (left by a process that was killed, or by one
        that still embeds: then the thread finds the embed lock taken and ends). Cheap when
        nothing waits or this process embeds already: apps call it on every request."""
        job = BACKGROUND.get(self._store_key)
        if (job is None or not job.running) and self.store.queue.count():
            self.embed_in_background()

    @property
    def _store_key(self) -> tuple[str, str, str]:
        folder, server = components.store_location(self.settings)
        return str(folder), self.settings.collection, server.url if server else ""

    def indexing(self, by_document: bool = False) -> Indexing:
        """How far the meaning index of this knowledge base is (``Indexing``)."""
        return self.store.indexing(by_document)

    def background_error(self) -> str | None:
        """Why this process's last background embedding failed, if it did."""
        job = BACKGROUND.get(self._store_key)
        return job.error if job else None

    def check(self, repair: bool = False) -> CheckReport:
        """Whether registry, chunks and keyword index agree; with ``repair``, make them agree.
        Waits for no ingest: a running one is refused, as its pending work would look broken."""
        with ingest_lock(self.settings, wait_s=5):
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
        self,
        files: Iterable[tuple[str, bytes]],
        progress: ProgressFn | None = None,
        background: bool = False,
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
        report = self.ingest(paths, progress, background)
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

    def describe(self, load_chat_model: bool = True) -> dict[str, Any]:
        """Models in use, devices, GPU offload: what `rag doctor` and the UI sidebar show.
        Without ``load_chat_model``, a chat model not loaded yet is described from its
        settings (file, size) and left unloaded."""
        settings = self.settings.model_copy(update={"embedding": self.embedding})
        loaded = load_chat_model or self.chat_model_loaded
        return models.describe(settings, self.embeddings, self.chat_model if loaded else None)

    @property
    def chat_model_loaded(self) -> bool:
        """Whether this service has its chat model already (built, given, or from its pool)."""
        if "chat_model" in self.__dict__:  # functools.cached_property keeps it there
            return True
        return self.pool is not None and self.pool.has_chat_model(self.settings.llm)

    def documents(self) -> list[DocumentRecord]:
        return self.store.documents()

    def document_dicts(self) -> list[dict[str, Any]]:
        """The documents as `rag docs --json` and the API list them, each with how many of
        its chunks still wait for their vectors."""
        waiting = self.indexing(by_document=True).by_document
        return [
            {**r.to_dict(), "waiting_vectors": waiting.get(r.doc_id, 0)} for r in self.documents()
        ]

    def delete(self, source: str) -> int:
        if self.store.find(source, missing=True) is None:
            known = ", ".join(r.source for r in self.documents()) or "none"
            raise RagError(f"document {source!r}: not in the store (documents: {known})")
        with ingest_lock(self.settings):  # not while an embedder writes its chunks back
            return self.store.delete(source)

    # -- questions ------------------------------------------------------------------------
    def check_askable(
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
            raise EmptyStoreError(prompts.EMPTY_STORE)
        built = self.store.indexing()
        meaning = None if built.done else round(built.share, 4)
        if not documents:
            return Askable(name, pending, None, meaning)
        ready = self.ready_documents(pending)
        unknown = [d for d in documents if d not in ready]
        if unknown:
            raise RagError(
                f"document {unknown[0]!r}: not in the store (documents: "
                f"{', '.join(ready) or 'none'}); give a name as `rag docs` lists it"
            )
        return Askable(name, pending, [ready[d] for d in dict.fromkeys(documents)], meaning)

    def ready_documents(self, pending: Sequence[str]) -> dict[str, str]:
        """The documents a question may search, by name: their ids (``pending``: the ids of
        those half-written, left out)."""
        return {r.source: r.doc_id for r in self.documents() if r.doc_id not in pending}

    def retrieve(
        self,
        question: str,
        k: int | None = None,
        strategy: str | None = None,
        documents: Sequence[str] = (),
    ) -> list[Source]:
        """Top-k passages in the strategy's order, each scored by cosine similarity to the
        question; threshold not applied. ``documents``: only these (names), when given."""
        return self.retrieve_traced(question, k, strategy, documents)[0]

    def retrieve_traced(
        self,
        question: str,
        k: int | None,
        strategy: str | None = None,
        documents: Sequence[str] = (),
        checked: Askable | None = None,
    ) -> tuple[list[Source], Trace]:
        """``retrieve`` with its trace: each retriever's ranks and scores per candidate."""
        checked = checked or self.check_askable(question, strategy, documents)
        retriever = Retriever(
            StoreBackend(self.store, self.sentence_embeddings, checked.pending, checked.only),
            self._generate,
            self.tuned().fusion(),
        )
        k = k or self.settings.retrieval.k
        reranker = self.reranker
        if reranker is None:
            found = retriever.run(checked.strategy, question, k)
            hits, rerank_scores = found.hits, None
        else:  # more candidates, reordered by the reranker, then cut to k
            wanted = max(k, self.settings.retrieval.rerank_candidates)
            found = retriever.run(checked.strategy, question, wanted)
            reranked = rerank(reranker, question, found.hits, k)
            hits, rerank_scores = reranked.hits, reranked.scores
            found.trace.rerank = {
                "model": reranker.name,
                "seconds": round(reranked.seconds, 3),
                "candidates": reranked.candidates,
                "fused_ranks": reranked.fused_ranks,
            }
        sources = [Source.from_hit(i, hit.doc, hit.score) for i, hit in enumerate(hits, start=1)]
        found.trace.candidates = [
            Candidate(
                rank=source.number,
                source=source.source,
                page=source.page,
                score=source.score,
                retrievers={r: RetrieverScore(hit.ranks[r], hit.scores[r]) for r in hit.ranks},
            )
            for source, hit in zip(sources, hits, strict=True)
        ]
        for candidate, score in zip(found.trace.candidates, rerank_scores or (), strict=False):
            candidate.retrievers["rerank"] = RetrieverScore(candidate.rank, round(score, 4))
        return sources, found.trace

    @cached_property
    def reranker(self) -> Reranker | None:
        """What ``retrieval.rerank`` names, built on first use; None for none."""
        return components.build_reranker(self.settings, lambda: self.chat_model)

    def _generate(self, kind: str, question: str, history: str = "") -> str:
        """Short LLM text for retrieval (rephrasings, hypothetical passage, condensed question),
        cached per question so repeating a question costs no second call."""
        key = (kind, question.strip(), history)
        cached = self.generations.get(key)
        if cached is not None:
            return cached
        reply = self.chat_model.invoke(
            prompts.strategy_messages(kind, question, history),
            temperature=0.0,
            max_tokens=prompts.STRATEGY_MAX_TOKENS[kind],
            stop=prompts.STOP,
        )
        text = str(reply.content).strip()
        self.generations.put(key, text)
        return text

    def as_retriever(self, strategy: str | None = None, k: int | None = None) -> BaseRetriever:
        """Any strategy as a LangChain retriever, to compose with other chains."""
        return ServiceRetriever(service=self, strategy=strategy, k=k)

    def forget_generations(self) -> None:
        """Drop cached LLM text for retrieval (benchmarks time each strategy from cold)."""
        self.generations.clear()

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
        route: str | None = None,
    ) -> AnswerStream:
        """Retrieve, quote the evidence, then (unless ``mode`` is "evidence") generate and
        check (``answering.pipeline``). ``history`` is the chat so far as (role, text) pairs;
        the other arguments override the settings for this question only (the UI's controls);
        ``documents`` limits the search to those documents (names), inside every strategy."""
        checked = self.check_askable(question, strategy, documents)
        with QUESTIONS.answering():  # a background embedding waits meanwhile
            return self.pipeline().answer(
                question,
                checked,
                k,
                history=history,
                temperature=temperature,
                max_tokens=max_tokens,
                mode=mode,
                route=route,
            )

    def _load_models(self, chat: bool) -> None:
        if chat:  # the chat model first, so a bad path fails fast
            _ = self.chat_model
        _ = self.embeddings

    def pipeline(self) -> Pipeline:
        """The answer pipeline over this service's store, models and measured values."""
        return Pipeline(
            settings=self.settings,
            tuned=self.tuned(),
            store=self.store,
            embeddings=self.sentence_embeddings,
            chat_model=lambda: self.chat_model,
            load_models=self._load_models,
            standalone_question=self.standalone_question,
            retrieve=lambda text, k, checked: self.retrieve_traced(text, k, checked=checked),
            ready_documents=self.ready_documents,
            embedder=models.chosen_embedder(self.embedding),
        )

    def tuned(self) -> Calibration:
        """The values measured for this embedder's score scale (``retrieval/calibration.py``),
        with those the settings name instead."""
        retrieval, answer = self.settings.retrieval, self.settings.answer
        chosen = {
            "dense_weight": retrieval.dense_weight,
            "dense_weight_across": retrieval.dense_weight,
            "relevance_threshold": retrieval.relevance_threshold,
            "relevance_margin": retrieval.relevance_margin,
            "evidence_bar": answer.evidence_threshold,
            "evidence_bar_across": answer.evidence_threshold,
            "evidence_floor": answer.evidence_floor,
            "evidence_floor_across": answer.evidence_floor,
        }
        measured = models.measured(self.embedding)
        overrides: dict[str, Any] = {k: v for k, v in chosen.items() if v is not None}
        return replace(measured, **overrides)

    def needs_model(self, mode: str | None = None, strategy: str | None = None) -> bool:
        """Whether answering in ``mode`` with ``strategy`` (the settings' when None) calls the
        chat model: evidence with a strategy that writes nothing needs none."""
        found = REGISTRY.get(strategy or self.settings.retrieval.strategy)
        if self.settings.retrieval.rerank == "llm":  # the chat model grades the passages
            return True
        return (mode or self.settings.answer.mode) != "evidence" or found is None or found.uses_llm

    def ask(self, question: str, k: int | None = None, **overrides: Any) -> Answer:
        return self.stream(question, k, **overrides).consume()


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
