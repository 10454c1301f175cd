"""Questions from one sentence of the user's notes, in the sentence's language (es/en).

Without a model (``fallback_question``): a template when a rule fits well (a definition
"X es un ..." asks "¿Qué es X?", a year "¿En qué año ...?"), else a cloze, the sentence with its
most answer-like span (a number with its unit word, a year, a name) blanked. So a set can always
be made; ``model_questions`` tries the chat model's rewording first. Pure functions.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from rag_app.text.language import ARTICLES, STOPWORDS, strip_accents


@dataclass(frozen=True)
class Question:
    text: str
    answer_span: str | None  # what the question asks for, when one span is the answer
    generated_by: str  # model:<file>, template:definition, template:year or cloze


# -- answer spans -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Span:
    start: int
    end: int
    text: str
    kind: str  # one of SPAN_PREFERENCE


SPAN_PREFERENCE = ("number", "year", "name", "other-number", "word")
_EDGE = "«»\"“”\u2018\u2019'()[]{},;:.¡!¿?"
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*%?")
YEAR = r"1[5-9]\d\d|20\d\d"
# Words between a number and its unit ("175 mil millones de parámetros").
MAGNITUDES = frozenset(
    "mil millón millones billón billones thousand million millions billion billions % por "
    "ciento percent de of".split()
)
YEAR_WORDS = frozenset("en in de del desde hasta since until año year of el by por".split())
NAME_LINKS = frozenset("de del van von der da di".split())
_QUOTED = re.compile(r"«([^«»]{3,80})»|“([^“”]{3,80})”|\"([^\"]{3,80})\"")
# Words that point back to an earlier sentence: "Esto permite..." cannot be asked alone.
ANAPHORA = frozenset(
    "este esta estos estas ese esa esos esas esto eso ello ella ellos ellas dicho dicha "
    "it this that these those they he she such its their su sus".split()
)


@dataclass(frozen=True)
class _Token:
    start: int
    end: int
    text: str  # without the punctuation around it
    closed: bool  # punctuation right after it ("Vaswani," or "2017.")


def _tokens(sentence: str) -> list[_Token]:
    tokens = []
    for match in re.finditer(r"\S+", sentence):
        raw = match.group()
        core = raw.strip(_EDGE)
        if core:
            start = match.start() + len(raw) - len(raw.lstrip(_EDGE))
            tokens.append(_Token(start, start + len(core), core, raw.rstrip(_EDGE) != raw))
    return tokens


def _is_content(word: str) -> bool:
    return word.isalpha() and len(word) >= 3 and strip_accents(word.lower()) not in STOPWORDS


def _has_unit(tokens: Sequence[_Token], i: int) -> bool:
    """A content word follows the number, past magnitude words: "96 capas", "175 mil millones
    de parámetros". A number without one ("en 2017.") says less about what it counts."""
    if tokens[i].closed:
        return False
    for token in tokens[i + 1 : i + 5]:
        if token.text.lower() not in MAGNITUDES:
            return _is_content(token.text)
        if token.closed:
            return False
    return False


def _number_span(tokens: Sequence[_Token], i: int) -> Span | None:
    token = tokens[i]
    if not _NUMBER.fullmatch(token.text):
        return None
    unit = _has_unit(tokens, i)
    after_year_word = i > 0 and tokens[i - 1].text.lower() in YEAR_WORDS
    if re.fullmatch(YEAR, token.text) and (not unit or after_year_word):
        kind = "year"
    else:
        kind = "number" if unit else "other-number"
    return Span(token.start, token.end, token.text, kind)


def _quoted_spans(sentence: str) -> list[Span]:
    """Titles in quotes («Attention Is All You Need») are one name, not several."""
    spans = []
    for match in _QUOTED.finditer(sentence):
        group = next(g for g in range(1, 4) if match.group(g))
        spans.append(Span(match.start(group), match.end(group), match.group(group), "name"))
    return spans


def _name_spans(sentence: str, tokens: Sequence[_Token]) -> list[Span]:
    """Runs of capitalised words not at the start of the sentence or of a clause after '.' or
    ':': "Elena Vasquez", "Universidad de Toronto", "BERT", "GPT-3"."""
    quoted = _quoted_spans(sentence)
    spans: list[Span] = []
    run: list[_Token] = []

    def close() -> None:
        while run and run[-1].text.lower() in NAME_LINKS:
            run.pop()
        if run:
            text = sentence[run[0].start : run[-1].end]
            spans.append(Span(run[0].start, run[-1].end, text, "name"))
        run.clear()

    for i, token in enumerate(tokens):
        opens = i == 0 or (tokens[i - 1].closed and sentence[tokens[i - 1].end] in ".:")
        inside_quote = any(q.start <= token.start < q.end for q in quoted)
        capital = token.text[0].isupper() and strip_accents(token.text.lower()) not in STOPWORDS
        if capital and not opens and not inside_quote and not _NUMBER.fullmatch(token.text):
            run.append(token)
        elif run and token.text.lower() in NAME_LINKS and not run[-1].closed:
            run.append(token)
            continue
        else:
            close()
        if token.closed:
            close()
    close()
    return spans + quoted


def answer_spans(sentence: str) -> list[Span]:
    """What a question about the sentence could ask for, best first: a number with its unit
    word, a year, a name, another number; a span said once before one said twice."""
    tokens = _tokens(sentence)
    spans = [s for i in range(len(tokens)) if (s := _number_span(tokens, i))]
    spans += _name_spans(sentence, tokens)

    def rank(span: Span) -> tuple[int, bool, int]:
        repeated = sentence.count(span.text) > 1
        return SPAN_PREFERENCE.index(span.kind), repeated, span.start

    return sorted(spans, key=rank)


def best_span(sentence: str) -> Span:
    """The most answer-like span; when nothing stands out, the longest content word past the
    subject, so that every usable sentence still gives a question."""
    spans = answer_spans(sentence)
    if spans:
        return spans[0]
    tokens = _tokens(sentence)
    words = [t for t in tokens[2:] if _is_content(t.text)]
    words = words or [t for t in tokens if _is_content(t.text)] or tokens
    best = max(words, key=lambda t: len(t.text))
    return Span(best.start, best.end, best.text, "word")


# -- templates --------------------------------------------------------------------------------
DEFINITION = {
    "es": re.compile(
        r"^(?P<subject>[^,;:()«»]{2,80}?)\s+(?P<verb>es|son|se define como|se denomina|"
        r"se llama|consiste en|significa)\s+(?P<predicate>.+?)[.]?$"
    ),
    "en": re.compile(
        r"^(?P<subject>[^,;:()\"“”]{2,80}?)\s+(?P<verb>is defined as|are defined as|is|are|"
        r"refers to|refer to|consists of|consist of|means)\s+(?P<predicate>.+?)[.]?$"
    ),
}
ASK_DEFINITION = {
    "es": "¿Qué es {}?", "son": "¿Qué son {}?", "se define como": "¿Cómo se define {}?",
    "se denomina": "¿Cómo se denomina {}?", "se llama": "¿Cómo se llama {}?",
    "consiste en": "¿En qué consiste {}?", "significa": "¿Qué significa {}?",
    "is": "What is {}?", "are": "What are {}?", "is defined as": "How is {} defined?",
    "are defined as": "How are {} defined?", "refers to": "What does {} refer to?",
    "refer to": "What do {} refer to?", "consists of": "What does {} consist of?",
    "consist of": "What do {} consist of?", "means": "What does {} mean?",
}  # fmt: skip
# "X es Y" is a definition only when Y is a noun phrase ("es un método", not "es muy grande").
NEEDS_ARTICLE = {"es", "son", "is", "are"}
PREDICATE_START = frozenset("un una unos unas el la los las lo a an the one".split())
SUBJECT_LINKS = ARTICLES | frozenset("de del of por para for en in y and con with".split())


def _lower_article(phrase: str) -> str:
    """ "La atención" reads "la atención" inside a question; "GPT-3" keeps its capital."""
    first, _, rest = phrase.partition(" ")
    return f"{first.lower()} {rest}".strip() if first.lower() in ARTICLES else phrase


def _good_subject(subject: str) -> bool:
    """A subject a question can name alone: a few words, no pronoun pointing back, no clause
    ("El modelo que se entrena..."), and specific (a name, or more than one short word)."""
    words = subject.split()
    lowered = [strip_accents(w.lower()) for w in words]
    if not 1 <= len(words) <= 6 or lowered[0] in ANAPHORA:
        return False
    if any(w in STOPWORDS and w not in SUBJECT_LINKS for w in lowered):
        return False
    content = [w for w in words if strip_accents(w.lower()) not in SUBJECT_LINKS]
    if len(content) == 1:
        word = content[0]
        acronym = word[0].isupper() and not word.istitle()
        return acronym or len(word) >= 7 or not word.isalpha()
    return len(content) > 1


def definition(sentence: str, language: str) -> tuple[str, str, str] | None:
    """(subject, verb, predicate) of a definition such as "La atención es un mecanismo ...",
    "Tokenization is defined as ...", or None."""
    match = DEFINITION[language].match(sentence)
    if not match:
        return None
    subject, verb, predicate = match["subject"], match["verb"], match["predicate"]
    first = predicate.split()[0].lower()
    if (verb in NEEDS_ARTICLE and first not in PREDICATE_START) or not _good_subject(subject):
        return None
    return subject, verb, predicate


def definition_question(sentence: str, language: str) -> Question | None:
    found = definition(sentence, language)
    if found is None:
        return None
    subject, verb, predicate = found
    text = ASK_DEFINITION[verb].format(_lower_article(subject))
    return Question(text, predicate, "template:definition")


YEAR_TEMPLATES = {
    # "En 2017, Vaswani y sus colegas presentaron el transformador."
    "es": [
        (re.compile(rf"^En (?:el año )?(?P<year>{YEAR}), (?P<rest>[^,]{{10,}})\.$"),
         "¿En qué año {rest}?"),
        # "El transformador fue presentado en 2017 por investigadores de Google."
        (re.compile(rf"^(?P<rest>[^,]{{10,}}?) en (?:el año )?(?P<year>{YEAR})(?P<tail>"
                    r"(?: [^,]+)?)\.$"),
         "¿En qué año {rest}{tail}?"),
    ],
    # "The observatory was founded in 1887 by Elena Vasquez." (only the passive inverts well)
    "en": [
        (re.compile(rf"^(?P<rest>[^,]{{3,60}}?) (?P<aux>was|were) (?P<middle>[^,]+?) in "
                    rf"(?P<year>{YEAR})(?P<tail>(?: [^,]+)?)\.$"),
         "In what year {aux} {rest} {middle}{tail}?"),
    ],
}  # fmt: skip


def year_question(sentence: str, language: str) -> Question | None:
    """ "¿En qué año ...?" where the sentence says when something happened, in a shape that
    turns into a grammatical question; None otherwise (a cloze serves better than a bad one)."""
    for pattern, template in YEAR_TEMPLATES[language]:
        match = pattern.match(sentence)
        if not match:
            continue
        rest = match["rest"]
        if strip_accents(rest.split()[0].lower()) in ANAPHORA or " es " in f" {rest} ":
            return None
        parts = {k: v or "" for k, v in match.groupdict().items()}
        text = template.format(**{**parts, "rest": _lower_article(rest)})
        return Question(" ".join(text.split()), match["year"], "template:year")
    return None


CLOZE = {
    "en": 'Fill in the blank from the notes: "{sentence}"',
    "es": "Completa la frase de los apuntes: «{sentence}»",
}


def cloze(sentence: str, span: Span, language: str) -> Question:
    blanked = f"{sentence[: span.start]}___{sentence[span.end :]}"
    text = CLOZE[language].format(sentence=blanked)
    return Question(text, span.text, "cloze")


def fallback_question(sentence: str, language: str) -> Question:
    """A question without a model: a template when one fits, else a cloze."""
    return (
        definition_question(sentence, language)
        or year_question(sentence, language)
        or cloze(sentence, best_span(sentence), language)
    )
