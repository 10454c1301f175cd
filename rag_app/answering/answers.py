"""What an answer is: its evidence, its text, numbered sources, timings and retrieval trace."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any, get_args

from langchain_core.documents import Document

from rag_app.answering.evidence import Evidence
from rag_app.answering.fallback import Fallback
from rag_app.answering.injection import passage_flags
from rag_app.answering.prompts import STILL_INDEXING
from rag_app.answering.verify import Checked
from rag_app.retrieval.trace import Trace
from rag_app.settings import AnswerMode
from rag_app.text.claims import cited_numbers, location, supporting_passages

# answer.mode: quotes only, the model from the passages, or quotes first and the model's
# wording checked against them (the settings' literal, listed once).
ANSWER_MODES: tuple[str, ...] = get_args(AnswerMode)


@dataclass(frozen=True)
class Source:
    number: int  # the [n] the answer cites
    source: str
    page: int
    text: str
    score: float
    chunk_id: str
    flags: tuple[str, ...] = ()  # see rag_app.injection: instructions, hidden_text
    ocr: bool = False  # the passage was read by OCR from a page image
    section: str = ""  # heading path, in formats without pages (Markdown, HTML, Word...)

    @property
    def location(self) -> str:
        return location(self.source, self.page, self.section)

    @classmethod
    def from_hit(cls, number: int, doc: Document, score: float) -> Source:
        return cls(
            number=number,
            source=str(doc.metadata.get("source", "")),
            page=int(doc.metadata.get("page", 0)),
            text=doc.page_content,
            score=round(score, 4),
            chunk_id=str(doc.id or ""),
            flags=tuple(passage_flags(doc.page_content, doc.metadata)),
            ocr=bool(doc.metadata.get("ocr")),
            section=str(doc.metadata.get("section", "")),
        )

    def as_document(self) -> Document:
        return Document(
            id=self.chunk_id,
            page_content=self.text,
            metadata={"source": self.source, "page": self.page, "section": self.section},
        )


@dataclass
class Answer:
    question: str
    answer: str
    sources: list[Source]
    language: str
    timings: dict[str, float] = field(default_factory=dict)
    trace: Trace = field(default_factory=lambda: Trace("", []))  # what was searched and found
    mode: str = "generate"  # answer.mode: evidence, generate or both
    evidence: list[Evidence] = field(default_factory=list)  # quoted sentences, best first
    generated: str | None = None  # the model's text as written, before the check
    unsupported: list[str] = field(default_factory=list)  # its sentences the passages lack
    # Why ``answer`` is not the model's wording (``Fallback``); None when it is, or when the
    # mode asked for evidence only.
    fallback: Fallback | None = None

    @property
    def note(self) -> str | None:
        """What the reader should know about how the answer was found: that the meaning
        index was still being built (``prompts.STILL_INDEXING``)."""
        return indexing_note(self.trace, self.language)

    @property
    def model_citations(self) -> list[int]:
        return [n for n in cited_numbers(self.answer) if 1 <= n <= len(self.sources)]

    @property
    def citation_method(self) -> str:
        """'model' when the answer cites [n] itself, else 'overlap' (matched by shared words)."""
        return "model" if self.model_citations else "overlap"

    @property
    def cited(self) -> list[int]:
        """The sources the answer rests on, best evidence first."""
        if self.model_citations:
            return self.model_citations
        return supporting_passages(self.answer, [s.text for s in self.sources])

    def to_dict(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "mode": self.mode,
            "evidence": [e.to_dict() for e in self.evidence],
            "answer": self.answer,
            "generated": self.generated,
            "unsupported": self.unsupported,
            "fallback": self.fallback,
            "note": self.note,
            "language": self.language,
            "sources": [asdict(s) for s in self.sources],
            "cited": self.cited,
            "citation_method": self.citation_method,
            "timings": self.timings,
            "trace": self.trace.to_dict(),
        }


def indexing_note(trace: Trace, language: str) -> str | None:
    """The note an answer found while the meaning index was being built carries."""
    if trace.meaning_indexed is None:
        return None
    text = STILL_INDEXING.get(language, STILL_INDEXING["en"])
    return text.format(percent=int(trace.meaning_indexed * 100))


class AnswerStream:
    """Iterate for the answer's text as it is generated; then ``result`` holds the ``Answer``.

    ``sources`` and ``evidence`` are known before the first token, so a client shows them
    first. ``check`` turns the model's whole text into what the user reads (``Checked``); without
    it (evidence or a fixed reply) the text is the answer as it is.
    """

    def __init__(
        self,
        question: str,
        language: str,
        sources: list[Source],
        tokens: Iterator[str],
        started: float,
        retrieval_s: float,
        trace: Trace,
        *,
        mode: str = "generate",
        evidence: list[Evidence] | None = None,
        check: Callable[[str], Checked] | None = None,
        fallback: Fallback | None = None,
    ) -> None:
        self.question, self.language, self.sources, self.trace = question, language, sources, trace
        self._tokens, self._started, self._retrieval_s = tokens, started, retrieval_s
        self.mode, self.evidence, self._check = mode, evidence or [], check
        self._fallback = fallback
        self.result: Answer | None = None

    @property
    def uncertain(self) -> bool:
        """The evidence is shown though its confidence is below the bar: it may not answer
        (the model is not asked to word it)."""
        return self._fallback == Fallback.UNCERTAIN

    @property
    def note(self) -> str | None:
        """As ``Answer.note``, known before the first token."""
        return indexing_note(self.trace, self.language)

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
        text = "".join(parts).strip()
        checked = self._check(text) if self._check else Checked(text, [], self._fallback)
        self.result = Answer(
            self.question,
            checked.answer,
            self.sources,
            self.language,
            timings,
            self.trace,
            mode=self.mode,
            evidence=self.evidence,
            generated=text if self._check else None,
            unsupported=checked.unsupported,
            fallback=checked.fallback,
        )

    def consume(self) -> Answer:
        """The whole answer; iterates what is left of the stream (nothing, if it was read)."""
        if self.result is None:
            for _ in self:
                pass
        assert self.result is not None
        return self.result
