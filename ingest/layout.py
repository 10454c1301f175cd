"""A PDF's structure from its text runs: headings, paragraphs and list items.

pypdf hands each run of text to a visitor with its font, size and position; the runs of a
page, joined, are exactly the page's extracted text. This module reads them the way a person
reads the page, without a model (what RAGFlow's DeepDoc does with one):

- **Headings** are lines set wholly in a heading style: a size at least ``LARGER`` times the
  body text's, or a bold face (never a monospaced one: that is code). Their level comes from
  their size, largest first, across the whole document. A heading run into its paragraph, in
  another family than the body's (LaTeX's ``\\paragraph``: "**Tabla de páginas** Cuando la
  CPU..."), becomes a heading line of its own. They are written as Markdown headings
  (``## 3.1. Paginación``), which the splitter, the sentence splitter and the evidence already
  read as headings.
- **Paragraphs and list items** are separated by a blank line where the page shows a break: a
  gap between lines wider than the usual line spacing, an indented first line after a
  finished sentence, or a line that leaves a list item's hanging indent. Without it the line
  after a list ran into its last item.

Font size comes from pypdf (the size times the text and graphics matrices' scale); boldness
from the font's name (``CharterBT-Bold``, ``Arial,Bold``), which is what both pypdf and
pypdfium2 expose for embedded Type 1 and TrueType fonts. pypdf is used because the text it
gives is already the product's text: the runs add structure to it and change none of its words.
"""

from __future__ import annotations

import re
import statistics
from collections import Counter
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

from ingest.repair import repair_glyphs

LARGER = 1.12  # a heading's size over the body's, at least (11 pt body: 12.3 pt)
MAX_HEADING_CHARS = 120
MAX_RUN_IN_CHARS = 80
GAP = 1.5  # a gap between lines over this many line spacings starts a new block
_BOLD = re.compile(r"bold|black|heavy|semibold|demi", re.IGNORECASE)
_MONO = re.compile(r"mono|courier|code|consol|typewriter", re.IGNORECASE)
_SUBSET = re.compile(r"^[A-Z]{6}\+")
_LIST_MARK = re.compile(r"^\s*(?:[-*•·▪◦‣\u2013]|\(?\d{1,3}[.)]|\(?[a-zA-Z][.)])\s+")


@dataclass(frozen=True)
class Run:
    """A piece of text as pypdf draws it: its font's name, size in points, and where its
    baseline starts (None when the piece follows a line break inside one run)."""

    text: str
    font: str
    size: float
    x: float | None
    y: float | None


def run_of(text: str, font: Any, size: float, cm: list[float], tm: list[float]) -> Run:
    """A run from pypdf's visitor arguments."""
    name = str(font.get("/BaseFont", "")) if hasattr(font, "get") else ""
    x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
    y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
    return Run(repair_glyphs(text), _SUBSET.sub("", name.lstrip("/")), round(size, 1), x, y)


@dataclass(frozen=True)
class Style:
    family: str
    size: float
    bold: bool
    mono: bool


def style_of(run: Run) -> Style:
    family = re.split(r"[-,]", run.font, maxsplit=1)[0] if run.font else ""
    return Style(family, run.size, bool(_BOLD.search(run.font)), bool(_MONO.search(run.font)))


@dataclass
class Line:
    pieces: list[tuple[str, Style]] = field(default_factory=list)
    x: float | None = None
    y: float | None = None

    @property
    def text(self) -> str:
        return "".join(text for text, _ in self.pieces)

    def add(self, text: str, style: Style, x: float | None, y: float | None) -> None:
        if not text:
            return
        if self.x is None and text.strip():
            self.x, self.y = x, y
        self.pieces.append((text, style))


def lines_of(runs: list[Run]) -> list[Line]:
    """A page's runs as its lines, each piece with its style; a line pypdf broke where it was
    drawn in parts joined again."""
    lines = [Line()]
    for run in runs:
        style = style_of(run)
        parts = run.text.split("\n")
        for i, part in enumerate(parts):
            if i:
                lines.append(Line())
            # pypdf starts a run with the line break before it: what follows is at the run's
            # position; text after a break inside a run has none of its own
            placed = not any(parts[:i])
            lines[-1].add(part, style, run.x if placed else None, run.y if placed else None)
    merged: list[Line] = []
    for line in lines:
        if not line.text.strip():
            continue
        last = merged[-1] if merged else None
        if last is not None and _same_baseline(last, line):
            last.pieces.append((" ", line.pieces[0][1]))  # pypdf broke a line it drew in parts
            last.pieces.extend(line.pieces)
        else:
            merged.append(line)
    return merged


def _same_baseline(a: Line, b: Line) -> bool:
    """``b`` continues ``a`` on its baseline, to its right (a bullet and its item's text,
    a bold label and its value, drawn as separate text objects)."""
    if a.x is None or a.y is None or b.x is None or b.y is None:
        return False
    return abs(a.y - b.y) < 1.0 and b.x > a.x


@dataclass(frozen=True)
class Body:
    """The document's body text style, and the sizes of its heading styles, largest first."""

    style: Style | None
    heading_sizes: tuple[float, ...]

    def is_heading_style(self, style: Style) -> bool:
        if self.style is None or style.mono:
            return False
        return style.size >= self.style.size * LARGER or (
            style.bold and style.size >= self.style.size * 0.85
        )

    def stands_out(self, pieces: list[tuple[str, Style]]) -> bool:
        """Set larger than the body, or in another family: more than bold body text."""
        return self.style is not None and any(
            _letters(text)
            and (style.size >= self.style.size * LARGER or style.family != self.style.family)
            for text, style in pieces
        )

    def level(self, size: float) -> int:
        return min(6, 1 + sum(s > size + 0.25 for s in self.heading_sizes))


def body_of(pages: list[list[Line]]) -> Body:
    """The style most characters are set in, and the sizes of the heading lines found
    (``pages``: each page's ``lines_of``)."""
    chars: Counter[Style] = Counter()
    for lines in pages:
        for line in lines:
            for text, style in line.pieces:
                chars[style] += sum(not c.isspace() for c in text)
    if not chars:
        return Body(None, ())
    body = Body(chars.most_common(1)[0][0], ())
    sizes: set[float] = set()
    for lines in pages:
        for line in lines:
            lead = _heading_lead(line, body)
            if lead is not None:
                sizes.add(round(lead[1] * 2) / 2)
    return Body(body.style, tuple(sorted(sizes, reverse=True)))


def _letters(text: str) -> int:
    return sum(c.isalpha() for c in text)


def _heading_lead(line: Line, body: Body) -> tuple[str, float, str] | None:
    """(heading, its size, the rest of the line) when the line is, or starts with, a heading."""
    text = line.text.strip()
    if not text[:1].isupper() and not text[:1].isdigit():
        return None
    lead: list[str] = []
    size = 0.0
    for i, (piece, style) in enumerate(line.pieces):
        if not _letters(piece) and not piece.strip().replace(".", "").isdigit():
            lead.append(piece)  # spaces, numbering punctuation: whatever style
            continue
        if not body.is_heading_style(style):
            rest = "".join(p for p, _ in line.pieces[i:]).strip()
            head = "".join(lead).strip()
            # a heading run into its paragraph: another family than the body's, and short
            if (
                head
                and body.style is not None
                and _letters(head) >= 2
                and len(head) <= MAX_RUN_IN_CHARS
                and all(
                    s.family != body.style.family
                    for p, s in line.pieces[:i]
                    if _letters(p) and body.is_heading_style(s)
                )
                and not head.endswith((",", ";"))
                and not _LIST_MARK.match(head)
            ):
                return head, size, rest
            return None
        lead.append(piece)
        size = max(size, style.size)
    head = "".join(lead).strip()
    if _letters(head) < 2 or len(head) > MAX_HEADING_CHARS or head.endswith((",", ";")):
        return None
    if _LIST_MARK.match(head) and not body.stands_out(line.pieces):
        return None  # a list item set in bold, not a numbered heading
    return head, size, ""


def structured_text(lines: list[Line], body: Body) -> str:
    """The page's text (its ``lines_of``) with Markdown heading lines and blank lines between
    blocks; its words are the runs' words, in the same order."""
    spacing = _line_spacing(lines)
    out: list[str] = []
    item: _Item | None = None  # the list item the lines are in, if any
    previous: Line | None = None
    for line in lines:
        text = line.text.strip()
        lead = _heading_lead(line, body) if body.style is not None else None
        if lead is not None:
            head, size, rest = lead
            out += ["", "#" * body.level(size) + " " + head, ""]
            if rest:
                out.append(rest)
            item, previous = None, line
            continue
        listed = bool(_LIST_MARK.match(text))
        continues_list = (
            listed
            and previous is not None
            and (item is not None or previous.text.rstrip().endswith(":"))
        )
        if not continues_list and _breaks(previous, line, spacing, item):
            out.append("")
            item = None
        if listed:
            item = _Item(line.x)
        elif item is not None and item.hanging is None:
            item.hanging = line.x if line.x is not None and item.x is not None else None
        if item is not None and not listed and _hangs(line, item) and out and out[-1]:
            out[-1] = _joined(out[-1], text)  # an item is one line, however it wraps
        else:
            out.append(text)
        previous = line
    return re.sub(r"\n{3,}", "\n\n", "\n".join(out)).strip()


def _hangs(line: Line, item: _Item) -> bool:
    """The line sits at the item's hanging indent, right of its marker: it continues it."""
    return line.x is not None and item.x is not None and line.x > item.x + 2


def _joined(text: str, more: str) -> str:
    """Two wrapped lines as one; a word hyphenated across them ("procedimien-" "tos") whole."""
    if text.endswith("-") and more[:1].islower() and text[-2:-1].isalpha():
        return text[:-1] + more
    return f"{text} {more}"


@dataclass
class _Item:
    x: float | None  # where its marker stands
    hanging: float | None = None  # where its continuation lines start


def _breaks(previous: Line | None, line: Line, spacing: float | None, item: _Item | None) -> bool:
    """Whether ``line`` starts a new block after ``previous``."""
    if previous is None or line.x is None or previous.x is None:
        return False
    if spacing and previous.y is not None and line.y is not None:
        gap = previous.y - line.y
        if gap > spacing * GAP or gap < -spacing:  # a wide gap, or a new column
            return True
    if item is not None and item.x is not None:
        if line.x < item.x - 2:  # left of the item's marker
            return True
        if item.hanging is not None and item.hanging > item.x + 2:
            return line.x < item.hanging - 2  # left the item's hanging indent
        return False
    return line.x > previous.x + 4  # an indented first line


def _line_spacing(lines: list[Line]) -> float | None:
    gaps = [
        a.y - b.y
        for a, b in pairwise(lines)
        if a.y is not None and b.y is not None and 0 < a.y - b.y < 100
    ]
    return statistics.median(gaps) if gaps else None
