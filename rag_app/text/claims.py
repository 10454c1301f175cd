"""Citations and support: the [n] an answer cites, whether passages hold a statement's words,
the words to highlight, and where a passage is as citations write it. Pure functions."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from rag_app.text.language import content_stems, numbers
from rag_app.text.units import HEADING_SEPARATOR, split_sentences

# -- citations and support ------------------------------------------------------------------
CITATION = re.compile(r"\[\s*(\d+(?:\s*[,;\-\u2013]\s*\d+)*)\s*\]")
SUPPORT_THRESHOLD = 0.5  # share of a statement's content words the passages must hold


def cited_numbers(answer: str) -> list[int]:
    """The passage numbers an answer cites, in order of first use.

    Understands [2], [1, 3], [1; 2], [1][2], [ 2 ] and ranges such as [1-3].
    """
    seen: list[int] = []
    for group in CITATION.findall(answer):
        for first, last in re.findall(r"(\d+)(?:\s*[-\u2013]\s*(\d+))?", group):
            start = int(first)
            stop = int(last) if last and 0 <= int(last) - start < 20 else start
            for value in range(start, stop + 1):
                if value not in seen:
                    seen.append(value)
    return seen


def strip_citations(text: str) -> str:
    """The text without its [n] marks ("wide [1]." becomes "wide.")."""
    return re.sub(r"[ \t]+([.,;:!?])", r"\1", CITATION.sub(" ", text))


def is_question(sentence: str) -> bool:
    """The sentence asks rather than states: it ends in "?" (citations aside) or is labelled
    a question. Neither evidence nor a checked answer is made of these."""
    text = strip_citations(sentence).strip()
    return text.endswith("?") or text.lower().startswith(("question:", "pregunta:"))


def statements(text: str) -> list[str]:
    """Sentences of a text, each a claim to check, citation marks like [2] dropped; sentences
    with no content word ("Ok.") are not claims."""
    return [s for s in split_sentences(strip_citations(text)) if content_stems(s)]


def support(statement: str, contexts: Iterable[str]) -> float:
    """Share of the statement's content words that appear in the contexts (0..1)."""
    wanted = content_stems(statement)
    if not wanted:
        return 0.0
    found: set[str] = set()
    for context in contexts:
        found |= content_stems(context)
    return len(wanted & found) / len(wanted)


def supported(statement: str, contexts: Sequence[str]) -> bool:
    """The statement's words are mostly in the contexts, and every number it states is too
    (an answer that says "two layers" where the passage says "96 layers" is not supported)."""
    if support(statement, contexts) < SUPPORT_THRESHOLD:
        return False
    stated = numbers(strip_citations(statement))
    return not stated or stated <= set().union(*(numbers(c) for c in contexts))


def supporting_passages(answer: str, passages: Sequence[str]) -> list[int]:
    """Passages (1-based) that an answer's sentences draw on, best evidence first.

    Small models often ignore the instruction to cite; this shows the user which passages the
    answer's words come from. A sentence counts for the passage holding the largest share of its
    content words, if that passage supports it (``supported``)."""
    found: list[int] = []
    for sentence in statements(answer):
        if len(content_stems(sentence)) < 2 or not passages:
            continue
        shares = [support(sentence, [p]) for p in passages]
        best = max(range(len(shares)), key=shares.__getitem__)
        if best + 1 not in found and supported(sentence, [passages[best]]):
            found.append(best + 1)
    return found


_WORD = re.compile(r"\w+")


def highlight_spans(question: str, passage: str) -> list[tuple[str, bool]]:
    """The passage cut into (text, matches_question) pieces, to highlight the words that matter:
    content words of the question, compared as ``content_stems`` compares them."""
    stems = content_stems(question)
    spans: list[tuple[str, bool]] = []
    last = 0
    for match in _WORD.finditer(passage):
        if content_stems(match.group()) & stems:
            if match.start() > last:
                spans.append((passage[last : match.start()], False))
            spans.append((match.group(), True))
            last = match.end()
    if last < len(passage):
        spans.append((passage[last:], False))
    return spans


def location(source: str, page: int, section: str, page_word: str = "page") -> str:
    """Where a passage is, as citations write it: "page 3" in a PDF ("page 6 › Modelo Z" under
    a heading), the heading path in the formats without pages ("Tema 2 › Atención"), nothing
    for a text file without headings."""
    paged = source.lower().endswith(".pdf") or not source
    if paged:
        return (
            f"{page_word} {page}{HEADING_SEPARATOR}{section}" if section else f"{page_word} {page}"
        )
    return section
