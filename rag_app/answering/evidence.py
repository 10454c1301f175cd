"""Evidence: the one to three units of the retrieved passages that answer the question.

No language model is involved, so evidence is instant and always verbatim. A unit is a
sentence, a list item, or a list with its lead-in (``text.units``; a list that a chunk cuts
is read on into the next chunks of its page by the service), each with the headings it sits
under. Every unit is scored against the question by these signals, measured on XQuAD dev and
the course notes (docs/EVALUATION.md, ``bench.studies.evidence``):

- keyword overlap: the question's content words found in the sentence, each weighted by how
  rare it is among the candidate sentences;
- meaning: the embedder's cosine between the question and the sentence (what crosses
  languages, where keywords cannot: it weighs more in a passage in the other language);
- phrases: the question's word pairs found in the same order;
- the sentence before it (an answer often follows the sentence that names the subject);
- names and numbers of the question that the passage does not mention scale it down;
- the answer's type: "how many"/"cuántos" wants a number the question does not have,
  "when"/"cuándo" a year or a date, "who"/"quién" a name; a sentence without one is pushed
  down;
- the passage's rank, a little;
- course material's shapes: the headings above a unit count as its words (a line under
  "Modelo Z" answers a question naming Z); a whole list is matched by its lead-in (or its
  best item) and gains a little when the question asks for several things ("¿Qué tipos...?");
  the n-th item of a list gains much when the question asks for the n-th ("el tercer paso");
  a unit that defines the asked term ("Base de datos: ...") gains when the question asks what
  something is; a sentence that is itself a question (an exercise) counts as an echo.

A sentence that only restates the question (nothing new in it) cannot be the answer. The best
sentence is kept, and the next ones only while they score close to it.

Whether the passages answer at all is a separate number, ``confidence``: the best sentence's
score with its meaning match and how strongly the collection's best page matches the
question's words, which tells an off-topic question from an answerable one better than any
of them alone (docs/EVALUATION.md, abstention).

Over 400 lines because the signals, their weights and the combining rule are read together;
what a question asks for (its type, an ordinal, a definition) is in ``question_types``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Protocol

from langchain_core.embeddings import Embeddings

from ingest.sections import SECTION_DEPTH
from rag_app.answering.question_types import (
    answer_type,
    defines_asked,
    has_answer_type,
    ordinal,
    wants_list,
)
from rag_app.text.claims import is_question, location
from rag_app.text.language import (
    STEM,
    content_stems,
    detect_language,
    language_of,
    normalize,
    strip_accents,
)
from rag_app.text.units import HEADING_SEPARATOR, Unit, units


@dataclass(frozen=True)
class Evidence:
    text: str  # verbatim from the passage (whitespace collapsed)
    number: int  # the [n] of the source it comes from
    source: str
    page: int
    score: float  # 0..1, comparable across questions: ranks the sentences
    meaning: float = 0.0  # the embedder's cosine with the question, rescaled (0 without one)
    section: str = ""  # heading path, in formats without pages

    @property
    def location(self) -> str:
        return location(self.source, self.page, self.section)

    def to_dict(self) -> dict[str, object]:
        return {
            "text": self.text,
            "number": self.number,
            "source": self.source,
            "page": self.page,
            "section": self.section,
            "score": self.score,
        }


class Passage(Protocol):
    """What evidence selection needs of a source (``rag_app.answers.Source`` fits)."""

    @property
    def number(self) -> int: ...
    @property
    def source(self) -> str: ...
    @property
    def page(self) -> int: ...
    @property
    def text(self) -> str: ...


# -- scoring ---------------------------------------------------------------------------------
# Weights of the signals (they add up to 1, so a score is within 0..1). Chosen on XQuAD dev
# (bench.studies.evidence; docs/EVALUATION.md has the table of what each change did).
WEIGHTS = {"sentence": 0.62, "phrases": 0.19, "before": 0.19}
# Within one sentence's own signal (and the sentence before's): the cosine's share; keywords
# have the rest, or all of it without an embedder.
MEANING_SHARE = 0.45
# In a passage in another language than the question, keywords match only names and numbers,
# so its sentences lean on the meaning more (measured: docs/EVALUATION.md).
MEANING_SHARE_ACROSS = 0.6
TYPE_PENALTY = 0.4  # score kept by a sentence lacking the wanted answer type
# Score kept by a sentence with nothing beyond the question's words, and by a sentence that
# is itself a question (an exercise's, a heading's): neither answers.
ECHO_PENALTY = 0.5
RANK_DECAY = 0.03  # score lost per passage rank below the first
# A passage that mentions none of the question's names and numbers keeps this share of its
# sentences' scores (all of them: 1), not none: a passage may name "AAA" as "la Asociación
# Americana del Automóvil" (measured: docs/EVALUATION.md).
COVERAGE_FLOOR = 0.5
# An item at the position an ordinal question asks for ("the third step", "el cuarto paso")
# gains this much: no word of the item says "third".
ORDINAL_BONUS = 0.3
# A unit that defines the term a definition question asks about ("Base de datos: conjunto
# de...") gains this much over one that only uses its words.
DEFINITION_BONUS = 0.15
# A whole list (its lead-in and items) gains this much when the question asks for several
# things ("¿Qué tipos de...?"): the list is the answer, not the one item or sentence that
# happens to share the most words with the question.
LIST_BONUS = 0.1
KEEP_WITHIN = 0.7  # a further sentence is kept if it scores this share of the best
MOST = 3
_QUESTION_WORDS = frozenset(
    "what which who whom whose when where why how is are was were does did do qué cuál cuáles "
    "quién quiénes cuándo dónde cómo cuánto cuántos cuántas cuánta según".split()
)


@dataclass(frozen=True)
class _Candidate:
    text: str
    passage: Passage
    rank: int  # 0 for the best passage
    before: str  # the unit before it in the passage ("" for the first)
    unit: Unit

    @property
    def context(self) -> str:
        """What names its subject: the headings it sits under, and a list item's lead-in."""
        return f"{self.unit.heading}\n{self.unit.lead}"


def _candidates(passages: Sequence[Passage]) -> list[_Candidate]:
    """The passages' units (``text.units``: sentences, list items, lists with their lead-in),
    each once: a unit in two passages (the overlap of neighbouring chunks repeats one) is
    taken from the better-ranked passage, so the evidence never quotes the same text twice."""
    found: dict[str, _Candidate] = {}
    for rank, passage in enumerate(passages):
        found_in = units(passage.text, getattr(passage, "section", ""))
        for i, unit in enumerate(found_in):
            stems = len(content_stems(unit.text))
            if (stems >= 2 and len(unit.text) >= 12) or (unit.kind != "sentence" and stems >= 1):
                before = found_in[i - 1].text if i else ""
                found.setdefault(unit.text, _Candidate(unit.text, passage, rank, before, unit))
    return list(found.values())


def _keyword_scores(
    question: str, sentences: Sequence[str], contexts: Sequence[str] = ()
) -> list[float]:
    """Share of the question's content-word weight found in each sentence (or its context:
    the headings above it), each word weighted by its rarity among the sentences (a word in
    every sentence tells nothing)."""
    wanted = content_stems(question)
    if not wanted:
        return [0.0] * len(sentences)
    stems = [content_stems(s) for s in sentences]
    if contexts:
        stems = [st | content_stems(c) for st, c in zip(stems, contexts, strict=True)]
    total = len(sentences)
    weight = {w: math.log(1 + total / (1 + sum(w in st for st in stems))) for w in wanted}
    whole = sum(weight.values())
    return [sum(weight[w] for w in wanted & st) / whole for st in stems]


def _bigrams(text: str) -> set[tuple[str, str]]:
    words = [w[:STEM] for w in normalize(text).split()]
    return set(pairwise(words))


def _phrase_scores(question: str, sentences: Sequence[str]) -> list[float]:
    """Share of the question's word pairs found in order in the sentence: "won the cup"
    matches a sentence that says it, not one that only has "won" and "cup" apart."""
    wanted = _bigrams(question)
    if not wanted:
        return [0.0] * len(sentences)
    return [len(wanted & _bigrams(s)) / len(wanted) for s in sentences]


def name_words(question: str) -> list[str]:
    """Names and numbers the question asks about, as written: capitalised words past the
    first, and digits (the words that read the same in Spanish and English)."""
    return [
        word
        for i, word in enumerate(re.findall(r"\w+", question))
        if word.isdigit() or (i and word[0].isupper() and word.lower() not in _QUESTION_WORDS)
    ]


def _names(question: str) -> set[str]:
    """``name_words``, numbers as they are and names by their accent-free stem."""
    return {w if w.isdigit() else strip_accents(w.lower())[:STEM] for w in name_words(question)}


def _name_coverage(question: str, passage: str) -> float:
    """Share of the question's names and numbers that its passage mentions (1 when it has
    none): a passage about another championship does not answer "the 2010 World Cup"."""
    wanted = _names(question)
    if not wanted:
        return 1.0
    words = {w[:STEM] for w in re.findall(r"\w+", strip_accents(passage.lower()))}
    return len(wanted & words) / len(wanted)


def cosine(a: Sequence[float], b: Sequence[float]) -> float:
    """Cosine similarity of two vectors (0 when either is all zeros)."""
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    norm = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    return dot / norm if norm else 0.0


def rescaled(value: float, floor: float) -> float:
    """A cosine on a common 0..1 scale: ``floor`` (the embedder's level for unrelated text)
    and below become 0 (``calibration.Calibration.cosine_floor``)."""
    return max(0.0, (value - floor) / (1.0 - floor))


def _cosines(question: str, sentences: Sequence[str], embed: Embeddings) -> dict[str, float]:
    """The question embedded as a query, the sentences as passages (e5 tells them apart)."""
    unique = list(dict.fromkeys(sentences))
    asked = embed.embed_query(question)
    vectors = embed.embed_documents(unique)
    return {text: cosine(asked, v) for text, v in zip(unique, vectors, strict=True)}


EMBEDDED = 8  # sentences embedded per question: the best by keywords (and the one after each)


def _worth_embedding(
    candidates: Sequence[_Candidate], keywords: dict[str, float], question: str
) -> list[str]:
    """Embedding every sentence of four passages costs more than the rest of answering in
    evidence mode; the sentences with the most of the question's words, and the one after
    each (the answer often follows the sentence that names the subject), are the ones the
    meaning signal has to decide between."""
    best = {
        c.text for c in sorted(candidates, key=lambda c: (-keywords[c.text], c.rank))[:EMBEDDED]
    }
    after = {c.text for c in candidates if c.before in best}
    # lists too (a list is matched by its lead-in, a short text that rarely has many of the
    # question's words, since its items hold the answer), and what defines the term asked about
    also = {
        c.text
        for c in candidates
        if keywords[c.text] > 0 and (c.unit.kind == "list" or defines_asked(question, c.text))
    }
    return [c.text for c in candidates if c.text in best | after | also]


SIGNALS = (
    "keywords", "meaning", "phrases", "before_keywords", "before_meaning",
    "answer_type", "echo", "coverage", "rank", "ordinal", "defines", "asks", "list",
)  # fmt: skip


@dataclass(frozen=True)
class Scored:
    """A candidate sentence, its score (0..1) and the signals it was combined from
    (``SIGNALS``; bench.studies.evidence_study refits their weights to see what they can do)."""

    score: float
    signals: dict[str, float]
    candidate: _Candidate

    @property
    def meaning(self) -> float:
        return self.signals["meaning"]


def combine(signals: dict[str, float], share: float) -> float:
    """The score of a sentence from its signals; ``share`` is the meaning's part of a
    sentence's own signal (0 without an embedder)."""
    score = (
        WEIGHTS["sentence"] * ((1 - share) * signals["keywords"] + share * signals["meaning"])
        + WEIGHTS["phrases"] * signals["phrases"]
        + WEIGHTS["before"]
        * ((1 - share) * signals["before_keywords"] + share * signals["before_meaning"])
    )
    if not signals["answer_type"]:
        score *= TYPE_PENALTY
    if signals["echo"]:
        score *= ECHO_PENALTY
    if signals.get("asks"):
        score *= ECHO_PENALTY
    score *= COVERAGE_FLOOR + (1 - COVERAGE_FLOOR) * signals["coverage"]
    score -= RANK_DECAY * signals["rank"]
    score += ORDINAL_BONUS * signals.get("ordinal", 0.0)
    score += DEFINITION_BONUS * signals.get("defines", 0.0)
    score += LIST_BONUS * signals.get("list", 0.0)
    return min(1.0, max(0.0, score))


def _meaning_share(asked_in: str, passage: str) -> float:
    """The meaning's share of a sentence's own signal in a passage, for a question in
    ``asked_in``: more when the passage is in the other language."""
    written_in = language_of(passage)
    return MEANING_SHARE_ACROSS if written_in not in (None, asked_in) else MEANING_SHARE


def score_sentences(
    question: str, passages: Sequence[Passage], embed: Embeddings | None, floor: float = 0.0
) -> list[Scored]:
    """Every candidate sentence with its score (0..1), best first."""
    candidates = _candidates(passages)
    if not candidates:
        return []
    texts = [c.text for c in candidates]
    # what each is matched by: its text; a whole list, its lead-in (``Unit.subject``)
    subject = {c.text: c.unit.subject for c in candidates}
    subjects = list(subject.values())
    contexts = [c.context for c in candidates]
    keywords = dict(zip(texts, _keyword_scores(question, subjects, contexts), strict=True))
    for c in candidates:  # a list matches as well as its best item does, at least
        if c.unit.kind == "list":
            items = [keywords.get(line, 0.0) for line in c.text.splitlines()]
            keywords[c.text] = max([keywords[c.text], *items])
    nth = ordinal(question)
    listing = wants_list(question)
    phrases = _phrase_scores(question, subjects)
    worth = [subject[t] for t in _worth_embedding(candidates, keywords, question)]
    meaning = _cosines(question, worth, embed) if embed else {}
    kind = answer_type(question)
    asked = content_stems(question)
    coverage = {p.number: _name_coverage(question, p.text) for p in passages}
    asked_in = detect_language(question)
    share = {p.number: _meaning_share(asked_in, p.text) if embed else 0.0 for p in passages}

    def close(text: str) -> float:
        text = subject.get(text, text)
        return rescaled(meaning[text], floor) if text in meaning else 0.0

    scored = []
    for candidate, phrase in zip(candidates, phrases, strict=True):
        before = candidate.before
        signals = {
            "keywords": keywords[candidate.text],
            "meaning": close(candidate.text),
            "phrases": phrase,
            "before_keywords": keywords.get(before, 0.0) if before else 0.0,
            "before_meaning": close(before) if before else 0.0,
            "answer_type": float(has_answer_type(kind, candidate.text, question)),
            "echo": float(not content_stems(candidate.text) - asked),
            "coverage": coverage[candidate.passage.number],
            "rank": float(candidate.rank),
            "ordinal": float(nth is not None and candidate.unit.item == nth),
            "defines": float(defines_asked(question, candidate.text)),
            "asks": float(is_question(candidate.text)),
            "list": float(listing and candidate.unit.kind == "list"),
        }
        scored.append(Scored(combine(signals, share[candidate.passage.number]), signals, candidate))
    scored.sort(key=lambda s: -s.score)
    return scored


def _section(candidate: _Candidate) -> str:
    """The headings the quoted unit sits under, the deepest ones; the passage's section path
    when it has none of its own."""
    path = candidate.unit.heading or getattr(candidate.passage, "section", "")
    return HEADING_SEPARATOR.join(path.split(HEADING_SEPARATOR)[-SECTION_DEPTH:])


def select_evidence(
    question: str,
    passages: Sequence[Passage],
    embed: Embeddings | None = None,
    most: int = MOST,
    floor: float = 0.0,
) -> list[Evidence]:
    """The sentences that answer the question, best first: one, or up to ``most`` when others
    score close to the best. Empty when the passages have no usable sentence."""
    scored = score_sentences(question, passages, embed, floor)
    if not scored:
        return []
    best = scored[0].score
    return [
        Evidence(
            s.candidate.text,
            s.candidate.passage.number,
            s.candidate.passage.source,
            s.candidate.passage.page,
            round(s.score, 4),
            round(s.meaning, 4),
            _section(s.candidate),
        )
        for s in scored[:most]
        if s.score >= best * KEEP_WITHIN
    ]


KEYWORD_SHARE = 0.25  # the keyword match's share of the confidence within a language
KEYWORD_FULL = 2.0  # a page match (``KeywordIndex.page_match``) that counts in full


def confidence(
    evidence: Sequence[Evidence],
    across_languages: bool = False,
    with_meaning: bool = True,
    keyword_match: float | None = None,
) -> float:
    """How surely the evidence answers the question (0..1), what the abstention bar is set on:
    the mean of the best sentence's score and the closest meaning match among the quoted
    sentences. Across languages keywords cannot match, so there it is the meaning alone.
    ``with_meaning=False`` (an embedder whose cosine does not tell answerable from off-topic
    questions; ``calibration.Calibration.bar_reads_meaning``): the best score alone.
    ``keyword_match`` (within a language, when the calibration reads it): how strongly the
    best page of the whole collection matches the question's words, a quarter of the number,
    full at ``KEYWORD_FULL`` (about two rare words on one page). A question on a topic the
    documents lack matches only common words there, while its best sentence can still
    look close; docs/EVALUATION.md measures what it does to both error rates."""
    if not evidence:
        return 0.0
    if not with_meaning:
        return evidence[0].score
    meaning = max(e.meaning for e in evidence)
    if across_languages:
        return meaning
    sure = (evidence[0].score + meaning) / 2
    if keyword_match is None:
        return sure
    return (1 - KEYWORD_SHARE) * sure + KEYWORD_SHARE * min(1.0, keyword_match / KEYWORD_FULL)
