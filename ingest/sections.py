"""Section paths, written one way everywhere: the headings in effect at a point of a document,
joined with `` › `` ("Tema 2 › Atención"), the deepest ``SECTION_DEPTH`` of them where a path
is shown. Ingest writes them (chunk metadata, a PDF chunk's first line); evidence reads them.
Markdown-style heading lines (``## 3.1. Paginación``) are how ``ingest.layout`` marks a PDF's
headings in its text."""

from __future__ import annotations

import re

SEPARATOR = " › "  # between the headings of a section's path
SECTION_DEPTH = 3  # the deepest headings a shown path keeps
HEADING_LINE = re.compile(r"^(#{1,6})[ \t]+(\S.*?)\s*$", re.MULTILINE)  # level, title


class Headings:
    """The headings open at a point of a document, deepest last: a heading closes every one
    of its level and below."""

    def __init__(self) -> None:
        self.open: list[tuple[int, str]] = []

    def enter(self, level: int, title: str) -> None:
        self.open = [(lv, t) for lv, t in self.open if lv < level]
        self.open.append((level, title))

    def read(self, text: str) -> None:
        """Take the heading lines of ``text`` in order."""
        for match in HEADING_LINE.finditer(text):
            self.enter(len(match.group(1)), match.group(2))

    def last(self) -> str:
        return self.open[-1][1] if self.open else ""

    def path(self, depth: int | None = None) -> str:
        shown = self.open if depth is None else self.open[-depth:]
        return SEPARATOR.join(title for _, title in shown)
