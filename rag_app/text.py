"""Text rules, once: language, stop words, accents, content words, sentences, numbers, support.

Prompting, answering (evidence and its check), evaluation and the keyword index all import
these; none of them keeps a copy. Pure functions, no model.
"""

from __future__ import annotations

import re
import string
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any

ES_WORDS = frozenset(
    "el la los las un una unos unas de del al y o que qué en es son fue por para con sin cuál "
    "cuáles cuándo cuánto cuántos cuántas dónde cómo quién quiénes porque pero como se su sus "
    "lo le les este esta estos estas ese esa hay muy más también según entre sobre desde "
    "hasta donde cuando ser está están tiene tienen".split()
)
EN_WORDS = frozenset(
    "the a an of and or that what which who whom whose when where why how is are was were be "
    "been by for with without in on at to from this these those there it its has have had do "
    "does did can could would should will about into than also according".split()
)
LANGUAGE_NAMES = {"en": "English", "es": "Spanish"}


def strip_accents(text: str) -> str:
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


# -- language -------------------------------------------------------------------------------
_LETTERS = re.compile(r"[a-záéíóúüñ]+")


def _language_votes(text: str) -> tuple[int, int, list[str]]:
    lowered = text.lower()
    words = _LETTERS.findall(lowered)
    spanish = sum(w in ES_WORDS for w in words) + 2 * ("¿" in lowered or "¡" in lowered)
    english = sum(w in EN_WORDS for w in words)
    return spanish, english, words


def detect_language(text: str) -> str:
    """'es' or 'en' for a question, from function words and Spanish-only marks; 'en' if unsure."""
    if "¿" in text or "¡" in text:
        return "es"
    spanish, english, words = _language_votes(text)
    if spanish == english:  # no function words either way: accented words tip it
        spanish += sum(bool(re.search(r"[áéíóúñ]", w)) for w in words) > len(words) / 3
    return "es" if spanish > english else "en"


def language_of(text: str, min_votes: int = 2) -> str | None:
    """The language of a longer text (an answer), or None when too few function words tell."""
    spanish, english, _ = _language_votes(text)
    if max(spanish, english) < min_votes or spanish == english:
        return None
    return "es" if spanish > english else "en"


# -- words ----------------------------------------------------------------------------------
# SQuAD removes English articles; Spanish ones are removed too, so that "la fotosíntesis" and
# "fotosíntesis" match. Both lists apply whatever the language (no detection to get wrong).
ARTICLES = frozenset("a an the el la los las lo un una unos unas".split())
_PUNCT = set(string.punctuation) | set("¿¡«»\u201c\u201d\u2018\u2019\u2013\u2014\u2026\u00b7")
STOPWORDS = frozenset(strip_accents(w) for w in ES_WORDS | EN_WORDS)
# Words compare by their first five letters: "telescopes" ~ "telescope", "fundó" ~ "fundador".
STEM = 5


def normalize(text: str) -> str:
    """SQuAD's normalisation (lower case, no punctuation, no articles, single spaces), plus
    accents removed and Spanish articles dropped, so "Fotosíntesis." equals "la fotosintesis"."""
    text = strip_accents(text.lower())
    text = "".join(" " if c in _PUNCT else c for c in text)
    return " ".join(w for w in text.split() if w not in ARTICLES)


@lru_cache(maxsize=8192)
def contains_span(text: str, span: str) -> bool:
    """The answer span occurs in the text, as whole words after ``normalize`` (accents, case,
    punctuation and articles aside): how evidence is scored against a reference."""
    return f" {normalize(span)} " in f" {normalize(text)} "


@lru_cache(maxsize=8192)
def content_stems(text: str) -> frozenset[str]:
    """Content words (not stop words; numbers kept) cut to their first letters. Cached: the
    evidence scorer and the answer check ask it of the same passages and sentences again."""
    words = normalize(text).split()
    return frozenset(w[:STEM] for w in words if (len(w) >= 3 or w.isdigit()) and w not in STOPWORDS)


# -- numbers --------------------------------------------------------------------------------
# Small cardinals written as words, so "dos capas" is compared with "96 capas". "one"/"uno"
# are left out: they are mostly pronouns and articles ("one of", "una de").
_NUMBER_WORDS = {
    **dict.fromkeys(("two", "dos"), 2),
    **dict.fromkeys(("three", "tres"), 3),
    **dict.fromkeys(("four", "cuatro"), 4),
    **dict.fromkeys(("five", "cinco"), 5),
    **dict.fromkeys(("six", "seis"), 6),
    **dict.fromkeys(("seven", "siete"), 7),
    **dict.fromkeys(("eight", "ocho"), 8),
    **dict.fromkeys(("nine", "nueve"), 9),
    **dict.fromkeys(("ten", "diez"), 10),
    **dict.fromkeys(("eleven", "once"), 11),
    **dict.fromkeys(("twelve", "doce"), 12),
    **dict.fromkeys(("twenty", "veinte"), 20),
    **dict.fromkeys(("thirty", "treinta"), 30),
    **dict.fromkeys(("forty", "cuarenta"), 40),
    **dict.fromkeys(("fifty", "cincuenta"), 50),
    **dict.fromkeys(("hundred", "cien"), 100),
}
_DIGITS = re.compile(r"\d+(?:[.,]\d+)*")


@lru_cache(maxsize=8192)
def numbers(text: str) -> frozenset[str]:
    """The numbers a text states, as digit strings without separators ("1,000" and "1.000"
    are "1000"; "4.6" and "4,6" are "46"), small number words included ("twelve" is "12")."""
    found = {re.sub(r"[.,]", "", n).lstrip("0") or "0" for n in _DIGITS.findall(text)}
    for word in _LETTERS.findall(text.lower()):
        if word in _NUMBER_WORDS:
            found.add(str(_NUMBER_WORDS[word]))
    return frozenset(found)


# -- search tokens (BM25) -------------------------------------------------------------------
_SEARCH_WORD = re.compile(r"\w\w+", re.UNICODE)


@cache
def _stopwords() -> frozenset[str]:
    from bm25s.stopwords import STOPWORDS_EN, STOPWORDS_SPANISH

    return frozenset(STOPWORDS_EN) | frozenset(STOPWORDS_SPANISH)


@cache
def _stemmer(language: str) -> Any:
    import Stemmer

    return Stemmer.Stemmer("spanish" if language == "es" else "english")


def tokenize(text: str, language: str | None = None) -> list[str]:
    """Search tokens of a text; ``language`` ('es' or 'en') is detected when not given."""
    stop = _stopwords()
    words = [w for w in _SEARCH_WORD.findall(text.lower()) if w not in stop]
    stems = _stemmer(language or detect_language(text)).stemWords(words)
    return [strip_accents(s) for s in stems]


def query_tokens(text: str) -> list[str]:
    """A query is short, so its language is a guess: search the stems of both languages."""
    return list(dict.fromkeys(tokenize(text, "es") + tokenize(text, "en")))


# -- sentences ------------------------------------------------------------------------------
_ABBREVIATIONS = frozenset(
    "sr sra srta dr dra lic ing prof pág pag págs etc ej p pp vol cap fig núm num no nº art "
    "ed eds aprox approx av avda dept depto st mr mrs ms jr vs cf al ca e.g i.e a.c d.c a.m p.m "
    "ee uu ud uds vd vds inc ltd co corp jan feb mar apr jun jul aug sep sept oct nov dec ene "
    "abr ago dic".split()
)
_LIST_ITEM = re.compile(r"^\s*(?:[-*•·▪◦‣]|\d{1,3}[.)]|[a-zA-Z][.)])\s+")
_HEADING_LINE = re.compile(r"^#{1,6}\s+(\S.*)$")
_MARKDOWN = re.compile(r"^\s{0,3}(?:#{1,6}\s+|>\s*)|\*\*|__|`+")
# A sentence ends at . ! ? … (and closing quotes/brackets after them) before a space and a
# capital, a digit or an opening ¿ ¡ quote or bracket.
_CLOSE, _OPEN = "\"'\u201d\u2019»)\\]", "¿¡\"'\u201c\u2018«(\\["
_BOUNDARY = re.compile(rf"[.!?…][{_CLOSE}]*(\s+)(?=[{_OPEN}]?[A-ZÁÉÍÓÚÑÜ0-9])")
_LAST_WORD = re.compile(r"([\w.]+)[.]$")


def _lines_to_blocks(text: str) -> list[str]:
    """PDF text wraps lines mid-sentence: join them, but keep list items, headings and
    paragraphs (blank lines) apart."""
    blocks: list[str] = []
    current: list[str] = []
    for raw in text.splitlines():
        line = raw.strip()
        heading = bool(_HEADING_LINE.match(line))
        if not line or heading or _LIST_ITEM.match(line):
            if current:
                blocks.append(" ".join(current))
            current = []
        if heading:  # a heading is a block of its own
            blocks.append(line)
        elif line:
            current.append(line)
    if current:
        blocks.append(" ".join(current))
    return blocks


def _is_abbreviation(piece: str) -> bool:
    if re.fullmatch(r"\d{1,3}[.)]", piece):  # a list number ("1. Primero")
        return True
    match = _LAST_WORD.search(piece)
    if not match:
        return False
    word = match.group(1).lower()
    # an initial ("J. R. R. Tolkien", "EE. UU."), or a known abbreviation ("Dr.", "p. ej.")
    return (len(word) == 1 and word.isalpha()) or word.rstrip(".") in _ABBREVIATIONS


def _pieces(block: str) -> list[str]:
    """The block cut at every candidate sentence end (abbreviations are rejoined later)."""
    pieces, start = [], 0
    for match in _BOUNDARY.finditer(block):
        pieces.append(block[start : match.start(1)])
        start = match.end(1)
    return [*pieces, block[start:]]


def split_sentences(text: str) -> list[str]:
    """Sentences of a passage, in order, whitespace collapsed, words otherwise verbatim.

    Handles Spanish "¿…?" and "¡…!", abbreviations and initials ("Dr.", "p. ej.", "J. Smith"),
    decimals ("4.6", "2,5"), lists and headings (one item a sentence), and Markdown remnants
    (``#``, ``**``, backticks) left by converters."""
    sentences: list[str] = []
    for block in _lines_to_blocks(text):
        block = " ".join(_MARKDOWN.sub(" ", block).split())
        pending = ""
        for piece in _pieces(block):
            pending = f"{pending} {piece}" if pending else piece
            if not _is_abbreviation(pending):
                sentences.append(pending)
                pending = ""
        if pending:
            sentences.append(pending)
    return [s for s in sentences if any(c.isalnum() for c in s)]


# -- evidence units -------------------------------------------------------------------------
LIST_MOST = 8  # items a list's unit quotes; "… n more" stands for the rest
HEADING_SEPARATOR = " › "


@dataclass(frozen=True)
class Unit:
    """A piece of a passage that evidence may quote whole: a sentence, a list item, or a
    lead-in with its list; with the heading path it sits under (what names its subject)."""

    text: str
    heading: str = ""
    item: int = 0  # its position in its list, from 1 (0: not a list item)
    kind: str = "sentence"  # "sentence", "item" or "list"
    lead: str = ""  # a list's (or a list item's) lead-in sentence: what the list is of

    @property
    def subject(self) -> str:
        """What the unit is matched with a question by: its text; a whole list by its
        lead-in (or, without one, its heading), not by every word of its items."""
        if self.kind != "list":
            return self.text
        return self.lead or self.heading.rpartition(HEADING_SEPARATOR)[2] or self.text


def _list_number(line: str) -> int | None:
    match = re.match(r"^\s*\(?(\d{1,3})[.)]\s", line)
    return int(match.group(1)) if match else None


def _flat(line: str) -> str:
    return " ".join(_MARKDOWN.sub(" ", line).split())


LEAD_MIN_WORDS = 3  # a lead-in with fewer content words ("Puede ser:") takes the sentence before


class _Units:
    """Reads a passage line by line into units (see ``units``)."""

    def __init__(self, section: str) -> None:
        self.found: list[Unit] = []
        self.headings: list[tuple[int, str]] = [(0, section)] if section else []
        self.paragraph: list[str] = []
        self.last_paragraph: list[Unit] = []  # the sentences read since the last list or heading
        self.items: list[tuple[str, int | None]] = []  # the list being read: (item, number)
        self.lead: list[Unit] = []  # the sentence(s) leading into it
        self.blank = False  # a blank line since the last item
        self.suspended = False  # a numbered list interrupted by paragraphs, which may go on
        self.open_at_end = False

    def path(self) -> str:
        return HEADING_SEPARATOR.join(title for _, title in self.headings)

    def close_paragraph(self) -> None:
        if self.paragraph:
            read = [Unit(s, self.path()) for s in split_sentences(" ".join(self.paragraph))]
            self.found.extend(read)
            self.last_paragraph = read
            self.paragraph.clear()

    def close_list(self) -> None:
        items, lead = self.items, self.lead
        if items:
            here = self.path()
            numbered = None not in [n for _, n in items]
            led = " ".join(u.text for u in lead)
            for i, (item, n) in enumerate(items, start=1):
                self.found.append(Unit(item, here, n if numbered and n else i, "item", led))
            shown = [item for item, _ in items[:LIST_MOST]]
            if len(items) > LIST_MOST:
                shown.append(f"… {len(items) - LIST_MOST} more")
            if lead:
                for unit in lead:
                    self.found.remove(unit)
                self.found.append(Unit("\n".join([led, *shown]), here, 0, "list", led))
            elif len(items) >= 2:
                self.found.append(Unit("\n".join(shown), here, 0, "list"))
        self.items, self.lead, self.suspended = [], [], False

    def heading(self, level: int, title: str) -> None:
        self.close_paragraph()
        self.close_list()
        self.last_paragraph = []
        title = _flat(title)
        if self.headings and self.headings[-1][1].rpartition(HEADING_SEPARATOR)[2] == title:
            return  # the chunk's section line already ends with it
        self.headings = [(lv, t) for lv, t in self.headings if lv < level]
        self.headings.append((level, title))

    def item(self, line: str) -> None:
        number = _list_number(line)
        self.close_paragraph()
        if self.suspended:  # a numbered list goes on after its items' paragraphs
            last = self.items[-1][1] if self.items else None
            if number is not None and last is not None and number == last + 1:
                self.suspended = False
            else:
                self.close_list()
        if not self.items:
            self.lead = self._lead()
        self.items.append((_flat(line), number))
        self.last_paragraph = []
        self.blank = False

    def _lead(self) -> list[Unit]:
        """The sentence before a list when it leads into it (ends in ':'), with the one before
        that when it says too little alone ("Puede ser:")."""
        paragraph = self.last_paragraph
        if not paragraph or not paragraph[-1].text.endswith(":"):
            return []
        if len(content_stems(paragraph[-1].text)) < LEAD_MIN_WORDS and len(paragraph) >= 2:
            return paragraph[-2:]
        return paragraph[-1:]

    def text_line(self, line: str) -> None:
        goes_on = self.items and not self.suspended and not self.paragraph and not self.blank
        if goes_on and not _starts_paragraph(self.items[-1][0], line):  # the item goes on
            self.items[-1] = (f"{self.items[-1][0]} {_flat(line)}", self.items[-1][1])
            return
        if self.items and not self.suspended:
            if self.items[-1][1] is not None:
                self.suspended = True  # numbered: its next item may follow these paragraphs
            else:
                self.close_list()
        self.paragraph.append(line)

    def blank_line(self) -> None:
        self.close_paragraph()  # a blank line ends a paragraph; a list goes on after one
        self.blank = True

    def end(self) -> list[Unit]:
        self.close_paragraph()
        last = self.found[-1].text if self.found else ""
        self.open_at_end = bool(self.items) or last.endswith(":")  # in a list, or before one
        self.close_list()
        return [u for u in self.found if any(c.isalnum() for c in u.text)]


def _read_units(text: str, section: str) -> _Units:
    lines = text.splitlines()
    if section and lines and lines[0].strip() == section:
        lines = lines[1:]
    reader = _Units(section)
    for raw in lines:
        line = raw.strip()
        heading = _HEADING_LINE.match(line)
        if heading:
            reader.heading(len(line) - len(line.lstrip("#")), heading.group(1))
        elif _LIST_ITEM.match(line):
            reader.item(line)
        elif not line:
            reader.blank_line()
        else:
            reader.text_line(line)
    return reader


def units(text: str, section: str = "") -> list[Unit]:
    """The passage's units in reading order. Headings (Markdown ``#`` lines, or the section
    path on the first line) are context, not units; a list's items are units each, and a
    list with its lead-in (the sentence before it ending in ":") is one unit more, so a
    question about the list is answered by all of it. A numbered list whose items each have
    paragraphs of their own is one list. Sentences as ``split_sentences``."""
    return _read_units(text, section).end()


def ends_in_list(text: str, section: str = "") -> bool:
    """Whether the passage stops inside a list, or on the lead-in of one (the next chunk may
    hold the rest of it)."""
    reader = _read_units(text, section)
    reader.end()
    return reader.open_at_end


def _starts_paragraph(item: str, line: str) -> bool:
    """Whether ``line``, after a list item with no blank line between, begins a paragraph
    rather than continuing the item: the item ended a sentence and the line starts one."""
    return bool(re.search(r"[.!?]$", item)) and line[:1].isupper()


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
