"""Documents other than PDFs: Markdown, HTML, Word (.docx), plain text and JSON records.

A PDF's unit is its page. These formats have no pages, so their unit is the **section**: the
text under one heading, known by its heading path ("Tema 2 › Atención › Multi-head") and
numbered in reading order (the number stands where a PDF has its page: chunks, evaluation and
the store keep working unchanged; citations show the section instead). Per format:

- Markdown: ATX headings (``#`` to ``####``), by LangChain's ``MarkdownHeaderTextSplitter``
  (headings inside code fences are not headings).
- HTML: ``<h1>``-``<h6>``; scripts, styles, templates, embedded objects and elements marked
  ``hidden`` are dropped unread, nothing is executed or rendered (BeautifulSoup with Python's
  own parser).
- Word: paragraphs styled as headings (``Heading 1``.., ``Title``); tables as rows of cells;
  the archive is measured before it is opened, so a zip bomb is refused unread.
- Plain text: one section, no heading.
- JSON (a list of records, or one record) and JSON Lines: each record a section, named by its
  ``title``, ``name`` or ``id`` field; ``ingest.json_text_fields`` says which fields are text
  (empty: every string in it).

Text must be UTF-8 (a byte-order mark is fine, so is UTF-16 with one).
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ingest.loaders import (
    LoadedDocument,
    LoadOptions,
    Page,
    clean_text,
    file_sha256,
    load_pdf,
    read_file,
)
from ingest.sections import SEPARATOR
from rag_app.errors import RagError

# Sections of a file: (heading path, text), in reading order.
Sections = list[tuple[str, str]]


@dataclass(frozen=True)
class Format:
    name: str
    read: Callable[[str, bytes, LoadOptions], Sections] | None  # None: PDF, read by pages


def load_document(path: Path, options: LoadOptions | None = None) -> LoadedDocument:
    """Any supported file as numbered pages (PDF) or sections (the rest). Raises ``RagError``
    naming the file, the problem and the remedy."""
    options = options or LoadOptions()
    kind = FORMATS.get(path.suffix.lower())
    if kind is None:
        raise RagError(
            f"{path.name}: {path.suffix or 'files without an extension'} is not a supported "
            f"format; give one of {', '.join(FORMATS)}"
        )
    if kind.read is None:
        return load_pdf(path, options)
    data = read_file(path, options)
    if not data.strip():
        raise RagError(f"{path.name}: the file is empty (only blank lines); check its content")
    sections = [(where, clean_text(text)) for where, text in kind.read(path.name, data, options)]
    sections = [(where, text) for where, text in sections if text]
    if not sections:
        raise RagError(f"{path.name}: no text in this {kind.name} file; check its content")
    if len(sections) > options.max_pages:
        raise RagError(
            f"{path.name}: {len(sections)} sections, over the limit of {options.max_pages}; "
            "split it, or raise RAG_INGEST__MAX_PAGES"
        )
    return LoadedDocument(
        path=path,
        name=path.name,
        sha256=file_sha256(data),
        size=len(data),
        pages=[
            Page(number, text, section=where)
            for number, (where, text) in enumerate(sections, start=1)
        ],
    )


def decode(name: str, data: bytes) -> str:
    """UTF-8 (with or without a byte-order mark), or UTF-16 with one."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            pass
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise RagError(
            f"{name}: not UTF-8 text (byte {exc.start} is 0x{data[exc.start]:02x}; Latin-1 or "
            "Windows-1252?); save it as UTF-8 and ingest it again"
        ) from None


# -- Markdown ---------------------------------------------------------------------------------
_MD_HEADINGS = [("#", "1"), ("##", "2"), ("###", "3"), ("####", "4")]


def read_markdown(name: str, data: bytes, options: LoadOptions) -> Sections:
    from langchain_text_splitters import MarkdownHeaderTextSplitter

    splitter = MarkdownHeaderTextSplitter(_MD_HEADINGS, strip_headers=True)
    found = []
    for part in splitter.split_text(decode(name, data)):
        path = SEPARATOR.join(str(v) for _, v in sorted(part.metadata.items()))
        found.append((path, _with_heading(path, part.page_content)))
    return found


def _with_heading(path: str, text: str) -> str:
    """A section's text led by its heading path, so each section says what it is about
    ("Assignment 3 › Deadline" above "The report is due on...")."""
    return f"{path}\n{text}" if path else text


# -- HTML -------------------------------------------------------------------------------------
_DROPPED = ["script", "style", "template", "noscript", "iframe", "object", "embed", "svg", "head"]
# Private-use characters (no document has them, and unlike the ASCII separators Python does not
# count them as whitespace or line breaks): a heading's marker line in the flattened text, and
# a line break that survives the collapsing of the source's whitespace.
_MARK = "\ue000"
_LINE = "\ue001"
_BLOCKS = [
    "p", "div", "section", "article", "main", "header", "footer", "nav", "aside", "li", "ul",
    "ol", "dl", "dt", "dd", "table", "tr", "td", "th", "caption", "pre", "blockquote", "br",
    "hr", "figure", "figcaption", "form", "fieldset", "address", "details", "summary",
]  # fmt: skip


def read_html(name: str, data: bytes, options: LoadOptions) -> Sections:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(decode(name, data), "html.parser")
    for element in soup.find_all(_DROPPED):
        element.decompose()
    for element in soup.find_all(hidden=True):
        element.decompose()
    for element in soup.find_all(style=re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden")):
        element.decompose()
    # Block elements end lines; inline ones (<b>, <a>, <span>) flow within them, as a browser
    # shows them; the source's own line breaks are only spaces.
    for heading in soup.find_all(re.compile(r"^h[1-6]$")):
        title = " ".join(heading.get_text(" ").split())
        heading.replace_with(f"{_LINE}{_MARK}{heading.name[1]}{_MARK}{title}{_LINE}")
    for block in soup.find_all(_BLOCKS):
        block.insert_before(_LINE)
        block.insert_after(_LINE)
    flat = re.sub(r"\s+", " ", soup.get_text("")).replace(_LINE, "\n")
    return _sections_from_marked(flat)


def _sections_from_marked(text: str) -> Sections:
    """Flattened text whose heading lines carry ``_MARK``level``_MARK``title, as sections."""
    found: Sections = []
    headings: list[tuple[int, str]] = []
    lines: list[str] = []

    def close() -> None:
        path = SEPARATOR.join(title for _, title in headings)
        body = "\n".join(lines).strip()
        if body:
            found.append((path, _with_heading(path, body)))
        lines.clear()

    for line in text.splitlines():
        if line.startswith(_MARK):
            close()
            _, level, title = line.split(_MARK, 2)
            headings[:] = [(lv, t) for lv, t in headings if lv < int(level)]
            if title:
                headings.append((int(level), title))
        elif line.strip():
            lines.append(line.strip())
    close()
    return found


# -- Word -------------------------------------------------------------------------------------
MAX_UNPACKED_MB = 200  # a .docx whose parts unpack to more is refused unread
MAX_RATIO = 100  # nor one that unpacks to over 100x its size (text compresses about 5-10x)


def read_docx(name: str, data: bytes, options: LoadOptions) -> Sections:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(item.file_size for item in archive.infolist())
            names = set(archive.namelist())
    except zipfile.BadZipFile:
        raise RagError(
            f"{name}: not a Word document (not a .docx archive; an old .doc?); save it as "
            ".docx and ingest it again"
        ) from None
    if unpacked > MAX_UNPACKED_MB * 1_000_000 or unpacked > MAX_RATIO * len(data):
        raise RagError(
            f"{name}: unpacks to {unpacked / 1e6:.0f} MB from {len(data) / 1e6:.1f} MB (a zip "
            "bomb?); refused unread; re-save it from Word"
        )
    if "word/document.xml" not in names:
        raise RagError(f"{name}: a zip archive but not a Word document; save it as .docx")
    import docx

    try:
        document = docx.Document(io.BytesIO(data))
        blocks = list(document.iter_inner_content())
    except Exception as exc:  # python-docx and lxml raise many types on broken XML
        detail = " ".join(f"{type(exc).__name__}: {exc}".split())[:160]
        raise RagError(f"{name}: damaged Word document ({detail}); re-save it from Word") from None
    marked: list[str] = []
    for block in blocks:
        if hasattr(block, "rows"):  # a table: one line per row, cells apart
            for row in block.rows:
                cells = dict.fromkeys(" ".join(c.text.split()) for c in row.cells)
                marked.append(" | ".join(c for c in cells if c))
            continue
        level = _heading_level(block.style.name if block.style is not None else "")
        text = block.text
        marked.append(f"{_MARK}{level}{_MARK}{' '.join(text.split())}" if level else text)
    return _sections_from_marked("\n".join(marked))


def _heading_level(style: str) -> int:
    """1-9 for Word's heading styles ("Heading 2", "Title"), 0 for the rest."""
    if style == "Title":
        return 1
    found = re.fullmatch(r"Heading (\d)", style)
    return int(found.group(1)) if found else 0


# -- plain text -------------------------------------------------------------------------------
def read_text(name: str, data: bytes, options: LoadOptions) -> Sections:
    return [("", decode(name, data))]


# -- JSON records -----------------------------------------------------------------------------
_LABELS = ("title", "name", "id")


def read_json(name: str, data: bytes, options: LoadOptions) -> Sections:
    text = decode(name, data)
    try:
        loaded = json.loads(text)
    except ValueError as exc:
        raise RagError(f"{name}: not valid JSON ({exc}); fix it or export it again") from None
    records = loaded if isinstance(loaded, list) else [loaded]
    return _records(name, records, options.json_text_fields)


def read_jsonl(name: str, data: bytes, options: LoadOptions) -> Sections:
    records = []
    for number, line in enumerate(decode(name, data).splitlines(), start=1):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except ValueError as exc:
            raise RagError(
                f"{name}: line {number} is not valid JSON ({exc.args[0][:80]}); fix that line"
            ) from None
    return _records(name, records, options.json_text_fields)


def _records(name: str, records: Sequence[Any], fields: Sequence[str]) -> Sections:
    found = []
    for number, record in enumerate(records, start=1):
        if not isinstance(record, dict):
            record = {"text": record}
        label = next((str(record[k]) for k in _LABELS if isinstance(record.get(k), str | int)), "")
        lines = [
            f"{key}: {value}" if len(fields) != 1 else value
            for key, value in _strings(record)
            if not fields or key.split(".")[0] in fields
        ]
        found.append((label or f"record {number}", "\n".join(lines)))
    if fields and not any(text for _, text in found):
        raise RagError(
            f"{name}: none of its records has the text fields {', '.join(fields)}; set "
            "RAG_INGEST__JSON_TEXT_FIELDS to the fields that hold the text"
        )
    return found


def _strings(value: Any, key: str = "") -> list[tuple[str, str]]:
    """Every string in a record, with its dotted key ("author.name")."""
    if isinstance(value, str):
        return [(key, value)] if value.strip() else []
    if isinstance(value, dict):
        return [
            pair for k, v in value.items() for pair in _strings(v, f"{key}.{k}" if key else str(k))
        ]
    if isinstance(value, list):
        return [pair for item in value for pair in _strings(item, key)]
    return []


FORMATS: dict[str, Format] = {
    ".pdf": Format("PDF", None),
    ".md": Format("Markdown", read_markdown),
    ".markdown": Format("Markdown", read_markdown),
    ".html": Format("HTML", read_html),
    ".htm": Format("HTML", read_html),
    ".docx": Format("Word", read_docx),
    ".txt": Format("text", read_text),
    ".json": Format("JSON", read_json),
    ".jsonl": Format("JSON Lines", read_jsonl),
}
