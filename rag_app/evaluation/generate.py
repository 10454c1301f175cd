"""A synthetic QA set from the user's own PDFs, for someone without one.

Sentences that state facts (numbers, names, years, definitions) are picked evenly over the
files and their pages; each becomes a question in its own language (``questions``): the chat
model's rewording when it passes checks, else a template or a cloze, which need no model. The
bundled 135M model wrote no usable question on five Spanish course PDFs, so the set never
depends on it: with the model failing every time, n usable sentences still give n questions.
The sentence is the reference answer and its page the expected source; each row says how its
question was made.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from langchain_core.language_models import BaseChatModel

from ingest.formats import FORMATS, load_document
from ingest.loaders import find_documents
from ingest.pipeline import ProgressFn, no_progress
from rag_app.errors import RagError
from rag_app.evaluation.model_questions import model_question
from rag_app.evaluation.questions import (
    ANAPHORA,
    Question,
    answer_spans,
    definition,
    fallback_question,
)
from rag_app.text.language import content_stems, language_of, normalize, strip_accents
from rag_app.text.units import split_sentences

MIN_WORDS, MAX_WORDS = 6, 40


@dataclass(frozen=True)
class Candidate:
    source: str
    page: int
    sentence: str
    language: str
    score: int  # how much it looks like a fact worth asking about (``factual_score``)


@dataclass
class GenerationReport:
    """How the questions were made, for the one line `rag eval generate` prints."""

    usable: int  # sentences a question could be made from
    made: Counter[str] = field(default_factory=Counter)  # model, template, cloze
    rejected: int = 0  # model replies that failed the checks (a fallback took their place)


# -- which sentences ------------------------------------------------------------------------
_OPENING = re.compile(r'^[¡«"“\u2018(]?[A-ZÁÉÍÓÚÑÜ0-9]')  # re reads the \u escapes
_LIST_MARK = re.compile(r"^(?:[-*•·▪◦‣\u2013—]|\d{1,3}[.)]|[a-zA-Z][.)])\s")
_CLOSERS = "»\"”\u2019')"


def usable(sentence: str) -> bool:
    """A statement a question can be made from: not a heading, list item, question, formula
    or fragment, and neither too short to say anything nor too long to read."""
    words = sentence.split()
    if not MIN_WORDS <= len(words) <= MAX_WORDS:
        return False
    body = sentence.rstrip(_CLOSERS)
    if not body.endswith(".") or body.endswith(("...", "…")) or "?" in sentence:
        return False
    if _LIST_MARK.match(sentence) or not _OPENING.match(sentence):
        return False
    letters = sum(c.isalpha() for c in sentence)
    return letters >= 0.6 * len(sentence.replace(" ", "")) and len(content_stems(sentence)) >= 3


def factual_score(sentence: str, language: str) -> int:
    """Numbers, years, names and definitions give questions with one clear answer; a sentence
    opening with a pronoun ("Esto permite...") needs the one before it."""
    kinds = {span.kind for span in answer_spans(sentence)}
    score = 2 * ("number" in kinds) + 2 * ("year" in kinds)
    score += ("name" in kinds) + ("other-number" in kinds)
    score += 3 * (definition(sentence, language) is not None)
    first = strip_accents(sentence.split()[0].lower().strip('¡«"“\u2018('))
    return score - 3 * (first in ANAPHORA)


def _separate_headings(text: str) -> str:
    """A heading has no full stop, so the splitter would glue it to the next sentence
    ("Atención El mecanismo..."): a blank line after a short unpunctuated line that follows
    the end of a paragraph and precedes a capital keeps it apart."""
    lines = [line.strip() for line in text.splitlines()]
    kept: list[str] = []
    for i, line in enumerate(lines):
        kept.append(line)
        before = lines[i - 1] if i else ""
        after = lines[i + 1] if i + 1 < len(lines) else ""
        if (
            len(line.split()) <= 10
            and not line.endswith((".", ",", ";", ":", "!", "?"))
            and _OPENING.match(line)
            and _OPENING.match(after)
            and (not before or before.endswith((".", ":", "!", "?")))
        ):
            kept.append("")
    return "\n".join(kept)


def _boilerplate_key(sentence: str) -> str:
    return re.sub(r"\d+", "#", normalize(sentence))


def candidate_sentences(paths: Sequence[Path]) -> list[Candidate]:
    """Every usable sentence once, in document and page order. A sentence found on several
    pages (a running header, a footer with the page number) is layout, not content: left out."""
    files, errors = find_documents(list(paths), FORMATS)
    if errors:
        raise RagError(errors[0])
    found: list[Candidate] = []
    pages_of: defaultdict[str, set[tuple[str, int]]] = defaultdict(set)
    for path in files:
        pdf = load_document(path)
        default = language_of(" ".join(p.text for p in pdf.pages)) or "en"
        for page in pdf.pages:
            for sentence in split_sentences(_separate_headings(page.text)):
                pages_of[_boilerplate_key(sentence)].add((pdf.name, page.number))
                if usable(sentence):
                    language = language_of(sentence) or default
                    score = factual_score(sentence, language)
                    found.append(Candidate(pdf.name, page.number, sentence, language, score))
    seen: set[str] = set()
    unique = []
    for candidate in found:
        key = _boilerplate_key(candidate.sentence)
        if len(pages_of[key]) == 1 and key not in seen:
            seen.add(key)
            unique.append(candidate)
    return unique


def spread(items: Sequence[Any], n: int) -> list[Any]:
    """Every item, reordered so that any first n are spread evenly over the whole list."""
    if len(items) <= n:
        return list(items)
    step = len(items) / n
    first = [int(i * step) for i in range(n)]
    chosen = set(first)
    return [items[i] for i in first] + [x for i, x in enumerate(items) if i not in chosen]


def _over_pages(candidates: Sequence[Candidate], n: int) -> list[Candidate]:
    """One file's sentences: the best of each page spread over its pages, then the second best
    of each, and so on, so that the first picks cover the whole file."""
    by_page: defaultdict[int, list[Candidate]] = defaultdict(list)
    for candidate in candidates:
        by_page[candidate.page].append(candidate)
    ranked = [sorted(page, key=lambda c: -c.score) for _, page in sorted(by_page.items())]
    ordered: list[Candidate] = []
    for depth in range(max(map(len, ranked), default=0)):
        ordered += spread([page[depth] for page in ranked if len(page) > depth], n)
    return ordered


def _interleave(lists: Sequence[Sequence[Candidate]]) -> list[Candidate]:
    longest = max(map(len, lists), default=0)
    return [items[i] for i in range(longest) for items in lists if i < len(items)]


def pick_sentences(candidates: Sequence[Candidate], n: int) -> list[Candidate]:
    """All candidates in the order to use them: those that look like facts first, taken in
    turn from each file and spread over its pages; then the others, in the same way."""
    ordered: list[Candidate] = []
    for factual in (True, False):
        by_file: defaultdict[str, list[Candidate]] = defaultdict(list)
        for candidate in candidates:
            if (candidate.score > 0) == factual:
                by_file[candidate.source].append(candidate)
        share = -(-n // max(len(by_file), 1))  # each file's part of the first n picks
        ordered += _interleave([_over_pages(c, share) for c in by_file.values()])
    return ordered


# -- the set --------------------------------------------------------------------------------
def make_question(
    candidate: Candidate, chat_model: BaseChatModel | None, model_name: str
) -> tuple[Question, bool]:
    """The question for one sentence, and whether a model reply was rejected on the way."""
    if chat_model is not None:
        made = model_question(chat_model, model_name, candidate.sentence, candidate.language)
        if made is not None:
            return made, False
    return fallback_question(candidate.sentence, candidate.language), chat_model is not None


def generate_qa(
    paths: Sequence[Path],
    n: int,
    chat_model: BaseChatModel | None = None,
    model_name: str = "",
    progress: ProgressFn = no_progress,
) -> tuple[list[dict[str, Any]], GenerationReport]:
    """Up to n rows (question, answer, answer_span, source, page, generated_by), fewer only
    when the PDFs hold fewer usable sentences; without a chat model, no model is asked."""
    candidates = candidate_sentences(paths)
    if not candidates:
        raise RagError(
            f"{', '.join(map(str, paths))}: no sentence to ask about (statements of "
            f"{MIN_WORDS} to {MAX_WORDS} words); are the PDFs scanned images without text?"
        )
    report = GenerationReport(usable=len(candidates))
    rows: list[dict[str, Any]] = []
    for candidate in pick_sentences(candidates, n)[:n]:
        progress("generate", len(rows), n, candidate.source)
        question, rejected = make_question(candidate, chat_model, model_name)
        report.rejected += rejected
        report.made[question.generated_by.split(":")[0]] += 1
        rows.append(
            {
                "id": f"gen{len(rows) + 1}",
                "question": question.text,
                "answer": candidate.sentence,
                "answer_span": question.answer_span,
                "source": candidate.source,
                "page": candidate.page,
                "generated_by": question.generated_by,
            }
        )
    progress("generate", len(rows), n, "")
    return rows, report
