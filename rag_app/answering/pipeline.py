"""One question's path, after its cheap checks: retrieve, quote the evidence, weigh it, then
answer: the evidence itself, or the chat model's words from it, checked sentence by sentence.

``RagService.stream`` builds a ``Pipeline`` from its parts (store, models, measured values)
and runs it; nothing here loads a model or opens a store itself.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage

from ingest.splitter import continued, next_chunk_id
from rag_app.answering import overview, prompts, routes
from rag_app.answering.answers import ANSWER_MODES, AnswerStream, Fallback, Source
from rag_app.answering.evidence import Evidence, confidence, select_evidence
from rag_app.answering.verify import Checked, check_answer, evidence_answer
from rag_app.errors import RagError
from rag_app.retrieval.backend import Askable
from rag_app.retrieval.calibration import Calibration
from rag_app.retrieval.strategies import select_relevant
from rag_app.retrieval.trace import Trace
from rag_app.settings import Settings
from rag_app.text.language import detect_language, language_of
from rag_app.text.units import ends_in_list
from vectorstore.store import DocumentStore

LIST_TAIL_CHUNKS = 3  # chunks read on past a passage that stops inside a list, at most

Retrieve = Callable[[str, int | None, Askable], tuple[list[Source], Trace]]
# The documents a question may search (or name), by name: their ids; given the pending ids.
ReadyDocuments = Callable[[Sequence[str]], dict[str, str]]


@dataclass
class Pipeline:
    """What answering needs of the service; the chat model and the rewrite of a follow-up
    are called only in the modes that use them."""

    settings: Settings
    tuned: Calibration
    store: DocumentStore
    embeddings: Embeddings  # the sentence cache: evidence and the answer check
    chat_model: Callable[[], BaseChatModel]
    load_models: Callable[[bool], None]  # loads (once) the embedder, and the chat model if True
    standalone_question: Callable[[str, Sequence[tuple[str, str]]], str]
    retrieve: Retrieve
    ready_documents: ReadyDocuments
    embedder: str  # the embedder's model name (the router's meaning model reads its vectors)

    def answer(
        self,
        question: str,
        checked: Askable,
        k: int | None = None,
        *,
        history: Sequence[tuple[str, str]] = (),
        temperature: float | None = None,
        max_tokens: int | None = None,
        mode: str | None = None,
        route: str | None = None,
    ) -> AnswerStream:
        wanted, answering, tuned = self.settings.retrieval, self.settings.answer, self.tuned
        mode = mode or answering.mode
        if mode not in ANSWER_MODES:
            raise RagError(f"answer mode {mode!r}: unknown; use one of {', '.join(ANSWER_MODES)}")
        # Models load (once) before the clock starts: timings measure answering, not loading.
        # The chat model first, so a bad path fails fast; evidence alone never loads it.
        self.load_models(mode != "evidence")
        started = time.perf_counter()
        language = detect_language(question)
        standalone = question if mode == "evidence" else self.standalone_question(question, history)
        model = routes.meaning_model()
        embed = self.embeddings.embed_query if model and model.embedder == self.embedder else None
        ready = self.ready_documents(checked.pending)
        chosen = routes.forced(route or answering.route, standalone, list(ready), embed, model)
        overrides: dict[str, Any] = {
            name: value
            for name, value in (("temperature", temperature), ("max_tokens", max_tokens))
            if value is not None
        }
        if chosen.kind != routes.LOOKUP:
            return self.overview(
                question, standalone, chosen, checked, ready, language, started, mode, overrides
            )
        found, trace = self.retrieve(standalone, k, checked)
        kept = select_relevant(found, tuned.relevance_threshold, tuned.relevance_margin)
        sources, quoted = self.evidence(standalone, kept, found)
        quoted_in = language_of(" ".join(e.text for e in quoted))
        across = quoted_in not in (None, language)
        bar, floor = tuned.bar(across), tuned.floor(across)
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
        trace.meaning_indexed = checked.meaning_indexed
        trace.route = chosen.to_dict()

        def answer(tokens: Iterator[str], **how: Any) -> AnswerStream:
            return AnswerStream(
                question, language, sources, tokens, started, retrieval_s, trace,
                mode=mode, evidence=quoted, **how,
            )  # fmt: skip

        if not sources:
            reply = prompts.NO_ANSWER.get(language, prompts.NO_ANSWER["en"])
            return answer(iter([reply]), fallback=Fallback.ABSTAINED)
        if uncertain:  # the best evidence, labelled; the model is not asked to word it
            label = prompts.UNCERTAIN.get(language, prompts.UNCERTAIN["en"])
            return answer(iter([f"{label} {evidence_answer(quoted)}"]), fallback=Fallback.UNCERTAIN)
        if mode == "evidence":
            return answer(iter([evidence_answer(quoted)]))
        messages = self.messages(standalone, sources, quoted, language, mode)
        tokens, check = self.generated(messages, overrides, standalone, language, sources, quoted)
        return answer(tokens, check=check)

    def generated(
        self,
        messages: list[BaseMessage],
        overrides: dict[str, Any],
        question: str,
        language: str,
        sources: Sequence[Source],
        quoted: Sequence[Evidence],
    ) -> tuple[Iterator[str], Callable[[str], Checked]]:
        """The chat model's tokens for ``messages``, and the check of its whole text against
        the sources and the evidence (each sentence, as for every answer)."""
        tokens = (
            str(chunk.content)
            for chunk in self.chat_model().stream(messages, stop=prompts.STOP, **overrides)
        )
        passages = [s.text for s in sources]

        def check(generated: str) -> Checked:
            return check_answer(
                generated,
                question=question,
                language=language,
                passages=passages,
                evidence=list(quoted),
                drop_unsupported=self.settings.answer.unsupported == "drop",
                embed=self.embeddings.embed_documents,
                cosine_floor=self.tuned.cosine_floor,
            )

        return tokens, check

    def overview(
        self,
        question: str,
        standalone: str,
        route: routes.Route,
        checked: Askable,
        ready: dict[str, str],
        language: str,
        started: float,
        mode: str,
        overrides: dict[str, Any],
    ) -> AnswerStream:
        """A summary, comparison or enumeration (``answering.overview``): the documents' own
        units, quoted and cited, no model. With ``answer.overview_model`` (a capable chat
        model) and a mode that generates, the model then writes it from those units, checked
        sentence by sentence as any answer."""

        def retrieve(query: str, k: int, documents: Sequence[str]) -> list[Source]:
            limited = replace(checked, only=[ready[d] for d in documents]) if documents else checked
            return self.retrieve(query, k, limited)[0]

        def chunks(documents: Sequence[str]) -> list[Document]:  # all the ready ones: ()
            return self.store.document_chunks([ready[d] for d in documents or ready])

        built = overview.build(
            route, standalone, language, chunks, retrieve, self.embeddings,
            self.tuned.cosine_floor,
        )  # fmt: skip
        trace = Trace(strategy=checked.strategy, queries=[standalone], question=question)
        trace.standalone_question = standalone
        trace.meaning_indexed = checked.meaning_indexed
        trace.route = {**route.to_dict(), **built.details}
        retrieval_s = time.perf_counter() - started
        if mode != "evidence" and self.settings.answer.overview_model and built.evidence:
            messages = prompts.answer_messages(
                standalone, [], language, quoted_documents(built.evidence)
            )
            tokens, check = self.generated(
                messages, overrides, standalone, language, built.sources, built.evidence
            )
            return AnswerStream(
                question, language, built.sources, tokens, started, retrieval_s, trace,
                mode=mode, evidence=built.evidence, check=check,
            )  # fmt: skip
        return AnswerStream(
            question, language, built.sources, iter([built.text]), started, retrieval_s, trace,
            mode="evidence", evidence=built.evidence,
            fallback=None if built.evidence else Fallback.ABSTAINED,
        )  # fmt: skip

    def evidence(
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
            self.with_list_tails(numbered),
            self.embeddings,
            self.settings.answer.max_evidence,
            self.tuned.cosine_floor,
        )
        used = {e.number for e in quoted}
        shown = [s for s in numbered if s.number <= len(kept) or s.number in used]
        renumber = {s.number: i for i, s in enumerate(shown, start=1)}
        sources = [replace(s, number=renumber[s.number]) for s in shown]
        return sources, [replace(e, number=renumber[e.number]) for e in quoted]

    def with_list_tails(self, passages: list[Source]) -> list[Source]:
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

    def messages(
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
        quoted = quoted_documents(evidence)
        passages = [s.as_document() for s in sources]
        if context == "evidence":
            return prompts.answer_messages(question, [], language, quoted)
        if context == "evidence+passages":
            return prompts.answer_messages(question, passages, language, quoted)
        return prompts.answer_messages(question, passages, language)


def quoted_documents(evidence: Sequence[Evidence]) -> list[Document]:
    """Evidence as the prompt's "key sentences", each with its source's number."""
    return [
        Document(
            e.text,
            metadata={"source": e.source, "page": e.page, "section": e.section, "number": e.number},
        )
        for e in evidence
    ]
