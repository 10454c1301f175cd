"""Answers that are not look-ups, built from the documents' own units, no model: a summary of
a document or section, a comparison of two named sides, and an enumeration of every unit of a
kind in a scope. Every line quotes a unit verbatim (``text.units``: a sentence, a list with
its lead-in) and cites its file, page and section, as evidence does for a look-up.

- **Scope.** A section named by number ("tema 3", "chapter 2.3": its numbered headings and their
  sub-sections), by words ("la sección de planificación": the heading sharing most of them), or
  else by meaning (the section of the passage retrieval ranks first for it); a document named;
  or, with nothing named, the section retrieval finds for the question. Sections are contiguous
  in reading order, so the scope is the run of chunks between its first and last match.
- **Summary.** The scope's sub-sections in reading order, each with its most central unit (the
  one whose words are most typical of the sub-section, a list with its lead-in preferred), as
  many as ``SUMMARY_UNITS``; the headings left over are named in a last line, so the reader sees
  the whole outline.
- **Comparison.** Each side retrieved on its own (inside a document when the side names one),
  its best units quoted, the sides' units aligned by meaning so that row n of each side speaks
  of the same thing.
- **Enumeration.** Every unit of the scope that is of the kind asked: definitions ("X: ...",
  "X es ..."), steps (numbered lists), examples, or, for any other kind, the lists and units
  that name it; in reading order, ``ENUMERATION_MOST`` at most.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings

from ingest.sections import SEPARATOR
from rag_app.answering.answers import Source
from rag_app.answering.evidence import Evidence, cosine, select_evidence
from rag_app.answering.question_types import defined_term
from rag_app.answering.routes import COMPARISON, ENUMERATION, SUMMARY, Route, named_documents
from rag_app.text.claims import is_question
from rag_app.text.language import content_stems, strip_accents
from rag_app.text.units import Unit, units

SUMMARY_UNITS = 8  # sub-sections a summary quotes a unit of
UNITS_PER_PART = 3  # units quoted of one sub-section, when there are few
LEAD_BONUS = 1.2  # the first unit of a sub-section usually says what it is about
ENUMERATION_MOST = 30  # units an enumeration lists
COMPARISON_UNITS = 3  # units quoted per side
SIDE_PASSAGES = 4  # passages retrieved per side
RUN_GAP = 12  # chunks between two matches of a scope that still belong to one run
WORD_MATCH = 0.5  # share of the scope's words a heading must have to be chosen by words
# Headings of a table of contents: never a scope, never summarised.
_CONTENTS = frozenset({"indice", "index", "contents", "table of contents", "contenidos"})
# Words that say what a scope is, not which: "el tema", "the chapter on".
_SCOPE_WORDS = content_stems(
    "tema capítulo sección apartado unidad lección documento apuntes notas archivo fichero "
    "chapter section unit lesson lecture document notes file topic summary resumen"
)
_NUMBERED = re.compile(
    r"\b(?:tema|capitulo|cap|seccion|apartado|unidad|leccion|chapter|section|unit|lesson|"
    r"lecture|part|parte|modulo|module)\s*\.?\s*(\d+(?:\.\d+)*)\b"
)

Retrieve = Callable[[str, int, Sequence[str]], list[Source]]  # query, k, documents (names)
Chunks = Callable[[Sequence[str]], list[Document]]  # the chunks of these documents (all: ())


@dataclass
class Built:
    """What a route answers with: the text, its sources and quoted units, and what the trace
    shows of how they were chosen."""

    text: str
    sources: list[Source]
    evidence: list[Evidence]
    details: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class _Quoted:
    unit: Unit
    chunk: Document
    order: int  # reading order within the scope


def _segments(doc: Document) -> list[str]:
    return [s for s in str(doc.metadata.get("section", "")).split(SEPARATOR) if s]


def _plain(text: str) -> str:
    return " ".join(strip_accents(text.lower()).split())


def _is_contents(doc: Document) -> bool:
    return any(_plain(s).rstrip(" 0123456789") in _CONTENTS for s in _segments(doc))


def _number_of(segment: str) -> str | None:
    match = re.match(r"^\s*(\d+(?:\.\d+)*)\.?\s", segment + " ")
    return match.group(1) if match else None


def _in_numbered(segment: str, number: str) -> bool:
    """Whether a heading is section ``number`` or one of its sub-sections ("3.2" is in "3");
    a heading may also say it ("Tema 3", "Chapter 3")."""
    own = _number_of(segment)
    if own is not None and (own == number or own.startswith(number + ".")):
        return True
    return bool(re.search(rf"\b(?:tema|chapter|capitulo|unit|unidad)\s+{re.escape(number)}\b",
                          _plain(segment)))  # fmt: skip


def _largest_run(chunks: Sequence[Document], hits: Sequence[int]) -> list[Document]:
    """The chunks from the first to the last hit of the densest run of hits (a section is
    contiguous; a stray mention far away is not part of it)."""
    if not hits:
        return []
    runs: list[list[int]] = [[hits[0]]]
    for i in hits[1:]:
        if i - runs[-1][-1] > RUN_GAP:
            runs.append([])
        runs[-1].append(i)
    best = max(runs, key=len)
    return [c for c in chunks[best[0] : best[-1] + 1] if not _is_contents(c)]


def _by_document(chunks: Sequence[Document]) -> dict[str, list[Document]]:
    grouped: dict[str, list[Document]] = {}
    for chunk in sorted(
        chunks, key=lambda c: (str(c.metadata.get("source", "")), int(c.metadata.get("chunk", 0)))
    ):
        grouped.setdefault(str(chunk.metadata.get("source", "")), []).append(chunk)
    return grouped


def _scoped(chunks: Sequence[Document], matches: Callable[[list[str]], bool]) -> list[Document]:
    """The run of chunks whose headings ``matches``, in the document with the most of them."""
    best: list[Document] = []
    for ordered in _by_document(chunks).values():
        hits = [
            i
            for i, c in enumerate(ordered)
            if not _is_contents(c) and matches(_segments(c))
        ]  # fmt: skip
        found = _largest_run(ordered, hits)
        if len(found) > len(best):
            best = found
    return best


def _heading_by_words(chunks: Sequence[Document], scope: str) -> str | None:
    """The heading sharing the most of the scope's words (at least ``WORD_MATCH`` of them)."""
    wanted = content_stems(scope) - _SCOPE_WORDS
    if not wanted:
        return None
    best, best_share = None, 0.0
    for chunk in chunks:
        if _is_contents(chunk):
            continue
        for segment in _segments(chunk):
            share = len(wanted & content_stems(segment)) / len(wanted)
            if share > best_share:
                best, best_share = segment, share
    return best if best_share >= WORD_MATCH else None


def _without_names(text: str, documents: Sequence[str]) -> str:
    """The text without the documents' names (their file names, then their stems)."""
    for name in documents:
        for written in (name, name.rsplit(".", 1)[0]):
            text = re.sub(re.escape(written), " ", text, flags=re.IGNORECASE)
    return text


def resolve_scope(
    route: Route, question: str, chunks: Chunks, retrieve: Retrieve
) -> tuple[list[Document], str]:
    """The chunks a summary or an enumeration covers, in reading order, and how they were
    found (for the trace)."""
    scope = route.targets[0] if route.targets else ""
    every = chunks(route.documents)
    every = [c for c in every if not _is_contents(c)] or every
    number = _NUMBERED.search(_plain(scope)) if scope else None
    if number:
        found = _scoped(every, lambda path: any(_in_numbered(s, number.group(1)) for s in path))
        if found:
            return found, f"section {number.group(1)}"
    if scope:
        heading = _heading_by_words(every, scope)
        if heading is not None:
            return _scoped(every, lambda path: heading in path), f"heading {heading!r}"
    if route.documents and not (
        content_stems(_without_names(scope, route.documents)) - _SCOPE_WORDS
    ):
        ordered = [c for group in _by_document(every).values() for c in group]
        return ordered, "document " + ", ".join(route.documents)
    # By meaning: the section of the passage retrieval ranks first for the scope.
    found_top = retrieve(scope or question, 1, route.documents)
    if not found_top:
        return [], "nothing found"
    top = [c for c in every if str(c.id) == found_top[0].chunk_id]
    path = _segments(top[0]) if top else []
    wanted = content_stems(scope or question)
    heading = max(path, key=lambda s: len(wanted & content_stems(s)), default="")
    if not heading:
        return top, "passage"
    return _scoped(every, lambda p: heading in p), f"heading {heading!r} (by meaning)"


def _units_of(chunks: Sequence[Document]) -> list[_Quoted]:
    """Every unit of the chunks once (chunks overlap), in reading order."""
    seen: set[str] = set()
    found: list[_Quoted] = []
    for chunk in chunks:
        for unit in units(chunk.page_content, str(chunk.metadata.get("section", ""))):
            key = _plain(unit.text)
            if key in seen or (unit.kind == "item" and _plain(unit.lead) in seen):
                continue
            seen.add(key)
            found.append(_Quoted(unit, chunk, len(found)))
    return found


CODE_SYMBOLS = frozenset("{}();=<>*/_[]#&|\\")
CODE_SHARE = 0.05  # a unit with more of these characters reads as code, not prose


def _quotable(unit: Unit) -> bool:
    """A unit a summary may quote: a sentence or list of some length, not a question, not a
    line of code."""
    words = len(unit.text.split())
    code = sum(c in CODE_SYMBOLS for c in unit.text) / max(len(unit.text), 1)
    return 5 <= words <= 120 and not is_question(unit.text) and code <= CODE_SHARE


def _centrality(group: Sequence[_Quoted], idf: dict[str, float]) -> dict[int, float]:
    """How typical each unit's words are of its group: the idf-weighted share of the group's
    word mass it carries, over the square root of its length."""
    counts: Counter[str] = Counter()
    stems = {q.order: content_stems(q.unit.text) for q in group}
    for found in stems.values():
        counts.update(found)
    scores: dict[int, float] = {}
    first = min(q.order for q in group)
    for q in group:
        mass = sum(counts[s] * idf.get(s, 1.0) for s in stems[q.order])
        bonus = 1.3 if q.unit.kind == "list" else 1.15 if defined_term(q.unit.text) else 1.0
        bonus *= LEAD_BONUS if q.order == first else 1.0  # a part's first sentence states it
        scores[q.order] = bonus * mass / math.sqrt(max(len(stems[q.order]), 1) + 4)
    return scores


PAGE_KEY = "\x00page "  # groups units by page where a document has no headings


def _page_key(chunk: Document) -> str:
    return f"{PAGE_KEY}{chunk.metadata.get('page', 0)}"


def _heading(unit: Unit, chunk: Document) -> str:
    path = unit.heading or str(chunk.metadata.get("section", ""))
    return path.rpartition(SEPARATOR)[2]


class _Citations:
    """Numbers the chunks quoted, [1]..[n], and makes the sources and evidence of them."""

    def __init__(self) -> None:
        self.sources: list[Source] = []
        self.evidence: list[Evidence] = []
        self._numbers: dict[str, int] = {}

    def cite(self, quoted: _Quoted, score: float = 1.0) -> int:
        """A unit of a chunk of the scope."""
        known = self._numbers.get(str(quoted.chunk.id))
        source = self.sources[known - 1] if known else Source.from_hit(0, quoted.chunk, 0.0)
        return self.add(source, quoted.unit.text, score)

    def add(self, source: Source, text: str, score: float) -> int:
        """A unit of ``source`` (a retrieved passage, or a chunk of the scope), numbered as
        that chunk: the first unit of a chunk gives it the next number."""
        if source.chunk_id not in self._numbers:
            self._numbers[source.chunk_id] = len(self.sources) + 1
            self.sources.append(replace(source, number=len(self.sources) + 1))
        number = self._numbers[source.chunk_id]
        self.evidence.append(
            Evidence(text, number, source.source, source.page, round(score, 4),
                     section=source.section)
        )  # fmt: skip
        return number


_LABELS = {
    "en": {
        "summary": "Summary of {scope}",
        "also": "Also covered",
        "none": "I found no section or document matching {scope!r}.",
        "every": "{kind} in {scope}",
        "no_items": "I found nothing of that kind in {scope}.",
        "side_none": "nothing found",
        "compare": "Comparison",
    },
    "es": {
        "summary": "Resumen de {scope}",
        "also": "También trata",
        "none": "No he encontrado ninguna sección ni documento que coincida con {scope!r}.",
        "every": "{kind} en {scope}",
        "no_items": "No he encontrado nada de ese tipo en {scope}.",
        "side_none": "no se ha encontrado nada",
        "compare": "Comparación",
    },
}


_WHAT_IS = {"en": "What is {side}?", "es": "¿Qué es {side}?"}


def _label(language: str, key: str, **values: object) -> str:
    return _LABELS.get(language, _LABELS["en"])[key].format(**values)


def _where(chunks: Sequence[Document]) -> str:
    sources = sorted({str(c.metadata.get("source", "")) for c in chunks})
    pages = [  # only PDFs have pages a reader can turn to (as ``location`` writes them)
        int(c.metadata.get("page", 0))
        for c in chunks
        if c.metadata.get("page") and str(c.metadata.get("source", "")).lower().endswith(".pdf")
    ]
    span = f", pp. {min(pages)}-{max(pages)}" if pages and min(pages) != max(pages) else ""
    return ", ".join(sources) + span


def summarize(
    route: Route, question: str, language: str, scoped: Sequence[Document], how: str
) -> Built:
    """An extractive summary of the route's scope, its chunks ``scoped`` (see the module's
    doc)."""
    scope = scope_name(route, question)
    # A list's items are quoted with their list (its lead-in and all of them), not alone.
    quoted = [
        q
        for q in _units_of(scoped)
        if _quotable(q.unit) and not (q.unit.kind == "item" and q.unit.lead)
    ]
    groups: dict[str, list[_Quoted]] = {}
    for q in quoted:  # by sub-section; where there are no headings, by page
        groups.setdefault(_heading(q.unit, q.chunk) or _page_key(q.chunk), []).append(q)
    idf = _idf([q.unit.text for q in quoted])
    # The sub-sections with most to say, shown in reading order.
    size = {h: sum(len(q.unit.text) for q in g) for h, g in groups.items()}
    shown = set(sorted(groups, key=lambda h: -size[h])[:SUMMARY_UNITS])
    cites = _Citations()
    title = f"{_label(language, 'summary', scope=scope)} ({_where(scoped)})"
    lines = [f"**{title}**", ""]
    # Few sub-sections: more than one unit each (their most central, in reading order).
    each = max(1, min(UNITS_PER_PART, SUMMARY_UNITS // max(len(shown), 1)))
    for heading, group in groups.items():
        if heading not in shown:
            continue
        central = _centrality(group, idf)
        best = sorted(group, key=lambda q: -central[q.order])[:each]
        named = heading and not heading.startswith(PAGE_KEY)
        for i, part in enumerate(sorted(best, key=lambda q: q.order)):
            number = cites.cite(part, central[part.order])
            prefix = f"**{heading}**: " if named and i == 0 else ""
            lines.append(f"- {prefix}{part.unit.text} [{number}]")
    rest = [h for h in groups if h not in shown and h and not h.startswith(PAGE_KEY)]
    if rest:
        lines += ["", f"{_label(language, 'also')}: " + "; ".join(rest) + "."]
    headings = [h for h in groups if h and not h.startswith(PAGE_KEY)]
    return Built(
        "\n".join(lines),
        cites.sources,
        cites.evidence,
        {
            "title": title,
            "scope": how,
            "chunks": len(scoped),
            "headings": len(headings),
            "headings_quoted": sum(h in shown for h in headings),
            "also": rest,
        },
    )


def scope_name(route: Route, question: str) -> str:
    """What the answer says it covers: the scope as asked, the documents named, or the
    question."""
    return route.targets[0] if route.targets else ", ".join(route.documents) or question


def _idf(texts: Sequence[str]) -> dict[str, float]:
    frequency: Counter[str] = Counter()
    for text in texts:
        frequency.update(content_stems(text))
    n = max(len(texts), 1)
    return {s: math.log(1 + n / f) for s, f in frequency.items()}


# A definition: a short term, then a colon or a copula and an article ("Base de datos: ...",
# "Un proceso es un programa...", "A thread is the unit..."); not a condition ("Si un proceso
# es monohebra..."), a caption ("Figura 1: ...") or a claim about a set ("Otras medidas son...").
_DEFINITION_COPULA = re.compile(
    r"^\W*(?P<term>[^:.;(),]{2,60}?)\s+(?:es|son|is|are|se\s+define\s+como|se\s+denomina|"
    r"se\s+llama|refers\s+to|is\s+defined\s+as)\s+(?:un|una|el|la|los|las|lo|aquel|aquella|"
    r"the|a|an)\s"
)
_NOT_A_TERM = re.compile(
    r"^\W*(si|cuando|aunque|como|porque|puesto|otr[oa]s|algun[oa]s|est[oa]s|sus|if|when|"
    r"although|because|other|some|these|those|its|their|figura|figure|fig|tabla|table|"
    r"siempre|always|nunca|never)\b",
    re.IGNORECASE,
)
TERM_WORDS = 5  # a defined term has at most this many words


def is_definition(unit: Unit) -> bool:
    """Whether the unit defines a term (see ``_DEFINITION_COPULA``)."""
    if unit.kind == "list" or _NOT_A_TERM.match(unit.text):
        return False
    colon = defined_term(unit.text) if re.match(r"^\W*[^:.;(),]{2,60}?:\s", unit.text) else None
    copula = _DEFINITION_COPULA.match(unit.text)
    term = colon or (copula.group("term") if copula else None)
    return term is not None and len(term.split()) <= TERM_WORDS


def _mentions(pattern: str) -> Callable[[Unit], bool]:
    found = re.compile(pattern)
    return lambda unit: bool(found.search(_plain(unit.text)))


def _is_list(unit: Unit) -> bool:
    return unit.kind == "list"


# What an enumeration's kind word asks for (stems of the kind, es and en).
_KIND_TESTS: dict[str, Callable[[Unit], bool]] = {
    **dict.fromkeys(("defin", "concep", "termin", "term"), is_definition),
    "ejempl": _mentions(r"\b(ejemplo|p\. ?ej|por ejemplo)"),
    "exampl": _mentions(r"\b(example|e\.g\.|for instance)"),
    **dict.fromkeys(("pas", "step", "etap", "stage", "fase", "phase"), _is_list),  # steps
}


def _kind_test(kind: str) -> Callable[[Unit], bool]:
    plain = _plain(kind)
    for stem, test in _KIND_TESTS.items():
        if plain.startswith(stem):
            return test
    wanted = content_stems(kind)

    def names_it(unit: Unit) -> bool:  # a list of them, or a unit naming the kind
        return bool(wanted & content_stems(unit.lead or unit.text)) or (
            unit.kind == "list" and bool(wanted & content_stems(unit.heading))
        )

    return names_it


def enumerate_units(
    route: Route, question: str, language: str, scoped: Sequence[Document], how: str
) -> Built:
    """Every unit of the kind the route names in its scope, its chunks ``scoped`` (see the
    module's doc)."""
    scope = scope_name(route, question)
    test = _kind_test(route.topic or question)
    found = [q for q in _units_of(scoped) if q.unit.kind != "item" and test(q.unit)]
    found = [q for q in found if not is_question(q.unit.text)][:ENUMERATION_MOST]
    kind = (route.topic or "").capitalize() or "Items"
    if not found:
        text = _label(language, "no_items", scope=scope)
        return Built(text, [], [], {"scope": how, "chunks": len(scoped), "items": 0})
    cites = _Citations()
    title = f"{_label(language, 'every', kind=kind, scope=scope)} ({_where(scoped)})"
    lines = [f"**{title}**", ""]
    for q in found:
        lines.append(f"- {q.unit.text} [{cites.cite(q)}]")
    return Built(
        "\n".join(lines),
        cites.sources,
        cites.evidence,
        {"title": title, "scope": how, "chunks": len(scoped), "items": len(found)},
    )


def compare(
    route: Route,
    question: str,
    language: str,
    retrieve: Retrieve,
    embeddings: Embeddings,
    cosine_floor: float,
) -> Built:
    """Evidence for each side of the comparison, aligned by meaning (see the module's doc)."""
    per_side: list[tuple[str, list[Source], list[Evidence]]] = []
    for side in route.targets:
        named = named_documents(side, route.documents)  # the router's rule, on the side alone
        if named:  # a document: what it says of the topic
            query = asked = route.topic or question
        elif route.topic:
            query = asked = f"{side} {route.topic}"
        else:  # a concept: first of all, what it is
            query, asked = side, _WHAT_IS.get(language, _WHAT_IS["en"]).format(side=side)
        passages = retrieve(query, SIDE_PASSAGES, named)
        quoted = select_evidence(asked, passages, embeddings, COMPARISON_UNITS, cosine_floor)
        per_side.append((side, passages, quoted))
    aligned = _align([q for _, _, q in per_side], embeddings)
    cites = _Citations()
    title = f"{_label(language, 'compare')}: " + " / ".join(route.targets)
    lines = [f"**{title}**", ""]
    for (side, passages, _), quoted in zip(per_side, aligned, strict=True):
        by_number = {p.number: p for p in passages}
        lines.append(f"**{side}**")
        if not quoted:
            lines.append(f"- ({_label(language, 'side_none')})")
        for e in quoted:
            number = cites.add(by_number[e.number], e.text, e.score)
            lines.append(f"- {e.text} [{number}]")
        lines.append("")
    return Built(
        "\n".join(lines).rstrip(),
        cites.sources,
        cites.evidence,
        {"title": title},
    )


def _align(sides: list[list[Evidence]], embeddings: Embeddings) -> list[list[Evidence]]:
    """The first side's units as they rank; each other side's reordered so that its n-th unit
    is the one closest in meaning to the first side's n-th (greedy, best pairs first)."""
    if len(sides) < 2 or not sides[0]:
        return sides
    texts = [e.text for side in sides for e in side]
    vectors = dict(zip(texts, embeddings.embed_documents(texts), strict=True))
    first = sides[0]
    aligned = [first]
    for other in sides[1:]:
        pairs = sorted(
            ((cosine(vectors[a.text], vectors[b.text]), i, j)
             for i, a in enumerate(first) for j, b in enumerate(other)),
            reverse=True,
        )  # fmt: skip
        slot: dict[int, int] = {}
        used: set[int] = set()
        for _, i, j in pairs:
            if i not in slot and j not in used:
                slot[i] = j
                used.add(j)
        ordered = [other[slot[i]] for i in sorted(slot)]
        ordered += [e for j, e in enumerate(other) if j not in used]
        aligned.append(ordered)
    return aligned


def build(
    route: Route,
    question: str,
    language: str,
    chunks: Chunks,
    retrieve: Retrieve,
    embeddings: Embeddings,
    cosine_floor: float,
) -> Built:
    """The answer of a route other than look-up."""
    if route.kind in (SUMMARY, ENUMERATION):
        scoped, how = resolve_scope(route, question, chunks, retrieve)
        if not scoped:
            text = _label(language, "none", scope=scope_name(route, question))
            return Built(text, [], [], {"scope": how})
        make = summarize if route.kind == SUMMARY else enumerate_units
        return make(route, question, language, scoped, how)
    if route.kind == COMPARISON:
        return compare(route, question, language, retrieve, embeddings, cosine_floor)
    raise ValueError(f"route {route.kind!r} is answered by look-up")
