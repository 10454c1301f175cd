"""Sentences and evidence units: a passage cut into what evidence can quote (sentences, a
list with its lead-in, list items, table rows), each with the headings above it. Pure functions."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ingest.sections import HEADING_LINE, SEPARATOR, Headings
from rag_app.text.language import content_stems

# -- sentences ------------------------------------------------------------------------------
_ABBREVIATIONS = frozenset(
    "sr sra srta dr dra lic ing prof pág pag págs etc ej p pp vol cap fig núm num no nº art "
    "ed eds aprox approx av avda dept depto st mr mrs ms jr vs cf al ca e.g i.e a.c d.c a.m p.m "
    "ee uu ud uds vd vds inc ltd co corp jan feb mar apr jun jul aug sep sept oct nov dec ene "
    "abr ago dic".split()
)
_LIST_ITEM = re.compile(r"^\s*(?:[-*•·▪◦‣]|\d{1,3}[.)]|[a-zA-Z][.)])\s+")
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
        heading = bool(HEADING_LINE.match(line))
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
HEADING_SEPARATOR = SEPARATOR  # what the headings of a path are joined with


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
        self.headings = Headings()
        if section:
            self.headings.enter(0, section)
        self.paragraph: list[str] = []
        self.last_paragraph: list[Unit] = []  # the sentences read since the last list or heading
        self.items: list[tuple[str, int | None]] = []  # the list being read: (item, number)
        self.lead: list[Unit] = []  # the sentence(s) leading into it
        self.blank = False  # a blank line since the last item
        self.suspended = False  # a numbered list interrupted by paragraphs, which may go on
        self.open_at_end = False

    def path(self) -> str:
        return self.headings.path()

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
        if self.headings.last().rpartition(HEADING_SEPARATOR)[2] == title:
            return  # the chunk's section line already ends with it
        self.headings.enter(level, title)

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
        heading = HEADING_LINE.match(line)
        if heading:
            reader.heading(len(heading.group(1)), heading.group(2))
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
